//! `/rtggadmin` (spec `discord-and-web.md` §1.7): server administrators see which members of a
//! role have no racetime.gg account linked to SahasrahBot (`report`), or DM them the link
//! (`blast`, once per member and day). Members are read from Discord page by page; links from
//! Identity in batches. The link page is the website's account page (`GATEWAY_WEBSITE_URL` +
//! `/me`), not a hard-coded host.

use futures::future::BoxFuture;
use proto::identity::v1 as identity;
use proto::identity::v1::identity_client::IdentityClient;
use twilight_model::application::command::{Command, CommandType};
use twilight_model::guild::Permissions;
use twilight_model::id::Id;
use twilight_util::builder::command::{CommandBuilder, RoleBuilder, SubCommandBuilder};

use super::SlashCommand;
use crate::context::{Ack, App, Call, CommandError};
use crate::discord::Reply;

/// `/rtggadmin`.
#[derive(Debug)]
pub struct RtggAdmin;

impl SlashCommand for RtggAdmin {
    fn definition(&self) -> Command {
        let role =
            || RoleBuilder::new("role", "The role whose members are checked.").required(true);
        CommandBuilder::new(
            "rtggadmin",
            "Members without a linked racetime.gg account (administrators).",
            CommandType::ChatInput,
        )
        .default_member_permissions(Permissions::ADMINISTRATOR)
        .option(
            SubCommandBuilder::new(
                "report",
                "List the role's members without a racetime.gg link.",
            )
            .option(role()),
        )
        .option(
            SubCommandBuilder::new("blast", "DM the role's members without a racetime.gg link.")
                .option(role()),
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
        Box::pin(run(app, call))
    }
}

/// `(user id, username)` of the members of `guild` holding `role`.
async fn role_members(
    app: &App,
    guild: u64,
    role: u64,
) -> Result<Vec<(u64, String)>, CommandError> {
    let discord = app
        .discord
        .as_ref()
        .ok_or_else(|| CommandError::user("Discord is not connected right now."))?;
    if guild == 0 {
        return Err(CommandError::user("Not in a server."));
    }
    let members = discord
        .role_members(guild, role)
        .await
        .map_err(|e| CommandError::Internal(anyhow::anyhow!("listing members: {e}")))?;
    Ok(members
        .into_iter()
        .filter(|(_, _, bot)| !bot)
        .map(|(id, name, _)| (id, name))
        .collect())
}

/// Of `members`, those with no racetime.gg account linked.
async fn unlinked(
    app: &App,
    members: Vec<(u64, String)>,
) -> Result<Vec<(u64, String)>, CommandError> {
    let api = app.identity.as_ref().ok_or_else(|| {
        CommandError::user("Accounts are not available right now; try again later.")
    })?;
    let mut out = Vec::new();
    for chunk in members.chunks(1000) {
        let request = identity::FindByDiscordIdsRequest {
            discord_user_ids: chunk.iter().map(|(id, _)| *id).collect(),
        };
        let reply = api
            .call(|| {
                let mut client = IdentityClient::new(api.channel());
                let request = request.clone();
                async move { client.find_by_discord_ids(request).await }
            })
            .await
            .map_err(|s| CommandError::from_status(&s))?
            .into_inner();
        out.extend(
            chunk
                .iter()
                .filter(|(id, _)| {
                    !reply
                        .users
                        .iter()
                        .any(|u| u.discord_user_id == *id && u.racetime_linked)
                })
                .cloned(),
        );
    }
    Ok(out)
}

async fn run(app: &App, call: &Call) -> Result<Reply, CommandError> {
    let Some(guild) = call.guild_id else {
        return Err(CommandError::user("This is for a server's roles."));
    };
    if !call
        .member_permissions
        .is_some_and(|p| p.contains(Permissions::ADMINISTRATOR))
    {
        return Err(CommandError::user(
            "Only administrators may use this command.",
        ));
    }
    let role = call.id("role").unwrap_or_default();
    let missing = unlinked(app, role_members(app, guild, role).await?).await?;
    match call.path.get(1).map(String::as_str) {
        Some("blast") => {
            if missing.is_empty() {
                return Ok(Reply::text("No messages sent."));
            }
            let api = app.discord_api();
            let link = format!("{}/me", app.settings.website_url.trim_end_matches('/'));
            let day = chrono::Utc::now().date_naive();
            let mut lines = Vec::new();
            for (id, name) in &missing {
                let text = format!(
                    "Greetings {name}!  We have detected that you do not have a RaceTime.gg ID linked to SahasrahBot.\nPlease visit <{link}> to link your RaceTime.gg ID!  This is required for tournaments and races run by the bot."
                );
                let sent = async {
                    let channel = app
                        .discord
                        .as_ref()
                        .ok_or_else(|| tonic::Status::unavailable("no Discord"))?
                        .http
                        .create_private_channel(Id::new(*id))
                        .await
                        .map_err(|e| tonic::Status::unavailable(e.to_string()))?
                        .model()
                        .await
                        .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
                    api.send(
                        &format!("rtgg-blast:{guild}:{role}:{id}:{day}"),
                        channel.id.get(),
                        &text,
                        &[],
                    )
                    .await
                };
                lines.push(match sent.await {
                    Ok(_) => format!("Sent DM to {name}"),
                    Err(_) => format!("Failed to send DM to {name}"),
                });
            }
            Ok(Reply::text(
                lines.join("\n").chars().take(2000).collect::<String>(),
            ))
        }
        _ => {
            if missing.is_empty() {
                return Ok(Reply::text(
                    "Everyone in this role is registered with the bot.",
                ));
            }
            let names: Vec<&str> = missing.iter().map(|(_, n)| n.as_str()).collect();
            let text = names.join("\n");
            if text.len() <= 1900 {
                Ok(Reply::text(text))
            } else {
                Ok(Reply {
                    content: Some(format!("{} members have no racetime.gg link.", names.len())),
                    files: vec![("unlinked.txt".into(), text.into_bytes())],
                    ..Reply::default()
                })
            }
        }
    }
}
