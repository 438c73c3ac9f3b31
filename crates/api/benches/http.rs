//! Load benchmark of api's HTTP server: the real `api` release binary in its own process,
//! seedgen behind it, and this process as the load generator on loopback (one keep-alive
//! HTTP/1.1 connection per worker, each sending its next request when the last answer arrived).
//!
//! Measures, for 64 concurrent connections over 10 s each: requests/s and p50/p99 of
//! * the public preset list `GET /api/v1/presets/alttpr` (answered from api's cache), and
//! * the authenticated `GET /api/v1/me` with an API key (key and user looked up in the
//!   database on every request);
//!
//! and api's resident set size before and after. Rate limiting is off for the run.
//! `cargo bench -p api` (release build). Needs MariaDB (or `TEST_DATABASE=sqlite`) and NATS
//! like the tests. Targets on a 2-core machine: ≥ 10,000 req/s, p99 ≤ 10 ms for the public GET.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use platform::Service;
use seedgen::SeedgenService;
use testkit::bench::{Load, load_http};
use testkit::process::ServiceProcess;
use testkit::{ServiceHandle, TestDb, TestNats};

const CONNECTIONS: usize = 64;
const DURATION: Duration = Duration::from_secs(10);
const WARMUP: Duration = Duration::from_secs(1);

const LOAD: Load = Load {
    connections: CONNECTIONS,
    duration: DURATION,
    warmup: WARMUP,
};

async fn load(addr: SocketAddr, label: &str, path: &'static str, auth: Option<String>) {
    load_http(addr, label, path, auth, LOAD).await;
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}

async fn run() {
    testkit::init();
    let nats = TestNats::shared();
    let seedgen_db = TestDb::new().await.unwrap();
    let mut settings = SeedgenService::default_settings();
    testkit::configure(&mut settings.common, &seedgen_db, &nats);
    settings.service.presets_dir =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("../../presets");
    let mut seedgen =
        ServiceHandle::spawn::<SeedgenService>(settings, testkit::bind_ephemeral().await.unwrap())
            .unwrap();
    seedgen.wait_ready(Duration::from_secs(30)).await.unwrap();

    let db = TestDb::new().await.unwrap();
    let http = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let api = ServiceProcess::start(
        env!("CARGO_BIN_EXE_api"),
        "API_",
        &db,
        &nats,
        &[
            ("API_HTTP__LISTEN", http.to_string()),
            ("API_HTTP__PUBLIC_URL", format!("http://{http}")),
            ("API_HTTP__RATE_LIMIT_PER_SECOND", "0".into()),
            ("API_PEERS__SEEDGEN__URL", seedgen.grpc_url()),
        ],
    )
    .await
    .unwrap();
    let conn = sea_orm::Database::connect(db.url()).await.unwrap();
    let user = api::identity::create(
        &conn,
        api::identity::NewUser {
            discord_user_id: Some(185_198_185_990_324_225),
            racetime_user_id: Some("vOgN1DmZRxL3kA2b".into()),
            display_name: Some("Bench".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let (_, key) = api::keys::create(
        &conn,
        "bench",
        Some(user.id),
        &["presets:write".into()],
        None,
    )
    .await
    .unwrap();
    // Fill the preset cache and check both routes answer.
    for (path, auth) in [("/api/v1/presets/alttpr", None), ("/api/v1/me", Some(&key))] {
        let mut request = reqwest::Client::new().get(format!("http://{http}{path}"));
        if let Some(key) = auth {
            request = request.bearer_auth(key);
        }
        let status = request.send().await.unwrap().status();
        assert_eq!(status, 200, "{path}");
    }
    println!("api RSS at rest: {:.1} MiB", api.rss_mib());
    load(
        http,
        "public GET /api/v1/presets/alttpr (cached)",
        "/api/v1/presets/alttpr",
        None,
    )
    .await;
    println!("api RSS after the public run: {:.1} MiB", api.rss_mib());
    load(
        http,
        "authenticated GET /api/v1/me (API key)",
        "/api/v1/me",
        Some(key),
    )
    .await;
    println!(
        "api RSS after the authenticated run: {:.1} MiB",
        api.rss_mib()
    );
    drop(api);
}
