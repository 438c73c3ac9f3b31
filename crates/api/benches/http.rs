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
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use platform::Service;
use seedgen::SeedgenService;
use testkit::bench::p50_p99;
use testkit::process::ServiceProcess;
use testkit::{ServiceHandle, TestDb, TestNats};

const CONNECTIONS: usize = 64;
const DURATION: Duration = Duration::from_secs(10);
const WARMUP: Duration = Duration::from_secs(1);

/// One worker: a connection, requests back to back until `until`; latencies of the requests
/// started after `measure_from`.
async fn worker(
    addr: SocketAddr,
    path: &'static str,
    auth: Option<String>,
    measure_from: Instant,
    until: Instant,
) -> (Vec<Duration>, u64) {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    let mut samples = Vec::with_capacity(200_000);
    let mut errors = 0;
    loop {
        let started = Instant::now();
        if started >= until {
            break;
        }
        let mut request = hyper::Request::get(path).header("host", addr.to_string());
        if let Some(key) = &auth {
            request = request.header("authorization", format!("Bearer {key}"));
        }
        let response = sender
            .send_request(request.body(Empty::<Bytes>::new()).unwrap())
            .await
            .unwrap();
        let ok = response.status() == 200;
        let _ = response.into_body().collect().await.unwrap();
        if !ok {
            errors += 1;
        }
        if started >= measure_from {
            samples.push(started.elapsed());
        }
    }
    (samples, errors)
}

async fn load(addr: SocketAddr, label: &str, path: &'static str, auth: Option<String>) {
    let start = Instant::now();
    let measure_from = start + WARMUP;
    let until = measure_from + DURATION;
    let workers: Vec<_> = (0..CONNECTIONS)
        .map(|_| tokio::spawn(worker(addr, path, auth.clone(), measure_from, until)))
        .collect();
    let mut samples = Vec::new();
    let mut errors = 0;
    for w in workers {
        let (s, e) = w.await.unwrap();
        samples.extend(s);
        errors += e;
    }
    samples.sort();
    let rate = samples.len() as f64 / DURATION.as_secs_f64();
    println!(
        "{label}: {rate:.0} req/s, {} ({} requests, {errors} not 200, {CONNECTIONS} connections)",
        p50_p99(&samples),
        samples.len()
    );
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
