//! Signed outbound webhooks end to end: events published on JetStream as the other services
//! publish them, the real api service, and a local receiver that checks every signature and
//! dedupes by delivery id. A receiver that fails is retried; a crash of api mid-delivery
//! loses nothing and, after dedupe, duplicates nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use hmac::{Hmac, Mac};
use prost::Message;
use serde_json::Value as Json;
use testkit::TestNats;

/// What the receiver saw.
#[derive(Default)]
struct Seen {
    /// Every request: (delivery id, event type, body).
    requests: Vec<(String, String, Json)>,
    /// Requests still to fail with 500.
    fail_next: u32,
    /// Requests still to hold for this long before answering.
    hold_next: Option<Duration>,
    bad_signatures: u32,
}

#[derive(Clone)]
struct Receiver {
    url: String,
    secret: Arc<Mutex<String>>,
    seen: Arc<Mutex<Seen>>,
}

impl Receiver {
    async fn start() -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let receiver = Receiver {
            url: format!("http://{}/hook", listener.local_addr().unwrap()),
            secret: Arc::default(),
            seen: Arc::default(),
        };
        let app = axum::Router::new()
            .route("/hook", post(receive))
            .with_state(receiver.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        receiver
    }

    fn seen(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen.lock().unwrap()
    }

    /// Distinct delivery ids received, with how many times each came.
    fn distinct(&self) -> HashMap<String, usize> {
        let mut counts = HashMap::new();
        for (id, _, _) in &self.seen().requests {
            *counts.entry(id.clone()).or_default() += 1;
        }
        counts
    }
}

/// Checks `t=<unix>,v1=<hex>` against HMAC-SHA256(secret, "<t>.<body>") and the clock.
fn valid_signature(secret: &str, header: &str, body: &[u8]) -> bool {
    let Some((t, v1)) = header
        .split_once(',')
        .and_then(|(t, v)| Some((t.strip_prefix("t=")?, v.strip_prefix("v1=")?)))
    else {
        return false;
    };
    let Ok(timestamp) = t.parse::<i64>() else {
        return false;
    };
    if (chrono::Utc::now().timestamp() - timestamp).abs() > 300 {
        return false;
    }
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    let Ok(expected) = hex::decode(v1) else {
        return false;
    };
    mac.verify_slice(&expected).is_ok()
}

async fn receive(
    State(r): State<Receiver>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> StatusCode {
    let secret = r.secret.lock().unwrap().clone();
    let signature = headers["x-sahasrahbot-signature"]
        .to_str()
        .unwrap()
        .to_owned();
    let id = headers["x-sahasrahbot-delivery"]
        .to_str()
        .unwrap()
        .to_owned();
    let event = headers["x-sahasrahbot-event"].to_str().unwrap().to_owned();
    let json: Json = serde_json::from_slice(&body).unwrap();
    let (fail, hold) = {
        let mut seen = r.seen();
        if !valid_signature(&secret, &signature, &body) {
            seen.bad_signatures += 1;
            return StatusCode::UNAUTHORIZED;
        }
        seen.requests.push((id, event, json));
        let fail = seen.fail_next > 0;
        if fail {
            seen.fail_next -= 1;
        }
        (fail, seen.hold_next.take())
    };
    if let Some(hold) = hold {
        tokio::time::sleep(hold).await;
    }
    if fail {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::NO_CONTENT
    }
}

struct World {
    api: common::Api,
    nats: TestNats,
    receiver: Receiver,
    admin_key: String,
    webhook_id: i64,
}

async fn world(event_types: &[&str]) -> World {
    let nats = TestNats::shared();
    let api = common::start_with(&nats, &[], |s| {
        s.webhooks.timeout_secs = 1;
        s.webhooks.retry_base_secs = 1;
    })
    .await;
    let receiver = Receiver::start().await;
    let (_, admin_key) = api::keys::create(&api.db, "ops", None, &["webhooks:admin".into()], None)
        .await
        .unwrap();
    let created = reqwest::Client::new()
        .post(format!("{}/api/v1/webhooks", api.http))
        .bearer_auth(&admin_key)
        .json(&serde_json::json!({"url": receiver.url, "event_types": event_types, "description": "test"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let created: Json = created.json().await.unwrap();
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    *receiver.secret.lock().unwrap() = secret;
    World {
        webhook_id: created["webhook"]["id"].as_i64().unwrap(),
        api,
        nats,
        receiver,
        admin_key,
    }
}

impl World {
    /// Publishes a `racetime.room.opened` event as racetime's outbox relay does.
    async fn room_opened(&self, n: u32) -> String {
        let payload = proto::events::v1::RaceRoomOpened {
            category: "alttpr".into(),
            room_slug: format!("room-{n}"),
            idempotency_key: format!("key-{n}"),
            room: format!("alttpr/room-{n}"),
            room_url: format!("https://racetime.gg/alttpr/room-{n}"),
        };
        self.publish("racetime.room.opened", &payload).await
    }

    async fn publish<M: prost::Name>(&self, subject: &str, payload: &M) -> String {
        let id = uuid::Uuid::now_v7().to_string();
        let envelope = proto::events::v1::Envelope {
            id: id.clone(),
            occurred_at: Some(prost_types::Timestamp {
                seconds: chrono::Utc::now().timestamp(),
                nanos: 0,
            }),
            source: subject.split('.').next().unwrap().to_owned(),
            subject: subject.to_owned(),
            trace: None,
            payload: Some(prost_types::Any {
                type_url: M::type_url(),
                value: payload.encode_to_vec(),
            }),
        };
        let js = self.nats.jetstream().await.unwrap();
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Nats-Msg-Id", id.as_str());
        // The stream exists once api has started its consumers.
        js.publish_with_headers(
            format!("{}.{subject}", self.nats.subject_prefix),
            headers,
            envelope.encode_to_vec().into(),
        )
        .await
        .unwrap()
        .await
        .unwrap();
        id
    }

    async fn log(&self) -> Vec<Json> {
        reqwest::Client::new()
            .get(format!(
                "{}/api/v1/webhooks/{}/deliveries",
                self.api.http, self.webhook_id
            ))
            .bearer_auth(&self.admin_key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn wait_for(&self, what: &str, done: impl Fn(&Receiver) -> bool) {
        for _ in 0..300 {
            if done(&self.receiver) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("timed out waiting for {what}");
    }
}

#[tokio::test]
async fn a_subscribed_event_is_delivered_signed_once_and_others_are_not() {
    let w = world(&["room.opened"]).await;
    w.room_opened(1).await;
    // Not subscribed: no delivery.
    let finished = proto::events::v1::RaceFinished {
        category: "alttpr".into(),
        room: "alttpr/room-1".into(),
        ..Default::default()
    };
    w.publish("racetime.race.finished", &finished).await;
    w.wait_for("the delivery", |r| !r.seen().requests.is_empty())
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let seen = w.receiver.seen().requests.clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    let (id, event, body) = &seen[0];
    assert_eq!(event, "room.opened");
    assert_eq!(body["id"], *id);
    assert_eq!(body["type"], "room.opened");
    assert_eq!(
        body["data"]["room_url"],
        "https://racetime.gg/alttpr/room-1"
    );
    assert_eq!(w.receiver.seen().bad_signatures, 0);
    // The log says delivered, first time.
    let mut log = w.log().await;
    for _ in 0..30 {
        if log[0]["state"] == "delivered" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        log = w.log().await;
    }
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["state"], "delivered");
    assert_eq!(log[0]["attempts"], 1);
    assert_eq!(log[0]["last_status"], 204);
    assert_eq!(log[0]["delivery_id"], *id);
}

#[tokio::test]
async fn a_failing_receiver_is_retried_with_the_same_delivery_id() {
    let w = world(&["room.opened"]).await;
    w.receiver.seen().fail_next = 2;
    w.room_opened(1).await;
    w.wait_for("three attempts", |r| r.seen().requests.len() >= 3)
        .await;
    let seen = w.receiver.seen().requests.clone();
    assert!(
        seen.iter().all(|(id, _, _)| *id == seen[0].0),
        "one delivery id"
    );
    assert!(
        seen.iter().all(|(_, _, body)| *body == seen[0].2),
        "the same body"
    );
    let mut log = w.log().await;
    for _ in 0..30 {
        if log[0]["state"] == "delivered" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        log = w.log().await;
    }
    assert_eq!(log[0]["state"], "delivered");
    assert_eq!(log[0]["attempts"], 3);
}

#[tokio::test]
async fn a_crash_mid_delivery_loses_nothing_and_the_receiver_sees_each_delivery_once() {
    let w = world(&["room.opened"]).await;
    // The first request is held while api crashes.
    w.receiver.seen().hold_next = Some(Duration::from_secs(2));
    w.room_opened(0).await;
    w.wait_for("the first request", |r| !r.seen().requests.is_empty())
        .await;
    let World {
        api,
        nats,
        receiver,
        admin_key,
        webhook_id,
    } = w;
    // Events that arrive while api is down wait in JetStream.
    let api = api.crash_and_restart().await;
    let w = World {
        api,
        nats,
        receiver,
        admin_key,
        webhook_id,
    };
    for n in 1..=4 {
        w.room_opened(n).await;
    }
    // Every row ends delivered: the one cut off by the crash once its lease ran out.
    let mut log = w.log().await;
    for _ in 0..300 {
        if log.len() == 5 && log.iter().all(|d| d["state"] == "delivered") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        log = w.log().await;
    }
    assert_eq!(log.len(), 5, "one log row per event: {log:#?}");
    assert!(log.iter().all(|d| d["state"] == "delivered"), "{log:#?}");
    let distinct = w.receiver.distinct();
    assert_eq!(distinct.len(), 5, "one delivery id per event: {distinct:?}");
    let rooms: std::collections::HashSet<String> = w
        .receiver
        .seen()
        .requests
        .iter()
        .map(|(_, _, body)| body["data"]["room"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(rooms.len(), 5, "every event arrived: {rooms:?}");
    // The cut-off delivery came again with the same id (the receiver dedupes it); the others
    // came once.
    let repeated: Vec<usize> = distinct.values().copied().filter(|n| *n > 1).collect();
    assert_eq!(
        repeated,
        vec![2],
        "only the interrupted delivery was sent twice: {distinct:?}"
    );
    assert_eq!(w.receiver.seen().bad_signatures, 0);
}

#[tokio::test]
async fn registration_is_checked_and_needs_the_scope() {
    let w = world(&["seed.generated"]).await;
    let client = reqwest::Client::new();
    let post = |key: Option<&str>, body: Json| {
        let mut request = client
            .post(format!("{}/api/v1/webhooks", w.api.http))
            .json(&body);
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        request.send()
    };
    let good =
        serde_json::json!({"url": "https://example.com/hook", "event_types": ["race.finished"]});
    assert_eq!(post(None, good.clone()).await.unwrap().status(), 401);
    let (_, other) = api::keys::create(&w.api.db, "x", None, &["presets:write".into()], None)
        .await
        .unwrap();
    assert_eq!(
        post(Some(&other), good.clone()).await.unwrap().status(),
        403
    );
    let bad_type = post(
        Some(&w.admin_key),
        serde_json::json!({"url": "https://example.com/", "event_types": ["seed.rolled"]}),
    )
    .await
    .unwrap();
    assert_eq!(bad_type.status(), 400);
    let message: Json = bad_type.json().await.unwrap();
    assert!(
        message["error"]["message"]
            .as_str()
            .unwrap()
            .contains("known: seed.generated")
    );
    let bad_url = post(
        Some(&w.admin_key),
        serde_json::json!({"url": "ftp://example.com/", "event_types": ["race.finished"]}),
    )
    .await
    .unwrap();
    assert_eq!(bad_url.status(), 400);
    assert_eq!(post(Some(&w.admin_key), good).await.unwrap().status(), 201);
    let listed: Json = client
        .get(format!("{}/api/v1/webhooks", w.api.http))
        .bearer_auth(&w.admin_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 2);
    assert!(
        !listed.to_string().contains("whsec_"),
        "secrets are never listed"
    );
}
