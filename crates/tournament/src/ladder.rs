//! The ALTTPR Ladder as an optional source of races for racer verification (spec §1.13):
//! off unless `TOURNAMENT_ALTTPR_LADDER__URL` is set, and used only by verifications created
//! with `use_alttpr_ladder`. A member's ladder races are those of the active racer whose
//! `DiscordName` is their Discord username (`GET {url}/api/v1/PublicAPI/GetActiveRacers`, then
//! `GetRacerHistory?RacerGUID=…&flag_id=0`, counting results that started within the period),
//! plus, with `…__ARCHIVE_URL`, the archive's `TotalCount` for their Discord id
//! (`GetRacerRaceHistory?discordid=…&startdt=MMDDYYYY&enddt=MMDDYYYY`).

use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// Where the ladder is (`TOURNAMENT_ALTTPR_LADDER__…`); an empty `url` turns it off.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct LadderSettings {
    /// The ladder site, e.g. `https://alttprladder.com`; empty: off.
    pub url: String,
    /// The archive site, e.g. `https://archive.alttprladder.com`; empty: not counted.
    pub archive_url: String,
}

/// Why the ladder could not be read.
#[derive(Debug, thiserror::Error)]
#[error("ALTTPR Ladder: {0}")]
pub struct LadderError(String);

/// The ladder client; cheap to clone.
#[derive(Clone, Debug)]
pub struct Ladder {
    http: reqwest::Client,
    url: String,
    archive_url: Option<String>,
}

/// A ladder timestamp: RFC 3339, or the site's zone-less form read as UTC.
fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(|t| t.and_utc())
        })
}

/// Results of a racer's history that started at or after `since`.
pub fn count_since(history: &Json, since: DateTime<Utc>) -> u32 {
    history
        .as_array()
        .map(|races| {
            races
                .iter()
                .filter_map(|r| r["StartDateTime"].as_str().and_then(parse_time))
                .filter(|t| *t >= since)
                .count() as u32
        })
        .unwrap_or(0)
}

impl Ladder {
    /// The client, or `None` when no URL is configured.
    ///
    /// Errors: the HTTP client cannot be built.
    pub fn new(settings: &LadderSettings) -> Result<Option<Self>, LadderError> {
        if settings.url.trim().is_empty() {
            return Ok(None);
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .build()
            .map_err(|e| LadderError(e.to_string()))?;
        Ok(Some(Self {
            http,
            url: settings.url.trim_end_matches('/').to_owned(),
            archive_url: Some(settings.archive_url.trim_end_matches('/').to_owned())
                .filter(|u| !u.is_empty()),
        }))
    }

    async fn get(&self, url: String) -> Result<Json, LadderError> {
        self.http
            .get(&url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| LadderError(e.to_string()))?
            .json()
            .await
            .map_err(|e| LadderError(e.to_string()))
    }

    /// Ladder races of the member (Discord `username`, id `discord_id`) since `since`.
    ///
    /// Errors: the ladder (or its archive) is unreachable or answers something else.
    pub async fn count(
        &self,
        discord_id: u64,
        username: &str,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u32, LadderError> {
        let mut count = 0;
        let racers = self
            .get(format!("{}/api/v1/PublicAPI/GetActiveRacers", self.url))
            .await?;
        let guid = racers.as_array().and_then(|list| {
            list.iter()
                .find(|r| {
                    r["DiscordName"]
                        .as_str()
                        .is_some_and(|n| n.eq_ignore_ascii_case(username))
                })
                .and_then(|r| r["RacerGUID"].as_str().map(str::to_owned))
        });
        if let Some(guid) = guid {
            let history = self
                .get(format!(
                    "{}/api/v1/PublicAPI/GetRacerHistory?RacerGUID={guid}&flag_id=0",
                    self.url
                ))
                .await?;
            count += count_since(&history, since);
        }
        if let Some(archive) = &self.archive_url {
            let totals = self
                .get(format!(
                    "{archive}/api/v1/PublicAPI/GetRacerRaceHistory?discordid={discord_id}&startdt={}&enddt={}",
                    since.format("%m%d%Y"),
                    now.format("%m%d%Y")
                ))
                .await?;
            count += totals["TotalCount"]
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(0);
        }
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_is_counted_within_the_period() {
        let since = parse_time("2026-06-01T00:00:00Z").unwrap();
        let history = serde_json::json!([
            {"StartDateTime": "2026-07-01T20:00:00"},
            {"StartDateTime": "2026-05-31T23:59:59"},
            {"StartDateTime": "2026-06-01T00:00:00.000"},
            {"StartDateTime": "not a date"},
        ]);
        assert_eq!(count_since(&history, since), 2);
        assert_eq!(count_since(&serde_json::json!({"error": 1}), since), 0);
    }
}
