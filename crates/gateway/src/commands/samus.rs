//! `/sm` and `/smz3` (spec §1.3): Super Metroid and SMZ3 games on samus.link.

use futures::future::BoxFuture;
use twilight_model::application::command::{Command, CommandOptionChoice, CommandType};
use twilight_util::builder::command::CommandBuilder;

use super::SlashCommand;
use super::options::{PRESET, RACE, preset, required, yes_no};
use super::seed::{generate, preset_autocomplete, request};
use crate::context::{App, Call, CommandError};
use crate::discord::Reply;
use crate::embeds;

const SPOILER_RACE: &str = "spoiler_race";

/// `/sm` or `/smz3`.
#[derive(Clone, Copy, Debug)]
pub enum Samus {
    /// `/sm`: sm.samus.link.
    Sm,
    /// `/smz3`: samus.link.
    Smz3,
}

impl Samus {
    fn randomizer(self) -> &'static str {
        match self {
            Self::Sm => "sm",
            Self::Smz3 => "smz3",
        }
    }
}

impl SlashCommand for Samus {
    fn definition(&self) -> Command {
        match self {
            Self::Sm => CommandBuilder::new(
                "sm",
                "Generates an Super Metroid Randomizer game on https://sm.samus.link",
                CommandType::ChatInput,
            )
            .option(preset("The preset you want to generate."))
            .option(yes_no(RACE, "Is this a race? (default no)"))
            .build(),
            Self::Smz3 => CommandBuilder::new(
                "smz3",
                "Generates an ALTTP Super Metroid Combo Randomizer game on https://samus.link",
                CommandType::ChatInput,
            )
            .option(preset("The preset you want to generate."))
            .option(yes_no(RACE, "Is this a race? (default no)"))
            .option(yes_no(SPOILER_RACE, "Is this a spoiler race? (default no)"))
            .build(),
        }
    }

    fn run<'a>(
        &'a self,
        app: &'a App,
        call: &'a Call,
    ) -> BoxFuture<'a, Result<Reply, CommandError>> {
        Box::pin(async move {
            let game = self.randomizer();
            let mut r = request(call, game, required(call, PRESET)?);
            r.race = call.yes(RACE, false);
            r.spoiler = matches!(self, Self::Smz3) && call.yes(SPOILER_RACE, false);
            let reply = generate(app, r).await?;
            let name = match self {
                Self::Sm => "SM",
                Self::Smz3 => "SMZ3",
            };
            Ok(Reply::embed(embeds::samus(&reply, name)))
        })
    }

    fn autocomplete<'a>(
        &'a self,
        app: &'a App,
        call: &'a Call,
        option: &'a str,
        typed: &'a str,
    ) -> BoxFuture<'a, Vec<CommandOptionChoice>> {
        preset_autocomplete(app, call, option, typed, self.randomizer())
    }
}
