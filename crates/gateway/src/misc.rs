//! Misc commands (spec §1.5): `/datetime` with IANA time zones, `/welcome`, `/rom`.

use chrono::{Datelike, LocalResult, TimeZone};
use twilight_model::application::command::{CommandOptionChoice, CommandOptionChoiceValue};

use crate::discord::Reply;
use crate::interactions::{Call, CommandError};

/// `/welcome` languages.
pub const WELCOME_LANGUAGES: [&str; 4] = ["french", "spanish", "german", "portuguese"];

/// `/rom`: how to check a ROM.
pub const ROM_TEXT: &str = "The randomizer needs a Japanese 1.0 ROM of A Link to the Past.  You can check yours with http://alttp.mymm1.com/game/checkcrc/ - if it does not match, ask in the help channel how to get the right one.";

/// `/datetime`: Discord timestamp markdown for a date in a time zone.
///
/// Errors (user-facing): an unknown zone, an impossible date (Feb 30), a local time that does
/// not exist in that zone (skipped by a DST change).
pub fn datetime(call: &Call) -> Result<Reply, CommandError> {
    let zone_name = call.string("timezone").unwrap_or("US/Eastern");
    let zone: chrono_tz::Tz = zone_name
        .parse()
        .map_err(|_| CommandError::user(format!("Unknown timezone: {zone_name}")))?;
    let now = chrono::Utc::now().with_timezone(&zone);
    let part = |name: &str, default: i64| call.integer(name).unwrap_or(default);
    let (year, month, day) = (
        part("year", i64::from(now.year())),
        part("month", i64::from(now.month())),
        part("day", i64::from(now.day())),
    );
    let (hour, minute, second) = (part("hour", 0), part("minute", 0), part("second", 0));
    let invalid = || {
        CommandError::user(format!(
            "Invalid date: {year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02} does not exist in {zone_name}."
        ))
    };
    let to_u32 = |v: i64| u32::try_from(v).map_err(|_| invalid());
    let local = match zone.with_ymd_and_hms(
        i32::try_from(year).map_err(|_| invalid())?,
        to_u32(month)?,
        to_u32(day)?,
        to_u32(hour)?,
        to_u32(minute)?,
        to_u32(second)?,
    ) {
        LocalResult::Single(t) => t,
        // A repeated hour (DST ends): the first one, as most people mean it.
        LocalResult::Ambiguous(first, _) => first,
        LocalResult::None => return Err(invalid()),
    };
    let ts = local.timestamp();
    let formats = ["t", "T", "d", "D", "f", "F", "R"];
    let description = formats
        .iter()
        .map(|f| format!("<t:{ts}:{f}> `<t:{ts}:{f}>`"))
        .collect::<Vec<_>>()
        .join("\n");
    let title = format!(
        "Date markdown for {} {zone_name}",
        local.format("%Y-%m-%d %H:%M:%S")
    );
    Ok(Reply::embed(crate::embeds::blank(
        Some(title),
        Some(description),
        Some(0x5865F2),
    )))
}

/// Up to 25 IANA zones containing the typed text (case-insensitive), prefix matches first.
pub fn timezone_choices(typed: &str) -> Vec<CommandOptionChoice> {
    let typed = typed.trim().to_lowercase();
    let mut names: Vec<&str> = chrono_tz::TZ_VARIANTS
        .iter()
        .map(|tz| tz.name())
        .filter(|name| name.to_lowercase().contains(&typed))
        .collect();
    names.sort_by_key(|name| (!name.to_lowercase().starts_with(&typed), *name));
    names
        .into_iter()
        .take(25)
        .map(|name| CommandOptionChoice {
            name: name.to_owned(),
            name_localizations: None,
            value: CommandOptionChoiceValue::String(name.to_owned()),
        })
        .collect()
}

/// `/welcome language`: the configured text for that language (`welcome_messages`), or a
/// short welcome in the language that points at the server's moderators for the link to the
/// language community (upstream's texts carried invite links that belong in configuration).
pub fn welcome(
    call: &Call,
    configured: &std::collections::BTreeMap<String, String>,
) -> Result<Reply, CommandError> {
    let language = call.string("language").unwrap_or_default();
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
