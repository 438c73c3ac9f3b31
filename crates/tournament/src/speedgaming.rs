//! The SpeedGaming schedule API (spec §2): `GET {base}/schedule?event=&from=&to=` (a JSON
//! array of episodes) and `GET {base}/episode?id=` (one episode). Both are served as
//! `text/html`, so the body is parsed as JSON whatever the content type says, and errors come
//! back as `{"error": "..."}` bodies.

use std::time::Duration;

use crate::config::OpenRace;
use chrono::{DateTime, FixedOffset, Utc};
use serde::Deserialize;

/// An episode (spec §2.2; only what tournaments read).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Episode {
    /// The episode id.
    pub id: i64,
    /// The episode title (usually empty).
    #[serde(default)]
    pub title: String,
    /// Broadcast start.
    pub when: DateTime<FixedOffset>,
    /// Race start; missing in some fixtures (then `when`).
    #[serde(default)]
    pub when_countdown: Option<DateTime<FixedOffset>>,
    /// The event.
    pub event: Event,
    /// The match.
    #[serde(default)]
    pub match1: Option<Match>,
    /// A second match (rare).
    #[serde(default)]
    pub match2: Option<Match>,
    /// Broadcast channels.
    #[serde(default)]
    pub channels: Vec<Channel>,
    /// Commentators who signed up.
    #[serde(default)]
    pub commentators: Vec<Crew>,
    /// Trackers who signed up.
    #[serde(default)]
    pub trackers: Vec<Crew>,
    /// Broadcasters who signed up.
    #[serde(default)]
    pub broadcasters: Vec<Crew>,
}

/// A crew member's sign-up.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Crew {
    /// Approved by the restream team.
    #[serde(default)]
    pub approved: bool,
    /// The language they work in (`en`, `de`, ...).
    #[serde(default)]
    pub language: String,
}

/// An episode's event.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// The event slug.
    pub slug: String,
    /// Its name.
    #[serde(default)]
    pub name: String,
    /// Its short name (race info).
    #[serde(default)]
    pub short_name: String,
}

/// A match of an episode.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Match {
    /// The match title ("Standard", "Round 3: Boss Shuffle").
    #[serde(default)]
    pub title: String,
    /// Its players.
    #[serde(default)]
    pub players: Vec<Player>,
}

/// A player as SpeedGaming knows them.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Player {
    /// Their name on SpeedGaming.
    #[serde(default)]
    pub display_name: String,
    /// Discord snowflake as a string; "" when unknown.
    #[serde(default)]
    pub discord_id: String,
    /// Discord tag; "" when unknown; new-style names end in `#0`.
    #[serde(default)]
    pub discord_tag: String,
    /// `ignore` excludes the player.
    #[serde(default)]
    pub public_stream: String,
    /// Their Twitch login.
    #[serde(default)]
    pub streaming_from: String,
}

/// A broadcast channel.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Channel {
    /// SpeedGaming's channel id (some ids are placeholders).
    #[serde(default)]
    pub id: i64,
    /// Its name; names with a space are placeholders, not Twitch channels.
    #[serde(default)]
    pub name: String,
    /// Its Twitch login.
    #[serde(default)]
    pub slug: String,
    /// Its language.
    #[serde(default)]
    pub language: String,
}

impl Player {
    /// The Discord id, when SpeedGaming has a numeric one.
    pub fn discord(&self) -> Option<u64> {
        self.discord_id.trim().parse().ok().filter(|id| *id > 0)
    }

    /// The tag without the new-style `#0`.
    pub fn tag(&self) -> Option<&str> {
        let tag = self.discord_tag.trim();
        let tag = tag.strip_suffix("#0").unwrap_or(tag);
        (!tag.is_empty()).then_some(tag)
    }
}

impl Episode {
    /// The race start in UTC (`whenCountdown`, else `when`).
    pub fn race_start(&self) -> DateTime<Utc> {
        self.when_countdown.unwrap_or(self.when).with_timezone(&Utc)
    }

    /// The players taking part (`publicStream == "ignore"` excluded).
    pub fn players(&self) -> Vec<&Player> {
        self.match1
            .iter()
            .flat_map(|m| &m.players)
            .filter(|p| p.public_stream != "ignore")
            .collect()
    }

    /// Channel names that are Twitch channels (no spaces).
    pub fn broadcast_channels(&self) -> Vec<String> {
        self.channels
            .iter()
            .map(|c| c.name.clone())
            .filter(|n| !n.is_empty() && !n.contains(' '))
            .collect()
    }

    /// The match title.
    pub fn match_title(&self) -> &str {
        self.match1.as_ref().map_or("", |m| m.title.as_str())
    }
}

/// Why a SpeedGaming call failed.
#[derive(Debug, thiserror::Error)]
pub enum SgError {
    /// SpeedGaming could not be reached or answered 5xx.
    #[error("SpeedGaming is unreachable: {0}")]
    Unreachable(String),
    /// SpeedGaming answered `{"error": ...}` (unknown event or episode).
    #[error("SpeedGaming says: {0}")]
    NotFound(String),
    /// The answer was not the documented shape.
    #[error("SpeedGaming answered something unexpected: {0}")]
    Malformed(String),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Answer<T> {
    Error { error: String },
    Ok(T),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Schedule {
    List(Vec<Episode>),
    Wrapped { episodes: Vec<Episode> },
}

/// A SpeedGaming API client.
#[derive(Clone, Debug)]
pub struct SpeedGaming {
    base: String,
    http: reqwest::Client,
}

impl SpeedGaming {
    /// A client of the API at `base` (e.g. `https://speedgaming.org/api`).
    ///
    /// Errors: the HTTP client cannot be built.
    pub fn new(base: &str) -> anyhow::Result<Self> {
        Ok(Self {
            base: base.trim_end_matches('/').to_owned(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .user_agent("SahasrahBot")
                .build()?,
        })
    }

    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, SgError> {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .query(query)
            .send()
            .await
            .map_err(|e| SgError::Unreachable(e.without_url().to_string()))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| SgError::Unreachable(e.without_url().to_string()))?;
        if status.is_server_error() {
            return Err(SgError::Unreachable(format!("HTTP {status}")));
        }
        match serde_json::from_str::<Answer<T>>(&text) {
            Ok(Answer::Ok(value)) => Ok(value),
            Ok(Answer::Error { error }) => Err(SgError::NotFound(error)),
            Err(_) if status.as_u16() == 404 => Err(SgError::NotFound(format!("HTTP {status}"))),
            Err(error) => Err(SgError::Malformed(error.to_string())),
        }
    }

    /// The episodes of `event` between `from` and `to`.
    ///
    /// Errors: unreachable, unknown event, or a malformed answer.
    pub async fn schedule(
        &self,
        event: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Episode>, SgError> {
        let schedule: Schedule = self
            .get(
                "/schedule",
                &[
                    ("event", event.to_owned()),
                    ("from", from.to_rfc3339()),
                    ("to", to.to_rfc3339()),
                ],
            )
            .await?;
        Ok(match schedule {
            Schedule::List(list) | Schedule::Wrapped { episodes: list } => list,
        })
    }

    /// One episode.
    ///
    /// Errors: unreachable, [`SgError::NotFound`] when it is gone, or a malformed answer.
    pub async fn episode(&self, id: i64) -> Result<Episode, SgError> {
        self.get("/episode", &[("id", id.to_string())]).await
    }
}

/// `A vs. B`, or `A, B, C` for more than two (spec §1.5.2).
pub fn versus(names: &[String]) -> String {
    if names.len() > 2 {
        names.join(", ")
    } else {
        names.join(" vs. ")
    }
}

/// The room's info line (spec §1.5.2): `{short name} - {versus} - {title}[ - Restream(s) at
/// {channels}] - {episode id}`.
pub fn race_info(
    short_name: &str,
    names: &[String],
    title: &str,
    channels: &[String],
    id: &str,
) -> String {
    let mut info = format!("{short_name} - {} - {title}", versus(names));
    if !channels.is_empty() {
        info.push_str(&format!(" - Restream(s) at {}", channels.join(", ")));
    }
    info.push_str(&format!(" - {id}"));
    info
}

/// How a time zone is named in an info line: upstream's "Eastern" for US Eastern (and the
/// other US zones alike), else the zone's abbreviation at that time ("CET", "UTC").
fn zone_label(zone: chrono_tz::Tz, at: DateTime<Utc>) -> String {
    match zone {
        chrono_tz::America::New_York => "Eastern".into(),
        chrono_tz::America::Chicago => "Central".into(),
        chrono_tz::America::Denver => "Mountain".into(),
        chrono_tz::America::Los_Angeles => "Pacific".into(),
        _ => at.with_timezone(&zone).format("%Z").to_string(),
    }
}

/// An open race's info line (spec §1.5.2, dailies and the qualifier): `{series} - {title} at
/// {h:mm AM/PM} {zone}[ on {channels}][ - {seed label} at {start − seed minutes} {zone}] -
/// {episode id}`, times in `zone`.
pub fn open_race_info(
    open: &OpenRace,
    title: &str,
    start: DateTime<Utc>,
    zone: chrono_tz::Tz,
    channels: &[String],
    id: &str,
) -> String {
    let clock = |at: DateTime<Utc>| {
        format!(
            "{} {}",
            at.with_timezone(&zone).format("%-I:%M %p"),
            zone_label(zone, at)
        )
    };
    let mut info = format!("{} - {title} at {}", open.series, clock(start));
    if !channels.is_empty() {
        info.push_str(&format!(" on {}", channels.join(", ")));
    }
    if let Some(label) = open.seed_label.as_deref().filter(|l| !l.is_empty()) {
        let seed = start - chrono::Duration::minutes(i64::from(open.seed_minutes_before));
        info.push_str(&format!(" - {label} at {}", clock(seed)));
    }
    info.push_str(&format!(" - {id}"));
    info
}

/// An open race's announcement (spec §1.5.5): `{prefix}{series} - {title} - <t:start:f>
/// (<t:start:R>)[ on {channels}][ - {seed label} <t:seed:R>] - {room url}`.
pub fn open_race_announcement(
    open: &OpenRace,
    title: &str,
    start: DateTime<Utc>,
    channels: &[String],
    url: &str,
) -> String {
    let at = start.timestamp();
    let mut text = format!(
        "{}{} - {title} - <t:{at}:f> (<t:{at}:R>)",
        open.announce_prefix, open.series
    );
    if !channels.is_empty() {
        text.push_str(&format!(" on {}", channels.join(", ")));
    }
    if let Some(label) = open.seed_label.as_deref().filter(|l| !l.is_empty()) {
        let seed = at - i64::from(open.seed_minutes_before) * 60;
        text.push_str(&format!(" - {label} <t:{seed}:R>"));
    }
    text.push_str(&format!(" - {url}"));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Spec §2.3's inline episode (Appendix B).
    const EPISODE: &str = r#"{"id": 100, "event": {"shortName": "TestEvent", "slug": "test"},
     "match1": {"title": "Round 1", "players": [
       {"discordId": "1", "discordTag": "a", "displayName": "A", "publicStream": "yes", "streamingFrom": "twitchA"},
       {"discordId": "2", "discordTag": "b", "displayName": "B", "publicStream": "yes", "streamingFrom": "twitchB"},
       {"discordId": "9", "discordTag": "ignore", "displayName": "I", "publicStream": "ignore", "streamingFrom": ""}]},
     "channels": [{"name": "restreamA"}, {"name": "has space"}],
     "whenCountdown": "2026-06-26T18:00:00-04:00", "when": "2026-06-26T18:30:00-04:00"}"#;

    #[test]
    fn the_spec_episode_gives_upstreams_names_channels_and_info() {
        let episode: Episode = serde_json::from_str(EPISODE).unwrap();
        let names: Vec<String> = episode
            .players()
            .iter()
            .map(|p| p.display_name.clone())
            .collect();
        assert_eq!(names, ["A", "B"]);
        assert_eq!(versus(&names), "A vs. B");
        assert_eq!(episode.broadcast_channels(), ["restreamA"]);
        let info = race_info(
            &episode.event.short_name,
            &names,
            episode.match_title(),
            &episode.broadcast_channels(),
            &episode.id.to_string(),
        );
        assert!(info.contains("TestEvent - A vs. B - Round 1"), "{info}");
        assert!(info.ends_with(" - 100"), "{info}");
        assert_eq!(
            episode.race_start().to_rfc3339(),
            "2026-06-26T22:00:00+00:00"
        );
    }

    #[test]
    fn discord_ids_and_tags_are_read_like_upstream() {
        let player = |id: &str, tag: &str| Player {
            display_name: "x".into(),
            discord_id: id.into(),
            discord_tag: tag.into(),
            public_stream: String::new(),
            streaming_from: String::new(),
        };
        assert_eq!(player("123", "").discord(), Some(123));
        assert_eq!(player("", "").discord(), None);
        assert_eq!(player("abc", "").discord(), None);
        assert_eq!(player("", "synack#0").tag(), Some("synack"));
        assert_eq!(player("", "Synack#1337").tag(), Some("Synack#1337"));
        assert_eq!(versus(&["A".into(), "B".into(), "C".into()]), "A, B, C");
    }

    #[test]
    fn error_bodies_are_errors_and_wrapped_schedules_are_read() {
        let answer: Answer<Episode> =
            serde_json::from_str(r#"{"error": "Failed to find episode with id 5."}"#).unwrap();
        assert!(matches!(answer, Answer::Error { .. }));
        let wrapped: Schedule =
            serde_json::from_str(&format!(r#"{{"episodes": [{EPISODE}]}}"#)).unwrap();
        assert!(matches!(wrapped, Schedule::Wrapped { episodes } if episodes.len() == 1));
    }

    fn daily() -> OpenRace {
        OpenRace {
            series: "SpeedGaming Daily Race Series".into(),
            seed_label: Some("Seed Distributed".into()),
            seed_minutes_before: 10,
            ..Default::default()
        }
    }

    /// Appendix B's daily, SMZ3 weekly and qualifier vectors.
    #[test]
    fn open_race_info_lines_match_upstreams_dailies_and_qualifier() {
        let episode: Episode = serde_json::from_str(EPISODE).unwrap();
        let start = episode.race_start();
        let zone = chrono_tz::America::New_York;
        let channels = episode.broadcast_channels();
        let info = open_race_info(&daily(), "Daily 1", start, zone, &channels, "100");
        assert!(
            info.starts_with("SpeedGaming Daily Race Series - Daily 1 at "),
            "{info}"
        );
        assert!(info.contains("Eastern"), "{info}");
        assert!(info.contains(" on restreamA"), "{info}");
        assert!(info.ends_with(" - 100"), "{info}");
        // 18:00 Eastern start, seed at 17:50: 600 s apart.
        assert_eq!(
            info,
            "SpeedGaming Daily Race Series - Daily 1 at 6:00 PM Eastern on restreamA - Seed Distributed at 5:50 PM Eastern - 100"
        );
        let weekly = OpenRace {
            series: "SMZ3 Weekly Race".into(),
            ..Default::default()
        };
        let info = open_race_info(&weekly, "Weekly 1", start, zone, &[], "100");
        assert_eq!(info, "SMZ3 Weekly Race - Weekly 1 at 6:00 PM Eastern - 100");
        let qualifier = OpenRace {
            series: "ALTTPR Main Tournament Live Qualifier".into(),
            seed_label: Some("Seed Distributed and Room Locked".into()),
            seed_minutes_before: 10,
            ..Default::default()
        };
        let info = open_race_info(&qualifier, "Qualifier 1", start, zone, &[], "100");
        assert!(
            info.starts_with("ALTTPR Main Tournament Live Qualifier - Qualifier 1 at "),
            "{info}"
        );
        assert!(
            info.contains("Seed Distributed and Room Locked at "),
            "{info}"
        );
        // Another zone is named by its abbreviation.
        let berlin = open_race_info(
            &weekly,
            "Weekly 1",
            start,
            chrono_tz::Europe::Berlin,
            &[],
            "1",
        );
        assert_eq!(berlin, "SMZ3 Weekly Race - Weekly 1 at 12:00 AM CEST - 1");
    }

    #[test]
    fn open_race_announcements_carry_the_prefix_start_and_seed_time() {
        let start: DateTime<Utc> = "2026-06-26T22:00:00Z".parse().unwrap();
        let at = start.timestamp();
        let open = OpenRace {
            announce_prefix: "<@&399038388964950016> ".into(),
            ..daily()
        };
        let text = open_race_announcement(
            &open,
            "Daily 1",
            start,
            &["SpeedGaming".into()],
            "https://racetime.gg/alttpr/x",
        );
        assert_eq!(
            text,
            format!(
                "<@&399038388964950016> SpeedGaming Daily Race Series - Daily 1 - <t:{at}:f> (<t:{at}:R>) on SpeedGaming - Seed Distributed <t:{}:R> - https://racetime.gg/alttpr/x",
                at - 600
            )
        );
        let weekly = OpenRace {
            series: "SMZ3 Weekly Race".into(),
            ..Default::default()
        };
        assert_eq!(
            open_race_announcement(&weekly, "Weekly 1", start, &[], "u"),
            format!("SMZ3 Weekly Race - Weekly 1 - <t:{at}:f> (<t:{at}:R>) - u")
        );
        let coop = OpenRace {
            team_race_title: Some("co-op".into()),
            ..daily()
        };
        assert!(coop.team_race("Daily Co-Op Race"));
        assert!(!coop.team_race("Daily 2"));
        assert!(!daily().team_race("co-op"));
    }
}
