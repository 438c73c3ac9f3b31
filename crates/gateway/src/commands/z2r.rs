//! `/z2r preset|mrb` (spec §1.3): Zelda II Randomizer flags, rolled locally by seedgen.

use futures::future::BoxFuture;
use twilight_model::application::command::{Command, CommandType};
use twilight_util::builder::command::{CommandBuilder, StringBuilder, SubCommandBuilder};

use super::SlashCommand;
use super::options::{PRESET, required};
use super::seed::{generate, request};
use crate::context::{App, Call, CommandError};
use crate::discord::Reply;

/// The `/z2r preset` choices (upstream's fixed table).
pub const Z2R_PRESETS: [&str; 9] = [
    "maxrando", "groups1", "groups2", "groups3", "groups4", "brackets", "nit", "sgl4", "sgl",
];

/// `/z2r`.
#[derive(Debug)]
pub struct Z2r;

impl SlashCommand for Z2r {
    fn definition(&self) -> Command {
        definition()
    }

    fn run<'a>(
        &'a self,
        app: &'a App,
        call: &'a Call,
    ) -> BoxFuture<'a, Result<Reply, CommandError>> {
        Box::pin(run(app, call))
    }
}

fn definition() -> Command {
    CommandBuilder::new(
        "z2r",
        "Generate a seed for Zelda 2 Randomizer",
        CommandType::ChatInput,
    )
    .option(
        SubCommandBuilder::new(
            "preset",
            "Generate a Zelda 2 Randomizer game using the specified preset.",
        )
        .option(
            StringBuilder::new(PRESET, "The preset you want to generate.")
                .required(true)
                .choices(Z2R_PRESETS.map(|p| (p, p))),
        ),
    )
    .option(SubCommandBuilder::new(
        "mrb",
        "Generate a seed using a random flag from the 11 in MRB's pool.",
    ))
    .build()
}

async fn run(app: &App, call: &Call) -> Result<Reply, CommandError> {
    let sub = call.path.get(1).map(String::as_str).unwrap_or_default();
    if !matches!(sub, "preset" | "mrb") {
        return Err(CommandError::user(format!(
            "I don't know the command `/{}`.",
            call.name()
        )));
    }

    let preset = if sub == "mrb" {
        "mrb"
    } else {
        required(call, PRESET)?
    };
    let reply = generate(app, request(call, "z2r", preset)).await?;
    let mut text = format!("**Seed**: {}\n**Flags:** {}", reply.hash, reply.flags);
    if sub == "mrb" && !reply.flags_description.is_empty() {
        text.push_str(&format!("\n**Description**: {}", reply.flags_description));
    }
    Ok(Reply::text(text))
}
