//! The `racetime` service: the racetime.gg bot. Owns race rooms and their handler state, bot
//! credentials per category, spoiler races. Serves `racetime.v1.RaceRooms` (port 50052); the RPC
//! bodies and the room handlers arrive with the racetime issue.

use std::collections::BTreeMap;

use platform::config::{CommonSettings, ConfigError, Secret, ServiceSettings, Settings};
use platform::{Service, ServiceContext};
use proto::racetime::v1::race_rooms_server::{RaceRooms, RaceRoomsServer};
use serde::{Deserialize, Serialize};

/// The racetime service.
#[derive(Debug)]
pub struct RacetimeService;

/// racetime's own settings (environment prefix `RACETIME_`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RacetimeSettings {
    /// Base URL of the racetime.gg server (`RACETIME_RACETIME_URL`).
    pub racetime_url: String,
    /// Bot credentials per category slug, from the category's "Manage bots" page
    /// (`RACETIME_CATEGORIES__ALTTPR__CLIENT_ID`, `..._CLIENT_SECRET`).
    #[serde(default, skip_serializing)]
    pub categories: BTreeMap<String, CategoryCredentials>,
}

/// OAuth2 client credentials of a racetime.gg category bot.
#[derive(Clone, Debug, Deserialize)]
pub struct CategoryCredentials {
    pub client_id: String,
    pub client_secret: Secret,
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
        }
        Ok(())
    }
}

#[derive(Debug)]
struct RaceRoomsApi;

impl RaceRooms for RaceRoomsApi {}

impl Service for RacetimeService {
    const NAME: &'static str = "racetime";
    const ENV_PREFIX: &'static str = "RACETIME_";
    type Settings = RacetimeSettings;
    type Migrator = racetime_migration::Migrator;

    fn default_settings() -> Settings<RacetimeSettings> {
        Settings {
            common: CommonSettings::defaults(Self::NAME, &["seedgen", "tournament"]),
            service: RacetimeSettings {
                racetime_url: "https://racetime.gg".to_owned(),
                categories: BTreeMap::new(),
            },
        }
    }

    async fn start(
        _ctx: &ServiceContext,
        settings: &RacetimeSettings,
        routes: &mut tonic::service::RoutesBuilder,
    ) -> anyhow::Result<()> {
        if settings.categories.is_empty() {
            tracing::warn!(
                "no racetime.gg category credentials configured (RACETIME_CATEGORIES__<SLUG>__CLIENT_ID / __CLIENT_SECRET); the racetime.gg bot is idle"
            );
        } else {
            let slugs: Vec<&str> = settings.categories.keys().map(String::as_str).collect();
            tracing::info!(categories = %slugs.join(","), url = %settings.racetime_url, "racetime.gg credentials loaded");
        }
        routes.add_service(RaceRoomsServer::new(RaceRoomsApi));
        Ok(())
    }
}
