//! A service binary run in its own process (for benchmarks: its RSS is then its own), wired to
//! the test's MariaDB database and NATS names through environment variables.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{TestDb, TestNats};

/// A running service binary; killed on drop.
#[derive(Debug)]
pub struct ServiceProcess {
    child: Child,
    /// The gRPC listen address.
    pub grpc: SocketAddr,
    admin: SocketAddr,
}

fn free_port() -> std::io::Result<SocketAddr> {
    std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()
}

impl ServiceProcess {
    /// Starts `binary serve` with `prefix` (e.g. `RACETIME_`) settings for the database, NATS,
    /// free gRPC and admin ports, plus `extra` variables; waits until `/readyz` answers 200.
    ///
    /// Errors: the binary does not start or is not ready within 60 s.
    pub async fn start(
        binary: &str,
        prefix: &str,
        db: &TestDb,
        nats: &TestNats,
        extra: &[(&str, String)],
    ) -> anyhow::Result<Self> {
        let grpc = free_port()?;
        let admin = free_port()?;
        let mut command = Command::new(binary);
        command
            .arg("serve")
            .env(format!("{prefix}DATABASE__URL"), db.url())
            .env(format!("{prefix}DATABASE__MAX_CONNECTIONS"), "20")
            .env(format!("{prefix}NATS__URL"), &nats.url)
            .env(format!("{prefix}EVENTS__STREAM"), &nats.stream)
            .env(
                format!("{prefix}EVENTS__SUBJECT_PREFIX"),
                &nats.subject_prefix,
            )
            .env(format!("{prefix}GRPC__LISTEN"), grpc.to_string())
            .env(format!("{prefix}ADMIN__LISTEN"), admin.to_string())
            .env(format!("{prefix}TELEMETRY__LOG_FILTER"), "warn")
            .stdout(Stdio::null());
        for (key, value) in extra {
            command.env(key, value);
        }
        let service = Self {
            child: command.spawn()?,
            grpc,
            admin,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok((200, _)) = crate::http_get(service.admin, "/readyz").await {
                return Ok(service);
            }
            anyhow::ensure!(Instant::now() < deadline, "{binary} was not ready in 60 s");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The process's resident set size in MiB (Linux).
    pub fn rss_mib(&self) -> f64 {
        rss_mib(&format!("/proc/{}/status", self.child.id()))
    }
}

/// `VmRSS` of a `/proc/<pid>/status` file, in MiB (0 when unreadable).
pub fn rss_mib(status_path: &str) -> f64 {
    let status = std::fs::read_to_string(status_path).unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
