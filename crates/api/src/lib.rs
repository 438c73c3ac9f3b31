//! The `api` service: the front door for people and programs, and the owner of users, linked
//! accounts, API keys, website sessions and webhooks. Serves `identity.v1.Identity` (port
//! 50055: users by id, Discord id (one or many) or racetime.gg id, API key verification) and
//! HTTP (port 8080): the website ([`web`]: Discord login, racetime.gg linking, profile,
//! presets, mystery settings), the JSON API ([`rest`], OpenAPI 3.1 at `/api/openapi.json`) and
//! signed outbound webhooks ([`webhooks`]).

#![warn(missing_docs)]

pub mod account;
pub mod auth;
pub mod cli;
pub mod csrf;
pub mod error;
pub mod grpc;
pub mod http;
pub mod identity;
pub mod keys;
pub mod oauth;
pub mod presets;
pub mod rest;
pub mod sessions;
pub mod settings;
pub mod web;
pub mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use platform::config::{CommonSettings, Settings};
use platform::{Service, ServiceContext};
use proto::identity::v1::identity_server::IdentityServer;

pub use settings::{ApiSettings, HttpSettings};

/// The api service.
#[derive(Debug)]
pub struct ApiService;

impl Service for ApiService {
    const NAME: &'static str = "api";
    const ENV_PREFIX: &'static str = "API_";
    type Settings = ApiSettings;
    type Migrator = api_migration::Migrator;

    fn default_settings() -> Settings<ApiSettings> {
        Settings {
            common: CommonSettings::defaults(
                Self::NAME,
                &["seedgen", "racetime", "tournament", "gateway"],
            ),
            service: ApiSettings::default(),
        }
    }

    async fn start(
        ctx: &ServiceContext,
        settings: &ApiSettings,
        routes: &mut tonic::service::RoutesBuilder,
    ) -> anyhow::Result<()> {
        let listener = tokio::net::TcpListener::bind(settings.http.listen)
            .await
            .map_err(|error| {
                anyhow::anyhow!(
                    "cannot listen on http.listen = {}: {error}",
                    settings.http.listen
                )
            })?;
        tracing::info!(http = %listener.local_addr()?, "HTTP API listening");
        let state = http::AppState {
            peers: ctx.peers.clone(),
            db: ctx.db.clone(),
            outbox: ctx.outbox.clone(),
            oauth: Arc::new(oauth::OAuth::new(settings)?),
            settings: Arc::new(settings.clone()),
            preset_cache: Arc::new(presets::PresetCache::new(Duration::from_secs(
                settings.http.preset_cache_secs,
            ))),
        };
        for (provider, what) in [
            (oauth::Provider::Discord, "login"),
            (oauth::Provider::Racetime, "racetime.gg linking"),
        ] {
            if !state.oauth.configured(provider) {
                tracing::warn!(
                    "{} OAuth2 is not configured: website {what} is off",
                    provider.label()
                );
            }
        }
        ctx.spawn(http::serve(listener, state, ctx.shutdown.clone()));
        let db = ctx.db.clone();
        ctx.tasks().every(Duration::from_secs(3_600), move || {
            let db = db.clone();
            async move {
                match sessions::sweep(&db).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(sessions = n, "expired sessions deleted"),
                    Err(error) => tracing::warn!(%error, "session sweep failed"),
                }
            }
        });
        webhooks::intake::subscribe_all(ctx);
        let deliverer =
            webhooks::deliver::Deliverer::new(ctx.db.clone(), settings.webhooks.clone())?;
        ctx.tasks().every(
            Duration::from_millis(settings.webhooks.poll_ms.max(50)),
            move || {
                let deliverer = deliverer.clone();
                async move {
                    if let Err(error) = deliverer.round().await {
                        tracing::warn!(%error, "webhook delivery round failed");
                    }
                }
            },
        );
        routes.add_service(IdentityServer::new(grpc::IdentityApi::new(ctx.db.clone())));
        Ok(())
    }
}
