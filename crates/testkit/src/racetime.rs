//! A fake racetime.gg server (HTTP and the bot websocket) that answers like racetime-app does
//! (see `specs/racetime.md` Part 1 and `fixtures/racetime/`): client-credentials tokens that
//! expire (the socket stays open but actions get `Permission denied`), category data with
//! unlisted rooms for bots, startrace/edit with the server's form rules and strings, race data,
//! and the bot websocket with every action and error string, server pings and closes.
//! Scripted users join, ready, chat, finish and forfeit through methods on [`FakeRacetime`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Request, Response, StatusCode, header};
use axum::routing::{get, post};
use futures::{SinkExt, StreamExt};
use serde_json::{Map, Value as Json, json};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, frame::coding::CloseCode};

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
struct Category {
    slug: String,
    client_id: String,
    client_secret: String,
    goals: Vec<String>,
}

#[derive(Clone, Debug)]
struct UserRec {
    id: String,
    name: String,
    twitch: Option<String>,
    moderator_of: Vec<String>,
    joined_races: u32,
}

#[derive(Clone, Debug)]
struct EntrantRec {
    user: String,
    status: String,
    finish_time: Option<Duration>,
    place: Option<u32>,
    team: Option<String>,
}

struct Race {
    category: String,
    slug: String,
    version: u32,
    status: String,
    goal: String,
    goal_custom: bool,
    info_user: String,
    info_bot: String,
    settings: Map<String, Json>,
    entrants: Vec<EntrantRec>,
    monitors: Vec<String>,
    opened_by: Option<String>,
    opened_by_bot: bool,
    started_at: Option<chrono::DateTime<chrono::Utc>>,
    ended_at: Option<chrono::DateTime<chrono::Utc>>,
    recorded: bool,
    bot_meta: Map<String, Json>,
    messages: Vec<Json>,
    guids: HashMap<String, Instant>,
    sockets: Vec<SocketRec>,
}

struct SocketRec {
    tx: mpsc::UnboundedSender<Outgoing>,
}

enum Outgoing {
    Frame(Json),
    Close(u16),
}

/// How long racetime.gg caches `/o/{category}/data` (its `cache_page(60)`-style key
/// `o/{category}/data`, never invalidated).
pub const BOT_CATEGORY_CACHE: Duration = Duration::from_secs(60);

#[derive(Default)]
struct Inner {
    categories: Vec<Category>,
    tokens: HashMap<String, (String, Instant)>,
    users: HashMap<String, UserRec>,
    races: HashMap<String, Race>,
    counter: u64,
    token_lifetime: Duration,
    /// `/o/{category}/data` bodies as first served, with when: racetime.gg caches them for
    /// [`BOT_CATEGORY_CACHE`] and never invalidates them (specs/racetime.md §1.4).
    bot_category_cache: HashMap<String, (Instant, Json)>,
    bot_category_ttl: Duration,
    ping_interval: Option<Duration>,
    countdown: Duration,
    startrace_fault: Option<StartraceFault>,
    startrace_calls: u32,
    token_calls: u32,
    /// Bot actions received, as `(race name, action name)`.
    actions: Vec<(String, String)>,
    requests: Vec<String>,
    bot_posts: Option<tokio::sync::broadcast::Sender<(String, String)>>,
}

/// A running fake racetime.gg; cheap to clone.
#[derive(Clone)]
pub struct FakeRacetime {
    inner: Arc<Mutex<Inner>>,
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
    pub id: String,
    pub text: String,
    pub from_bot: bool,
    pub system: bool,
    pub pinned: bool,
    pub direct_to: Option<String>,
    pub actions: Json,
}

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

fn iso(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn duration_string(d: Duration) -> String {
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

const ADJECTIVES: [&str; 6] = ["clumsy", "clever", "gorgeous", "daring", "witty", "lucky"];
const NOUNS: [&str; 6] = ["ganondorf", "link", "zelda", "doomguy", "samus", "kirby"];

fn status_obj(value: &str) -> Json {
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

fn is_done(status: &str) -> bool {
    matches!(status, "finished" | "cancelled" | "partitioned")
}

impl Inner {
    fn next_id(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!("{prefix}{:012x}", self.counter * 7919 + 4242)
    }

    fn user_json(&self, id: &str, race_category: &str) -> Json {
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

    fn is_monitor(&self, race: &Race, user: &str) -> bool {
        race.opened_by.as_deref() == Some(user)
            || race.monitors.iter().any(|m| m == user)
            || self
                .users
                .get(user)
                .is_some_and(|u| u.moderator_of.contains(&race.category))
    }

    fn race_json(&self, race: &Race) -> Json {
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

    fn summary_json(&self, race: &Race) -> Json {
        let full = self.race_json(race);
        json!({
            "name": full["name"], "status": full["status"], "url": full["url"], "data_url": full["data_url"],
            "goal": full["goal"], "info": full["info"], "entrants_count": full["entrants_count"],
            "entrants_count_finished": full["entrants_count_finished"], "entrants_count_inactive": full["entrants_count_inactive"],
            "opened_at": full["opened_at"], "started_at": full["started_at"], "time_limit": full["time_limit"],
            "opened_by_bot": full["opened_by_bot"],
        })
    }

    fn broadcast(&mut self, name: &str, frame: Json) {
        if let Some(race) = self.races.get_mut(name) {
            race.sockets
                .retain(|s| s.tx.send(Outgoing::Frame(frame.clone())).is_ok());
        }
    }

    fn broadcast_race(&mut self, name: &str) {
        let Some(race) = self.races.get(name) else {
            return;
        };
        let race_json = self.race_json(race);
        let version = race.version;
        self.broadcast(name, json!({"type": "race.data", "date": now().to_rfc3339(), "race": race_json, "version": version}));
        self.broadcast(name, json!({"type": "race.renders", "date": now().to_rfc3339(), "renders": {"entrants": "<ol></ol>"}, "version": version}));
    }

    fn bump(&mut self, name: &str) {
        if let Some(race) = self.races.get_mut(name) {
            race.version += 1;
        }
        self.broadcast_race(name);
    }

    fn chat_closed(&self, race: &Race) -> bool {
        is_done(&race.status) && race.recorded
    }

    /// Adds a chat line and broadcasts it; returns its id.
    #[allow(clippy::too_many_arguments)]
    fn post(
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

    fn system(&mut self, name: &str, text: &str) {
        self.post(name, None, false, text, false, json!({}), None);
    }

    fn token_category(&self, token: &str) -> Option<String> {
        self.tokens
            .get(token)
            .filter(|(_, expires)| *expires > Instant::now())
            .map(|(category, _)| category.clone())
    }

    fn user_name(&self, id: &str) -> String {
        self.users.get(id).map_or_else(
            || id.to_string(),
            |u| format!("{}#{}", u.name, 1000 + u.id.len()),
        )
    }

    fn maybe_finish(&mut self, name: &str) {
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

impl FakeRacetime {
    /// Starts the fake on an ephemeral port with one category, `alttpr` (bot credentials
    /// `alttpr-id`/`alttpr-secret`), and token lifetime 10 h.
    pub async fn start() -> anyhow::Result<Self> {
        let inner = Arc::new(Mutex::new(Inner {
            token_lifetime: Duration::from_secs(36_000),
            bot_category_cache: HashMap::new(),
            bot_category_ttl: BOT_CATEGORY_CACHE,
            ping_interval: Some(Duration::from_secs(20)),
            countdown: Duration::from_millis(300),
            ..Inner::default()
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        // The server lives as long as the test's runtime.
        let fake = Self {
            inner: inner.clone(),
            url,
        };
        fake.add_category(
            "alttpr",
            &["Beat the game", "Beat the game - Tournament (Solo)"],
        );
        let app = Router::new()
            .route("/o/token", post(token))
            .route("/o/{category}/data", get(bot_category_data))
            .route("/o/{category}/startrace", post(startrace))
            .route("/o/{category}/{race}/edit", post(edit))
            .route("/ws/o/bot/{slug}", get(websocket))
            .route("/user/{id}/data", get(user_data))
            .route("/{category}/data", get(public_category_data))
            .route("/{category}/{race}/data", get(race_data))
            .with_state(fake.clone());
        tokio::spawn(async move {
            crate::ws::serve(listener, app).await;
        });
        Ok(fake)
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a category with bot credentials `{slug}-id` / `{slug}-secret`.
    pub fn add_category(&self, slug: &str, goals: &[&str]) {
        self.lock().categories.push(Category {
            slug: slug.to_string(),
            client_id: format!("{slug}-id"),
            client_secret: format!("{slug}-secret"),
            goals: goals.iter().map(|g| g.to_string()).collect(),
        });
    }

    /// Deactivates a category's bot: its credentials and tokens stop working.
    pub fn deactivate_bot(&self, slug: &str) {
        let mut inner = self.lock();
        inner.categories.retain(|c| c.slug != slug);
        inner.tokens.retain(|_, (c, _)| c != slug);
    }

    /// Lifetime (`expires_in`) of tokens minted from now on.
    pub fn set_token_lifetime(&self, lifetime: Duration) {
        self.lock().token_lifetime = lifetime;
    }

    /// Expires every token now: sockets stay open, actions get `Permission denied`.
    pub fn expire_all_tokens(&self) {
        let past = Instant::now();
        for (_, expires) in self.lock().tokens.values_mut() {
            *expires = past;
        }
    }

    /// How long `pending` lasts before `in_progress` (the real server uses `start_delay`).
    pub fn set_countdown(&self, countdown: Duration) {
        self.lock().countdown = countdown;
    }

    /// WS ping interval (`None` disables server pings).
    /// How long `/o/{category}/data` answers stay cached ([`BOT_CATEGORY_CACHE`] unless set).
    pub fn set_bot_category_cache(&self, ttl: Duration) {
        let mut inner = self.lock();
        inner.bot_category_ttl = ttl;
        inner.bot_category_cache.clear();
    }

    pub fn set_ping_interval(&self, interval: Option<Duration>) {
        self.lock().ping_interval = interval;
    }

    /// Makes the next `startrace` misbehave.
    pub fn set_startrace_fault(&self, fault: Option<StartraceFault>) {
        self.lock().startrace_fault = fault;
    }

    /// How many `startrace` requests arrived.
    pub fn startrace_calls(&self) -> u32 {
        self.lock().startrace_calls
    }

    /// How many token requests arrived.
    pub fn token_calls(&self) -> u32 {
        self.lock().token_calls
    }

    /// Bot actions received so far, as `(race name, action)`.
    pub fn actions(&self) -> Vec<(String, String)> {
        self.lock().actions.clone()
    }

    /// Number of open bot sockets to a race.
    pub fn socket_count(&self, race: &str) -> usize {
        self.lock().races.get(race).map_or(0, |r| {
            r.sockets.iter().filter(|s| !s.tx.is_closed()).count()
        })
    }

    /// Adds a user (moderator of the given categories); returns its hashid.
    pub fn add_user(&self, name: &str, moderator_of: &[&str]) -> String {
        let mut inner = self.lock();
        let id = inner.next_id("u");
        inner.users.insert(
            id.clone(),
            UserRec {
                id: id.clone(),
                name: name.to_string(),
                twitch: Some(name.to_lowercase()),
                moderator_of: moderator_of.iter().map(|c| c.to_string()).collect(),
                joined_races: 0,
            },
        );
        id
    }

    /// Sets how many races a user has finished (`stats.joined`).
    pub fn set_joined_races(&self, user: &str, joined: u32) {
        if let Some(u) = self.lock().users.get_mut(user) {
            u.joined_races = joined;
        }
    }

    /// A user opens a room by hand (as the website does); returns its name.
    pub fn open_room(&self, category: &str, opened_by: &str, goal: &str, unlisted: bool) -> String {
        let mut inner = self.lock();
        let name = create_race(
            &mut inner,
            category,
            Some(opened_by.to_string()),
            goal,
            false,
            &Map::new(),
            unlisted,
        );
        let text = format!("Race opened by {}", inner.user_name(opened_by));
        inner.system(&name, &text);
        name
    }

    /// A stream of `(race, text)` for every line the bot posts (benchmarks time replies with it).
    pub fn subscribe_bot_posts(&self) -> tokio::sync::broadcast::Receiver<(String, String)> {
        let mut inner = self.lock();
        match &inner.bot_posts {
            Some(tx) => tx.subscribe(),
            None => {
                let (tx, rx) = tokio::sync::broadcast::channel(65_536);
                inner.bot_posts = Some(tx);
                rx
            }
        }
    }

    /// Every chat line of a race, oldest first.
    pub fn messages(&self, race: &str) -> Vec<Posted> {
        self.lock().races.get(race).map_or_else(Vec::new, |r| {
            r.messages
                .iter()
                .map(|m| Posted {
                    id: m["id"].as_str().unwrap_or_default().to_string(),
                    text: m["message"].as_str().unwrap_or_default().to_string(),
                    from_bot: m["is_bot"] == json!(true),
                    system: m["is_system"] == json!(true),
                    pinned: m["is_pinned"] == json!(true),
                    direct_to: m["direct_to"]["id"].as_str().map(str::to_string),
                    actions: m["actions"].clone(),
                })
                .collect()
        })
    }

    /// The bot's chat lines (including DMs), oldest first.
    pub fn bot_messages(&self, race: &str) -> Vec<String> {
        self.messages(race)
            .into_iter()
            .filter(|m| m.from_bot)
            .map(|m| m.text)
            .collect()
    }

    /// Waits until a bot line satisfies `predicate`; returns all bot lines then.
    pub async fn wait_for_bot(
        &self,
        race: &str,
        timeout: Duration,
        predicate: impl Fn(&[String]) -> bool,
    ) -> Vec<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let lines = self.bot_messages(race);
            if predicate(&lines) {
                return lines;
            }
            if Instant::now() > deadline {
                panic!("timed out waiting for the bot in {race}; bot lines so far: {lines:#?}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The race as the server would serve it.
    pub fn race(&self, race: &str) -> Json {
        let inner = self.lock();
        inner
            .races
            .get(race)
            .map_or(Json::Null, |r| inner.race_json(r))
    }

    /// Names of all races of a category.
    pub fn race_names(&self, category: &str) -> Vec<String> {
        let inner = self.lock();
        let mut names: Vec<String> = inner
            .races
            .values()
            .filter(|r| r.category == category)
            .map(|r| format!("{}/{}", r.category, r.slug))
            .collect();
        names.sort();
        names
    }

    /// A user says something in the room.
    pub fn chat(&self, race: &str, user: &str, text: &str) {
        self.lock()
            .post(race, Some(user), false, text, false, json!({}), None);
    }

    /// A user joins the race (`not_ready`).
    pub fn join(&self, race: &str, user: &str) {
        self.set_entrant(
            race,
            user,
            "not_ready",
            &format!("{} joins the race.", self.lock().user_name(user)),
        );
    }

    /// A user asks to join an invitational race (`requested`).
    pub fn request_to_join(&self, race: &str, user: &str) {
        self.set_entrant(
            race,
            user,
            "requested",
            &format!("{} requests to join the race.", self.lock().user_name(user)),
        );
    }

    /// A user joins a team (team races).
    pub fn set_team(&self, race: &str, user: &str, team: &str) {
        let mut inner = self.lock();
        if let Some(e) = inner
            .races
            .get_mut(race)
            .and_then(|r| r.entrants.iter_mut().find(|e| e.user == user))
        {
            e.team = Some(team.to_string());
        }
        inner.bump(race);
    }

    fn set_entrant(&self, race: &str, user: &str, status: &str, text: &str) {
        let mut inner = self.lock();
        let Some(r) = inner.races.get_mut(race) else {
            return;
        };
        match r.entrants.iter_mut().find(|e| e.user == user) {
            Some(e) => e.status = status.to_string(),
            None => r.entrants.push(EntrantRec {
                user: user.to_string(),
                status: status.to_string(),
                finish_time: None,
                place: None,
                team: None,
            }),
        }
        inner.system(race, text);
        inner.bump(race);
    }

    /// A user readies; when every joined entrant is ready (≥2) the countdown starts.
    pub fn ready(&self, race: &str, user: &str) {
        self.set_entrant(
            race,
            user,
            "ready",
            &format!("{} is ready!", self.lock().user_name(user)),
        );
        let all_ready = {
            let inner = self.lock();
            inner.races.get(race).is_some_and(|r| {
                let joined: Vec<_> = r
                    .entrants
                    .iter()
                    .filter(|e| matches!(e.status.as_str(), "ready" | "not_ready"))
                    .collect();
                (r.status == "open" || r.status == "invitational")
                    && r.settings.get("auto_start") != Some(&json!(false))
                    && joined.len() >= 2
                    && joined.iter().all(|e| e.status == "ready")
            })
        };
        if all_ready {
            self.begin(race);
        }
    }

    /// Starts the countdown now (`pending`), then `in_progress` after the countdown.
    pub fn begin(&self, race: &str) {
        let countdown = {
            let mut inner = self.lock();
            let countdown = inner.countdown;
            let Some(r) = inner.races.get_mut(race) else {
                return;
            };
            r.entrants.retain(|e| {
                e.status == "ready" || matches!(e.status.as_str(), "invited" | "requested")
            });
            r.entrants.retain(|e| e.status == "ready");
            r.status = "pending".into();
            r.started_at = Some(now() + chrono::Duration::from_std(countdown).unwrap_or_default());
            inner.system(
                race,
                "Everyone is ready. The race will begin in 10 seconds!",
            );
            inner.bump(race);
            countdown
        };
        let fake = self.clone();
        let race = race.to_string();
        tokio::spawn(async move {
            tokio::time::sleep(countdown).await;
            let mut inner = fake.lock();
            let Some(r) = inner.races.get_mut(&race) else {
                return;
            };
            if r.status != "pending" {
                return;
            }
            r.status = "in_progress".into();
            for e in &mut r.entrants {
                e.status = "in_progress".into();
            }
            inner.system(&race, "The race has begun! Good luck and have fun.");
            inner.bump(&race);
        });
    }

    /// A user finishes; the race finishes when nobody is still running.
    pub fn finish(&self, race: &str, user: &str) {
        let mut inner = self.lock();
        let Some(r) = inner.races.get_mut(race) else {
            return;
        };
        let place = r.entrants.iter().filter(|e| e.place.is_some()).count() as u32 + 1;
        let elapsed = r.started_at.map_or(Duration::from_secs(3600), |s| {
            (now() - s).to_std().unwrap_or_default() + Duration::from_secs(3600 + place as u64 * 60)
        });
        if let Some(e) = r.entrants.iter_mut().find(|e| e.user == user) {
            e.status = "done".into();
            e.place = Some(place);
            e.finish_time = Some(elapsed);
        }
        let text = format!("{} has finished in {} place!", inner.user_name(user), place);
        inner.system(race, &text);
        inner.bump(race);
        inner.maybe_finish(race);
    }

    /// A user forfeits (`dnf`).
    pub fn forfeit(&self, race: &str, user: &str) {
        let mut inner = self.lock();
        if let Some(e) = inner
            .races
            .get_mut(race)
            .and_then(|r| r.entrants.iter_mut().find(|e| e.user == user))
        {
            e.status = "dnf".into();
        }
        let text = format!("{} has forfeited from the race.", inner.user_name(user));
        inner.system(race, &text);
        inner.bump(race);
        inner.maybe_finish(race);
    }

    /// A user undoes their finish within the unfinalized window: the race is back in progress.
    pub fn undo_finish(&self, race: &str, user: &str) {
        let mut inner = self.lock();
        let Some(r) = inner.races.get_mut(race) else {
            return;
        };
        if let Some(e) = r.entrants.iter_mut().find(|e| e.user == user) {
            e.status = "in_progress".into();
            e.place = None;
            e.finish_time = None;
        }
        r.status = "in_progress".into();
        r.ended_at = None;
        inner.bump(race);
    }

    /// Sets a race's status directly (e.g. `partitioned`, `cancelled` by a moderator).
    pub fn set_status(&self, race: &str, status: &str) {
        let mut inner = self.lock();
        if let Some(r) = inner.races.get_mut(race) {
            r.status = status.to_string();
        }
        inner.bump(race);
    }

    /// Records the race: chat closes.
    pub fn record(&self, race: &str) {
        let mut inner = self.lock();
        if let Some(r) = inner.races.get_mut(race) {
            r.recorded = true;
        }
        inner.bump(race);
    }

    /// Closes every bot socket of a race with this close code (1000, 1011, ...).
    pub fn drop_sockets(&self, race: &str, code: u16) {
        let mut inner = self.lock();
        if let Some(r) = inner.races.get_mut(race) {
            for s in r.sockets.drain(..) {
                let _ = s.tx.send(Outgoing::Close(code));
            }
        }
    }
}

/// A Django `CheckboxInput` value: `"false"` (any case) or empty is false, anything else
/// (even `"0"`) is true; an absent field takes the model default.
fn form_bool(form: &Map<String, Json>, key: &str, default: bool) -> bool {
    form.get(key).and_then(Json::as_str).map_or(default, |v| {
        !v.is_empty() && !v.eq_ignore_ascii_case("false")
    })
}

fn create_race(
    inner: &mut Inner,
    category: &str,
    opened_by: Option<String>,
    goal: &str,
    custom: bool,
    form: &Map<String, Json>,
    unlisted: bool,
) -> String {
    inner.counter += 1;
    let n = inner.counter as usize;
    let slug = format!(
        "{}-{}-{:04}",
        ADJECTIVES[n % ADJECTIVES.len()],
        NOUNS[(n / ADJECTIVES.len()) % NOUNS.len()],
        1000 + n
    );
    let get_bool = |k: &str, default: bool| form_bool(form, k, default);
    let get_num = |k: &str, default: u64| {
        form.get(k)
            .and_then(Json::as_str)
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let mut settings = Map::new();
    settings.insert("team_race".into(), json!(get_bool("team_race", false)));
    settings.insert("ranked".into(), json!(get_bool("ranked", true)));
    settings.insert(
        "unlisted".into(),
        json!(unlisted || get_bool("unlisted", false)),
    );
    settings.insert("hide_entrants".into(), json!(false));
    settings.insert(
        "require_even_teams".into(),
        json!(get_bool("require_even_teams", false)),
    );
    settings.insert(
        "start_delay".into(),
        json!(duration_string(Duration::from_secs(get_num(
            "start_delay",
            15
        )))),
    );
    settings.insert(
        "time_limit".into(),
        json!(duration_string(Duration::from_secs(
            get_num("time_limit", 24) * 3600
        ))),
    );
    settings.insert(
        "time_limit_auto_complete".into(),
        json!(get_bool("time_limit_auto_complete", false)),
    );
    settings.insert(
        "streaming_required".into(),
        json!(get_bool("streaming_required", true)),
    );
    settings.insert("auto_start".into(), json!(get_bool("auto_start", true)));
    settings.insert(
        "allow_comments".into(),
        json!(get_bool("allow_comments", true)),
    );
    settings.insert(
        "hide_comments".into(),
        json!(get_bool("hide_comments", false)),
    );
    settings.insert(
        "allow_prerace_chat".into(),
        json!(get_bool("allow_prerace_chat", true)),
    );
    settings.insert(
        "allow_midrace_chat".into(),
        json!(get_bool("allow_midrace_chat", true)),
    );
    settings.insert(
        "allow_non_entrant_chat".into(),
        json!(get_bool("allow_non_entrant_chat", true)),
    );
    settings.insert(
        "chat_message_delay".into(),
        json!(duration_string(Duration::from_secs(get_num(
            "chat_message_delay",
            0
        )))),
    );
    let race = Race {
        category: category.to_string(),
        slug: slug.clone(),
        version: 1,
        status: if get_bool("invitational", false) {
            "invitational"
        } else {
            "open"
        }
        .into(),
        goal: goal.to_string(),
        goal_custom: custom,
        info_user: form
            .get("info_user")
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_string(),
        info_bot: form
            .get("info_bot")
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_string(),
        settings,
        entrants: Vec::new(),
        monitors: Vec::new(),
        opened_by_bot: opened_by.is_none(),
        opened_by,
        started_at: None,
        ended_at: None,
        recorded: false,
        bot_meta: Map::new(),
        messages: Vec::new(),
        guids: HashMap::new(),
        sockets: Vec::new(),
    };
    let name = format!("{category}/{slug}");
    inner.races.insert(name.clone(), race);
    name
}

type Resp = Response<Body>;

fn respond(status: StatusCode, body: Json) -> Resp {
    let mut response = Response::new(Body::from(if body.is_null() {
        String::new()
    } else {
        body.to_string()
    }));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        "application/json".parse().expect("header"),
    );
    response
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::to_string)
}

fn form_map(body: &str) -> Map<String, Json> {
    url::form_urlencoded::parse(body.as_bytes())
        .map(|(k, v)| (k.into_owned(), json!(v.into_owned())))
        .collect()
}

async fn token(State(fake): State<FakeRacetime>, body: String) -> Resp {
    let form = form_map(&body);
    let mut inner = fake.lock();
    inner.token_calls += 1;
    if form.get("grant_type").and_then(Json::as_str) != Some("client_credentials") {
        return respond(
            StatusCode::BAD_REQUEST,
            json!({"error": "unsupported_grant_type"}),
        );
    }
    let id = form
        .get("client_id")
        .and_then(Json::as_str)
        .unwrap_or_default();
    let secret = form
        .get("client_secret")
        .and_then(Json::as_str)
        .unwrap_or_default();
    let Some(category) = inner
        .categories
        .iter()
        .find(|c| c.client_id == id && c.client_secret == secret)
        .map(|c| c.slug.clone())
    else {
        return respond(StatusCode::UNAUTHORIZED, json!({"error": "invalid_client"}));
    };
    let access = inner.next_id("t");
    let lifetime = inner.token_lifetime;
    inner
        .tokens
        .insert(access.clone(), (category, Instant::now() + lifetime));
    respond(
        StatusCode::OK,
        json!({"access_token": access, "expires_in": lifetime.as_secs(), "token_type": "Bearer", "scope": "read chat_message race_action create_race"}),
    )
}

fn category_json(inner: &Inner, slug: &str, include_unlisted: bool) -> Option<Json> {
    let category = inner.categories.iter().find(|c| c.slug == slug)?;
    let mut races: Vec<&Race> = inner
        .races
        .values()
        .filter(|r| r.category == slug && !is_done(&r.status))
        .filter(|r| include_unlisted || r.settings.get("unlisted") != Some(&json!(true)))
        .collect();
    races.sort_by(|a, b| a.slug.cmp(&b.slug));
    Some(json!({
        "name": slug, "short_name": slug, "slug": slug, "url": format!("/{slug}"), "data_url": format!("/{slug}/data"),
        "image": null, "info": null, "streaming_required": true, "owners": [], "moderators": [],
        "goals": category.goals, "current_races": races.iter().map(|r| inner.summary_json(r)).collect::<Vec<_>>(), "emotes": {},
    }))
}

async fn bot_category_data(
    State(fake): State<FakeRacetime>,
    Path(category): Path<String>,
    headers: HeaderMap,
) -> Resp {
    let mut inner = fake.lock();
    if !inner.categories.iter().any(|c| c.slug == category) {
        return respond(StatusCode::NOT_FOUND, Json::Null);
    }
    let Some(token_category) = bearer(&headers).and_then(|t| inner.token_category(&t)) else {
        return respond(StatusCode::FORBIDDEN, Json::Null);
    };
    // Like racetime.gg: a warm cache is served to any valid token, without the permission
    // check, and is not invalidated when races change.
    let ttl = inner.bot_category_ttl;
    if let Some((at, body)) = inner.bot_category_cache.get(&category)
        && at.elapsed() < ttl
    {
        return respond(StatusCode::OK, body.clone());
    }
    if token_category != category {
        return respond(StatusCode::FORBIDDEN, Json::Null);
    }
    let body = category_json(&inner, &category, true).unwrap_or_default();
    inner
        .bot_category_cache
        .insert(category, (Instant::now(), body.clone()));
    respond(StatusCode::OK, body)
}

async fn public_category_data(
    State(fake): State<FakeRacetime>,
    Path(category): Path<String>,
) -> Resp {
    let inner = fake.lock();
    match category_json(&inner, &category, false) {
        Some(json) => respond(StatusCode::OK, json),
        None => respond(StatusCode::NOT_FOUND, Json::Null),
    }
}

async fn race_data(
    State(fake): State<FakeRacetime>,
    Path((category, race)): Path<(String, String)>,
) -> Resp {
    let inner = fake.lock();
    match inner.races.get(&format!("{category}/{race}")) {
        Some(r) => respond(StatusCode::OK, inner.race_json(r)),
        None => respond(StatusCode::NOT_FOUND, Json::Null),
    }
}

async fn user_data(State(fake): State<FakeRacetime>, Path(id): Path<String>) -> Resp {
    let inner = fake.lock();
    match inner.users.get(&id) {
        Some(u) => {
            let mut json = inner.user_json(&id, "");
            json["stats"] = json!({"joined": u.joined_races, "first": 0, "second": 0, "third": 0, "forfeits": 0});
            respond(StatusCode::OK, json)
        }
        None => respond(StatusCode::NOT_FOUND, Json::Null),
    }
}

fn goal_of(
    inner: &Inner,
    category: &str,
    form: &Map<String, Json>,
) -> Result<(String, bool), Json> {
    let goal = form.get("goal").and_then(Json::as_str).unwrap_or_default();
    let custom = form
        .get("custom_goal")
        .and_then(Json::as_str)
        .unwrap_or_default();
    let known = inner
        .categories
        .iter()
        .find(|c| c.slug == category)
        .is_some_and(|c| c.goals.iter().any(|g| g.eq_ignore_ascii_case(goal)));
    let goal = if known { goal } else { "" };
    match (goal.is_empty(), custom.is_empty()) {
        (true, true) => {
            Err(json!({"errors": {"__all__": ["You need to set a goal for this race."]}}))
        }
        (false, false) => {
            Err(json!({"errors": {"__all__": ["The race must only have one goal."]}}))
        }
        (false, true) => Ok((goal.to_string(), false)),
        (true, false) => Ok((custom.to_string(), true)),
    }
}

fn form_range_errors(form: &Map<String, Json>) -> Option<Json> {
    let num = |k: &str| {
        form.get(k)
            .and_then(Json::as_str)
            .and_then(|v| v.parse::<i64>().ok())
    };
    let mut errors = Map::new();
    if let Some(v) = num("start_delay").filter(|v| !(10..=60).contains(v)) {
        errors.insert(
            "start_delay".into(),
            json!([format!(
                "Ensure this value is {} {}.",
                if v < 10 {
                    "greater than or equal to"
                } else {
                    "less than or equal to"
                },
                if v < 10 { 10 } else { 60 }
            )]),
        );
    }
    if let Some(v) = num("time_limit").filter(|v| !(1..=72).contains(v)) {
        errors.insert(
            "time_limit".into(),
            json!([format!(
                "Ensure this value is {} {}.",
                if v < 1 {
                    "greater than or equal to"
                } else {
                    "less than or equal to"
                },
                if v < 1 { 1 } else { 72 }
            )]),
        );
    }
    (!errors.is_empty()).then(|| json!({"errors": errors}))
}

async fn startrace(
    State(fake): State<FakeRacetime>,
    Path(category): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Resp {
    let form = form_map(&body);
    let (fault, name) = {
        let mut inner = fake.lock();
        inner.startrace_calls += 1;
        inner.requests.push(format!("startrace {category}"));
        if !inner.categories.iter().any(|c| c.slug == category) {
            return respond(StatusCode::NOT_FOUND, Json::Null);
        }
        match bearer(&headers).and_then(|t| inner.token_category(&t)) {
            Some(c) if c == category => {}
            _ => return respond(StatusCode::FORBIDDEN, Json::Null),
        }
        let fault = inner.startrace_fault.take();
        if fault == Some(StartraceFault::Unavailable) {
            return respond(StatusCode::SERVICE_UNAVAILABLE, Json::Null);
        }
        let (goal, custom) = match goal_of(&inner, &category, &form) {
            Ok(goal) => goal,
            Err(errors) => return respond(StatusCode::UNPROCESSABLE_ENTITY, errors),
        };
        if let Some(errors) = form_range_errors(&form) {
            return respond(StatusCode::UNPROCESSABLE_ENTITY, errors);
        }
        let name = create_race(&mut inner, &category, None, &goal, custom, &form, false);
        inner.system(&name, &format!("Race opened automatically by {BOT_NAME}"));
        (fault, name)
    };
    match fault {
        Some(StartraceFault::CreateThenBadGateway) => respond(StatusCode::BAD_GATEWAY, Json::Null),
        Some(StartraceFault::CreateThenHang(d)) => {
            tokio::time::sleep(d).await;
            respond(StatusCode::GATEWAY_TIMEOUT, Json::Null)
        }
        _ => {
            let mut response = respond(StatusCode::CREATED, Json::Null);
            response.headers_mut().insert(
                header::LOCATION,
                format!("/{name}").parse().expect("location"),
            );
            response
        }
    }
}

async fn edit(
    State(fake): State<FakeRacetime>,
    Path((category, race)): Path<(String, String)>,
    headers: HeaderMap,
    body: String,
) -> Resp {
    let form = form_map(&body);
    let mut inner = fake.lock();
    let name = format!("{category}/{race}");
    match bearer(&headers).and_then(|t| inner.token_category(&t)) {
        Some(c) if c == category => {}
        _ => return respond(StatusCode::FORBIDDEN, Json::Null),
    }
    let Some(status) = inner.races.get(&name).map(|r| r.status.clone()) else {
        return respond(StatusCode::NOT_FOUND, Json::Null);
    };
    if is_done(&status) {
        return respond(StatusCode::FORBIDDEN, Json::Null);
    }
    let preparing = status == "open" || status == "invitational";
    let goal = if preparing {
        match goal_of(&inner, &category, &form) {
            Ok(goal) => Some(goal),
            Err(errors) => return respond(StatusCode::UNPROCESSABLE_ENTITY, errors),
        }
    } else {
        None
    };
    let get_bool = |k: &str, default: bool| form_bool(&form, k, default);
    // Omitted fields are reset to model defaults, exactly like the server.
    let Some(r) = inner.races.get_mut(&name) else {
        return respond(StatusCode::NOT_FOUND, Json::Null);
    };
    r.info_user = form
        .get("info_user")
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_string();
    for (key, default) in [
        ("allow_comments", true),
        ("hide_comments", false),
        ("allow_midrace_chat", true),
        ("allow_non_entrant_chat", true),
        ("unlisted", false),
    ] {
        r.settings.insert(key.into(), json!(get_bool(key, default)));
    }
    if preparing {
        r.info_bot = form
            .get("info_bot")
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_string();
        for (key, default) in [
            ("ranked", true),
            ("streaming_required", true),
            ("auto_start", true),
            ("allow_prerace_chat", true),
            ("time_limit_auto_complete", false),
        ] {
            r.settings.insert(key.into(), json!(get_bool(key, default)));
        }
        if let Some((goal, custom)) = goal {
            r.goal = goal;
            r.goal_custom = custom;
        }
    }
    inner.bump(&name);
    respond(StatusCode::OK, Json::Null)
}

async fn websocket(
    State(fake): State<FakeRacetime>,
    Path(slug): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    mut request: Request<Body>,
) -> Resp {
    let name = {
        let inner = fake.lock();
        inner
            .races
            .iter()
            .find(|(_, r)| r.slug == slug)
            .map(|(n, _)| n.clone())
    };
    let Some(name) = name else {
        // daphne's serverReject after the consumer never accepted.
        let mut response = Response::new(Body::from("Access denied"));
        *response.status_mut() = StatusCode::FORBIDDEN;
        return response;
    };
    let token = bearer(request.headers())
        .or_else(|| query.get("token").cloned())
        .unwrap_or_default();
    crate::ws::accept(&mut request, move |ws| serve_socket(fake, name, token, ws))
}

async fn serve_socket<S>(fake: FakeRacetime, name: String, token: String, ws: WebSocketStream<S>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let (mut sink, mut stream) = ws.split();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let ping_interval = {
        let mut inner = fake.lock();
        let Some(race) = inner.races.get(&name) else {
            return;
        };
        let race_json = inner.race_json(race);
        let version = race.version;
        let _ = tx.send(Outgoing::Frame(json!({"type": "race.data", "date": now().to_rfc3339(), "race": race_json, "version": version})));
        let _ = tx.send(Outgoing::Frame(json!({"type": "race.renders", "date": now().to_rfc3339(), "renders": {}, "version": version})));
        if let Some(race) = inner.races.get_mut(&name) {
            race.sockets.push(SocketRec { tx: tx.clone() });
        }
        inner.ping_interval
    };
    let mut pinger = tokio::time::interval(ping_interval.unwrap_or(Duration::from_secs(3600)));
    pinger.tick().await;
    loop {
        tokio::select! {
            out = rx.recv() => match out {
                Some(Outgoing::Frame(frame)) => {
                    if sink.send(Message::text(frame.to_string())).await.is_err() { break }
                }
                Some(Outgoing::Close(code)) => {
                    let _ = sink.send(Message::Close(Some(CloseFrame { code: CloseCode::from(code), reason: "".into() }))).await;
                    break;
                }
                None => break,
            },
            _ = pinger.tick(), if ping_interval.is_some() => {
                if sink.send(Message::Ping(Vec::new().into())).await.is_err() { break }
            }
            frame = stream.next() => match frame {
                Some(Ok(Message::Text(text))) => {
                    match handle_action(&fake, &name, &token, text.as_str()) {
                        Ok(replies) => for reply in replies {
                            let _ = tx.send(Outgoing::Frame(reply));
                        },
                        Err(()) => {
                            let _ = sink.send(Message::Close(Some(CloseFrame { code: CloseCode::Error, reason: "".into() }))).await;
                            break;
                        }
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            }
        }
    }
}

fn error(messages: &[&str]) -> Vec<Json> {
    vec![json!({"type": "error", "date": now().to_rfc3339(), "errors": messages})]
}

/// One bot action; Ok(frames for this connection only) or Err(()) for a consumer crash (1011).
fn handle_action(
    fake: &FakeRacetime,
    name: &str,
    token: &str,
    text: &str,
) -> Result<Vec<Json>, ()> {
    let Ok(frame) = serde_json::from_str::<Json>(text) else {
        return Ok(error(&[
            "Unable to process that message (encountered invalid or possibly corrupted data). Sorry about that.",
        ]));
    };
    let Some(frame) = frame.as_object() else {
        return Err(());
    };
    let action = frame
        .get("action")
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_string();
    let data = frame.get("data").cloned().unwrap_or(Json::Null);
    let mut inner = fake.lock();
    inner.actions.push((name.to_string(), action.clone()));
    match action.as_str() {
        "ping" => return Ok(vec![json!({"type": "pong", "date": now().to_rfc3339()})]),
        "getrace" => {
            let Some(race) = inner.races.get(name) else {
                return Ok(vec![]);
            };
            return Ok(vec![
                json!({"type": "race.data", "date": now().to_rfc3339(), "race": inner.race_json(race), "version": race.version}),
            ]);
        }
        "gethistory" => {
            if data.is_null() {
                return Err(());
            }
            let Some(race) = inner.races.get(name) else {
                return Ok(vec![]);
            };
            let public: Vec<&Json> = race
                .messages
                .iter()
                .filter(|m| m["is_dm"] != json!(true))
                .collect();
            let after = data.get("last_message").and_then(Json::as_str);
            let start = after
                .and_then(|id| {
                    public
                        .iter()
                        .position(|m| m["id"] == json!(id))
                        .map(|p| p + 1)
                })
                .unwrap_or(0);
            let mut chosen: Vec<Json> = public[start..]
                .iter()
                .rev()
                .take(100)
                .rev()
                .map(|m| (*m).clone())
                .collect();
            let pinned: Vec<Json> = public[..start]
                .iter()
                .filter(|m| m["is_pinned"] == json!(true))
                .map(|m| (*m).clone())
                .collect();
            chosen.retain(|m| m["is_pinned"] != json!(true));
            let pinned_new: Vec<Json> = public[start..]
                .iter()
                .filter(|m| m["is_pinned"] == json!(true))
                .map(|m| (*m).clone())
                .collect();
            chosen.extend(pinned);
            chosen.extend(pinned_new);
            return Ok(vec![
                json!({"type": "chat.history", "date": now().to_rfc3339(), "messages": chosen}),
            ]);
        }
        _ => {}
    }
    let known = [
        "message",
        "pin_message",
        "unpin_message",
        "setinfo",
        "setmeta",
        "make_open",
        "make_invitational",
        "begin",
        "cancel",
        "invite",
        "accept_request",
        "force_unready",
        "remove_entrant",
        "add_monitor",
        "remove_monitor",
        "override_stream",
    ];
    if !known.contains(&action.as_str()) {
        return Ok(error(&[
            "Action is missing or not recognised. Check your input and try again.",
        ]));
    }
    let category = inner
        .races
        .get(name)
        .map(|r| r.category.clone())
        .unwrap_or_default();
    if inner.token_category(token).as_deref() != Some(category.as_str()) {
        return Ok(error(&[
            "Permission denied. Check your authorization token.",
        ]));
    }
    if data.is_null() && matches!(action.as_str(), "message" | "setinfo" | "setmeta") {
        return Err(());
    }
    let user_of = |data: &Json| {
        data.get("user")
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_string()
    };
    match action.as_str() {
        "message" => {
            let guid = data.get("guid").and_then(Json::as_str).unwrap_or_default();
            if guid.is_empty()
                || !guid
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase() || b == b'-')
            {
                return Ok(error(&[
                    "Bad request, no GUID supplied. A unique string is required to prevent duplicate messaging.",
                ]));
            }
            let Some(race) = inner.races.get(name) else {
                return Ok(vec![]);
            };
            if inner.chat_closed(race) {
                return Ok(error(&[
                    "This race chat is now closed. No new messages may be added.",
                ]));
            }
            if race
                .guids
                .get(guid)
                .is_some_and(|seen| seen.elapsed() < Duration::from_secs(300))
            {
                return Ok(vec![]);
            }
            let text = data
                .get("message")
                .and_then(Json::as_str)
                .unwrap_or_default()
                .trim()
                .to_string();
            let length = text.chars().count();
            if length == 0 {
                return Ok(error(&["message: This field is required."]));
            }
            if length > 1000 {
                return Ok(vec![
                    json!({"type": "error", "errors": [format!("message: Ensure this value has at most 1000 characters (it has {length}).")]}),
                ]);
            }
            let actions = data
                .get("actions")
                .cloned()
                .filter(|a| a.is_object())
                .unwrap_or(json!({}));
            if actions.as_object().is_some_and(|a| a.len() > 4) {
                return Ok(error(&[
                    "actions: A message may only have up to 4 actions.",
                ]));
            }
            let direct_to = data
                .get("direct_to")
                .and_then(Json::as_str)
                .map(str::to_string);
            if let Some(user) = &direct_to
                && !inner.users.contains_key(user)
            {
                return Ok(error(&["direct_to: Unrecognised user"]));
            }
            let pinned = data.get("pinned").and_then(Json::as_bool).unwrap_or(false);
            if let Some(race) = inner.races.get_mut(name) {
                race.guids.insert(guid.to_string(), Instant::now());
            }
            inner.post(
                name,
                None,
                true,
                &text,
                pinned,
                actions,
                direct_to.as_deref(),
            );
        }
        "pin_message" | "unpin_message" => {
            let id = data
                .get("message")
                .and_then(Json::as_str)
                .unwrap_or_default();
            let pin = action == "pin_message";
            let Some(race) = inner.races.get_mut(name) else {
                return Ok(vec![]);
            };
            let Some(message) = race.messages.iter_mut().find(|m| m["id"] == json!(id)) else {
                return Ok(error(&["Could not find a message with that ID."]));
            };
            message["is_pinned"] = json!(pin);
            let message = message.clone();
            inner.broadcast(
                name,
                json!({"type": if pin { "chat.pin" } else { "chat.unpin" }, "message": message}),
            );
        }
        "setinfo" => {
            let Some(race) = inner.races.get_mut(name) else {
                return Ok(vec![]);
            };
            for (key, slot) in [
                ("info_bot", &mut race.info_bot),
                ("info_user", &mut race.info_user),
            ] {
                if let Some(value) = data.get(key).and_then(Json::as_str)
                    && !value.trim().is_empty()
                {
                    *slot = value.to_string();
                }
            }
            inner.system(
                name,
                &format!("##bot##{BOT_NAME}## updated the race information."),
            );
            inner.bump(name);
        }
        "setmeta" => {
            let Some(meta) = data.as_object() else {
                return Err(());
            };
            let Some(race) = inner.races.get_mut(name) else {
                return Ok(vec![]);
            };
            let mut merged = race.bot_meta.clone();
            merged.extend(meta.clone());
            if Json::Object(merged.clone()).to_string().len() > 2048 {
                return Ok(error(&["Data provided is too large to save."]));
            }
            race.bot_meta = merged;
            race.version += 1;
        }
        "make_open" | "make_invitational" => {
            let (from, to, text) = if action == "make_open" {
                (
                    "invitational",
                    "open",
                    format!("{BOT_NAME} sets the race to be open. Anyone may now join."),
                )
            } else {
                (
                    "open",
                    "invitational",
                    format!("{BOT_NAME} sets the race to be invite only."),
                )
            };
            let Some(race) = inner.races.get_mut(name) else {
                return Ok(vec![]);
            };
            if race.status != from {
                return Ok(error(&[if from == "open" {
                    "Race is not open."
                } else {
                    "Race is not an invitational."
                }]));
            }
            race.status = to.into();
            inner.system(name, &text);
            inner.bump(name);
        }
        "begin" => {
            let ready = inner.races.get(name).map_or(0, |r| {
                r.entrants.iter().filter(|e| e.status == "ready").count()
            });
            let preparing = inner
                .races
                .get(name)
                .is_some_and(|r| r.status == "open" || r.status == "invitational");
            if !preparing || ready < 2 {
                return Ok(error(&["Race cannot be started yet."]));
            }
            drop(inner);
            fake.begin(name);
            return Ok(vec![]);
        }
        "cancel" => {
            let Some(race) = inner.races.get_mut(name) else {
                return Ok(vec![]);
            };
            if is_done(&race.status) {
                let status = race.status.clone();
                return Ok(vec![
                    json!({"type": "error", "errors": [format!("Cannot cancel a race that is in {status} state.")]}),
                ]);
            }
            race.status = "cancelled".into();
            race.ended_at = Some(now());
            inner.system(
                name,
                &format!("This race has been cancelled by {BOT_NAME}."),
            );
            inner.bump(name);
        }
        "invite" => {
            let user = user_of(&data);
            if !inner.users.contains_key(&user) {
                return Ok(error(&["No user found matching the given ID."]));
            }
            let user_name = inner.user_name(&user);
            let busy_elsewhere = inner.races.iter().any(|(n, r)| {
                n != name
                    && !is_done(&r.status)
                    && r.status != "open"
                    && r.status != "invitational"
                    && r.entrants
                        .iter()
                        .any(|e| e.user == user && e.status == "in_progress")
            });
            let Some(race) = inner.races.get_mut(name) else {
                return Ok(vec![]);
            };
            if race.entrants.iter().any(|e| e.user == user) {
                return Ok(vec![
                    json!({"type": "error", "errors": [format!("{user_name} is already an entrant.")]}),
                ]);
            }
            if !(race.status == "open" || race.status == "invitational") {
                return Ok(error(&["User is not eligible to join this race."]));
            }
            if busy_elsewhere {
                return Ok(vec![
                    json!({"type": "error", "errors": [format!("{user_name} is not allowed to join this race.")]}),
                ]);
            }
            race.entrants.push(EntrantRec {
                user,
                status: "invited".into(),
                finish_time: None,
                place: None,
                team: None,
            });
            inner.system(
                name,
                &format!("{BOT_NAME} invites {user_name} to join the race."),
            );
            inner.bump(name);
        }
        "accept_request" => {
            let user = user_of(&data);
            let user_name = inner.user_name(&user);
            let Some(race) = inner.races.get_mut(name) else {
                return Ok(vec![]);
            };
            let Some(entrant) = race.entrants.iter_mut().find(|e| e.user == user) else {
                return Ok(error(&["Specified user is not a race entrant."]));
            };
            if entrant.status != "requested" {
                return Ok(error(&[
                    "This user has not requested to join this race. Refresh to continue.",
                ]));
            }
            entrant.status = "not_ready".into();
            inner.system(
                name,
                &format!("{BOT_NAME} accepts a request to join from {user_name}."),
            );
            inner.bump(name);
        }
        "add_monitor" | "remove_monitor" => {
            let user = user_of(&data);
            let user_name = inner.user_name(&user);
            let Some(race) = inner.races.get_mut(name) else {
                return Ok(vec![]);
            };
            if !race.entrants.iter().any(|e| e.user == user) {
                return Ok(error(&["Specified user is not a race entrant."]));
            }
            if action == "add_monitor" {
                if race.monitors.len() > 5 {
                    return Ok(error(&["Races cannot have more than 5 monitors."]));
                }
                if is_done(&race.status) || race.monitors.contains(&user) {
                    return Ok(vec![]);
                }
                race.monitors.push(user);
                inner.system(
                    name,
                    &format!("{BOT_NAME} promoted {user_name} to race monitor."),
                );
            } else {
                if !race.monitors.contains(&user) {
                    return Ok(vec![]);
                }
                race.monitors.retain(|m| *m != user);
                inner.system(
                    name,
                    &format!("{BOT_NAME} demoted {user_name} from race monitor."),
                );
            }
            inner.bump(name);
        }
        "override_stream" | "force_unready" | "remove_entrant" => {
            let user = user_of(&data);
            let user_name = inner.user_name(&user);
            let Some(race) = inner.races.get_mut(name) else {
                return Ok(vec![]);
            };
            let preparing = race.status == "open" || race.status == "invitational";
            let Some(index) = race
                .entrants
                .iter()
                .position(|e| e.user == user)
                .filter(|_| preparing)
            else {
                let message = match action.as_str() {
                    "override_stream" => {
                        "You cannot set a stream override for this entrant at this time. Refresh to continue."
                    }
                    "force_unready" => {
                        "You cannot force this entrant to unready at this time. Refresh to continue."
                    }
                    _ => "You cannot remove this entrant at this time. Refresh to continue.",
                };
                return Ok(error(&[message]));
            };
            let text = match action.as_str() {
                "override_stream" => format!("{BOT_NAME} sets a stream override for {user_name}."),
                "force_unready" => {
                    race.entrants[index].status = "not_ready".into();
                    format!("{BOT_NAME} unreadies {user_name}.")
                }
                _ => {
                    race.entrants.remove(index);
                    format!("{BOT_NAME} removes {user_name} from the race.")
                }
            };
            inner.system(name, &text);
            inner.bump(name);
        }
        _ => {}
    }
    Ok(vec![])
}
