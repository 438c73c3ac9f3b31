//! api's settings (environment prefix `API_`): the HTTP listener and public URL, the two OAuth2
//! clients (Discord login, racetime.gg linking), sessions, limits and webhook delivery.

use std::net::SocketAddr;

use platform::config::{Secret, ServiceSettings};
use serde::{Deserialize, Serialize};

/// api's own settings.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ApiSettings {
    /// The HTTP API and website listener.
    pub http: HttpSettings,
    /// Discord OAuth2 login (`API_DISCORD__CLIENT_ID`, `API_DISCORD__CLIENT_SECRET`).
    pub discord: DiscordOAuth,
    /// racetime.gg account linking (`API_RACETIME__CLIENT_ID`, `API_RACETIME__CLIENT_SECRET`).
    pub racetime: RacetimeOAuth,
    /// Outbound webhook delivery.
    pub webhooks: WebhookSettings,
}

impl ServiceSettings for ApiSettings {}

/// The public HTTP server.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct HttpSettings {
    /// Where the HTTP API and website listen (`API_HTTP__LISTEN`).
    pub listen: SocketAddr,
    /// The address people reach the website at (`API_HTTP__PUBLIC_URL`), without a trailing
    /// slash; OAuth2 redirect URIs are built from it. With an `http://` URL (local use) the
    /// session cookie is sent without `Secure`; with `https://` it is `Secure`.
    pub public_url: String,
    /// Origins allowed to call the JSON API from a browser (`API_HTTP__CORS_ORIGINS`, a list).
    /// Empty (the default): no cross-origin access.
    pub cors_origins: Vec<String>,
    /// Requests per second each client IP may make to the public routes, refilled
    /// continuously; 0 turns the limit off (benchmarks).
    pub rate_limit_per_second: u32,
    /// How many requests a client IP may make at once before the per-second rate applies.
    pub rate_limit_burst: u32,
    /// Take the client IP from `X-Forwarded-For`/`X-Real-IP` (only behind a reverse proxy that
    /// sets them); otherwise the peer address is used.
    pub trust_forwarded_for: bool,
    /// A login session ends after this many days without a request.
    pub session_idle_days: i64,
    /// Seconds a preset list answer is served from memory before seedgen is asked again.
    pub preset_cache_secs: u64,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([0, 0, 0, 0], 8080)),
            public_url: "http://localhost:8080".to_owned(),
            cors_origins: Vec::new(),
            rate_limit_per_second: 20,
            rate_limit_burst: 60,
            trust_forwarded_for: false,
            session_idle_days: 30,
            preset_cache_secs: 30,
        }
    }
}

impl HttpSettings {
    /// Whether cookies carry `Secure` (the public URL is https).
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

/// Discord's OAuth2 endpoints and this application's credentials (Discord developer portal →
/// OAuth2; add `<public_url>/callback/discord/` as a redirect).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct DiscordOAuth {
    /// The application's client id; empty: login is off and the website says so.
    pub client_id: String,
    /// The client secret (never logged).
    #[serde(skip_serializing)]
    pub client_secret: Option<Secret>,
    /// `https://discord.com/oauth2/authorize`.
    pub authorize_url: String,
    /// `https://discord.com/api/oauth2/token`.
    pub token_url: String,
    /// The REST API base for `GET /users/@me`: `https://discord.com/api/v10`.
    pub api_url: String,
}

impl Default for DiscordOAuth {
    fn default() -> Self {
        Self {
            client_id: String::new(),
            client_secret: None,
            authorize_url: "https://discord.com/oauth2/authorize".to_owned(),
            token_url: "https://discord.com/api/oauth2/token".to_owned(),
            api_url: "https://discord.com/api/v10".to_owned(),
        }
    }
}

/// racetime.gg's OAuth2 application for account linking (racetime.gg → your profile →
/// developer applications; redirect `<public_url>/racetime/verify/return`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct RacetimeOAuth {
    /// The racetime.gg server (`API_RACETIME__URL`): `/o/authorize`, `/o/token` and
    /// `/o/userinfo` live under it, and profile links point to `<url>/user/<id>/`.
    pub url: String,
    /// The application's client id; empty: linking is off and the website says so.
    pub client_id: String,
    /// The client secret (never logged).
    #[serde(skip_serializing)]
    pub client_secret: Option<Secret>,
}

impl Default for RacetimeOAuth {
    fn default() -> Self {
        Self {
            url: "https://racetime.gg".to_owned(),
            client_id: String::new(),
            client_secret: None,
        }
    }
}

/// Outbound webhook delivery.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct WebhookSettings {
    /// How often due deliveries are looked for, in milliseconds.
    pub poll_ms: u64,
    /// Seconds a receiver has to answer one delivery.
    pub timeout_secs: u64,
    /// Attempts before a delivery is given up as failed (it stays in the delivery log).
    pub max_attempts: u32,
    /// First retry delay in seconds; each further retry waits twice as long, capped at an hour.
    pub retry_base_secs: u64,
    /// Whether receivers on loopback and private addresses are accepted (tests and local use).
    pub allow_private_targets: bool,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            poll_ms: 1_000,
            timeout_secs: 10,
            max_attempts: 12,
            retry_base_secs: 10,
            allow_private_targets: false,
        }
    }
}
