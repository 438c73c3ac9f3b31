//! racetime's settings (environment prefix `RACETIME_`).

use std::collections::BTreeMap;

use platform::config::{ConfigError, Secret, ServiceSettings};
use serde::{Deserialize, Serialize};

use crate::commands::{self, HandlerKind};

/// racetime's own settings (environment prefix `RACETIME_`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct RacetimeSettings {
    /// Base URL of the racetime.gg server (`RACETIME_RACETIME_URL`).
    pub racetime_url: String,
    /// Bot credentials per category slug, from the category's "Manage bots" page
    /// (`RACETIME_CATEGORIES__ALTTPR__CLIENT_ID`, `..._CLIENT_SECRET`, optional `..._HANDLER`).
    #[serde(skip_serializing)]
    pub categories: BTreeMap<String, CategoryCredentials>,
    /// Seconds between scans of each category's bot endpoint `/o/{category}/data`, which
    /// also lists unlisted rooms but is cached by racetime.gg for 60 s (specs/racetime.md §1.4).
    pub poll_interval_secs: u64,
    /// Milliseconds between scans of each category's public `/{category}/data`, which lists
    /// the listed rooms without server-side staleness: the intro reaches a new room within
    /// about this long (racetime.gg has no application rate limit on it; 5 s polling is used
    /// in practice, §1.12).
    pub listed_poll_interval_ms: u64,
    /// A room lease lasts this long and is renewed every third of it.
    pub lease_ttl_secs: u64,
    /// After a race ends the room stays followed this long (entrants can undo a finish
    /// within 10 minutes on racetime.gg).
    pub resurrection_window_secs: u64,
    /// OpenRoom: how long an unconfirmed startrace is looked for before posting again
    /// (the bot category endpoint is cached up to 60 s on racetime.gg).
    pub open_confirm_window_secs: u64,
    /// Send a websocket `ping` after this many quiet seconds.
    pub socket_idle_ping_secs: u64,
    /// Longest wait between websocket reconnects, in seconds.
    pub reconnect_backoff_max_secs: u64,
    /// HTTP timeout for racetime.gg requests, seconds.
    pub http_timeout_secs: u64,
    /// Chat command prefix.
    pub command_prefix: String,
    /// Who racers should contact when a roll hangs (`RACETIME_CONTACT`), e.g.
    /// `@admins in #bot-help`.
    pub contact: String,
    /// The bot's racetime.gg command documentation (`RACETIME_DOCS_URL`); unset: the intro
    /// and `!help` post no link.
    pub docs_url: Option<String>,
}

impl Default for RacetimeSettings {
    fn default() -> Self {
        Self {
            racetime_url: "https://racetime.gg".to_owned(),
            categories: BTreeMap::new(),
            poll_interval_secs: 30,
            listed_poll_interval_ms: 2_500,
            lease_ttl_secs: 30,
            resurrection_window_secs: 600,
            open_confirm_window_secs: 90,
            socket_idle_ping_secs: 60,
            reconnect_backoff_max_secs: 120,
            http_timeout_secs: 15,
            command_prefix: "!".to_owned(),
            contact: commands::OperatorTexts::default().contact,
            docs_url: None,
        }
    }
}

/// OAuth2 client credentials of a racetime.gg category bot.
#[derive(Clone, Debug, Deserialize)]
pub struct CategoryCredentials {
    /// The bot's OAuth2 client id.
    pub client_id: String,
    /// The bot's OAuth2 client secret (never logged).
    pub client_secret: Secret,
    /// Command set to use (`alttpr`, `smz3`, `smr`, `z1r`, ...); defaults to the slug.
    #[serde(default)]
    pub handler: Option<String>,
}

impl CategoryCredentials {
    pub(crate) fn handler_name<'a>(&'a self, slug: &'a str) -> &'a str {
        self.handler.as_deref().unwrap_or(slug)
    }
}

impl ServiceSettings for RacetimeSettings {
    fn validate(&self) -> Result<(), ConfigError> {
        let url = url::Url::parse(&self.racetime_url)
            .map_err(|error| ConfigError::invalid("racetime_url", error.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ConfigError::invalid(
                "racetime_url",
                "must be an http(s) URL",
            ));
        }
        for (slug, credentials) in &self.categories {
            if credentials.client_id.trim().is_empty() {
                return Err(ConfigError::invalid(
                    format!("categories.{slug}.client_id"),
                    "must not be empty",
                ));
            }
            if HandlerKind::from_name(credentials.handler_name(slug)).is_none() {
                return Err(ConfigError::invalid(
                    format!("categories.{slug}.handler"),
                    "unknown handler; use one of alttpr, test, smz3, smr, sm, z1r, z2r, smb3r, ff1r, ct-jets, twwr, contra, smw-hacks, sgl",
                ));
            }
        }
        for (key, value) in [
            ("poll_interval_secs", self.poll_interval_secs),
            ("listed_poll_interval_ms", self.listed_poll_interval_ms),
            ("lease_ttl_secs", self.lease_ttl_secs),
            ("http_timeout_secs", self.http_timeout_secs),
        ] {
            if value == 0 {
                return Err(ConfigError::invalid(key, "must be at least 1"));
            }
        }
        if let Some(url) = &self.docs_url {
            url::Url::parse(url).map_err(|e| ConfigError::invalid("docs_url", e.to_string()))?;
        }
        if self.contact.trim().is_empty() {
            return Err(ConfigError::invalid("contact", "must not be empty"));
        }
        if self.command_prefix.trim().is_empty() {
            return Err(ConfigError::invalid("command_prefix", "must not be empty"));
        }
        Ok(())
    }
}
