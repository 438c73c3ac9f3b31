//! Load benchmark of the racetime service against the fake racetime.gg (MariaDB and NATS real):
//! N rooms handled at once (100 and 1,000), then one chat command per room, all at once,
//! timing chat → bot reply, first at a steady 100 commands/s and then all at once. Prints
//! p50/p99 of both, the fake server's own action round trip for comparison, and the RSS of the
//! service, which runs as the real `racetime` binary in its own process. First, room discovery
//! at the default scan intervals: rooms opened one by one while the service runs (the fake
//! caches `/o/{category}/data` for 60 s like racetime.gg), timing room opened → intro posted.
//!
//! `cargo bench -p racetime` (release build). Needs MariaDB and NATS like the tests.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use racetime_client::action::OutgoingMessage;
use racetime_client::{
    Action, Credentials, RacetimeHttp, Resume, RoomSocket, SocketConfig, TokenManager,
};
use testkit::bench::p50_p99;
use testkit::process::ServiceProcess;
use testkit::{FakeRacetime, TestDb, TestNats};

/// The fake server's own action round trip, sorted.
async fn fake_round_trip(fake: &FakeRacetime, room: &str) -> Vec<Duration> {
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
    samples
}

/// Sends `!help` to each room (at most `per_second` of them a second, or all at once when
/// `None`) and returns the sorted chat → reply latencies.
async fn measure(
    fake: &FakeRacetime,
    names: &[String],
    user: &str,
    per_second: Option<u32>,
) -> Vec<Duration> {
    let mut posts = fake.subscribe_bot_posts();
    let mut sent: HashMap<String, Instant> = HashMap::new();
    let mut latencies = Vec::new();
    let gap = per_second.map(|rate| Duration::from_secs_f64(1.0 / f64::from(rate)));
    let mut collect = |room: String, text: String, sent: &mut HashMap<String, Instant>| {
        if text.starts_with("Available commands:")
            && let Some(at) = sent.remove(&room)
        {
            latencies.push(at.elapsed());
        }
    };
    for name in names {
        sent.insert(name.clone(), Instant::now());
        fake.chat(name, user, "!help");
        if let Some(gap) = gap {
            let until = tokio::time::Instant::now() + gap;
            // Drain replies while pacing, so the receive time is not inflated by the sender.
            while let Ok(Ok((room, text))) = tokio::time::timeout_at(until, posts.recv()).await {
                collect(room, text, &mut sent);
            }
        }
    }
    while !sent.is_empty() {
        let (room, text) = tokio::time::timeout(Duration::from_secs(60), posts.recv())
            .await
            .expect("replies in time")
            .expect("stream");
        collect(room, text, &mut sent);
    }
    latencies.sort();
    latencies
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
    let fake_samples = fake_round_trip(&fake, &names[0]).await;

    // The service under test is the real binary in its own process, so its RSS is its own.
    let service = racetime_binary(&fake, &db, &nats, Some(1)).await;
    let idle = service.rss_mib();
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
    let holding = service.rss_mib();

    // Steady traffic: 100 commands a second spread over the rooms.
    let paced = measure(&fake, &names, &user, Some(100)).await;
    // Worst case: every room's command at the same instant.
    let burst = measure(&fake, &names, &user, None).await;
    let after = service.rss_mib();
    println!(
        "rooms {rooms:>5}: joined in {:.1} s | fake action round trip {}",
        join_time.as_secs_f64(),
        p50_p99(&fake_samples),
    );
    println!(
        "             !help → reply at 100/s: {} | all {rooms} at once: {}",
        p50_p99(&paced),
        p50_p99(&burst),
    );
    println!(
        "             service RSS: {idle:.1} MiB idle, {holding:.1} MiB holding {rooms} rooms, {after:.1} MiB after the commands",
    );
}

/// The `racetime` binary for the fake's alttpr category; `poll_secs` overrides the bot
/// endpoint's scan interval (default intervals otherwise).
async fn racetime_binary(
    fake: &FakeRacetime,
    db: &TestDb,
    nats: &TestNats,
    poll_secs: Option<u64>,
) -> ServiceProcess {
    let mut env = vec![
        ("RACETIME_RACETIME_URL", fake.url.clone()),
        ("RACETIME_CATEGORIES__ALTTPR__CLIENT_ID", "alttpr-id".into()),
        (
            "RACETIME_CATEGORIES__ALTTPR__CLIENT_SECRET",
            "alttpr-secret".into(),
        ),
    ];
    if let Some(secs) = poll_secs {
        env.push(("RACETIME_POLL_INTERVAL_SECS", secs.to_string()));
    }
    ServiceProcess::start(env!("CARGO_BIN_EXE_racetime"), "RACETIME_", db, nats, &env)
        .await
        .unwrap()
}

/// Room opened → intro posted, with the service at its default discovery intervals. Rooms open
/// at uneven moments over ~40 s so that they fall at every phase of the scan interval.
async fn discovery(rooms: usize) {
    let fake = FakeRacetime::start().await.unwrap();
    fake.set_ping_interval(None);
    let db = TestDb::new().await.unwrap();
    let nats = TestNats::shared();
    let user = fake.add_user("Racer", &[]);
    let _service = racetime_binary(&fake, &db, &nats, None).await;
    let mut posts = fake.subscribe_bot_posts();
    let mut opened: HashMap<String, Instant> = HashMap::new();
    let mut latencies = Vec::new();
    let mut take = |room: String, opened: &mut HashMap<String, Instant>| {
        if let Some(at) = opened.remove(&room) {
            latencies.push(at.elapsed());
        }
    };
    for n in 0..rooms {
        let name = fake.open_room("alttpr", &user, "Beat the game", false);
        opened.insert(name, Instant::now());
        // 0.6–1.4 s apart, not a multiple of the scan interval.
        let gap = Duration::from_millis(600 + (n as u64 * 337) % 800);
        let until = tokio::time::Instant::now() + gap;
        while let Ok(Ok((room, _))) = tokio::time::timeout_at(until, posts.recv()).await {
            take(room, &mut opened);
        }
    }
    while !opened.is_empty() {
        let (room, _) = tokio::time::timeout(Duration::from_secs(120), posts.recv())
            .await
            .expect("every room gets its intro")
            .expect("stream");
        take(room, &mut opened);
    }
    latencies.sort();
    println!(
        "discovery: {rooms} rooms opened one by one, room opened → intro posted: {} (target p50 ≤ 3 s, p99 ≤ 6 s)",
        p50_p99(&latencies)
    );
}

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    // `cargo bench -p racetime -- discovery` (or `-- load`) runs one phase.
    let phases: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wanted = |phase: &str| phases.is_empty() || phases.iter().any(|p| p == phase);
    runtime.block_on(async {
        if wanted("discovery") {
            discovery(40).await;
        }
        if !wanted("load") {
            return;
        }
        for rooms in [100, 1000] {
            run(rooms).await;
        }
    });
}
