//! Async leaderboard benchmark (issue: 1,000 players × 5 pools × 2 runs): the runs are
//! written straight into the tournament database, then
//!
//! * the leaderboard is computed from the database by a fresh connection (cold: the first
//!   computation after connecting) and 20 more times (warm p50/p99) — target ≤ 50 ms cold;
//! * the website's leaderboard page (`GET /async/leaderboard/{id}`, a closed tournament, so
//!   public) and its JSON are loaded with the api bench's generator (16 connections, 10 s):
//!   requests/s and p50/p99 through api and the `tournament` release binary.
//!
//! `cargo bench -p tournament --bench leaderboard` (release build). Needs MariaDB (or
//! `TEST_DATABASE=sqlite`) and NATS like the tests.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use api::ApiService;
use chrono::Utc;
use platform::Service;
use sea_orm::{ActiveValue::Set, EntityTrait};
use testkit::bench::{Load, load_http, ms, p50_p99};
use testkit::process::ServiceProcess;
use testkit::{ServiceHandle, TestDb, TestNats};
use tournament::asyncs::Asyncs;
use tournament::asyncs::db::{
    Customization, ReviewStatus, RunStatus, permalink, player, pool, run, tournament as t,
};

const PLAYERS: i64 = 1_000;
const POOLS: i64 = 5;
const RUNS_PER_POOL: i64 = 2;
const SEEDS_PER_POOL: i64 = 10;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}

/// Writes the tournament, its pools and seeds, the players and their runs; returns its id.
async fn fill(db: &sea_orm::DatabaseConnection) -> i64 {
    let now = Utc::now();
    let tournament = t::Entity::insert(t::ActiveModel {
        name: Set("Bench Qualifier".into()),
        guild_id: Set(1),
        channel_id: Set(4242),
        message_id: Set(None),
        owner_discord_id: Set(1),
        // Closed: the leaderboard page is public.
        active: Set(false),
        allowed_reattempts: Set(1),
        runs_per_pool: Set(RUNS_PER_POOL as i32),
        customization: Set(Customization::Default),
        created_at: Set(now),
        ..Default::default()
    })
    .exec(db)
    .await
    .unwrap()
    .last_insert_id;
    let mut seeds = Vec::new();
    for p in 0..POOLS {
        let pool_id = pool::Entity::insert(pool::ActiveModel {
            tournament_id: Set(tournament),
            name: Set(format!("Pool {p}")),
            preset: Set("open".into()),
            ..Default::default()
        })
        .exec(db)
        .await
        .unwrap()
        .last_insert_id;
        let mut ids = Vec::new();
        for s in 0..SEEDS_PER_POOL {
            ids.push(
                permalink::Entity::insert(permalink::ActiveModel {
                    pool_id: Set(pool_id),
                    url: Set(format!("https://alttpr.com/h/{p}{s}")),
                    notes: Set("Bow/Boots/Bombs/Hammer/Hookshot".into()),
                    live_race: Set(false),
                    par_time: Set(Some(6000.0)),
                    par_updated_at: Set(Some(now)),
                    ..Default::default()
                })
                .exec(db)
                .await
                .unwrap()
                .last_insert_id,
            );
        }
        seeds.push((pool_id, ids));
    }
    let players: Vec<player::ActiveModel> = (1..=PLAYERS)
        .map(|u| player::ActiveModel {
            user_id: Set(u),
            discord_user_id: Set(Some(185_198_185_990_000_000 + u)),
            racetime_user_id: Set(Some(format!("rt{u}"))),
            display_name: Set(format!("Player {u}")),
            twitch_name: Set(None),
            updated_at: Set(now),
        })
        .collect();
    for chunk in players.chunks(500) {
        player::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await
            .unwrap();
    }
    let mut runs = Vec::new();
    for u in 1..=PLAYERS {
        for (p, (pool_id, ids)) in seeds.iter().enumerate() {
            for n in 0..RUNS_PER_POOL {
                let k = (u + p as i64 * 7 + n * 3) as usize;
                let elapsed = chrono::Duration::seconds(5000 + (k as i64 * 37) % 4000);
                let forfeit = k.is_multiple_of(17);
                runs.push(run::ActiveModel {
                    tournament_id: Set(tournament),
                    pool_id: Set(*pool_id),
                    permalink_id: Set(ids[(k + n as usize) % ids.len()]),
                    user_id: Set(u),
                    discord_user_id: Set(Some(185_198_185_990_000_000 + u)),
                    thread_id: Set(Some(10_000_000 + runs.len() as i64)),
                    status: Set(if forfeit {
                        RunStatus::Forfeit
                    } else {
                        RunStatus::Finished
                    }),
                    start_time: Set(Some(now - elapsed)),
                    end_time: Set(Some(now)),
                    reattempted: Set(false),
                    review_status: Set(ReviewStatus::Pending),
                    score: Set(Some(if forfeit {
                        0.0
                    } else {
                        tournament::asyncs::scoring::qualifier_score(
                            6000.0,
                            elapsed.num_seconds() as f64,
                        )
                    })),
                    score_updated_at: Set(Some(now)),
                    created_at: Set(now),
                    ..Default::default()
                });
            }
        }
    }
    for chunk in runs.chunks(500) {
        run::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await
            .unwrap();
    }
    tournament
}

async fn run() {
    testkit::init();
    let nats = TestNats::shared();
    let db = TestDb::new().await.unwrap();

    // The tournament release binary (it migrates the database), reached by api in-process.
    let tournament = ServiceProcess::start(
        env!("CARGO_BIN_EXE_tournament"),
        "TOURNAMENT_",
        &db,
        &nats,
        &[("TOURNAMENT_SCHEDULE_POLL_SECS", "3600".into())],
    )
    .await
    .unwrap();
    let conn = sea_orm::Database::connect(db.url()).await.unwrap();
    let started = Instant::now();
    let id = fill(&conn).await;
    println!(
        "filled {} runs of {PLAYERS} players in {POOLS} pools in {:.1} s",
        PLAYERS * POOLS * RUNS_PER_POOL,
        started.elapsed().as_secs_f64()
    );

    // Cold: a fresh connection, the first computation.
    let fresh = sea_orm::Database::connect(db.url()).await.unwrap();
    let asyncs = Asyncs::new(fresh, platform::grpc::Peers::default(), "");
    let row = t::Entity::find_by_id(id)
        .one(asyncs.db())
        .await
        .unwrap()
        .unwrap();
    let cold = Instant::now();
    let board = asyncs.leaderboard(row.clone()).await.unwrap();
    let cold = cold.elapsed();
    assert_eq!(board.entries.len(), PLAYERS as usize);
    assert_eq!(
        board.entries[0].slots.len(),
        (POOLS * RUNS_PER_POOL) as usize
    );
    let mut warm = Vec::new();
    for _ in 0..20 {
        let at = Instant::now();
        asyncs.leaderboard(row.clone()).await.unwrap();
        warm.push(at.elapsed());
    }
    warm.sort();
    println!(
        "leaderboard from the database ({PLAYERS} players × {POOLS} pools × {RUNS_PER_POOL} runs): cold {} (target ≤ 50 ms), warm {}",
        ms(cold),
        p50_p99(&warm)
    );

    // The page under load, through api and the tournament binary.
    let api_db = TestDb::new().await.unwrap();
    let mut settings = ApiService::default_settings();
    testkit::configure(&mut settings.common, &api_db, &nats);
    settings.common.peers.get_mut("tournament").unwrap().url =
        format!("http://{}", tournament.grpc);
    let http = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    settings.service.http.listen = http;
    settings.service.http.public_url = format!("http://{http}");
    settings.service.http.rate_limit_per_second = 0;
    let mut api =
        ServiceHandle::spawn::<ApiService>(settings, testkit::bind_ephemeral().await.unwrap())
            .unwrap();
    api.wait_ready(Duration::from_secs(30)).await.unwrap();
    let page = format!("/async/leaderboard/{id}");
    let status = reqwest::get(format!("http://{http}{page}"))
        .await
        .unwrap()
        .status();
    assert_eq!(status, 200);
    let load = Load {
        connections: 16,
        duration: Duration::from_secs(10),
        warmup: Duration::from_secs(1),
    };
    println!("tournament RSS at rest: {:.1} MiB", tournament.rss_mib());
    load_http(
        http,
        "leaderboard page GET /async/leaderboard/{id} (1000 players)",
        &page,
        None,
        load,
    )
    .await;
    load_http(
        http,
        "leaderboard JSON GET /async/races/{id}/leaderboard.json",
        &format!("/async/races/{id}/leaderboard.json"),
        None,
        load,
    )
    .await;
    println!(
        "tournament RSS after the runs: {:.1} MiB",
        tournament.rss_mib()
    );
    drop(api);
    drop(tournament);
}
