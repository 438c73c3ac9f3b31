//! Room-open SLO benchmark: 1,000 internal matches whose room windows open one after another
//! over a compressed hour (every window within `SPREAD`), two `tournament` release binaries
//! as replicas on one database, the real racetime service and the fake racetime.gg in this
//! process. One replica is killed halfway. Prints the lateness of every room (seconds from its
//! window opening to the room being recorded open: p50/p99/max), rooms per match (duplicates),
//! and the surviving replica's RSS.
//!
//! `cargo bench -p tournament` (release build). Needs MariaDB (or `TEST_DATABASE=sqlite`) and
//! NATS like the tests. Target: every room within 60 s of its window, zero duplicates.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::Utc;
use platform::Service;
use proto::tournament::v1 as pb;
use proto::tournament::v1::tournament_admin_client::TournamentAdminClient;
use racetime::RacetimeService;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;
use testkit::process::ServiceProcess;
use testkit::{FakeRacetime, ServiceHandle, TestDb, TestNats};

const MATCHES: usize = 1_000;
/// The hour of windows, compressed to this much real time.
const SPREAD: Duration = Duration::from_secs(150);
/// How long after the first window the measurement starts (time to create the matches).
const LEAD: Duration = Duration::from_secs(30);
const OPEN_BEFORE_MINUTES: i64 = 60;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}

async fn replica(db: &TestDb, nats: &TestNats, racetime: &str) -> ServiceProcess {
    ServiceProcess::start(
        env!("CARGO_BIN_EXE_tournament"),
        "TOURNAMENT_",
        db,
        nats,
        &[
            ("TOURNAMENT_PEERS__RACETIME__URL", racetime.to_owned()),
            ("TOURNAMENT_OPENER_POLL_SECS", "5".into()),
            ("TOURNAMENT_SCHEDULE_POLL_SECS", "3600".into()),
        ],
    )
    .await
    .unwrap()
}

async fn run() {
    testkit::init();
    let nats = TestNats::shared();
    let fake = FakeRacetime::start().await.unwrap();
    fake.set_ping_interval(None);
    let racetime_db = TestDb::new().await.unwrap();
    let mut settings = RacetimeService::default_settings();
    testkit::configure(&mut settings.common, &racetime_db, &nats);
    settings.common.database.max_connections = 20;
    settings.service.racetime_url = fake.url.clone();
    settings.service.open_confirm_window_secs = 0;
    settings.service.categories.insert(
        "alttpr".into(),
        serde_json::from_value(json!({"client_id": "alttpr-id", "client_secret": "alttpr-secret"}))
            .unwrap(),
    );
    let mut racetime =
        ServiceHandle::spawn::<RacetimeService>(settings, testkit::bind_ephemeral().await.unwrap())
            .unwrap();
    racetime.wait_ready(Duration::from_secs(30)).await.unwrap();

    let db = TestDb::new().await.unwrap();
    let first = replica(&db, &nats, &racetime.grpc_url()).await;
    let second = replica(&db, &nats, &racetime.grpc_url()).await;
    let mut admin = TournamentAdminClient::connect(format!("http://{}", first.grpc))
        .await
        .unwrap();
    let operator = Some(pb::Actor {
        operator: true,
        user_id: 0,
    });
    admin
        .upsert_tournament(pb::UpsertTournamentRequest {
            actor: operator,
            config: Some(pb::TournamentConfig {
                slug: "bench".into(),
                name: "Bench".into(),
                active: false,
                schedule_source: "internal".into(),
                racetime_category: "alttpr".into(),
                racetime_goal: "Beat the game".into(),
                room_open_minutes_before: u32::try_from(OPEN_BEFORE_MINUTES).unwrap(),
                ..Default::default()
            }),
        })
        .await
        .unwrap();
    // Windows open from `LEAD` from now, one every SPREAD/MATCHES.
    let t0 = Utc::now() + chrono::Duration::from_std(LEAD).unwrap();
    let step = SPREAD.as_secs_f64() / MATCHES as f64;
    for i in 0..MATCHES {
        let window = t0 + chrono::Duration::milliseconds((step * i as f64 * 1000.0) as i64);
        admin
            .create_match(pb::CreateMatchRequest {
                actor: operator,
                tournament: "bench".into(),
                title: format!("Match {i}"),
                scheduled_at: Some(platform::grpc::timestamp(
                    window + chrono::Duration::minutes(OPEN_BEFORE_MINUTES),
                )),
                players: vec![pb::MatchPlayer {
                    display_name: format!("P{i}"),
                    ..Default::default()
                }],
                ..Default::default()
            })
            .await
            .unwrap();
    }
    // Go.
    let mut config = admin
        .get_tournament_config(pb::GetTournamentRequest {
            slug: "bench".into(),
        })
        .await
        .unwrap()
        .into_inner();
    config.active = true;
    admin
        .upsert_tournament(pb::UpsertTournamentRequest {
            actor: operator,
            config: Some(config),
        })
        .await
        .unwrap();
    println!(
        "{MATCHES} matches, windows opening over {} s, 2 replicas",
        SPREAD.as_secs()
    );
    let started = Instant::now();
    let wait_until = |at: chrono::DateTime<Utc>| {
        let d = (at - Utc::now()).to_std().unwrap_or_default();
        tokio::time::sleep(d)
    };
    // Kill one replica halfway through the windows.
    wait_until(t0 + chrono::Duration::from_std(SPREAD / 2).unwrap()).await;
    drop(first);
    println!(
        "replica 1 killed at {:.0} s",
        started.elapsed().as_secs_f64()
    );
    wait_until(t0 + chrono::Duration::from_std(SPREAD + Duration::from_secs(60)).unwrap()).await;

    let conn = sea_orm::Database::connect(db.url()).await.unwrap();
    let backend = conn.get_database_backend();
    let rows = conn
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT m.id, m.scheduled_at, r.opened_at, r.state FROM matches m LEFT JOIN match_rooms r ON r.match_id = m.id",
        ))
        .await
        .unwrap();
    let mut per_match: HashMap<i64, usize> = HashMap::new();
    let mut lateness = Vec::new();
    let mut missing = 0;
    for row in &rows {
        let id: i64 = row.try_get_by_index(0).unwrap();
        let scheduled: chrono::DateTime<Utc> = row.try_get_by_index(1).unwrap();
        let opened: Option<chrono::DateTime<Utc>> = row.try_get_by_index(2).ok().flatten();
        *per_match.entry(id).or_default() += 1;
        match opened {
            Some(at) => {
                let window = scheduled - chrono::Duration::minutes(OPEN_BEFORE_MINUTES);
                lateness.push((at - window).num_milliseconds().max(0) as f64 / 1000.0);
            }
            None => missing += 1,
        }
    }
    lateness.sort_by(f64::total_cmp);
    let pick = |p: f64| lateness[((lateness.len() as f64 - 1.0) * p).round() as usize];
    let rooms = fake.race_names("alttpr").len();
    let duplicates = per_match.values().filter(|n| **n > 1).count();
    println!(
        "rooms opened: {} of {MATCHES} ({missing} not opened); racetime.gg rooms: {rooms}; matches with more than one room: {duplicates}",
        lateness.len()
    );
    if !lateness.is_empty() {
        println!(
            "lateness after the window opened: p50 {:.1} s, p99 {:.1} s, max {:.1} s; over 60 s: {}",
            pick(0.5),
            pick(0.99),
            pick(1.0),
            lateness.iter().filter(|l| **l > 60.0).count()
        );
    }
    println!("surviving replica RSS: {:.1} MiB", second.rss_mib());
}
