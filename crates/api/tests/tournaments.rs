//! Tournaments over REST, end to end: the real api, tournament and racetime services with the
//! fake racetime.gg. The authorization matrix of the organizer routes (anonymous, a key without
//! the scope, an operator key, a `tournaments:write` key of a non-organizer and of an
//! organizer), internal matches, opening a room now and its status, and results as JSON and CSV.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use platform::Service;
use racetime::RacetimeService;
use serde_json::{Value as Json, json};
use testkit::{FakeRacetime, ServiceHandle, TestDb, TestNats};
use tournament::TournamentService;

const WAIT: Duration = Duration::from_secs(30);

struct World {
    api: common::Api,
    fake: FakeRacetime,
    _racetime: ServiceHandle,
    _tournament: ServiceHandle,
    _dbs: Vec<TestDb>,
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
    settings.service.open_confirm_window_secs = 0;
    settings.service.categories.insert(
        "alttpr".into(),
        serde_json::from_value(json!({"client_id": "alttpr-id", "client_secret": "alttpr-secret"}))
            .unwrap(),
    );
    let mut racetime =
        ServiceHandle::spawn::<RacetimeService>(settings, testkit::bind_ephemeral().await.unwrap())
            .unwrap();
    racetime.wait_ready(WAIT).await.unwrap();

    // api first (tournament asks it about players), then tournament, then api learns where
    // tournament is: api is started with the tournament peer's address reserved.
    let tournament_listeners = testkit::bind_ephemeral().await.unwrap();
    let tournament_url = format!("http://{}", tournament_listeners.local_addrs().unwrap().0);
    let api = common::start(
        &nats,
        &[
            ("tournament", tournament_url),
            ("racetime", racetime.grpc_url()),
        ],
    )
    .await;
    let tournament_db = TestDb::new().await.unwrap();
    let mut settings = TournamentService::default_settings();
    testkit::configure(&mut settings.common, &tournament_db, &nats);
    settings.common.peers.get_mut("racetime").unwrap().url = racetime.grpc_url();
    settings.common.peers.get_mut("api").unwrap().url = api.handle.grpc_url();
    settings.service.opener_poll_secs = 1;
    let mut tournament =
        ServiceHandle::spawn::<TournamentService>(settings, tournament_listeners).unwrap();
    tournament.wait_ready(WAIT).await.unwrap();
    World {
        api,
        fake,
        _racetime: racetime,
        _tournament: tournament,
        _dbs: vec![racetime_db, tournament_db],
        _nats: nats,
    }
}

async fn user_key(w: &World, discord: u64, scopes: &[&str]) -> (i64, String) {
    let user = api::identity::create(
        &w.api.db,
        api::identity::NewUser {
            discord_user_id: Some(discord),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let scopes: Vec<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
    let (_, key) = api::keys::create(&w.api.db, "k", Some(user.id), &scopes, None)
        .await
        .unwrap();
    (user.id, key)
}

fn config() -> Json {
    json!({
        "name": "League", "active": true, "schedule_source": "internal",
        "racetime_category": "alttpr", "racetime_goal": "Beat the game",
        "room_profile": {"start_delay_seconds": 30}, "seed_roller": {"kind": "none"},
        "room_open_minutes_before": 30, "time_zone": "Europe/Paris"
    })
}

#[tokio::test]
async fn organizers_manage_their_tournament_and_others_are_refused() {
    let w = world().await;
    let client = reqwest::Client::new();
    let url = |p: &str| format!("{}{p}", w.api.http);
    let (_, admin) = api::keys::create(&w.api.db, "ops", None, &["admin".into()], None)
        .await
        .unwrap();
    let (_, wrong_scope) = api::keys::create(&w.api.db, "x", None, &["presets:write".into()], None)
        .await
        .unwrap();
    let (_, stranger) = user_key(&w, 10, &["tournaments:write"]).await;
    let (organizer_id, organizer) = user_key(&w, 11, &["tournaments:write"]).await;
    let put = |key: Option<&str>, body: Json| {
        let mut request = client.put(url("/api/v1/tournaments/league")).json(&body);
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        request.send()
    };
    // (who, expected status) for creating the tournament.
    assert_eq!(
        put(None, config()).await.unwrap().status(),
        401,
        "anonymous"
    );
    assert_eq!(
        put(Some(&wrong_scope), config()).await.unwrap().status(),
        403,
        "key without the scope"
    );
    assert_eq!(
        put(Some(&stranger), config()).await.unwrap().status(),
        403,
        "a user may not create"
    );
    let created = put(Some(&admin), config()).await.unwrap();
    assert_eq!(created.status(), 200, "operator key");
    let created: Json = created.json().await.unwrap();
    assert_eq!(created["room_profile"]["start_delay_seconds"], 30);
    assert_eq!(
        created["room_profile"]["invitational"], true,
        "defaults filled in"
    );
    // Bad settings: 400 naming the field.
    let mut bad = config();
    bad["time_zone"] = json!("Mars/Olympus");
    let refused = put(Some(&admin), bad).await.unwrap();
    assert_eq!(refused.status(), 400);
    let body: Json = refused.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("time_zone"),
        "{body}"
    );
    // Granting the organizer role.
    let grant = client
        .post(url("/api/v1/tournaments/league/roles"))
        .bearer_auth(&admin)
        .json(&json!({"role": "organizer", "user_id": organizer_id}))
        .send()
        .await
        .unwrap();
    assert_eq!(grant.status(), 204);
    let mut changed = config();
    changed["name"] = json!("League Season 2");
    assert_eq!(
        put(Some(&stranger), changed.clone())
            .await
            .unwrap()
            .status(),
        403,
        "not an organizer"
    );
    assert_eq!(
        put(Some(&organizer), changed).await.unwrap().status(),
        200,
        "organizer"
    );
    let listed: Json = client
        .get(url("/api/v1/tournaments"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed[0]["name"], "League Season 2");

    // An internal match far ahead, then "open now".
    let player = w.fake.add_user("Racer", &[]);
    let _ = player;
    let new_match = json!({"title": "Week 1", "scheduled_at": (chrono::Utc::now() + chrono::Duration::hours(6)).to_rfc3339(),
                           "players": [{"display_name": "Racer", "discord_user_id": "12"}]});
    let by_stranger = client
        .post(url("/api/v1/tournaments/league/matches"))
        .bearer_auth(&stranger)
        .json(&new_match)
        .send()
        .await
        .unwrap();
    assert_eq!(by_stranger.status(), 403);
    let made = client
        .post(url("/api/v1/tournaments/league/matches"))
        .bearer_auth(&organizer)
        .json(&new_match)
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), 201);
    let made: Json = made.json().await.unwrap();
    let id = made["id"].as_u64().unwrap();
    let status = client
        .get(url(&format!("/api/v1/matches/{id}/racetime-room")))
        .send()
        .await
        .unwrap();
    assert_eq!(status.status(), 404, "no room yet");
    let open = |key: &str| {
        client
            .post(url(&format!("/api/v1/matches/{id}/racetime-room")))
            .bearer_auth(key.to_owned())
            .send()
    };
    assert_eq!(open(&stranger).await.unwrap().status(), 403);
    let opened = open(&organizer).await.unwrap();
    assert_eq!(opened.status(), 200);
    let opened: Json = opened.json().await.unwrap();
    assert_eq!(opened["state"], "open");
    assert!(
        opened["room_url"].as_str().unwrap().contains("/alttpr/"),
        "{opened}"
    );
    let again: Json = open(&organizer).await.unwrap().json().await.unwrap();
    assert_eq!(again["room_url"], opened["room_url"], "the same room");
    assert_eq!(w.fake.race_names("alttpr").len(), 1);
    let room = opened["room_slug"].as_str().unwrap().to_owned();
    let status: Json = client
        .get(url(&format!("/api/v1/matches/{id}/racetime-room")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["room_slug"], room);
    assert_eq!(
        status["invited_count"], 0,
        "the player has no linked account"
    );

    // The race runs and finishes: results as JSON and CSV.
    let a = w.fake.add_user("Alpha", &[]);
    let b = w.fake.add_user("Beta", &[]);
    w.fake.join(&room, &a);
    w.fake.join(&room, &b);
    w.fake.ready(&room, &a);
    w.fake.ready(&room, &b);
    w.fake.begin(&room);
    for _ in 0..100 {
        if w.fake.race(&room)["status"]["value"] == "in_progress" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    w.fake.finish(&room, &b);
    w.fake.finish(&room, &a);
    let mut results = Json::Null;
    for _ in 0..200 {
        results = client
            .get(url("/api/v1/tournaments/league/results"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if results.as_array().is_some_and(|r| !r.is_empty()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let standings = &results[0]["room"]["standings"];
    assert_eq!(standings[0]["name"], "Beta", "{results}");
    assert_eq!(standings[0]["place"], 1);
    assert_eq!(standings[1]["name"], "Alpha");
    let csv = client
        .get(url("/api/v1/tournaments/league/results?format=csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let text = csv.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("match_id,external_id,title,scheduled_at,room_url,state,place,name"),
        "{text}"
    );
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[1].contains(",finished,1,Beta,"), "{text}");
}
