//! Mystery settings without a seed (spec §3.1 S1–S3): the real api and seedgen services, the
//! repository's presets.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use serde_json::{Value as Json, json};
use testkit::{ServiceHandle, TestDb, TestNats};

struct World {
    http: String,
    _api: common::Api,
    _seedgen: ServiceHandle,
    _seedgen_db: TestDb,
    _nats: TestNats,
}

async fn world() -> World {
    let nats = TestNats::shared();
    let (seedgen, seedgen_db) = common::seedgen(&nats).await;
    let api = common::start(&nats, &[("seedgen", seedgen.grpc_url())]).await;
    World {
        http: api.http.clone(),
        _api: api,
        _seedgen: seedgen,
        _seedgen_db: seedgen_db,
        _nats: nats,
    }
}

impl World {
    async fn get(&self, path: &str) -> (u16, Json) {
        let response = reqwest::get(format!("{}{path}", self.http)).await.unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }

    async fn post(&self, path: &str, body: String) -> (u16, Json) {
        let response = reqwest::Client::new()
            .post(format!("{}{path}", self.http))
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }
}

/// Every key a weightset must have, fixed (so the roll is known).
fn weights() -> Json {
    json!({
        "glitches_required": "none", "item_placement": "advanced", "dungeon_items": "standard",
        "accessibility": "items", "goals": "ganon", "ganon_open": "7", "tower_open": "7",
        "world_state": "open", "hints": "off", "weapons": "randomized", "item_pool": "normal",
        "item_functionality": "normal", "boss_shuffle": "none", "enemy_shuffle": "none",
        "enemy_damage": "default", "enemy_health": "default", "entrance_shuffle": "none"
    })
}

#[tokio::test]
async fn posted_weights_are_rolled() {
    let w = world().await;
    for path in ["/api/v1/mystery/settings", "/api/settingsgen/mystery"] {
        let (status, answer) = w.post(path, weights().to_string()).await;
        assert_eq!(status, 200, "{path}: {answer}");
        assert_eq!(answer["settings"]["goal"], "ganon");
        assert_eq!(answer["settings"]["mode"], "open");
        assert_eq!(answer["endpoint"], "/api/randomizer");
        assert_eq!(answer["doors"], false);
    }
}

#[tokio::test]
async fn a_named_weightset_is_rolled_by_query_or_path() {
    let w = world().await;
    for path in [
        "/api/v1/mystery/settings?weightset=weighted",
        "/api/v1/mystery/settings/weighted",
        "/api/settingsgen/mystery?weightset=weighted",
        "/api/settingsgen/mystery/weighted",
    ] {
        let (status, answer) = w.get(path).await;
        assert_eq!(status, 200, "{path}: {answer}");
        assert!(answer["settings"].is_object(), "{path}: {answer}");
        assert!(answer["rng_seed"].is_u64(), "{path}: {answer}");
    }
}

#[tokio::test]
async fn bad_weights_and_unknown_weightsets_are_client_errors() {
    let w = world().await;
    let (status, answer) = w.post("/api/v1/mystery/settings", "[1, 2]".into()).await;
    assert_eq!(status, 400, "{answer}");
    let (status, answer) = w.post("/api/v1/mystery/settings", "{not json".into()).await;
    assert_eq!(status, 400, "{answer}");
    let mut missing = weights();
    missing.as_object_mut().unwrap().remove("goals");
    let (status, answer) = w
        .post("/api/v1/mystery/settings", missing.to_string())
        .await;
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("goals"),
        "the message names the missing key: {answer}"
    );
    let (status, answer) = w.get("/api/v1/mystery/settings/nosuchweightset").await;
    assert_eq!(status, 404, "{answer}");
    let (status, _) = w.get("/api/v1/mystery/settings").await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn oversized_bodies_are_refused_and_every_answer_has_a_request_id() {
    let w = world().await;
    let big = format!("{{\"pad\": \"{}\"}}", "x".repeat(api::http::MAX_BODY_BYTES));
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/mystery/settings", w.http))
        .header("Content-Type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 413);
    let id = response
        .headers()
        .get("x-request-id")
        .expect("a request id");
    assert!(!id.is_empty());

    let response = reqwest::Client::new()
        .get(format!("{}/api/v1/mystery/settings/weighted", w.http))
        .header("x-request-id", "support-ticket-42")
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers().get("x-request-id").unwrap(),
        "support-ticket-42",
        "the caller's id is kept"
    );
}
