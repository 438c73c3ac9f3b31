//! The racetime service end to end: the fake racetime.gg, the real seedgen service (alttpr.com
//! faked by wiremock; z1r and friends roll locally), MariaDB and NATS.

#![allow(clippy::unwrap_used, clippy::expect_used)]

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

#[tokio::test]
async fn alttpr_room_rolls_once_and_a_restart_resumes_without_reposting() {
    let w = world().await;
    let alice = w.fake.add_user("Alice", &[]);
    // Unlisted rooms are found through the bot category endpoint (cached 60 s by racetime.gg,
    // so this one is opened before the bot's first look); the intro comes once.
    let room = w.fake.open_room("alttpr", &alice, "Beat the game", true);
    let (service, _client) = w.racetime().await;
    let lines = w
        .fake
        .wait_for_bot(&room, WAIT, |l| {
            l.iter().any(|m| m.starts_with("Hi!  I'm SahasrahBot"))
        })
        .await;
    let intro = w
        .fake
        .messages(&room)
        .into_iter()
        .find(|m| m.from_bot)
        .unwrap();
    assert!(
        intro.actions["Roll a Game"]["survey"].is_array(),
        "{:?}",
        intro.actions
    );
    assert_eq!(lines.len(), 1);

    // Two quick rolls: one seed, one refusal.
    w.fake.chat(&room, &alice, "!race open");
    w.fake.chat(&room, &alice, "!race open");
    let lines = w
        .fake
        .wait_for_bot(&room, WAIT, |l| {
            l.iter().any(|m| m.starts_with("I already rolled"))
        })
        .await;
    let url = lines
        .iter()
        .find(|l| l.contains("/h/HaShHaSh"))
        .expect("permalink posted")
        .clone();
    assert_eq!(
        count(&lines, "Seed rolling complete.  See race info for details."),
        1
    );
    assert_eq!(w.alttpr.received_requests().await.unwrap().len(), 1);
    let race = w.fake.race(&room);
    assert!(
        race["info_bot"]
            .as_str()
            .unwrap()
            .starts_with(&format!("open - {url} - (")),
        "{race}"
    );

    // Unknown commands and presets get plain messages.
    w.fake.chat(&room, &alice, "!frobnicate");
    w.fake
        .wait_for_bot(&room, WAIT, |l| {
            l.iter()
                .any(|m| m.starts_with("I don't know the command !frobnicate."))
        })
        .await;

    // Kill and restart: nothing is re-posted, the room stays rolled.
    let before = w.fake.bot_messages(&room);
    service.crash().await;
    let (_service, _client) = w.racetime().await;
    wait_handled(&w.fake, &room).await;
    w.fake.chat(&room, &alice, "!race standard");
    let after = w
        .fake
        .wait_for_bot(&room, WAIT, |l| l.len() > before.len())
        .await;
    assert_eq!(&after[..before.len()], &before[..]);
    assert_eq!(
        after[before.len()..],
        ["I already rolled a seed!  Use !cancel to clear the currently rolled game.".to_string()]
    );
    assert_eq!(w.alttpr.received_requests().await.unwrap().len(), 1);
    assert_eq!(
        w.fake
            .bot_messages(&room)
            .iter()
            .filter(|m| m.starts_with("Hi!"))
            .count(),
        1
    );
}

#[tokio::test]
async fn z1r_commands_token_expiry_dropped_sockets_and_a_second_replica() {
    let w = world().await;
    let (_one, client_one) = w.racetime().await;
    let (_two, client_two) = w.racetime().await;
    let bob = w.fake.add_user("Bob", &[]);
    let room = handled_room(&w, "z1r", &bob).await;
    w.fake.wait_for_bot(&room, WAIT, |l| !l.is_empty()).await;
    // Only one replica handles the room: one socket, one answer.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(w.fake.socket_count(&room), 1);
    // Either replica takes an injected command: the one without the room forwards it.
    for (mut client, command) in [
        (client_one.clone(), "!lock"),
        (client_two.clone(), "!unlock"),
        (client_one.clone(), "!unlock"),
    ] {
        client
            .inject_command(pb::InjectCommandRequest {
                room: room.clone(),
                command: command.into(),
                requested_by: "tests".into(),
            })
            .await
            .unwrap();
    }
    let lines = w
        .fake
        .wait_for_bot(&room, WAIT, |l| {
            l.iter().filter(|m| m.starts_with("Lock released.")).count() == 2
        })
        .await;
    assert_eq!(
        lines
            .iter()
            .filter(|m| m.starts_with("Lock initiated."))
            .count(),
        1
    );
    assert_eq!(
        w.fake.socket_count(&room),
        1,
        "forwarding does not take the room over"
    );

    w.fake.chat(&room, &bob, "!help");
    let lines = w
        .fake
        .wait_for_bot(&room, WAIT, |l| {
            l.iter().any(|m| m.starts_with("Available commands:"))
        })
        .await;
    assert_eq!(
        lines
            .iter()
            .filter(|m| m.starts_with("Available commands:"))
            .count(),
        1
    );

    // Tokens expire mid-session: the socket stays open, actions are refused until a reconnect.
    w.fake.expire_all_tokens();
    w.fake.chat(&room, &bob, "!race rr2024");
    let lines = w
        .fake
        .wait_for_bot(&room, WAIT, |l| {
            l.iter()
                .any(|m| m == "Seed rolling complete.  See race info for details.")
        })
        .await;
    assert!(
        lines.iter().any(|m| {
            m.starts_with("rr2024 - Flags: oIbq2JttN3ae9PzaCJOsVpXedaDD1C2B1yAt8 Seed: ")
        }),
        "{lines:#?}"
    );
    assert!(
        w.fake.race(&room)["info_bot"]
            .as_str()
            .unwrap()
            .starts_with("Flags: oIbq2JttN3ae9PzaCJOsVpXedaDD1C2B1yAt8 Seed: ")
    );

    // The socket drops; a command said during the gap is answered after the reconnect.
    w.fake.drop_sockets(&room, 1011);
    w.fake.chat(&room, &bob, "!cancel");
    w.fake
        .wait_for_bot(&room, WAIT, |l| {
            l.iter()
                .any(|m| m == "Reseting bot state.  You may now roll a new game.")
        })
        .await;
    w.fake.chat(&room, &bob, "!flags ABCDEF");
    w.fake
        .wait_for_bot(&room, WAIT, |l| {
            l.iter()
                .any(|m| m.starts_with("Seed: ") && m.ends_with(" - Flags: ABCDEF"))
        })
        .await;
    let lines = w.fake.bot_messages(&room);
    assert_eq!(
        lines
            .iter()
            .filter(|m| m.starts_with("Reseting bot state"))
            .count(),
        1,
        "{lines:#?}"
    );
    assert_eq!(w.fake.socket_count(&room), 1);
}

#[tokio::test]
async fn open_room_never_makes_two_rooms_for_one_key() {
    let w = world().await;
    let (_service, client) = w.racetime().await;
    let request = |key: &str| pb::OpenRoomRequest {
        idempotency_key: key.into(),
        category: "alttpr".into(),
        settings: Some(pb::RoomSettings {
            goal: "Beat the game".into(),
            invitational: true,
            info_user: format!("match {key}"),
            ..Default::default()
        }),
    };
    // Concurrent identical calls.
    let calls = (0..6).map(|_| {
        let mut client = client.clone();
        let request = request("match-1");
        async move { client.open_room(request).await }
    });
    let results = futures::future::join_all(calls).await;
    let names: std::collections::BTreeSet<String> = results
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(|r| r.get_ref().name.clone())
        .collect();
    assert_eq!(names.len(), 1, "{results:?}");
    assert_eq!(w.fake.startrace_calls(), 1);
    let room = names.into_iter().next().unwrap();
    assert_eq!(w.fake.race(&room)["status"]["value"], "invitational");

    // startrace creates the room but answers 502: the retry finds it instead of posting again.
    w.fake
        .set_startrace_fault(Some(StartraceFault::CreateThenBadGateway));
    let mut c = client.clone();
    let first = c.open_room(request("match-2")).await;
    let second = c.open_room(request("match-2")).await.unwrap().into_inner();
    if let Ok(first) = first {
        assert_eq!(first.into_inner().name, second.name);
    }
    assert_eq!(w.fake.startrace_calls(), 2);
    assert_eq!(w.fake.race_names("alttpr").len(), 2);
    w.wait_outbox("racetime.room.opened", 2).await;

    // A goal the category lacks becomes a custom goal; bad settings are refused before posting.
    let mut bad = request("match-3");
    bad.settings.as_mut().unwrap().start_delay_seconds = 5;
    let error = c.open_room(bad).await.unwrap_err();
    assert_eq!(error.code(), tonic::Code::InvalidArgument);
    assert!(
        error.message().contains("start_delay"),
        "{}",
        error.message()
    );
    assert_eq!(w.fake.startrace_calls(), 2);

    // Server refusals come back typed.
    let error = c
        .invite_user(pb::RoomUserRequest {
            room: room.clone(),
            user_id: "nobody".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(error.code(), tonic::Code::FailedPrecondition);
    assert_eq!(error.message(), "No user found matching the given ID.");
    let carol = w.fake.add_user("Carol", &[]);
    c.invite_user(pb::RoomUserRequest {
        room: room.clone(),
        user_id: carol.clone(),
    })
    .await
    .unwrap();
    c.send_message(pb::SendMessageRequest {
        idempotency_key: "k1".into(),
        room: room.clone(),
        text: "Tournament Controls:".into(),
        pinned: true,
        actions: vec![pb::ActionButton {
            label: "Roll Tournament Seed".into(),
            message: "!tournamentrace".into(),
            ..Default::default()
        }],
        ..Default::default()
    })
    .await
    .unwrap();
    c.send_message(pb::SendMessageRequest {
        idempotency_key: "k1".into(),
        room: room.clone(),
        text: "Tournament Controls:".into(),
        pinned: true,
        ..Default::default()
    })
    .await
    .unwrap();
    let pinned: Vec<_> = w
        .fake
        .messages(&room)
        .into_iter()
        .filter(|m| m.pinned)
        .collect();
    assert_eq!(pinned.len(), 1);
    assert_eq!(
        pinned[0].actions["Roll Tournament Seed"]["message"],
        "!tournamentrace"
    );
    let got = c
        .get_room(pb::GetRoomRequest { room: room.clone() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.entrants.len(), 1);
    assert_eq!(got.entrants[0].status, "invited");
    let error = c
        .get_room(pb::GetRoomRequest {
            room: "alttpr/no-such-room-1".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(error.code(), tonic::Code::NotFound);
    let listed = c
        .list_rooms(pb::ListRoomsRequest {
            category: "alttpr".into(),
            active_only: true,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.rooms.len(), 2);
}

#[tokio::test]
async fn spoiler_race_counts_down_and_status_events_follow_the_race() {
    let w = world().await;
    w.fake.set_countdown(Duration::from_millis(200));
    let (_service, mut client) = w.racetime().await;
    let alice = w.fake.add_user("Alice", &["alttpr"]);
    let bob = w.fake.add_user("Bob", &[]);
    let room = handled_room(&w, "alttpr", &alice).await;
    client
        .schedule_spoiler_race(pb::ScheduleSpoilerRaceRequest {
            room: room.clone(),
            spoiler_url: "https://spoilers.example/log.txt".into(),
            study_time_seconds: 3,
        })
        .await
        .unwrap();
    w.fake.join(&room, &alice);
    w.fake.join(&room, &bob);
    w.fake.ready(&room, &alice);
    w.fake.ready(&room, &bob);
    let lines = w
        .fake
        .wait_for_bot(&room, WAIT, |l| {
            l.iter()
                .any(|m| m == "Log study has finished.  Begin racing!")
        })
        .await;
    let log = lines
        .iter()
        .position(|m| m == "This race's spoiler log: https://spoilers.example/log.txt")
        .expect("log posted");
    let end = lines
        .iter()
        .position(|m| m == "Log study has finished.  Begin racing!")
        .unwrap();
    assert!(log < end);
    assert!(
        lines
            .iter()
            .any(|m| m == "2 second(s) remain!" || m == "1 second(s) remain!"),
        "{lines:#?}"
    );
    // alttpr hides comments when the countdown starts.
    assert_eq!(w.fake.race(&room)["hide_comments"], true);

    w.fake.finish(&room, &alice);
    w.fake.forfeit(&room, &bob);
    let subjects = w.wait_outbox("racetime.race.finished", 1).await;
    let changes: Vec<&String> = subjects
        .iter()
        .filter(|s| s.ends_with("racetime.race.status_changed"))
        .collect();
    assert!(changes.len() >= 3, "{subjects:?}");
    // Undo within the window: the race is back in progress, then finishes again.
    w.fake.undo_finish(&room, &alice);
    w.fake.finish(&room, &alice);
    w.wait_outbox("racetime.race.finished", 2).await;
}

#[tokio::test]
async fn konot_opens_the_next_room_and_invites_who_advances() {
    let w = world().await;
    let (_service, _client) = w.racetime().await;
    let users: Vec<String> = ["A", "B", "C"]
        .iter()
        .map(|n| w.fake.add_user(n, &[]))
        .collect();
    let room = w
        .fake
        .open_room("alttpr", &users[0], "Beat the game", false);
    wait_handled(&w.fake, &room).await;
    w.fake.chat(&room, &users[1], "!konot");
    w.fake
        .wait_for_bot(&room, WAIT, |l| {
            l.iter()
                .any(|m| m.starts_with("Setting up new KONOT race series!"))
        })
        .await;
    w.fake.chat(&room, &users[1], "!konot");
    w.fake
        .wait_for_bot(&room, WAIT, |l| {
            l.iter()
                .any(|m| m == "This room is already segment #1 of a KONOT series.")
        })
        .await;
    for u in &users {
        w.fake.join(&room, u);
    }
    for u in &users {
        w.fake.ready(&room, u);
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
    for u in &users {
        w.fake.finish(&room, u);
    }
    let lines = w
        .fake
        .wait_for_bot(&room, WAIT, |l| {
            l.iter().any(|m| m.starts_with("Next race room at "))
        })
        .await;
    let next = lines
        .iter()
        .find_map(|m| m.strip_prefix("Next race room at "))
        .unwrap();
    let next = next
        .trim_start_matches(&w.fake.url)
        .trim_start_matches('/')
        .to_string();
    let race = w.fake.race(&next);
    assert_eq!(race["info_user"], "KONOT Series, Segment #2");
    assert_eq!(race["status"]["value"], "invitational");
    let invited: Vec<String> = race["entrants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["user"]["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(invited.len(), 2, "the last finisher is eliminated: {race}");
    assert!(!invited.contains(&users[2]));
}

async fn said(w: &World, room: &str, user: &str, command: &str, expect: &str) -> Vec<String> {
    w.fake.chat(room, user, command);
    w.fake
        .wait_for_bot(room, WAIT, |l| l.iter().any(|m| m.starts_with(expect)))
        .await
}

#[tokio::test]
async fn smz3_smr_ff1r_provider_failures_and_monitor_commands() {
    let w = world().await;
    let (_service, mut client) = w.racetime().await;
    let base = w.alttpr.uri();
    let slug = "D1sqHD1OT2qLnA0eLzpLXA";
    let alice = w.fake.add_user("Alice", &[]);
    let bob = w.fake.add_user("Bob", &[]);

    // SMZ3: a command said before the bot joined is history, not a request; a seed with the
    // four-word code; then the room is rolled.
    let room = w.fake.open_room("smz3", &alice, "Beat the game", false);
    w.fake.chat(&room, &alice, "!race hard");
    wait_handled(&w.fake, &room).await;
    said(&w, &room, &alice, "!help", "Available commands:").await;
    assert!(
        !w.fake
            .bot_messages(&room)
            .iter()
            .any(|m| m.starts_with("Generating")),
        "{:#?}",
        w.fake.bot_messages(&room)
    );
    let lines = said(&w, &room, &alice, "!race normal", "Seed rolling complete.").await;
    assert!(lines.contains(&format!("{base}/seed/{slug}")), "{lines:#?}");
    assert_eq!(
        w.fake.race(&room)["info_bot"].as_str().unwrap(),
        format!("normal - {base}/seed/{slug} - (GEEMER RIPPER ATOMIC POWAMP)")
    );
    // An SMZ3 multiworld needs a team race.
    said(&w, &room, &alice, "!cancel", "Reseting bot state").await;
    said(
        &w,
        &room,
        &alice,
        "!multiworld normal",
        "This must be a team race.",
    )
    .await;

    let opened = client
        .open_room(pb::OpenRoomRequest {
            idempotency_key: "mw-1".into(),
            category: "smz3".into(),
            settings: Some(pb::RoomSettings {
                goal: "Beat the game".into(),
                team_race: true,
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner();
    let team_room = opened.name;
    wait_handled(&w.fake, &team_room).await;
    for (user, team) in [(&alice, "red"), (&bob, "blue")] {
        w.fake.join(&team_room, user);
        w.fake.set_team(&team_room, user, team);
    }
    let lines = said(
        &w,
        &team_room,
        &alice,
        "!multiworld normal 12345",
        "Seed rolling complete.",
    )
    .await;
    // One multiworld seed per team.
    let links: Vec<&String> = lines
        .iter()
        .filter(|l| l.starts_with("Team ") && l.contains(&format!("{base}/mw/")))
        .collect();
    assert_eq!(links.len(), 2, "{lines:#?}");
    let mw_calls = w
        .alttpr
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/mw/api/randomizers/smz3/generate")
        .count();
    assert_eq!(mw_calls, 2, "one multiworld seed per team");

    // SM total with sm.samus.link down: a short message that says to retry, no error dump.
    let smr = handled_room(&w, "smr", &alice).await;
    let lines = said(
        &w,
        &smr,
        &alice,
        "!total casual_full",
        "samus.link: the server failed (HTTP 503). Please try again in a minute.",
    )
    .await;
    assert!(
        lines.iter().any(|l| l == "samus.link: the server failed (HTTP 503). Please try again in a minute."),
        "{lines:?}"
    );
    // Not rolled: a second try is a new attempt (seedgen's breaker may answer it without a
    // provider call), not "I already rolled".
    w.fake.chat(&smr, &alice, "!total casual_full");
    let lines = w
        .fake
        .wait_for_bot(&smr, WAIT, |l| {
            l.iter()
                .filter(|m| m.starts_with("samus.link: the server failed"))
                .count()
                == 2
        })
        .await;
    assert!(!lines.iter().any(|l| l.starts_with("I already rolled")));
    // An unknown preset names the preset.
    said(
        &w,
        &smr,
        &alice,
        "!total nosuchpreset",
        "Could not find preset `nosuchpreset`",
    )
    .await;

    // FF1R: the given URL comes back with a fresh seed.
    let ff1r = handled_room(&w, "ff1r", &alice).await;
    let lines = said(
        &w,
        &ff1r,
        &alice,
        "!ff1url https://4-8-5.finalfantasyrandomizer.com/?s=00000000&f=ABCDEF",
        "https://4-8-5.finalfantasyrandomizer.com/?s=",
    )
    .await;
    let url = lines
        .iter()
        .find(|l| l.starts_with("https://4-8-5"))
        .unwrap();
    assert!(url.ends_with("&f=ABCDEF"), "{url}");
    assert!(!url.contains("s=00000000"), "{url}");
    assert_eq!(w.fake.race(&ff1r)["info_bot"].as_str(), Some(url.as_str()));

    // !override: refused without a whitelist row, accepted with one.
    let z = handled_room(&w, "z1r", &alice).await;
    said(
        &w,
        &z,
        &bob,
        "!override",
        "You do not have permission to override the stream requirement",
    )
    .await;
    let db = Database::connect(w.db.url()).await.unwrap();
    db.execute_unprepared(&format!(
        "INSERT INTO racetime_override_whitelist (racetime_id, category, expires) VALUES ('{bob}', 'z1r', NULL)"
    ))
    .await
    .unwrap();
    w.fake.chat(&z, &bob, "!override");
    wait_for_action(&w, &z, "override_stream").await;

    // InjectCommand runs a command as a monitor: !lock from a caller locks the room.
    client
        .inject_command(pb::InjectCommandRequest {
            room: z.clone(),
            command: "!lock".into(),
            requested_by: "api-key:tests".into(),
        })
        .await
        .unwrap();
    w.fake
        .wait_for_bot(&z, WAIT, |l| {
            l.iter().any(|m| m.starts_with("Lock initiated."))
        })
        .await;
    said(&w, &z, &bob, "!race rr2024", "Seed rolling is locked").await;

    // A tournament binding: its player is let in, a stranger's request waits; a gatekeeper
    // may !promote themself, anyone else may not.
    let carol = w.fake.add_user("Carol", &[]);
    let stranger = w.fake.add_user("Stranger", &[]);
    let gatekeeper = w.fake.add_user("Gatekeeper", &[]);
    let bound = handled_room(&w, "z1r", &alice).await;
    client
        .bind_tournament(pb::BindTournamentRequest {
            room: bound.clone(),
            tournament: "test-cup".into(),
            episode_id: "42".into(),
            player_racetime_ids: vec![carol.clone()],
            gatekeeper_racetime_ids: vec![gatekeeper.clone()],
        })
        .await
        .unwrap();
    w.fake.request_to_join(&bound, &carol);
    w.fake.request_to_join(&bound, &stranger);
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let race = w.fake.race(&bound);
        let status = |user: &str| {
            race["entrants"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["user"]["id"] == user)
                .map(|e| {
                    e["status"]["value"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string()
                })
        };
        if status(&carol).as_deref() == Some("not_ready") {
            assert_eq!(status(&stranger).as_deref(), Some("requested"));
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{race}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    w.fake.chat(&bound, &stranger, "!promote");
    w.fake.chat(&bound, &gatekeeper, "!promote");
    wait_for_action(&w, &bound, "add_monitor").await;
    let promotions = w
        .fake
        .actions()
        .into_iter()
        .filter(|(race, action)| race == &bound && action == "add_monitor")
        .count();
    assert_eq!(promotions, 1);
    w.wait_outbox("racetime.entrant.requested", 2).await;
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

/// Every handler's commands that need no further setup, each in a room of its own: the
/// command and the start of the line the bot must answer with.
#[tokio::test]
async fn every_category_answers_its_commands() {
    let w = world().await;
    let (_service, _client) = w.racetime().await;
    let host = w.fake.add_user("Host", &[]);
    let done = "Seed rolling complete.  See race info for details.";
    let cases: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("alttpr", vec![("!noqsrace open", done)]),
        (
            "alttpr",
            vec![("!mystery weighted", "Seed rolling complete.")],
        ),
        ("alttpr", vec![("!spoiler", "You must specify a preset!")]),
        (
            "alttpr",
            vec![(
                "!spoiler open soon",
                "The study time must be a whole number of seconds, not `soon`.",
            )],
        ),
        (
            "alttpr",
            vec![("!lock", "Lock initiated."), ("!unlock", "Lock released.")],
        ),
        (
            "alttpr",
            vec![(
                "!tournamentrace",
                "This room is not associated with a tournament.",
            )],
        ),
        ("test", vec![("!test 1", "test command complete")]),
        (
            "smz3",
            vec![(
                "!help",
                "Available commands:\n\"!race <preset>, !multiworld <preset>\"",
            )],
        ),
        (
            "smr",
            vec![("!varia", "You must specify setting and skill presets!")],
        ),
        ("smr", vec![("!dash", "Usage: !dash [--spoiler] <preset>")]),
        (
            "smr",
            vec![(
                "!choozorace",
                "!choozorace needs the Choozo/league endpoints",
            )],
        ),
        (
            "sm",
            vec![("!bingo", "Bingo card will be rolled at race start!")],
        ),
        ("z1r", vec![("!ttp4rp", done)]),
        (
            "z2r",
            vec![
                ("!flags", "You must specify a set of flags!"),
                ("!maxrando", "Seed: "),
            ],
        ),
        ("z2r", vec![("!mrb", "Seed: ")]),
        ("smb3r", vec![("!flags 17BHXZ1A", "Seed: ")]),
        ("ctjets", vec![("!preset", "You must specify a preset!")]),
        (
            "twwr",
            vec![("!help", "To start a KONOT race, use !konot.")],
        ),
        (
            "contra",
            vec![("!help", "I have no commands for this category.")],
        ),
        (
            "smw-hacks",
            vec![("!help", "I have no commands for this category.")],
        ),
    ];
    let runs = cases.into_iter().map(|(category, steps)| {
        let w = &w;
        let host = host.clone();
        async move {
            let room = handled_room(w, category, &host).await;
            for (command, expect) in steps {
                let lines = said(w, &room, &host, command, expect).await;
                assert!(
                    lines.iter().any(|l| l.starts_with(expect)),
                    "{category} {command}: {lines:#?}"
                );
            }
        }
    });
    futures::future::join_all(runs).await;
    // The sgl handler answers nothing it does not know, not even !help.
    let sgl = handled_room(&w, "sgl", &host).await;
    w.fake.chat(&sgl, &host, "!help");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        !w.fake
            .bot_messages(&sgl)
            .iter()
            .any(|m| m.starts_with("Available")),
        "{:?}",
        w.fake.bot_messages(&sgl)
    );
}

/// startrace that creates the room and then hangs past the client's timeout is recovered
/// without a second room; a category whose credentials are refused does not stop the others.
#[tokio::test]
async fn a_hanging_startrace_and_rejected_credentials() {
    let w = world().await;
    w.fake.add_category("badcat", &["Beat the game"]);
    let (_service, mut client) = w
        .racetime_with(|s| {
            s.http_timeout_secs = 1;
            s.categories.insert(
                "badcat".into(),
                serde_json::from_value(json!({"client_id": "badcat-id", "client_secret": "wrong"}))
                    .unwrap(),
            );
        })
        .await;
    w.fake
        .set_startrace_fault(Some(StartraceFault::CreateThenHang(Duration::from_secs(3))));
    let request = pb::OpenRoomRequest {
        idempotency_key: "hang-1".into(),
        category: "alttpr".into(),
        settings: Some(pb::RoomSettings {
            goal: "Beat the game".into(),
            info_user: "hang test".into(),
            ..Default::default()
        }),
    };
    let first = client.open_room(request.clone()).await;
    let again = client.open_room(request).await.unwrap().into_inner();
    if let Ok(first) = first {
        assert_eq!(first.into_inner().name, again.name);
    }
    assert_eq!(
        w.fake.startrace_calls(),
        1,
        "the room was found, not posted again"
    );
    assert_eq!(w.fake.race_names("alttpr").len(), 1);

    // badcat's credentials are refused: its calls fail typed, alttpr keeps working.
    let error = client
        .open_room(pb::OpenRoomRequest {
            idempotency_key: "bad-1".into(),
            category: "badcat".into(),
            settings: Some(pb::RoomSettings {
                goal: "Beat the game".into(),
                ..Default::default()
            }),
        })
        .await
        .unwrap_err();
    assert!(
        matches!(
            error.code(),
            tonic::Code::FailedPrecondition | tonic::Code::Unavailable | tonic::Code::NotFound
        ),
        "{error:?}"
    );
    let alice = w.fake.add_user("Alice", &[]);
    let room = handled_room(&w, "alttpr", &alice).await;
    said(&w, &room, &alice, "!help", "Available commands:").await;
}

async fn lease_count(w: &World) -> i64 {
    let db = Database::connect(w.db.url()).await.unwrap();
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) FROM racetime_room_leases",
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

#[tokio::test]
async fn stopping_the_service_stops_every_room_actor_before_the_database_closes() {
    let w = world().await;
    let (racetime, _client) = w.racetime().await;
    let rooms = [
        handled_room(&w, "alttpr", "racer1").await,
        handled_room(&w, "z1r", "racer2").await,
    ];
    assert_eq!(lease_count(&w).await, 2, "one lease per handled room");
    racetime.stop().await.unwrap();
    // Each actor left its room and released its lease as it stopped: both need the service's
    // connections, so both happened before the stop returned and the pool closed.
    for room in &rooms {
        assert_eq!(w.fake.socket_count(room), 0, "{room} still connected");
    }
    assert_eq!(lease_count(&w).await, 0, "a lease outlived its actor");
}

#[tokio::test]
async fn spoiler_command_rolls_a_spoiler_race_and_sends_the_log_at_the_start() {
    let w = world().await;
    w.fake.set_countdown(Duration::from_millis(200));
    let (_service, _client) = w.racetime().await;
    let alice = w.fake.add_user("Alice", &["alttpr"]);
    let bob = w.fake.add_user("Bob", &[]);
    let room = handled_room(&w, "alttpr", &alice).await;
    w.fake.chat(&room, &alice, "!spoiler open 2");
    let lines = w
        .fake
        .wait_for_bot(&room, WAIT, |l| {
            l.iter()
                .any(|m| m.starts_with("The spoiler log for this race will be sent"))
        })
        .await;
    assert!(
        lines
            .iter()
            .any(|m| m.ends_with("A 2s countdown timer at that time will begin.")),
        "{lines:#?}"
    );
    assert!(
        w.fake.race(&room)["info_bot"]
            .as_str()
            .unwrap()
            .contains("spoiler"),
        "the info says it is a spoiler race: {}",
        w.fake.race(&room)["info_bot"]
    );
    w.fake.join(&room, &alice);
    w.fake.join(&room, &bob);
    w.fake.ready(&room, &alice);
    w.fake.ready(&room, &bob);
    let lines = w
        .fake
        .wait_for_bot(&room, WAIT, |l| {
            l.iter()
                .any(|m| m == "Log study has finished.  Begin racing!")
        })
        .await;
    let log = lines
        .iter()
        .find(|m| m.starts_with("This race's spoiler log: "))
        .expect("the log link is posted at the start");
    let url = log.trim_start_matches("This race's spoiler log: ");
    // The log seedgen stored is the one linked.
    let body = reqwest::get(url).await.unwrap();
    assert!(body.status().is_success(), "{url}: {}", body.status());
}

#[tokio::test]
async fn a_spoiler_countdown_resumes_on_time_after_a_restart() {
    let w = world().await;
    w.fake.set_countdown(Duration::from_millis(200));
    let (service, mut client) = w.racetime().await;
    let alice = w.fake.add_user("Alice", &["alttpr"]);
    let room = handled_room(&w, "alttpr", &alice).await;
    client
        .schedule_spoiler_race(pb::ScheduleSpoilerRaceRequest {
            room: room.clone(),
            spoiler_url: "https://spoilers.example/log.txt".into(),
            study_time_seconds: 8,
        })
        .await
        .unwrap();
    let bob = w.fake.add_user("Bob", &[]);
    w.fake.join(&room, &alice);
    w.fake.join(&room, &bob);
    w.fake.ready(&room, &alice);
    w.fake.ready(&room, &bob);
    w.fake
        .wait_for_bot(&room, WAIT, |l| {
            l.iter()
                .any(|m| m == "This race's spoiler log: https://spoilers.example/log.txt")
        })
        .await;
    let started = tokio::time::Instant::now();
    // Down for three seconds of the eight.
    service.stop().await.unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (_service, _client) = w.racetime().await;
    let lines = w
        .fake
        .wait_for_bot(&room, WAIT, |l| {
            l.iter()
                .any(|m| m == "Log study has finished.  Begin racing!")
        })
        .await;
    let elapsed = started.elapsed();
    // On the original schedule (8 s after the log), not restarted from the restart.
    assert!(
        elapsed >= Duration::from_millis(7_500) && elapsed < Duration::from_millis(10_500),
        "study ended {elapsed:?} after the log"
    );
    // Each reminder at most once, even across the restart.
    for reminder in [
        "5 second(s) remain!",
        "2 second(s) remain!",
        "1 second(s) remain!",
    ] {
        assert!(count(&lines, reminder) <= 1, "{reminder} twice: {lines:#?}");
    }
}
