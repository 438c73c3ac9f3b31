//! alttpr.com, the ALTTPR item randomizer (spec §2.2): `POST /api/randomizer` and
//! `/api/customizer`, `GET /hash/{hash}` and `GET /api/daily`.

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::{HttpPolicy, HttpProvider, ProviderError, Seed, SeedProvider};
use crate::alttpr::AlttprRequest;
use crate::alttpr::code::file_select_code;

const NAME: &str = "alttpr.com";

/// alttpr.com endpoints and credentials (`providers.alttpr`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AlttprSettings {
    /// Used when no branch is asked for, and for mystery seeds (`ALTTPR_BASEURL`).
    pub base_url: String,
    /// alttpr.com (the live branch).
    pub live_url: String,
    /// The beeta branch.
    pub beeta_url: String,
    /// The tournament branch.
    pub tournament_url: String,
    /// HTTP basic auth, sent when both are set.
    pub username: Option<String>,
    /// Basic-auth password of the branch sites, if needed.
    #[serde(default, skip_serializing)]
    pub password: Option<SecretString>,
}

impl Default for AlttprSettings {
    fn default() -> Self {
        Self {
            base_url: "https://alttpr.com".into(),
            live_url: "https://alttpr.com".into(),
            beeta_url: "https://beeta.alttpr.com".into(),
            tournament_url: "https://tournament.alttpr.com".into(),
            username: None,
            password: None,
        }
    }
}

/// The alttpr.com client.
#[derive(Debug)]
pub struct AlttprClient {
    http: HttpProvider,
    settings: AlttprSettings,
}

/// The current daily challenge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Daily {
    /// The seed's hash.
    pub hash: String,
    /// When it was generated.
    pub date: String,
}

impl AlttprClient {
    /// A client. Errors: the HTTP client cannot be built.
    pub fn new(settings: AlttprSettings, policy: HttpPolicy) -> Result<Self, reqwest::Error> {
        Ok(Self {
            http: HttpProvider::new(NAME, policy)?,
            settings,
        })
    }

    /// The base URL of a branch; anything but live/beeta/tournament is the default base.
    pub fn base_url(&self, branch: Option<&str>) -> &str {
        let url = match branch {
            Some("live") => &self.settings.live_url,
            Some("beeta") => &self.settings.beeta_url,
            Some("tournament") => &self.settings.tournament_url,
            _ => &self.settings.base_url,
        };
        url.trim_end_matches('/')
    }

    /// The full URL a request goes to.
    pub fn request_url(&self, request: &AlttprRequest) -> String {
        format!(
            "{}{}",
            self.base_url(request.branch.as_deref()),
            request.endpoint
        )
    }

    fn auth(&self, builder: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match (&self.settings.username, &self.settings.password) {
            (Some(user), Some(password)) => {
                builder.basic_auth(user, Some(password.expose_secret()))
            }
            _ => builder,
        }
    }

    fn seed_from(
        &self,
        base: &str,
        response: Json,
        operation: &'static str,
    ) -> Result<Seed, ProviderError> {
        let hash = response["hash"]
            .as_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| ProviderError::format(NAME, operation, "the answer has no `hash`"))?
            .to_string();
        let meta = &response["spoiler"]["meta"];
        Ok(Seed {
            url: format!("{base}/h/{hash}"),
            code: file_select_code(&response),
            version: meta["version"].as_str().map(str::to_string),
            title: meta["name"]
                .as_str()
                .filter(|s| !s.is_empty())
                .map(str::to_string),
            notes: meta["notes"]
                .as_str()
                .filter(|s| !s.is_empty())
                .map(str::to_string),
            hash,
            raw: response,
            ..Seed::default()
        })
    }

    /// An existing seed, `GET /hash/{hash}` (JSON served as text/html).
    pub async fn retrieve(&self, hash: &str) -> Result<Seed, ProviderError> {
        let base = self.base_url(None).to_string();
        let url = format!("{base}/hash/{hash}");
        let reply = self
            .http
            .send("retrieve", |c| self.auth(c.get(&url)))
            .await?;
        let json = reply.json(NAME, "retrieve")?;
        self.seed_from(&base, json, "retrieve")
    }

    /// The daily challenge, `GET /api/daily` → `{"hash", "daily"}`.
    pub async fn daily(&self) -> Result<Daily, ProviderError> {
        let url = format!("{}/api/daily", self.base_url(None));
        let reply = self.http.send("daily", |c| self.auth(c.get(&url))).await?;
        let json = reply.json(NAME, "daily")?;
        match (json["hash"].as_str(), json["daily"].as_str()) {
            (Some(hash), Some(date)) => Ok(Daily {
                hash: hash.to_string(),
                date: date.to_string(),
            }),
            _ => Err(ProviderError::format(
                NAME,
                "daily",
                "the answer lacks `hash` or `daily`",
            )),
        }
    }
}

impl SeedProvider for AlttprClient {
    type Request = AlttprRequest;

    fn name(&self) -> &'static str {
        NAME
    }

    async fn generate(&self, request: AlttprRequest) -> Result<Seed, ProviderError> {
        let base = self.base_url(request.branch.as_deref()).to_string();
        let url = format!("{base}{}", request.endpoint);
        let reply = self
            .http
            .send("generate", |c| self.auth(c.post(&url).json(&request.body)))
            .await?;
        let json = reply.json(NAME, "generate")?;
        self.seed_from(&base, json, "generate")
    }
}
