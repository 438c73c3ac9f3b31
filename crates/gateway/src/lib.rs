//! The `gateway` service: the Discord bot. It connects to the Discord gateway with twilight
//! (guild intent only, no message content), registers the application commands, answers
//! interactions (seed commands through `seedgen.v1.SeedGen`, misc commands) and serves
//! `discord.v1.Discord` (port 50054) so other services can post and DM.
//!
//! Layout: [`discord`] builds the REST client and holds the reply helpers, [`commands`] the
//! application command definitions, [`shard`] the gateway connection, [`interactions`] the
//! router and its error policy, [`seeds`] and [`misc`] the command handlers, [`embeds`] the seed
//! embeds, [`grpc`] the RPC surface.

#![warn(missing_docs)]

pub mod audit;
pub mod commands;
pub mod components;
pub mod context;
pub mod custom_id;
pub mod daily;
pub mod discord;
pub mod embeds;
pub mod grpc;
pub mod guild_config;
pub mod league_notify;
pub mod notify;
pub mod permissions;
pub mod router;
pub mod shard;

use std::collections::BTreeMap;
use std::sync::Arc;

use platform::config::{CommonSettings, ConfigError, Secret, ServiceSettings, Settings};
use platform::{Service, ServiceContext};
use proto::discord::v1::discord_server::DiscordServer;
use serde::{Deserialize, Serialize};

/// The gateway service.
#[derive(Debug)]
pub struct GatewayService;

/// gateway's own settings (environment prefix `GATEWAY_`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GatewaySettings {
    /// How the bot reaches Discord.
    pub discord: DiscordSettings,
    /// Attachments (`/alttpr custompreset` YAML, ...) larger than this are refused, in bytes.
    pub attachment_max_bytes: u64,
    /// How long fetching an attachment may take, in milliseconds.
    pub attachment_timeout_ms: u64,
    /// Custom emoji for file-select code items, item name → emoji markdown (e.g.
    /// `Bow: "<:Bow:123>"`). Items without one are written as text.
    #[serde(default)]
    pub item_emoji: BTreeMap<String, String>,
    /// `/welcome` texts by language (`french`, `spanish`, `german`, `portuguese`), usually
    /// with the invite link of that language's community server.
    #[serde(default)]
    pub welcome_messages: BTreeMap<String, String>,
    /// Folder of the holy image catalog (`holyimages.json` in it), for `/holyimage`.
    pub holyimage_url: String,
    /// SpeedGaming API base, for `/sgdaily`.
    pub speedgaming_url: String,
    /// How often the daily challenge announcer checks for a new daily, in seconds.
    pub daily_poll_secs: u64,
    /// The website's public URL, for links in posts (`GATEWAY_WEBSITE_URL`; api's
    /// `API_HTTP__PUBLIC_URL`).
    pub website_url: String,
    /// Discord ids of the bot's operators (`GATEWAY_OPERATORS`, comma-separated): upstream's
    /// "bot owner", who may create async tournaments and grant their permissions.
    #[serde(default)]
    pub operators: Vec<u64>,
    /// Milliseconds between an async run's countdown messages (`GATEWAY_ASYNC_COUNTDOWN_MS`;
    /// 1000: "10..." to "1..." a second apart).
    pub async_countdown_ms: u64,
    /// The audit log and moderation (`GATEWAY_MODERATION__ENABLED=true` needs the privileged
    /// intents).
    #[serde(default)]
    pub moderation: audit::ModerationSettings,
}

/// How the bot reaches Discord.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DiscordSettings {
    /// Bot token from the Discord developer portal (`GATEWAY_DISCORD__TOKEN`). Without it the
    /// Discord connection stays idle (the gRPC surface answers FAILED_PRECONDITION).
    #[serde(default, skip_serializing)]
    pub token: Option<Secret>,
    /// Application id (`GATEWAY_DISCORD__APPLICATION_ID`), needed with a token.
    #[serde(default)]
    pub application_id: Option<u64>,
    /// Discord REST base URL (`GATEWAY_DISCORD__API_BASE_URL`); tests point it at a fake.
    pub api_base_url: String,
    /// Gateway websocket URL; empty: Discord's own (`wss://gateway.discord.gg`).
    #[serde(default)]
    pub gateway_url: String,
    /// Number of gateway shards this process runs (ids 0..shards).
    pub shards: u32,
    /// Register the application commands in these guilds instead of globally (guild commands
    /// update at once; global ones can take an hour). Empty: global.
    #[serde(default)]
    pub command_guilds: Vec<u64>,
    /// Guilds that get the community commands `/welcome` and `/rom` (upstream's
    /// `ALTTP_RANDOMIZER_SERVERS`).
    #[serde(default)]
    pub community_guilds: Vec<u64>,
    /// Timeout of one Discord REST request, in milliseconds.
    pub request_timeout_ms: u64,
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
        if !self.discord.gateway_url.is_empty() {
            let url = url::Url::parse(&self.discord.gateway_url)
                .map_err(|error| ConfigError::invalid("discord.gateway_url", error.to_string()))?;
            if !matches!(url.scheme(), "ws" | "wss") {
                return Err(ConfigError::invalid(
                    "discord.gateway_url",
                    "must be a ws:// or wss:// URL",
                ));
            }
        }
        if self.discord.shards == 0 {
            return Err(ConfigError::invalid("discord.shards", "must be at least 1"));
        }
        url::Url::parse(&self.holyimage_url)
            .map_err(|error| ConfigError::invalid("holyimage_url", error.to_string()))?;
        url::Url::parse(&self.speedgaming_url)
            .map_err(|error| ConfigError::invalid("speedgaming_url", error.to_string()))?;
        if self.daily_poll_secs == 0 {
            return Err(ConfigError::invalid(
                "daily_poll_secs",
                "must be at least 1",
            ));
        }
        if self.attachment_max_bytes == 0 {
            return Err(ConfigError::invalid(
                "attachment_max_bytes",
                "must be more than 0",
            ));
        }
        Ok(())
    }
}

impl Service for GatewayService {
    const NAME: &'static str = "gateway";
    const ENV_PREFIX: &'static str = "GATEWAY_";
    type Settings = GatewaySettings;
    type Migrator = gateway_migration::Migrator;

    fn default_settings() -> Settings<GatewaySettings> {
        Settings {
            common: CommonSettings::defaults(
                Self::NAME,
                &["seedgen", "tournament", "api", "racetime"],
            ),
            service: GatewaySettings {
                discord: DiscordSettings {
                    token: None,
                    application_id: None,
                    api_base_url: "https://discord.com".to_owned(),
                    gateway_url: String::new(),
                    shards: 1,
                    command_guilds: Vec::new(),
                    community_guilds: Vec::new(),
                    request_timeout_ms: 10_000,
                },
                attachment_max_bytes: 256 * 1024,
                attachment_timeout_ms: 5_000,
                item_emoji: BTreeMap::new(),
                welcome_messages: BTreeMap::new(),
                holyimage_url: "http://alttp.mymm1.com/holyimage/".to_owned(),
                speedgaming_url: "https://speedgaming.org/api".to_owned(),
                daily_poll_secs: 300,
                website_url: "http://localhost:8080".to_owned(),
                operators: Vec::new(),
                async_countdown_ms: 1000,
                moderation: audit::ModerationSettings::default(),
            },
        }
    }

    async fn start(
        ctx: &ServiceContext,
        settings: &GatewaySettings,
        routes: &mut tonic::service::RoutesBuilder,
    ) -> anyhow::Result<()> {
        let discord = discord::Discord::from_settings(&settings.discord)?;
        let seedgen = ctx.peers.get("seedgen").ok().cloned();
        let config = guild_config::GuildConfig::new(ctx.db.clone());
        let mut app = context::App::new(
            discord.clone(),
            seedgen,
            settings.clone(),
            ctx.db.clone(),
            config.clone(),
        )?;
        app.tournament = ctx.peers.get("tournament").ok().cloned();
        app.identity = ctx.peers.get("api").ok().cloned();
        let (permissions, files) = (app.permissions.clone(), app.files.clone());
        let router = Arc::new(router::Router::new(
            app,
            commands::Registry::standard(settings)?,
            components::Components::new(vec![
                Box::new(commands::league::LeagueButtons),
                Box::new(commands::rankedchoice::EndButton),
                Box::new(commands::racerverification::VerifyButton),
                Box::new(commands::inquiry::InquiryButtons),
                Box::new(commands::asynctournament::AsyncButtons),
            ])?,
        ));
        let api = grpc::DiscordApi::new(discord.clone(), ctx.db.clone());
        let audit = match &discord {
            Some(discord) if settings.moderation.enabled => {
                let audit = audit::Audit::new(
                    discord.clone(),
                    api.clone(),
                    config.clone(),
                    ctx.db.clone(),
                    permissions,
                    files,
                    settings.moderation.clone(),
                );
                let cleaner = audit.clone();
                ctx.tasks()
                    .every(std::time::Duration::from_secs(24 * 3600), move || {
                        let cleaner = cleaner.clone();
                        async move {
                            match cleaner.clean_history().await {
                                Ok(n) => tracing::info!(deleted = n, "audit history cleaned"),
                                Err(error) => tracing::warn!(%error, "audit history not cleaned"),
                            }
                        }
                    });
                Some(audit)
            }
            _ => {
                tracing::info!(
                    "the audit log and moderation are disabled: enable the Message Content and Server Members intents in the Discord developer portal, then set GATEWAY_MODERATION__ENABLED=true"
                );
                None
            }
        };
        match (&discord, settings.discord.token.as_ref()) {
            (Some(discord), Some(token)) => {
                router
                    .commands()
                    .register(discord, &settings.discord)
                    .await?;
                for shard_id in 0..settings.discord.shards {
                    ctx.spawn(shard::run(
                        router.clone(),
                        audit.clone(),
                        shard::ShardConfig::new(token, &settings.discord, shard_id),
                        ctx.tasks(),
                    ));
                }
            }
            _ => tracing::warn!(
                "no Discord bot token configured (GATEWAY_DISCORD__TOKEN); the Discord connection is idle"
            ),
        }
        if let (Some(discord), Some(seedgen)) = (&discord, ctx.peers.get("seedgen").ok()) {
            let announcer = daily::Announcer {
                discord: discord.clone(),
                api: api.clone(),
                config: config.clone(),
                seedgen: seedgen.clone(),
                db: ctx.db.clone(),
                emoji: settings.item_emoji.clone(),
            };
            let announcer = Arc::new(announcer);
            ctx.tasks().every(
                std::time::Duration::from_secs(settings.daily_poll_secs),
                move || {
                    let announcer = announcer.clone();
                    async move { announcer.tick().await }
                },
            );
        }
        if discord.is_some() {
            ctx.subscribe(notify::Notifier::<notify::SeedAudit>::new(
                api.clone(),
                config.clone(),
            ));
            ctx.subscribe(notify::Notifier::<notify::RaceWatch>::new(
                api.clone(),
                config.clone(),
            ));
            if let Ok(racetime) = ctx.peers.get("racetime") {
                ctx.subscribe(notify::NewRacers::new(
                    api.clone(),
                    config,
                    racetime.clone(),
                ));
            }
            ctx.subscribe(
                league_notify::Announcer::<proto::events::v1::NumberClaimed>::new(
                    api.clone(),
                    "gateway-league-claimed",
                ),
            );
            ctx.subscribe(
                league_notify::Announcer::<proto::events::v1::NumberReleased>::new(
                    api.clone(),
                    "gateway-league-released",
                ),
            );
            if let Ok(tournament) = ctx.peers.get("tournament") {
                ctx.subscribe(commands::rankedchoice::OnElectionChanged {
                    api: api.clone(),
                    tournament: tournament.clone(),
                    website: settings.website_url.clone(),
                });
            }
        }
        routes.add_service(DiscordServer::new(api));
        Ok(())
    }
}
