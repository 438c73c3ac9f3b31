//! The full field set of `startrace` and `edit` (racetime-app `forms.py`
//! `OAuthRaceCreationForm`, `OAuthRaceEditForm`, `StartedRaceEditForm`). Omitted fields take
//! *model* defaults on the server, so every form here always carries every field, and booleans
//! are `"true"`/`"false"` (Django reads any other non-empty string, even `"0"`, as true).

use serde::{Deserialize, Serialize};

use crate::duration;
use crate::model::RaceData;

/// A room's settings. Defaults equal racetime.gg's `Race()` model defaults.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RaceSettings {
    /// An active goal of the category; when empty, `custom_goal` is used.
    pub goal: String,
    /// A custom goal name (instead of `goal`).
    pub custom_goal: String,
    /// A team race.
    pub team_race: bool,
    /// Invitational.
    pub invitational: bool,
    /// Unlisted.
    pub unlisted: bool,
    /// May be partitioned into 1v1 races.
    pub partitionable: bool,
    /// Entrants anonymised.
    pub hide_entrants: bool,
    /// Counts for ratings.
    pub ranked: bool,
    /// The user info line.
    pub info_user: String,
    /// The bot info line.
    pub info_bot: String,
    /// Teams must be even to start.
    pub require_even_teams: bool,
    /// Seconds, 10..=60.
    pub start_delay: u32,
    /// Hours, 1..=72.
    pub time_limit: u32,
    /// Finish everyone still racing at the time limit.
    pub time_limit_auto_complete: bool,
    /// Entrants must stream.
    pub streaming_required: bool,
    /// Start once everyone is ready.
    pub auto_start: bool,
    /// Entrants may comment.
    pub allow_comments: bool,
    /// Comments hidden until the race ends.
    pub hide_comments: bool,
    /// Chat allowed before the start.
    pub allow_prerace_chat: bool,
    /// Chat allowed during the race.
    pub allow_midrace_chat: bool,
    /// Non-entrants may chat.
    pub allow_non_entrant_chat: bool,
    /// Seconds, 0..=90.
    pub chat_message_delay: u32,
}

impl Default for RaceSettings {
    fn default() -> Self {
        Self {
            goal: String::new(),
            custom_goal: String::new(),
            team_race: false,
            invitational: false,
            unlisted: false,
            partitionable: false,
            hide_entrants: false,
            ranked: true,
            info_user: String::new(),
            info_bot: String::new(),
            require_even_teams: false,
            start_delay: 15,
            time_limit: 24,
            time_limit_auto_complete: false,
            streaming_required: true,
            auto_start: true,
            allow_comments: true,
            hide_comments: false,
            allow_prerace_chat: true,
            allow_midrace_chat: true,
            allow_non_entrant_chat: true,
            chat_message_delay: 0,
        }
    }
}

fn flag(value: bool) -> String {
    if value { "true" } else { "false" }.to_string()
}

impl RaceSettings {
    /// Checks the ranges and cross-field rules the server enforces, with its wording, so a bad
    /// request is refused before anything is created.
    pub fn validate(&self) -> Result<(), Vec<String>> {
        let mut errors = Vec::new();
        match (
            self.goal.trim().is_empty(),
            self.custom_goal.trim().is_empty(),
        ) {
            (true, true) => errors.push("You need to set a goal for this race.".to_string()),
            (false, false) => errors.push("The race must only have one goal.".to_string()),
            _ => {}
        }
        if !(10..=60).contains(&self.start_delay) {
            errors.push("start_delay: must be between 10 and 60 seconds.".into());
        }
        if !(1..=72).contains(&self.time_limit) {
            errors.push("time_limit: must be between 1 and 72 hours.".into());
        }
        if self.chat_message_delay > 90 {
            errors.push("chat_message_delay: must be between 0 and 90 seconds.".into());
        }
        if self.custom_goal.chars().count() > 255 {
            errors.push("custom_goal: Ensure this value has at most 255 characters.".into());
        }
        for (field, value) in [("info_user", &self.info_user), ("info_bot", &self.info_bot)] {
            if value.chars().count() > 1000 {
                errors.push(format!(
                    "{field}: Ensure this value has at most 1000 characters."
                ));
            }
        }
        if self.team_race && self.hide_entrants {
            errors.push("Team races are not compatible with hidden entrants.".into());
        }
        if self.team_race && self.partitionable {
            errors.push("Team races are not compatible with 1v1 ladder races.".into());
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// The current settings of a room, for an edit that changes only what the caller changes.
    pub fn from_race(race: &RaceData) -> Self {
        let seconds = |d: &Option<String>, default: u32| {
            d.as_deref()
                .and_then(|d| duration::parse(d).ok())
                .map_or(default, |d| d.as_secs() as u32)
        };
        Self {
            goal: if race.goal.custom {
                String::new()
            } else {
                race.goal.name.clone()
            },
            custom_goal: if race.goal.custom {
                race.goal.name.clone()
            } else {
                String::new()
            },
            team_race: race.team_race,
            invitational: race.status() == crate::model::RaceStatus::Invitational,
            unlisted: race.unlisted,
            partitionable: false,
            hide_entrants: race.hide_entrants,
            ranked: race.ranked,
            info_user: race.info_user.clone().unwrap_or_default(),
            info_bot: race.info_bot.clone().unwrap_or_default(),
            require_even_teams: race.require_even_teams,
            start_delay: seconds(&race.start_delay, 15),
            time_limit: seconds(&race.time_limit, 24 * 3600) / 3600,
            time_limit_auto_complete: race.time_limit_auto_complete,
            streaming_required: race.streaming_required,
            auto_start: race.auto_start,
            allow_comments: race.allow_comments,
            hide_comments: race.hide_comments,
            allow_prerace_chat: race.allow_prerace_chat,
            allow_midrace_chat: race.allow_midrace_chat,
            allow_non_entrant_chat: race.allow_non_entrant_chat,
            chat_message_delay: seconds(&race.chat_message_delay, 0),
        }
    }

    fn common_fields(&self) -> Vec<(&'static str, String)> {
        vec![
            ("goal", self.goal.clone()),
            ("custom_goal", self.custom_goal.clone()),
            ("ranked", flag(self.ranked)),
            ("unlisted", flag(self.unlisted)),
            ("info_user", self.info_user.clone()),
            ("info_bot", self.info_bot.clone()),
            ("start_delay", self.start_delay.to_string()),
            ("time_limit", self.time_limit.to_string()),
            (
                "time_limit_auto_complete",
                flag(self.time_limit_auto_complete),
            ),
            ("streaming_required", flag(self.streaming_required)),
            ("auto_start", flag(self.auto_start)),
            ("allow_comments", flag(self.allow_comments)),
            ("hide_comments", flag(self.hide_comments)),
            ("allow_prerace_chat", flag(self.allow_prerace_chat)),
            ("allow_midrace_chat", flag(self.allow_midrace_chat)),
            ("allow_non_entrant_chat", flag(self.allow_non_entrant_chat)),
            ("chat_message_delay", self.chat_message_delay.to_string()),
            ("require_even_teams", flag(self.require_even_teams)),
        ]
    }

    /// `startrace` form: every field.
    pub fn start_form(&self) -> Vec<(&'static str, String)> {
        let mut form = self.common_fields();
        form.extend([
            ("team_race", flag(self.team_race)),
            ("invitational", flag(self.invitational)),
            ("partitionable", flag(self.partitionable)),
            ("hide_entrants", flag(self.hide_entrants)),
        ]);
        form
    }

    /// `edit` form while the room is open or invitational: every editable field, including
    /// `info_bot` and `ranked` (an edit without them resets them on the server).
    pub fn edit_form(&self) -> Vec<(&'static str, String)> {
        let mut form = self.common_fields();
        if self.hide_entrants {
            form.retain(|(k, _)| !k.starts_with("allow_") || *k == "allow_comments");
        }
        form
    }

    /// `edit` form once the race has started (`StartedRaceEditForm`).
    pub fn started_edit_form(&self) -> Vec<(&'static str, String)> {
        vec![
            ("unlisted", flag(self.unlisted)),
            ("info_user", self.info_user.clone()),
            ("allow_comments", flag(self.allow_comments)),
            ("hide_comments", flag(self.hide_comments)),
            ("allow_midrace_chat", flag(self.allow_midrace_chat)),
            ("allow_non_entrant_chat", flag(self.allow_non_entrant_chat)),
            ("chat_message_delay", self.chat_message_delay.to_string()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_model_defaults_and_booleans_are_words() {
        let settings = RaceSettings {
            goal: "Beat the game".into(),
            ..RaceSettings::default()
        };
        assert!(settings.validate().is_ok());
        let form = settings.start_form();
        let get = |k: &str| {
            form.iter()
                .find(|(f, _)| *f == k)
                .map(|(_, v)| v.clone())
                .unwrap()
        };
        assert_eq!(get("streaming_required"), "true");
        assert_eq!(get("ranked"), "true");
        assert_eq!(get("invitational"), "false");
        assert_eq!(get("start_delay"), "15");
        assert_eq!(get("time_limit"), "24");
        assert!(form.iter().all(|(_, v)| v != "True" && v != "False"));
    }

    #[test]
    fn validation_catches_what_the_server_would_refuse() {
        let bad = RaceSettings {
            start_delay: 5,
            team_race: true,
            hide_entrants: true,
            ..RaceSettings::default()
        };
        let errors = bad.validate().unwrap_err();
        assert!(errors.contains(&"You need to set a goal for this race.".to_string()));
        assert!(errors.iter().any(|e| e.starts_with("start_delay")));
        assert!(
            errors.contains(&"Team races are not compatible with hidden entrants.".to_string())
        );
        let both = RaceSettings {
            goal: "a".into(),
            custom_goal: "b".into(),
            ..RaceSettings::default()
        };
        assert_eq!(
            both.validate().unwrap_err(),
            vec!["The race must only have one goal.".to_string()]
        );
    }

    #[test]
    fn an_edit_keeps_the_current_room_settings() {
        let race: RaceData = serde_json::from_value(serde_json::json!({
            "name": "alttpr/a-b-1", "status": {"value": "open"}, "goal": {"name": "Beat the game", "custom": false},
            "info_bot": "open - https://alttpr.com/h/x", "info_user": "hello", "ranked": false,
            "start_delay": "P0DT00H00M10S", "time_limit": "P1DT00H00M00S", "chat_message_delay": "P0DT00H00M00S",
            "streaming_required": false, "auto_start": true, "allow_comments": true, "hide_comments": false,
            "allow_prerace_chat": true, "allow_midrace_chat": true, "allow_non_entrant_chat": true
        })).unwrap();
        let mut settings = RaceSettings::from_race(&race);
        settings.hide_comments = true;
        let form = settings.edit_form();
        let get = |k: &str| {
            form.iter()
                .find(|(f, _)| *f == k)
                .map(|(_, v)| v.clone())
                .unwrap()
        };
        assert_eq!(get("info_bot"), "open - https://alttpr.com/h/x");
        assert_eq!(get("ranked"), "false");
        assert_eq!(get("streaming_required"), "false");
        assert_eq!(get("start_delay"), "10");
        assert_eq!(get("time_limit"), "24");
        assert_eq!(get("hide_comments"), "true");
    }
}
