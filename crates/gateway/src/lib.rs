//! The `gateway` service: the Discord bot. Owns guild configuration, race-room watchers and the
//! Discord-only features. Serves `discord.v1.Discord` (port 50054) so other services can post
//! and DM; the Discord connection and the RPC bodies arrive with the gateway issue.

use platform::config::{CommonSettings, ConfigError, Secret, ServiceSettings, Settings};
use platform::{Service, ServiceContext};
use proto::discord::v1::discord_server::{Discord, DiscordServer};
use serde::{Deserialize, Serialize};

/// The gateway service.
#[derive(Debug)]
pub struct GatewayService;

/// gateway's own settings (environment prefix `GATEWAY_`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GatewaySettings {
    pub discord: DiscordSettings,
}

/// How the bot reaches Discord.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DiscordSettings {
    /// Bot token from the Discord developer portal (`GATEWAY_DISCORD__TOKEN`). Without it the
    /// Discord connection stays idle.
    #[serde(default, skip_serializing)]
    pub token: Option<Secret>,
    /// Application id (`GATEWAY_DISCORD__APPLICATION_ID`), needed with a token.
    #[serde(default)]
    pub application_id: Option<u64>,
    /// Discord REST base URL (`GATEWAY_DISCORD__API_BASE_URL`); tests point it at a fake.
    pub api_base_url: String,
}

impl ServiceSettings for GatewaySettings {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.discord.token.is_some() && self.discord.application_id.is_none() {
            return Err(ConfigError::invalid(
                "discord.application_id",
                "is required when discord.token is set",
            ));
        }
        url::Url::parse(&self.discord.api_base_url)
            .map_err(|error| ConfigError::invalid("discord.api_base_url", error.to_string()))?;
        Ok(())
    }
}

#[derive(Debug)]
struct DiscordApi;

impl Discord for DiscordApi {}

impl Service for GatewayService {
    const NAME: &'static str = "gateway";
    const ENV_PREFIX: &'static str = "GATEWAY_";
    type Settings = GatewaySettings;
    type Migrator = gateway_migration::Migrator;

    fn default_settings() -> Settings<GatewaySettings> {
        Settings {
            common: CommonSettings::defaults(Self::NAME, &["seedgen", "tournament", "api"]),
            service: GatewaySettings {
                discord: DiscordSettings {
                    token: None,
                    application_id: None,
                    api_base_url: "https://discord.com".to_owned(),
                },
            },
        }
    }

    async fn start(
        _ctx: &ServiceContext,
        settings: &GatewaySettings,
        routes: &mut tonic::service::RoutesBuilder,
    ) -> anyhow::Result<()> {
        if settings.discord.token.is_none() {
            tracing::warn!(
                "no Discord bot token configured (GATEWAY_DISCORD__TOKEN); the Discord connection is idle"
            );
        }
        routes.add_service(DiscordServer::new(DiscordApi));
        Ok(())
    }
}
