//! Pure helpers of the room: message guids, entrant lists for events, the roll button,
//! seed lines, user-facing error text.

use proto::events::v1 as ev;
use racetime_client::{ActionButton, RaceData, SurveyQuestion};
use serde_json::json;

use crate::commands::{self, RollPlan, SeedFormat};

/// A deterministic message guid, so a retried or replayed post is dropped by the server.
pub(crate) fn guid(room: &str, key: &str, index: usize) -> String {
    uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_URL,
        format!("{room}|{key}|{index}").as_bytes(),
    )
    .to_string()
}

pub(crate) fn entrants(race: &RaceData) -> Vec<ev::RaceEntrant> {
    race.entrants
        .iter()
        .map(|e| ev::RaceEntrant {
            user_id: e.user_id().unwrap_or_default().to_string(),
            name: e.user.as_ref().map(|u| u.name.clone()).unwrap_or_default(),
            status: e.status.as_str().to_string(),
            place: e.place.unwrap_or(0),
            finish_time_ms: e.finish_duration().map_or(0, |d| d.as_millis() as u64),
            team: e.team.as_ref().map(|t| t.name.clone()).unwrap_or_default(),
            twitch_name: e
                .user
                .as_ref()
                .and_then(|u| u.twitch_name.clone())
                .unwrap_or_default(),
        })
        .collect()
}

/// The alttpr intro's "Roll a Game" survey. Unlike upstream, unchecking Quickswap really turns
/// it off: the checkbox substitutes `--quickswap` or nothing, and the line starts with
/// `--no-quickswap`, which a later `--quickswap` overrides.
pub(crate) fn roll_button(texts: &commands::OperatorTexts) -> ActionButton {
    let input = |name: &str, label: &str, help: &str| SurveyQuestion {
        name: name.into(),
        label: label.into(),
        kind: "input".into(),
        help: Some(help.into()),
        ..Default::default()
    };
    let mut branch_options = serde_json::Map::new();
    for (value, label) in [
        ("live", "Live"),
        ("tournament", "Tournament"),
        ("beeta", "Beeta"),
    ] {
        branch_options.insert(value.into(), json!(label));
    }
    ActionButton {
        message: Some("!newrace --no-quickswap --preset=${preset} ${--quickswap} ${--spoiler_race} --countdown=${countdown} --branch=${branch}".into()),
        submit: Some("Roll Game".into()),
        survey: vec![
            SurveyQuestion { placeholder: Some("eg. standard".into()), ..input("preset", "Preset", &texts.preset_help()) },
            SurveyQuestion { name: "--quickswap".into(), label: "Quickswap".into(), kind: "bool".into(), default: Some(json!(true)), help: Some("Whether or not to allow quickswap.  Defaults to true.".into()), ..Default::default() },
            SurveyQuestion { name: "--spoiler_race".into(), label: "Spoiler Race".into(), kind: "bool".into(), help: Some("Is this a spoiler race? Default is false.".into()), ..Default::default() },
            SurveyQuestion { placeholder: Some("eg. 900 (ignored if not spoiler race)".into()), default: Some(json!("900")), ..input("countdown", "Spoiler Countdown (seconds)", "How long to wait before sending the spoiler log.  Defaults to 900 seconds.  Ignored if not a spoiler race.") },
            SurveyQuestion { name: "branch".into(), label: "Branch".into(), kind: "select".into(), default: Some(json!("live")), options: Some(branch_options), help: Some("Which branch to use for the game.  Defaults to live.".into()), ..Default::default() },
        ],
        ..ActionButton::default()
    }
}

/// A SeedGen error as a short message a racer can act on (never a stack of exception text);
/// the wording is [`platform::grpc::user_message`]'s, shared with Discord.
pub(crate) fn user_error(status: &tonic::Status) -> String {
    platform::grpc::user_message(status).unwrap_or_else(|| {
        format!(
            "Something went wrong generating that seed: {}",
            status.message()
        )
    })
}

/// A local roll's seed, flags and flag-set description, from the reply's own fields.
pub(crate) fn local_seed(
    reply: &proto::seedgen::v1::GenerateReply,
) -> (String, String, Option<String>) {
    let description = Some(reply.flags_description.clone()).filter(|d| !d.is_empty());
    (reply.hash.clone(), reply.flags.clone(), description)
}

/// The room info and chat lines for a rolled seed.
pub(crate) fn seed_lines(
    roll: &RollPlan,
    reply: &proto::seedgen::v1::GenerateReply,
) -> (String, Vec<String>) {
    let url = reply.permalink.clone();
    let code = reply.file_select_code.join("/");
    let spoiler_prefix = if roll.spoiler.is_some() {
        "spoiler "
    } else {
        ""
    };
    let done = commands::DONE.to_string();
    match &roll.format {
        SeedFormat::Alttpr { label } => (
            format!("{spoiler_prefix}{label} - {url} - ({code})"),
            if roll.spoiler.is_some() {
                vec![url]
            } else {
                vec![url, done]
            },
        ),
        SeedFormat::Mystery { weightset } => {
            let ci = reply.custom_instructions.trim();
            if ci.is_empty() {
                (
                    format!("mystery {weightset} - {url} - ({code})"),
                    vec![url, done],
                )
            } else {
                (
                    format!("Instructions: {ci} - mystery {weightset} - {url} - ({code})"),
                    vec![format!("Instructions: {ci}"), url, done],
                )
            }
        }
        SeedFormat::Smz3 { label } => {
            let code = reply.file_select_code.join(" ");
            (
                format!("{spoiler_prefix}{label} - {url} - ({code})"),
                if roll.spoiler.is_some() {
                    vec![url]
                } else {
                    vec![url, done]
                },
            )
        }
        SeedFormat::SmTotal { preset } => (
            format!(
                "SM Total Randomizer - {preset} - {url} - ({})",
                reply.file_select_code.join(" ")
            ),
            vec![url, done],
        ),
        SeedFormat::Varia { settings, skills } => {
            (format!("{settings} / {skills} - {url}"), vec![url, done])
        }
        SeedFormat::Dash => (format!("SM Dash Randomizer - {url}"), vec![url, done]),
        SeedFormat::Z1rPreset { preset } => {
            let (seed, flags, _) = local_seed(reply);
            (
                format!("Flags: {flags} Seed: {seed}"),
                vec![format!("{preset} - Flags: {flags} Seed: {seed}"), done],
            )
        }
        SeedFormat::SeedFlags => {
            let (seed, flags, description) = local_seed(reply);
            let text = match description {
                Some(d) => format!("Seed: {seed} - Flags: {flags} - {d}"),
                None => format!("Seed: {seed} - Flags: {flags}"),
            };
            (text.clone(), vec![text, done])
        }
        SeedFormat::Url => (url.clone(), vec![url, done]),
    }
}
