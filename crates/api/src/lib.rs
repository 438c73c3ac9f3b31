//! The `api` service: the HTTP JSON API and web login, and the owner of users, linked accounts
//! and API keys. Serves `identity.v1.Identity` (port 50055: users by id, Discord id or
//! racetime.gg id, API key verification) and HTTP (port 8080; `GET /api/v1/status` reports
//! every peer service it can reach over gRPC). Login, linking and the REST API arrive with the
//! api issue.

#![warn(missing_docs)]

pub mod auth;
pub mod cli;
pub mod error;
pub mod grpc;
pub mod http;
pub mod identity;
pub mod keys;
mod mystery;
mod racetime;

use std::net::SocketAddr;

use platform::config::{CommonSettings, ServiceSettings, Settings};
use platform::{Service, ServiceContext};
use proto::identity::v1::identity_server::IdentityServer;
use serde::{Deserialize, Serialize};

/// The api service.
#[derive(Debug)]
pub struct ApiService;

/// api's own settings (environment prefix `API_`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ApiSettings {
    /// The HTTP API and website listener.
    pub http: HttpSettings,
}

/// The public HTTP server.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HttpSettings {
    /// Where the HTTP API listens (`API_HTTP__LISTEN`).
    pub listen: SocketAddr,
}

impl ServiceSettings for ApiSettings {}

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
            service: ApiSettings {
                http: HttpSettings {
                    listen: SocketAddr::from(([0, 0, 0, 0], 8080)),
                },
            },
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
        ctx.spawn(http::serve(
            listener,
            http::AppState {
                peers: ctx.peers.clone(),
                db: ctx.db.clone(),
            },
            ctx.shutdown.clone(),
        ));
        routes.add_service(IdentityServer::new(grpc::IdentityApi::new(ctx.db.clone())));
        Ok(())
    }
}
