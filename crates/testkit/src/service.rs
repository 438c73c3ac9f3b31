//! Running a service in-process on ephemeral ports.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use platform::config::{CommonSettings, Settings};
use platform::{Listeners, Service};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::{TestDb, TestNats};

/// Points `common` at the test's database and NATS names, with timings short enough for tests
/// (2 s ack wait, 100 ms first retry, 100 ms relay poll).
pub fn configure(common: &mut CommonSettings, db: &TestDb, nats: &TestNats) {
    common.database.url = db.url();
    common.database.max_connections = 5;
    common.database.min_connections = 1;
    nats.configure(common);
    common.events.ack_wait_ms = 2_000;
    common.events.retry_backoff_ms = 100;
    common.events.retry_backoff_max_ms = 1_000;
    common.events.relay_poll_ms = 100;
    common.events.consumer_batch = 4;
}

/// gRPC and admin listeners on `127.0.0.1:0`.
pub async fn bind_ephemeral() -> anyhow::Result<Listeners> {
    Ok(Listeners {
        grpc: TcpListener::bind("127.0.0.1:0").await?,
        admin: TcpListener::bind("127.0.0.1:0").await?,
    })
}

/// A service running in this process. Dropping it cancels and aborts the service.
#[derive(Debug)]
pub struct ServiceHandle {
    /// The service name.
    pub name: &'static str,
    /// Where its gRPC server listens.
    pub grpc_addr: SocketAddr,
    /// Where its admin HTTP server listens.
    pub admin_addr: SocketAddr,
    shutdown: CancellationToken,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

impl ServiceHandle {
    /// Starts `S` with `settings` on `listeners`.
    ///
    /// Errors: the listeners have no local address.
    pub fn spawn<S: Service>(
        settings: Settings<S::Settings>,
        listeners: Listeners,
    ) -> anyhow::Result<Self> {
        let (grpc_addr, admin_addr) = listeners.local_addrs()?;
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(platform::run::<S>(settings, listeners, shutdown.clone()));
        Ok(Self {
            name: S::NAME,
            grpc_addr,
            admin_addr,
            shutdown,
            task: Some(task),
        })
    }

    /// `http://<grpc address>`, for a tonic client.
    pub fn grpc_url(&self) -> String {
        format!("http://{}", self.grpc_addr)
    }

    /// `(status, body)` of `GET /readyz`.
    pub async fn readyz(&self) -> anyhow::Result<(u16, String)> {
        platform::admin::http_get(self.admin_addr, "/readyz").await
    }

    /// `(status, body)` of `GET /metrics` (the Prometheus text).
    pub async fn metrics(&self) -> anyhow::Result<(u16, String)> {
        platform::admin::http_get(self.admin_addr, "/metrics").await
    }

    /// Waits until `/readyz` answers 200.
    ///
    /// Errors: the service stopped, or is not ready `within`; the last report is included.
    pub async fn wait_ready(&mut self, within: Duration) -> anyhow::Result<()> {
        let started = Instant::now();
        let mut last = String::from("no answer");
        while started.elapsed() < within {
            if self.task.as_ref().is_some_and(JoinHandle::is_finished)
                && let Some(task) = self.task.take()
            {
                return match task.await {
                    Ok(Ok(())) => Err(anyhow::anyhow!("{} stopped before it was ready", self.name)),
                    Ok(Err(error)) => Err(error.context(format!("{} failed to start", self.name))),
                    Err(error) => Err(anyhow::anyhow!("{} panicked: {error}", self.name)),
                };
            }
            match self.readyz().await {
                Ok((200, _)) => return Ok(()),
                Ok((status, body)) => last = format!("{status}: {body}"),
                Err(error) => last = error.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        anyhow::bail!(
            "{} not ready after {within:?}; last /readyz: {last}",
            self.name
        )
    }

    /// Graceful stop, as on SIGTERM; returns the service's result.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        match self.task.take() {
            Some(task) => task.await?,
            None => Ok(()),
        }
    }

    /// Abrupt stop, as a killed process: every task of the service is aborted mid-work.
    pub async fn crash(mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }
}

impl Drop for ServiceHandle {
    fn drop(&mut self) {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
