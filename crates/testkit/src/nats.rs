//! NATS for tests: unique JetStream names on the shared server, or a private server process.

use std::net::TcpListener as StdListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use platform::config::CommonSettings;

/// Where tests find NATS unless `TEST_NATS_URL` says otherwise.
pub const DEFAULT_NATS_URL: &str = "nats://127.0.0.1:4222";

/// A JetStream stream name and subject prefix used by one test only. The stream is deleted
/// when this value is dropped; a private server is stopped and its store removed.
#[derive(Debug)]
pub struct TestNats {
    /// `nats://127.0.0.1:4222`.
    pub url: String,
    /// The test's own stream.
    pub stream: String,
    /// The test's own subject prefix.
    pub subject_prefix: String,
    server: Option<PrivateServer>,
}

#[derive(Debug)]
struct PrivateServer {
    port: u16,
    store: PathBuf,
    child: Option<Child>,
}

impl TestNats {
    /// Unique names on the shared server (`TEST_NATS_URL`).
    pub fn shared() -> Self {
        let suffix = crate::unique_suffix();
        Self {
            url: std::env::var("TEST_NATS_URL").unwrap_or_else(|_| DEFAULT_NATS_URL.to_owned()),
            stream: format!("T_{suffix}"),
            subject_prefix: format!("t{suffix}"),
            server: None,
        }
    }

    /// A `nats-server -js` process of this test's own on a free port, with a store directory
    /// that survives [`TestNats::restart`].
    ///
    /// Errors: `nats-server` is not installed or does not start within 10 s.
    pub async fn private() -> anyhow::Result<Self> {
        let port = StdListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let store =
            std::env::temp_dir().join(format!("sahasrahbot-nats-{}", crate::unique_suffix()));
        std::fs::create_dir_all(&store)?;
        let mut server = PrivateServer {
            port,
            store,
            child: None,
        };
        server.start().await?;
        let mut nats = Self::shared();
        nats.url = format!("nats://127.0.0.1:{port}");
        nats.server = Some(server);
        Ok(nats)
    }

    /// Kills the private server (SIGKILL: no goodbye to clients) and starts it again on the same
    /// port and store after `down_for`.
    ///
    /// Errors: this is not a private server, or it does not come back.
    pub async fn restart(&mut self, down_for: Duration) -> anyhow::Result<()> {
        let server = self
            .server
            .as_mut()
            .ok_or_else(|| anyhow::anyhow!("only a private TestNats can be restarted"))?;
        server.stop();
        tokio::time::sleep(down_for).await;
        server.start().await
    }

    /// Points `common` at this NATS and these names.
    pub fn configure(&self, common: &mut CommonSettings) {
        common.nats.url = self.url.clone();
        common.events.stream = self.stream.clone();
        common.events.subject_prefix = self.subject_prefix.clone();
    }

    /// A JetStream context on this server, for tests that look at the stream directly.
    pub async fn jetstream(&self) -> anyhow::Result<async_nats::jetstream::Context> {
        let client = async_nats::connect(&self.url).await?;
        Ok(async_nats::jetstream::new(client))
    }
}

impl PrivateServer {
    async fn start(&mut self) -> anyhow::Result<()> {
        let binary = [
            "nats-server",
            "/usr/sbin/nats-server",
            "/usr/bin/nats-server",
        ]
        .into_iter()
        .find(|candidate| {
            Command::new(candidate)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|status| status.success())
        })
        .ok_or_else(|| {
            anyhow::anyhow!("nats-server is not installed; run the README test command")
        })?;
        let child = Command::new(binary)
            .args([
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-js",
                "-sd",
            ])
            .arg(&self.store)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        self.child = Some(child);
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        anyhow::bail!("private nats-server on port {} did not start", self.port)
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for TestNats {
    fn drop(&mut self) {
        match self.server.as_mut() {
            Some(server) => {
                server.stop();
                let _ = std::fs::remove_dir_all(&server.store);
            }
            None => {
                let url = self.url.clone();
                let stream = self.stream.clone();
                crate::block_on_side(async move {
                    if let Ok(client) = async_nats::connect(&url).await {
                        let _ = async_nats::jetstream::new(client)
                            .delete_stream(&stream)
                            .await;
                    }
                });
            }
        }
    }
}
