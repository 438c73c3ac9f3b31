//! A tournament's typed configuration: the race room profile (spec §1.5.2's room kwargs, with
//! sahabot2's per-tournament profile) and the seed roller (spec §1.8). Stored as JSON in the
//! `tournaments` row; validated when an organizer saves it.

use serde::{Deserialize, Serialize};

/// The race room a match gets. Defaults are upstream's (spec §1.5.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RoomProfile {
    /// Only invited entrants may join without a request.
    pub invitational: bool,
    /// Not listed on the category page.
    pub unlisted: bool,
    /// Seconds of countdown (10–60 on racetime.gg).
    pub start_delay_seconds: u32,
    /// Hours until the race times out.
    pub time_limit_hours: u32,
    /// Entrants must stream.
    pub streaming_required: bool,
    /// Starts when everyone is ready.
    pub auto_start: bool,
    /// Comments allowed after finishing.
    pub allow_comments: bool,
    /// Comments hidden until the race ends.
    pub hide_comments: bool,
    /// Chat before the race.
    pub allow_prerace_chat: bool,
    /// Chat during the race.
    pub allow_midrace_chat: bool,
    /// Non-entrants may chat.
    pub allow_non_entrant_chat: bool,
    /// Seconds chat is held back.
    pub chat_message_delay_seconds: u32,
    /// A team race (co-op).
    pub team_race: bool,
}

impl Default for RoomProfile {
    fn default() -> Self {
        Self {
            invitational: true,
            unlisted: false,
            start_delay_seconds: 15,
            time_limit_hours: 24,
            streaming_required: true,
            auto_start: true,
            allow_comments: true,
            hide_comments: true,
            allow_prerace_chat: true,
            allow_midrace_chat: true,
            allow_non_entrant_chat: false,
            chat_message_delay_seconds: 0,
            team_race: false,
        }
    }
}

impl RoomProfile {
    /// Checks the values racetime.gg would refuse.
    ///
    /// Errors: a message naming the field.
    pub fn validate(&self) -> Result<(), String> {
        if !(10..=60).contains(&self.start_delay_seconds) {
            return Err("room_profile.start_delay_seconds must be 10–60".into());
        }
        if !(1..=72).contains(&self.time_limit_hours) {
            return Err("room_profile.time_limit_hours must be 1–72".into());
        }
        if self.chat_message_delay_seconds > 90 {
            return Err("room_profile.chat_message_delay_seconds must be at most 90".into());
        }
        Ok(())
    }
}

/// How a tournament's seeds are rolled at `!tournamentrace` (spec §1.8).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum SeedRoller {
    /// No seed (dailies: rolled with the ordinary room commands).
    #[default]
    None,
    /// One preset for every match.
    Preset {
        /// The randomizer (`alttpr`, `smz3`, ...).
        randomizer: String,
        /// The preset (`name` or `namespace/name`).
        preset: String,
        /// alttpr.com branch.
        #[serde(default)]
        branch: Option<String>,
        /// Allow quickswap (tournament seeds usually do).
        #[serde(default = "yes")]
        allow_quickswap: bool,
        /// Hints.
        #[serde(default)]
        hints: bool,
        /// ALTTPR: the triforce text pool whose approved texts go into the seeds' credits.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        triforce_text_pool: Option<String>,
    },
    /// A preset chosen by the match title: the part after the last `:` (spec §1.3, "Round 3:
    /// Boss Shuffle" → "Boss Shuffle"), looked up in `map`.
    TitleMap {
        /// The randomizer.
        randomizer: String,
        /// Title key → preset.
        map: std::collections::BTreeMap<String, String>,
        /// When the title has no known key; none: the roll is refused with a message.
        #[serde(default)]
        default: Option<String>,
        /// ALTTPR: the triforce text pool whose approved texts go into the seeds' credits.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        triforce_text_pool: Option<String>,
    },
}

fn yes() -> bool {
    true
}

impl SeedRoller {
    /// The triforce text pool of the seeds, if the roller names one.
    pub fn triforce_text_pool(&self) -> Option<&str> {
        match self {
            Self::None => None,
            Self::Preset {
                triforce_text_pool, ..
            }
            | Self::TitleMap {
                triforce_text_pool, ..
            } => triforce_text_pool.as_deref(),
        }
    }

    /// The preset for a match titled `title`.
    ///
    /// Errors: a title-map roller without a key for the title and without a default
    /// ("Invalid mode chosen…", as upstream).
    pub fn preset_for(&self, title: &str) -> Result<Option<(String, String)>, String> {
        match self {
            Self::None => Ok(None),
            Self::Preset {
                randomizer, preset, ..
            } => Ok(Some((randomizer.clone(), preset.clone()))),
            Self::TitleMap {
                randomizer,
                map,
                default,
                ..
            } => {
                let key = title.rsplit(':').next().unwrap_or_default().trim();
                match map.get(key).or(default.as_ref()) {
                    Some(preset) => Ok(Some((randomizer.clone(), preset.clone()))),
                    None => Err(format!(
                        "Invalid mode chosen, `{key}`. Please contact a Tournament moderator for assistance."
                    )),
                }
            }
        }
    }

    /// Checks the configuration.
    ///
    /// Errors: a message naming the problem.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            Self::None => Ok(()),
            Self::Preset {
                randomizer, preset, ..
            } if randomizer.trim().is_empty() || preset.trim().is_empty() => {
                Err("seed_roller: `randomizer` and `preset` are required".into())
            }
            Self::TitleMap { map, default, .. } if map.is_empty() && default.is_none() => {
                Err("seed_roller: a title map needs at least one entry or a default".into())
            }
            _ => Ok(()),
        }
    }
}

/// An open race series (spec §1.5.5 and §1.5.2's daily and qualifier variants): a room anyone
/// may join, a race info line and an announcement naming the start and the seed time, no
/// player DMs or welcome. Absent: a match between players.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OpenRace {
    /// The series in the info line and the announcement ("SpeedGaming Daily Race Series").
    pub series: String,
    /// What happens at the seed time ("Seed Distributed", "Seed Distributed and Room Locked");
    /// none: the info line and announcement name no seed time (the SMZ3 weekly).
    pub seed_label: Option<String>,
    /// Minutes before the start the seed is distributed (upstream: 10).
    pub seed_minutes_before: u32,
    /// Put before the announcement, e.g. a role mention `<@&449260882501959700> `.
    pub announce_prefix: String,
    /// A Discord webhook the announcement also goes to (upstream's SpeedGaming webhook); sent
    /// with the username "SahasrahBot".
    pub webhook_url: Option<String>,
    /// A title containing this (case-insensitive, e.g. "co-op") makes the room a team race.
    pub team_race_title: Option<String>,
}

impl OpenRace {
    /// Checks the configuration.
    ///
    /// Errors: a message naming the field.
    pub fn validate(&self) -> Result<(), String> {
        if self.series.trim().is_empty() || self.series.chars().count() > 100 {
            return Err("open_race.series: 1–100 characters".into());
        }
        if self.seed_minutes_before > 120 {
            return Err("open_race.seed_minutes_before: at most 120".into());
        }
        if let Some(url) = &self.webhook_url {
            match url::Url::parse(url) {
                Ok(u) if u.scheme() == "https" || u.scheme() == "http" => {}
                _ => return Err("open_race.webhook_url: an http(s) Discord webhook URL".into()),
            }
        }
        Ok(())
    }

    /// Whether a match titled `title` is a team race.
    pub fn team_race(&self, title: &str) -> bool {
        self.team_race_title
            .as_deref()
            .is_some_and(|t| !t.is_empty() && title.to_lowercase().contains(&t.to_lowercase()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_title_map_takes_the_part_after_the_colon() {
        let roller = SeedRoller::TitleMap {
            randomizer: "alttpr".into(),
            map: [("Boss Shuffle".to_owned(), "bossshuffle".to_owned())].into(),
            default: None,
            triforce_text_pool: Some("alttpr2024".into()),
        };
        assert_eq!(roller.triforce_text_pool(), Some("alttpr2024"));
        assert_eq!(
            roller.preset_for("Round 3: Boss Shuffle").unwrap(),
            Some(("alttpr".into(), "bossshuffle".into()))
        );
        let error = roller.preset_for("Round 3: Keysanity").unwrap_err();
        assert!(error.starts_with("Invalid mode chosen"), "{error}");
    }

    #[test]
    fn profiles_default_to_upstreams_room_and_refuse_what_racetime_would() {
        let profile: RoomProfile = serde_json::from_str("{}").unwrap();
        assert_eq!(profile, RoomProfile::default());
        assert!(profile.invitational && profile.streaming_required && profile.auto_start);
        assert_eq!(profile.start_delay_seconds, 15);
        let bad: RoomProfile = serde_json::from_str(r#"{"start_delay_seconds": 5}"#).unwrap();
        assert!(bad.validate().is_err());
        assert!(serde_json::from_str::<RoomProfile>(r#"{"typo": 1}"#).is_err());
    }

    #[test]
    fn rollers_are_tagged_json() {
        let roller: SeedRoller =
            serde_json::from_str(r#"{"kind": "preset", "randomizer": "alttpr", "preset": "open"}"#)
                .unwrap();
        assert!(matches!(
            roller,
            SeedRoller::Preset {
                allow_quickswap: true,
                ..
            }
        ));
        assert!(serde_json::from_str::<SeedRoller>(r#"{"kind": "dice"}"#).is_err());
    }
}
