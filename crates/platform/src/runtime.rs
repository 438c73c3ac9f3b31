//! Starts a service and stops it cleanly. Every service is a [`Service`] implementation; the
//! platform does the rest in the same order for all of them:
//!
//! 1. admin HTTP up at once (`/healthz` 200, `/readyz` 503 until ready);
//! 2. database: connect with backoff, migrate; NATS: connect in the background, ensure the stream;
//! 3. outbox relay, the service's own routes, consumers and tasks, the diagnostics probe consumer;
//! 4. gRPC with health SERVING and reflection — now `/readyz` answers 200.
//!
//! On shutdown (SIGINT/SIGTERM, or the token in tests): health NOT_SERVING, gRPC stops taking
//! requests and finishes those in flight, consumers finish the message in hand, service tasks
//! stop, the relay flushes the outbox, NATS is flushed, the database pool closed, the admin
//! port closed last. Every task lives in the service's [`TaskSet`] (or, for the relay, the
//! admin port and gRPC, a handle owned by [`run`]): dropping the future (a crash) aborts them
//! all, as a killed process would.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream;
use sea_orm::DatabaseConnection;
use sea_orm_migration::MigratorTrait;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::AbortOnDropHandle;

use crate::admin::{self, Readiness};
use crate::config::{CommonSettings, ServiceSettings, Settings};
use crate::db;
use crate::diagnostics::{DiagnosticsService, ProbeHandler};
use crate::events::{self, Consumer, EventHandler, Outbox, Relay};
use crate::events::{Subscriber, Subscription};
use crate::grpc::{self, MetricsLayer, Peers};
use crate::metrics::Metrics;
use crate::tasks::{TaskSet, Tasks};

/// One SahasrahBot service: its name, settings, migrations and what it adds to the platform.
pub trait Service: Send + Sync + Sized + 'static {
    /// `seedgen`, `racetime`, `tournament`, `gateway` or `api`.
    const NAME: &'static str;
    /// Environment variable prefix, e.g. `SEEDGEN_`.
    const ENV_PREFIX: &'static str;
    /// The service's own settings (after the common ones, environment prefix [`Service::ENV_PREFIX`]).
    type Settings: ServiceSettings;
    /// The migrations of the service's database.
    type Migrator: MigratorTrait;

    /// The embedded defaults (SQLite under `./data/`, local NATS, the fixed ports).
    fn default_settings() -> Settings<Self::Settings>;

    /// Adds the service's gRPC services to `routes` and spawns its consumers and background
    /// tasks through `ctx`. Runs after the database is migrated and before gRPC serves.
    fn start(
        ctx: &ServiceContext,
        settings: &Self::Settings,
        routes: &mut tonic::service::RoutesBuilder,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;
}

/// The two sockets of a service, bound before it starts (tests bind port 0 and read the port).
#[derive(Debug)]
pub struct Listeners {
    /// The gRPC listener.
    pub grpc: TcpListener,
    /// The admin HTTP listener.
    pub admin: TcpListener,
}

impl Listeners {
    /// Binds the configured addresses. A port that is in use is tried again for up to 3 s:
    /// on one machine the fixed ports lie in Linux's ephemeral range (32768–60999), so a
    /// short-lived outgoing connection (a healthcheck poll, a peer's dial) can hold one for a
    /// moment, as can the previous instance of a restarting service.
    ///
    /// Errors: an address stays in use or cannot be bound; the error names it.
    pub async fn bind(common: &CommonSettings) -> anyhow::Result<Self> {
        let bind = |addr: SocketAddr, key: &'static str| async move {
            let mut tries = 0;
            loop {
                match TcpListener::bind(addr).await {
                    Ok(listener) => return Ok(listener),
                    Err(error) if error.kind() == std::io::ErrorKind::AddrInUse && tries < 15 => {
                        tries += 1;
                        tracing::warn!(%addr, key, "address in use; trying again in 200 ms");
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                    Err(error) => {
                        return Err(anyhow::anyhow!("cannot listen on {key} = {addr}: {error}"));
                    }
                }
            }
        };
        Ok(Self {
            grpc: bind(common.grpc.listen, "grpc.listen").await?,
            admin: bind(common.admin.listen, "admin.listen").await?,
        })
    }

    /// The bound addresses `(grpc, admin)`.
    pub fn local_addrs(&self) -> std::io::Result<(SocketAddr, SocketAddr)> {
        Ok((self.grpc.local_addr()?, self.admin.local_addr()?))
    }
}

/// What a service gets to build itself: its database, events, peers, metrics, and a place to
/// spawn work that the platform stops in order.
#[derive(Debug)]
pub struct ServiceContext {
    /// The service's name, e.g. `seedgen`.
    pub service: &'static str,
    /// The service's own database.
    pub db: DatabaseConnection,
    /// The NATS connection.
    pub nats: async_nats::Client,
    /// JetStream on that connection.
    pub jetstream: jetstream::Context,
    /// Where state changes write their events.
    pub outbox: Outbox,
    /// gRPC channels to the other services.
    pub peers: Peers,
    /// The service's Prometheus metrics.
    pub metrics: Arc<Metrics>,
    /// The common settings it was started with.
    pub common: CommonSettings,
    /// Fires when the service starts stopping; background tasks watch it (the token of
    /// [`ServiceContext::tasks`]).
    pub shutdown: CancellationToken,
    tasks: TaskSet,
}

impl ServiceContext {
    /// Spawns a durable consumer for `handler`; it stops with the service.
    pub fn spawn_consumer<H: EventHandler>(&self, handler: H) {
        let consumer = Consumer::new(
            self.service,
            handler,
            self.db.clone(),
            self.jetstream.clone(),
            &self.common.events,
            self.metrics.clone(),
        );
        self.spawn(consumer.run(self.shutdown.clone()));
    }

    /// Spawns a durable consumer for a typed [`Subscriber`] (filtered on its contract's
    /// subject); it stops with the service.
    pub fn subscribe<S: Subscriber>(&self, subscriber: S) {
        self.spawn_consumer(Subscription(subscriber));
    }

    /// Spawns a background task. It must return soon after [`ServiceContext::shutdown`] fires.
    pub fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        self.tasks.handle().spawn(task);
    }

    /// The handle every part of the service spawns with (room actors, interactions,
    /// periodic jobs): shutdown waits for all of them before it closes the database.
    pub fn tasks(&self) -> Tasks {
        self.tasks.handle()
    }
}

/// How long graceful shutdown waits for each stage before aborting what is left.
const STAGE_TIMEOUT: Duration = Duration::from_secs(20);

/// Runs service `S` on `listeners` until `shutdown` fires, then stops it cleanly.
///
/// Errors: migrations fail, a peer URL is invalid, or the service's own start fails. A database
/// or NATS server that is down is not an error: the service waits for it and `/readyz` says so.
pub async fn run<S: Service>(
    settings: Settings<S::Settings>,
    listeners: Listeners,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let common = settings.common.clone();
    let (grpc_addr, admin_addr) = listeners.local_addrs()?;
    let metrics = Arc::new(Metrics::new(S::NAME));
    let readiness = Arc::new(Readiness::default());

    let admin_stop = CancellationToken::new();
    // Abort-on-drop: a crashed service must not leave its ports served.
    let admin = AbortOnDropHandle::new(tokio::spawn(admin::serve(
        listeners.admin,
        readiness.clone(),
        metrics.clone(),
        admin_stop.clone(),
    )));
    tracing::info!(service = S::NAME, grpc = %grpc_addr, admin = %admin_addr, "starting");

    let connected = async {
        let db = db::connect_with_retry(&common.database).await;
        if common.database.migrate_on_start {
            let applied = db::migrate::<S::Migrator>(&db).await?;
            tracing::info!(applied, "database migrated");
        }
        readiness.set_db(db.clone());
        let nats = events::connect_nats(S::NAME, &common.nats).await?;
        readiness.set_nats(nats.clone());
        let jetstream = jetstream::new(nats.clone());
        let mut delay = Duration::from_millis(200);
        while let Err(error) = events::ensure_stream(&jetstream, &common.events).await {
            tracing::warn!(error = %error, retry_in_ms = delay.as_millis() as u64, "event stream not available; retrying");
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(10));
        }
        anyhow::Ok((db, nats, jetstream))
    };
    let (db, nats, jetstream) = tokio::select! {
        connected = connected => connected?,
        () = shutdown.cancelled() => {
            tracing::info!("stopped before the database and NATS were reached");
            admin_stop.cancel();
            let _ = admin.await;
            return Ok(());
        }
    };

    let outbox = Outbox::new(S::NAME);
    let relay_stop = CancellationToken::new();
    let relay = AbortOnDropHandle::new(tokio::spawn(
        Relay::new(
            db.clone(),
            jetstream.clone(),
            &outbox,
            &common.events,
            metrics.clone(),
        )
        .run(relay_stop.clone()),
    ));

    let peers = Peers::from_settings(&common.peers)?;
    let tasks = TaskSet::new();
    let ctx = ServiceContext {
        service: S::NAME,
        db: db.clone(),
        nats: nats.clone(),
        jetstream,
        outbox: outbox.clone(),
        peers: peers.clone(),
        metrics: metrics.clone(),
        common: common.clone(),
        shutdown: tasks.token().clone(),
        tasks,
    };
    let mut routes = tonic::service::RoutesBuilder::default();
    S::start(&ctx, &settings.service, &mut routes).await?;
    ctx.spawn_consumer(ProbeHandler::new(S::NAME));

    let (health, health_service) = tonic_health::server::health_reporter();
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    routes
        .add_service(health_service)
        .add_service(reflection)
        .add_service(
            proto::diagnostics::v1::diagnostics_server::DiagnosticsServer::new(
                DiagnosticsService::new(S::NAME, db.clone(), outbox, peers),
            ),
        );
    health
        .set_service_status("", tonic_health::ServingStatus::Serving)
        .await;

    let grpc_stop = CancellationToken::new();
    let server = tonic::transport::Server::builder()
        .timeout(grpc::SERVER_DEADLINE)
        .trace_fn(grpc::request_span)
        .layer(MetricsLayer::new(metrics.clone()))
        .layer(grpc::catch_panic_layer())
        .add_routes(routes.routes())
        .serve_with_incoming_shutdown(
            tonic::transport::server::TcpIncoming::from(listeners.grpc).with_nodelay(Some(true)),
            grpc_stop.clone().cancelled_owned(),
        );
    // Abort-on-drop like the JoinSets: a crashed service must not leave its port served.
    let mut server = AbortOnDropHandle::new(tokio::spawn(server));
    readiness.set_serving(true);
    tracing::info!(service = S::NAME, "ready");

    let server_result = tokio::select! {
        () = shutdown.cancelled() => None,
        result = &mut server => Some(result),
    };
    readiness.set_serving(false);
    health
        .set_service_status("", tonic_health::ServingStatus::NotServing)
        .await;
    tracing::info!(service = S::NAME, "stopping");

    // 1. Stop taking requests; let those in flight finish.
    grpc_stop.cancel();
    let server_result = match server_result {
        Some(result) => result,
        None => match tokio::time::timeout(STAGE_TIMEOUT, &mut server).await {
            Ok(result) => result,
            Err(_) => {
                tracing::warn!("in-flight gRPC requests did not finish in time; aborting them");
                server.abort();
                Ok(Ok(()))
            }
        },
    };
    // 2. Consumers finish the message in hand; every service task (room actors, interactions,
    //    periodic jobs) stops or is aborted at the deadline: none runs past this point.
    ctx.tasks.stop(STAGE_TIMEOUT).await;
    // 3. Flush the outbox (the relay makes a bounded last attempt), then NATS; close the
    //    database pool; the admin port closes last.
    relay_stop.cancel();
    let _ = relay.await;
    if let Err(error) = tokio::time::timeout(Duration::from_secs(5), nats.flush())
        .await
        .unwrap_or(Ok(()))
    {
        tracing::debug!(error = %error, "NATS flush at shutdown failed");
    }
    if let Err(error) = db.close().await {
        tracing::debug!(error = %error, "closing the database pool failed");
    }
    admin_stop.cancel();
    let _ = admin.await;
    tracing::info!(service = S::NAME, "stopped");
    match server_result {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(anyhow::anyhow!("gRPC server failed: {error}")),
        Err(error) => Err(anyhow::anyhow!("gRPC server task failed: {error}")),
    }
}
