//! A match from schedule to room, end to end: the real tournament, racetime, gateway and api
//! services in-process, with the fake SpeedGaming, racetime.gg and Discord. The room opens once
//! inside its window, the linked players are invited and DMed, helpers and players are let in
//! by the binding; faults: two tournament replicas, a crash between the binding row and the
//! room, SpeedGaming down, a player without a link, a rescheduled and a deleted episode.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use api::ApiService;
use chrono::Utc;
use gateway::GatewayService;
use platform::Service;
use proto::tournament::v1 as pb;
use proto::tournament::v1::tournament_admin_client::TournamentAdminClient;
use proto::tournament::v1::tournaments_client::TournamentsClient;
use racetime::RacetimeService;
use serde_json::json;
use testkit::discord::Invoker;
use testkit::speedgaming::{self as sg, FakeSpeedGaming};
use testkit::{FakeDiscord, FakeRacetime, ServiceHandle, TestDb, TestNats};
use tonic::transport::Channel;
use tournament::TournamentService;

const WAIT: Duration = Duration::from_secs(30);
const ALICE: u64 = 185_198_185_990_324_225;
const BOB: u64 = 100_000_000_000_000_002;
const AUDIT: u64 = 777;
const GUILD: u64 = 4_100;
/// The seed roller of the test tournaments.
const OPEN_PRESET: &str = r#"{"kind": "preset", "randomizer": "alttpr", "preset": "open"}"#;
const HELPER_ROLE: u64 = 4_101;
const ROLE_HELPER: u64 = 56;
const CAROL: u64 = 57;
const COMMENTARY: u64 = 778;
const RACE_WATCH: u64 = 779;

struct World {
    racetime_fake: FakeRacetime,
    discord: FakeDiscord,
    sg: FakeSpeedGaming,
    nats: TestNats,
    tournament_db: TestDb,
    peers: Vec<(&'static str, String)>,
    /// The api's website and REST base URL.
    api_http: String,
    /// Discord's OAuth2 for "Log in with Discord" on the website.
    discord_oauth: testkit::oauth::FakeOAuth,
    alice_rt: String,
    bob_rt: String,
    helper_rt: String,
    helper_user: i64,
    /// Linked; Discord user ROLE_HELPER.
    role_helper_rt: String,
    /// In no api user; a racetime.gg team member in the tests that make the team.
    volunteer_rt: String,
    /// Linked to nobody, helps nobody.
    stranger_rt: String,
    /// Linked; Discord user CAROL, username `carol`.
    carol_rt: String,
    _alttpr: wiremock::MockServer,
    first_listeners: std::sync::Mutex<Option<platform::runtime::Listeners>>,
    _services: Vec<ServiceHandle>,
    _dbs: Vec<TestDb>,
}

async fn world() -> World {
    testkit::init();
    let nats = TestNats::shared();
    let racetime_fake = FakeRacetime::start().await.unwrap();
    let discord = FakeDiscord::start().await.unwrap();
    let sg = FakeSpeedGaming::start().await.unwrap();
    sg.add_event("alttpr");
    let mut services = Vec::new();
    let mut dbs = Vec::new();

    // The first tournament replica's listeners, reserved now so that api and the gateway can
    // reach it.
    let first_listeners = testkit::bind_ephemeral().await.unwrap();
    let tournament_url = format!("http://{}", first_listeners.local_addrs().unwrap().0);

    // api, with Alice and Bob linked.
    let api_db = TestDb::new().await.unwrap();
    let mut settings = ApiService::default_settings();
    testkit::configure(&mut settings.common, &api_db, &nats);
    settings.common.peers.get_mut("tournament").unwrap().url = tournament_url.clone();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    settings.service.http.listen = ([127, 0, 0, 1], port).into();
    settings.service.http.public_url = format!("http://127.0.0.1:{port}");
    let discord_oauth = testkit::oauth::FakeOAuth::discord().await.unwrap();
    let d = &mut settings.service.discord;
    d.client_id = discord_oauth.client_id.clone();
    d.client_secret = Some(discord_oauth.client_secret.clone().into());
    d.authorize_url = discord_oauth.authorize_url();
    d.token_url = discord_oauth.token_url();
    d.api_url = discord_oauth.api_url();
    discord_oauth.register_redirect(&format!("http://127.0.0.1:{port}/callback/discord/"));
    let mut api =
        ServiceHandle::spawn::<ApiService>(settings, testkit::bind_ephemeral().await.unwrap())
            .unwrap();
    api.wait_ready(WAIT).await.unwrap();
    let conn = sea_orm::Database::connect(api_db.url()).await.unwrap();
    // Linked api users: (Discord id, racetime.gg id, name); the helper's api id is kept.
    let mut linked = Vec::new();
    for (discord_id, name) in [
        (ALICE, "Alice"),
        (BOB, "Bob"),
        (55, "Helper"),
        (ROLE_HELPER, "RoleHelper"),
        (CAROL, "Carol"),
    ] {
        let rt = racetime_fake.add_user(name, &[]);
        let user = api::identity::create(
            &conn,
            api::identity::NewUser {
                discord_user_id: Some(discord_id),
                racetime_user_id: Some(rt.clone()),
                racetime_name: Some(name.into()),
                display_name: Some(name.into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        linked.push((rt, user.id));
    }
    let [alice_rt, bob_rt, helper_rt, role_helper_rt, carol_rt] = linked
        .iter()
        .map(|(rt, _)| rt.clone())
        .collect::<Vec<_>>()
        .try_into()
        .unwrap();
    let helper_user = linked[2].1;
    let volunteer_rt = racetime_fake.add_user("Volunteer", &[]);
    let stranger_rt = racetime_fake.add_user("Stranger", &[]);

    // racetime, with the alttpr category bot.
    let racetime_db = TestDb::new().await.unwrap();
    let mut settings = RacetimeService::default_settings();
    testkit::configure(&mut settings.common, &racetime_db, &nats);
    let s = &mut settings.service;
    s.racetime_url = racetime_fake.url.clone();
    s.poll_interval_secs = 1;
    s.open_confirm_window_secs = 0;
    s.categories.insert(
        "alttpr".into(),
        serde_json::from_value(json!({"client_id": "alttpr-id", "client_secret": "alttpr-secret"}))
            .unwrap(),
    );
    // A test category for live rehearsals.
    racetime_fake.add_category("alttpr-test", &["Beat the game"]);
    s.categories.insert(
        "alttpr-test".into(),
        serde_json::from_value(
            json!({"client_id": "alttpr-test-id", "client_secret": "alttpr-test-secret"}),
        )
        .unwrap(),
    );
    let mut racetime =
        ServiceHandle::spawn::<RacetimeService>(settings, testkit::bind_ephemeral().await.unwrap())
            .unwrap();
    racetime.wait_ready(WAIT).await.unwrap();

    // gateway, on the fake Discord; it reaches the first tournament replica (`/tournament`)
    // at listeners reserved now.
    let gateway_db = TestDb::new().await.unwrap();
    let mut settings = GatewayService::default_settings();
    testkit::configure(&mut settings.common, &gateway_db, &nats);
    settings.common.peers.get_mut("tournament").unwrap().url = tournament_url;
    settings.common.peers.get_mut("api").unwrap().url = api.grpc_url();
    settings.common.peers.get_mut("racetime").unwrap().url = racetime.grpc_url();
    let d = &mut settings.service.discord;
    d.token = Some(testkit::discord::BOT_TOKEN.to_string().into());
    d.application_id = Some(testkit::discord::APPLICATION_ID);
    d.api_base_url = discord.url.clone();
    d.gateway_url = discord.gateway_url.clone();
    let mut gateway =
        ServiceHandle::spawn::<GatewayService>(settings, testkit::bind_ephemeral().await.unwrap())
            .unwrap();
    gateway.wait_ready(WAIT).await.unwrap();

    // seedgen, on a fake alttpr.com.
    let alttpr = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .and(wiremock::matchers::path("/api/randomizer"))
        .respond_with(
            wiremock::ResponseTemplate::new(200)
                .set_body_json(testkit::fixtures::alttpr_seed_response("ToUrNeY", "off")),
        )
        .mount(&alttpr)
        .await;
    let seedgen_db = TestDb::new().await.unwrap();
    let mut settings = seedgen::SeedgenService::default_settings();
    testkit::configure(&mut settings.common, &seedgen_db, &nats);
    settings.service.presets_dir =
        std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap())
            .join("../../presets");
    settings.service.providers.alttpr.base_url = alttpr.uri();
    settings.service.providers.http.attempts = 1;
    let mut seedgen = ServiceHandle::spawn::<seedgen::SeedgenService>(
        settings,
        testkit::bind_ephemeral().await.unwrap(),
    )
    .unwrap();
    seedgen.wait_ready(WAIT).await.unwrap();

    let peers = vec![
        ("api", api.grpc_url()),
        ("racetime", racetime.grpc_url()),
        ("gateway", gateway.grpc_url()),
        ("seedgen", seedgen.grpc_url()),
    ];
    services.extend([api, racetime, gateway, seedgen]);
    dbs.extend([api_db, racetime_db, gateway_db, seedgen_db]);
    World {
        racetime_fake,
        discord,
        sg,
        nats,
        tournament_db: TestDb::new().await.unwrap(),
        peers,
        api_http: format!("http://127.0.0.1:{port}"),
        discord_oauth,
        alice_rt,
        bob_rt,
        helper_rt,
        helper_user,
        role_helper_rt,
        volunteer_rt,
        stranger_rt,
        carol_rt,
        _alttpr: alttpr,
        first_listeners: std::sync::Mutex::new(Some(first_listeners)),
        _services: services,
        _dbs: dbs,
    }
}

impl World {
    /// A tournament service replica on the shared tournament database.
    async fn tournament(&self) -> ServiceHandle {
        let mut settings = TournamentService::default_settings();
        testkit::configure(&mut settings.common, &self.tournament_db, &self.nats);
        for (name, url) in &self.peers {
            settings.common.peers.get_mut(*name).unwrap().url = url.clone();
        }
        settings.service.speedgaming_url = self.sg.url.clone();
        settings.service.schedule_poll_secs = 1;
        settings.service.opener_poll_secs = 1;
        settings.service.week_poll_secs = 1;
        settings.service.website_url = self.api_http.clone();
        // The ALTTPR Ladder's public API is faked beside alttpr.com.
        settings.service.alttpr_ladder.url = self._alttpr.uri();
        settings.service.player_check_poll_secs = 1;
        let reserved = self.first_listeners.lock().unwrap().take();
        let listeners = match reserved {
            Some(l) => l,
            None => testkit::bind_ephemeral().await.unwrap(),
        };
        let mut handle = ServiceHandle::spawn::<TournamentService>(settings, listeners).unwrap();
        handle.wait_ready(WAIT).await.unwrap();
        handle
    }

    async fn admin(&self, handle: &ServiceHandle) -> TournamentAdminClient<Channel> {
        TournamentAdminClient::connect(handle.grpc_url())
            .await
            .unwrap()
    }

    /// Creates or changes tournament `config` as the operator; the slug, name, category and
    /// goal default to the `alttpr` test tournament's.
    async fn upsert(&self, handle: &ServiceHandle, config: pb::TournamentConfig) {
        let config = pb::TournamentConfig {
            slug: "alttpr".into(),
            name: if config.name.is_empty() {
                "ALTTPR Main".into()
            } else {
                config.name.clone()
            },
            active: true,
            racetime_category: "alttpr".into(),
            racetime_goal: "Beat the game".into(),
            ..config
        };
        self.admin(handle)
            .await
            .upsert_tournament(pb::UpsertTournamentRequest {
                actor: Some(pb::Actor {
                    operator: true,
                    user_id: 0,
                }),
                config: Some(config),
            })
            .await
            .unwrap();
    }

    async fn create_tournament(&self, handle: &ServiceHandle, source: &str) {
        self.admin(handle)
            .await
            .upsert_tournament(pb::UpsertTournamentRequest {
                actor: Some(pb::Actor {
                    operator: true,
                    user_id: 0,
                }),
                config: Some(pb::TournamentConfig {
                    slug: "alttpr".into(),
                    name: "ALTTPR Main".into(),
                    active: true,
                    schedule_source: source.into(),
                    racetime_category: "alttpr".into(),
                    racetime_goal: "Beat the game".into(),
                    room_open_minutes_before: 60,
                    audit_channel_id: AUDIT,
                    commentary_channel_id: COMMENTARY,
                    seed_roller_json:
                        r#"{"kind": "preset", "randomizer": "alttpr", "preset": "open"}"#.into(),
                    time_zone: "America/New_York".into(),
                    ..Default::default()
                }),
            })
            .await
            .unwrap();
    }

    async fn wait_rooms(&self, n: usize) -> Vec<String> {
        for _ in 0..300 {
            let rooms = self.racetime_fake.race_names("alttpr");
            if rooms.len() >= n {
                return rooms;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "{n} rooms never opened: {:?}",
            self.racetime_fake.race_names("alttpr")
        );
    }
}

#[tokio::test]
async fn a_scheduled_match_gets_one_room_inside_its_window_with_invites_dms_and_the_seed_button() {
    let w = world().await;
    let start = Utc::now() + chrono::Duration::minutes(30);
    w.sg.put_episode(sg::standard_1v1(
        501,
        "alttpr",
        start,
        ("Alice", ALICE),
        ("Bob", BOB),
    ));
    // Outside the window: no room.
    w.sg.put_episode(sg::standard_1v1(
        502,
        "alttpr",
        start + chrono::Duration::hours(3),
        ("Alice", ALICE),
        ("Bob", BOB),
    ));
    let tournament = w.tournament().await;
    w.create_tournament(&tournament, "speedgaming").await;

    let rooms = w.wait_rooms(1).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rooms_later = w.racetime_fake.race_names("alttpr");
    assert_eq!(
        rooms_later.len(),
        1,
        "one room, opened once: {rooms_later:?}"
    );
    let room = &rooms[0];
    let race = w.racetime_fake.race(room);
    assert!(
        race["info_user"]
            .as_str()
            .unwrap()
            .contains("Alice vs. Bob - Standard"),
        "{race}"
    );
    assert!(
        race["info_user"].as_str().unwrap().ends_with(" - 501"),
        "{race}"
    );
    // Both linked players invited.
    let actions: Vec<String> = w
        .racetime_fake
        .actions()
        .into_iter()
        .filter(|(r, _)| r == room)
        .map(|(_, a)| a)
        .collect();
    let invites = actions.iter().filter(|a| a.contains("invite")).count();
    assert!(invites >= 2, "{actions:?}");
    // The welcome and the pinned seed button.
    let posts = w.racetime_fake.bot_messages(room);
    assert!(
        posts
            .iter()
            .any(|p| p.starts_with("Welcome! Use the \"Roll Tournament Seed\"")),
        "{posts:?}"
    );
    assert!(
        posts.iter().any(|p| p == "Tournament Controls:"),
        "{posts:?}"
    );
    // Each player got a DM with the room.
    for player in [ALICE, BOB] {
        let mut dm = None;
        for _ in 0..100 {
            if let Some(channel) = w.discord.dm_channel(player) {
                let messages = w.discord.channel_messages(channel);
                if !messages.is_empty() {
                    dm = Some(messages);
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let dm = dm.expect("a DM");
        assert_eq!(dm.len(), 1, "one DM: {dm:?}");
        assert!(
            dm[0]
                .to_string()
                .contains("RT.gg Room Opened - Alice vs. Bob"),
            "{dm:?}"
        );
    }
    // The match reports its room.
    let mut client = TournamentsClient::connect(tournament.grpc_url())
        .await
        .unwrap();
    let reply = client
        .open_match_room(pb::OpenMatchRoomRequest {
            tournament: "alttpr".into(),
            episode_id: "501".into(),
            game_number: 1,
            actor: Some(pb::Actor {
                operator: true,
                user_id: 0,
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(reply.already_open);
    assert!(
        reply.room_url.ends_with(room.split('/').nth(1).unwrap()),
        "{reply:?}"
    );

    // The schedule as an iCalendar feed: both matches, the open one with its room.
    let feed = reqwest::get(format!(
        "{}/api/v1/tournaments/alttpr/schedule.ics",
        w.api_http
    ))
    .await
    .unwrap();
    assert_eq!(
        feed.headers()["content-type"],
        "text/calendar; charset=utf-8"
    );
    let ics = feed.text().await.unwrap().replace("\r\n ", "");
    assert!(ics.starts_with("BEGIN:VCALENDAR"), "{ics}");
    assert_eq!(ics.matches("BEGIN:VEVENT").count(), 2, "{ics}");
    assert!(ics.contains("SUMMARY:ALTTPR Main: Standard"), "{ics}");
    assert!(ics.contains(&format!("URL:{}", reply.room_url)), "{ics}");
    assert!(
        ics.contains("DTSTART:") && ics.contains("Alice vs. Bob"),
        "{ics}"
    );
    let unknown = reqwest::get(format!(
        "{}/api/v1/tournaments/nope/schedule.ics",
        w.api_http
    ))
    .await
    .unwrap();
    assert_eq!(unknown.status(), 404);
}

#[tokio::test]
async fn two_replicas_and_a_crash_before_the_room_never_give_two_rooms() {
    let w = world().await;
    let start = Utc::now() + chrono::Duration::minutes(20);
    for id in 601..=605 {
        w.sg.put_episode(sg::standard_1v1(
            id,
            "alttpr",
            start + chrono::Duration::minutes(id - 600),
            ("Alice", ALICE),
            ("Bob", BOB),
        ));
    }
    let first = w.tournament().await;
    w.create_tournament(&first, "speedgaming").await;
    let second = w.tournament().await;
    w.wait_rooms(5).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        w.racetime_fake.race_names("alttpr").len(),
        5,
        "one room per match with two replicas"
    );
    drop(second);
    drop(first);
}

#[tokio::test]
async fn speedgaming_down_is_survived_and_a_deleted_episode_is_confirmed_then_reported() {
    let w = world().await;
    let start = Utc::now() + chrono::Duration::hours(5);
    w.sg.put_episode(sg::standard_1v1(
        701,
        "alttpr",
        start,
        ("Alice", ALICE),
        ("Bob", BOB),
    ));
    let tournament = w.tournament().await;
    w.create_tournament(&tournament, "speedgaming").await;
    let mut admin = w.admin(&tournament).await;
    let list = |mut admin: TournamentAdminClient<Channel>| async move {
        admin
            .list_matches(pb::ListMatchesRequest {
                tournament: "alttpr".into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .matches
    };
    for _ in 0..100 {
        if !list(admin.clone()).await.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(list(admin.clone()).await.len(), 1);
    // Down: the match stays; nothing is deleted for want of an answer.
    w.sg.set_down(true);
    w.sg.remove_episode(701);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        list(admin.clone()).await.len(),
        1,
        "an outage deletes nothing"
    );
    // Back: the episode is confirmed gone and the match deleted.
    w.sg.set_down(false);
    for _ in 0..100 {
        if list(admin.clone()).await.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(list(admin.clone()).await.is_empty());
    let audit = w.discord.channel_messages(AUDIT);
    assert!(
        audit
            .iter()
            .any(|m| m.to_string().contains("`701` was deleted")),
        "{audit:?}"
    );
    let _ = &mut admin;
}

#[tokio::test]
async fn an_internal_match_with_an_unlinked_player_opens_and_the_audit_channel_hears_once() {
    let w = world().await;
    let tournament = w.tournament().await;
    w.create_tournament(&tournament, "internal").await;
    let mut admin = w.admin(&tournament).await;
    // Not an organizer: refused.
    let refused = admin
        .create_match(pb::CreateMatchRequest {
            actor: Some(pb::Actor {
                operator: false,
                user_id: 999,
            }),
            tournament: "alttpr".into(),
            title: "Round 1".into(),
            scheduled_at: Some(platform::grpc::timestamp(
                Utc::now() + chrono::Duration::minutes(10),
            )),
            players: vec![],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);
    let created = admin
        .create_match(pb::CreateMatchRequest {
            actor: Some(pb::Actor {
                operator: true,
                user_id: 0,
            }),
            tournament: "alttpr".into(),
            title: "Round 1".into(),
            scheduled_at: Some(platform::grpc::timestamp(
                Utc::now() + chrono::Duration::minutes(10),
            )),
            players: vec![
                pb::MatchPlayer {
                    display_name: "Alice".into(),
                    discord_user_id: ALICE,
                    ..Default::default()
                },
                pb::MatchPlayer {
                    display_name: "Carol".into(),
                    discord_user_id: 3,
                    ..Default::default()
                },
            ],
            goal_override: "Custom Rules".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let rooms = w.wait_rooms(1).await;
    let race = w.racetime_fake.race(&rooms[0]);
    assert!(
        race["goal"].to_string().contains("Custom Rules")
            || race["info_user"].as_str().unwrap().contains("Round 1"),
        "{race}"
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    let audit: Vec<String> = w
        .discord
        .channel_messages(AUDIT)
        .iter()
        .map(|m| m["content"].as_str().unwrap_or_default().to_owned())
        .collect();
    let unlinked: Vec<&String> = audit
        .iter()
        .filter(|m| m.contains("no linked racetime.gg account for Carol"))
        .collect();
    assert_eq!(unlinked.len(), 1, "{audit:?}");
    let fetched = admin
        .get_match(pb::GetMatchRequest {
            tournament: "alttpr".into(),
            match_id: created.id,
        })
        .await
        .unwrap()
        .into_inner();
    let room = fetched.room.unwrap();
    assert_eq!(room.state, "open");
    assert_eq!(room.invited_racetime_ids, vec![w.alice_rt.clone()]);
    let _ = &w.bob_rt;
}

#[tokio::test]
async fn a_crash_between_the_binding_row_and_the_room_is_recovered_with_the_same_room() {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};
    use tournament::db::{RoomState, match_room};
    let w = world().await;
    let tournament = w.tournament().await;
    w.create_tournament(&tournament, "internal").await;
    let mut admin = w.admin(&tournament).await;
    // Far ahead: the opener leaves it alone.
    let created = admin
        .create_match(pb::CreateMatchRequest {
            actor: Some(pb::Actor {
                operator: true,
                user_id: 0,
            }),
            tournament: "alttpr".into(),
            title: "Final".into(),
            scheduled_at: Some(platform::grpc::timestamp(
                Utc::now() + chrono::Duration::hours(5),
            )),
            players: vec![pb::MatchPlayer {
                display_name: "Alice".into(),
                discord_user_id: ALICE,
                ..Default::default()
            }],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    // A process wrote the binding, asked racetime for the room, and died before recording it.
    let db = sea_orm::Database::connect(w.tournament_db.url())
        .await
        .unwrap();
    let match_id = i64::try_from(created.id).unwrap();
    let key = tournament::opener::room_key("alttpr", match_id, 1, 0);
    let now = Utc::now();
    let tournament_id = {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        tournament::db::tournament::Entity::find()
            .filter(tournament::db::tournament::Column::Slug.eq("alttpr"))
            .one(&db)
            .await
            .unwrap()
            .unwrap()
            .id
    };
    match_room::ActiveModel {
        tournament_id: Set(tournament_id),
        match_id: Set(match_id),
        game_number: Set(1),
        generation: Set(0),
        idempotency_key: Set(key.clone()),
        state: Set(RoomState::Opening),
        room: Set(None),
        room_url: Set(None),
        invited: Set("[]".into()),
        error: Set(None),
        opened_at: Set(None),
        seed_permalink: Set(None),
        seed_hash: Set(None),
        seed_rolled_at: Set(None),
        results: Set(None),
        finished_at: Set(None),
        result_publish_at: Set(None),
        result_published: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&db)
    .await
    .unwrap();
    let racetime_url = w
        .peers
        .iter()
        .find(|(n, _)| *n == "racetime")
        .unwrap()
        .1
        .clone();
    let mut rooms = proto::racetime::v1::race_rooms_client::RaceRoomsClient::connect(racetime_url)
        .await
        .unwrap();
    let first = rooms
        .open_room(proto::racetime::v1::OpenRoomRequest {
            idempotency_key: key,
            category: "alttpr".into(),
            settings: Some(proto::racetime::v1::RoomSettings {
                goal: "Beat the game".into(),
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner();
    // The organizer opens it now: the same room, not a second one.
    let mut client = TournamentsClient::connect(tournament.grpc_url())
        .await
        .unwrap();
    let reply = client
        .open_match_room(pb::OpenMatchRoomRequest {
            tournament: "alttpr".into(),
            episode_id: created.external_id.clone(),
            game_number: 1,
            actor: Some(pb::Actor {
                operator: true,
                user_id: 0,
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(reply.room_url, first.url);
    assert!(!reply.already_open, "this call finished opening it");
    assert_eq!(w.racetime_fake.race_names("alttpr").len(), 1);
    let fetched = admin
        .get_match(pb::GetMatchRequest {
            tournament: "alttpr".into(),
            match_id: created.id,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(fetched.room.unwrap().state, "open");
    // Asking again changes nothing.
    let again = client
        .open_match_room(pb::OpenMatchRoomRequest {
            tournament: "alttpr".into(),
            episode_id: created.external_id,
            game_number: 1,
            actor: Some(pb::Actor {
                operator: true,
                user_id: 0,
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(again.already_open);
    assert_eq!(w.racetime_fake.race_names("alttpr").len(), 1);
}

#[tokio::test]
async fn from_room_to_result_the_seed_reaches_everyone_once_and_the_result_is_recorded() {
    let w = world().await;
    let start = Utc::now() + chrono::Duration::minutes(30);
    w.sg.put_episode(sg::standard_1v1(
        801,
        "alttpr",
        start,
        ("Alice", ALICE),
        ("Bob", BOB),
    ));
    let tournament = w.tournament().await;
    w.create_tournament(&tournament, "speedgaming").await;
    w.admin(&tournament)
        .await
        .grant_role(pb::GrantRoleRequest {
            actor: Some(pb::Actor {
                operator: true,
                user_id: 0,
            }),
            tournament: "alttpr".into(),
            role: "helper".into(),
            user_id: u64::try_from(w.helper_user).unwrap(),
            discord_role_id: 0,
        })
        .await
        .unwrap();
    let room = w.wait_rooms(1).await.remove(0);
    // Join requests: players accepted, the helper accepted and made monitor.
    for user in [&w.alice_rt, &w.bob_rt, &w.helper_rt] {
        w.racetime_fake.request_to_join(&room, user);
    }
    let accepted = |w: &World, user: &str| {
        w.racetime_fake.race(&room)["entrants"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["user"]["id"] == user && e["status"]["value"] != "requested")
    };
    for _ in 0..100 {
        if [&w.alice_rt, &w.bob_rt, &w.helper_rt]
            .iter()
            .all(|u| accepted(&w, u))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        accepted(&w, &w.alice_rt) && accepted(&w, &w.bob_rt),
        "players let in: {}",
        w.racetime_fake.race(&room)["entrants"]
    );
    assert!(accepted(&w, &w.helper_rt), "the helper let in");
    let monitors: Vec<String> = w
        .racetime_fake
        .actions()
        .into_iter()
        .filter(|(r, a)| r == &room && a.contains("add_monitor"))
        .map(|(_, a)| a)
        .collect();
    // The helper is the only gatekeeper, so the room's one promotion is theirs.
    assert_eq!(monitors.len(), 1, "{monitors:?}");

    // !tournamentrace: the seed everywhere, once.
    w.racetime_fake.chat(&room, &w.alice_rt, "!tournamentrace");
    w.racetime_fake
        .wait_for_bot(&room, WAIT, |lines| {
            lines
                .iter()
                .any(|l| l.starts_with("Seed has been generated"))
        })
        .await;
    let messages = w.racetime_fake.messages(&room);
    for user in [&w.alice_rt, &w.bob_rt] {
        assert!(
            messages.iter().any(
                |m| m.direct_to.as_deref() == Some(user.as_str()) && m.text.contains("ToUrNeY")
            ),
            "a whisper to {user}: {messages:?}"
        );
    }
    let race = w.racetime_fake.race(&room);
    assert!(
        race["info_bot"].as_str().unwrap_or_default().contains('/'),
        "the code in the room info: {race}"
    );
    let audit = w.discord.channel_messages(AUDIT);
    assert!(
        audit
            .iter()
            .any(|m| m.to_string().contains("Permalink") && m.to_string().contains("ToUrNeY")),
        "{audit:?}"
    );
    let commentary = w.discord.channel_messages(COMMENTARY);
    assert_eq!(commentary.len(), 1, "{commentary:?}");
    assert!(
        !commentary[0].to_string().contains("Permalink"),
        "restreamers get no permalink"
    );
    for player in [ALICE, BOB] {
        let dms = w
            .discord
            .channel_messages(w.discord.dm_channel(player).unwrap());
        assert_eq!(dms.len(), 2, "room DM and seed DM: {dms:?}");
        assert!(dms[1].to_string().contains("ToUrNeY"));
    }
    // A second roll is refused by the room, across restarts of nothing.
    w.racetime_fake.chat(&room, &w.bob_rt, "!tournamentrace");
    w.racetime_fake
        .wait_for_bot(&room, WAIT, |lines| {
            lines
                .iter()
                .any(|l| l.starts_with("I already rolled a seed!"))
        })
        .await;

    // The guild watches new racers (at most one finished race): Alice has none, Bob and the
    // helper have more.
    let admin = Invoker {
        guild_id: Some(GUILD),
        ..Invoker::admin(9, "server admin")
    };
    for (key, value) in [
        ("RaceWatchChannel", format!("<#{RACE_WATCH}>")),
        ("RaceWatchCategories", "alttpr".into()),
        ("RaceWatchNewRacers", "1".into()),
    ] {
        let sent = w.discord.slash_command(
            &admin,
            &["config", "set"],
            &[("key", json!(key)), ("value", json!(value))],
            &[],
        );
        let set = w
            .discord
            .wait_for_reply(&sent, WAIT, |m| {
                m["content"].as_str().is_some_and(|c| !c.is_empty())
            })
            .await;
        assert!(set["content"].as_str().unwrap().contains(key), "{set}");
    }
    for (user, races) in [(&w.bob_rt, 3), (&w.helper_rt, 2)] {
        for day in 0..races {
            w.racetime_fake.add_past_race(
                user,
                "alttpr",
                "finished",
                Utc::now() - chrono::Duration::days(day + 1),
            );
        }
    }
    // The race: Alice finishes, Bob forfeits.
    w.racetime_fake.ready(&room, &w.alice_rt);
    w.racetime_fake.ready(&room, &w.bob_rt);
    w.racetime_fake.begin(&room);
    for _ in 0..100 {
        if w.racetime_fake.race(&room)["status"]["value"] == "in_progress" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let deadline = tokio::time::Instant::now() + WAIT;
    while w.discord.channel_messages(RACE_WATCH).is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "no new racer post");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let watch = w.discord.channel_messages(RACE_WATCH);
    assert_eq!(watch.len(), 1, "only Alice is new: {watch:#?}");
    assert_eq!(watch[0]["embeds"][0]["title"], "New Racer Detected!");
    let said = watch[0]["embeds"][0]["description"].as_str().unwrap();
    assert!(
        said.starts_with(&format!(
            "A new racer named [Alice]({}/user/{})",
            w.racetime_fake.url, w.alice_rt
        )) && said.contains("began racing in [alttpr/"),
        "{said}"
    );
    w.racetime_fake.forfeit(&room, &w.bob_rt);
    w.racetime_fake.forfeit(&room, &w.helper_rt);
    w.racetime_fake.finish(&room, &w.alice_rt);
    let mut result = None;
    for _ in 0..300 {
        let audit = w.discord.channel_messages(AUDIT);
        if let Some(m) = audit.iter().find(|m| {
            m["content"]
                .as_str()
                .unwrap_or_default()
                .contains("finished")
        }) {
            result = Some(m["content"].as_str().unwrap().to_owned());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let result = result.expect("a result post");
    assert!(
        result.contains("Match `801` (Standard) finished"),
        "{result}"
    );
    assert!(result.contains("1. Alice"), "{result}");
    assert!(result.contains("Bob DNF"), "{result}");
    let matches = w
        .admin(&tournament)
        .await
        .get_match(pb::GetMatchRequest {
            tournament: "alttpr".into(),
            match_id: 1,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(matches.room.unwrap().state, "finished");
}

#[tokio::test]
async fn require_racetime_link_warns_the_audit_channel_once_at_import() {
    let w = world().await;
    let tournament = w.tournament().await;
    w.sg.put_episode(sg::without_discord(
        901,
        "alttpr",
        Utc::now() + chrono::Duration::hours(5),
        ("Alice", ALICE),
        "Nobody",
    ));
    w.admin(&tournament)
        .await
        .upsert_tournament(pb::UpsertTournamentRequest {
            actor: Some(pb::Actor {
                operator: true,
                user_id: 0,
            }),
            config: Some(pb::TournamentConfig {
                slug: "alttpr".into(),
                name: "ALTTPR Main".into(),
                active: true,
                schedule_source: "speedgaming".into(),
                racetime_category: "alttpr".into(),
                racetime_goal: "Beat the game".into(),
                require_racetime_link: true,
                audit_channel_id: AUDIT,
                ..Default::default()
            }),
        })
        .await
        .unwrap();
    let warned = |w: &World| {
        w.discord
            .channel_messages(AUDIT)
            .iter()
            .filter(|m| {
                m["content"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("Nobody cannot be found on Discord")
            })
            .count()
    };
    for _ in 0..100 {
        if warned(&w) > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Several more imports: still one warning, and no room (the match is hours away).
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(warned(&w), 1, "{:?}", w.discord.channel_messages(AUDIT));
    assert!(w.racetime_fake.race_names("alttpr").is_empty());
}

#[tokio::test]
async fn organizers_use_the_tournament_command_in_discord() {
    let w = world().await;
    let tournament = w.tournament().await;
    w.create_tournament(&tournament, "internal").await;
    w.discord.wait_for_session(WAIT).await;
    let mut admin = w.admin(&tournament).await;
    let created = admin
        .create_match(pb::CreateMatchRequest {
            actor: Some(pb::Actor {
                operator: true,
                user_id: 0,
            }),
            tournament: "alttpr".into(),
            title: "Week 2".into(),
            scheduled_at: Some(platform::grpc::timestamp(
                Utc::now() + chrono::Duration::hours(8),
            )),
            players: vec![pb::MatchPlayer {
                display_name: "Bob".into(),
                discord_user_id: BOB,
                ..Default::default()
            }],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let alice = Invoker::member(ALICE, "alice");
    let reply = |sent: testkit::discord::SentInteraction| {
        let discord = w.discord.clone();
        async move {
            discord
                .wait_for_reply(&sent, WAIT, |m| {
                    m["content"].as_str().is_some_and(|c| !c.is_empty())
                })
                .await["content"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let listed = reply(
        w.discord
            .slash_command(&alice, &["tournament", "list"], &[], &[]),
    )
    .await;
    assert!(
        listed.contains("`alttpr` — ALTTPR Main (active"),
        "{listed}"
    );
    let matches = reply(w.discord.slash_command(
        &alice,
        &["tournament", "matches"],
        &[("tournament", json!("alttpr"))],
        &[],
    ))
    .await;
    assert!(
        matches.contains("Week 2") && matches.contains("no room yet"),
        "{matches}"
    );
    // Not an organizer yet: refused by the tournament service.
    let open = [
        ("tournament", json!("alttpr")),
        ("match", json!(created.id)),
    ];
    let refused = reply(
        w.discord
            .slash_command(&alice, &["tournament", "open"], &open, &[]),
    )
    .await;
    assert!(
        refused.contains("only the tournament's organizers"),
        "{refused}"
    );
    assert!(w.racetime_fake.race_names("alttpr").is_empty());
    // Made organizer, Alice opens the room and grants Bob the helper role.
    let alice_user = {
        let api_url = w.peers.iter().find(|(n, _)| *n == "api").unwrap().1.clone();
        let mut identity = proto::identity::v1::identity_client::IdentityClient::connect(api_url)
            .await
            .unwrap();
        identity
            .find_by_discord_id(proto::identity::v1::FindByDiscordIdRequest {
                discord_user_id: ALICE,
            })
            .await
            .unwrap()
            .into_inner()
            .id
    };
    admin
        .grant_role(pb::GrantRoleRequest {
            actor: Some(pb::Actor {
                operator: true,
                user_id: 0,
            }),
            tournament: "alttpr".into(),
            role: "organizer".into(),
            user_id: alice_user,
            discord_role_id: 0,
        })
        .await
        .unwrap();
    let opened = reply(
        w.discord
            .slash_command(&alice, &["tournament", "open"], &open, &[]),
    )
    .await;
    assert!(
        opened.starts_with(&format!("Opened the room of match {}:", created.id)),
        "{opened}"
    );
    assert_eq!(w.racetime_fake.race_names("alttpr").len(), 1);
    let granted = reply(w.discord.slash_command(
        &alice,
        &["tournament", "grant"],
        &[
            ("tournament", json!("alttpr")),
            ("role", json!("helper")),
            ("user", json!({"user": BOB.to_string()})),
        ],
        &[],
    ))
    .await;
    assert!(granted.contains("is now helper of `alttpr`"), "{granted}");
    let off = reply(w.discord.slash_command(
        &alice,
        &["tournament", "activate"],
        &[("tournament", json!("alttpr")), ("on", json!(false))],
        &[],
    ))
    .await;
    assert!(off.contains("`alttpr` is now inactive."), "{off}");
}

#[tokio::test]
async fn an_open_race_is_announced_once_with_its_room_and_webhook() {
    let w = world().await;
    let webhook = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .and(wiremock::matchers::path("/api/webhooks/1/token"))
        .respond_with(wiremock::ResponseTemplate::new(204))
        .mount(&webhook)
        .await;
    let start = Utc::now() + chrono::Duration::minutes(20);
    w.sg.put_episode(sg::daily(1001, "alttpr", start));
    let tournament = w.tournament().await;
    w.upsert(
        &tournament,
        pb::TournamentConfig {
            name: "ALTTPR SG Daily".into(),
            schedule_source: "speedgaming".into(),
            announce_channel_id: 4242,
            time_zone: "America/New_York".into(),
            open_race_json: json!({
                "series": "SpeedGaming Daily Race Series",
                "seed_label": "Seed Distributed",
                "seed_minutes_before": 10,
                "announce_prefix": "<@&399038388964950016> ",
                "webhook_url": format!("{}/api/webhooks/1/token", webhook.uri()),
                "team_race_title": "co-op",
            })
            .to_string(),
            ..Default::default()
        },
    )
    .await;
    let rooms = w.wait_rooms(1).await;
    let race = w.racetime_fake.race(&rooms[0]);
    assert_ne!(
        race["status"]["value"], "invitational",
        "an open race: {race}"
    );
    let info = race["info_user"].as_str().unwrap();
    assert!(
        info.starts_with("SpeedGaming Daily Race Series - Daily 1 at "),
        "{info}"
    );
    assert!(
        info.contains(" Eastern on SpeedGaming - Seed Distributed at "),
        "{info}"
    );
    assert!(info.ends_with(" - 1001"), "{info}");
    let mut posts = Vec::new();
    for _ in 0..100 {
        posts = w.discord.channel_messages(4242);
        if !posts.is_empty() && !webhook.received_requests().await.unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let posts = w.discord.channel_messages(4242).len().max(posts.len());
    assert_eq!(posts, 1, "announced once");
    let text = w.discord.channel_messages(4242)[0]["content"]
        .as_str()
        .unwrap()
        .to_owned();
    let at = start.timestamp();
    assert!(
        text.starts_with("<@&399038388964950016> SpeedGaming Daily Race Series - Daily 1 - <t:"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "(<t:{at}:R>) on SpeedGaming - Seed Distributed <t:{}:R> - ",
            at - 600
        )),
        "{text}"
    );
    assert!(
        text.ends_with(rooms[0].split('/').nth(1).unwrap()),
        "{text}"
    );
    // The webhook got the same text once, as SahasrahBot.
    let hooks = webhook.received_requests().await.unwrap();
    assert_eq!(hooks.len(), 1, "one webhook post");
    let body: serde_json::Value = serde_json::from_slice(&hooks[0].body).unwrap();
    assert_eq!(body["content"], text.as_str());
    assert_eq!(body["username"], "SahasrahBot");
    // No welcome or seed button in an open race.
    let said = w.racetime_fake.bot_messages(&rooms[0]);
    assert!(
        !said
            .iter()
            .any(|m| m.starts_with("Welcome!") || m == "Tournament Controls:"),
        "{said:?}"
    );
}

impl World {
    /// An internal-schedule tournament with a guild, a helper role and the `sg-volunteers`
    /// team.
    async fn create_helped_tournament(&self, handle: &ServiceHandle) {
        self.upsert(
            handle,
            pb::TournamentConfig {
                schedule_source: "speedgaming".into(),
                audit_channel_id: AUDIT,
                guild_id: GUILD,
                helper_role_ids: vec![HELPER_ROLE],
                helper_racetime_teams: vec!["sg-volunteers".into()],
                seed_roller_json: OPEN_PRESET.into(),
                ..Default::default()
            },
        )
        .await;
    }

    /// Waits until `check` holds of room `room`'s race data.
    async fn wait_race(&self, room: &str, what: &str, check: impl Fn(&serde_json::Value) -> bool) {
        for _ in 0..150 {
            if check(&self.racetime_fake.race(room)) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{what}: {}", self.racetime_fake.race(room));
    }
}

/// The race status of `user` in `race` (`None`: not an entrant).
fn entrant_status(race: &serde_json::Value, user: &str) -> Option<String> {
    race["entrants"]
        .as_array()?
        .iter()
        .find(|e| e["user"]["id"] == user)
        .and_then(|e| e["status"]["value"].as_str().map(str::to_owned))
}

fn is_monitor(race: &serde_json::Value, user: &str) -> bool {
    race["monitors"]
        .as_array()
        .is_some_and(|m| m.iter().any(|u| u["id"] == user))
}

#[tokio::test]
async fn helpers_by_discord_role_and_racetime_team_are_let_in_and_promoted_and_strangers_are_not() {
    let w = world().await;
    w.racetime_fake
        .add_team("sg-volunteers", &[&w.volunteer_rt]);
    w.discord
        .add_member(GUILD, ROLE_HELPER, "rolehelper", &[HELPER_ROLE]);
    w.discord.add_member(GUILD, ALICE, "alice", &[]);
    let start = Utc::now() + chrono::Duration::minutes(30);
    w.sg.put_episode(sg::standard_1v1(
        601,
        "alttpr",
        start,
        ("Alice", ALICE),
        ("Bob", BOB),
    ));
    let tournament = w.tournament().await;
    w.create_helped_tournament(&tournament).await;
    let room = w.wait_rooms(1).await.remove(0);

    // The rule, as other services ask it.
    let mut client = TournamentsClient::connect(tournament.grpc_url())
        .await
        .unwrap();
    for (user, expected) in [
        (&w.role_helper_rt, true),
        (&w.volunteer_rt, true),
        (&w.helper_rt, false),
        (&w.alice_rt, false),
        (&w.stranger_rt, false),
    ] {
        let reply = client
            .can_gatekeep(pb::CanGatekeepRequest {
                tournament: "alttpr".into(),
                racetime_user_id: user.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(reply.allowed, expected, "{user}");
    }
    let unknown = client
        .can_gatekeep(pb::CanGatekeepRequest {
            tournament: "nope".into(),
            racetime_user_id: w.volunteer_rt.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), tonic::Code::NotFound);

    // Join requests: helpers let in and made monitors, the stranger left waiting.
    for user in [&w.role_helper_rt, &w.volunteer_rt, &w.stranger_rt] {
        w.racetime_fake.request_to_join(&room, user);
    }
    for user in [&w.role_helper_rt, &w.volunteer_rt] {
        w.wait_race(&room, "a helper let in and promoted", |race| {
            entrant_status(race, user).as_deref() == Some("not_ready") && is_monitor(race, user)
        })
        .await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let race = w.racetime_fake.race(&room);
    assert_eq!(
        entrant_status(&race, &w.stranger_rt).as_deref(),
        Some("requested"),
        "{race}"
    );
    assert!(!is_monitor(&race, &w.stranger_rt));

    // The role is taken away and given to the stranger's... no: a new helper by role grant,
    // who joins an open seat and asks with !promote.
    w.discord.add_member(GUILD, CAROL, "carol", &[9_999]);
    w.admin(&tournament)
        .await
        .grant_role(pb::GrantRoleRequest {
            actor: Some(pb::Actor {
                operator: true,
                user_id: 0,
            }),
            tournament: "alttpr".into(),
            role: "helper".into(),
            discord_role_id: 9_999,
            ..Default::default()
        })
        .await
        .unwrap();
    w.racetime_fake.join(&room, &w.carol_rt);
    w.racetime_fake.chat(&room, &w.carol_rt, "!promote");
    w.wait_race(&room, "!promote from a Discord-role grant", |race| {
        is_monitor(race, &w.carol_rt)
    })
    .await;
    // The stranger asking gets nothing.
    w.racetime_fake.join(&room, &w.bob_rt);
    w.racetime_fake.chat(&room, &w.bob_rt, "!promote");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(!is_monitor(&w.racetime_fake.race(&room), &w.bob_rt));
}

#[tokio::test]
async fn a_player_known_by_discord_tag_only_is_found_in_the_guild_invited_and_dmed() {
    let w = world().await;
    w.discord.add_member(GUILD, CAROL, "carol", &[]);
    w.discord.add_member(GUILD, 58, "carolina", &[]);
    let start = Utc::now() + chrono::Duration::minutes(30);
    let alice = ALICE.to_string();
    // SpeedGaming's new-style tag for a player without a Discord id.
    w.sg.put_episode(sg::episode(
        602,
        "alttpr",
        start,
        "Standard",
        &[("Alice", &alice, ""), ("Carol", "", "carol#0")],
    ));
    // And one nobody in the guild has: reported, not fatal.
    w.sg.put_episode(sg::episode(
        603,
        "alttpr",
        start,
        "Standard",
        &[("Alice", &alice, ""), ("Ghost", "", "ghost#0")],
    ));
    let tournament = w.tournament().await;
    w.upsert(
        &tournament,
        pb::TournamentConfig {
            schedule_source: "speedgaming".into(),
            audit_channel_id: AUDIT,
            guild_id: GUILD,
            require_racetime_link: true,
            seed_roller_json: OPEN_PRESET.into(),
            ..Default::default()
        },
    )
    .await;
    let rooms = w.wait_rooms(2).await;
    let carol_room = rooms
        .iter()
        .find(|r| {
            w.racetime_fake.race(r)["info_user"]
                .as_str()
                .unwrap_or_default()
                .ends_with(" - 602")
        })
        .expect("the room of episode 602")
        .clone();
    // Carol (found by tag, then linked through Identity) is invited like Alice.
    w.wait_race(&carol_room, "Carol invited", |race| {
        entrant_status(race, &w.carol_rt).as_deref() == Some("invited")
    })
    .await;
    let mut dm = Vec::new();
    for _ in 0..100 {
        dm = w
            .discord
            .dm_channel(CAROL)
            .map(|c| w.discord.channel_messages(c))
            .unwrap_or_default();
        if !dm.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(dm.len(), 1, "Carol's room DM: {dm:?}");
    assert!(w.discord.dm_channel(58).is_none(), "not the prefix match");
    // The ghost is reported once, by name and tag.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let audit: Vec<String> = w
        .discord
        .channel_messages(AUDIT)
        .iter()
        .map(|m| m["content"].as_str().unwrap_or_default().to_owned())
        .collect();
    let ghost: Vec<&String> = audit
        .iter()
        .filter(|m| m.contains("Ghost (`ghost`) cannot be found on Discord"))
        .collect();
    assert_eq!(ghost.len(), 1, "{audit:?}");
    assert!(
        !audit
            .iter()
            .any(|m| m.contains("602") && m.contains("Carol")),
        "Carol was found: {audit:?}"
    );

    // The seed, rolled through the RPC rather than the chat: once.
    let mut client = TournamentsClient::connect(tournament.grpc_url())
        .await
        .unwrap();
    let rolled = client
        .roll_tournament_seed(pb::RollTournamentSeedRequest {
            room: carol_room.clone(),
            requested_by_racetime_id: w.alice_rt.clone(),
            args: vec![],
        })
        .await
        .unwrap()
        .into_inner();
    assert!(rolled.rolled, "{rolled:?}");
    assert!(rolled.message.contains("ToUrNeY"), "{rolled:?}");
    let again = client
        .roll_tournament_seed(pb::RollTournamentSeedRequest {
            room: carol_room.clone(),
            requested_by_racetime_id: w.alice_rt.clone(),
            args: vec![],
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!again.rolled);
    assert!(
        again.message.starts_with("I already rolled a seed!"),
        "{again:?}"
    );
    // Carol, found by tag, got the seed DM too.
    for _ in 0..100 {
        if w.discord
            .channel_messages(w.discord.dm_channel(CAROL).unwrap())
            .len()
            >= 2
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let dms = w
        .discord
        .channel_messages(w.discord.dm_channel(CAROL).unwrap());
    assert_eq!(dms.len(), 2, "room DM and seed DM: {dms:?}");
    assert!(dms[1].to_string().contains("ToUrNeY"), "{dms:?}");
    let unbound = client
        .roll_tournament_seed(pb::RollTournamentSeedRequest {
            room: "alttpr/not-a-room-1234".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(unbound.code(), tonic::Code::NotFound);

    // Lateness of both rooms went into the histogram.
    let (status, metrics) = tournament.metrics().await.unwrap();
    assert_eq!(status, 200);
    assert!(
        metrics.contains(
            r#"sahasrahbot_tournament_room_open_lateness_seconds_count{service="tournament"} 2"#
        ),
        "{metrics}"
    );
}

/// Racer verification (spec `discord-and-web.md` §1.13): the setup posts the requirements with
/// the button; a linked racer with enough recent finished races in the categories gets the
/// role, one with too few (or only other categories, cancelled or old races) is told the count,
/// one without a link is sent to the website; a re-check revokes and DMs.
#[tokio::test]
async fn racers_verify_for_a_role_by_their_racetime_history_and_lose_it_on_reverify() {
    use testkit::discord::Invoker;
    const ROLE: u64 = 6_001;
    let w = world().await;
    let _tournament = w.tournament().await;
    w.discord.wait_for_session(WAIT).await;
    let now = Utc::now();
    for days in [1, 5, 20] {
        w.racetime_fake.add_past_race(
            &w.alice_rt,
            "alttpr",
            "finished",
            now - chrono::Duration::days(days),
        );
    }
    w.racetime_fake.add_past_race(
        &w.alice_rt,
        "alttpr",
        "finished",
        now - chrono::Duration::days(60),
    );
    for days in [2, 3] {
        w.racetime_fake.add_past_race(
            &w.bob_rt,
            "smz3",
            "finished",
            now - chrono::Duration::days(days),
        );
    }
    w.racetime_fake.add_past_race(
        &w.bob_rt,
        "alttpr",
        "cancelled",
        now - chrono::Duration::days(4),
    );
    for days in 1..=5 {
        w.racetime_fake.add_past_race(
            &w.bob_rt,
            "ootr",
            "finished",
            now - chrono::Duration::days(days),
        );
    }
    for (id, name) in [(ALICE, "alice"), (BOB, "bob"), (999, "nobody")] {
        w.discord.add_member(1, id, name, &[]);
    }
    let setup = |who: &Invoker| {
        w.discord.slash_command(
            who,
            &["racerverification", "create_or_update"],
            &[
                ("role", json!({"role": ROLE.to_string()})),
                ("racetime_categories", json!("alttpr, smz3")),
                ("minimum_races", json!(3)),
                ("time_period_days", json!(30)),
                ("reverify_period_days", json!(1)),
            ],
            &[],
        )
    };
    let ready = |r: &serde_json::Value| r["content"].as_str().is_some_and(|c| !c.is_empty());
    let refused = setup(&Invoker::member(2, "member"));
    let refused = w.discord.wait_for_reply(&refused, WAIT, ready).await;
    assert!(
        refused["content"]
            .as_str()
            .unwrap()
            .contains("Only server managers"),
        "{refused}"
    );
    let done = setup(&Invoker::admin(1, "owner"));
    let done = w.discord.wait_for_reply(&done, WAIT, ready).await;
    assert!(
        done["content"].as_str().unwrap().contains("is set up"),
        "{done}"
    );
    let post = w
        .discord
        .channel_messages(10)
        .into_iter()
        .find(|m| {
            m["content"]
                .as_str()
                .is_some_and(|c| c.starts_with("**Racer verification for <@&6001>**"))
        })
        .expect("the requirements post");
    assert!(post["content"].as_str().unwrap().contains("at least 3 race(s) played in the last 30 day(s) on RaceTime.gg in the following categories: alttpr, smz3"));
    assert_eq!(
        post["components"][0]["components"][0]["custom_id"],
        "verify:status"
    );

    let click = |id: u64| {
        let sent = w
            .discord
            .click_button_on(&Invoker::member(id, "racer"), &post, "verify:status");
        let discord = w.discord.clone();
        async move {
            let reply = discord
                .wait_for_reply(&sent, WAIT, |r| {
                    r["content"].as_str().is_some_and(|c| !c.is_empty())
                })
                .await;
            reply["content"].as_str().unwrap().to_owned()
        }
    };
    let alice = click(ALICE).await;
    assert!(
        alice.starts_with("Congratulations!  You have been verified!"),
        "{alice}"
    );
    assert!(
        alice.contains("at least **3** races played over the last **30** days"),
        "{alice}"
    );
    assert_eq!(w.discord.member_roles(1, ALICE), Some(vec![ROLE]));
    let bob = click(BOB).await;
    assert!(
        bob.contains("we counted 2 of the 3 races needed over the last 30 days"),
        "{bob}"
    );
    assert_eq!(w.discord.member_roles(1, BOB), Some(vec![]));
    let nobody = click(999).await;
    assert!(
        nobody.contains("link your RaceTime.gg account at http://localhost:8080/me"),
        "{nobody}"
    );

    // A day and more later, Alice's races are gone: the re-check takes the role back.
    let conn = sea_orm::Database::connect(w.tournament_db.url())
        .await
        .unwrap();
    use sea_orm::ConnectionTrait;
    conn.execute_unprepared(&format!(
        "UPDATE verified_racers SET last_verified_at = '{}'",
        (now - chrono::Duration::days(2)).format("%Y-%m-%d %H:%M:%S")
    ))
    .await
    .unwrap();
    w.racetime_fake.clear_past_races(&w.alice_rt);
    let reverify = w.discord.slash_command(
        &Invoker::admin(1, "owner"),
        &["racerverification", "reverify"],
        &[("revoke", json!(true))],
        &[],
    );
    let report = w.discord.wait_for_reply(&reverify, WAIT, ready).await;
    let report = report["content"].as_str().unwrap();
    assert_eq!(
        report,
        format!("**1** users were revoked from the <@&6001> role due to ineligibility: <@{ALICE}>")
    );
    assert_eq!(w.discord.member_roles(1, ALICE), Some(vec![]));
    let dm = w
        .discord
        .dm_channel(ALICE)
        .map(|c| w.discord.channel_messages(c))
        .unwrap_or_default();
    assert!(
        dm.iter().any(|m| m["content"]
            .as_str()
            .unwrap_or_default()
            .contains("has expired")),
        "{dm:?}"
    );
}

/// `/rtggadmin report|blast` (spec §1.7): members of a role without a linked racetime.gg
/// account are listed, and DMed the website's link page (once per day; a closed DM is said).
#[tokio::test]
async fn administrators_find_and_remind_role_members_without_a_racetime_link() {
    use testkit::discord::Invoker;
    const ROLE: u64 = 6_100;
    let w = world().await;
    let _tournament = w.tournament().await;
    w.discord.wait_for_session(WAIT).await;
    w.discord.add_member(1, ALICE, "alice", &[ROLE]);
    w.discord.add_member(1, 997, "unlinked-a", &[ROLE]);
    w.discord.add_member(1, 998, "unlinked-b", &[ROLE]);
    w.discord.add_member(1, 999, "not-in-role", &[]);
    w.discord.block_dms(998);
    let ask = |who: &Invoker, sub: &str| {
        let sent = w.discord.slash_command(
            who,
            &["rtggadmin", sub],
            &[("role", json!({"role": ROLE.to_string()}))],
            &[],
        );
        let discord = w.discord.clone();
        async move {
            discord
                .wait_for_reply(&sent, WAIT, |r| {
                    r["content"].as_str().is_some_and(|c| !c.is_empty())
                })
                .await["content"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let refused = ask(&Invoker::member(2, "member"), "report").await;
    assert!(refused.contains("Only administrators"), "{refused}");
    let admin = Invoker::admin(1, "owner");
    let report = ask(&admin, "report").await;
    assert_eq!(report, "unlinked-a\nunlinked-b");
    let blast = ask(&admin, "blast").await;
    assert_eq!(
        blast,
        "Sent DM to unlinked-a\nFailed to send DM to unlinked-b"
    );
    let dm = w
        .discord
        .channel_messages(w.discord.dm_channel(997).unwrap());
    assert_eq!(dm.len(), 1);
    assert!(
        dm[0]["content"]
            .as_str()
            .unwrap()
            .contains("Please visit <http://localhost:8080/me>"),
        "{dm:?}"
    );
    assert!(
        w.discord
            .dm_channel(ALICE)
            .is_none_or(|c| w.discord.channel_messages(c).is_empty())
    );
}

const NEEDS: u64 = 780;

/// Waits up to 30 s for `check`.
async fn until(what: &str, check: impl Fn() -> bool) {
    for _ in 0..300 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out: {what}");
}

#[tokio::test]
async fn the_week_ahead_reaches_discord_once_events_needs_and_player_checks() {
    let w = world().await;
    let start = Utc::now() + chrono::Duration::hours(30);
    // Alice vs. Bob (both linked); Alice vs. someone nobody can find.
    w.sg.put_episode(sg::standard_1v1(
        811,
        "alttpr",
        start,
        ("Alice", ALICE),
        ("Bob", BOB),
    ));
    w.sg.put_episode(sg::without_discord(
        812,
        "alttpr",
        start + chrono::Duration::hours(2),
        ("Alice", ALICE),
        "Nobody",
    ));
    let first = w.tournament().await;
    w.upsert(
        &first,
        pb::TournamentConfig {
            guild_id: GUILD,
            audit_channel_id: AUDIT,
            audit_mention: "<@&4242>".into(),
            scheduled_events: true,
            scheduling_needs_channel_id: NEEDS,
            scheduling_needs_tracker: true,
            ..Default::default()
        },
    )
    .await;
    until("two scheduled events", || {
        w.discord.scheduled_events().len() == 2
    })
    .await;
    let events = w.discord.scheduled_events();
    let alice_bob = events
        .values()
        .find(|e| e["name"].as_str().unwrap().contains("Alice vs. Bob"))
        .unwrap()
        .clone();
    let event_id = alice_bob["id"].as_str().unwrap().to_owned();
    assert!(
        alice_bob["name"].as_str().unwrap().starts_with("ALTTPR - "),
        "{alice_bob}"
    );
    assert_eq!(
        alice_bob["entity_metadata"]["location"],
        "https://twitch.tv/SpeedGaming"
    );
    assert_eq!(
        alice_bob["description"],
        format!("Start Time: <t:{}:f>", start.timestamp())
    );

    // The needs embed: one message, the unapproved commentator does not count.
    until("the needs embed", || {
        !w.discord.channel_messages(NEEDS).is_empty()
    })
    .await;
    let needs = w.discord.channel_messages(NEEDS);
    assert_eq!(needs.len(), 1);
    let embed = &needs[0]["embeds"][0];
    assert_eq!(embed["title"], "Scheduling Needs");
    let text = embed.to_string();
    assert!(
        text.contains("Need **2** - [Sign Up!](http://speedgaming.org/commentator/signup/811/)"),
        "{text}"
    );
    assert!(text.contains("Trackers Needed"), "{text}");

    // The player check: the mention, the problem, once.
    let reports = |w: &World| {
        w.discord
            .channel_messages(AUDIT)
            .iter()
            .filter(|m| {
                m["content"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("Nobody cannot be found on Discord")
            })
            .map(|m| m["content"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    until("the player check", || !reports(&w).is_empty()).await;
    assert!(
        reports(&w)[0].starts_with("<@&4242>\n\nMatch `812`"),
        "{:?}",
        reports(&w)
    );

    // Rescheduled: the same event moves.
    let later = start + chrono::Duration::hours(1);
    w.sg.put_episode(sg::standard_1v1(
        811,
        "alttpr",
        later,
        ("Alice", ALICE),
        ("Bob", BOB),
    ));
    let moved = |w: &World| {
        w.discord
            .scheduled_events()
            .get(&event_id.parse::<u64>().unwrap())
            .is_some_and(|e| e["description"] == format!("Start Time: <t:{}:f>", later.timestamp()))
    };
    until("the event follows the match", || moved(&w)).await;

    // A restart (and a second replica) changes nothing: no duplicate event, post or report.
    first.stop().await.unwrap();
    let second = w.tournament().await;
    let third = w.tournament().await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(w.discord.scheduled_events().len(), 2);
    assert_eq!(
        w.discord.channel_messages(NEEDS).len(),
        1,
        "edited, not posted again"
    );
    let edits = w.discord.calls().into_iter().filter(|c| {
        c.method == "PATCH" && c.path.starts_with(&format!("/channels/{NEEDS}/messages/"))
    });
    assert!(edits.count() >= 1, "the embed is edited in place");
    assert_eq!(reports(&w).len(), 1, "each problem once");

    // The episode is deleted on SpeedGaming: its event goes.
    w.sg.remove_episode(812);
    until("the gone match's event is deleted", || {
        w.discord.scheduled_events().len() == 1
    })
    .await;
    assert!(
        w.discord
            .scheduled_events()
            .contains_key(&event_id.parse::<u64>().unwrap())
    );
    drop((second, third));
}

#[tokio::test]
async fn racer_verification_can_count_alttpr_ladder_races_when_configured() {
    use wiremock::matchers::{method, path, query_param};
    use wiremock::{Mock, ResponseTemplate};
    const ROLE: u64 = 6_200;
    let w = world().await;
    let _tournament = w.tournament().await;
    let now = Utc::now();
    for days in [1, 2] {
        w.racetime_fake.add_past_race(
            &w.bob_rt,
            "alttpr",
            "finished",
            now - chrono::Duration::days(days),
        );
    }
    // On the ladder Bob (Discord username `bob`) raced once this month and once long ago.
    Mock::given(method("GET"))
        .and(path("/api/v1/PublicAPI/GetActiveRacers"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"RacerGUID": "g-someone", "DiscordName": "someone"},
            {"RacerGUID": "g-bob", "DiscordName": "Bob"}
        ])))
        .mount(&w._alttpr)
        .await;
    let recent = (now - chrono::Duration::days(3))
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string();
    Mock::given(method("GET"))
        .and(path("/api/v1/PublicAPI/GetRacerHistory"))
        .and(query_param("RacerGUID", "g-bob"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"StartDateTime": recent},
            {"StartDateTime": "2020-01-01T20:00:00"}
        ])))
        .mount(&w._alttpr)
        .await;
    w.discord.add_member(1, BOB, "bob", &[]);
    let ready = |r: &serde_json::Value| r["content"].as_str().is_some_and(|c| !c.is_empty());
    let owner = Invoker::admin(1, "owner");
    let setup = w.discord.slash_command(
        &owner,
        &["racerverification", "create_or_update"],
        &[
            ("role", json!({"role": ROLE.to_string()})),
            ("racetime_categories", json!("alttpr")),
            ("minimum_races", json!(3)),
            ("time_period_days", json!(30)),
            ("use_alttpr_ladder", json!(true)),
        ],
        &[],
    );
    w.discord.wait_for_reply(&setup, WAIT, ready).await;
    let post = w
        .discord
        .channel_messages(10)
        .into_iter()
        .find(|m| {
            m["content"]
                .as_str()
                .is_some_and(|c| c.starts_with("**Racer verification for <@&6200>**"))
        })
        .expect("the requirements post");
    assert!(
        post["content"]
            .as_str()
            .unwrap()
            .contains("in the following categories: alttpr or ALTTPR Ladder races"),
        "{post}"
    );
    let sent = w
        .discord
        .click_button_on(&Invoker::member(BOB, "bob"), &post, "verify:status");
    let reply = w.discord.wait_for_reply(&sent, WAIT, ready).await;
    let reply = reply["content"].as_str().unwrap();
    assert!(
        reply.starts_with("Congratulations!") && reply.contains("at least **3** races"),
        "two racetime.gg races and one ladder race: {reply}"
    );
    assert_eq!(w.discord.member_roles(1, BOB), Some(vec![ROLE]));
}

#[tokio::test]
async fn settings_are_submitted_in_the_browser_then_the_room_opens_and_rolls_them() {
    use testkit::browser;
    let w = world().await;
    // The match is due (40 minutes away, rooms open 60 minutes before).
    w.sg.put_episode(sg::standard_1v1(
        821,
        "alttpr",
        Utc::now() + chrono::Duration::minutes(40),
        ("Alice", ALICE),
        ("Bob", BOB),
    ));
    let tournament = w.tournament().await;
    w.upsert(
        &tournament,
        pb::TournamentConfig {
            audit_channel_id: AUDIT,
            seed_roller_json: OPEN_PRESET.into(),
            settings_form_json:
                r#"{"fields": [{"key": "mode", "label": "Mode", "required": true, "choices": [
                {"value": "std", "label": "Standard", "preset": "standard"},
                {"value": "open", "label": "Open", "preset": "open"}]}],
                "required": true, "reminder_hours": 72}"#
                    .into(),
            ..Default::default()
        },
    )
    .await;
    // No settings, no room: the audit channel hears it once; each player is reminded once.
    let audit_has = |w: &World, text: &str| {
        w.discord
            .channel_messages(AUDIT)
            .iter()
            .filter(|m| m["content"].as_str().unwrap_or_default().contains(text))
            .count()
    };
    until("the audit channel hears the room waits", || {
        audit_has(&w, "is not opened: its settings have not been submitted") > 0
    })
    .await;
    until("both players are reminded", || {
        [ALICE, BOB].iter().all(|p| {
            w.discord
                .dm_channel(*p)
                .is_some_and(|c| !w.discord.channel_messages(c).is_empty())
        })
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        w.racetime_fake.race_names("alttpr").is_empty(),
        "no room yet"
    );
    assert_eq!(
        audit_has(&w, "is not opened: its settings have not been submitted"),
        1
    );
    let reminder = w
        .discord
        .channel_messages(w.discord.dm_channel(ALICE).unwrap());
    assert_eq!(reminder.len(), 1, "one reminder: {reminder:?}");
    let text = reminder[0]["embeds"][0]["description"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        text.starts_with(
            "Greetings!  Do not forget to submit settings for your upcoming race: `Alice vs. Bob`!"
        ),
        "{text}"
    );
    let link = text
        .split("please visit ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .unwrap()
        .to_owned();
    assert!(
        link.starts_with(&format!("{}/tournaments/alttpr/matches/", w.api_http)),
        "{link}"
    );

    // The form over JSON (T2).
    let form: serde_json::Value =
        reqwest::get(format!("{}/api/tournament/form-config/alttpr", w.api_http))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(form["settings"][0]["key"], "mode");
    assert_eq!(form["settings"][0]["settings"]["std"], "Standard");
    let unknown = reqwest::get(format!("{}/api/tournament/form-config/nope", w.api_http))
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);

    // Alice follows the link in a real browser, logs in with Discord and submits.
    w.discord_oauth.sign_in_as(&ALICE.to_string(), "Alice");
    let driver = browser::driver().await;
    let page = browser::browser(&driver).await;
    page.goto(&format!("{}/login/", w.api_http)).await.unwrap();
    browser::wait_path(&page, "/me").await;
    page.goto(&link).await.unwrap();
    browser::fits_a_phone_and_is_labelled(&page, "settings").await;
    assert_eq!(
        browser::text(&page, "#not-submitted").await,
        "No settings have been submitted for this match yet."
    );
    page.find(fantoccini::Locator::Id("f-mode"))
        .await
        .unwrap()
        .select_by_value("std")
        .await
        .unwrap();
    browser::submit_and_reload(&page, "#settings-form button").await;
    assert_eq!(
        browser::text(&page, "#flash").await,
        "Settings submitted. Thank you!"
    );
    assert_eq!(browser::text(&page, "#submitted").await, "Mode: Standard");
    page.close().await.unwrap();

    // The room opens; Bob hears the confirmation; the roll uses the submitted preset.
    let room = w.wait_rooms(1).await.remove(0);
    until("the audit channel hears the submission", || {
        audit_has(&w, "Settings submitted for match `821` (Alice vs. Bob)") == 1
    })
    .await;
    let bob_dms = w
        .discord
        .channel_messages(w.discord.dm_channel(BOB).unwrap());
    assert!(
        bob_dms
            .iter()
            .any(|m| m.to_string().contains("Mode: Standard")),
        "{bob_dms:?}"
    );
    let before = w._alttpr.received_requests().await.unwrap().len();
    w.racetime_fake.request_to_join(&room, &w.alice_rt);
    until("Alice is let in", || {
        w.racetime_fake.race(&room)["entrants"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["user"]["id"] == w.alice_rt.as_str() && e["status"]["value"] != "requested")
    })
    .await;
    w.racetime_fake.chat(&room, &w.alice_rt, "!tournamentrace");
    w.racetime_fake
        .wait_for_bot(&room, WAIT, |lines| {
            lines
                .iter()
                .any(|l| l.starts_with("Seed has been generated"))
        })
        .await;
    let mut body = serde_json::Value::Null;
    for _ in 0..300 {
        let received = w._alttpr.received_requests().await.unwrap();
        if let Some(r) = received[before..]
            .iter()
            .find(|r| r.url.path().starts_with("/api/randomizer"))
        {
            body = serde_json::from_slice(&r.body).unwrap();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        body["mode"], "standard",
        "rolled with the submitted preset: {body}"
    );
    // Once the room is open the settings are settled.
    let mut tournaments = TournamentsClient::connect(tournament.grpc_url())
        .await
        .unwrap();
    let late = tournaments
        .submit_settings(pb::SubmitSettingsRequest {
            tournament: "alttpr".into(),
            external_id: "821".into(),
            actor_discord_id: BOB,
            values: [("mode".to_owned(), "open".to_owned())].into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(late.code(), tonic::Code::FailedPrecondition);
    // T1 lists the submission.
    let games: serde_json::Value =
        reqwest::get(format!("{}/api/tournament/games?event=alttpr", w.api_http))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(games[0]["episode_id"], "821");
    assert_eq!(games[0]["preset"], "standard");
}

#[tokio::test]
async fn a_dry_run_prints_the_day_and_flags_the_unfindable_player_without_sending_anything() {
    let w = world().await;
    let start = Utc::now() + chrono::Duration::hours(10);
    w.sg.put_episode(sg::standard_1v1(
        831,
        "alttpr",
        start,
        ("Alice", ALICE),
        ("Bob", BOB),
    ));
    w.sg.put_episode(sg::without_discord(
        832,
        "alttpr",
        start + chrono::Duration::hours(2),
        ("Alice", ALICE),
        "Nobody",
    ));
    let tournament = w.tournament().await;
    w.create_tournament(&tournament, "speedgaming").await;
    let mut admin = w.admin(&tournament).await;
    // Organizers only.
    let refused = admin
        .dry_run(pb::DryRunRequest {
            actor: Some(pb::Actor {
                operator: false,
                user_id: 999_999,
            }),
            tournament: "alttpr".into(),
            hours: 24,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);
    let before = w.discord.calls().len();
    let reply = admin
        .dry_run(pb::DryRunRequest {
            actor: Some(pb::Actor {
                operator: true,
                user_id: 0,
            }),
            tournament: "alttpr".into(),
            hours: 24,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let text = reply.text;
    // The timeline, in order, in the tournament's zone.
    let lines: Vec<&str> = text.lines().collect();
    let find = |needle: &str| {
        lines
            .iter()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no `{needle}` in:\n{text}"))
    };
    let open_831 = find("open a room in alttpr (\"Beat the game\") for `831` Alice vs. Bob");
    let roll_831 = find("roll alttpr `open` at !tournamentrace");
    let start_831 = find("`831` Alice vs. Bob (Standard) starts");
    assert!(open_831 < roll_831 && roll_831 < start_831, "{text}");
    assert!(lines[open_831].contains("invite Alice, Bob"), "{text}");
    assert!(lines[open_831].contains(" E"), "Eastern time: {text}");
    find("for `832` Alice vs. Nobody (Standard); invite Alice");
    assert!(
        reply
            .problems
            .iter()
            .any(|p| p.contains("`832`") && p.contains("Nobody cannot be found on Discord")),
        "{:?}",
        reply.problems
    );
    assert_eq!(reply.problems.len(), 1, "{:?}", reply.problems);
    // Nothing was sent: no room, no Discord call by the dry run.
    assert!(w.racetime_fake.race_names("alttpr").is_empty());
    let sent: Vec<String> = w.discord.calls()[before..]
        .iter()
        .filter(|c| c.method != "GET")
        .map(|c| format!("{} {}", c.method, c.path))
        .collect();
    assert!(
        sent.iter()
            .all(|c| !c.contains("/messages") || c.contains(&AUDIT.to_string())),
        "the dry run posted: {sent:?}"
    );
}

#[tokio::test]
async fn the_tournament_pages_show_the_schedule_and_refuse_strangers_their_tools() {
    let w = world().await;
    let start = Utc::now() + chrono::Duration::hours(10);
    w.sg.put_episode(sg::standard_1v1(
        841,
        "alttpr",
        start,
        ("Alice", ALICE),
        ("Bob", BOB),
    ));
    let tournament = w.tournament().await;
    w.create_tournament(&tournament, "speedgaming").await;
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let mut page = String::new();
    for _ in 0..100 {
        page = http
            .get(format!("{}/tournaments/alttpr", w.api_http))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if page.contains("Alice vs. Bob") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(page.contains("<h1>ALTTPR Main</h1>"), "{page}");
    assert!(page.contains("Alice vs. Bob"), "{page}");
    assert!(page.contains("schedule.ics"), "{page}");
    let id = page
        .split("/tournaments/alttpr/matches/")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_owned();
    let one = http
        .get(format!("{}/tournaments/alttpr/matches/{id}", w.api_http))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        one.contains("<li>Alice</li>") && one.contains("not open yet"),
        "{one}"
    );
    // A logged-in member who organizes nothing: the dry run and "open now" are refused.
    w.discord_oauth.sign_in_as(&ALICE.to_string(), "Alice");
    let me = http
        .get(format!("{}/login/", w.api_http))
        .send()
        .await
        .unwrap();
    let me = me.text().await.unwrap();
    let marker = "name=\"csrf\" value=\"";
    let csrf = me[me.find(marker).unwrap() + marker.len()..][..32].to_owned();
    let refused = http
        .post(format!("{}/tournaments/alttpr/dry-run", w.api_http))
        .form(&[("csrf", csrf.as_str()), ("hours", "24")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let opened = http
        .post(format!(
            "{}/tournaments/alttpr/matches/{id}/open",
            w.api_http
        ))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!opened.contains("The race room is open."), "{opened}");
    assert!(w.racetime_fake.race_names("alttpr").is_empty());
    // Made an organizer, she edits the tournament and rehearses the day on the website.
    let api_grpc = w.peers.iter().find(|(n, _)| *n == "api").unwrap().1.clone();
    let alice = proto::identity::v1::identity_client::IdentityClient::connect(api_grpc)
        .await
        .unwrap()
        .find_by_discord_id(proto::identity::v1::FindByDiscordIdRequest {
            discord_user_id: ALICE,
        })
        .await
        .unwrap()
        .into_inner();
    w.admin(&tournament)
        .await
        .grant_role(pb::GrantRoleRequest {
            actor: Some(pb::Actor {
                operator: true,
                user_id: 0,
            }),
            tournament: "alttpr".into(),
            role: "organizer".into(),
            user_id: alice.id,
            discord_role_id: 0,
        })
        .await
        .unwrap();
    let edit = format!("{}/tournaments/alttpr/edit", w.api_http);
    let form = |minutes: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("name", "ALTTPR Main 2027".to_owned()),
            ("active", "on".to_owned()),
            ("room_open_minutes_before", minutes.to_owned()),
            ("stream_delay_minutes", "0".to_owned()),
            ("seed_roller_json", OPEN_PRESET.to_owned()),
            ("settings_form_json", String::new()),
        ]
    };
    let bad = http
        .post(&edit)
        .form(&form("2000"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(bad.contains("room_open_minutes_before: 1–1440"), "{bad}");
    let saved = http
        .post(&edit)
        .form(&form("45"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(saved.contains("Saved."), "{saved}");
    let schedule = http
        .get(format!("{}/tournaments/alttpr", w.api_http))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(schedule.contains("<h1>ALTTPR Main 2027</h1>"), "{schedule}");
    let rehearsal = http
        .post(format!("{}/tournaments/alttpr/dry-run", w.api_http))
        .form(&[("csrf", csrf.as_str()), ("hours", "24")])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        rehearsal.contains("id=\"rehearsal\"") && rehearsal.contains("open a room in alttpr"),
        "{rehearsal}"
    );
    assert!(
        w.racetime_fake.race_names("alttpr").is_empty(),
        "a rehearsal opens nothing"
    );
}

/// The dry run's live mode: tomorrow's day staged in a test category, twelve times faster;
/// the running service opens the copy's rooms there and never the real tournament's.
#[tokio::test(flavor = "multi_thread")]
async fn a_live_test_runs_the_day_for_real_in_a_test_category_compressed() {
    let w = world().await;
    let tournament = w.tournament().await;
    w.create_tournament(&tournament, "internal").await;
    let mut admin = w.admin(&tournament).await;
    // Whole seconds, as `--from` gives them (and as MariaDB stores match times).
    let from = chrono::SubsecRound::trunc_subsecs(Utc::now() + chrono::Duration::days(1), 0);
    for (title, hours) in [("Round 1", 0), ("Round 2", 2)] {
        admin
            .create_match(pb::CreateMatchRequest {
                actor: Some(pb::Actor {
                    operator: true,
                    user_id: 0,
                }),
                tournament: "alttpr".into(),
                title: title.into(),
                scheduled_at: Some(platform::grpc::timestamp(
                    from + chrono::Duration::hours(hours),
                )),
                players: vec![
                    pb::MatchPlayer {
                        display_name: "Alice".into(),
                        discord_user_id: ALICE,
                        ..Default::default()
                    },
                    pb::MatchPlayer {
                        display_name: "Bob".into(),
                        discord_user_id: BOB,
                        ..Default::default()
                    },
                ],
                ..Default::default()
            })
            .await
            .unwrap();
    }
    let db = sea_orm::Database::connect(w.tournament_db.url())
        .await
        .unwrap();
    let real = tournament::registry::get(&db, "alttpr").await.unwrap();
    let own = tournament::livetest::stage(&db, &real, "alttpr", from, 4, 12, Utc::now())
        .await
        .unwrap_err();
    assert!(
        own.to_string().contains("must not be the tournament's own"),
        "{own}"
    );
    // As if staged two minutes ago: the first room is due now.
    let now = Utc::now() - tournament::livetest::LEAD;
    let staged = tournament::livetest::stage(&db, &real, "alttpr-test", from, 4, 12, now)
        .await
        .unwrap();
    assert_eq!(staged.slug, "alttpr-live-test");
    // 60 minutes before becomes 5; two hours apart becomes ten minutes apart.
    assert_eq!(staged.room_open_minutes_before, 5);
    assert_eq!(staged.matches.len(), 2);
    assert_eq!(
        staged.matches[1].0 - staged.matches[0].0,
        chrono::Duration::minutes(10)
    );
    let text = staged.render("UTC", "alttpr-test");
    assert!(
        text.contains("Round 1 (live test)") && text.contains("`alttpr-live-test`"),
        "{text}"
    );
    // Staging again updates the same matches.
    let again = tournament::livetest::stage(&db, &real, "alttpr-test", from, 4, 12, now)
        .await
        .unwrap();
    assert_eq!(again.matches.len(), 2);
    // The first room is due within the copy's window: it opens in the test category, with the
    // players invited, and nothing opens in the real one.
    let mut rooms = Vec::new();
    for _ in 0..300 {
        rooms = w.racetime_fake.race_names("alttpr-test");
        if !rooms.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(rooms.len(), 1, "one room is due: {rooms:?}");
    let race = w.racetime_fake.race(&rooms[0]);
    assert!(
        race["info_user"]
            .as_str()
            .unwrap_or_default()
            .contains("Round 1 (live test)")
            || race.to_string().contains("Round 1 (live test)"),
        "{race}"
    );
    assert!(w.racetime_fake.race_names("alttpr").is_empty());
    let copy = tournament::registry::get(&db, "alttpr-live-test")
        .await
        .unwrap();
    assert_eq!(copy.row.racetime_category, "alttpr-test");
    assert!(!copy.row.scheduled_events);
}
