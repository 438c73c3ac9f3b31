//! The community commands `/welcome` and `/rom` (spec §1.5), registered only in the
//! configured community guilds.

use futures::future::BoxFuture;
use twilight_model::application::command::{Command, CommandType};
use twilight_util::builder::command::{CommandBuilder, StringBuilder};

use super::{Scope, SlashCommand};
use crate::context::{App, Call, CommandError};
use crate::discord::Reply;

const LANGUAGE: &str = "language";

/// `/welcome` languages.
pub const WELCOME_LANGUAGES: [&str; 4] = ["french", "spanish", "german", "portuguese"];

/// `/rom`: how to check a ROM.
pub const ROM_TEXT: &str = "The randomizer needs a Japanese 1.0 ROM of A Link to the Past.  You can check yours with http://alttp.mymm1.com/game/checkcrc/ - if it does not match, ask in the help channel how to get the right one.";

/// `/welcome`.
#[derive(Debug)]
pub struct Welcome;

impl SlashCommand for Welcome {
    fn definition(&self) -> Command {
        CommandBuilder::new(
            "welcome",
            "Welcome messages for various languages.",
            CommandType::ChatInput,
        )
        .option(
            StringBuilder::new(LANGUAGE, "Choose a language for the welcome message.")
                .required(true)
                .choices(WELCOME_LANGUAGES.map(|l| (l, l))),
        )
        .build()
    }

    fn scope(&self) -> Scope {
        Scope::Community
    }

    fn run<'a>(
        &'a self,
        app: &'a App,
        call: &'a Call,
    ) -> BoxFuture<'a, Result<Reply, CommandError>> {
        let reply = welcome(call, &app.settings.welcome_messages);
        Box::pin(async move { reply })
    }
}

/// `/rom`.
#[derive(Debug)]
pub struct Rom;

impl SlashCommand for Rom {
    fn definition(&self) -> Command {
        CommandBuilder::new(
            "rom",
            "Get info about how to verify a ROM.",
            CommandType::ChatInput,
        )
        .build()
    }

    fn scope(&self) -> Scope {
        Scope::Community
    }

    fn run<'a>(
        &'a self,
        _app: &'a App,
        _call: &'a Call,
    ) -> BoxFuture<'a, Result<Reply, CommandError>> {
        Box::pin(async { Ok(Reply::text(ROM_TEXT)) })
    }
}

/// `/welcome language`: the configured text for that language (`welcome_messages`), or a
/// short welcome in the language that points at the server's moderators for the link to the
/// language community (upstream's texts carried invite links that belong in configuration).
fn welcome(
    call: &Call,
    configured: &std::collections::BTreeMap<String, String>,
) -> Result<Reply, CommandError> {
    let language = call.string(LANGUAGE).unwrap_or_default();
    if let Some(text) = configured.get(language) {
        return Ok(Reply::text(text.clone()));
    }
    let text = match language {
        "french" => {
            "Bienvenue ! Une communauté francophone du randomizer existe ; demandez le lien à un modérateur."
        }
        "spanish" => {
            "¡Bienvenido! Existe una comunidad hispanohablante del randomizer; pide el enlace a un moderador."
        }
        "german" => {
            "Willkommen! Es gibt eine deutschsprachige Randomizer-Community; frag einen Moderator nach dem Link."
        }
        "portuguese" => {
            "Bem-vindo! Existe uma comunidade lusófona do randomizer; peça o link a um moderador."
        }
        _ => {
            return Err(CommandError::user(format!(
                "Pick one of: {}.",
                WELCOME_LANGUAGES.join(", ")
            )));
        }
    };
    Ok(Reply::text(text))
}
