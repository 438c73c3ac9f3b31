//! A whole async qualifier end to end (spec `tournament.md` §3): the real tournament (two
//! replicas), gateway, api and seedgen services in-process with the fake Discord and a fake
//! alttpr.com. An operator creates it with two pools from Discord, racers run in private
//! threads (one forfeits, one times out, one reattempts and finds the pool exhausted), an admin
//! reviews, and the scores and leaderboard equal the spec's worked example (§3.9) to the bit.
//! The pending timer warns and forfeits once with two replicas, and keeps its due time across
//! a restart of every replica.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use api::ApiService;
use chrono::Utc;
use gateway::GatewayService;
use platform::Service;
use proto::asynctournament::v1 as pb;
use proto::asynctournament::v1::async_tournaments_client::AsyncTournamentsClient;
use serde_json::{Value as Json, json};
use testkit::discord::Invoker;
use testkit::{FakeDiscord, ServiceHandle, TestDb, TestNats};
use tonic::transport::Channel;
use tournament::TournamentService;

const WAIT: Duration = Duration::from_secs(30);
const CHANNEL: u64 = 10;
const OPERATOR: u64 = 185_198_185_990_320_001;
const ALICE: u64 = 185_198_185_990_324_225;
const BOB: u64 = 185_198_185_990_324_226;
const CAROL: u64 = 185_198_185_990_324_227;
const DAVE: u64 = 185_198_185_990_324_228;
const RITA: u64 = 185_198_185_990_324_229;
/// Six more racers, run through gRPC for the worked example's seven finishers.
const RACERS: [u64; 6] = [
    185_198_185_990_330_001,
    185_198_185_990_330_002,
    185_198_185_990_330_003,
    185_198_185_990_330_004,
    185_198_185_990_330_005,
    185_198_185_990_330_006,
];

struct World {
    discord: FakeDiscord,
    racetime_fake: testkit::FakeRacetime,
    /// racetime.gg ids by name.
    rt: std::collections::BTreeMap<&'static str, String>,
    nats: TestNats,
    tournament_db: TestDb,
    peers: Vec<(&'static str, String)>,
    first_listeners: std::sync::Mutex<Option<platform::runtime::Listeners>>,
    /// api users by Discord id.
    users: std::collections::BTreeMap<u64, u64>,
    /// The website.
    api_http: String,
    /// Discord's OAuth2 for "Log in with Discord".
    discord_oauth: testkit::oauth::FakeOAuth,
    /// api's database (API keys).
    api_conn: sea_orm::DatabaseConnection,
    _alttpr: wiremock::MockServer,
    _services: Vec<ServiceHandle>,
    _dbs: Vec<TestDb>,
}

async fn world() -> World {
    testkit::init();
    let nats = TestNats::shared();
    let discord = FakeDiscord::start().await.unwrap();
    let racetime_fake = testkit::FakeRacetime::start().await.unwrap();
    let mut rt = std::collections::BTreeMap::new();
    let first_listeners = testkit::bind_ephemeral().await.unwrap();
    let tournament_url = format!("http://{}", first_listeners.local_addrs().unwrap().0);

    // api, with linked racers (Dave has no racetime.gg link).
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
    let mut users = std::collections::BTreeMap::new();
    let named = [
        (OPERATOR, "Operator", true),
        (ALICE, "Alice", true),
        (BOB, "Bob", true),
        (CAROL, "Carol", true),
        (DAVE, "Dave", false),
        (RITA, "Rita", true),
    ];
    let racers = RACERS
        .iter()
        .enumerate()
        .map(|(i, id)| (*id, ["P1", "P2", "P3", "P4", "P5", "P6"][i], true));
    for (discord_id, name, linked) in named.into_iter().chain(racers) {
        let racetime_id = linked.then(|| racetime_fake.add_user(name, &[]));
        if let Some(id) = &racetime_id {
            rt.insert(name, id.clone());
        }
        let user = api::identity::create(
            &conn,
            api::identity::NewUser {
                discord_user_id: Some(discord_id),
                racetime_user_id: racetime_id,
                racetime_name: Some(name.into()),
                display_name: Some(name.into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        users.insert(discord_id, user.id as u64);
    }

    // racetime, with the alttpr category bot.
    let racetime_db = TestDb::new().await.unwrap();
    let mut settings = racetime::RacetimeService::default_settings();
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
    let mut racetime = ServiceHandle::spawn::<racetime::RacetimeService>(
        settings,
        testkit::bind_ephemeral().await.unwrap(),
    )
    .unwrap();
    racetime.wait_ready(WAIT).await.unwrap();

    // gateway, on the fake Discord, with the operator and a fast countdown.
    let gateway_db = TestDb::new().await.unwrap();
    let mut settings = GatewayService::default_settings();
    testkit::configure(&mut settings.common, &gateway_db, &nats);
    settings.common.peers.get_mut("tournament").unwrap().url = tournament_url;
    settings.common.peers.get_mut("api").unwrap().url = api.grpc_url();
    settings.service.operators = vec![OPERATOR];
    settings.service.async_countdown_ms = 10;
    let d = &mut settings.service.discord;
    d.token = Some(testkit::discord::BOT_TOKEN.to_string().into());
    d.application_id = Some(testkit::discord::APPLICATION_ID);
    d.api_base_url = discord.url.clone();
    d.gateway_url = discord.gateway_url.clone();
    let mut gateway =
        ServiceHandle::spawn::<GatewayService>(settings, testkit::bind_ephemeral().await.unwrap())
            .unwrap();
    gateway.wait_ready(WAIT).await.unwrap();
    discord.wait_for_session(WAIT).await;

    // seedgen, on a fake alttpr.com.
    let alttpr = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .and(wiremock::matchers::path("/api/randomizer"))
        .respond_with(
            wiremock::ResponseTemplate::new(200)
                .set_body_json(testkit::fixtures::alttpr_seed_response("AsYnC", "off")),
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
        ("gateway", gateway.grpc_url()),
        ("seedgen", seedgen.grpc_url()),
        ("racetime", racetime.grpc_url()),
    ];
    World {
        discord,
        racetime_fake,
        rt,
        nats,
        tournament_db: TestDb::new().await.unwrap(),
        peers,
        first_listeners: std::sync::Mutex::new(Some(first_listeners)),
        users,
        api_http: format!("http://127.0.0.1:{port}"),
        discord_oauth,
        api_conn: conn,
        _alttpr: alttpr,
        _services: vec![api, gateway, seedgen, racetime],
        _dbs: vec![api_db, gateway_db, seedgen_db, racetime_db],
    }
}

impl World {
    /// A tournament replica sweeping async timers every second.
    async fn tournament(&self) -> ServiceHandle {
        self.tournament_on(None).await
    }

    /// A replica whose gRPC listens on `grpc` (a stopped replica's address, which the gateway
    /// knows), or on the address reserved first, else anywhere.
    async fn tournament_on(&self, grpc: Option<std::net::SocketAddr>) -> ServiceHandle {
        let mut settings = TournamentService::default_settings();
        testkit::configure(&mut settings.common, &self.tournament_db, &self.nats);
        for (name, url) in &self.peers {
            settings.common.peers.get_mut(*name).unwrap().url = url.clone();
        }
        settings.service.async_sweep_secs = 1;
        let reserved = self.first_listeners.lock().unwrap().take();
        let listeners = match (grpc, reserved) {
            (Some(addr), _) => platform::runtime::Listeners {
                grpc: tokio::net::TcpListener::bind(addr).await.unwrap(),
                admin: tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
            },
            (None, Some(l)) => l,
            (None, None) => testkit::bind_ephemeral().await.unwrap(),
        };
        let mut handle = ServiceHandle::spawn::<TournamentService>(settings, listeners).unwrap();
        handle.wait_ready(WAIT).await.unwrap();
        handle
    }

    fn invoker(&self, user: u64, name: &str, channel: u64) -> Invoker {
        Invoker {
            channel_id: channel,
            ..Invoker::member(user, name)
        }
    }

    async fn db(&self) -> sea_orm::DatabaseConnection {
        sea_orm::Database::connect(self.tournament_db.url())
            .await
            .unwrap()
    }

    /// Waits for a message in `channel` whose content contains `text`.
    async fn message_with(&self, channel: u64, text: &str) -> Json {
        for _ in 0..600 {
            if let Some(m) = self
                .discord
                .channel_messages(channel)
                .into_iter()
                .find(|m| m["content"].as_str().unwrap_or_default().contains(text))
            {
                return m;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "no message with {text:?} in {channel}: {:#?}",
            self.discord.channel_messages(channel)
        );
    }

    fn count_with(&self, channel: u64, text: &str) -> usize {
        self.discord
            .channel_messages(channel)
            .iter()
            .filter(|m| m["content"].as_str().unwrap_or_default().contains(text))
            .count()
    }

    /// The text a private or public answer to `interaction` carries (the callback's message,
    /// or the deferred response's edit).
    async fn answer(&self, interaction: &testkit::discord::SentInteraction) -> String {
        let callback = self.discord.callback(interaction, WAIT).await;
        if callback["type"] == 4 || callback["type"] == 7 {
            return callback["data"]["content"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
        }
        self.discord.answer_text(interaction, WAIT).await
    }

    /// Starts a run in pool `pool` for `user` through the buttons; returns its thread.
    async fn start_run(&self, user: u64, name: &str, pool: &str) -> u64 {
        let me = self.invoker(user, name, CHANNEL);
        let click = self.discord.click_button(&me, "async:new_run");
        let offer = self.discord.callback(&click, WAIT).await;
        assert!(
            offer["data"]["content"]
                .as_str()
                .unwrap()
                .starts_with("You must start your race within 10 minutes"),
            "{offer}"
        );
        let choose = self.discord.select_menu(&me, "async:pool", &[pool]);
        let chosen = self.discord.callback(&choose, WAIT).await;
        assert_eq!(chosen["type"], 7, "{chosen}");
        assert_eq!(
            chosen["data"]["embeds"][0]["description"],
            format!("You have selected: {pool}")
        );
        let confirm = self
            .discord
            .click_button(&me, &format!("async:confirm:{pool}"));
        let text = self.answer(&confirm).await;
        assert!(text.starts_with("Successfully created <#"), "{text}");
        text.trim_start_matches("Successfully created <#")
            .split('>')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    }
}

async fn client(handle: &ServiceHandle) -> AsyncTournamentsClient<Channel> {
    AsyncTournamentsClient::connect(handle.grpc_url())
        .await
        .unwrap()
}

fn discord_caller(user: u64) -> Option<pb::Caller> {
    Some(pb::Caller {
        discord_user_id: user,
        roles_known: true,
        ..Default::default()
    })
}

fn operator() -> Option<pb::Caller> {
    Some(pb::Caller {
        discord_user_id: OPERATOR,
        operator: true,
        roles_known: true,
        ..Default::default()
    })
}

/// A racer's whole run through gRPC: start, thread, ready, GO, finish; then the owner sets its
/// time to `elapsed` seconds.
async fn run_through_grpc(
    c: &mut AsyncTournamentsClient<Channel>,
    user: u64,
    pool: &str,
    thread: u64,
    elapsed: u32,
) -> pb::Run {
    let run = c
        .start_run(pb::StartRunRequest {
            tournament: Some(pb::TournamentRef {
                channel_id: CHANNEL,
                caller: discord_caller(user),
                ..Default::default()
            }),
            pool_name: pool.into(),
        })
        .await
        .unwrap()
        .into_inner();
    let by_runner = |run_id| pb::RunRef {
        run_id,
        caller: discord_caller(user),
        ..Default::default()
    };
    c.attach_thread(pb::AttachThreadRequest {
        run_id: run.id,
        thread_id: thread,
        caller: discord_caller(user),
    })
    .await
    .unwrap();
    c.mark_ready(by_runner(run.id)).await.unwrap();
    c.mark_started(by_runner(run.id)).await.unwrap();
    c.finish(by_runner(run.id)).await.unwrap();
    set_time(c, run.id, elapsed).await
}

/// The owner's correction of a run's time (`/async update_run elapsed_time`).
async fn set_time(c: &mut AsyncTournamentsClient<Channel>, run: i64, elapsed: u32) -> pb::Run {
    c.update_run(pb::UpdateRunRequest {
        run: Some(pb::RunRef {
            run_id: run,
            caller: operator(),
            ..Default::default()
        }),
        elapsed_time: format!(
            "{:02}:{:02}:{:02}",
            elapsed / 3600,
            elapsed / 60 % 60,
            elapsed % 60
        ),
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner()
}

async fn run_of_thread(c: &mut AsyncTournamentsClient<Channel>, thread: u64) -> pb::Run {
    c.get_run(pb::RunRef {
        thread_id: thread,
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner()
}

async fn audit_count(db: &sea_orm::DatabaseConnection, action: &str) -> u64 {
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    use tournament::asyncs::db::{AuditAction, audit};
    audit::Entity::find()
        .filter(audit::Column::Action.eq(AuditAction::parse(action).unwrap()))
        .count(db)
        .await
        .unwrap()
}

/// Moves a run's pending timeout to `at` (the passing of time, without the waiting).
async fn set_timeout(db: &sea_orm::DatabaseConnection, run: i64, at: chrono::DateTime<Utc>) {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    use tournament::asyncs::db::run as r;
    r::Entity::update_many()
        .col_expr(r::Column::ThreadTimeoutTime, Expr::value(at))
        .filter(r::Column::Id.eq(run))
        .exec(db)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_whole_qualifier_from_discord_scores_as_the_spec_says() {
    let w = world().await;
    let first = w.tournament().await;
    let second = w.tournament().await;
    let mut c = client(&first).await;
    let db = w.db().await;

    // Only an operator creates; a malformed pool list is explained.
    let stranger = w.invoker(ALICE, "Alice", CHANNEL);
    let refused = w.discord.slash_command(
        &stranger,
        &["async", "create"],
        &[("name", json!("Q")), ("permalinks", json!("A,open,1"))],
        &[],
    );
    assert_eq!(
        w.answer(&refused).await,
        "Only the bot's operators may create async tournaments."
    );
    let op = w.invoker(OPERATOR, "Operator", CHANNEL);
    let bad = w.discord.slash_command(
        &op,
        &["async", "create"],
        &[("name", json!("Q")), ("permalinks", json!("A,open"))],
        &[],
    );
    assert!(
        w.answer(&bad)
            .await
            .contains("`A,open` is not `pool,preset,count`")
    );
    let create = w.discord.slash_command(
        &op,
        &["async", "create"],
        &[
            ("name", json!("Main Qualifier")),
            ("permalinks", json!("A,open,1;B,open,2")),
            ("reattempts", json!(1)),
        ],
        &[],
    );
    let created = w.answer(&create).await;
    assert!(
        created.starts_with("Async tournament **Main Qualifier** created"),
        "{created}"
    );
    let post = w
        .discord
        .channel_messages(CHANNEL)
        .into_iter()
        .find(|m| m["embeds"][0]["title"] == "Main Qualifier")
        .expect("the tournament post");
    assert_eq!(
        post["components"][0]["components"][0]["custom_id"],
        "async:new_run"
    );
    assert_eq!(
        post["embeds"][0]["fields"][0]["value"],
        format!("<@{OPERATOR}>")
    );
    // A second tournament in the channel is refused.
    let again = w.discord.slash_command(
        &op,
        &["async", "create"],
        &[("name", json!("Again")), ("permalinks", json!("A,open,1"))],
        &[],
    );
    assert!(
        w.answer(&again)
            .await
            .contains("already associated with this channel")
    );

    // Rita is made an admin.
    let grant = w.discord.slash_command(
        &op,
        &["async", "permissions"],
        &[
            ("permission", json!("admin")),
            ("user", json!({"user": RITA.to_string()})),
        ],
        &[],
    );
    assert!(w.answer(&grant).await.contains("has been granted admin"));

    // The gates: an account days old, then no racetime.gg link.
    let fresh_ms = (Utc::now().timestamp_millis() - 1_420_070_400_000 - 3_600_000) as u64;
    let newcomer = w.invoker(fresh_ms << 22, "newcomer", CHANNEL);
    let click = w.discord.click_button(&newcomer, "async:new_run");
    assert!(
        w.answer(&click)
            .await
            .starts_with("Your Discord account is too new"),
    );
    let click = w
        .discord
        .click_button(&w.invoker(DAVE, "Dave", CHANNEL), "async:new_run");
    assert!(
        w.answer(&click)
            .await
            .contains("/racetime/verification/initiate"),
    );

    // Alice: pool A from the buttons, the countdown, GO, finish, the VOD form.
    let alice_thread = w.start_run(ALICE, "Alice", "A").await;
    assert!(w.discord.thread_members(alice_thread).contains(&ALICE));
    let rules = w
        .message_with(alice_thread, "Please read these reminders")
        .await;
    assert_eq!(rules["embeds"][0]["fields"][0]["value"], "A");
    // A second run while this one is open is refused.
    w.discord
        .click_button(&w.invoker(ALICE, "Alice", CHANNEL), "async:new_run");
    let again = w
        .discord
        .click_button(&w.invoker(ALICE, "Alice", CHANNEL), "async:confirm:B");
    assert!(
        w.answer(&again)
            .await
            .starts_with("You already have an active race.")
    );
    // Only the runner may press Ready.
    let intruder = w
        .discord
        .click_button(&w.invoker(BOB, "Bob", alice_thread), "async:ready");
    assert_eq!(
        w.answer(&intruder).await,
        "Only the runner of this race can start it."
    );
    let ready = w
        .discord
        .click_button(&w.invoker(ALICE, "Alice", alice_thread), "async:ready");
    let updated = w.discord.callback(&ready, WAIT).await;
    assert_eq!(updated["type"], 7, "{updated}");
    assert_eq!(
        updated["data"]["components"][0]["components"][0]["disabled"],
        true
    );
    let go = w.message_with(alice_thread, "**GO!**").await;
    assert_eq!(w.count_with(alice_thread, "..."), 10);
    assert_eq!(
        go["components"][0]["components"][0]["custom_id"],
        "async:finish"
    );
    for _ in 0..100 {
        if run_of_thread(&mut c, alice_thread)
            .await
            .start_time
            .is_some()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Pressing Ready again does nothing (the run is in progress).
    let twice = w
        .discord
        .click_button(&w.invoker(ALICE, "Alice", alice_thread), "async:ready");
    assert_eq!(
        w.answer(&twice).await,
        "This race must be in the pending state to start it."
    );
    let timer = w
        .discord
        .click_button(&w.invoker(ALICE, "Alice", alice_thread), "async:timer");
    assert!(w.answer(&timer).await.starts_with("Timer: **00:00:"));
    let finish = w
        .discord
        .click_button(&w.invoker(ALICE, "Alice", alice_thread), "async:finish");
    w.discord.callback(&finish, WAIT).await;
    let done = w.message_with(alice_thread, "Your finish time of **").await;
    assert!(done["content"].as_str().unwrap().contains("submit a VoD"));
    let form = w
        .discord
        .click_button(&w.invoker(ALICE, "Alice", alice_thread), "async:submit_vod");
    let modal = w.discord.callback(&form, WAIT).await;
    assert_eq!(modal["type"], 9, "{modal}");
    assert_eq!(modal["data"]["title"], "Submit VOD and Notes");
    let bad_vod = w.discord.submit_modal(
        &w.invoker(ALICE, "Alice", alice_thread),
        "async:vod",
        &[("runner_vod_url", "my video"), ("runner_notes", "")],
    );
    assert!(
        w.answer(&bad_vod)
            .await
            .starts_with("The VOD link must be a web address")
    );
    let vod = w.discord.submit_modal(
        &w.invoker(ALICE, "Alice", alice_thread),
        "async:vod",
        &[
            ("runner_vod_url", "https://youtu.be/alice"),
            ("runner_notes", "clean run"),
        ],
    );
    assert_eq!(w.answer(&vod).await, "Saved.");
    w.message_with(alice_thread, "**URL:** https://youtu.be/alice")
        .await;
    // The owner sets the worked example's time (6300 s) from the thread.
    let fix = w.discord.slash_command(
        &w.invoker(OPERATOR, "Operator", alice_thread),
        &["async", "update_run"],
        &[("elapsed_time", json!("01:45:00"))],
        &[],
    );
    assert!(
        w.answer(&fix)
            .await
            .contains("administratively updated this run")
    );
    // A stranger may not.
    let nope = w.discord.slash_command(
        &w.invoker(BOB, "Bob", alice_thread),
        &["async", "update_run"],
        &[("elapsed_time", json!("00:01:00"))],
        &[],
    );
    assert_eq!(
        w.answer(&nope).await,
        "Only the owner of this tournament may update runs."
    );

    // Bob forfeits pool A before starting.
    let bob_thread = w.start_run(BOB, "Bob", "A").await;
    let forfeit = w
        .discord
        .click_button(&w.invoker(BOB, "Bob", bob_thread), "async:forfeit");
    assert!(
        w.answer(&forfeit)
            .await
            .starts_with("Are you sure you wish to forfeit?")
    );
    let sure = w
        .discord
        .click_button(&w.invoker(BOB, "Bob", bob_thread), "async:confirm_forfeit");
    assert_eq!(w.answer(&sure).await, "You have forfeited this run.");
    w.message_with(bob_thread, "This run has been forfeited by")
        .await;
    let bob_run = run_of_thread(&mut c, bob_thread).await;
    assert_eq!(bob_run.status, "forfeit");

    // Carol starts pool A and never presses Ready: warned once, then forfeited once, with two
    // replicas sweeping every second.
    let carol_thread = w.start_run(CAROL, "Carol", "A").await;
    let carol_run = run_of_thread(&mut c, carol_thread).await;
    let opened = carol_run.thread_open_time.unwrap().seconds;
    let timeout = carol_run.thread_timeout_time.unwrap().seconds;
    assert_eq!(timeout - opened, 20 * 60);
    set_timeout(&db, carol_run.id, Utc::now() + chrono::Duration::minutes(5)).await;
    w.message_with(carol_thread, "will be permanently forfeit")
        .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(w.count_with(carol_thread, "will be permanently forfeit"), 1);
    // Every replica stops; the due time passes meanwhile; a new replica forfeits the run.
    let known = first.grpc_addr;
    first.stop().await.unwrap();
    second.stop().await.unwrap();
    set_timeout(&db, carol_run.id, Utc::now() - chrono::Duration::seconds(1)).await;
    let third = w.tournament_on(Some(known)).await;
    let fourth = w.tournament().await;
    let mut c = client(&third).await;
    w.message_with(
        carol_thread,
        "has been forfeited because it was not started",
    )
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        w.count_with(
            carol_thread,
            "has been forfeited because it was not started"
        ),
        1
    );
    assert_eq!(audit_count(&db, "timeout_forfeit").await, 1);
    assert_eq!(run_of_thread(&mut c, carol_thread).await.status, "forfeit");

    // Bob reattempts his forfeit; pool A has one seed, which he played: exhausted, said so.
    let reattempt = |run_id, reason: &str| pb::ReattemptRequest {
        run: Some(pb::RunRef {
            run_id,
            caller: Some(pb::Caller {
                user_id: w.users[&BOB] as i64,
                ..Default::default()
            }),
            ..Default::default()
        }),
        reason: reason.into(),
    };
    let again = c
        .reattempt(reattempt(bob_run.id, "controller died"))
        .await
        .unwrap()
        .into_inner();
    assert!(again.reattempted);
    let second_try = c
        .reattempt(reattempt(bob_run.id, "again"))
        .await
        .unwrap_err();
    assert_eq!(second_try.message(), "This run is already reattempted.");
    let click = w
        .discord
        .click_button(&w.invoker(BOB, "Bob", CHANNEL), "async:confirm:A");
    let exhausted = w.answer(&click).await;
    assert!(
        exhausted.starts_with("There are no more seeds in this pool for you"),
        "{exhausted}"
    );
    // Bob plays B, finishes, and may not reattempt a second time.
    let bob_b = w.start_run(BOB, "Bob", "B").await;
    let bob_b_run = run_of_thread(&mut c, bob_b).await;
    let early = c
        .reattempt(reattempt(bob_b_run.id, "too soon"))
        .await
        .unwrap_err();
    assert_eq!(
        early.message(),
        "Finish or forfeit this run before reattempting it."
    );
    w.discord
        .click_button(&w.invoker(BOB, "Bob", bob_b), "async:ready");
    w.message_with(bob_b, "**GO!**").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let done = w
        .discord
        .slash_command(&w.invoker(BOB, "Bob", bob_b), &["async", "done"], &[], &[]);
    assert!(w.answer(&done).await.starts_with("Your finish time of **"));
    let used = c
        .reattempt(reattempt(bob_b_run.id, "one more"))
        .await
        .unwrap_err();
    assert_eq!(
        used.message(),
        "You have already used your 1 reattempt in this tournament."
    );

    // Alice forfeits pool B (the worked example's player X).
    let alice_b = w.start_run(ALICE, "Alice", "B").await;
    w.discord
        .click_button(&w.invoker(ALICE, "Alice", alice_b), "async:confirm_forfeit");
    w.message_with(alice_b, "This run has been forfeited by")
        .await;

    // The worked example's other finishers on pool A's seed.
    let times = [5400, 5700, 6000, 6600, 7200, 9000];
    let mut runs = Vec::new();
    for (i, (user, elapsed)) in RACERS.iter().zip(times).enumerate() {
        runs.push(run_through_grpc(&mut c, *user, "A", 900_000 + i as u64, elapsed).await);
    }
    let alice_run = run_of_thread(&mut c, alice_thread).await;
    assert_eq!(
        runs[0].permalink_id, alice_run.permalink_id,
        "pool A has one seed"
    );

    // Review: Rita claims Alice's run by opening it, approves it; nobody reviews their own.
    let rita = || {
        Some(pb::Caller {
            discord_user_id: RITA,
            roles_known: true,
            ..Default::default()
        })
    };
    let opened = c
        .get_for_review(pb::RunRef {
            run_id: alice_run.id,
            caller: rita(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(opened.reviewable && !opened.already_claimed && !opened.reviewer_is_self);
    assert_eq!(opened.run.unwrap().reviewed_by_name, "Rita");
    let not_staff = c
        .get_for_review(pb::RunRef {
            run_id: alice_run.id,
            caller: discord_caller(BOB),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(not_staff.code(), tonic::Code::PermissionDenied);
    let bad_status = c
        .submit_review(pb::SubmitReviewRequest {
            run: Some(pb::RunRef {
                run_id: alice_run.id,
                caller: rita(),
                ..Default::default()
            }),
            review_status: "accepted".into(),
            reviewer_notes: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(bad_status.code(), tonic::Code::InvalidArgument);
    let reviewed = c
        .submit_review(pb::SubmitReviewRequest {
            run: Some(pb::RunRef {
                run_id: alice_run.id,
                caller: rita(),
                ..Default::default()
            }),
            review_status: "approved".into(),
            reviewer_notes: "VOD checks out".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(reviewed.review_status, "approved");

    // Scores from Discord (admins only), then the worked example to the bit.
    let not_admin = w.discord.slash_command(
        &w.invoker(BOB, "Bob", CHANNEL),
        &["async", "calculate_scores"],
        &[],
        &[],
    );
    assert_eq!(
        w.answer(&not_admin).await,
        "Only this tournament's admins may recalculate scores."
    );
    let calc = w.discord.slash_command(
        &w.invoker(RITA, "Rita", CHANNEL),
        &["async", "calculate_scores"],
        &[],
        &[],
    );
    assert!(w.answer(&calc).await.starts_with("Done!"));
    let tournament = c
        .get_tournament(pb::GetTournamentRequest {
            tournament: Some(pb::TournamentRef {
                channel_id: CHANNEL,
                caller: rita(),
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner();
    let seed_a = &tournament.pools[0].permalinks[0];
    assert_eq!(seed_a.par_time, Some(6000.0));
    let score_of = |run: &pb::Run| run.score.unwrap();
    let list = c
        .list_runs(pb::ListRunsRequest {
            tournament: Some(pb::TournamentRef {
                channel_id: CHANNEL,
                caller: rita(),
                ..Default::default()
            }),
            permalink_id: seed_a.id,
            page_size: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .runs;
    let by_player = |name: &str| {
        list.iter()
            .find(|r| r.player.as_ref().unwrap().display_name == name && !r.reattempted)
            .unwrap()
    };
    assert_eq!(score_of(by_player("P1")), 105.0);
    assert_eq!(score_of(by_player("P2")), 105.0);
    assert_eq!(score_of(by_player("P3")), 100.0);
    assert_eq!(score_of(by_player("Alice")), 95.0);
    assert_eq!(
        score_of(by_player("P4")).to_bits(),
        89.999_999_999_999_99_f64.to_bits()
    );
    assert_eq!(by_player("P4").score_formatted, "90.000");
    assert_eq!(score_of(by_player("P5")), 80.0);
    assert_eq!(score_of(by_player("P6")), 50.0);
    assert_eq!(score_of(by_player("Carol")), 0.0);
    let bob_old = list.iter().find(|r| r.id == bob_run.id).unwrap();
    assert_eq!(bob_old.score, None, "a reattempted run is not scored");

    let board = c
        .leaderboard(pb::LeaderboardRequest {
            tournament: Some(pb::TournamentRef {
                channel_id: CHANNEL,
                caller: rita(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let entry = |name: &str| {
        board
            .entries
            .iter()
            .find(|e| e.player.as_ref().unwrap().display_name == name)
            .unwrap()
    };
    let (x, y) = (entry("Alice"), entry("P3"));
    assert_eq!((x.score, x.estimate), (47.5, 95.0));
    assert_eq!((y.score, y.estimate), (50.0, 100.0));
    assert!(y.rank < x.rank, "Y ({}) above X ({})", y.rank, x.rank);
    assert_eq!((x.finished, x.forfeited, x.unplayed), (1, 1, 0));
    assert_eq!((y.finished, y.forfeited, y.unplayed), (1, 0, 1));
    assert_eq!(x.races.len(), 2);
    assert_eq!(x.races[0].elapsed_time, "01:45:00");
    assert_eq!(board.entries[0].player.as_ref().unwrap().display_name, "P1");

    // The leaderboard is for staff while the tournament runs, public once the owner closes it.
    let public = c
        .leaderboard(pb::LeaderboardRequest {
            tournament: Some(pb::TournamentRef {
                channel_id: CHANNEL,
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(public.code(), tonic::Code::PermissionDenied);
    let close = w.discord.slash_command(
        &w.invoker(OPERATOR, "Operator", CHANNEL),
        &["async", "close"],
        &[],
        &[],
    );
    assert!(
        w.answer(&close)
            .await
            .starts_with("Are you sure you want to close")
    );
    let yes = w.discord.click_button(
        &w.invoker(OPERATOR, "Operator", CHANNEL),
        &format!("async:close:{}", tournament.id),
    );
    assert_eq!(w.answer(&yes).await, "Closed.");
    w.message_with(CHANNEL, "This tournament has been closed.")
        .await;
    let public = c
        .leaderboard(pb::LeaderboardRequest {
            tournament: Some(pb::TournamentRef {
                channel_id: CHANNEL,
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(public.entries.len(), board.entries.len());
    let closed = w
        .discord
        .click_button(&w.invoker(ALICE, "Alice", CHANNEL), "async:new_run");
    assert_eq!(
        w.answer(&closed).await,
        "This tournament is not currently active."
    );

    // Every step is in the audit log.
    for action in [
        "create",
        "create_thread",
        "race_ready",
        "race_countdown",
        "race_started",
        "race_finish",
        "runner_forfeit",
        "reattempt",
        "review",
        "update_run",
        "close",
        "permissions",
        "calculate_scores",
    ] {
        assert!(audit_count(&db, action).await > 0, "no `{action}` audited");
    }
    drop(fourth);
}

/// Logs `user` in on the website in a fresh browser session.
async fn logged_in(
    w: &World,
    driver: &testkit::browser::Driver,
    user: u64,
    name: &str,
) -> fantoccini::Client {
    w.discord_oauth.sign_in_as(&user.to_string(), name);
    let page = testkit::browser::browser(driver).await;
    page.goto(&format!("{}/login/", w.api_http)).await.unwrap();
    testkit::browser::wait_path(&page, "/me").await;
    page
}

#[tokio::test(flavor = "multi_thread")]
async fn the_website_and_the_api_show_results_to_whom_they_should() {
    use testkit::browser;
    let w = world().await;
    let handle = w.tournament().await;
    let mut c = client(&handle).await;
    let t = c
        .create_tournament(pb::CreateTournamentRequest {
            caller: operator(),
            name: "Web Qualifier".into(),
            guild_id: 1,
            channel_id: CHANNEL,
            pools: vec![pb::PoolSpec {
                name: "A".into(),
                preset: "open".into(),
                count: 2,
            }],
            allowed_reattempts: 1,
            runs_per_pool: 1,
            customization: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    c.grant(pb::GrantRequest {
        tournament: Some(pb::TournamentRef {
            tournament_id: t.id,
            caller: operator(),
            ..Default::default()
        }),
        role: "mod".into(),
        discord_user_ids: vec![RITA],
        discord_role_id: 0,
    })
    .await
    .unwrap();
    let alice = run_through_grpc(&mut c, ALICE, "A", 800_001, 3600).await;
    let bob = run_through_grpc(&mut c, BOB, "A", 800_002, 4500).await;
    let http = reqwest::Client::new();
    let url = |path: &str| format!("{}{path}", w.api_http);

    // Programs: a key with the read scope reads everything; without it, 403; none, 401.
    let (_, reader) = api::keys::create(
        &w.api_conn,
        "tracker",
        None,
        &["asynctournament:read".into()],
        None,
    )
    .await
    .unwrap();
    let (_, other) = api::keys::create(&w.api_conn, "other", None, &["presets:write".into()], None)
        .await
        .unwrap();
    let get = |path: String, key: &str| {
        let request = http.get(url(&path));
        let request = if key.is_empty() {
            request
        } else {
            request.header("Authorization", key.to_owned())
        };
        async move { request.send().await.unwrap() }
    };
    let list: Json = get("/api/v1/async/tournaments?active=true".into(), &reader)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list[0]["name"], "Web Qualifier");
    assert_eq!(list[0]["owner_id"], OPERATOR.to_string());
    assert_eq!(
        get("/api/v1/async/tournaments".into(), &other)
            .await
            .status(),
        403
    );
    assert_eq!(
        get("/api/v1/async/tournaments".into(), "").await.status(),
        401
    );
    let races: Json = get(
        format!("/async/api/tournaments/{}/races?page_size=1", t.id),
        &reader,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(races.as_array().unwrap().len(), 1);
    assert_eq!(races[0]["id"], alice.id);
    let bad_page = get(
        format!("/api/v1/async/tournaments/{}/races?page=0", t.id),
        &reader,
    )
    .await;
    assert_eq!(bad_page.status(), 400);
    let unknown: Json = get("/async/api/tournaments/999999".into(), &reader)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(unknown, json!({"error": "Tournament not found."}));
    assert_eq!(
        get("/api/v1/async/tournaments/999999".into(), &reader)
            .await
            .status(),
        404
    );
    let permalinks: Json = get(
        format!("/api/v1/async/tournaments/{}/permalinks", t.id),
        &reader,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(permalinks.as_array().unwrap().len(), 2);
    c.recalculate_scores(pb::RecalculateScoresRequest {
        tournament: Some(pb::TournamentRef {
            tournament_id: t.id,
            caller: operator(),
            ..Default::default()
        }),
        only_approved: false,
    })
    .await
    .unwrap();
    let board: Json = get(
        format!("/api/v1/async/tournaments/{}/leaderboard", t.id),
        &reader,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(board.as_array().unwrap().len(), 2);
    assert!(board[0]["races"][0]["elapsed_time"].is_string());
    assert_eq!(
        board[0]["counts"],
        json!({"finished": 1, "forfeited": 0, "unplayed": 0})
    );

    // The public sees no leaderboard while the tournament runs.
    let hidden = http
        .get(url(&format!("/async/leaderboard/{}", t.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(hidden.status(), 403);
    let hidden_json = http
        .get(url(&format!("/async/races/{}/leaderboard.json", t.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(hidden_json.status(), 403);

    let driver = browser::driver().await;
    // Bob: his dashboard with a reattempt link, no review queue.
    let page = logged_in(&w, &driver, BOB, "Bob").await;
    page.goto(&url(&format!("/async/races/{}", t.id)))
        .await
        .unwrap();
    browser::fits_a_phone_and_is_labelled(&page, "dashboard").await;
    assert!(
        browser::text(&page, "#intro")
            .await
            .starts_with("Reattempts left: 1 of 1.")
    );
    browser::click(&page, &format!("reattempt-{}", bob.id)).await;
    browser::wait_path(&page, &format!("/async/races/{}/reattempt", t.id)).await;
    browser::fits_a_phone_and_is_labelled(&page, "reattempt").await;
    page.find(fantoccini::Locator::Id("reason"))
        .await
        .unwrap()
        .send_keys("my controller died")
        .await
        .unwrap();
    browser::submit_and_reload(&page, "#submit").await;
    browser::wait_path(&page, &format!("/async/races/{}", t.id)).await;
    assert!(
        browser::text(&page, "#flash")
            .await
            .starts_with("Your run is marked as a reattempt")
    );
    assert!(
        browser::text(&page, "#intro")
            .await
            .starts_with("Reattempts left: 0 of 1.")
    );
    page.goto(&url(&format!("/async/races/{}/queue", t.id)))
        .await
        .unwrap();
    assert!(
        browser::text(&page, "main")
            .await
            .contains("Only this tournament's admins and mods")
    );
    page.close().await.unwrap();

    // Rita (mod): the queue, the review page claims the run, the review is saved.
    let page = logged_in(&w, &driver, RITA, "Rita").await;
    page.goto(&url(&format!("/async/races/{}/queue", t.id)))
        .await
        .unwrap();
    browser::fits_a_phone_and_is_labelled(&page, "queue").await;
    let queue = browser::text(&page, "#queue").await;
    assert!(queue.contains("Alice") && !queue.contains("Bob"), "{queue}");
    browser::click(&page, &format!("review-{}", alice.id)).await;
    browser::wait_path(&page, &format!("/async/races/{}/review/{}", t.id, alice.id)).await;
    browser::fits_a_phone_and_is_labelled(&page, "review").await;
    assert_eq!(
        browser::text(&page, "#review-status").await,
        "pending by Rita"
    );
    page.find(fantoccini::Locator::Id("review_status"))
        .await
        .unwrap()
        .select_by_value("approved")
        .await
        .unwrap();
    browser::submit_and_reload(&page, "#submit").await;
    browser::wait_path(&page, &format!("/async/races/{}/queue", t.id)).await;
    assert_eq!(
        browser::text(&page, "#flash").await,
        format!("Run {} reviewed.", alice.id)
    );
    page.goto(&url(&format!("/async/leaderboard/{}", t.id)))
        .await
        .unwrap();
    browser::fits_a_phone_and_is_labelled(&page, "leaderboard").await;
    assert!(browser::text(&page, "#leaderboard").await.contains("Alice"));
    page.close().await.unwrap();

    // A forged review (no CSRF token) is refused.
    let forged = http
        .post(url(&format!("/async/races/{}/review/{}", t.id, alice.id)))
        .form(&[("review_status", "rejected")])
        .send()
        .await
        .unwrap();
    assert_ne!(forged.status(), 200);

    // Closed: the leaderboard is public.
    c.close_tournament(pb::TournamentRef {
        tournament_id: t.id,
        caller: operator(),
        ..Default::default()
    })
    .await
    .unwrap();
    let page = browser::browser(&driver).await;
    page.goto(&url(&format!("/async/leaderboard/{}", t.id)))
        .await
        .unwrap();
    let table = browser::text(&page, "#leaderboard").await;
    assert!(table.contains("Alice"), "{table}");
    assert!(browser::text(&page, "main").await.contains("2 players."));
    page.goto(&url(&format!("/async/pools/{}", t.id)))
        .await
        .unwrap();
    assert!(browser::text(&page, "main").await.contains("par 3600 s"));
    page.close().await.unwrap();
    let public: Json = http
        .get(url(&format!("/async/races/{}/leaderboard.json", t.id)))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(public[0]["player"]["display_name"], "Alice");
    let review = c
        .get_run(pb::RunRef {
            run_id: alice.id,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(review.review_status, "approved");
}

/// Live qualifier races (spec §3.10): the seed rolled once and posted in the room, only
/// eligible entrants recorded (A over the pool's limit, B with an open run, C eligible, and a
/// racer with no account yet), their runs started with the race and finished from its results.
#[tokio::test(flavor = "multi_thread")]
async fn a_live_qualifier_race_joins_its_results_to_the_pool() {
    let w = world().await;
    let handle = w.tournament().await;
    let mut c = client(&handle).await;
    let t = c
        .create_tournament(pb::CreateTournamentRequest {
            caller: operator(),
            name: "Live Qualifier".into(),
            guild_id: 1,
            channel_id: CHANNEL,
            pools: vec![
                pb::PoolSpec {
                    name: "L".into(),
                    preset: "open".into(),
                    count: 1,
                },
                pb::PoolSpec {
                    name: "Q".into(),
                    preset: "open".into(),
                    count: 1,
                },
            ],
            allowed_reattempts: 0,
            runs_per_pool: 1,
            customization: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    // Carol already played pool L; Bob has a run open in pool Q.
    run_through_grpc(&mut c, CAROL, "L", 700_001, 3600).await;
    c.start_run(pb::StartRunRequest {
        tournament: Some(pb::TournamentRef {
            channel_id: CHANNEL,
            caller: discord_caller(BOB),
            ..Default::default()
        }),
        pool_name: "Q".into(),
    })
    .await
    .unwrap();
    let newcomer = w.racetime_fake.add_user("Newcomer", &[]);

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
    let room = rooms
        .open_room(proto::racetime::v1::OpenRoomRequest {
            idempotency_key: "live-qualifier-1".into(),
            category: "alttpr".into(),
            settings: Some(proto::racetime::v1::RoomSettings {
                goal: "Beat the game".into(),
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner()
        .name;
    for user in [&w.rt["Carol"], &w.rt["Bob"], &w.rt["Alice"], &newcomer] {
        w.racetime_fake.join(&room, user);
    }
    // Only admins and mods make live races.
    let refused = c
        .create_live_race(pb::CreateLiveRaceRequest {
            tournament: Some(pb::TournamentRef {
                tournament_id: t.id,
                caller: discord_caller(ALICE),
                ..Default::default()
            }),
            pool_name: "L".into(),
            racetime_slug: room.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);
    let live = c
        .create_live_race(pb::CreateLiveRaceRequest {
            tournament: Some(pb::TournamentRef {
                tournament_id: t.id,
                caller: operator(),
                ..Default::default()
            }),
            pool_name: "L".into(),
            racetime_slug: room.clone(),
            episode_id: 0,
            match_title: "Live 1".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(live.status, "scheduled");
    let roll = |c: &mut AsyncTournamentsClient<Channel>| {
        let request = pb::RollLiveRaceRequest {
            racetime_slug: room.clone(),
            caller: operator(),
        };
        let mut c = c.clone();
        async move { c.roll_live_race(request).await.unwrap().into_inner() }
    };
    let rolled = roll(&mut c).await;
    assert_eq!(rolled.eligible, ["Alice", "Newcomer"]);
    let seed = rolled.permalink.clone().unwrap();
    assert!(seed.live_race);
    // Rolling again keeps the seed and records nobody twice.
    let again = roll(&mut c).await;
    assert_eq!(again.permalink.unwrap().id, seed.id);
    assert_eq!(again.eligible, ["Alice", "Newcomer"]);
    for _ in 0..100 {
        if w.racetime_fake
            .bot_messages(&room)
            .iter()
            .any(|m| m.contains("Qualifier seed (L)"))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        w.racetime_fake
            .bot_messages(&room)
            .iter()
            .filter(|m| m.contains("Qualifier seed (L)"))
            .count(),
        1
    );
    // A live seed is never handed out for a thread run: pool L's async seed is Carol's.
    let live_runs = |c: &mut AsyncTournamentsClient<Channel>| {
        let mut c = c.clone();
        let request = pb::ListRunsRequest {
            tournament: Some(pb::TournamentRef {
                tournament_id: t.id,
                caller: operator(),
                ..Default::default()
            }),
            live: "true".into(),
            ..Default::default()
        };
        async move { c.list_runs(request).await.unwrap().into_inner().runs }
    };
    assert_eq!(live_runs(&mut c).await.len(), 2);

    // The race starts: the recorded runs start with it.
    for user in [&w.rt["Carol"], &w.rt["Bob"], &w.rt["Alice"], &newcomer] {
        w.racetime_fake.ready(&room, user);
    }
    w.racetime_fake.begin(&room);
    let mut started = Vec::new();
    for _ in 0..200 {
        started = live_runs(&mut c).await;
        if started.iter().all(|r| r.status == "in_progress") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        started.iter().all(|r| r.status == "in_progress"),
        "{started:#?}"
    );
    // It ends: Alice finishes, the newcomer forfeits; the others' results are not ours.
    w.racetime_fake.finish(&room, &w.rt["Alice"]);
    w.racetime_fake.forfeit(&room, &newcomer);
    w.racetime_fake.finish(&room, &w.rt["Carol"]);
    w.racetime_fake.finish(&room, &w.rt["Bob"]);
    let mut ended = Vec::new();
    for _ in 0..300 {
        ended = live_runs(&mut c).await;
        if ended.iter().all(|r| r.status != "in_progress") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let by = |name: &str| {
        ended
            .iter()
            .find(|r| r.player.as_ref().unwrap().display_name == name)
            .unwrap()
            .clone()
    };
    let alice = by("Alice");
    assert_eq!(alice.status, "finished");
    let race = w.racetime_fake.race(&room);
    let finish = race["entrants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["user"]["id"] == w.rt["Alice"].as_str())
        .unwrap()["finish_time"]
        .as_str()
        .unwrap()
        .to_owned();
    let elapsed = alice.end_time.unwrap().seconds - alice.start_time.unwrap().seconds;
    assert!(
        finish.starts_with(&format!("P0DT{:02}H", elapsed / 3600)),
        "{finish} vs {elapsed} s"
    );
    assert_eq!(by("Newcomer").status, "forfeit");
    let lives = c
        .list_live_races(pb::TournamentRef {
            tournament_id: t.id,
            caller: operator(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .live_races;
    assert_eq!(lives[0].status, "finished");
    // A live seed's page is public even while the tournament runs.
    let public = c
        .list_runs(pb::ListRunsRequest {
            tournament: Some(pb::TournamentRef {
                tournament_id: t.id,
                ..Default::default()
            }),
            permalink_id: seed.id,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(public.runs.len(), 2);
}
