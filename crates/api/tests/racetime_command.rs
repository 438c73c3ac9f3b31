//! `POST /api/v1/racetime/command` (and upstream's `/api/racetime/cmd`): the real api and
//! racetime services, the fake racetime.gg, one handled room; one test per row of the key ×
//! outcome matrix.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use platform::Service;
use racetime::RacetimeService;
use serde_json::{Value as Json, json};
use testkit::{FakeRacetime, ServiceHandle, TestDb, TestNats};

const WAIT: Duration = Duration::from_secs(15);

struct World {
    http: String,
    fake: FakeRacetime,
    db: sea_orm::DatabaseConnection,
    room: String,
    _api: common::Api,
    _racetime: ServiceHandle,
    _racetime_db: TestDb,
    _nats: TestNats,
}

async fn world() -> World {
    testkit::init();
    let nats = TestNats::shared();
    let fake = FakeRacetime::start().await.unwrap();
    let racetime_db = TestDb::new().await.unwrap();
    let mut settings = RacetimeService::default_settings();
    testkit::configure(&mut settings.common, &racetime_db, &nats);
    settings.service.racetime_url = fake.url.clone();
    settings.service.poll_interval_secs = 1;
    settings.service.categories.insert(
        "alttpr".into(),
        serde_json::from_value(json!({"client_id": "alttpr-id", "client_secret": "alttpr-secret"}))
            .unwrap(),
    );
    let mut racetime =
        ServiceHandle::spawn::<RacetimeService>(settings, testkit::bind_ephemeral().await.unwrap())
            .unwrap();
    racetime.wait_ready(WAIT).await.unwrap();

    let api = common::start(&nats, &[("racetime", racetime.grpc_url())]).await;

    let alice = fake.add_user("Alice", &["alttpr"]);
    let room = fake.open_room("alttpr", &alice, "Beat the game", false);
    let deadline = tokio::time::Instant::now() + WAIT;
    while fake.socket_count(&room) == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the bot never joined {room}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    World {
        http: api.http.clone(),
        fake,
        db: api.db.clone(),
        room,
        _api: api,
        _racetime: racetime,
        _racetime_db: racetime_db,
        _nats: nats,
    }
}

impl World {
    async fn key(&self, scopes: &[&str]) -> String {
        let scopes: Vec<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
        api::keys::create(&self.db, "tracker", None, &scopes, None)
            .await
            .unwrap()
            .1
    }

    /// Posts `body` to `path` with `authorization`; the status and the JSON answer.
    async fn post(&self, path: &str, authorization: Option<String>, body: Json) -> (u16, Json) {
        let mut request = reqwest::Client::new()
            .post(format!("{}{path}", self.http))
            .json(&body);
        if let Some(value) = authorization {
            request = request.header("Authorization", value);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    fn body(&self, cmd: &str) -> Json {
        let slug = self.room.split_once('/').unwrap().1;
        json!({"category": "alttpr", "room": slug, "cmd": cmd})
    }
}

#[tokio::test]
async fn a_scoped_key_runs_the_command_in_the_room() {
    let w = world().await;
    let key = w.key(&["racetime:cmd:alttpr"]).await;
    let (status, answer) = w
        .post(
            "/api/v1/racetime/command",
            Some(format!("Bearer {key}")),
            w.body("!help"),
        )
        .await;
    assert_eq!((status, answer), (200, json!({"success": true})));
    let lines = w
        .fake
        .wait_for_bot(&w.room, WAIT, |l| {
            l.iter().any(|m| m.starts_with("Available commands:"))
        })
        .await;
    assert!(
        lines
            .iter()
            .any(|m| m == "Executing command from API request: !help"),
        "{lines:#?}"
    );
}

#[tokio::test]
async fn upstreams_path_and_raw_key_header_still_work() {
    let w = world().await;
    let key = w.key(&["racetime:cmd:alttpr"]).await;
    let (status, _) = w
        .post("/api/racetime/cmd", Some(key), w.body("!help"))
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn no_key_wrong_key_and_a_key_in_the_url_are_401() {
    let w = world().await;
    let (status, answer) = w
        .post("/api/v1/racetime/command", None, w.body("!help"))
        .await;
    assert_eq!(status, 401);
    assert_eq!(answer["error"]["code"], "unauthenticated");
    let (status, _) = w
        .post(
            "/api/v1/racetime/command",
            Some("Bearer sb_wrong".into()),
            w.body("!help"),
        )
        .await;
    assert_eq!(status, 401);
    let key = w.key(&["racetime:cmd:alttpr"]).await;
    let (status, answer) = w
        .post(
            &format!("/api/racetime/cmd?auth_key={key}"),
            None,
            w.body("!help"),
        )
        .await;
    assert_eq!(status, 401);
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not accepted"),
        "{answer}"
    );
}

#[tokio::test]
async fn a_key_without_the_categorys_scope_is_403() {
    let w = world().await;
    for scopes in [&["presets:write"][..], &["racetime:cmd:smz3"][..]] {
        let key = w.key(scopes).await;
        let (status, answer) = w
            .post(
                "/api/v1/racetime/command",
                Some(format!("Bearer {key}")),
                w.body("!help"),
            )
            .await;
        assert_eq!(status, 403, "{scopes:?}");
        assert_eq!(answer["error"]["code"], "forbidden");
    }
}

#[tokio::test]
async fn a_room_the_bot_does_not_handle_is_404_and_a_non_command_400() {
    let w = world().await;
    let key = w.key(&["racetime:cmd:alttpr"]).await;
    let (status, _) = w
        .post(
            "/api/v1/racetime/command",
            Some(format!("Bearer {key}")),
            json!({"category": "alttpr", "room": "no-such-room-0000", "cmd": "!help"}),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = w
        .post(
            "/api/v1/racetime/command",
            Some(format!("Bearer {key}")),
            w.body("hello"),
        )
        .await;
    assert_eq!(status, 400);
}
