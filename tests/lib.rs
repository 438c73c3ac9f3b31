//! The whole system in one process: [`Cluster`] runs all five services against one MariaDB
//! server (a fresh database per service) and one NATS server, on ephemeral ports, wired to each
//! other as peers, and can stop, crash and restart any of them on the same ports.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use platform::config::CommonSettings;
use platform::{Listeners, Service};
use proto::diagnostics::v1::diagnostics_client::DiagnosticsClient;
use testkit::{ServiceHandle, TestDb, TestNats};
use tokio::net::TcpListener;

/// The services, in port order.
pub const SERVICES: [&str; 5] = ["seedgen", "racetime", "tournament", "gateway", "api"];

/// How long a service may take to answer `/readyz` 200 after it starts.
pub const READY_WITHIN: Duration = Duration::from_secs(10);

/// All five services running in this process.
#[derive(Debug)]
pub struct Cluster {
    pub nats: TestNats,
    dbs: BTreeMap<&'static str, TestDb>,
    addrs: BTreeMap<&'static str, (SocketAddr, SocketAddr)>,
    api_http: SocketAddr,
    services: BTreeMap<&'static str, ServiceHandle>,
}

impl Cluster {
    /// Starts every service and waits until all are ready.
    ///
    /// Errors: a database cannot be created, a port cannot be bound, or a service is not ready
    /// within [`READY_WITHIN`].
    pub async fn start(nats: TestNats) -> anyhow::Result<Self> {
        testkit::init();
        let mut dbs = BTreeMap::new();
        let mut listeners = BTreeMap::new();
        let mut addrs = BTreeMap::new();
        for name in SERVICES {
            dbs.insert(name, TestDb::new().await?);
            let bound = testkit::bind_ephemeral().await?;
            addrs.insert(name, bound.local_addrs()?);
            listeners.insert(name, bound);
        }
        let api_http = TcpListener::bind("127.0.0.1:0").await?.local_addr()?;
        let mut cluster = Self {
            nats,
            dbs,
            addrs,
            api_http,
            services: BTreeMap::new(),
        };
        for (name, bound) in listeners {
            let handle = cluster.spawn(name, bound)?;
            cluster.services.insert(name, handle);
        }
        for handle in cluster.services.values_mut() {
            handle.wait_ready(READY_WITHIN).await?;
        }
        Ok(cluster)
    }

    /// The running service called `name`.
    ///
    /// # Panics
    /// If `name` is not running.
    pub fn service(&self, name: &str) -> &ServiceHandle {
        self.services
            .get(name)
            .unwrap_or_else(|| panic!("{name} is not running"))
    }

    /// Address of the api service's HTTP server.
    pub fn api_http(&self) -> SocketAddr {
        self.api_http
    }

    /// A diagnostics client of `name`.
    ///
    /// Errors: the service cannot be reached.
    pub async fn diagnostics(
        &self,
        name: &str,
    ) -> anyhow::Result<
        DiagnosticsClient<
            tonic::service::interceptor::InterceptedService<
                tonic::transport::Channel,
                platform::grpc::TraceInterceptor,
            >,
        >,
    > {
        let channel = tonic::transport::Endpoint::from_shared(self.service(name).grpc_url())?
            .connect()
            .await?;
        Ok(DiagnosticsClient::with_interceptor(
            channel,
            platform::grpc::TraceInterceptor,
        ))
    }

    /// Stops `name` (gracefully, or as a crash) and starts it again on the same ports.
    ///
    /// Errors: the graceful stop failed, or the service is not ready again in time.
    pub async fn restart(&mut self, name: &'static str, crash: bool) -> anyhow::Result<()> {
        let handle = self
            .services
            .remove(name)
            .ok_or_else(|| anyhow::anyhow!("{name} is not running"))?;
        if crash {
            handle.crash().await;
        } else {
            handle.stop().await?;
        }
        let (grpc, admin) = self.addrs[name];
        let listeners = Listeners {
            grpc: bind_again(grpc).await?,
            admin: bind_again(admin).await?,
        };
        let mut handle = self.spawn(name, listeners)?;
        handle.wait_ready(READY_WITHIN).await?;
        self.services.insert(name, handle);
        Ok(())
    }

    /// Stops every service gracefully.
    ///
    /// Errors: a service's run ended with an error.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        let services = std::mem::take(&mut self.services);
        for (_, handle) in services {
            handle.stop().await?;
        }
        Ok(())
    }

    fn spawn(&self, name: &'static str, listeners: Listeners) -> anyhow::Result<ServiceHandle> {
        match name {
            "seedgen" => self.spawn_service::<seedgen::SeedgenService>(listeners, |_| {}),
            "racetime" => self.spawn_service::<racetime::RacetimeService>(listeners, |_| {}),
            "tournament" => self.spawn_service::<tournament::TournamentService>(listeners, |_| {}),
            "gateway" => self.spawn_service::<gateway::GatewayService>(listeners, |_| {}),
            "api" => self.spawn_service::<api::ApiService>(listeners, |settings| {
                settings.http.listen = self.api_http;
            }),
            other => anyhow::bail!("unknown service {other}"),
        }
    }

    fn spawn_service<S: Service>(
        &self,
        listeners: Listeners,
        adjust: impl FnOnce(&mut S::Settings),
    ) -> anyhow::Result<ServiceHandle> {
        let mut settings = S::default_settings();
        self.wire(S::NAME, &mut settings.common);
        adjust(&mut settings.service);
        ServiceHandle::spawn::<S>(settings, listeners)
    }

    /// Points a service at its database, the test's NATS names and its peers' real addresses.
    fn wire(&self, name: &str, common: &mut CommonSettings) {
        testkit::configure(common, &self.dbs[name], &self.nats);
        for (peer, settings) in &mut common.peers {
            if let Some((grpc, _)) = self.addrs.get(peer.as_str()) {
                settings.url = format!("http://{grpc}");
                settings.timeout_ms = 5_000;
            }
        }
    }
}

/// Binds `addr` again; the old socket may take a moment to be released after a crash.
async fn bind_again(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    let mut last = None;
    for _ in 0..50 {
        match TcpListener::bind(addr).await {
            Ok(listener) => return Ok(listener),
            Err(error) => last = Some(error),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(anyhow::anyhow!("cannot bind {addr} again: {last:?}"))
}
