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
    /// Anyone may join.
    Open,
    /// Only invitees may join.
    Invitational,
    /// Counting down to the start.
    Pending,
    /// Running.
    InProgress,
    /// Completed.
    Finished,
    /// Cancelled.
    Cancelled,
    /// Split into separate 1v1 races.
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
    /// Declined an invitation.
    Declined,
    /// Moved to a partition race.
    Partitioned,
    /// Did not finish (forfeit).
    Dnf,
    /// Disqualified.
    Dq,
    /// Finished.
    Done,
    /// Racing.
    InProgress,
    /// Ready to start.
    Ready,
    /// Joined, not ready.
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
    /// Hashid of the user.
    pub id: String,
    /// `name#discriminator`, or the name.
    pub full_name: String,
    /// Display name.
    pub name: String,
    /// Discriminator, for names that are not unique.
    pub discriminator: Option<String>,
    /// Profile path.
    pub url: Option<String>,
    /// Twitch login.
    pub twitch_name: Option<String>,
    /// Twitch channel URL.
    pub twitch_channel: Option<String>,
    /// Can moderate the race's category.
    pub can_moderate: bool,
}

/// An entrant's team (team races only).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(default)]
pub struct Team {
    /// Team name.
    pub name: String,
    /// Team slug.
    pub slug: String,
}

/// One entrant of a race, in the server's order (finished by place, then ready/in progress,
/// not ready, invited, requested, DNF, DQ).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct Entrant {
    /// `None` for a deleted account.
    pub user: Option<User>,
    /// The entrant's team (team races).
    pub team: Option<Team>,
    /// Where the entrant is in the race.
    pub status: EntrantStatus,
    /// Django duration string, e.g. `P0DT01H02M03.456789S`.
    pub finish_time: Option<String>,
    /// When they finished.
    pub finished_at: Option<DateTime<Utc>>,
    /// Finishing place.
    pub place: Option<u32>,
    /// Their post-race comment.
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
    /// Goal name.
    pub name: String,
    /// A custom goal (not one of the category's).
    pub custom: bool,
}

/// `Race.as_dict`: the body of `GET /{category}/{race}/data` and of websocket `race.data`.
/// Durations stay Django duration strings (see [`crate::duration`]).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct RaceData {
    /// Increases with every change of the race.
    pub version: u32,
    /// `{category}/{slug}`.
    pub name: String,
    /// Room slug, e.g. `witty-zelda-1016`.
    pub slug: String,
    /// The race status.
    pub status: Option<RaceStatus>,
    /// Room path, `/{category}/{slug}`.
    pub url: String,
    /// Path of this JSON.
    pub data_url: String,
    /// Path of the bot websocket.
    pub websocket_bot_url: String,
    /// The goal.
    pub goal: Goal,
    /// Combined info line (user info, then bot info).
    pub info: Option<String>,
    /// The info set by bots.
    pub info_bot: Option<String>,
    /// The info set by people.
    pub info_user: Option<String>,
    /// A team race.
    pub team_race: bool,
    /// Entrants racing (requests and invitations excluded).
    pub entrants_count: u32,
    /// Entrants finished.
    pub entrants_count_finished: u32,
    /// Entrants out (DNF, DQ).
    pub entrants_count_inactive: u32,
    /// Every entrant, in the server's order.
    pub entrants: Vec<Entrant>,
    /// When the room opened.
    pub opened_at: Option<DateTime<Utc>>,
    /// Countdown before the start (ISO 8601 duration).
    pub start_delay: Option<String>,
    /// When the race started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended.
    pub ended_at: Option<DateTime<Utc>>,
    /// When it was cancelled.
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Counts for ratings.
    pub ranked: bool,
    /// Not listed on the category page.
    pub unlisted: bool,
    /// Time limit (ISO 8601 duration).
    pub time_limit: Option<String>,
    /// Finish everyone still racing at the time limit.
    pub time_limit_auto_complete: bool,
    /// Teams must be even to start.
    pub require_even_teams: bool,
    /// Entrants must stream.
    pub streaming_required: bool,
    /// Start once everyone is ready.
    pub auto_start: bool,
    /// Who opened the room.
    pub opened_by: Option<User>,
    /// The bot that opened the room, if one did.
    pub opened_by_bot: Option<String>,
    /// The race monitors.
    pub monitors: Vec<User>,
    /// Can be recorded.
    pub recordable: bool,
    /// Recorded (chat is closed).
    pub recorded: bool,
    /// Entrants may comment.
    pub allow_comments: bool,
    /// Comments hidden until the race ends.
    pub hide_comments: bool,
    /// Entrants anonymised.
    pub hide_entrants: bool,
    /// Chat allowed before the start.
    pub allow_prerace_chat: bool,
    /// Chat allowed during the race.
    pub allow_midrace_chat: bool,
    /// Non-entrants may chat.
    pub allow_non_entrant_chat: bool,
    /// Delay before chat lines show (ISO 8601 duration).
    pub chat_message_delay: Option<String>,
    /// Data bots attached to the race.
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
    /// `{category}/{slug}`.
    pub name: String,
    /// The race status.
    pub status: Option<RaceStatus>,
    /// Room path.
    pub url: String,
    /// Path of the race data.
    pub data_url: String,
    /// The goal.
    pub goal: Goal,
    /// Info line.
    pub info: Option<String>,
    /// Entrants racing.
    pub entrants_count: u32,
    /// The bot that opened the room, if one did.
    pub opened_by_bot: Option<String>,
}

/// `GET /o/{category}/data` (includes unlisted races) and `GET /{category}/data`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct CategoryData {
    /// Category name.
    pub name: String,
    /// Short name.
    pub short_name: String,
    /// Slug.
    pub slug: String,
    /// Active goal names.
    pub goals: Vec<String>,
    /// Races not yet over.
    pub current_races: Vec<RaceSummary>,
    /// Category moderators.
    pub moderators: Vec<User>,
    /// Category owners.
    pub owners: Vec<User>,
}

/// `user_minimal`, used in DMs.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(default)]
pub struct UserMinimal {
    /// Hashid of the user.
    pub id: String,
    /// `name#discriminator`, or the name.
    pub full_name: String,
    /// Display name.
    pub name: String,
}

/// `Message.as_dict`: a chat line (user, bot or system).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct ChatMessage {
    /// Message id.
    pub id: String,
    /// The sender, for user messages.
    pub user: Option<User>,
    /// The bot name, for bot messages.
    pub bot: Option<String>,
    /// Recipient of a direct message.
    pub direct_to: Option<UserMinimal>,
    /// When it was posted.
    pub posted_at: Option<DateTime<Utc>>,
    /// The text (HTML-safe).
    pub message: String,
    /// The text without markup.
    pub message_plain: String,
    /// Highlighted.
    pub highlight: bool,
    /// A direct message.
    pub is_dm: bool,
    /// Posted by a bot.
    pub is_bot: bool,
    /// Computed by the server (moderator, room opener or appointed monitor); `null` for bot
    /// and system messages, read as false.
    #[serde(deserialize_with = "null_as_false")]
    pub is_monitor: bool,
    /// A system message.
    pub is_system: bool,
    /// Pinned.
    pub is_pinned: bool,
    /// Seconds it was held back.
    pub delay: u32,
    /// Action buttons attached.
    pub actions: Json,
}

fn null_as_false<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    Ok(Option::<bool>::deserialize(deserializer)?.unwrap_or(false))
}

/// A `chat.dm` notice: bots get only the message id, never the content.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct DirectMessageNotice {
    /// The DM's message id.
    pub message: String,
    /// The sending user.
    pub from_user: Option<UserMinimal>,
    /// The sending bot.
    pub from_bot: Option<String>,
    /// The recipient.
    pub to: Option<UserMinimal>,
}

/// A server → bot websocket frame (`{"type": ..., "date": ..., ...}`). Types this client does
/// not model (`race.renders`, `race.split`, future ones) arrive as [`ServerMessage::Other`].
#[derive(Clone, Debug, PartialEq)]
pub enum ServerMessage {
    /// `race.data`: the race changed.
    RaceData(Box<RaceData>),
    /// `chat.message`.
    ChatMessage(Box<ChatMessage>),
    /// `chat.history`: recent messages on connect.
    ChatHistory(Vec<ChatMessage>),
    /// `chat.dm`.
    ChatDm(DirectMessageNotice),
    /// `chat.pin`.
    ChatPin(Box<ChatMessage>),
    /// `chat.unpin`.
    ChatUnpin(Box<ChatMessage>),
    /// `error`: sent only to the connection whose action failed.
    Error(Vec<String>),
    /// `pong`, the answer to a ping.
    Pong,
    /// Any other type.
    Other {
        /// Its `type` value.
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
