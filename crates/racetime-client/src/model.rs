//! Typed racetime.gg JSON: category data, race data, entrants, users, chat messages and the
//! server → bot websocket messages (racetime-app `Race.as_dict`, `Message.as_dict`,
//! `consumers.py`). Every struct tolerates unknown fields and every enum an unknown value, so a
//! server upgrade never kills a room handler.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value as Json;
use std::time::Duration;

use crate::duration;

/// A race room's status (`status.value`), including `partitioned` (1v1 ladder parents).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RaceStatus {
    Open,
    Invitational,
    Pending,
    InProgress,
    Finished,
    Cancelled,
    Partitioned,
    /// A value this client does not know; kept verbatim.
    Other(String),
}

impl RaceStatus {
    /// The wire value, e.g. `in_progress`.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Open => "open",
            Self::Invitational => "invitational",
            Self::Pending => "pending",
            Self::InProgress => "in_progress",
            Self::Finished => "finished",
            Self::Cancelled => "cancelled",
            Self::Partitioned => "partitioned",
            Self::Other(other) => other,
        }
    }

    /// Parses a wire value; unknown values become [`RaceStatus::Other`].
    pub fn parse(value: &str) -> Self {
        match value {
            "open" => Self::Open,
            "invitational" => Self::Invitational,
            "pending" => Self::Pending,
            "in_progress" => Self::InProgress,
            "finished" => Self::Finished,
            "cancelled" => Self::Cancelled,
            "partitioned" => Self::Partitioned,
            other => Self::Other(other.to_string()),
        }
    }

    /// `finished`, `cancelled` or `partitioned`: nothing more happens unless an entrant undoes
    /// a finish within 10 minutes (racetime.gg "unfinish").
    pub fn is_terminal(&self) -> bool {
        matches!(self, Self::Finished | Self::Cancelled | Self::Partitioned)
    }

    /// `open` or `invitational`: the room still accepts entrants and seed rolls.
    pub fn is_preparing(&self) -> bool {
        matches!(self, Self::Open | Self::Invitational)
    }
}

impl std::fmt::Display for RaceStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Deserialize)]
struct StatusObject {
    value: String,
}

impl<'de> Deserialize<'de> for RaceStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Self::parse(&StatusObject::deserialize(deserializer)?.value))
    }
}

impl Serialize for RaceStatus {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serde_json::json!({ "value": self.as_str() }).serialize(serializer)
    }
}

/// An entrant's status (racetime.gg `Entrant.summary`, specs/racetime.md §1).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum EntrantStatus {
    /// Asked to join an invitational room.
    Requested,
    /// Invited by a monitor, not yet accepted.
    Invited,
    Declined,
    Partitioned,
    Dnf,
    Dq,
    /// Finished.
    Done,
    InProgress,
    Ready,
    #[default]
    NotReady,
    /// A value this client does not know; kept verbatim.
    Other(String),
}

impl EntrantStatus {
    /// The wire value, e.g. `not_ready`.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Requested => "requested",
            Self::Invited => "invited",
            Self::Declined => "declined",
            Self::Partitioned => "partitioned",
            Self::Dnf => "dnf",
            Self::Dq => "dq",
            Self::Done => "done",
            Self::InProgress => "in_progress",
            Self::Ready => "ready",
            Self::NotReady => "not_ready",
            Self::Other(other) => other,
        }
    }

    /// Parses a wire value; unknown values become [`EntrantStatus::Other`].
    pub fn parse(value: &str) -> Self {
        match value {
            "requested" => Self::Requested,
            "invited" => Self::Invited,
            "declined" => Self::Declined,
            "partitioned" => Self::Partitioned,
            "dnf" => Self::Dnf,
            "dq" => Self::Dq,
            "done" => Self::Done,
            "in_progress" => Self::InProgress,
            "ready" => Self::Ready,
            "not_ready" => Self::NotReady,
            other => Self::Other(other.to_owned()),
        }
    }

    /// Whether the entrant takes part in the race (not a pending request or invitation).
    pub fn is_racing(&self) -> bool {
        matches!(
            self,
            Self::Ready | Self::NotReady | Self::InProgress | Self::Done | Self::Dnf | Self::Dq
        )
    }
}

impl Serialize for EntrantStatus {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serde_json::json!({ "value": self.as_str() }).serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for EntrantStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Self::parse(&StatusObject::deserialize(deserializer)?.value))
    }
}

/// `User.api_dict_summary`. For anonymised (hide_entrants) rooms `id` is `""`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(default)]
pub struct User {
    pub id: String,
    pub full_name: String,
    pub name: String,
    pub discriminator: Option<String>,
    pub url: Option<String>,
    pub twitch_name: Option<String>,
    pub twitch_channel: Option<String>,
    pub can_moderate: bool,
}

/// An entrant's team (team races only).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(default)]
pub struct Team {
    pub name: String,
    pub slug: String,
}

/// One entrant of a race, in the server's order (finished by place, then ready/in progress,
/// not ready, invited, requested, DNF, DQ).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct Entrant {
    /// `None` for a deleted account.
    pub user: Option<User>,
    pub team: Option<Team>,
    pub status: EntrantStatus,
    /// Django duration string, e.g. `P0DT01H02M03.456789S`.
    pub finish_time: Option<String>,
    pub finished_at: Option<DateTime<Utc>>,
    pub place: Option<u32>,
    pub comment: Option<String>,
}

impl Entrant {
    /// The user id, unless the entrant is anonymised (`""`) or deleted.
    pub fn user_id(&self) -> Option<&str> {
        self.user
            .as_ref()
            .map(|u| u.id.as_str())
            .filter(|id| !id.is_empty())
    }

    /// Parsed finish time.
    pub fn finish_duration(&self) -> Option<Duration> {
        self.finish_time
            .as_deref()
            .and_then(|t| duration::parse(t).ok())
    }
}

/// The race goal.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(default)]
pub struct Goal {
    pub name: String,
    pub custom: bool,
}

/// `Race.as_dict`: the body of `GET /{category}/{race}/data` and of websocket `race.data`.
/// Durations stay Django duration strings (see [`crate::duration`]).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct RaceData {
    pub version: u32,
    /// `{category}/{slug}`.
    pub name: String,
    pub slug: String,
    pub status: Option<RaceStatus>,
    pub url: String,
    pub data_url: String,
    pub websocket_bot_url: String,
    pub goal: Goal,
    pub info: Option<String>,
    pub info_bot: Option<String>,
    pub info_user: Option<String>,
    pub team_race: bool,
    pub entrants_count: u32,
    pub entrants_count_finished: u32,
    pub entrants_count_inactive: u32,
    pub entrants: Vec<Entrant>,
    pub opened_at: Option<DateTime<Utc>>,
    pub start_delay: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub ranked: bool,
    pub unlisted: bool,
    pub time_limit: Option<String>,
    pub time_limit_auto_complete: bool,
    pub require_even_teams: bool,
    pub streaming_required: bool,
    pub auto_start: bool,
    pub opened_by: Option<User>,
    pub opened_by_bot: Option<String>,
    pub monitors: Vec<User>,
    pub recordable: bool,
    pub recorded: bool,
    pub allow_comments: bool,
    pub hide_comments: bool,
    pub hide_entrants: bool,
    pub allow_prerace_chat: bool,
    pub allow_midrace_chat: bool,
    pub allow_non_entrant_chat: bool,
    pub chat_message_delay: Option<String>,
    pub bot_meta: Json,
}

impl RaceData {
    /// The status, `Other("")` when the payload had none.
    pub fn status(&self) -> RaceStatus {
        self.status
            .clone()
            .unwrap_or_else(|| RaceStatus::Other(String::new()))
    }

    /// The category slug: the part of `name` before the `/`.
    pub fn category(&self) -> &str {
        self.name.split_once('/').map_or("", |(c, _)| c)
    }

    /// The entrant with this user id.
    pub fn entrant(&self, user_id: &str) -> Option<&Entrant> {
        self.entrants.iter().find(|e| e.user_id() == Some(user_id))
    }
}

/// `Race.api_dict_summary`, an entry of a category's `current_races`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct RaceSummary {
    pub name: String,
    pub status: Option<RaceStatus>,
    pub url: String,
    pub data_url: String,
    pub goal: Goal,
    pub info: Option<String>,
    pub entrants_count: u32,
    pub opened_by_bot: Option<String>,
}

/// `GET /o/{category}/data` (includes unlisted races) and `GET /{category}/data`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct CategoryData {
    pub name: String,
    pub short_name: String,
    pub slug: String,
    /// Active goal names.
    pub goals: Vec<String>,
    pub current_races: Vec<RaceSummary>,
    pub moderators: Vec<User>,
    pub owners: Vec<User>,
}

/// `user_minimal`, used in DMs.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(default)]
pub struct UserMinimal {
    pub id: String,
    pub full_name: String,
    pub name: String,
}

/// `Message.as_dict`: a chat line (user, bot or system).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct ChatMessage {
    pub id: String,
    pub user: Option<User>,
    pub bot: Option<String>,
    pub direct_to: Option<UserMinimal>,
    pub posted_at: Option<DateTime<Utc>>,
    pub message: String,
    pub message_plain: String,
    pub highlight: bool,
    pub is_dm: bool,
    pub is_bot: bool,
    /// Computed by the server (moderator, room opener or appointed monitor); `null` for bot
    /// and system messages, read as false.
    #[serde(deserialize_with = "null_as_false")]
    pub is_monitor: bool,
    pub is_system: bool,
    pub is_pinned: bool,
    pub delay: u32,
    pub actions: Json,
}

fn null_as_false<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    Ok(Option::<bool>::deserialize(deserializer)?.unwrap_or(false))
}

/// A `chat.dm` notice: bots get only the message id, never the content.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct DirectMessageNotice {
    pub message: String,
    pub from_user: Option<UserMinimal>,
    pub from_bot: Option<String>,
    pub to: Option<UserMinimal>,
}

/// A server → bot websocket frame (`{"type": ..., "date": ..., ...}`). Types this client does
/// not model (`race.renders`, `race.split`, future ones) arrive as [`ServerMessage::Other`].
#[derive(Clone, Debug, PartialEq)]
pub enum ServerMessage {
    RaceData(Box<RaceData>),
    ChatMessage(Box<ChatMessage>),
    ChatHistory(Vec<ChatMessage>),
    ChatDm(DirectMessageNotice),
    ChatPin(Box<ChatMessage>),
    ChatUnpin(Box<ChatMessage>),
    /// `error`: sent only to the connection whose action failed.
    Error(Vec<String>),
    Pong,
    Other {
        kind: String,
    },
}

/// A frame could not be decoded as JSON, or a known type had a malformed payload.
#[derive(Debug, thiserror::Error)]
#[error("undecodable racetime.gg frame: {0}")]
pub struct DecodeError(#[from] serde_json::Error);

impl ServerMessage {
    /// Decodes one text frame.
    pub fn decode(text: &str) -> Result<Self, DecodeError> {
        #[derive(Deserialize)]
        struct Envelope {
            #[serde(rename = "type", default)]
            kind: String,
            #[serde(flatten)]
            rest: serde_json::Map<String, Json>,
        }
        let Envelope { kind, mut rest } = serde_json::from_str(text)?;
        let mut take = |key: &str| rest.remove(key).unwrap_or(Json::Null);
        Ok(match kind.as_str() {
            "race.data" => Self::RaceData(Box::new(serde_json::from_value(take("race"))?)),
            "chat.message" => Self::ChatMessage(Box::new(serde_json::from_value(take("message"))?)),
            "chat.pin" => Self::ChatPin(Box::new(serde_json::from_value(take("message"))?)),
            "chat.unpin" => Self::ChatUnpin(Box::new(serde_json::from_value(take("message"))?)),
            "chat.history" => {
                let messages: Option<Vec<ChatMessage>> = serde_json::from_value(take("messages"))?;
                Self::ChatHistory(messages.unwrap_or_default())
            }
            "chat.dm" => Self::ChatDm(serde_json::from_value(Json::Object(rest))?),
            "error" => {
                let errors: Option<Vec<String>> = serde_json::from_value(take("errors"))?;
                Self::Error(errors.unwrap_or_default())
            }
            "pong" => Self::Pong,
            _ => Self::Other { kind },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_frame_of_the_recorded_session_decodes() {
        let shared = testkit::shared_dir().join("fixtures/racetime/transcript.jsonl");
        let text = std::fs::read_to_string(&shared).unwrap();
        let mut counts = std::collections::BTreeMap::<String, usize>::new();
        for line in text.lines() {
            let record: Json = serde_json::from_str(line).unwrap();
            if record["kind"] != "ws" || record["dir"] != "<-" {
                continue;
            }
            let frame = record["payload"].to_string();
            let message = ServerMessage::decode(&frame).unwrap();
            let key = match &message {
                ServerMessage::RaceData(race) => {
                    assert!(race.name.starts_with("alttpr/"));
                    assert!(race.version >= 1);
                    "race.data".to_string()
                }
                ServerMessage::ChatMessage(m) => {
                    assert!(!m.id.is_empty());
                    "chat.message".to_string()
                }
                ServerMessage::ChatHistory(_) => "chat.history".to_string(),
                ServerMessage::Pong => "pong".to_string(),
                ServerMessage::Other { kind } => kind.clone(),
                other => format!("{other:?}"),
            };
            *counts.entry(key).or_default() += 1;
        }
        assert_eq!(counts.get("race.data"), Some(&23), "{counts:?}");
        assert_eq!(counts.get("race.renders"), Some(&23), "{counts:?}");
        assert!(counts.get("chat.message").copied().unwrap_or(0) >= 20);
        assert_eq!(counts.get("chat.history"), Some(&1));
    }

    #[test]
    fn unknown_types_statuses_and_fields_are_tolerated() {
        let frame = r#"{"type":"race.data","date":"2026-01-01T12:00:00.123456+00:00","race":{"version":3,"name":"alttpr/a-b-1","status":{"value":"partitioned"},"entrants":[{"user":null,"status":{"value":"partitioned"},"new_field":1}],"brand_new":[1,2]}}"#;
        let ServerMessage::RaceData(race) = ServerMessage::decode(frame).unwrap() else {
            panic!("not race data")
        };
        assert_eq!(race.status(), RaceStatus::Partitioned);
        assert!(race.status().is_terminal());
        assert_eq!(race.entrants[0].user_id(), None);
        assert_eq!(race.category(), "alttpr");
        let weird = ServerMessage::decode(r#"{"type":"race.future","x":1}"#).unwrap();
        assert_eq!(
            weird,
            ServerMessage::Other {
                kind: "race.future".into()
            }
        );
        let status = RaceStatus::parse("someday");
        assert_eq!(status.as_str(), "someday");
        assert!(ServerMessage::decode("[1,2]").is_err());
    }

    #[test]
    fn chat_message_null_monitor_flag_reads_false() {
        let frame = r#"{"type":"chat.message","message":{"id":"x","is_monitor":null,"is_system":true,"posted_at":"2026-11-20T21:53:19.458503+00:00","message":"hi"}}"#;
        let ServerMessage::ChatMessage(m) = ServerMessage::decode(frame).unwrap() else {
            panic!()
        };
        assert!(!m.is_monitor);
        assert!(m.posted_at.is_some());
        let error = ServerMessage::decode(r#"{"type":"error","errors":["a","b"]}"#).unwrap();
        assert_eq!(error, ServerMessage::Error(vec!["a".into(), "b".into()]));
    }
}
