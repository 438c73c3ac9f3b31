//! The racetime service end to end: the fake racetime.gg, the real seedgen service (alttpr.com
//! faked by wiremock; z1r and friends roll locally), MariaDB and NATS.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod migration;
mod opening;
mod resilience;
mod rolling;
mod spoilers;

use std::time::Duration;

use platform::Service;
use proto::racetime::v1 as pb;
use proto::racetime::v1::race_rooms_client::RaceRoomsClient;
use racetime::RacetimeService;
use sea_orm::{ConnectionTrait, Database, Statement};
use seedgen::SeedgenService;
use serde_json::json;
use testkit::fixtures::alttpr_seed_response;
use testkit::racetime::StartraceFault;
use testkit::{FakeRacetime, ServiceHandle, TestDb, TestNats};
use tonic::transport::Channel;
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const WAIT: Duration = Duration::from_secs(15);

/// Every category the tests run a bot for (one per handler).
const CATEGORIES: [&str; 14] = [
    "alttpr",
    "test",
    "z1r",
    "z2r",
    "smz3",
    "smr",
    "sm",
    "smb3r",
    "ff1r",
    "ctjets",
    "twwr",
    "contra",
    "smw-hacks",
    "sgl",
];

struct World {
    fake: FakeRacetime,
    alttpr: MockServer,
    db: TestDb,
    nats: TestNats,
    _seedgen: ServiceHandle,
    _seedgen_db: TestDb,
    seedgen_url: String,
}

async fn world() -> World {
    testkit::init();
    let fake = FakeRacetime::start().await.unwrap();
    for slug in CATEGORIES.iter().filter(|s| **s != "alttpr") {
        fake.add_category(slug, &["Beat the game"]);
    }
    let alttpr = MockServer::start().await;
    // Spoiler races ask for the log ("spoilers": "generate").
    Mock::given(method("POST"))
        .and(path("/api/randomizer"))
        .and(body_partial_json(json!({"spoilers": "generate"})))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(alttpr_seed_response("SpOiLeR", "generate")),
        )
        .with_priority(1)
        .mount(&alttpr)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/customizer"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(alttpr_seed_response("CuStOmHaSh", "off")),
        )
        .mount(&alttpr)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/randomizer"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(alttpr_seed_response("HaShHaSh", "off"))
                .set_delay(Duration::from_millis(150)),
        )
        .mount(&alttpr)
        .await;
    // samus.link (smz3 single and multiworld) answers; sm.samus.link is down.
    let samus = json!({"id": 1, "gameName": "SMZ3", "gameVersion": "11.3", "guid": "0f5b2a1c3d4e4f6a8b9c0d1e2f3a4b5c",
                       "hash": "GEEMER RIPPER ATOMIC POWAMP", "mode": "normal", "worlds": []});
    for route in [
        "/api/randomizers/smz3/generate",
        "/mw/api/randomizers/smz3/generate",
    ] {
        Mock::given(method("POST"))
            .and(path(route))
            .respond_with(ResponseTemplate::new(200).set_body_json(&samus))
            .mount(&alttpr)
            .await;
    }
    Mock::given(method("POST"))
        .and(path("/sm/api/randomizers/sm/generate"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&alttpr)
        .await;
    let seedgen_db = TestDb::new().await.unwrap();
    let nats = TestNats::shared();
    let mut settings = SeedgenService::default_settings();
    testkit::configure(&mut settings.common, &seedgen_db, &nats);
    settings.service.presets_dir =
        std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap())
            .join("../../presets");
    settings.service.providers.alttpr.base_url = alttpr.uri();
    settings.service.providers.samus.smz3_url = alttpr.uri();
    settings.service.providers.samus.multiworld_url = format!("{}/mw", alttpr.uri());
    settings.service.providers.samus.sm_url = format!("{}/sm", alttpr.uri());
    settings.service.providers.http.attempts = 1;
    // Spoiler logs go to the local S3 server the test command starts (moto).
    let s3 = std::env::var("TEST_S3_ENDPOINT").unwrap_or_else(|_| "http://127.0.0.1:9300".into());
    let bucket = format!("spoilers-{}", testkit::unique_suffix().to_lowercase());
    settings.service.storage = seedgen::storage::StorageSettings::local(&s3, &bucket);
    seedgen::storage::ObjectStore::new(&settings.service.storage)
        .unwrap()
        .ensure_bucket()
        .await
        .expect("the local S3 server must run (deploy/local/test.sh starts it)");
    let listeners = testkit::bind_ephemeral().await.unwrap();
    let mut seedgen = ServiceHandle::spawn::<SeedgenService>(settings, listeners).unwrap();
    seedgen.wait_ready(Duration::from_secs(30)).await.unwrap();
    let seedgen_url = seedgen.grpc_url();
    World {
        fake,
        alttpr,
        db: TestDb::new().await.unwrap(),
        nats,
        _seedgen: seedgen,
        _seedgen_db: seedgen_db,
        seedgen_url,
    }
}

impl World {
    async fn racetime(&self) -> (ServiceHandle, RaceRoomsClient<Channel>) {
        self.racetime_with(|_| {}).await
    }

    /// The service with test settings, adjusted by `adjust` before it starts.
    async fn racetime_with(
        &self,
        adjust: impl FnOnce(&mut racetime::RacetimeSettings),
    ) -> (ServiceHandle, RaceRoomsClient<Channel>) {
        let mut settings = RacetimeService::default_settings();
        testkit::configure(&mut settings.common, &self.db, &self.nats);
        settings.common.peers.get_mut("seedgen").unwrap().url = self.seedgen_url.clone();
        let s = &mut settings.service;
        s.racetime_url = self.fake.url.clone();
        s.poll_interval_secs = 1;
        s.lease_ttl_secs = 3;
        s.resurrection_window_secs = 3;
        s.open_confirm_window_secs = 0;
        for slug in CATEGORIES {
            s.categories.insert(slug.into(), serde_json::from_value(json!({"client_id": format!("{slug}-id"), "client_secret": format!("{slug}-secret")})).unwrap());
        }
        adjust(&mut settings.service);
        let listeners = testkit::bind_ephemeral().await.unwrap();
        let mut handle = ServiceHandle::spawn::<RacetimeService>(settings, listeners).unwrap();
        handle.wait_ready(Duration::from_secs(30)).await.unwrap();
        let client = RaceRoomsClient::connect(handle.grpc_url()).await.unwrap();
        (handle, client)
    }

    async fn outbox_subjects(&self) -> Vec<String> {
        let db = Database::connect(self.db.url()).await.unwrap();
        let rows = db
            .query_all_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT subject FROM outbox ORDER BY seq",
            ))
            .await
            .unwrap();
        rows.iter()
            .map(|r| r.try_get::<String>("", "subject").unwrap())
            .collect()
    }

    async fn wait_outbox(&self, subject: &str, count: usize) -> Vec<String> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let subjects = self.outbox_subjects().await;
            if subjects.iter().filter(|s| s.ends_with(subject)).count() >= count {
                return subjects;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no {count}× {subject} in the outbox: {subjects:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn count(lines: &[String], text: &str) -> usize {
    lines.iter().filter(|l| l.as_str() == text).count()
}

/// A public room opened by `user` in `category` ("Beat the game"), once the bot joined it.
async fn handled_room(w: &World, category: &str, user: &str) -> String {
    let room = w.fake.open_room(category, user, "Beat the game", false);
    wait_handled(&w.fake, &room).await;
    room
}

async fn wait_handled(fake: &FakeRacetime, room: &str) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while fake.socket_count(room) == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the bot never joined {room}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn said(w: &World, room: &str, user: &str, command: &str, expect: &str) -> Vec<String> {
    w.fake.chat(room, user, command);
    w.fake
        .wait_for_bot(room, WAIT, |l| l.iter().any(|m| m.starts_with(expect)))
        .await
}

async fn wait_for_action(w: &World, room: &str, action: &str) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !w
        .fake
        .actions()
        .iter()
        .any(|(race, a)| race == room && a == action)
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no {action} in {room}: {:?}",
            w.fake.actions()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
