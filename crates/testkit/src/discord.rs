//! A fake Discord: the REST API v10 routes the gateway service calls, recording every call and
//! answering with the objects Discord documents (so twilight-model parses them), and a gateway
//! websocket that speaks the Discord gateway protocol: HELLO, IDENTIFY → READY, heartbeats and
//! their ACKs, dispatches with sequence numbers, and RESUME after a dropped connection (missed
//! dispatches are replayed, then RESUMED).
//!
//! Tests play users through [`FakeDiscord::slash_command`] and friends, which dispatch
//! `INTERACTION_CREATE` payloads shaped like Discord's, and read what the bot did through
//! [`FakeDiscord::calls`] and [`FakeDiscord::wait_for_call`].

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{Method, Request, Response, StatusCode, Uri, header};
use axum::routing::{any, get};
use futures::{SinkExt, StreamExt};
use serde_json::{Value as Json, json};
use tokio::sync::{broadcast, mpsc};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

/// The bot user's id in READY and as the author of its messages.
pub const BOT_USER_ID: u64 = 900_000_000_000_000_001;
/// The application id the fake expects in webhook and command routes.
pub const APPLICATION_ID: u64 = 900_000_000_000_000_002;
/// The bot token the fake accepts (`Authorization: Bot <token>`, and in IDENTIFY).
pub const BOT_TOKEN: &str = "fake-discord-bot-token";

/// One REST call the bot made.
#[derive(Clone, Debug)]
pub struct Call {
    pub method: String,
    /// The path after `/api/v10`, e.g. `/channels/1/messages`.
    pub path: String,
    /// The JSON body (`Null` when there was none; multipart bodies keep their `payload_json`).
    pub body: Json,
    /// When the request arrived (its body read).
    pub at: std::time::Instant,
    /// Files of a multipart body: `(file name, bytes)`.
    pub files: Vec<(String, Vec<u8>)>,
}

/// Who invokes an interaction, and where.
#[derive(Clone, Debug)]
pub struct Invoker {
    pub user_id: u64,
    pub username: String,
    /// `None`: a DM with the bot.
    pub guild_id: Option<u64>,
    pub channel_id: u64,
    /// Permission bits of the member in that channel (Discord sends them as a string).
    pub permissions: u64,
}

impl Invoker {
    /// A member of guild 1 in channel 10 with the usual member permissions (no Administrator).
    pub fn member(user_id: u64, username: &str) -> Self {
        Self {
            user_id,
            username: username.to_string(),
            guild_id: Some(1),
            channel_id: 10,
            permissions: 0x0000_0000_0006_4c40,
        }
    }

    /// The same member with Administrator (and Manage Guild).
    pub fn admin(user_id: u64, username: &str) -> Self {
        Self {
            permissions: 0x8 | 0x20,
            ..Self::member(user_id, username)
        }
    }
}

/// A sent interaction: what the bot needs to answer it.
#[derive(Clone, Debug)]
pub struct SentInteraction {
    pub id: u64,
    pub token: String,
}

#[derive(Default)]
struct Inner {
    calls: Vec<Call>,
    /// Messages by channel, as created (and edited) through REST.
    messages: HashMap<u64, Vec<Json>>,
    /// Interaction responses and edits by interaction token: the original response message.
    originals: HashMap<String, Json>,
    /// Interaction tokens that got their initial response.
    answered: HashSet<String>,
    /// Interaction payloads sent, by interaction id (for redelivery).
    payloads: HashMap<u64, Json>,
    /// Originals the bot deleted, by interaction token.
    deleted_originals: HashSet<String>,
    /// Follow-up messages by interaction token.
    followups: HashMap<String, Vec<Json>>,
    commands_global: Vec<Json>,
    commands_guild: HashMap<u64, Vec<Json>>,
    files: HashMap<String, (String, Bytes)>,
    blocked_dms: HashSet<u64>,
    forbidden_channels: HashSet<u64>,
    dm_channels: HashMap<u64, u64>,
    scheduled_events: HashMap<u64, Json>,
    /// Threads started from a message, by that message's id.
    threads: HashMap<u64, Json>,
    /// Answer the next N calls whose path starts with the prefix with 429.
    rate_limits: Vec<(String, u32)>,
    sessions: HashMap<String, Session>,
    identify_count: u32,
    resume_count: u32,
}

#[derive(Default)]
struct Session {
    seq: u64,
    /// Every dispatch with its sequence number, for RESUME.
    sent: Vec<(u64, Json)>,
    live: Option<mpsc::UnboundedSender<Outgoing>>,
}

enum Outgoing {
    Frame(Json),
    Close(u16),
}

/// The fake; cheap to clone.
#[derive(Clone)]
pub struct FakeDiscord {
    inner: Arc<Mutex<Inner>>,
    ids: Arc<AtomicU64>,
    calls_tx: broadcast::Sender<Call>,
    /// `http://127.0.0.1:PORT`: REST is under `/api/v10`, files under `/files`.
    pub url: String,
    /// `ws://127.0.0.1:PORT`: the gateway (`/?v=10&encoding=json`).
    pub gateway_url: String,
    /// `host:port`, what twilight-http's proxy setting takes.
    pub authority: String,
}

impl std::fmt::Debug for FakeDiscord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeDiscord")
            .field("url", &self.url)
            .finish()
    }
}

fn snowflake(id: u64) -> Json {
    Json::String(id.to_string())
}

/// Discord's timestamp format, e.g. `2024-01-01T00:00:00.000000+00:00`.
fn now() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.6f+00:00")
        .to_string()
}

fn user_json(id: u64, username: &str, bot: bool) -> Json {
    json!({"id": snowflake(id), "username": username, "discriminator": "0", "global_name": username,
           "avatar": null, "bot": bot, "public_flags": 0})
}

impl FakeDiscord {
    /// Starts the fake on an ephemeral port.
    pub async fn start() -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let authority = listener.local_addr()?.to_string();
        let (calls_tx, _) = broadcast::channel(1024);
        let fake = Self {
            inner: Arc::new(Mutex::new(Inner::default())),
            ids: Arc::new(AtomicU64::new(1_000_000_000_000_000_000)),
            calls_tx,
            url: format!("http://{authority}"),
            gateway_url: format!("ws://{authority}"),
            authority,
        };
        let app = Router::new()
            .route("/", get(gateway))
            .route("/files/{name}", get(file))
            .route("/api/v10/{*rest}", any(rest))
            .with_state(fake.clone());
        tokio::spawn(async move {
            crate::ws::serve(listener, app).await;
        });
        Ok(fake)
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn next_id(&self) -> u64 {
        self.ids.fetch_add(1, Ordering::Relaxed)
    }

    /// Every REST call so far.
    pub fn calls(&self) -> Vec<Call> {
        self.lock().calls.clone()
    }

    /// Calls whose method and path match.
    pub fn calls_to(&self, method: &str, path: &str) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.method == method && c.path == path)
            .collect()
    }

    /// A stream of REST calls from now on.
    pub fn subscribe_calls(&self) -> broadcast::Receiver<Call> {
        self.calls_tx.subscribe()
    }

    /// Waits until a recorded call satisfies `matches`; panics after `timeout` with the calls.
    pub async fn wait_for_call(&self, timeout: Duration, matches: impl Fn(&Call) -> bool) -> Call {
        let mut rx = self.subscribe_calls();
        if let Some(call) = self.calls().into_iter().find(|c| matches(c)) {
            return call;
        }
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Ok(call)) if matches(&call) => return call,
                Ok(Ok(_)) | Ok(Err(broadcast::error::RecvError::Lagged(_))) => {}
                _ => {
                    let calls = self.calls();
                    if let Some(call) = calls.iter().find(|c| matches(c)) {
                        return call.clone();
                    }
                    panic!(
                        "no matching Discord call within {timeout:?}; calls so far: {:#?}",
                        calls
                            .iter()
                            .map(|c| format!("{} {} {}", c.method, c.path, c.body))
                            .collect::<Vec<_>>()
                    );
                }
            }
        }
    }

    /// Polls `found` every 10 ms until it gives a value; panics after `timeout` naming `what`
    /// and listing the calls so far.
    async fn poll<T>(
        &self,
        timeout: Duration,
        what: &str,
        mut found: impl FnMut(&Inner) -> Option<T>,
    ) -> T {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(value) = found(&self.lock()) {
                return value;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no {what} within {timeout:?}; calls: {:#?}",
                self.calls()
                    .iter()
                    .map(|c| format!("{} {} {}", c.method, c.path, c.body))
                    .collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// The interaction's original response as it stands (after the bot's edits), once the bot
    /// edited it or answered with a message; waits up to `timeout` for `ready` to hold.
    pub async fn wait_for_reply(
        &self,
        interaction: &SentInteraction,
        timeout: Duration,
        ready: impl Fn(&Json) -> bool,
    ) -> Json {
        let what = format!("reply to interaction {}", interaction.id);
        self.poll(timeout, &what, |inner| {
            inner
                .originals
                .get(&interaction.token)
                .filter(|reply| ready(reply))
                .cloned()
        })
        .await
    }

    /// The first follow-up message the bot sent for an interaction; waits for it.
    pub async fn wait_for_followup(
        &self,
        interaction: &SentInteraction,
        timeout: Duration,
    ) -> Json {
        let what = format!("follow-up to interaction {}", interaction.id);
        self.poll(timeout, &what, |inner| {
            inner
                .followups
                .get(&interaction.token)
                .and_then(|f| f.first().cloned())
        })
        .await
    }

    /// Whether the bot deleted the interaction's original response.
    pub fn original_deleted(&self, interaction: &SentInteraction) -> bool {
        self.lock().deleted_originals.contains(&interaction.token)
    }

    /// Messages created in a channel (including DM channels), oldest first.
    pub fn channel_messages(&self, channel_id: u64) -> Vec<Json> {
        self.lock()
            .messages
            .get(&channel_id)
            .cloned()
            .unwrap_or_default()
    }

    /// The DM channel the bot opened with a user, if any.
    pub fn dm_channel(&self, user_id: u64) -> Option<u64> {
        self.lock().dm_channels.get(&user_id).copied()
    }

    /// Application commands registered globally (`None`) or for a guild.
    pub fn registered_commands(&self, guild: Option<u64>) -> Vec<Json> {
        let inner = self.lock();
        match guild {
            None => inner.commands_global.clone(),
            Some(g) => inner.commands_guild.get(&g).cloned().unwrap_or_default(),
        }
    }

    /// Threads started from messages, by the message's id.
    pub fn threads(&self) -> HashMap<u64, Json> {
        self.lock().threads.clone()
    }

    /// Scheduled events that exist now, by id.
    pub fn scheduled_events(&self) -> HashMap<u64, Json> {
        self.lock().scheduled_events.clone()
    }

    /// Serves a file (an attachment's CDN URL); returns its URL.
    pub fn host_file(&self, name: &str, content_type: &str, bytes: impl Into<Bytes>) -> String {
        self.lock()
            .files
            .insert(name.to_string(), (content_type.to_string(), bytes.into()));
        format!("{}/files/{name}", self.url)
    }

    /// The user has DMs from server members closed: sending to their DM channel answers
    /// 403 / code 50007.
    pub fn block_dms(&self, user_id: u64) {
        self.lock().blocked_dms.insert(user_id);
    }

    /// The bot lacks access to the channel: creating a message answers 403 / code 50001.
    pub fn forbid_channel(&self, channel_id: u64) {
        self.lock().forbidden_channels.insert(channel_id);
    }

    /// The next `count` calls whose path starts with `prefix` answer 429 with a short
    /// `retry_after`, like a route bucket running dry.
    pub fn rate_limit(&self, prefix: &str, count: u32) {
        self.lock().rate_limits.push((prefix.to_string(), count));
    }

    /// How many IDENTIFYs and RESUMEs the gateway saw.
    pub fn gateway_counts(&self) -> (u32, u32) {
        let inner = self.lock();
        (inner.identify_count, inner.resume_count)
    }

    /// Number of live gateway connections that identified or resumed.
    pub fn live_sessions(&self) -> usize {
        self.lock()
            .sessions
            .values()
            .filter(|s| s.live.as_ref().is_some_and(|tx| !tx.is_closed()))
            .count()
    }

    /// Waits until a gateway session is live.
    pub async fn wait_for_session(&self, timeout: Duration) {
        let deadline = tokio::time::Instant::now() + timeout;
        while self.live_sessions() == 0 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the bot never connected to the gateway"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Drops every gateway connection without a close frame (a network failure); sessions
    /// stay resumable and dispatches sent meanwhile are replayed on RESUME.
    pub fn drop_gateway(&self) {
        for session in self.lock().sessions.values_mut() {
            if let Some(tx) = session.live.take() {
                let _ = tx.send(Outgoing::Close(4000));
            }
        }
    }

    /// Sends a dispatch to every session (buffered for sessions that are disconnected).
    pub fn dispatch(&self, event: &str, data: Json) {
        let mut inner = self.lock();
        for session in inner.sessions.values_mut() {
            session.seq += 1;
            let frame = json!({"op": 0, "t": event, "s": session.seq, "d": data.clone()});
            session.sent.push((session.seq, frame.clone()));
            if let Some(tx) = &session.live {
                let _ = tx.send(Outgoing::Frame(frame));
            }
        }
    }

    fn interaction(
        &self,
        kind: u8,
        invoker: &Invoker,
        data: Json,
        message: Option<Json>,
    ) -> (SentInteraction, Json) {
        let id = self.next_id();
        let token = format!("interaction-token-{id}");
        let user = user_json(invoker.user_id, &invoker.username, false);
        let mut payload = json!({
            "id": snowflake(id),
            "application_id": snowflake(APPLICATION_ID),
            "type": kind,
            "data": data,
            "token": token,
            "version": 1,
            "locale": "en-US",
            "app_permissions": "2248473465835073",
            "entitlements": [],
            "attachment_size_limit": 10_485_760,
            "channel_id": snowflake(invoker.channel_id),
            "channel": {"id": snowflake(invoker.channel_id), "type": if invoker.guild_id.is_some() { 0 } else { 1 }},
        });
        match invoker.guild_id {
            Some(guild) => {
                payload["guild_id"] = snowflake(guild);
                payload["guild_locale"] = json!("en-US");
                payload["context"] = json!(0);
                payload["authorizing_integration_owners"] = json!({"0": snowflake(guild)});
                payload["member"] = json!({
                    "user": user, "roles": [], "joined_at": "2024-01-01T00:00:00.000000+00:00",
                    "deaf": false, "mute": false, "flags": 0, "pending": false,
                    "permissions": invoker.permissions.to_string(), "avatar": null, "nick": null,
                });
            }
            None => {
                payload["context"] = json!(1);
                payload["authorizing_integration_owners"] =
                    json!({"1": snowflake(invoker.user_id)});
                payload["user"] = user;
            }
        }
        if let Some(message) = message {
            payload["message"] = message;
        }
        (SentInteraction { id, token }, payload)
    }

    fn command_id(&self, name: &str, guild: Option<u64>) -> u64 {
        let inner = self.lock();
        let lists = guild
            .and_then(|g| inner.commands_guild.get(&g))
            .into_iter()
            .chain(std::iter::once(&inner.commands_global));
        for list in lists {
            if let Some(id) = list
                .iter()
                .find(|c| c["name"] == name)
                .and_then(|c| c["id"].as_str())
                .and_then(|id| id.parse().ok())
            {
                return id;
            }
        }
        // Not registered (yet): Discord ids are never 0.
        self.next_id()
    }

    /// Dispatches an interaction again, as a gateway that lost track of an acknowledgement
    /// might: the bot must not act on it twice.
    pub fn redeliver(&self, interaction: &SentInteraction) {
        let payload = self.lock().payloads.get(&interaction.id).cloned();
        if let Some(payload) = payload {
            self.dispatch("INTERACTION_CREATE", payload);
        }
    }

    /// Dispatches a slash command. `path` is the command and its subcommand (e.g.
    /// `["alttpr", "preset"]`); `options` are the leaf options as `(name, value)` where the
    /// value's JSON type picks the option type (string 3, integer 4, boolean 5); attachments
    /// go in `attachments` as `(option name, file name, url, size, content type)`.
    pub fn slash_command(
        &self,
        invoker: &Invoker,
        path: &[&str],
        options: &[(&str, Json)],
        attachments: &[(&str, &str, &str, u64, &str)],
    ) -> SentInteraction {
        let mut leaf: Vec<Json> = options
            .iter()
            .map(|(name, value)| {
                let kind = match value {
                    Json::Bool(_) => 5,
                    Json::Number(n) if n.is_i64() || n.is_u64() => 4,
                    Json::Number(_) => 10,
                    _ => 3,
                };
                json!({"name": name, "type": kind, "value": value})
            })
            .collect();
        let mut resolved = serde_json::Map::new();
        for (option, filename, url, size, content_type) in attachments {
            let id = self.next_id();
            leaf.push(json!({"name": option, "type": 11, "value": snowflake(id)}));
            resolved.insert(
                id.to_string(),
                json!({"id": snowflake(id), "filename": filename, "size": size, "url": url,
                       "proxy_url": url, "content_type": content_type, "ephemeral": true}),
            );
        }
        let options = path[1..].iter().rev().fold(leaf, |inner, sub| {
            vec![json!({"name": sub, "type": 1, "options": inner})]
        });
        let mut data = json!({
            "id": snowflake(self.command_id(path[0], invoker.guild_id)),
            "name": path[0],
            "type": 1,
            "options": options,
        });
        if !resolved.is_empty() {
            data["resolved"] = json!({"attachments": resolved});
        }
        if let Some(guild) = invoker.guild_id {
            data["guild_id"] = snowflake(guild);
        }
        let (sent, payload) = self.interaction(2, invoker, data, None);
        self.lock().payloads.insert(sent.id, payload.clone());
        self.dispatch("INTERACTION_CREATE", payload);
        sent
    }

    /// Dispatches an autocomplete interaction: like [`Self::slash_command`], with the
    /// focused option's partial value.
    pub fn autocomplete(
        &self,
        invoker: &Invoker,
        path: &[&str],
        options: &[(&str, Json)],
        focused: (&str, &str),
    ) -> SentInteraction {
        let mut leaf: Vec<Json> = options
            .iter()
            .map(|(name, value)| json!({"name": name, "type": 3, "value": value}))
            .collect();
        leaf.push(json!({"name": focused.0, "type": 3, "value": focused.1, "focused": true}));
        let options = path[1..].iter().rev().fold(leaf, |inner, sub| {
            vec![json!({"name": sub, "type": 1, "options": inner})]
        });
        let data = json!({
            "id": snowflake(self.command_id(path[0], invoker.guild_id)),
            "name": path[0],
            "type": 1,
            "options": options,
        });
        let (sent, payload) = self.interaction(4, invoker, data, None);
        self.dispatch("INTERACTION_CREATE", payload);
        sent
    }

    /// Dispatches a click on a button (component type 2) with `custom_id`, on a message the
    /// bot posted in the invoker's channel.
    pub fn click_button(&self, invoker: &Invoker, custom_id: &str) -> SentInteraction {
        let data = json!({"custom_id": custom_id, "component_type": 2});
        let message = self.message(
            invoker.channel_id,
            &json!({"content": "", "components": [{"type": 1, "components": [
                {"type": 2, "style": 1, "label": "Button", "custom_id": custom_id}
            ]}]}),
        );
        let (sent, payload) = self.interaction(3, invoker, data, Some(message));
        self.lock().payloads.insert(sent.id, payload.clone());
        self.dispatch("INTERACTION_CREATE", payload);
        sent
    }

    /// Dispatches a modal submission with `custom_id` and its text inputs `(custom_id, value)`.
    pub fn submit_modal(
        &self,
        invoker: &Invoker,
        custom_id: &str,
        fields: &[(&str, &str)],
    ) -> SentInteraction {
        // Discord numbers every component of the modal (`id`) since components v2.
        let rows: Vec<Json> = fields
            .iter()
            .zip(1..)
            .map(|((id, value), n)| {
                json!({"type": 1, "id": 2 * n - 1, "components": [
                    {"type": 4, "id": 2 * n, "custom_id": id, "value": value}
                ]})
            })
            .collect();
        let data = json!({"custom_id": custom_id, "components": rows});
        let (sent, payload) = self.interaction(5, invoker, data, None);
        self.lock().payloads.insert(sent.id, payload.clone());
        self.dispatch("INTERACTION_CREATE", payload);
        sent
    }

    /// The choices the bot answered an autocomplete with (waits for the callback).
    pub async fn autocomplete_choices(
        &self,
        interaction: &SentInteraction,
        timeout: Duration,
    ) -> Vec<Json> {
        let path = format!(
            "/interactions/{}/{}/callback",
            interaction.id, interaction.token
        );
        let call = self
            .wait_for_call(timeout, |c| c.method == "POST" && c.path == path)
            .await;
        assert_eq!(
            call.body["type"], 8,
            "not an autocomplete result: {}",
            call.body
        );
        call.body["data"]["choices"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The interaction callback the bot sent first (its type: 4 message, 5 deferred, 8
    /// autocomplete result, ...).
    pub async fn callback(&self, interaction: &SentInteraction, timeout: Duration) -> Json {
        let path = format!(
            "/interactions/{}/{}/callback",
            interaction.id, interaction.token
        );
        self.wait_for_call(timeout, |c| c.method == "POST" && c.path == path)
            .await
            .body
    }

    fn message(&self, channel_id: u64, body: &Json) -> Json {
        json!({
            "id": snowflake(self.next_id()),
            "channel_id": snowflake(channel_id),
            "author": user_json(BOT_USER_ID, "SahasrahBot", true),
            "content": body.get("content").cloned().filter(|c| !c.is_null()).unwrap_or(json!("")),
            "timestamp": now(),
            "edited_timestamp": null,
            "tts": false,
            "mention_everyone": false,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": body.get("embeds").cloned().filter(|c| !c.is_null()).unwrap_or(json!([])),
            "components": body.get("components").cloned().filter(|c| !c.is_null()).unwrap_or(json!([])),
            "pinned": false,
            "type": 0,
            "flags": body.get("flags").cloned().filter(|c| !c.is_null()).unwrap_or(json!(0)),
        })
    }
}

fn json_response(status: StatusCode, body: &Json) -> Response<Body> {
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        "application/json".parse().expect("header"),
    );
    response
}

fn empty(status: StatusCode) -> Response<Body> {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    response
}

fn error(status: StatusCode, code: u32, message: &str) -> Response<Body> {
    json_response(status, &json!({"message": message, "code": code}))
}

async fn file(State(fake): State<FakeDiscord>, Path(name): Path<String>) -> Response<Body> {
    let found = fake.lock().files.get(&name).cloned();
    match found {
        Some((content_type, bytes)) => {
            let mut response = Response::new(Body::from(bytes));
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, content_type.parse().expect("header"));
            response
        }
        None => empty(StatusCode::NOT_FOUND),
    }
}

/// A request body: its JSON (plain, or the `payload_json` part of a multipart body) and the
/// files of a multipart body as `(file name, bytes)`.
fn parse_body(content_type: &str, bytes: &[u8]) -> (Json, Vec<(String, Vec<u8>)>) {
    let Some(boundary) = content_type
        .strip_prefix("multipart/form-data")
        .and_then(|rest| rest.split("boundary=").nth(1))
        .map(|b| b.trim_matches('"').to_owned())
    else {
        return (
            serde_json::from_slice(bytes).unwrap_or(Json::Null),
            Vec::new(),
        );
    };
    let delimiter = format!("--{boundary}");
    let text = bytes;
    let mut json = Json::Null;
    let mut files = Vec::new();
    let positions: Vec<usize> = text
        .windows(delimiter.len())
        .enumerate()
        .filter(|(_, w)| *w == delimiter.as_bytes())
        .map(|(i, _)| i)
        .collect();
    for pair in positions.windows(2) {
        let part = &text[pair[0] + delimiter.len()..pair[1]];
        let Some(split) = part.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let headers = String::from_utf8_lossy(&part[..split]);
        let mut content = &part[split + 4..];
        if content.ends_with(b"\r\n") {
            content = &content[..content.len() - 2];
        }
        let value = |key: &str| {
            headers
                .split(';')
                .find_map(|h| h.trim().strip_prefix(&format!("{key}=")))
                .map(|v| v.trim().trim_matches('"').to_owned())
        };
        if value("name").as_deref() == Some("payload_json") {
            json = serde_json::from_slice(content).unwrap_or(Json::Null);
        } else if let Some(filename) = value("filename") {
            files.push((filename, content.to_vec()));
        }
    }
    (json, files)
}

async fn rest(
    State(fake): State<FakeDiscord>,
    method: Method,
    uri: Uri,
    request: Request<Body>,
) -> Response<Body> {
    let path = uri
        .path()
        .strip_prefix("/api/v10")
        .unwrap_or(uri.path())
        .to_string();
    let authorized = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        == Some(&format!("Bot {BOT_TOKEN}"));
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let bytes = axum::body::to_bytes(request.into_body(), 8 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let (body, files) = parse_body(&content_type, &bytes);
    let call = Call {
        method: method.to_string(),
        path: path.clone(),
        body: body.clone(),
        files,
        at: std::time::Instant::now(),
    };
    {
        let mut inner = fake.lock();
        inner.calls.push(call.clone());
        if let Some(limit) = inner
            .rate_limits
            .iter_mut()
            .find(|(prefix, left)| *left > 0 && path.starts_with(prefix.as_str()))
        {
            limit.1 -= 1;
            drop(inner);
            let _ = fake.calls_tx.send(call);
            let mut response = json_response(
                StatusCode::TOO_MANY_REQUESTS,
                &json!({"message": "You are being rate limited.", "retry_after": 0.05, "global": false}),
            );
            let headers = response.headers_mut();
            headers.insert("retry-after", "1".parse().expect("header"));
            headers.insert("x-ratelimit-scope", "user".parse().expect("header"));
            return response;
        }
    }
    let _ = fake.calls_tx.send(call);
    // Interaction callbacks and webhooks are authorised by the interaction token.
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let is_webhook = matches!(segments.first(), Some(&"interactions") | Some(&"webhooks"));
    if !authorized && !is_webhook {
        return error(StatusCode::UNAUTHORIZED, 0, "401: Unauthorized");
    }
    route(&fake, &method, &segments, body)
}

fn route(fake: &FakeDiscord, method: &Method, segments: &[&str], body: Json) -> Response<Body> {
    let app = APPLICATION_ID.to_string();
    let parse = |s: &str| s.parse::<u64>().ok();
    match (method.as_str(), segments) {
        ("PUT", ["applications", a, "commands"]) if *a == app => {
            let commands = with_ids(fake, &body);
            fake.lock().commands_global = commands.clone();
            json_response(StatusCode::OK, &Json::Array(commands))
        }
        ("PUT", ["applications", a, "guilds", guild, "commands"]) if *a == app => {
            let commands = with_ids(fake, &body);
            if let Some(guild) = parse(guild) {
                fake.lock().commands_guild.insert(guild, commands.clone());
            }
            json_response(StatusCode::OK, &Json::Array(commands))
        }
        ("POST", ["interactions", _id, token, "callback"]) => {
            // An interaction takes one initial response, like Discord.
            if !fake.lock().answered.insert(token.to_string()) {
                return error(
                    StatusCode::BAD_REQUEST,
                    40060,
                    "Interaction has already been acknowledged.",
                );
            }
            // 4: a message now; 7: update the component's message. 5/6 defer; 8 autocomplete.
            if matches!(body["type"].as_u64(), Some(4) | Some(7)) {
                let message = fake.message(0, &body["data"]);
                fake.lock().originals.insert(token.to_string(), message);
            }
            empty(StatusCode::NO_CONTENT)
        }
        ("PATCH", ["webhooks", a, token, "messages", "@original"]) if *a == app => {
            // A deferred response's original is the "thinking" message; editing fills it in.
            let existing = fake.lock().originals.get(*token).cloned();
            let mut message = existing.unwrap_or_else(|| fake.message(0, &json!({})));
            for key in ["content", "embeds", "components", "flags"] {
                if let Some(value) = body.get(key).filter(|v| !v.is_null()) {
                    message[key] = value.clone();
                }
            }
            message["edited_timestamp"] = json!(now());
            fake.lock()
                .originals
                .insert(token.to_string(), message.clone());
            json_response(StatusCode::OK, &message)
        }
        ("DELETE", ["webhooks", a, token, "messages", "@original"]) if *a == app => {
            let mut inner = fake.lock();
            inner.originals.remove(*token);
            inner.deleted_originals.insert(token.to_string());
            empty(StatusCode::NO_CONTENT)
        }
        ("POST", ["webhooks", a, token]) if *a == app => {
            let message = fake.message(0, &body);
            fake.lock()
                .followups
                .entry(token.to_string())
                .or_default()
                .push(message.clone());
            json_response(StatusCode::OK, &message)
        }
        ("POST", ["users", "@me", "channels"]) => {
            let Some(user) = body["recipient_id"]
                .as_str()
                .and_then(parse)
                .or_else(|| body["recipient_id"].as_u64())
            else {
                return error(StatusCode::BAD_REQUEST, 50035, "Invalid Form Body");
            };
            let existing = fake.lock().dm_channels.get(&user).copied();
            let channel = existing.unwrap_or_else(|| fake.next_id());
            fake.lock().dm_channels.insert(user, channel);
            json_response(
                StatusCode::OK,
                &json!({"id": snowflake(channel), "type": 1, "last_message_id": null, "flags": 0,
                        "recipients": [user_json(user, "someone", false)]}),
            )
        }
        ("POST", ["channels", channel, "messages"]) => {
            let Some(channel) = parse(channel) else {
                return error(StatusCode::NOT_FOUND, 10003, "Unknown Channel");
            };
            let (forbidden, blocked) = {
                let inner = fake.lock();
                let blocked = inner
                    .dm_channels
                    .iter()
                    .any(|(user, c)| *c == channel && inner.blocked_dms.contains(user));
                (inner.forbidden_channels.contains(&channel), blocked)
            };
            if blocked {
                return error(
                    StatusCode::FORBIDDEN,
                    50007,
                    "Cannot send messages to this user",
                );
            }
            if forbidden {
                return error(StatusCode::FORBIDDEN, 50001, "Missing Access");
            }
            let message = fake.message(channel, &body);
            fake.lock()
                .messages
                .entry(channel)
                .or_default()
                .push(message.clone());
            json_response(StatusCode::OK, &message)
        }
        ("POST", ["channels", channel, "messages", message, "threads"]) => {
            let (Some(channel), Some(message)) = (parse(channel), parse(message)) else {
                return error(StatusCode::NOT_FOUND, 10008, "Unknown Message");
            };
            if fake.lock().threads.contains_key(&message) {
                return error(
                    StatusCode::BAD_REQUEST,
                    160004,
                    "A thread has already been created for this message",
                );
            }
            let id = fake.next_id();
            let thread = json!({
                "id": snowflake(id), "type": 11, "parent_id": snowflake(channel), "guild_id": "1",
                "name": body["name"], "owner_id": snowflake(BOT_USER_ID), "flags": 0,
                "rate_limit_per_user": 0, "last_message_id": null, "message_count": 0, "member_count": 1,
                "thread_metadata": {"archived": false, "auto_archive_duration": body["auto_archive_duration"],
                                    "archive_timestamp": now(), "locked": false},
            });
            fake.lock().threads.insert(message, thread.clone());
            json_response(StatusCode::CREATED, &thread)
        }
        ("POST", ["guilds", guild, "scheduled-events"]) => {
            let id = fake.next_id();
            let event = scheduled_event(id, guild, &body);
            fake.lock().scheduled_events.insert(id, event.clone());
            json_response(StatusCode::OK, &event)
        }
        ("PATCH", ["guilds", guild, "scheduled-events", id]) => {
            let Some(id) = parse(id) else {
                return error(
                    StatusCode::NOT_FOUND,
                    10070,
                    "Unknown Guild Scheduled Event",
                );
            };
            let mut inner = fake.lock();
            let Some(existing) = inner.scheduled_events.get(&id).cloned() else {
                return error(
                    StatusCode::NOT_FOUND,
                    10070,
                    "Unknown Guild Scheduled Event",
                );
            };
            let mut merged = existing;
            if let (Some(target), Some(patch)) = (merged.as_object_mut(), body.as_object()) {
                for (k, v) in patch {
                    target.insert(k.clone(), v.clone());
                }
            }
            let event = scheduled_event(id, guild, &merged);
            inner.scheduled_events.insert(id, event.clone());
            json_response(StatusCode::OK, &event)
        }
        ("DELETE", ["guilds", _guild, "scheduled-events", id]) => {
            match parse(id).and_then(|id| fake.lock().scheduled_events.remove(&id)) {
                Some(_) => empty(StatusCode::NO_CONTENT),
                None => error(
                    StatusCode::NOT_FOUND,
                    10070,
                    "Unknown Guild Scheduled Event",
                ),
            }
        }
        _ => error(StatusCode::NOT_FOUND, 0, "404: Not Found"),
    }
}

fn with_ids(fake: &FakeDiscord, body: &Json) -> Vec<Json> {
    body.as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|mut command| {
            command["id"] = snowflake(fake.next_id());
            command["application_id"] = snowflake(APPLICATION_ID);
            command["version"] = snowflake(1);
            command
        })
        .collect()
}

fn scheduled_event(id: u64, guild: &str, body: &Json) -> Json {
    json!({
        "id": snowflake(id),
        "guild_id": guild,
        "channel_id": body.get("channel_id").cloned().unwrap_or(Json::Null),
        "creator_id": snowflake(BOT_USER_ID),
        "name": body["name"],
        "description": body.get("description").cloned().unwrap_or(Json::Null),
        "scheduled_start_time": body["scheduled_start_time"],
        "scheduled_end_time": body.get("scheduled_end_time").cloned().unwrap_or(Json::Null),
        "privacy_level": body.get("privacy_level").cloned().unwrap_or(json!(2)),
        "status": body.get("status").cloned().unwrap_or(json!(1)),
        "entity_type": body.get("entity_type").cloned().unwrap_or(json!(3)),
        "entity_id": null,
        "entity_metadata": body.get("entity_metadata").cloned().unwrap_or(Json::Null),
        "user_count": 0,
        "image": null,
    })
}

async fn gateway(State(fake): State<FakeDiscord>, mut request: Request<Body>) -> Response<Body> {
    crate::ws::accept(&mut request, move |ws| serve_gateway(fake, ws))
}

async fn serve_gateway(fake: FakeDiscord, ws: crate::ws::ServerSocket) {
    let (mut sink, mut stream) = ws.split();
    let (tx, mut rx) = mpsc::unbounded_channel::<Outgoing>();
    let hello = json!({"op": 10, "d": {"heartbeat_interval": 41_250}});
    if sink.send(Message::text(hello.to_string())).await.is_err() {
        return;
    }
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
            frame = stream.next() => match frame {
                Some(Ok(Message::Text(text))) => {
                    let Ok(payload) = serde_json::from_str::<Json>(text.as_str()) else {
                        let _ = sink.send(Message::Close(Some(CloseFrame { code: CloseCode::from(4002), reason: "Error while decoding payload.".into() }))).await;
                        break;
                    };
                    if let Err(code) = gateway_op(&fake, &payload, &tx) {
                        let _ = sink.send(Message::Close(Some(CloseFrame { code: CloseCode::from(code), reason: "".into() }))).await;
                        break;
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            }
        }
    }
}

/// One gateway opcode from the bot; `Err(close code)` ends the connection.
fn gateway_op(
    fake: &FakeDiscord,
    payload: &Json,
    tx: &mpsc::UnboundedSender<Outgoing>,
) -> Result<(), u16> {
    match payload["op"].as_u64() {
        // Heartbeat → Heartbeat ACK.
        Some(1) => {
            let _ = tx.send(Outgoing::Frame(json!({"op": 11})));
            Ok(())
        }
        // Identify → READY.
        Some(2) => {
            if payload["d"]["token"].as_str() != Some(BOT_TOKEN)
                && payload["d"]["token"].as_str() != Some(&format!("Bot {BOT_TOKEN}"))
            {
                return Err(4004);
            }
            let session_id = format!("session-{}", fake.next_id());
            let shard = payload["d"]["shard"].clone();
            let mut inner = fake.lock();
            inner.identify_count += 1;
            let ready = json!({
                "v": 10,
                "user": {"id": snowflake(BOT_USER_ID), "username": "SahasrahBot", "discriminator": "0",
                         "global_name": null, "avatar": null, "bot": true, "mfa_enabled": false,
                         "verified": true, "flags": 0, "accent_color": null, "banner": null},
                "guilds": [{"id": "1", "unavailable": true}],
                "session_id": session_id,
                "resume_gateway_url": fake.gateway_url,
                "shard": if shard.is_null() { json!([0, 1]) } else { shard },
                "application": {"id": snowflake(APPLICATION_ID), "flags": 0},
            });
            let frame = json!({"op": 0, "t": "READY", "s": 1, "d": ready});
            inner.sessions.insert(
                session_id,
                Session {
                    seq: 1,
                    sent: vec![(1, frame.clone())],
                    live: Some(tx.clone()),
                },
            );
            let _ = tx.send(Outgoing::Frame(frame));
            Ok(())
        }
        // Resume: replay what the session missed, then RESUMED.
        Some(6) => {
            let session_id = payload["d"]["session_id"].as_str().unwrap_or_default();
            let seq = payload["d"]["seq"].as_u64().unwrap_or(0);
            let mut inner = fake.lock();
            inner.resume_count += 1;
            let Some(session) = inner.sessions.get_mut(session_id) else {
                // Invalid session, not resumable.
                let _ = tx.send(Outgoing::Frame(json!({"op": 9, "d": false})));
                return Ok(());
            };
            for (s, frame) in &session.sent {
                if *s > seq {
                    let _ = tx.send(Outgoing::Frame(frame.clone()));
                }
            }
            session.seq += 1;
            let resumed = json!({"op": 0, "t": "RESUMED", "s": session.seq, "d": {}});
            session.sent.push((session.seq, resumed.clone()));
            session.live = Some(tx.clone());
            let _ = tx.send(Outgoing::Frame(resumed));
            Ok(())
        }
        // Presence and voice updates, request guild members: accepted, nothing to answer.
        Some(3) | Some(4) | Some(8) => Ok(()),
        _ => Err(4001),
    }
}
