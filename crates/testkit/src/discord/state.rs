//! The fake's state: calls, messages, interactions, commands, sessions; the ids and JSON
//! shapes Discord uses.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use serde_json::{Value as Json, json};
use tokio::sync::{broadcast, mpsc};

/// The bot user's id in READY and as the author of its messages.
pub const BOT_USER_ID: u64 = 900_000_000_000_000_001;
/// The application id the fake expects in webhook and command routes.
pub const APPLICATION_ID: u64 = 900_000_000_000_000_002;
/// The `@everyone` permissions of a guild whose roles a test did not set: view channels, send
/// messages (also in threads), embed links, attach files, read history, add reactions.
pub const DEFAULT_EVERYONE: u64 =
    (1 << 10) | (1 << 11) | (1 << 38) | (1 << 14) | (1 << 15) | (1 << 16) | (1 << 6);
/// The bot token the fake accepts (`Authorization: Bot <token>`, and in IDENTIFY).
pub const BOT_TOKEN: &str = "fake-discord-bot-token";

/// One REST call the bot made.
#[derive(Clone, Debug)]
pub struct Call {
    /// `GET`, `POST`, ...
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
    /// The invoking user.
    pub user_id: u64,
    /// Their username.
    pub username: String,
    /// `None`: a DM with the bot.
    pub guild_id: Option<u64>,
    /// The channel the interaction comes from.
    pub channel_id: u64,
    /// Permission bits of the member in that channel (Discord sends them as a string).
    pub permissions: u64,
    /// The member's roles.
    pub roles: Vec<u64>,
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
            roles: Vec::new(),
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
    /// The interaction id.
    pub id: u64,
    /// The interaction token the bot answers with.
    pub token: String,
}

#[derive(Default)]
pub(super) struct Inner {
    pub(super) calls: Vec<Call>,
    /// Messages by channel, as created (and edited) through REST.
    pub(super) messages: HashMap<u64, Vec<Json>>,
    /// Interaction responses and edits by interaction token: the original response message.
    pub(super) originals: HashMap<String, Json>,
    /// Interaction tokens that got their initial response.
    pub(super) answered: HashSet<String>,
    /// Interaction payloads sent, by interaction id (for redelivery).
    pub(super) payloads: HashMap<u64, Json>,
    /// Originals the bot deleted, by interaction token.
    pub(super) deleted_originals: HashSet<String>,
    /// Follow-up messages by interaction token.
    pub(super) followups: HashMap<String, Vec<Json>>,
    pub(super) commands_global: Vec<Json>,
    pub(super) commands_guild: HashMap<u64, Vec<Json>>,
    pub(super) files: HashMap<String, (String, Bytes)>,
    pub(super) blocked_dms: HashSet<u64>,
    pub(super) forbidden_channels: HashSet<u64>,
    pub(super) dm_channels: HashMap<u64, u64>,
    pub(super) scheduled_events: HashMap<u64, Json>,
    /// Invites by code: (guild id, guild name).
    pub(super) invites: HashMap<String, (u64, String)>,
    /// Guild members by (guild, user), as Discord's member object.
    pub(super) members: HashMap<(u64, u64), Json>,
    /// Threads started from a message, by that message's id.
    pub(super) threads: HashMap<u64, Json>,
    /// Channels the bot can read (`GET /channels/{id}`), by id; unknown ids answer a plain text
    /// channel of guild 1 without overwrites.
    pub(super) channels: HashMap<u64, Json>,
    /// Guild roles (`GET /guilds/{id}/roles`) by guild: `(role id, permission bits)`; the
    /// `@everyone` role has the guild's id.
    pub(super) roles: HashMap<u64, Vec<(u64, u64)>>,
    /// What the bot may do in the interaction's channel (`app_permissions`), when set.
    pub(super) app_permissions: Option<u64>,
    /// Members added to threads, by thread id.
    pub(super) thread_members: HashMap<u64, Vec<u64>>,
    /// Answer the next N calls whose path starts with the prefix with 429.
    pub(super) rate_limits: Vec<(String, u32)>,
    pub(super) sessions: HashMap<String, Session>,
    pub(super) identify_count: u32,
    pub(super) resume_count: u32,
}

#[derive(Default)]
pub(super) struct Session {
    pub(super) seq: u64,
    /// Every dispatch with its sequence number, for RESUME.
    pub(super) sent: Vec<(u64, Json)>,
    pub(super) live: Option<mpsc::UnboundedSender<Outgoing>>,
}

pub(super) enum Outgoing {
    Frame(Json),
    Close(u16),
}

/// The fake; cheap to clone.
#[derive(Clone)]
pub struct FakeDiscord {
    pub(super) inner: Arc<Mutex<Inner>>,
    pub(super) ids: Arc<AtomicU64>,
    pub(super) calls_tx: broadcast::Sender<Call>,
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

pub(super) fn snowflake(id: u64) -> Json {
    Json::String(id.to_string())
}

/// Discord's timestamp format, e.g. `2024-01-01T00:00:00.000000+00:00`.
pub(super) fn now() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.6f+00:00")
        .to_string()
}

pub(super) fn user_json(id: u64, username: &str, bot: bool) -> Json {
    json!({"id": snowflake(id), "username": username, "discriminator": "0", "global_name": username,
           "avatar": null, "bot": bot, "public_flags": 0})
}
