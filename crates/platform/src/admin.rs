//! The admin HTTP port: `/healthz` (the process is alive), `/readyz` (database and NATS
//! reachable and the gRPC server serving), `/metrics` (Prometheus text).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use sea_orm::DatabaseConnection;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::metrics::Metrics;

/// What `/readyz` checks; filled in as the service starts.
#[derive(Debug, Default)]
pub struct Readiness {
    db: OnceLock<DatabaseConnection>,
    nats: OnceLock<async_nats::Client>,
    serving: AtomicBool,
}

impl Readiness {
    /// Records the database pool the readiness check pings.
    pub fn set_db(&self, db: DatabaseConnection) {
        let _ = self.db.set(db);
    }
    /// Records the NATS client the readiness check looks at.
    pub fn set_nats(&self, client: async_nats::Client) {
        let _ = self.nats.set(client);
    }
    /// Whether gRPC is serving (readiness fails until it is).
    pub fn set_serving(&self, serving: bool) {
        self.serving.store(serving, Ordering::SeqCst);
    }

    /// `(ready, report)`: every check with `ok` or what is wrong, one per line.
    pub async fn check(&self) -> (bool, String) {
        let database = match self.db.get() {
            None => Err("connecting".to_owned()),
            Some(db) => match tokio::time::timeout(Duration::from_secs(2), db.ping()).await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(error)) => Err(error.to_string()),
                Err(_) => Err("ping timed out".to_owned()),
            },
        };
        let nats = match self.nats.get().map(async_nats::Client::connection_state) {
            None => Err("connecting".to_owned()),
            Some(async_nats::connection::State::Connected) => Ok(()),
            Some(state) => Err(format!("{state:?}").to_lowercase()),
        };
        let grpc = if self.serving.load(Ordering::SeqCst) {
            Ok(())
        } else {
            Err("not serving".to_owned())
        };
        let ready = database.is_ok() && nats.is_ok() && grpc.is_ok();
        let line = |name: &str, result: Result<(), String>| match result {
            Ok(()) => format!("{name}: ok\n"),
            Err(error) => format!("{name}: {error}\n"),
        };
        let report = [
            line("database", database),
            line("nats", nats),
            line("grpc", grpc),
        ]
        .concat();
        (ready, report)
    }
}

#[derive(Clone)]
struct AdminState {
    readiness: Arc<Readiness>,
    metrics: Arc<Metrics>,
}

/// The admin router.
pub fn router(readiness: Arc<Readiness>, metrics: Arc<Metrics>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .with_state(AdminState { readiness, metrics })
}

async fn readyz(State(state): State<AdminState>) -> impl IntoResponse {
    let (ready, report) = state.readiness.check().await;
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, report)
}

async fn metrics_text(State(state): State<AdminState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
}

/// Serves the admin router on `listener` until `shutdown`.
pub async fn serve(
    listener: TcpListener,
    readiness: Arc<Readiness>,
    metrics: Arc<Metrics>,
    shutdown: CancellationToken,
) {
    let app = router(readiness, metrics);
    if let Err(error) = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
    {
        tracing::error!(error = %error, "admin HTTP server failed");
    }
}

/// `GET path` on `addr` over plain HTTP/1.0, for health probes (`<service> healthcheck`, tests);
/// returns `(status, body)`.
///
/// Errors: the connection fails or the answer is not HTTP.
pub async fn http_get(addr: std::net::SocketAddr, path: &str) -> anyhow::Result<(u16, String)> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream
        .write_all(format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes())
        .await?;
    let mut raw = String::new();
    stream.read_to_string(&mut raw).await?;
    let status = raw
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("not an HTTP response: {raw:?}"))?;
    let body = raw
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}
