//! seedgen benchmarks; prints its figures. Run with `cargo bench -p seedgen` (needs MariaDB and
//! NATS like the tests; `deploy/local/test.sh` starts them).
//!
//! 1. Mystery rolls per second on one core, for every upstream weightset (the slowest is the
//!    figure that counts; target ≥ 100,000/s).
//! 2. Load-and-parse time of all bundled presets (and of the 206 upstream files).
//! 3. `Generate` latency over gRPC at 100 concurrent requests against a zero-latency fake
//!    alttpr.com, with MariaDB and NATS: provider call, then one transaction with the stored
//!    reply, the audit row and the outbox event (target p99 ≤ 5 ms); and one at a time.
//!
//! `cargo bench -p seedgen -- mystery` (or `presets`, `generate`) runs one part;
//! `-- mystery chaos` rolls only the named weightsets.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use platform::Service;
use proto::seedgen::v1 as pb;
use proto::seedgen::v1::seed_gen_client::SeedGenClient;
use seedgen::SeedgenService;
use seedgen::mystery::{self, Weights};
use seedgen::preset::files::PresetCatalog;

// The same allocator as the seedgen binary.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn shared() -> PathBuf {
    testkit::shared_dir().join("upstream/presets")
}

fn repo_presets() -> PathBuf {
    PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("../../presets")
}

fn mystery_rolls(only: &[String]) {
    let dir = shared().join("alttprmystery");
    let mut results = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        let path = entry.path();
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        if !only.is_empty() && !only.contains(&name) {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let weights = Weights::compile(&seedgen::yaml::parse_mapping(&text).unwrap()).unwrap();
        if mystery::check_required(&weights).is_err() {
            continue;
        }
        let n = 50_000u64;
        let started = Instant::now();
        let mut ok = 0u64;
        for seed in 0..n {
            if mystery::roll(&weights, "mystery", seed).is_ok() {
                ok += 1;
            }
        }
        let per_second = n as f64 / started.elapsed().as_secs_f64();
        assert!(ok > 0);
        results.push((per_second, name, weights));
    }
    results.sort_by(|a, b| a.0.total_cmp(&b.0));
    println!(
        "mystery rolls per second, one core (slowest five of {} weightsets):",
        results.len()
    );
    for (per_second, name, _) in results.iter().take(5) {
        println!("  {name:<24} {per_second:>12.0} rolls/s");
    }
    // A Generate also builds the whole alttpr.com body once; this is the cost of both.
    let (_, slowest, weights) = &results[0];
    let n = 20_000u64;
    let started = Instant::now();
    for seed in 0..n {
        if let Ok(mystery::Roll {
            rolled: mystery::Rolled::Settings(settings),
            ..
        }) = mystery::roll(weights, "mystery", seed)
        {
            std::hint::black_box(settings.into_body());
        }
    }
    println!(
        "  {slowest} with the request body built: {:.0} rolls/s",
        n as f64 / started.elapsed().as_secs_f64()
    );
    let fastest = results.last().unwrap();
    println!("  fastest: {} {:.0} rolls/s", fastest.1, fastest.0);
}

fn preset_loading() {
    for (label, dir) in [("bundled", repo_presets()), ("upstream", shared())] {
        let runs = 20;
        let started = Instant::now();
        let mut count = 0;
        for _ in 0..runs {
            count = PresetCatalog::load_dir(&dir).len();
        }
        let each = started.elapsed() / runs;
        println!(
            "load and parse all {label} presets ({count} files): {:.2} ms",
            each.as_secs_f64() * 1000.0
        );
    }
}

async fn generate_latency() {
    // A zero-latency alttpr.com: one canned answer from a bare axum route.
    let answer = serde_json::json!({
        "hash": "BeNcHmArK1", "patch": [{"1573397": [1, 2, 3, 4, 5]}],
        "spoiler": {"meta": {"spoilers": "off", "name": "bench"}}
    })
    .to_string();
    let app = axum::Router::new().route(
        "/api/randomizer",
        axum::routing::post(move || {
            let answer = answer.clone();
            async move { ([("content-type", "application/json")], answer) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let fake_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let db = testkit::TestDb::new()
        .await
        .expect("MariaDB (run deploy/local/test.sh once to start it)");
    let nats = testkit::TestNats::shared();
    let mut settings = SeedgenService::default_settings();
    testkit::configure(&mut settings.common, &db, &nats);
    settings.common.database.max_connections = 40;
    settings.service.presets_dir = repo_presets();
    settings.service.providers.alttpr.base_url = fake_url.clone();
    let listeners = testkit::bind_ephemeral().await.unwrap();
    let mut handle = testkit::ServiceHandle::spawn::<SeedgenService>(settings, listeners).unwrap();
    handle.wait_ready(Duration::from_secs(30)).await.unwrap();
    let client = SeedGenClient::connect(handle.grpc_url()).await.unwrap();

    let request = |key: String| pb::GenerateRequest {
        idempotency_key: key,
        randomizer: "alttpr".into(),
        preset: "open".into(),
        race: true,
        requested_by: "bench".into(),
        surface: "api".into(),
        ..Default::default()
    };
    // Warm up connections and caches.
    for i in 0..50 {
        client
            .clone()
            .generate(request(format!("warm-{i}")))
            .await
            .unwrap();
    }
    let concurrency = 100;
    let rounds = 20;
    let mut latency = hdrhistogram::Histogram::<u64>::new(3).unwrap();
    let started = Instant::now();
    for round in 0..rounds {
        let calls = (0..concurrency).map(|i| {
            let mut client = client.clone();
            let req = request(format!("bench-{round}-{i}"));
            async move {
                let t = Instant::now();
                client.generate(req).await.unwrap();
                t.elapsed()
            }
        });
        for elapsed in futures::future::join_all(calls).await {
            latency.record(elapsed.as_micros() as u64).unwrap();
        }
    }
    let total = started.elapsed();
    let n = concurrency * rounds;
    println!(
        "Generate over gRPC, {concurrency} concurrent, {n} requests in {:.2} s ({:.0}/s):",
        total.as_secs_f64(),
        n as f64 / total.as_secs_f64()
    );
    let ms = |us: u64| us as f64 / 1000.0;
    println!(
        "  end to end:  p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
        ms(latency.value_at_quantile(0.5)),
        ms(latency.value_at_quantile(0.99)),
        ms(latency.max())
    );
    let mut client = client.clone();
    let mut sequential = hdrhistogram::Histogram::<u64>::new(3).unwrap();
    for i in 0..200 {
        let t = Instant::now();
        client.generate(request(format!("seq-{i}"))).await.unwrap();
        sequential.record(t.elapsed().as_micros() as u64).unwrap();
    }
    println!(
        "  one at a time: p50 {:.2} ms  p99 {:.2} ms",
        ms(sequential.value_at_quantile(0.5)),
        ms(sequential.value_at_quantile(0.99))
    );
    handle.stop().await.unwrap();
}

fn main() {
    // `cargo bench` passes `--bench`; other words name the parts to run.
    let parts: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wanted = |part: &str| parts.is_empty() || parts.iter().any(|p| p == part);
    if wanted("mystery") {
        // `-- mystery chaos` rolls only the named weightsets.
        let only: Vec<String> = parts
            .iter()
            .filter(|p| !matches!(p.as_str(), "mystery" | "presets" | "generate"))
            .cloned()
            .collect();
        mystery_rolls(&only);
    }
    if wanted("presets") {
        preset_loading();
    }
    if wanted("generate") {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(generate_latency());
    }
}
