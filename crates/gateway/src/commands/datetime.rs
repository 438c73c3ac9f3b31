//! `/datetime` (spec §1.5): Discord timestamp markdown for a date in an IANA time zone.

use chrono::{Datelike, LocalResult, TimeZone};
use futures::future::BoxFuture;
use twilight_model::application::command::{
    Command, CommandOptionChoice, CommandOptionChoiceValue, CommandType,
};
use twilight_util::builder::command::{CommandBuilder, IntegerBuilder, StringBuilder};

use super::SlashCommand;
use crate::context::{Ack, App, Call, CommandError};
use crate::discord::Reply;

const TIMEZONE: &str = "timezone";

/// `/datetime`: answered at once, privately.
#[derive(Debug)]
pub struct Datetime;

impl SlashCommand for Datetime {
    fn definition(&self) -> Command {
        definition()
    }

    fn ack(&self, _call: &Call) -> Ack {
        Ack::ImmediatePrivate
    }

    fn run<'a>(
        &'a self,
        _app: &'a App,
        call: &'a Call,
    ) -> BoxFuture<'a, Result<Reply, CommandError>> {
        let reply = datetime(call);
        Box::pin(async move { reply })
    }

    fn autocomplete<'a>(
        &'a self,
        _app: &'a App,
        _call: &'a Call,
        option: &'a str,
        typed: &'a str,
    ) -> BoxFuture<'a, Vec<CommandOptionChoice>> {
        let choices = if option == TIMEZONE {
            timezone_choices(typed)
        } else {
            Vec::new()
        };
        Box::pin(async move { choices })
    }
}

fn definition() -> Command {
    let range = |name: &str, description: &str, min: i64, max: i64| {
        IntegerBuilder::new(name, description)
            .min_value(min)
            .max_value(max)
            .build()
    };
    CommandBuilder::new(
        "datetime",
        "Get discord markdown for the date specified.",
        CommandType::ChatInput,
    )
    .option(range("year", "Year (default: now)", 1970, 9999))
    .option(range("month", "Month (default: now)", 1, 12))
    .option(range("day", "Day (default: now)", 1, 31))
    .option(range("hour", "Hour (default 0)", 0, 23))
    .option(range("minute", "Minute (default 0)", 0, 59))
    .option(range("second", "Second (default 0)", 0, 59))
    .option(StringBuilder::new(TIMEZONE, "IANA time zone (default US/Eastern)").autocomplete(true))
    .build()
}

/// `/datetime`: Discord timestamp markdown for a date in a time zone.
///
/// Errors (user-facing): an unknown zone, an impossible date (Feb 30), a local time that does
/// not exist in that zone (skipped by a DST change).
fn datetime(call: &Call) -> Result<Reply, CommandError> {
    let zone_name = call.string(TIMEZONE).unwrap_or("US/Eastern");
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
