//! The fake's state: categories, users, races and their sockets, and the rules that change
//! them (shared by the HTTP routes, the websocket and the scripting API).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Map, Value as Json, json};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// The bot's name as it appears in `opened_by_bot` and `chat.message.bot`.
pub const BOT_NAME: &str = "SahasrahBot";

/// What the next `startrace` does after creating the room.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartraceFault {
    /// Create the room, then answer 502 (the client cannot know the room exists).
    CreateThenBadGateway,
    /// Create the room, then hold the answer for this long (the client times out).
    CreateThenHang(Duration),
    /// Answer 503 without creating anything.
    Unavailable,
}

#[derive(Clone, Debug)]
pub(super) struct Category {
    pub(super) slug: String,
    pub(super) client_id: String,
    pub(super) client_secret: String,
    pub(super) goals: Vec<String>,
}

#[derive(Clone, Debug)]
pub(super) struct UserRec {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) twitch: Option<String>,
    pub(super) moderator_of: Vec<String>,
    pub(super) joined_races: u32,
}

#[derive(Clone, Debug)]
pub(super) struct EntrantRec {
    pub(super) user: String,
    pub(super) status: String,
    pub(super) finish_time: Option<Duration>,
    pub(super) place: Option<u32>,
    pub(super) team: Option<String>,
}

pub(super) struct Race {
    pub(super) category: String,
    pub(super) slug: String,
    pub(super) version: u32,
    pub(super) status: String,
    pub(super) goal: String,
    pub(super) goal_custom: bool,
    pub(super) info_user: String,
    pub(super) info_bot: String,
    pub(super) settings: Map<String, Json>,
    pub(super) entrants: Vec<EntrantRec>,
    pub(super) monitors: Vec<String>,
    pub(super) opened_by: Option<String>,
    pub(super) opened_by_bot: bool,
    pub(super) started_at: Option<chrono::DateTime<chrono::Utc>>,
    pub(super) ended_at: Option<chrono::DateTime<chrono::Utc>>,
    pub(super) recorded: bool,
    pub(super) bot_meta: Map<String, Json>,
    pub(super) messages: Vec<Json>,
    pub(super) guids: HashMap<String, Instant>,
    pub(super) sockets: Vec<SocketRec>,
}

pub(super) struct SocketRec {
    pub(super) tx: mpsc::UnboundedSender<Outgoing>,
}

pub(super) enum Outgoing {
    Frame(Json),
    Close(u16),
}

/// How long racetime.gg caches `/o/{category}/data` (its `cache_page(60)`-style key
/// `o/{category}/data`, never invalidated).
pub const BOT_CATEGORY_CACHE: Duration = Duration::from_secs(60);

#[derive(Default)]
pub(super) struct Inner {
    pub(super) categories: Vec<Category>,
    pub(super) tokens: HashMap<String, (String, Instant)>,
    pub(super) users: HashMap<String, UserRec>,
    /// Teams by slug: member hashids, the owner first.
    pub(super) teams: HashMap<String, Vec<String>>,
    /// Past races by user hashid, newest first: `(race name, status, opened at)`.
    pub(super) past_races: HashMap<String, Vec<(String, String, chrono::DateTime<chrono::Utc>)>>,
    /// `/user/{id}/races/data` pages served.
    pub(super) race_pages_served: u32,
    pub(super) races: HashMap<String, Race>,
    pub(super) counter: u64,
    pub(super) token_lifetime: Duration,
    /// `/o/{category}/data` bodies as first served, with when: racetime.gg caches them for
    /// [`BOT_CATEGORY_CACHE`] and never invalidates them (specs/racetime.md §1.4).
    pub(super) bot_category_cache: HashMap<String, (Instant, Json)>,
    pub(super) bot_category_ttl: Duration,
    pub(super) ping_interval: Option<Duration>,
    pub(super) countdown: Duration,
    pub(super) startrace_fault: Option<StartraceFault>,
    pub(super) startrace_calls: u32,
    pub(super) token_calls: u32,
    /// Bot actions received, as `(race name, action name)`.
    pub(super) actions: Vec<(String, String)>,
    pub(super) requests: Vec<String>,
    pub(super) bot_posts: Option<tokio::sync::broadcast::Sender<(String, String)>>,
}

/// A running fake racetime.gg; cheap to clone.
#[derive(Clone)]
pub struct FakeRacetime {
    pub(super) inner: Arc<Mutex<Inner>>,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

impl std::fmt::Debug for FakeRacetime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeRacetime")
            .field("url", &self.url)
            .finish()
    }
}

/// A chat line as the fake stored it, for assertions.
#[derive(Clone, Debug, PartialEq)]
pub struct Posted {
    /// The message id.
    pub id: String,
    /// The text as posted.
    pub text: String,
    /// Posted by the bot.
    pub from_bot: bool,
    /// A system message.
    pub system: bool,
    /// Pinned.
    pub pinned: bool,
    /// A direct message to this user id.
    pub direct_to: Option<String>,
    /// The message's action buttons, as sent.
    pub actions: Json,
}

pub(super) fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

pub(super) fn iso(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub(super) fn duration_string(d: Duration) -> String {
    let s = d.as_secs();
    let micros = d.subsec_micros();
    let base = format!(
        "P{}DT{:02}H{:02}M{:02}",
        s / 86400,
        (s % 86400) / 3600,
        (s % 3600) / 60,
        s % 60
    );
    if micros == 0 {
        format!("{base}S")
    } else {
        format!("{base}.{micros:06}S")
    }
}

pub(super) const ADJECTIVES: [&str; 6] =
    ["clumsy", "clever", "gorgeous", "daring", "witty", "lucky"];
pub(super) const NOUNS: [&str; 6] = ["ganondorf", "link", "zelda", "doomguy", "samus", "kirby"];

pub(super) fn status_obj(value: &str) -> Json {
    let (verbose, help) = match value {
        "open" => ("Open", "Anyone may join this race"),
        "invitational" => ("Invitational", "Only invitees may join this race"),
        "pending" => ("Getting ready", "Waiting for race to begin"),
        "in_progress" => ("In progress", "Race is in progress"),
        "finished" => ("Finished", "This race has been completed"),
        "cancelled" => ("Cancelled", "This race has been cancelled"),
        "partitioned" => (
            "Partitioned",
            "Race has been partitioned into separate 1v1 races",
        ),
        "requested" => ("Join request", ""),
        "invited" => ("Invited", ""),
        "dnf" => ("DNF", ""),
        "dq" => ("DQ", ""),
        "done" => ("Finished", ""),
        "ready" => ("Ready", ""),
        "not_ready" => ("Not ready", ""),
        other => (other, ""),
    };
    json!({"value": value, "verbose_value": verbose, "help_text": help})
}

pub(super) fn is_done(status: &str) -> bool {
    matches!(status, "finished" | "cancelled" | "partitioned")
}

impl Inner {
    pub(super) fn next_id(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!("{prefix}{:012x}", self.counter * 7919 + 4242)
    }

    pub(super) fn user_json(&self, id: &str, race_category: &str) -> Json {
        let Some(user) = self.users.get(id) else {
            return Json::Null;
        };
        json!({
            "id": user.id, "full_name": format!("{}#{}", user.name, 1000 + user.id.len()), "name": user.name,
            "discriminator": null, "url": format!("/user/{}/{}", user.id, user.name.to_lowercase()),
            "avatar": null, "pronouns": null, "flair": "",
            "twitch_name": user.twitch, "twitch_display_name": user.twitch,
            "twitch_channel": user.twitch.as_ref().map(|t| format!("https://www.twitch.tv/{t}")),
            "can_moderate": user.moderator_of.iter().any(|c| c == race_category),
        })
    }

    pub(super) fn is_monitor(&self, race: &Race, user: &str) -> bool {
        race.opened_by.as_deref() == Some(user)
            || race.monitors.iter().any(|m| m == user)
            || self
                .users
                .get(user)
                .is_some_and(|u| u.moderator_of.contains(&race.category))
    }

    pub(super) fn race_json(&self, race: &Race) -> Json {
        let mut entrants: Vec<&EntrantRec> = race.entrants.iter().collect();
        let rank = |e: &EntrantRec| match e.status.as_str() {
            "done" => 0,
            "ready" | "in_progress" => 1,
            "not_ready" => 2,
            "invited" => 3,
            "requested" => 4,
            "dnf" => 5,
            "dq" => 6,
            _ => 7,
        };
        entrants.sort_by_key(|e| (rank(e), e.place.unwrap_or(u32::MAX)));
        let entrants: Vec<Json> = entrants
            .iter()
            .map(|e| {
                json!({
                    "user": self.user_json(&e.user, &race.category),
                    "team": e.team.as_ref().map(|t| json!({"name": t, "slug": t.to_lowercase(), "formal": false})),
                    "status": status_obj(&e.status),
                    "finish_time": e.finish_time.map(duration_string),
                    "finished_at": null, "place": e.place,
                    "place_ordinal": e.place.map(|p| format!("{p}th")),
                    "score": null, "score_change": null, "comment": null, "has_comment": false,
                    "stream_live": false, "stream_override": false, "actions": [],
                })
            })
            .collect();
        let name = format!("{}/{}", race.category, race.slug);
        let info = format!("{}\n{}", race.info_user, race.info_bot)
            .trim()
            .to_string();
        let mut json = json!({
            "version": race.version, "name": name, "slug": race.slug,
            "status": status_obj(&race.status),
            "url": format!("/{name}"), "data_url": format!("/{name}/data"),
            "websocket_url": format!("/ws/race/{}", race.slug),
            "websocket_bot_url": format!("/ws/o/bot/{}", race.slug),
            "websocket_oauth_url": format!("/ws/o/race/{}", race.slug),
            "category": {"name": race.category, "short_name": race.category, "slug": race.category,
                          "url": format!("/{}", race.category), "data_url": format!("/{}/data", race.category), "image": null},
            "goal": {"name": race.goal, "custom": race.goal_custom},
            "info": info,
            "info_bot": if race.info_bot.is_empty() { Json::Null } else { json!(race.info_bot) },
            "info_user": if race.info_user.is_empty() { Json::Null } else { json!(race.info_user) },
            "entrants_count": race.entrants.iter().filter(|e| !matches!(e.status.as_str(), "invited" | "requested" | "declined")).count(),
            "entrants_count_finished": race.entrants.iter().filter(|e| e.status == "done").count(),
            "entrants_count_inactive": race.entrants.iter().filter(|e| matches!(e.status.as_str(), "dnf" | "dq")).count(),
            "entrants": entrants,
            "opened_at": iso(now()),
            "started_at": race.started_at.map(iso), "ended_at": race.ended_at.map(iso), "cancelled_at": null,
            "opened_by": race.opened_by.as_ref().map_or(Json::Null, |u| self.user_json(u, &race.category)),
            "opened_by_bot": if race.opened_by_bot { json!(BOT_NAME) } else { Json::Null },
            "monitors": race.monitors.iter().map(|m| self.user_json(m, &race.category)).collect::<Vec<_>>(),
            "recordable": true, "recorded": race.recorded, "recorded_by": null,
            "disqualify_unready": false, "chat_restricted": false,
            "bot_meta": race.bot_meta,
        });
        let object = json.as_object_mut().expect("object");
        for (key, value) in &race.settings {
            object.insert(key.clone(), value.clone());
        }
        json
    }

    pub(super) fn summary_json(&self, race: &Race) -> Json {
        let full = self.race_json(race);
        json!({
            "name": full["name"], "status": full["status"], "url": full["url"], "data_url": full["data_url"],
            "goal": full["goal"], "info": full["info"], "entrants_count": full["entrants_count"],
            "entrants_count_finished": full["entrants_count_finished"], "entrants_count_inactive": full["entrants_count_inactive"],
            "opened_at": full["opened_at"], "started_at": full["started_at"], "time_limit": full["time_limit"],
            "opened_by_bot": full["opened_by_bot"],
        })
    }

    pub(super) fn broadcast(&mut self, name: &str, frame: Json) {
        if let Some(race) = self.races.get_mut(name) {
            race.sockets
                .retain(|s| s.tx.send(Outgoing::Frame(frame.clone())).is_ok());
        }
    }

    pub(super) fn broadcast_race(&mut self, name: &str) {
        let Some(race) = self.races.get(name) else {
            return;
        };
        let race_json = self.race_json(race);
        let version = race.version;
        self.broadcast(name, json!({"type": "race.data", "date": now().to_rfc3339(), "race": race_json, "version": version}));
        self.broadcast(name, json!({"type": "race.renders", "date": now().to_rfc3339(), "renders": {"entrants": "<ol></ol>"}, "version": version}));
    }

    pub(super) fn bump(&mut self, name: &str) {
        if let Some(race) = self.races.get_mut(name) {
            race.version += 1;
        }
        self.broadcast_race(name);
    }

    pub(super) fn chat_closed(&self, race: &Race) -> bool {
        is_done(&race.status) && race.recorded
    }

    /// Adds a chat line and broadcasts it; returns its id.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn post(
        &mut self,
        name: &str,
        user: Option<&str>,
        bot: bool,
        text: &str,
        pinned: bool,
        actions: Json,
        direct_to: Option<&str>,
    ) -> String {
        let id = self.next_id("m");
        let Some(race) = self.races.get(name) else {
            return id;
        };
        let system = user.is_none() && !bot;
        let is_monitor = match user {
            Some(u) => json!(self.is_monitor(race, u)),
            None => Json::Null,
        };
        let user_json = user.map_or(Json::Null, |u| self.user_json(u, &race.category));
        let direct = direct_to.map_or(Json::Null, |u| {
            let full = self.user_json(u, &race.category);
            json!({"id": full["id"], "full_name": full["full_name"], "name": full["name"], "discriminator": null})
        });
        let plain = text
            .split("##")
            .filter(|p| !matches!(*p, "bot" | "user" | "highlight"))
            .collect::<String>();
        let message = json!({
            "id": id, "user": user_json, "bot": if bot { json!(BOT_NAME) } else { Json::Null },
            "direct_to": direct, "posted_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, false),
            "message": text, "message_plain": plain, "highlight": false, "is_dm": direct_to.is_some(),
            "is_bot": bot, "is_monitor": is_monitor, "is_system": system, "is_pinned": pinned && direct_to.is_none(),
            "delay": 0, "actions": if direct_to.is_some() { json!({}) } else { actions },
        });
        if let Some(race) = self.races.get_mut(name) {
            race.messages.push(message.clone());
        }
        if bot && let Some(tx) = &self.bot_posts {
            let _ = tx.send((name.to_string(), text.to_string()));
        }
        if direct_to.is_some() {
            let to = message["direct_to"].clone();
            self.broadcast(name, json!({"type": "chat.dm", "date": now().to_rfc3339(), "message": id, "from_user": null, "from_bot": BOT_NAME, "to": to}));
        } else {
            self.broadcast(
                name,
                json!({"type": "chat.message", "date": now().to_rfc3339(), "message": message}),
            );
        }
        id
    }

    pub(super) fn system(&mut self, name: &str, text: &str) {
        self.post(name, None, false, text, false, json!({}), None);
    }

    pub(super) fn token_category(&self, token: &str) -> Option<String> {
        self.tokens
            .get(token)
            .filter(|(_, expires)| *expires > Instant::now())
            .map(|(category, _)| category.clone())
    }

    pub(super) fn user_name(&self, id: &str) -> String {
        self.users.get(id).map_or_else(
            || id.to_string(),
            |u| format!("{}#{}", u.name, 1000 + u.id.len()),
        )
    }

    pub(super) fn maybe_finish(&mut self, name: &str) {
        let Some(race) = self.races.get_mut(name) else {
            return;
        };
        if race.status == "in_progress" && !race.entrants.iter().any(|e| e.status == "in_progress")
        {
            race.status = if race.entrants.iter().any(|e| e.status == "done") {
                "finished"
            } else {
                "cancelled"
            }
            .into();
            race.ended_at = Some(now());
            let text = if race.status == "finished" {
                "Race finished in"
            } else {
                "Race cancelled"
            };
            let _ = text;
            self.bump(name);
        }
    }
}
