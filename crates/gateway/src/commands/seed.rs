//! What the seed commands share (spec §1.1–1.3): every roll goes through
//! `seedgen.v1.SeedGen.Generate` with the interaction id as its idempotency key, so a
//! redelivered interaction never rolls twice; uploaded presets; preset autocomplete.

use proto::seedgen::v1 as pb;
use proto::seedgen::v1::seed_gen_client::SeedGenClient;
use twilight_model::application::command::{CommandOptionChoice, CommandOptionChoiceValue};

use futures::future::BoxFuture;

use super::options::{PRESET, YAML_FILE, required};
use crate::context::{App, Call, CommandError};

/// The seedgen client.
///
/// Errors (user-facing): seedgen is not configured.
pub fn client(app: &App) -> Result<SeedGenClient<platform::grpc::TracedChannel>, CommandError> {
    app.seedgen
        .as_ref()
        .map(|peer| SeedGenClient::new(peer.channel()))
        .ok_or_else(|| {
            CommandError::user(
                "Seed rolling is not available right now: the seed generator is not configured.",
            )
        })
}

/// A Generate request keyed by the interaction.
pub fn request(call: &Call, randomizer: &str, preset: &str) -> pb::GenerateRequest {
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

/// Rolls a seed.
///
/// Errors: seedgen's refusal or outage as [`CommandError::from_status`] words it.
pub async fn generate(
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

/// The preset to roll and whether it was just saved: the one named by `option`, or, for the
/// `custom…` commands, the uploaded file saved as the caller's `{namespace}/latest` first, so
/// it can be rolled again by name.
pub async fn chosen_preset(
    app: &App,
    call: &Call,
    randomizer: &str,
    option: &str,
    uploaded: bool,
) -> Result<(String, bool), CommandError> {
    if !uploaded {
        return Ok((required(call, option)?.to_owned(), false));
    }
    let text = yaml(app, call, YAML_FILE).await?;
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
pub async fn yaml(app: &App, call: &Call, option: &str) -> Result<String, CommandError> {
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
pub async fn preset_choices(
    app: &App,
    call: &Call,
    randomizer: &str,
    typed: &str,
) -> Vec<CommandOptionChoice> {
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
pub fn static_choices(list: &[&str], typed: &str) -> Vec<CommandOptionChoice> {
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

/// Autocomplete of a command whose autocompleted option is `preset`: `randomizer`'s presets.
pub fn preset_autocomplete<'a>(
    app: &'a App,
    call: &'a Call,
    option: &'a str,
    typed: &'a str,
    randomizer: &'a str,
) -> BoxFuture<'a, Vec<CommandOptionChoice>> {
    Box::pin(async move {
        if option != PRESET {
            return Vec::new();
        }
        preset_choices(app, call, randomizer, typed).await
    })
}

/// Autocomplete from fixed lists, `(option name, its values)`.
pub fn fixed_autocomplete(
    option: &str,
    typed: &str,
    lists: &[(&str, &[&str])],
) -> BoxFuture<'static, Vec<CommandOptionChoice>> {
    let choices = lists
        .iter()
        .find(|(name, _)| *name == option)
        .map(|(_, list)| static_choices(list, typed))
        .unwrap_or_default();
    Box::pin(async move { choices })
}
