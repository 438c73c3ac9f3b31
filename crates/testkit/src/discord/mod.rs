//! A fake Discord: the REST API v10 routes the gateway service calls, recording every call and
//! answering with the objects Discord documents (so twilight-model parses them), and a gateway
//! websocket that speaks the Discord gateway protocol: HELLO, IDENTIFY → READY, heartbeats and
//! their ACKs, dispatches with sequence numbers, and RESUME after a dropped connection (missed
//! dispatches are replayed, then RESUMED).
//!
//! Tests play users through [`FakeDiscord::slash_command`] and friends, which dispatch
//! `INTERACTION_CREATE` payloads shaped like Discord's, and read what the bot did through
//! [`FakeDiscord::calls`] and [`FakeDiscord::wait_for_call`].

mod gateway;
mod rest;
mod state;

pub use state::{
    APPLICATION_ID, BOT_TOKEN, BOT_USER_ID, Call, DEFAULT_EVERYONE, FakeDiscord, Invoker,
    SentInteraction,
};

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::routing::{any, get};
use serde_json::{Value as Json, json};
use tokio::sync::broadcast;

use gateway::*;
use rest::*;
use state::*;

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

    /// The text of a deferred answer: the edited original response, or, when the bot replaced
    /// it (a refusal of a publicly deferred command), its first follow-up; waits for either.
    pub async fn answer_text(&self, interaction: &SentInteraction, timeout: Duration) -> String {
        let what = format!("answer to interaction {}", interaction.id);
        self.poll(timeout, &what, |inner| {
            let text = |m: &Json| {
                m["content"]
                    .as_str()
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
            };
            if inner.deleted_originals.contains(&interaction.token) {
                return inner
                    .followups
                    .get(&interaction.token)
                    .and_then(|f| f.first())
                    .and_then(text);
            }
            inner.originals.get(&interaction.token).and_then(text)
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

    /// Makes `user_id` (username `username`, new-style: discriminator 0) a member of `guild`
    /// with `roles`; replaces an earlier entry.
    pub fn add_member(&self, guild: u64, user_id: u64, username: &str, roles: &[u64]) {
        let member = json!({
            "user": state::user_json(user_id, username, false),
            "nick": null,
            "roles": roles.iter().map(|r| r.to_string()).collect::<Vec<_>>(),
            "joined_at": "2024-01-01T00:00:00.000000+00:00",
            "deaf": false, "mute": false, "flags": 0, "pending": false,
        });
        self.lock().members.insert((guild, user_id), member);
    }

    /// Sets a channel's guild and permission overwrites as `GET /channels/{id}` answers them:
    /// `(role or member id, type 0 role / 1 member, allow bits, deny bits)`.
    pub fn set_channel(&self, channel: u64, guild: u64, overwrites: &[(u64, u8, u64, u64)]) {
        let overwrites: Vec<Json> = overwrites
            .iter()
            .map(|(id, kind, allow, deny)| {
                json!({"id": id.to_string(), "type": kind, "allow": allow.to_string(), "deny": deny.to_string()})
            })
            .collect();
        self.lock().channels.insert(
            channel,
            json!({"id": channel.to_string(), "type": 0, "guild_id": guild.to_string(), "name": "channel",
                   "position": 0, "permission_overwrites": overwrites}),
        );
    }

    /// Sets a guild's roles as `(role id, permission bits)`; include the `@everyone` role (the
    /// guild's id), or the guild has none.
    pub fn set_roles(&self, guild: u64, roles: &[(u64, u64)]) {
        self.lock().roles.insert(guild, roles.to_vec());
    }

    /// What the bot may do in interactions' channels from now on (`app_permissions`).
    pub fn set_app_permissions(&self, permissions: u64) {
        self.lock().app_permissions = Some(permissions);
    }

    /// The members the bot added to a thread.
    pub fn thread_members(&self, thread: u64) -> Vec<u64> {
        self.lock()
            .thread_members
            .get(&thread)
            .cloned()
            .unwrap_or_default()
    }

    /// The member object of `user_id` in `guild` (with `communication_disabled_until` once
    /// the bot timed them out).
    pub fn member(&self, guild: u64, user_id: u64) -> Option<Json> {
        self.lock().members.get(&(guild, user_id)).cloned()
    }

    /// A member posts `content` (with `attachments` as `(file name, url, size)`) in `channel`
    /// of `guild`: the message is stored (so the bot can delete it) and dispatched as
    /// MESSAGE_CREATE with the member's `joined_at`. Returns the message.
    pub fn user_message(
        &self,
        guild: u64,
        channel: u64,
        author: (u64, &str),
        joined_at: &str,
        content: &str,
        attachments: &[(&str, &str, u64)],
    ) -> Json {
        let id = self.next_id();
        let attachments: Vec<Json> = attachments
            .iter()
            .map(|(name, url, size)| {
                json!({"id": self.next_id().to_string(), "filename": name, "size": size, "url": url, "proxy_url": url})
            })
            .collect();
        let roles = self
            .member_roles(guild, author.0)
            .unwrap_or_default()
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>();
        let message = json!({
            "id": id.to_string(), "channel_id": channel.to_string(), "guild_id": guild.to_string(),
            "author": state::user_json(author.0, author.1, false),
            "member": {"roles": roles, "joined_at": joined_at, "deaf": false, "mute": false, "flags": 0, "pending": false},
            "content": content, "timestamp": state::now(), "edited_timestamp": null, "tts": false,
            "mention_everyone": false, "mentions": [], "mention_roles": [], "attachments": attachments,
            "embeds": [], "pinned": false, "type": 0, "flags": 0,
        });
        self.lock()
            .messages
            .entry(channel)
            .or_default()
            .push(message.clone());
        self.dispatch("MESSAGE_CREATE", message.clone());
        message
    }

    /// The author edits `message` (as [`Self::user_message`] returned it) to `content`:
    /// dispatched as MESSAGE_UPDATE. Returns the edited message.
    pub fn user_edit(&self, message: &Json, content: &str) -> Json {
        let mut edited = message.clone();
        edited["content"] = json!(content);
        edited["edited_timestamp"] = json!(state::now());
        self.dispatch("MESSAGE_UPDATE", edited.clone());
        edited
    }

    /// `message` is deleted (by its author or a moderator): dispatched as MESSAGE_DELETE.
    pub fn user_delete(&self, message: &Json) {
        let channel: u64 = message["channel_id"]
            .as_str()
            .and_then(|c| c.parse().ok())
            .unwrap_or_default();
        if let Some(list) = self.lock().messages.get_mut(&channel) {
            list.retain(|m| m["id"] != message["id"]);
        }
        self.dispatch(
            "MESSAGE_DELETE",
            json!({"id": message["id"], "channel_id": message["channel_id"], "guild_id": message["guild_id"]}),
        );
    }

    /// Makes `code` an invite to guild `guild` named `name`.
    pub fn add_invite(&self, code: &str, guild: u64, name: &str) {
        self.lock()
            .invites
            .insert(code.to_string(), (guild, name.to_string()));
    }

    /// The role ids `user_id` holds in `guild` (`None`: not a member).
    pub fn member_roles(&self, guild: u64, user_id: u64) -> Option<Vec<u64>> {
        self.lock().members.get(&(guild, user_id)).map(|m| {
            m["roles"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r.as_str().and_then(|r| r.parse().ok()))
                .collect()
        })
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
            "app_permissions": self.lock().app_permissions.unwrap_or(2_248_473_465_835_073).to_string(),
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
                let roles: Vec<Json> = invoker.roles.iter().map(|r| snowflake(*r)).collect();
                payload["member"] = json!({
                    "user": user, "roles": roles, "joined_at": "2024-01-01T00:00:00.000000+00:00",
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
    /// value's JSON type picks the option type (string 3, integer 4, boolean 5; an object
    /// `{"user": "<snowflake>"}` is a user option, type 6, `{"channel": …}` a channel option,
    /// type 7, `{"role": …}` a role option, type 8); attachments
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
                if let Some(user) = value.get("user") {
                    return json!({"name": name, "type": 6, "value": user});
                }
                if let Some(channel) = value.get("channel") {
                    return json!({"name": name, "type": 7, "value": channel});
                }
                if let Some(role) = value.get("role") {
                    return json!({"name": name, "type": 8, "value": role});
                }
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
        let (sent, payload) = self.button_interaction(invoker, custom_id);
        self.dispatch("INTERACTION_CREATE", payload);
        sent
    }

    /// Dispatches a click on the button `custom_id` of `message` (a message the bot posted, as
    /// [`Self::channel_messages`] returns it), so the interaction carries that message.
    pub fn click_button_on(
        &self,
        invoker: &Invoker,
        message: &Json,
        custom_id: &str,
    ) -> SentInteraction {
        let data = json!({"custom_id": custom_id, "component_type": 2});
        let (sent, payload) = self.interaction(3, invoker, data, Some(message.clone()));
        self.lock().payloads.insert(sent.id, payload.clone());
        self.dispatch("INTERACTION_CREATE", payload);
        sent
    }

    /// Dispatches a choice in the string select menu `custom_id` (component type 3) with
    /// `values`, on a message the bot posted in the invoker's channel.
    pub fn select_menu(
        &self,
        invoker: &Invoker,
        custom_id: &str,
        values: &[&str],
    ) -> SentInteraction {
        let data = json!({"custom_id": custom_id, "component_type": 3, "values": values});
        let message = self.message(
            invoker.channel_id,
            &json!({"content": "", "components": [{"type": 1, "components": [
                {"type": 3, "custom_id": custom_id, "options": []}
            ]}]}),
        );
        let (sent, payload) = self.interaction(3, invoker, data, Some(message));
        self.lock().payloads.insert(sent.id, payload.clone());
        self.dispatch("INTERACTION_CREATE", payload);
        sent
    }

    /// The INTERACTION_CREATE payload of a button click, recorded but not dispatched (for
    /// driving a router directly).
    pub fn button_interaction(
        &self,
        invoker: &Invoker,
        custom_id: &str,
    ) -> (SentInteraction, Json) {
        let data = json!({"custom_id": custom_id, "component_type": 2});
        let message = self.message(
            invoker.channel_id,
            &json!({"content": "", "components": [{"type": 1, "components": [
                {"type": 2, "style": 1, "label": "Button", "custom_id": custom_id}
            ]}]}),
        );
        let (sent, payload) = self.interaction(3, invoker, data, Some(message));
        self.lock().payloads.insert(sent.id, payload.clone());
        (sent, payload)
    }

    /// Dispatches a modal submission with `custom_id` and its text inputs `(custom_id, value)`.
    pub fn submit_modal(
        &self,
        invoker: &Invoker,
        custom_id: &str,
        fields: &[(&str, &str)],
    ) -> SentInteraction {
        let (sent, payload) = self.modal_interaction(invoker, custom_id, fields);
        self.dispatch("INTERACTION_CREATE", payload);
        sent
    }

    /// The INTERACTION_CREATE payload of a modal submission, recorded but not dispatched.
    pub fn modal_interaction(
        &self,
        invoker: &Invoker,
        custom_id: &str,
        fields: &[(&str, &str)],
    ) -> (SentInteraction, Json) {
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
        (sent, payload)
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
