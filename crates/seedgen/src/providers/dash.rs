//! DASH Super Metroid randomizer (spec §2.7): `GET /generate/{mode}?race=1[&spoiler=1]`
//! answers 307 with the seed URL as the body.

use serde::{Deserialize, Serialize};

use super::{HttpPolicy, HttpProvider, ProviderError, ProviderErrorKind, Seed, SeedProvider};

const NAME: &str = "dashrando";

/// Where DASH seeds are made.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DashSettings {
    /// dashrando.net's base URL.
    pub base_url: String,
}

impl Default for DashSettings {
    fn default() -> Self {
        Self {
            base_url: "https://www.dashrando.net".into(),
        }
    }
}

/// A DASH seed request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DashRequest {
    /// A DASH mode such as `classic`, `recall`, `2017_mm`.
    pub mode: String,
    /// Include the spoiler.
    pub spoiler: bool,
}

/// The dashrando.net client.
#[derive(Debug)]
pub struct DashClient {
    http: HttpProvider,
    settings: DashSettings,
}

impl DashClient {
    /// A client. Errors: the HTTP client cannot be built.
    pub fn new(settings: DashSettings, policy: HttpPolicy) -> Result<Self, reqwest::Error> {
        Ok(Self {
            http: HttpProvider::new(NAME, policy)?,
            settings,
        })
    }
}

impl SeedProvider for DashClient {
    type Request = DashRequest;

    fn name(&self) -> &'static str {
        NAME
    }

    async fn generate(&self, request: DashRequest) -> Result<Seed, ProviderError> {
        if !request
            .mode
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(ProviderError::new(
                NAME,
                "generate",
                ProviderErrorKind::Rejected,
                format!("`{}` is not a DASH mode", request.mode),
            ));
        }
        let spoiler = if request.spoiler { "&spoiler=1" } else { "" };
        let url = format!(
            "{}/generate/{}?race=1{spoiler}",
            self.settings.base_url.trim_end_matches('/'),
            request.mode
        );
        let reply = self.http.send("generate", |c| c.get(&url)).await?;
        let body = reply.text().trim().to_string();
        if reply.status.as_u16() != 307 || !body.starts_with("http") {
            return Err(ProviderError::new(
                NAME,
                "generate",
                ProviderErrorKind::Rejected,
                format!("Could not generate smdash seed: {body}"),
            ));
        }
        let id = body.rsplit('/').next().unwrap_or_default().to_string();
        Ok(Seed {
            spoiler_url: request.spoiler.then(|| body.clone()),
            url: body,
            hash: id,
            ..Seed::default()
        })
    }
}
