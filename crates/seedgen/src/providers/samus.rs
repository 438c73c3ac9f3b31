//! samus.link, the SM and SMZ3 "Total" randomizers (spec §2.5): `POST
//! {base}/api/randomizers/{sm|smz3}/generate`, single seeds and multiworld.

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

use super::{HttpPolicy, HttpProvider, ProviderError, Seed, SeedProvider};

const NAME: &str = "samus.link";

/// samus.link URLs (`providers.samus`). `{release}` in a release URL is the preset's
/// `release` (e.g. `beta`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SamusSettings {
    /// SMZ3 generator URL.
    pub smz3_url: String,
    /// SMZ3 release (non-beta) URL.
    pub smz3_release_url: String,
    /// SM generator URL.
    pub sm_url: String,
    /// SM release URL.
    pub sm_release_url: String,
    /// Multiworld seeds always go here (upstream used pyz3r's default base for both games).
    pub multiworld_url: String,
}

impl Default for SamusSettings {
    fn default() -> Self {
        Self {
            smz3_url: "https://samus.link".into(),
            smz3_release_url: "https://{release}.samus.link".into(),
            sm_url: "https://sm.samus.link".into(),
            sm_release_url: "https://{release}.sm.samus.link".into(),
            multiworld_url: "https://samus.link".into(),
        }
    }
}

/// One samus.link generation.
#[derive(Clone, Debug, PartialEq)]
pub struct SamusRequest {
    /// `sm` or `smz3`.
    pub randomizer: String,
    /// Generator release, when chosen.
    pub release: Option<String>,
    /// String-valued options; `race`, `spoilerKey` and multiworld fields are set here.
    pub settings: Map<String, Json>,
    /// A race seed.
    pub race: bool,
    /// Set for spoiler races: the key that unlocks the spoiler.
    pub spoiler_key: Option<String>,
    /// Player names for a multiworld seed (one world each), with a shared seed number.
    pub multiworld: Option<(Vec<String>, u32)>,
}

/// The samus.link client.
#[derive(Debug)]
pub struct SamusClient {
    http: HttpProvider,
    settings: SamusSettings,
}

/// The 22-character seed slug: URL-safe base64 of the GUID's bytes without padding.
pub fn slug(guid: &str) -> Option<String> {
    let id = uuid::Uuid::parse_str(guid).ok()?;
    Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id.as_bytes()))
}

impl SamusClient {
    /// A client. Errors: the HTTP client cannot be built.
    pub fn new(settings: SamusSettings, policy: HttpPolicy) -> Result<Self, reqwest::Error> {
        Ok(Self {
            http: HttpProvider::new(NAME, policy)?,
            settings,
        })
    }

    /// The base URL for a request.
    pub fn base_url(&self, request: &SamusRequest) -> String {
        let s = &self.settings;
        let url = if request.multiworld.is_some() {
            s.multiworld_url.clone()
        } else {
            match (request.randomizer.as_str(), &request.release) {
                ("sm", Some(release)) => s.sm_release_url.replace("{release}", release),
                ("sm", None) => s.sm_url.clone(),
                (_, Some(release)) => s.smz3_release_url.replace("{release}", release),
                (_, None) => s.smz3_url.clone(),
            }
        };
        url.trim_end_matches('/').to_string()
    }

    /// The body sent to samus.link.
    pub fn body(request: &SamusRequest) -> Map<String, Json> {
        let mut body = request.settings.clone();
        body.insert(
            "race".into(),
            Json::from(if request.race { "true" } else { "false" }),
        );
        if let Some(key) = &request.spoiler_key {
            body.insert("spoilerKey".into(), Json::from(key.clone()));
        }
        if let Some((players, seed)) = &request.multiworld {
            body.insert("gamemode".into(), Json::from("multiworld"));
            // Sent as a string like every other option (upstream sent an int by accident).
            body.insert("players".into(), Json::from(players.len().to_string()));
            body.insert("seed".into(), Json::from(seed.to_string()));
            for (i, player) in players.iter().enumerate() {
                body.insert(format!("player-{i}"), Json::from(player.clone()));
            }
        }
        body
    }
}

impl SeedProvider for SamusClient {
    type Request = SamusRequest;

    fn name(&self) -> &'static str {
        NAME
    }

    async fn generate(&self, request: SamusRequest) -> Result<Seed, ProviderError> {
        let base = self.base_url(&request);
        let game = if request.randomizer == "sm" {
            "sm"
        } else {
            "smz3"
        };
        let url = format!("{base}/api/randomizers/{game}/generate");
        let body = Self::body(&request);
        let reply = self
            .http
            .send("generate", |c| c.post(&url).json(&body))
            .await?;
        let json = reply.json(NAME, "generate")?;
        let guid = json["guid"]
            .as_str()
            .ok_or_else(|| ProviderError::format(NAME, "generate", "the answer has no `guid`"))?;
        let slug = slug(guid).ok_or_else(|| {
            ProviderError::format(NAME, "generate", format!("`{guid}` is not a GUID"))
        })?;
        let kind = if json["mode"] == "multiworld" {
            "multiworld"
        } else {
            "seed"
        };
        Ok(Seed {
            url: format!("{base}/{kind}/{slug}"),
            hash: slug,
            code: json["hash"]
                .as_str()
                .map(|h| h.split_whitespace().map(str::to_string).collect())
                .unwrap_or_default(),
            spoiler_url: request
                .spoiler_key
                .as_ref()
                .map(|key| format!("{base}/api/spoiler/{guid}?key={key}&yaml=True")),
            version: json["gameVersion"].as_str().map(str::to_string),
            raw: json,
            ..Seed::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slug_matches_the_spec_example() {
        assert_eq!(
            slug("0f5b2a1c3d4e4f6a8b9c0d1e2f3a4b5c").as_deref(),
            Some("D1sqHD1OT2qLnA0eLzpLXA")
        );
        assert_eq!(slug("nope"), None);
    }
}
