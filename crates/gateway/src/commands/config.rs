//! `/config view|set|clear`: guild administrators edit the guild configuration (upstream had
//! no way to, spec §1.16). Replies are private.

use twilight_model::guild::Permissions;

use crate::discord::Reply;
use crate::guild_config::{GuildConfig, Key};
use futures::future::BoxFuture;
use twilight_model::application::command::{Command, CommandType};
use twilight_model::application::interaction::InteractionContextType;
use twilight_util::builder::command::{CommandBuilder, StringBuilder, SubCommandBuilder};

use super::SlashCommand;
use crate::context::{Ack, App, Call, CommandError};

/// `/config`: private replies.
#[derive(Debug)]
pub struct Config;

impl SlashCommand for Config {
    fn definition(&self) -> Command {
        definition()
    }

    fn ack(&self, _call: &Call) -> Ack {
        Ack::Private
    }

    fn run<'a>(
        &'a self,
        app: &'a App,
        call: &'a Call,
    ) -> BoxFuture<'a, Result<Reply, CommandError>> {
        Box::pin(run(&app.config, call))
    }
}

fn definition() -> Command {
    let key = || {
        StringBuilder::new("key", "The setting.")
            .required(true)
            .choices(Key::ALL.map(|k| (k.name(), k.name())))
    };
    CommandBuilder::new(
        "config",
        "View or change this server's SahasrahBot settings.",
        CommandType::ChatInput,
    )
    .contexts([InteractionContextType::Guild])
    .default_member_permissions(Permissions::MANAGE_GUILD)
    .option(SubCommandBuilder::new("view", "Show every setting."))
    .option(
        SubCommandBuilder::new("set", "Change a setting.")
            .option(key())
            .option(StringBuilder::new("value", "The new value.").required(true)),
    )
    .option(SubCommandBuilder::new("clear", "Remove a setting.").option(key()))
    .build()
}

/// Runs `/config …` for a member with Manage Server (or Administrator).
async fn run(config: &GuildConfig, call: &Call) -> Result<Reply, CommandError> {
    let Some(guild) = call.guild_id else {
        return Err(CommandError::user("/config only works in a server."));
    };
    if !crate::context::manages_guild(call.member_permissions) {
        return Err(CommandError::user(
            "You need the Manage Server permission to change this server's configuration.",
        ));
    }
    let key = || {
        let name = call.string("key").unwrap_or_default();
        Key::parse(name).ok_or_else(|| {
            CommandError::user(format!(
                "`{name}` is not a setting. Settings: {}.",
                Key::ALL.map(Key::name).join(", ")
            ))
        })
    };
    let db = |e: sea_orm::DbErr| CommandError::Internal(e.into());
    match call.path.get(1).map(String::as_str) {
        Some("view") => {
            let settings = config.guild(guild).await.map_err(db)?;
            let lines: Vec<String> = Key::ALL
                .iter()
                .map(|k| {
                    let value = match (settings.get(*k), k.kind()) {
                        (None, _) => "*(not set)*".to_owned(),
                        (
                            Some(v),
                            crate::guild_config::Kind::Channel
                            | crate::guild_config::Kind::Channels,
                        ) => v
                            .split(',')
                            .map(|c| format!("<#{c}>"))
                            .collect::<Vec<_>>()
                            .join(", "),
                        (Some(v), _) => format!("`{v}`"),
                    };
                    format!("**{}**: {value} — {}", k.name(), k.description())
                })
                .collect();
            Ok(Reply::text(lines.join("\n")))
        }
        Some("set") => {
            let key = key()?;
            let value = key
                .normalize(call.string("value").unwrap_or_default())
                .map_err(CommandError::User)?;
            config
                .set(guild, key, &value, call.user_id)
                .await
                .map_err(db)?;
            Ok(Reply::text(format!("{} is now `{value}`.", key.name())))
        }
        Some("clear") => {
            let key = key()?;
            let was_set = config.clear(guild, key).await.map_err(db)?;
            Ok(Reply::text(if was_set {
                format!("{} is cleared.", key.name())
            } else {
                format!("{} was not set.", key.name())
            }))
        }
        _ => Err(CommandError::user(
            "Use /config view, /config set or /config clear.",
        )),
    }
}
