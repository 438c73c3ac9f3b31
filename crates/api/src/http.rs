//! The HTTP JSON API (axum).

use std::collections::BTreeMap;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use platform::grpc::Peers;
use proto::diagnostics::v1::PingRequest;
use proto::diagnostics::v1::diagnostics_client::DiagnosticsClient;
use sea_orm::DatabaseConnection;
use serde::Serialize;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Names of the services `/api/v1/status` asks about.
const STATUS_PEERS: [&str; 4] = ["seedgen", "racetime", "tournament", "gateway"];

#[derive(Debug, Serialize)]
struct ErrorBody {
    error: String,
}

/// Reachability of one service.
#[derive(Debug, Serialize)]
struct PeerStatus {
    reachable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

#[derive(Debug, Serialize)]
struct StatusBody {
    status: &'static str,
    services: BTreeMap<&'static str, PeerStatus>,
}

/// What the handlers share.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The other services.
    pub peers: Peers,
    /// The api database (users, keys).
    pub db: DatabaseConnection,
}

pub(crate) fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/v1/status", get(status))
        .route("/api/v1/racetime/command", post(crate::racetime::command))
        // Upstream's path (spec R1), for the tools that call it.
        .route("/api/racetime/cmd", post(crate::racetime::command))
        .route(
            "/api/v1/mystery/settings",
            post(crate::mystery::posted).get(crate::mystery::by_query),
        )
        .route(
            "/api/v1/mystery/settings/{weightset}",
            get(crate::mystery::by_path),
        )
        // Upstream's paths (spec S1–S3).
        .route(
            "/api/settingsgen/mystery",
            post(crate::mystery::posted).get(crate::mystery::by_query),
        )
        .route(
            "/api/settingsgen/mystery/{weightset}",
            get(crate::mystery::by_path),
        )
        .fallback(|| async {
            (
                StatusCode::NOT_FOUND,
                Json(ErrorBody {
                    error: "no such endpoint; see /api/v1/status".to_owned(),
                }),
            )
        })
        .with_state(state)
}

/// `GET /api/v1/status`: 200 when every service answers a diagnostics ping, else 503, with
/// each service's reachability.
async fn status(State(state): State<AppState>) -> (StatusCode, Json<StatusBody>) {
    let peers = state.peers;
    let checks = STATUS_PEERS.map(|name| {
        let peers = peers.clone();
        async move {
            let result = match peers.get(name) {
                Ok(peer) => peer
                    .call(|| {
                        let mut client = DiagnosticsClient::new(peer.channel());
                        async move { client.ping(PingRequest::default()).await }
                    })
                    .await
                    .map(|_| ())
                    .map_err(|status| status.message().to_owned()),
                Err(status) => Err(status.message().to_owned()),
            };
            (
                name,
                PeerStatus {
                    reachable: result.is_ok(),
                    error: result.err(),
                },
            )
        }
    });
    let services: BTreeMap<_, _> = futures::future::join_all(checks)
        .await
        .into_iter()
        .collect();
    let healthy = services.values().all(|peer| peer.reachable);
    (
        if healthy {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        },
        Json(StatusBody {
            status: if healthy { "ok" } else { "degraded" },
            services,
        }),
    )
}

/// Serves until `shutdown`, letting requests in flight finish.
pub(crate) async fn serve(listener: TcpListener, state: AppState, shutdown: CancellationToken) {
    if let Err(error) = axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
    {
        tracing::error!(error = %error, "HTTP API server failed");
    }
}
