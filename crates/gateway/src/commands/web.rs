//! Games of web randomizers (spec §1.3): `/ctjets` (ctjot.com), `/smvaria` (varia.run) and
//! `/smdash` (dashrando.net).

use futures::future::BoxFuture;
use twilight_model::application::command::{Command, CommandOptionChoice, CommandType};
use twilight_util::builder::command::{CommandBuilder, StringBuilder};

use super::SlashCommand;
use super::options::{PRESET, RACE, preset, required, yes_no};
use super::seed::{fixed_autocomplete, generate, preset_autocomplete, request};
use crate::context::{App, Call, CommandError};
use crate::discord::Reply;
use crate::embeds;

const SKILLS: &str = "skills";
const SETTINGS: &str = "settings";
const SPOILER: &str = "spoiler";

/// `/smvaria` skills presets (upstream's static list).
pub const VARIA_SKILLS: [&str; 11] = [
    "SMRAT2021",
    "Season_Races",
    "Torneio_SGPT2",
    "casual",
    "expert",
    "master",
    "newbie",
    "regular",
    "samus",
    "solution",
    "veteran",
];

/// `/smvaria` settings presets (upstream's static list).
pub const VARIA_SETTINGS: [&str; 31] = [
    "Chozo_Speedrun",
    "SGLive2021",
    "SMRAT2021",
    "Season_Races",
    "Torneio_SGPT2",
    "VARIA_Weekly",
    "all_random",
    "default",
    "doors_long",
    "doors_short",
    "free",
    "hardway2hell",
    "haste",
    "highway2hell",
    "hud",
    "hud_hard",
    "hud_start",
    "minimizer",
    "minimizer_hardcore",
    "minimizer_maximizer",
    "quite_random",
    "scavenger_hard",
    "scavenger_random",
    "scavenger_speedrun",
    "scavenger_vanilla_but_not",
    "stupid_hard",
    "surprise",
    "vanilla",
    "way_of_chozo",
    "where_am_i",
    "where_is_morph",
];

/// `/smdash` modes offered when dashrando.net's list is not at hand.
pub const DASH_PRESETS: [&str; 6] = [
    "classic",
    "recall",
    "2017_mm",
    "chozo_bozo",
    "sgl23",
    "surprise_surprise",
];

/// `/ctjets`.
#[derive(Debug)]
pub struct Ctjets;

impl SlashCommand for Ctjets {
    fn definition(&self) -> Command {
        CommandBuilder::new(
            "ctjets",
            "Generates a Chrono Trigger: Jets of Time randomizer game on http://ctjot.com",
            CommandType::ChatInput,
        )
        .option(preset("The preset you want to generate."))
        .build()
    }

    fn run<'a>(
        &'a self,
        app: &'a App,
        call: &'a Call,
    ) -> BoxFuture<'a, Result<Reply, CommandError>> {
        Box::pin(async move {
            let reply = generate(app, request(call, "ctjets", required(call, PRESET)?)).await?;
            Ok(Reply::text(reply.permalink))
        })
    }

    fn autocomplete<'a>(
        &'a self,
        app: &'a App,
        call: &'a Call,
        option: &'a str,
        typed: &'a str,
    ) -> BoxFuture<'a, Vec<CommandOptionChoice>> {
        preset_autocomplete(app, call, option, typed, "ctjets")
    }
}

/// `/smvaria`.
#[derive(Debug)]
pub struct Varia;

impl SlashCommand for Varia {
    fn definition(&self) -> Command {
        CommandBuilder::new(
            "smvaria",
            "Generates an Super Metroid Varia Randomizer game on https://varia.run",
            CommandType::ChatInput,
        )
        .option(
            StringBuilder::new(SETTINGS, "The settings preset.")
                .required(true)
                .autocomplete(true),
        )
        .option(
            StringBuilder::new(SKILLS, "The skills preset.")
                .required(true)
                .autocomplete(true),
        )
        .option(yes_no(RACE, "Is this a race? (default no)"))
        .build()
    }

    fn run<'a>(
        &'a self,
        app: &'a App,
        call: &'a Call,
    ) -> BoxFuture<'a, Result<Reply, CommandError>> {
        Box::pin(async move {
            let settings = required(call, SETTINGS)?;
            let skills = required(call, SKILLS)?;
            let mut r = request(call, "smvaria", &format!("{skills}/{settings}"));
            r.race = call.yes(RACE, false);
            let reply = generate(app, r).await?;
            let mut e = embeds::blank(
                Some("Generated Super Metroid Varia Game".into()),
                Some(format!(
                    "**Skills Preset:** {skills}\n**Settings Preset:** {settings}"
                )),
                Some(0xE67E22),
            );
            e = embeds::with_field(e, "Link", reply.permalink);
            if !reply.notes.is_empty() {
                e = embeds::with_field(e, "Warnings", reply.notes);
            }
            Ok(Reply::embed(e))
        })
    }

    fn autocomplete<'a>(
        &'a self,
        _app: &'a App,
        _call: &'a Call,
        option: &'a str,
        typed: &'a str,
    ) -> BoxFuture<'a, Vec<CommandOptionChoice>> {
        fixed_autocomplete(
            option,
            typed,
            &[(SKILLS, &VARIA_SKILLS), (SETTINGS, &VARIA_SETTINGS)],
        )
    }
}

/// `/smdash`.
#[derive(Debug)]
pub struct Dash;

impl SlashCommand for Dash {
    fn definition(&self) -> Command {
        CommandBuilder::new(
            "smdash",
            "Generates a Super Metroid Dash Randomizer game on https://dashrando.net",
            CommandType::ChatInput,
        )
        .option(
            StringBuilder::new(PRESET, "The Dash mode.")
                .required(true)
                .autocomplete(true),
        )
        .option(yes_no(SPOILER, "Include a spoiler? (default no)"))
        .build()
    }

    fn run<'a>(
        &'a self,
        app: &'a App,
        call: &'a Call,
    ) -> BoxFuture<'a, Result<Reply, CommandError>> {
        Box::pin(async move {
            let mut r = request(call, "smdash", required(call, PRESET)?);
            r.spoiler = call.yes(SPOILER, false);
            Ok(Reply::text(generate(app, r).await?.permalink))
        })
    }

    fn autocomplete<'a>(
        &'a self,
        _app: &'a App,
        _call: &'a Call,
        option: &'a str,
        typed: &'a str,
    ) -> BoxFuture<'a, Vec<CommandOptionChoice>> {
        fixed_autocomplete(option, typed, &[(PRESET, &DASH_PRESETS)])
    }
}
