//! `/audit history` (spec `discord-and-web.md` §2's `$messagehistory` / `$deletedhistory`, as
//! an application command): a moderator (Manage Messages) gets a member's recorded messages in
//! this server as `{member}_history.csv` (or `{member}_deleted.csv`), privately. Messages are
//! recorded only while the server keeps the audit log (`/config set AuditLogging true`).

use futures::future::BoxFuture;
use twilight_model::application::command::{Command, CommandType};
use twilight_model::guild::Permissions;
use twilight_util::builder::command::{
    BooleanBuilder, CommandBuilder, IntegerBuilder, SubCommandBuilder, UserBuilder,
};

use super::SlashCommand;
use crate::context::{Ack, App, Call, CommandError};
use crate::discord::Reply;

/// `/audit`.
#[derive(Debug)]
pub struct AuditCommand;

impl SlashCommand for AuditCommand {
    fn definition(&self) -> Command {
        CommandBuilder::new(
            "audit",
            "The server's audit log (moderators).",
            CommandType::ChatInput,
        )
        .option(
            SubCommandBuilder::new(
                "history",
                "A member's recorded messages as CSV (Manage Messages).",
            )
            .option(UserBuilder::new("member", "Whose messages.").required(true))
            .option(BooleanBuilder::new(
                "deleted_only",
                "Only messages that were deleted.",
            ))
            .option(
                IntegerBuilder::new("limit", "At most this many rows (default 500).")
                    .min_value(1)
                    .max_value(5000),
            ),
        )
        .build()
    }

    fn ack(&self, _call: &Call) -> Ack {
        Ack::Private
    }

    fn run<'a>(
        &'a self,
        app: &'a App,
        call: &'a Call,
    ) -> BoxFuture<'a, Result<Reply, CommandError>> {
        Box::pin(async move {
            let Some(guild) = call.guild_id else {
                return Err(CommandError::user("The audit log is kept per server."));
            };
            if !call.member_permissions.is_some_and(|p| {
                p.intersects(Permissions::MANAGE_MESSAGES | Permissions::ADMINISTRATOR)
            }) {
                return Err(CommandError::user(
                    "Only moderators (Manage Messages) can read the audit log.",
                ));
            }
            let member = call
                .user("member")
                .ok_or_else(|| CommandError::user("Choose a member."))?;
            let deleted_only = call.boolean("deleted_only").unwrap_or(false);
            let limit = call.integer("limit").unwrap_or(500).clamp(1, 5000) as u64;
            let (rows, csv) =
                crate::audit::history_csv(&app.db, guild, member, deleted_only, limit)
                    .await
                    .map_err(|e| CommandError::Internal(e.into()))?;
            let name = format!(
                "{member}_{}.csv",
                if deleted_only { "deleted" } else { "history" }
            );
            Ok(Reply {
                content: Some(format!(
                    "{rows} recorded message version(s) of <@{member}> (messages are kept {} days while the audit log is on).",
                    app.settings.moderation.history_days
                )),
                files: vec![(name, csv)],
                ..Reply::default()
            })
        })
    }
}
