//! `/sgdaily number_of_days` (spec §1.4): the SpeedGaming ALTTPR daily schedule for the next
//! 1–8 days, from `GET {speedgaming}/schedule?event=alttprdaily&from=…&to=…` (SpeedGaming
//! answers JSON as text/html; the body is parsed regardless of its content type).

use chrono::{DateTime, FixedOffset, Utc};
use serde::Deserialize;

use crate::discord::Reply;
use crate::embeds;
use futures::future::BoxFuture;
use twilight_model::application::command::{Command, CommandType};
use twilight_util::builder::command::{CommandBuilder, IntegerBuilder};

use super::{Scope, SlashCommand};
use crate::context::{App, Call, CommandError};

/// The episode fields `/sgdaily` reads.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Episode {
    /// When the episode starts.
    pub when: DateTime<FixedOffset>,
    /// Its event.
    #[serde(default)]
    pub event: Event,
    /// The match, whose title names the mode.
    #[serde(default)]
    pub match1: Option<Match>,
    /// Where it is broadcast.
    #[serde(default)]
    pub channels: Vec<Channel>,
}

/// A SpeedGaming event.
#[derive(Debug, Default, Deserialize)]
pub struct Event {
    /// Its name.
    #[serde(default)]
    pub name: String,
}

/// A SpeedGaming match.
#[derive(Debug, Deserialize)]
pub struct Match {
    /// Its title.
    #[serde(default)]
    pub title: String,
}

/// A broadcast channel.
#[derive(Debug, Deserialize)]
pub struct Channel {
    /// Its name.
    pub name: String,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Schedule {
    Episodes(Vec<Episode>),
    Error { error: String },
}

const NUMBER_OF_DAYS: &str = "number_of_days";

/// `/sgdaily`, a community command.
#[derive(Debug)]
pub struct SgDaily;

impl SlashCommand for SgDaily {
    fn definition(&self) -> Command {
        CommandBuilder::new(
            "sgdaily",
            "Retrieves the next SG daily race.",
            CommandType::ChatInput,
        )
        .option(
            IntegerBuilder::new(NUMBER_OF_DAYS, "How many days to show (default 1).")
                .min_value(1)
                .max_value(8),
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
        Box::pin(command(&app.files, &app.settings.speedgaming_url, call))
    }
}

const FULL_SCHEDULE: &str = "http://speedgaming.org/alttprdaily";

fn mode(episode: &Episode) -> Option<&str> {
    episode
        .match1
        .as_ref()
        .map(|m| m.title.as_str())
        .filter(|t| !t.is_empty())
}

/// `/sgdaily` against the SpeedGaming API at `base`.
async fn command(http: &reqwest::Client, base: &str, call: &Call) -> Result<Reply, CommandError> {
    let days = call.integer(NUMBER_OF_DAYS).unwrap_or(1).clamp(1, 8);
    let now = Utc::now();
    let to = now + chrono::Duration::hours(192);
    let unreachable = |e: String| {
        CommandError::user(format!(
            "SpeedGaming's schedule is not reachable right now ({e}). Please try again later."
        ))
    };
    let body = http
        .get(format!("{}/schedule", base.trim_end_matches('/')))
        .query(&[
            ("event", "alttprdaily".to_owned()),
            ("from", now.to_rfc3339()),
            ("to", to.to_rfc3339()),
        ])
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| unreachable(e.to_string()))?
        .text()
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    let mut episodes = match serde_json::from_str::<Schedule>(&body) {
        Ok(Schedule::Episodes(episodes)) => episodes,
        Ok(Schedule::Error { error }) => return Err(unreachable(error)),
        Err(e) => return Err(unreachable(format!("unreadable answer: {e}"))),
    };
    let until = now + chrono::Duration::days(days);
    episodes.retain(|e| e.when.with_timezone(&Utc) <= until);
    episodes.sort_by_key(|e| e.when);
    let Some(first) = episodes.first() else {
        return Ok(Reply::text(
            "There are no currently SpeedGaming ALTTPR Daily Races scheduled within the next 8 days.",
        ));
    };
    if days == 1 {
        let ts = first.when.timestamp();
        let channels: Vec<String> = first
            .channels
            .iter()
            .filter(|c| !c.name.contains(' '))
            .map(|c| format!("[{0}](https://twitch.tv/{0})", c.name))
            .collect();
        let mut e = embeds::blank(
            Some(first.event.name.clone()),
            Some(format!(
                "**Mode:** {}\n[Full Schedule]({FULL_SCHEDULE})",
                mode(first).unwrap_or("*TBD*")
            )),
            Some(0x2ECC71),
        );
        e = embeds::with_field(e, "Time", format!("<t:{ts}:f> (<t:{ts}:R>)"));
        e = embeds::with_field(e, "Twitch Channels", channels.join(", "));
        return Ok(Reply::embed(e));
    }
    let mut e = embeds::blank(
        Some("ALTTP Randomizer SG Daily Schedule".into()),
        Some(format!("[Full Schedule]({FULL_SCHEDULE})")),
        Some(0x2ECC71),
    );
    // Discord allows 25 fields in an embed.
    for episode in episodes.iter().take(25) {
        e = embeds::with_field(
            e,
            mode(episode).unwrap_or("TBD"),
            format!("<t:{}:f>", episode.when.timestamp()),
        );
    }
    Ok(Reply::embed(e))
}
