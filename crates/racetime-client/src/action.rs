//! Bot → server websocket actions (racetime-app `consumers.py` `OAuthBotRaceConsumer`): always
//! `{"action": name, "data": {...}}` with `data` an object, since `null` crashes the consumer
//! (close 1011) for `message`, `setinfo`, `setmeta` and `gethistory`.

use serde::Serialize;
use serde_json::{Map, Value as Json, json};

/// A message's action button (`actions` values, ≤4 per message). The website reads `help`
/// (not `help_text`); absent fields are omitted rather than sent as `null`.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct ActionButton {
    /// Chat line the clicking user sends; `${name}` is replaced by survey answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// A link button instead of a chat line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Label of the submit button.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub submit: Option<String>,
    /// Tooltip.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// Questions asked before sending.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub survey: Vec<SurveyQuestion>,
}

/// One survey field of an action button.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct SurveyQuestion {
    /// Field name, substituted as `${name}`.
    pub name: String,
    /// Label shown.
    pub label: String,
    /// `input`, `bool`, `radio` or `select`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Prefilled value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<Json>,
    /// Placeholder text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub placeholder: Option<String>,
    /// Help text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// For `radio`/`select`: value → label, in order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options: Option<Map<String, Json>>,
}

/// A chat message to send. `guid` makes retries idempotent: the server silently drops a guid
/// it saw in the last 300 s, so a retry must reuse it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OutgoingMessage {
    /// ≤1000 characters after trimming.
    pub message: String,
    /// Lowercase `[0-9a-z-]+`.
    pub guid: String,
    /// Pin the message.
    pub pinned: bool,
    /// Label → button; ≤4. Dropped by the server for direct messages.
    pub actions: Vec<(String, ActionButton)>,
    /// A user id: the message becomes a DM to that user.
    pub direct_to: Option<String>,
}

/// An action the bot can take in a race room.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// `ping`.
    Ping,
    /// `getrace`: ask for the race data.
    GetRace,
    /// Chat history after the message with this id (or the last 100 messages).
    GetHistory {
        /// Only messages after this id.
        last_message: Option<String>,
    },
    /// `message`: post to the chat.
    Message(OutgoingMessage),
    /// `pin_message`.
    PinMessage {
        /// Message id.
        message: String,
    },
    /// `unpin_message`.
    UnpinMessage {
        /// Message id.
        message: String,
    },
    /// `setinfo`: an empty value is a no-op on the server, so info cannot be cleared.
    SetInfo {
        /// The bot info line.
        info_bot: Option<String>,
        /// The user info line.
        info_user: Option<String>,
    },
    /// Merged into `bot_meta` (≤2048 characters of JSON in total).
    SetMeta(Map<String, Json>),
    /// `make_open`.
    MakeOpen,
    /// `make_invitational`.
    MakeInvitational,
    /// `begin`: start the race.
    Begin,
    /// `cancel_race`.
    Cancel,
    /// `invite`.
    Invite {
        /// User hashid.
        user: String,
    },
    /// `accept_request`.
    AcceptRequest {
        /// User hashid.
        user: String,
    },
    /// `force_unready`.
    ForceUnready {
        /// User hashid.
        user: String,
    },
    /// `remove_entrant`.
    RemoveEntrant {
        /// User hashid.
        user: String,
    },
    /// `add_monitor`.
    AddMonitor {
        /// User hashid.
        user: String,
    },
    /// `remove_monitor`.
    RemoveMonitor {
        /// User hashid.
        user: String,
    },
    /// `override_stream`.
    OverrideStream {
        /// User hashid.
        user: String,
    },
}

impl Action {
    /// The wire name (`begin`, not `force_start`; `cancel`, not `cancel_race`).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Ping => "ping",
            Self::GetRace => "getrace",
            Self::GetHistory { .. } => "gethistory",
            Self::Message(_) => "message",
            Self::PinMessage { .. } => "pin_message",
            Self::UnpinMessage { .. } => "unpin_message",
            Self::SetInfo { .. } => "setinfo",
            Self::SetMeta(_) => "setmeta",
            Self::MakeOpen => "make_open",
            Self::MakeInvitational => "make_invitational",
            Self::Begin => "begin",
            Self::Cancel => "cancel",
            Self::Invite { .. } => "invite",
            Self::AcceptRequest { .. } => "accept_request",
            Self::ForceUnready { .. } => "force_unready",
            Self::RemoveEntrant { .. } => "remove_entrant",
            Self::AddMonitor { .. } => "add_monitor",
            Self::RemoveMonitor { .. } => "remove_monitor",
            Self::OverrideStream { .. } => "override_stream",
        }
    }

    /// The frame to send, `data` always an object.
    pub fn to_json(&self) -> Json {
        let data = match self {
            Self::Ping
            | Self::GetRace
            | Self::MakeOpen
            | Self::MakeInvitational
            | Self::Begin
            | Self::Cancel => json!({}),
            Self::GetHistory { last_message } => match last_message {
                Some(id) => json!({ "last_message": id }),
                None => json!({}),
            },
            Self::Message(m) => {
                let mut data = Map::new();
                data.insert("message".into(), json!(m.message));
                data.insert("guid".into(), json!(m.guid));
                if let Some(user) = &m.direct_to {
                    data.insert("direct_to".into(), json!(user));
                } else {
                    data.insert("pinned".into(), json!(m.pinned));
                    if !m.actions.is_empty() {
                        let actions: Map<String, Json> = m
                            .actions
                            .iter()
                            .map(|(label, button)| (label.clone(), json!(button)))
                            .collect();
                        data.insert("actions".into(), Json::Object(actions));
                    }
                }
                Json::Object(data)
            }
            Self::PinMessage { message } | Self::UnpinMessage { message } => {
                json!({ "message": message })
            }
            Self::SetInfo {
                info_bot,
                info_user,
            } => {
                let mut data = Map::new();
                if let Some(info) = info_bot {
                    data.insert("info_bot".into(), json!(info));
                }
                if let Some(info) = info_user {
                    data.insert("info_user".into(), json!(info));
                }
                Json::Object(data)
            }
            Self::SetMeta(meta) => Json::Object(meta.clone()),
            Self::Invite { user }
            | Self::AcceptRequest { user }
            | Self::ForceUnready { user }
            | Self::RemoveEntrant { user }
            | Self::AddMonitor { user }
            | Self::RemoveMonitor { user }
            | Self::OverrideStream { user } => json!({ "user": user }),
        };
        json!({ "action": self.name(), "data": data })
    }
}

/// Checks a message before it is sent, with the server's own limits and wording.
pub fn validate_message(message: &OutgoingMessage) -> Result<(), String> {
    let guid_ok = !message.guid.is_empty()
        && message
            .guid
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase() || b == b'-');
    if !guid_ok {
        return Err("Bad request, no GUID supplied. A unique string is required to prevent duplicate messaging.".into());
    }
    let length = message.message.trim().chars().count();
    if length == 0 {
        return Err("message: This field is required.".into());
    }
    if length > 1000 {
        return Err(format!(
            "message: Ensure this value has at most 1000 characters (it has {length})."
        ));
    }
    if message.actions.len() > 4 {
        return Err("actions: A message may only have up to 4 actions.".into());
    }
    Ok(())
}

/// Splits text longer than racetime.gg's 1000-character limit at line or word boundaries.
pub fn split_message(text: &str, limit: usize) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    for word in text.split_inclusive(['\n', ' ']) {
        if current.chars().count() + word.chars().count() > limit && !current.is_empty() {
            parts.push(current.trim_end().to_string());
            current.clear();
        }
        let mut word = word;
        while word.chars().count() > limit {
            let cut = word
                .char_indices()
                .nth(limit)
                .map_or(word.len(), |(i, _)| i);
            parts.push(word[..cut].to_string());
            word = &word[cut..];
        }
        current.push_str(word);
    }
    if !current.trim().is_empty() {
        parts.push(current.trim_end().to_string());
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_always_carry_an_object() {
        for action in [
            Action::Ping,
            Action::Begin,
            Action::GetHistory { last_message: None },
        ] {
            assert!(action.to_json()["data"].is_object(), "{action:?}");
        }
        assert_eq!(
            Action::Invite { user: "abc".into() }.to_json(),
            json!({"action": "invite", "data": {"user": "abc"}})
        );
        assert_eq!(Action::Cancel.name(), "cancel");
        assert_eq!(
            Action::SetInfo {
                info_bot: Some("x".into()),
                info_user: None
            }
            .to_json(),
            json!({"action": "setinfo", "data": {"info_bot": "x"}})
        );
    }

    #[test]
    fn buttons_use_help_and_omit_absent_fields() {
        let message = OutgoingMessage {
            message: "Tournament Controls:".into(),
            guid: "a-1".into(),
            pinned: true,
            actions: vec![(
                "Roll".into(),
                ActionButton {
                    message: Some("!tournamentrace".into()),
                    help: Some("tip".into()),
                    ..ActionButton::default()
                },
            )],
            direct_to: None,
        };
        let frame = Action::Message(message.clone()).to_json();
        assert_eq!(
            frame["data"]["actions"]["Roll"],
            json!({"message": "!tournamentrace", "help": "tip"})
        );
        assert_eq!(frame["data"]["pinned"], json!(true));
        let dm = Action::Message(OutgoingMessage {
            direct_to: Some("u1".into()),
            ..message
        })
        .to_json();
        assert_eq!(dm["data"].get("actions"), None);
        assert_eq!(dm["data"].get("pinned"), None);
        assert_eq!(dm["data"]["direct_to"], json!("u1"));
    }

    #[test]
    fn validation_uses_the_server_wording() {
        let mut message = OutgoingMessage {
            message: "hi".into(),
            guid: "ABC".into(),
            ..Default::default()
        };
        assert!(
            validate_message(&message)
                .unwrap_err()
                .starts_with("Bad request, no GUID")
        );
        message.guid = "abc-1".into();
        assert!(validate_message(&message).is_ok());
        message.message = "x".repeat(1001);
        assert_eq!(
            validate_message(&message).unwrap_err(),
            "message: Ensure this value has at most 1000 characters (it has 1001)."
        );
    }

    #[test]
    fn long_text_is_split_under_the_limit() {
        let text = "word ".repeat(500);
        let parts = split_message(&text, 1000);
        assert_eq!(parts.len(), 3);
        assert!(parts.iter().all(|p| p.chars().count() <= 1000));
        assert_eq!(parts.concat().replace(' ', "").len(), 2000);
        assert_eq!(split_message(&"a".repeat(2500), 1000).len(), 3);
    }
}
