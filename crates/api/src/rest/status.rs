//! Health: `GET /api/v1/health` (this process and its database; for load balancers),
//! `GET /api/v1/status` (every peer service over gRPC) and upstream's `GET /healthcheck` (W5).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use proto::diagnostics::v1::PingRequest;
use proto::diagnostics::v1::diagnostics_client::DiagnosticsClient;
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::AppState;

/// Names of the services `/api/v1/status` asks about.
const STATUS_PEERS: [&str; 4] = ["seedgen", "racetime", "tournament", "gateway"];

/// Reachability of one service.
#[derive(Debug, Serialize, ToSchema)]
pub struct PeerStatus {
    /// It answered a ping.
    pub reachable: bool,
    /// Why not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Every peer's reachability.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusBody {
    /// `ok` or `degraded`.
    pub status: &'static str,
    /// Per service.
    pub services: BTreeMap<&'static str, PeerStatus>,
}

/// 200 when every service answers a diagnostics ping, else 503, with each one's reachability.
#[utoipa::path(get, path = "/api/v1/status", tag = "health",
    responses((status = 200, body = StatusBody), (status = 503, body = StatusBody)))]
pub async fn status(State(state): State<AppState>) -> (StatusCode, Json<StatusBody>) {
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

/// This process's health.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` when the database answers.
    pub status: &'static str,
    /// The database answered.
    pub database: bool,
}

/// 200 when api and its database answer, else 503.
#[utoipa::path(get, path = "/api/v1/health", tag = "health",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
pub async fn health(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let database = state.db.ping().await.is_ok();
    (
        if database {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        },
        Json(Health {
            status: if database { "ok" } else { "unavailable" },
            database,
        }),
    )
}

/// Upstream W5: `{"success": true}` when healthy.
#[utoipa::path(get, path = "/healthcheck", tag = "upstream",
    responses((status = 200, body = Object), (status = 500)))]
pub async fn healthcheck(State(state): State<AppState>) -> (StatusCode, Json<serde_json::Value>) {
    if state.db.ping().await.is_ok() {
        (StatusCode::OK, Json(serde_json::json!({"success": true})))
    } else {
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(serde_json::json!({"success": false})),
        )
    }
}
