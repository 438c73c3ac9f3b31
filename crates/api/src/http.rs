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
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};

/// The largest request body accepted, in bytes (a mystery weightset is at most a few tens of
/// KiB; presets are capped by seedgen at its own limit).
pub const MAX_BODY_BYTES: usize = 512 * 1024;

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
        // Outermost last: the id is set first, so even a refused body's answer carries it.
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(log_request))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

/// Runs the request in a span carrying its `x-request-id` (set by the layer above, or the
/// caller's), so every log line of a request can be found by the id the caller sees.
async fn log_request(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let span = tracing::info_span!(
        "http",
        request_id = %id,
        method = %request.method(),
        path = %request.uri().path()
    );
    let response = tracing::Instrument::instrument(next.run(request), span.clone()).await;
    span.in_scope(|| tracing::debug!(status = response.status().as_u16(), "answered"));
    response
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
