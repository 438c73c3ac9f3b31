//! avianart.games (spec §2.4): `POST api.php?action=generate&preset=…`, then poll
//! `api.php?action=permlink&hash=…` until the seed is done. Fixes of upstream quirks: a first
//! answer that is already finished is used, and polling that never finishes is an error.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};

use super::{HttpPolicy, HttpProvider, ProviderError, ProviderErrorKind, Seed, SeedProvider};
use crate::constants::door_code_name;

const NAME: &str = "avianart";

/// avianart settings (`providers.avianart`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AvianartSettings {
    /// avianart's base URL.
    pub base_url: String,
    /// Optional `Authorization` header value.
    #[serde(default, skip_serializing)]
    pub api_key: Option<SecretString>,
    /// Milliseconds between polls (upstream: 5000).
    pub poll_interval_ms: u64,
    /// Polls before giving up (upstream: 24, about two minutes).
    pub max_polls: u32,
}

impl Default for AvianartSettings {
    fn default() -> Self {
        Self {
            base_url: "https://avianart.games".into(),
            api_key: None,
            poll_interval_ms: 5000,
            max_polls: 24,
        }
    }
}

/// One avianart generation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AvianartRequest {
    /// The avianart preset, e.g. `kaesden/cabookey`.
    pub preset: String,
    /// A race seed.
    pub race: bool,
}

/// The avianart client.
#[derive(Debug)]
pub struct AvianartClient {
    http: HttpProvider,
    settings: AvianartSettings,
}

impl AvianartClient {
    /// A client. Errors: the HTTP client cannot be built.
    pub fn new(settings: AvianartSettings, policy: HttpPolicy) -> Result<Self, reqwest::Error> {
        Ok(Self {
            http: HttpProvider::new(NAME, policy)?,
            settings,
        })
    }

    fn auth(&self, builder: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.settings.api_key {
            Some(key) => builder.header("Authorization", key.expose_secret()),
            None => builder,
        }
    }
}

enum Progress {
    Working,
    Done,
}

fn progress(response: &Json) -> Result<Progress, ProviderError> {
    match response["status"].as_str() {
        Some("failure") => Err(ProviderError::new(
            NAME,
            "generate",
            ProviderErrorKind::Rejected,
            format!(
                "Failed to generate game: {}",
                response["message"].as_str().unwrap_or("no reason given")
            ),
        )),
        Some("finished") | None
            if response.get("spoiler").is_some() || response.get("patch").is_some() =>
        {
            Ok(Progress::Done)
        }
        Some("finished") => Ok(Progress::Done),
        _ => Ok(Progress::Working),
    }
}

impl SeedProvider for AvianartClient {
    type Request = AvianartRequest;

    fn name(&self) -> &'static str {
        NAME
    }

    async fn generate(&self, request: AvianartRequest) -> Result<Seed, ProviderError> {
        let base = self.settings.base_url.trim_end_matches('/').to_string();
        let url = format!("{base}/api.php?action=generate&preset={}", request.preset);
        let body = json!([{"args": {"race": request.race}}]);
        let reply = self
            .http
            .send("generate", |c| self.auth(c.post(&url).json(&body)))
            .await?;
        let mut response = reply.json(NAME, "generate")?["response"].clone();
        let hash = response["hash"]
            .as_str()
            .ok_or_else(|| {
                ProviderError::format(NAME, "generate", "the answer has no `response.hash`")
            })?
            .to_string();
        let mut polls = 0;
        while let Progress::Working = progress(&response)? {
            if polls >= self.settings.max_polls {
                return Err(ProviderError::new(
                    NAME,
                    "generate",
                    ProviderErrorKind::Timeout,
                    format!(
                        "seed {hash} was still generating after {} s",
                        u64::from(polls) * self.settings.poll_interval_ms / 1000
                    ),
                ));
            }
            tokio::time::sleep(Duration::from_millis(self.settings.poll_interval_ms)).await;
            polls += 1;
            let poll_url = format!("{base}/api.php?action=permlink&hash={hash}");
            let reply = self
                .http
                .send("poll", |c| self.auth(c.get(&poll_url)))
                .await?;
            response = reply.json(NAME, "poll")?["response"].clone();
        }
        let meta = &response["spoiler"]["meta"];
        Ok(Seed {
            url: format!("{base}/perm/{hash}"),
            code: meta["hash"]
                .as_str()
                .map(|h| h.split(", ").take(5).map(door_code_name).collect())
                .unwrap_or_default(),
            version: meta["version"].as_str().map(str::to_string),
            hash,
            raw: response,
            attempts: polls + 1,
            ..Seed::default()
        })
    }
}
