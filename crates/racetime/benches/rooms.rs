//! Load benchmark of the racetime service against the fake racetime.gg (MariaDB and NATS real):
//! N rooms handled at once (100 and 1,000), then one chat command per room, all at once,
//! timing chat → bot reply. Prints p50/p99 of that, the fake server's own action round trip
//! for comparison, and the process RSS before and after the service took the rooms.
//!
//! `cargo bench -p racetime` (release build). Needs MariaDB and NATS like the tests.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use platform::Service;
use racetime::RacetimeService;
use racetime_client::action::OutgoingMessage;
use racetime_client::{
    Action, Credentials, RacetimeHttp, Resume, RoomSocket, SocketConfig, TokenManager,
};
use serde_json::json;
use testkit::{FakeRacetime, ServiceHandle, TestDb, TestNats};

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

async fn fake_round_trip(fake: &FakeRacetime, room: &str) -> (Duration, Duration) {
    let http = RacetimeHttp::new(fake.url.parse().unwrap(), Duration::from_secs(5)).unwrap();
    let tokens = TokenManager::start(
        http.clone(),
        Credentials {
            client_id: "alttpr-id".into(),
            client_secret: "alttpr-secret".to_string().into(),
        },
    )
    .await
    .unwrap();
    let race = http.race_data(room).await.unwrap();
    let (socket, _events) = RoomSocket::spawn(
        http,
        &race.websocket_bot_url,
        tokens,
        SocketConfig::default(),
        Resume::default(),
    );
    let mut samples = Vec::new();
    for i in 0..200 {
        let started = Instant::now();
        socket
            .call(Action::Message(OutgoingMessage {
                message: format!("probe {i}"),
                guid: format!("probe-{i}"),
                ..Default::default()
            }))
            .await
            .unwrap();
        samples.push(started.elapsed());
    }
    samples.sort();
    (percentile(&samples, 0.5), percentile(&samples, 0.99))
}

async fn run(rooms: usize) {
    let fake = FakeRacetime::start().await.unwrap();
    fake.set_ping_interval(None);
    let db = TestDb::new().await.unwrap();
    let nats = TestNats::shared();
    let user = fake.add_user("Racer", &[]);
    let names: Vec<String> = (0..rooms)
        .map(|_| fake.open_room("alttpr", &user, "Beat the game", false))
        .collect();
    let (fake_p50, fake_p99) = fake_round_trip(&fake, &names[0]).await;
    let before = rss_mib();

    let mut settings = RacetimeService::default_settings();
    testkit::configure(&mut settings.common, &db, &nats);
    settings.common.database.max_connections = 20;
    settings.service.racetime_url = fake.url.clone();
    settings.service.poll_interval_secs = 1;
    settings.service.categories.insert(
        "alttpr".into(),
        serde_json::from_value(json!({"client_id": "alttpr-id", "client_secret": "alttpr-secret"}))
            .unwrap(),
    );
    let listeners = testkit::bind_ephemeral().await.unwrap();
    let mut handle = ServiceHandle::spawn::<RacetimeService>(settings, listeners).unwrap();
    handle.wait_ready(Duration::from_secs(60)).await.unwrap();

    let joined = Instant::now();
    let deadline = joined + Duration::from_secs(300);
    while names.iter().filter(|n| fake.socket_count(n) > 0).count() < rooms {
        assert!(
            Instant::now() < deadline,
            "the service did not join every room"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Every intro is out before the measurement starts.
    while names
        .iter()
        .filter(|n| !fake.bot_messages(n).is_empty())
        .count()
        < rooms
    {
        assert!(Instant::now() < deadline, "not every room got its intro");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let join_time = joined.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss_mib();

    let mut posts = fake.subscribe_bot_posts();
    let mut sent: HashMap<String, Instant> = HashMap::new();
    for name in &names {
        sent.insert(name.clone(), Instant::now());
        fake.chat(name, &user, "!help");
    }
    let mut latencies = Vec::new();
    while latencies.len() < rooms {
        let (room, text) = tokio::time::timeout(Duration::from_secs(60), posts.recv())
            .await
            .expect("replies in time")
            .expect("stream");
        if text.starts_with("Available commands:")
            && let Some(at) = sent.remove(&room)
        {
            latencies.push(at.elapsed());
        }
    }
    latencies.sort();
    println!(
        "rooms {rooms:>5}: joined in {:.1} s | !help → reply p50 {} p99 {} (fake action round trip p50 {} p99 {}) | RSS {:.1} MiB before, {:.1} MiB after (+{:.1} MiB for the service)",
        join_time.as_secs_f64(),
        ms(percentile(&latencies, 0.5)),
        ms(percentile(&latencies, 0.99)),
        ms(fake_p50),
        ms(fake_p99),
        before,
        after,
        after - before
    );
    handle.stop().await.unwrap();
}

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        for rooms in [100, 1000] {
            run(rooms).await;
        }
    });
}
