//! `/alttpr preset|custompreset|spoiler|customspoiler|mystery|custommystery|kisspriest`
//! (spec §1.1): A Link to the Past Randomizer games on alttpr.com.

use futures::future::BoxFuture;
use twilight_model::application::command::{Command, CommandOptionChoice, CommandType};
use twilight_util::builder::command::{
    AttachmentBuilder, BooleanBuilder, CommandBuilder, IntegerBuilder, StringBuilder,
    SubCommandBuilder,
};

use super::SlashCommand;
use super::options::{
    BRANCH, PRESET, RACE, YAML_FILE, branch, preset, required, yaml_file, yes_no,
};
use super::seed::{chosen_preset, generate, preset_choices, request, yaml};
use crate::context::{App, Call, CommandError};
use crate::discord::Reply;
use crate::embeds;

/// `/alttpr`.
#[derive(Debug)]
pub struct Alttpr;

impl SlashCommand for Alttpr {
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

    fn autocomplete<'a>(
        &'a self,
        app: &'a App,
        call: &'a Call,
        option: &'a str,
        typed: &'a str,
    ) -> BoxFuture<'a, Vec<CommandOptionChoice>> {
        Box::pin(async move {
            let randomizer = match option {
                WEIGHTSET => "alttprmystery",
                PRESET => "alttpr",
                _ => return Vec::new(),
            };
            preset_choices(app, call, randomizer, typed).await
        })
    }
}

/// `weightset`: a mystery weightset name.
const WEIGHTSET: &str = "weightset";
const HINTS: &str = "hints";
const QUICKSWAP: &str = "allow_quickswap";
const PROGRESSION: &str = "progression_spoiler";
const MASK: &str = "mask_settings";
const COUNT: &str = "count";

/// `/alttpr preset|custompreset` options (upstream's defaults: not a race, no hints,
/// quickswap allowed, the live branch).
#[derive(Debug, PartialEq, Eq)]
struct RollOptions {
    race: bool,
    hints: bool,
    quickswap: bool,
    /// Empty: the provider's default branch.
    branch: String,
}

impl RollOptions {
    fn parse(call: &Call) -> Self {
        Self {
            race: call.yes(RACE, false),
            hints: call.yes(HINTS, false),
            quickswap: call.yes(QUICKSWAP, true),
            branch: call.string(BRANCH).unwrap_or_default().to_owned(),
        }
    }
}

/// `/alttpr spoiler|customspoiler` options.
#[derive(Debug, PartialEq, Eq)]
struct SpoilerOptions {
    progression: bool,
    branch: String,
}

impl SpoilerOptions {
    fn parse(call: &Call) -> Self {
        Self {
            progression: call.boolean(PROGRESSION) == Some(true),
            branch: call.string(BRANCH).unwrap_or_default().to_owned(),
        }
    }

    fn spoiler_type(&self) -> &'static str {
        if self.progression {
            "progression"
        } else {
            "spoiler"
        }
    }
}

/// `/alttpr mystery|custommystery` options: a race with masked settings unless told
/// otherwise. (Upstream compared the string "yes"/"no" for truth, so it always masked, §7.1.)
#[derive(Debug, PartialEq, Eq)]
struct MysteryOptions {
    race: bool,
    masked: bool,
}

impl MysteryOptions {
    fn parse(call: &Call) -> Self {
        Self {
            race: call.yes(RACE, true),
            masked: call.yes(MASK, true),
        }
    }
}

/// `/alttpr kisspriest count`: 1 to 10 games, 10 by default.
fn kisspriest_count(call: &Call) -> usize {
    call.integer(COUNT).unwrap_or(10).clamp(1, 10) as usize
}

fn definition() -> Command {
    let race = || yes_no(RACE, "Is this a race? (default no)");
    let hints = || yes_no(HINTS, "Do you want hints? (default no)");
    let quickswap = || yes_no(QUICKSWAP, "Allow quickswap? (default yes)");
    CommandBuilder::new(
        "alttpr",
        "A Link to the Past Randomizer games.",
        CommandType::ChatInput,
    )
    .option(
        SubCommandBuilder::new("preset", "Generates an ALTTP Randomizer game on https://alttpr.com")
            .option(preset("The preset you want to generate."))
            .option(race())
            .option(hints())
            .option(quickswap())
            .option(branch()),
    )
    .option(
        SubCommandBuilder::new(
            "custompreset",
            "Generates an ALTTP Randomizer game on https://alttpr.com using a custom yaml provided by the user",
        )
        .option(yaml_file("A preset YAML file."))
        .option(race())
        .option(hints())
        .option(quickswap())
        .option(branch()),
    )
    .option(
        SubCommandBuilder::new(
            "spoiler",
            "Generates an ALTTP Randomizer Spoiler Race on https://alttpr.com",
        )
        .option(preset("The preset you want to generate."))
        .option(BooleanBuilder::new(
            PROGRESSION,
            "Use a progression spoiler instead of a full spoiler.",
        ))
        .option(branch()),
    )
    .option(
        SubCommandBuilder::new(
            "customspoiler",
            "Generates an ALTTP Randomizer spoiler race game using a custom yaml provided by the user",
        )
        .option(yaml_file("A preset YAML file."))
        .option(branch()),
    )
    .option(
        SubCommandBuilder::new(
            "mystery",
            "Generates an ALTTP Randomizer Mystery game on https://alttpr.com",
        )
        .option(
            StringBuilder::new(WEIGHTSET, "The mystery weightset to roll.")
                .required(true)
                .autocomplete(true),
        )
        .option(yes_no(RACE, "Is this a race? (default yes)"))
        .option(yes_no(MASK, "Hide the rolled settings? (default yes)")),
    )
    .option(
        SubCommandBuilder::new(
            "kisspriest",
            "Create a series a \"Kiss Priest\" games.  This was created by hycutype.",
        )
        .option(
            IntegerBuilder::new(COUNT, "How many games (default 10).")
                .min_value(1)
                .max_value(10),
        ),
    )
    .option(
        SubCommandBuilder::new(
            "custommystery",
            "Generates an ALTTP Randomizer Mystery game on https://alttpr.com using a custom yaml provided by the user",
        )
        .option(
            AttachmentBuilder::new(YAML_FILE, "A mystery weightset YAML file.").required(true),
        )
        .option(yes_no(RACE, "Is this a race? (default yes)"))
        .option(yes_no(MASK, "Hide the rolled settings? (default yes)")),
    )
    .build()
}

async fn run(app: &App, call: &Call) -> Result<Reply, CommandError> {
    let sub: Vec<&str> = call.path.iter().skip(1).map(String::as_str).collect();
    let emoji = &app.settings.item_emoji;
    match sub.as_slice() {
        [kind @ ("preset" | "custompreset")] => {
            let options = RollOptions::parse(call);
            let (label, saved) =
                chosen_preset(app, call, "alttpr", PRESET, *kind == "custompreset").await?;
            let mut r = request(call, "alttpr", &label);
            r.race = options.race;
            r.hints = options.hints;
            r.allow_quickswap = options.quickswap;
            r.branch = options.branch;
            let reply = generate(app, r).await?;
            let mut e = embeds::with_top_field(
                embeds::alttpr(&reply, emoji, options.race),
                "Preset",
                &label,
            );
            if saved {
                e = embeds::with_field(
                    e,
                    "Saved as preset!",
                    format!(
                        "You can generate this preset again by using the preset name of `{label}`"
                    ),
                );
            }
            Ok(Reply::embed(e))
        }
        [kind @ ("spoiler" | "customspoiler")] => {
            let options = SpoilerOptions::parse(call);
            let mut r = request(call, "alttpr", "");
            let label = if *kind == "spoiler" {
                r.preset = required(call, PRESET)?.to_owned();
                r.preset.clone()
            } else {
                r.preset_yaml = yaml(app, call, YAML_FILE).await?;
                "custom".to_owned()
            };
            r.race = true;
            r.spoiler = true;
            r.spoiler_type = options.spoiler_type().into();
            r.branch = options.branch;
            let reply = generate(app, r).await?;
            Ok(Reply::embed(embeds::with_top_field(
                embeds::alttpr(&reply, emoji, true),
                "Preset",
                label,
            )))
        }
        [kind @ ("mystery" | "custommystery")] => {
            let MysteryOptions { race, masked } = MysteryOptions::parse(call);
            let (label, saved) = chosen_preset(
                app,
                call,
                "alttprmystery",
                WEIGHTSET,
                *kind == "custommystery",
            )
            .await?;
            let mut r = request(call, "alttprmystery", &label);
            r.race = race;
            r.unmasked = !masked;
            let reply = generate(app, r).await?;
            let mut e = embeds::alttpr(&reply, emoji, race);
            e.title = Some("Mystery Game".into());
            let mut e = embeds::with_top_field(e, "Weightset", &label);
            if !reply.custom_instructions.is_empty() {
                e = embeds::with_field(e, "Custom Instructions", reply.custom_instructions);
            }
            if saved {
                e = embeds::with_field(
                    e,
                    "Saved as custom weightset!",
                    format!(
                        "You can generate this weightset again by using the weightset name of `{label}`"
                    ),
                );
            }
            Ok(Reply::embed(e))
        }
        ["kisspriest"] => {
            let count = kisspriest_count(call);
            // One batch: every game shares the seed and differs by its index.
            let games = (1..=count).map(|i| {
                let mut r = request(call, "kisspriest", &format!("{i}/{count}"));
                r.idempotency_key = format!("discord:{}:{i}", call.interaction_id);
                r.rng_seed = Some(call.interaction_id);
                r.race = true;
                generate(app, r)
            });
            let replies = futures::future::join_all(games)
                .await
                .into_iter()
                .collect::<Result<Vec<_>, _>>()?;
            let mut e = embeds::blank(
                Some("Kiss Priest Games".into()),
                Some("Good luck and have fun!".into()),
                Some(0x5865F2),
            );
            for (i, reply) in replies.iter().enumerate() {
                let name = if reply.title.is_empty() {
                    format!("Game {}", i + 1)
                } else {
                    reply.title.clone()
                };
                e = embeds::with_field(
                    e,
                    &name,
                    format!(
                        "{}\n{}",
                        reply.permalink,
                        embeds::file_select_code(&reply.file_select_code, emoji)
                    ),
                );
            }
            Ok(Reply::embed(e))
        }
        _ => Err(CommandError::user(format!(
            "I don't know the command `/{}`.",
            call.name()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn roll_options_default_like_upstream() {
        let call = Call::for_test(&["alttpr", "preset"], &[(PRESET, json!("open"))]);
        assert_eq!(
            RollOptions::parse(&call),
            RollOptions {
                race: false,
                hints: false,
                quickswap: true,
                branch: String::new()
            }
        );
    }

    #[test]
    fn roll_options_read_every_choice() {
        let call = Call::for_test(
            &["alttpr", "preset"],
            &[
                (RACE, json!("yes")),
                (HINTS, json!("yes")),
                (QUICKSWAP, json!("no")),
                (BRANCH, json!("beeta")),
            ],
        );
        assert_eq!(
            RollOptions::parse(&call),
            RollOptions {
                race: true,
                hints: true,
                quickswap: false,
                branch: "beeta".into()
            }
        );
    }

    #[test]
    fn a_progression_spoiler_is_asked_for_by_its_boolean() {
        let call = Call::for_test(&["alttpr", "spoiler"], &[(PROGRESSION, json!(true))]);
        assert_eq!(SpoilerOptions::parse(&call).spoiler_type(), "progression");
        let call = Call::for_test(&["alttpr", "spoiler"], &[]);
        assert_eq!(SpoilerOptions::parse(&call).spoiler_type(), "spoiler");
    }

    #[test]
    fn mystery_is_a_masked_race_unless_told_no() {
        let call = Call::for_test(&["alttpr", "mystery"], &[]);
        assert_eq!(
            MysteryOptions::parse(&call),
            MysteryOptions {
                race: true,
                masked: true
            }
        );
        let call = Call::for_test(&["alttpr", "mystery"], &[(MASK, json!("no"))]);
        assert!(!MysteryOptions::parse(&call).masked);
    }

    #[test]
    fn kisspriest_makes_one_to_ten_games() {
        assert_eq!(
            kisspriest_count(&Call::for_test(&["alttpr", "kisspriest"], &[])),
            10
        );
        let call = Call::for_test(&["alttpr", "kisspriest"], &[(COUNT, json!(40))]);
        assert_eq!(kisspriest_count(&call), 10);
        let call = Call::for_test(&["alttpr", "kisspriest"], &[(COUNT, json!(0))]);
        assert_eq!(kisspriest_count(&call), 1);
    }

    #[test]
    fn every_option_the_handlers_read_is_registered() {
        let definition = serde_json::to_value(definition()).unwrap();
        let text = definition.to_string();
        for name in [
            PRESET,
            RACE,
            HINTS,
            QUICKSWAP,
            BRANCH,
            PROGRESSION,
            MASK,
            COUNT,
            WEIGHTSET,
        ] {
            assert!(text.contains(&format!("\"name\":\"{name}\"")), "{name}");
        }
    }
}
