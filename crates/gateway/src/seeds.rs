//! Seed commands (spec §1.1–1.3): every roll goes through `seedgen.v1.SeedGen.Generate` with
//! the interaction id as its idempotency key, so a redelivered interaction never rolls twice.

use proto::seedgen::v1 as pb;
use proto::seedgen::v1::seed_gen_client::SeedGenClient;
use twilight_model::application::command::{CommandOptionChoice, CommandOptionChoiceValue};

use crate::discord::Reply;
use crate::embeds;
use crate::interactions::{App, Call, CommandError};

fn client(app: &App) -> Result<SeedGenClient<platform::grpc::TracedChannel>, CommandError> {
    app.seedgen
        .as_ref()
        .map(|peer| SeedGenClient::new(peer.channel()))
        .ok_or_else(|| {
            CommandError::user(
                "Seed rolling is not available right now: the seed generator is not configured.",
            )
        })
}

fn request(call: &Call, randomizer: &str, preset: &str) -> pb::GenerateRequest {
    pb::GenerateRequest {
        idempotency_key: format!("discord:{}", call.interaction_id),
        randomizer: randomizer.into(),
        preset: preset.into(),
        requested_by: format!("discord:{}", call.user_id),
        surface: "discord".into(),
        allow_quickswap: true,
        ..Default::default()
    }
}

async fn generate(
    app: &App,
    request: pb::GenerateRequest,
) -> Result<pb::GenerateReply, CommandError> {
    let mut seedgen = client(app)?;
    seedgen
        .generate(request)
        .await
        .map(tonic::Response::into_inner)
        .map_err(|status| CommandError::from_status(&status))
}

fn required<'a>(call: &'a Call, name: &str) -> Result<&'a str, CommandError> {
    call.string(name)
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| CommandError::user(format!("Please give the `{name}` option.")))
}

/// Runs a seed command.
pub async fn run(app: &App, call: &Call) -> Result<Reply, CommandError> {
    let path: Vec<&str> = call.path.iter().map(String::as_str).collect();
    let emoji = &app.settings.item_emoji;
    match path.as_slice() {
        ["alttpr", kind @ ("preset" | "custompreset")] => {
            let race = call.yes("race", false);
            let (label, saved) =
                chosen_preset(app, call, "alttpr", "preset", *kind == "custompreset").await?;
            let mut r = request(call, "alttpr", &label);
            r.race = race;
            r.hints = call.yes("hints", false);
            r.allow_quickswap = call.yes("allow_quickswap", true);
            r.branch = call.string("branch").unwrap_or_default().to_owned();
            let reply = generate(app, r).await?;
            let mut e =
                embeds::with_top_field(embeds::alttpr(&reply, emoji, race), "Preset", &label);
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
        ["alttpr", kind @ ("spoiler" | "customspoiler")] => {
            let mut r = request(call, "alttpr", "");
            let label = if *kind == "spoiler" {
                r.preset = required(call, "preset")?.to_owned();
                r.preset.clone()
            } else {
                r.preset_yaml = yaml(app, call, "yamlfile").await?;
                "custom".to_owned()
            };
            r.race = true;
            r.spoiler = true;
            r.spoiler_type = if call.boolean("progression_spoiler") == Some(true) {
                "progression".into()
            } else {
                "spoiler".into()
            };
            r.branch = call.string("branch").unwrap_or_default().to_owned();
            let reply = generate(app, r).await?;
            Ok(Reply::embed(embeds::with_top_field(
                embeds::alttpr(&reply, emoji, true),
                "Preset",
                label,
            )))
        }
        ["alttpr", kind @ ("mystery" | "custommystery")] => {
            let race = call.yes("race", true);
            // Upstream compared the string "yes"/"no" for truth, so it always masked (§7.1).
            let masked = call.yes("mask_settings", true);
            let (label, saved) = chosen_preset(
                app,
                call,
                "alttprmystery",
                "weightset",
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
        ["alttpr", "kisspriest"] => {
            let count = call.integer("count").unwrap_or(10).clamp(1, 10) as usize;
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
            let mut e = crate::embeds::blank(
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
        ["alttprutils", "verifygame"] => {
            let hash = required(call, "hash_id")?;
            let mut seedgen = client(app)?;
            let found = seedgen
                .verify_game(pb::VerifyGameRequest { hash: hash.into() })
                .await
                .map_err(|status| CommandError::from_status(&status))?
                .into_inner();
            Ok(Reply::text(if found.generated_by_us {
                format!(
                    "{hash} was generated by SahasrahBot.\n\n**Randomizer:** {}\n**Game Type:** {}\n**Game Option:** {}\n**Permalink:** <{}>",
                    found.randomizer, found.kind, found.option, found.permalink
                )
            } else {
                "That game was not generated by SahasrahBot.".into()
            }))
        }
        ["alttprutils", "convertcustomizer"] => {
            let attachment = call.attachment("customizer_json").ok_or_else(|| {
                CommandError::user("Please attach the customizer save file as `customizer_json`.")
            })?;
            let json = app.fetch_attachment(attachment).await?;
            let mut seedgen = client(app)?;
            let converted = seedgen
                .convert_customizer(pb::ConvertCustomizerRequest {
                    customizer_json: json,
                })
                .await
                .map_err(|status| CommandError::from_status(&status))?
                .into_inner();
            Ok(Reply {
                content: Some("Here is your preset; save it with /alttprutils savepreset.".into()),
                embeds: Vec::new(),
                files: vec![("output.yaml".into(), converted.preset_yaml.into_bytes())],
            })
        }
        ["alttprutils", "savepreset"] => {
            let name = required(call, "preset_name")?.to_lowercase();
            let yaml = yaml(app, call, "preset_file").await?;
            let mut seedgen = client(app)?;
            let saved = seedgen
                .save_preset(pb::SavePresetRequest {
                    randomizer: "alttpr".into(),
                    name,
                    yaml,
                    discord_user_id: call.user_id.to_string(),
                    discord_user_name: call.user_name.clone(),
                    ..Default::default()
                })
                .await
                .map_err(|status| CommandError::from_status(&status))?
                .into_inner();
            Ok(Reply::text(format!(
                "Preset saved as {}/{}",
                saved.namespace, saved.name
            )))
        }
        [game @ ("sm" | "smz3")] => {
            let mut r = request(call, game, required(call, "preset")?);
            r.race = call.yes("race", false);
            r.spoiler = *game == "smz3" && call.yes("spoiler_race", false);
            let reply = generate(app, r).await?;
            let name = if *game == "sm" { "SM" } else { "SMZ3" };
            Ok(Reply::embed(embeds::samus(&reply, name)))
        }
        ["smvaria"] => {
            let settings = required(call, "settings")?;
            let skills = required(call, "skills")?;
            let mut r = request(call, "smvaria", &format!("{skills}/{settings}"));
            r.race = call.yes("race", false);
            let reply = generate(app, r).await?;
            let mut e = crate::embeds::blank(
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
        }
        ["smdash"] => {
            let mut r = request(call, "smdash", required(call, "preset")?);
            r.spoiler = call.yes("spoiler", false);
            Ok(Reply::text(generate(app, r).await?.permalink))
        }
        ["ctjets"] => {
            let reply = generate(app, request(call, "ctjets", required(call, "preset")?)).await?;
            Ok(Reply::text(reply.permalink))
        }
        ["z2r", sub @ ("preset" | "mrb")] => {
            let preset = if *sub == "mrb" {
                "mrb"
            } else {
                required(call, "preset")?
            };
            let reply = generate(app, request(call, "z2r", preset)).await?;
            let settings: serde_json::Value =
                serde_json::from_str(&reply.settings_json).unwrap_or_default();
            let flags = settings["flags"].as_str().unwrap_or_default();
            let mut text = format!("**Seed**: {}\n**Flags:** {flags}", reply.hash);
            if *sub == "mrb" && !reply.notes.is_empty() {
                let description = reply
                    .notes
                    .split_once(": ")
                    .map_or(reply.notes.as_str(), |(d, _)| d);
                text.push_str(&format!("\n**Description**: {description}"));
            }
            Ok(Reply::text(text))
        }
        ["dailygame"] => {
            let mut seedgen = client(app)?;
            let daily = seedgen
                .get_daily(pb::GetDailyRequest {})
                .await
                .map_err(|_| {
                    CommandError::user(
                        "Unable to fetch the daily challenge right now.  Please try again shortly.",
                    )
                })?
                .into_inner();
            let e = crate::daily::embed(&daily, emoji);
            Ok(Reply::embed(e))
        }
        _ => Err(CommandError::user(format!(
            "I don't know the command `/{}`.",
            call.name()
        ))),
    }
}

/// The preset to roll and whether it was just saved: the one named by `option`, or, for the
/// `custom…` commands, the uploaded file saved as the caller's `{namespace}/latest` first, so
/// it can be rolled again by name.
async fn chosen_preset(
    app: &App,
    call: &Call,
    randomizer: &str,
    option: &str,
    uploaded: bool,
) -> Result<(String, bool), CommandError> {
    if !uploaded {
        return Ok((required(call, option)?.to_owned(), false));
    }
    let text = yaml(app, call, "yamlfile").await?;
    Ok((save_latest(app, call, randomizer, text).await?, true))
}

/// Saves an uploaded preset as `{caller's namespace}/latest` (overwriting the last one) and
/// returns the reference to roll it by.
async fn save_latest(
    app: &App,
    call: &Call,
    randomizer: &str,
    yaml: String,
) -> Result<String, CommandError> {
    let mut seedgen = client(app)?;
    let saved = seedgen
        .save_preset(pb::SavePresetRequest {
            randomizer: randomizer.into(),
            name: "latest".into(),
            yaml,
            discord_user_id: call.user_id.to_string(),
            discord_user_name: call.user_name.clone(),
            ..Default::default()
        })
        .await
        .map_err(|status| CommandError::from_status(&status))?
        .into_inner();
    Ok(format!("{}/{}", saved.namespace, saved.name))
}

/// A preset file from an attachment option, checked for size, type and that it is a YAML
/// mapping (seedgen validates the preset itself and its message names the line).
async fn yaml(app: &App, call: &Call, option: &str) -> Result<String, CommandError> {
    let attachment = call
        .attachment(option)
        .ok_or_else(|| CommandError::user(format!("Please attach a file as `{option}`.")))?;
    let name = attachment.filename.to_lowercase();
    if !(name.ends_with(".yaml") || name.ends_with(".yml") || name.ends_with(".json")) {
        return Err(CommandError::user(format!(
            "`{}` is not a YAML or JSON file; attach a `.yaml` preset.",
            attachment.filename
        )));
    }
    let text = app.fetch_attachment(attachment).await?;
    match serde_yaml::from_str::<serde_yaml::Value>(&text) {
        Ok(serde_yaml::Value::Mapping(_)) => Ok(text),
        Ok(_) => Err(CommandError::user(format!(
            "`{}` is not a preset: it must be a YAML mapping (keys like `settings:`).",
            attachment.filename
        ))),
        Err(error) => Err(CommandError::user(format!(
            "`{}` is not valid YAML: {error}",
            attachment.filename
        ))),
    }
}

/// Autocomplete for preset and weightset options, from `SeedGen.ListPresets` (global presets
/// and the caller's namespace). Failures give no choices rather than an error.
pub async fn autocomplete(
    app: &App,
    call: &Call,
    option: &str,
    typed: &str,
) -> Vec<CommandOptionChoice> {
    let fixed = |list: &[&str]| static_choices(list, typed);
    match (call.path.first().map(String::as_str), option) {
        (Some("smvaria"), "skills") => return fixed(&crate::commands::VARIA_SKILLS),
        (Some("smvaria"), "settings") => return fixed(&crate::commands::VARIA_SETTINGS),
        (Some("smdash"), "preset") => return fixed(&crate::commands::DASH_PRESETS),
        _ => {}
    }
    let randomizer = match (call.path.first().map(String::as_str), option) {
        (Some("alttpr"), "weightset") => "alttprmystery",
        (Some("alttpr"), "preset") => "alttpr",
        (Some(game @ ("sm" | "smz3" | "ctjets")), "preset") => game,
        _ => return Vec::new(),
    };
    let Ok(mut seedgen) = client(app) else {
        return Vec::new();
    };
    let listed = seedgen
        .list_presets(pb::ListPresetsRequest {
            randomizer: randomizer.into(),
            discord_user_id: call.user_id.to_string(),
            prefix: typed.trim().to_lowercase(),
            limit: 25,
        })
        .await;
    match listed {
        Ok(reply) => reply
            .into_inner()
            .presets
            .into_iter()
            .take(25)
            .map(|p| CommandOptionChoice {
                name: p.reference.clone(),
                name_localizations: None,
                value: CommandOptionChoiceValue::String(p.reference),
            })
            .collect(),
        Err(status) => {
            tracing::warn!(error = %status.message(), "preset autocomplete failed");
            Vec::new()
        }
    }
}

/// Choices from a fixed list, containing the typed text (upstream answered plain strings, which
/// Discord does not show, spec §7.2).
fn static_choices(list: &[&str], typed: &str) -> Vec<CommandOptionChoice> {
    let typed = typed.trim().to_lowercase();
    list.iter()
        .filter(|name| name.to_lowercase().contains(&typed))
        .take(25)
        .map(|name| CommandOptionChoice {
            name: (*name).to_owned(),
            name_localizations: None,
            value: CommandOptionChoiceValue::String((*name).to_owned()),
        })
        .collect()
}
