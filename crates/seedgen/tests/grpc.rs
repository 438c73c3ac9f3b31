//! `seedgen.v1.SeedGen` served in-process against a real MariaDB and NATS, with a fake
//! alttpr.com: idempotent Generate, the audit row and event, errors, namespaced presets,
//! mystery rolls, VerifyGame and GetDaily.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use futures::StreamExt;
use platform::Service;
use proto::seedgen::v1 as pb;
use proto::seedgen::v1::seed_gen_client::SeedGenClient;
use seedgen::SeedgenService;
use serde_json::json;
use testkit::{ServiceHandle, TestDb, TestNats};
use tonic::Code;
use tonic::transport::Channel;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

struct Harness {
    client: SeedGenClient<Channel>,
    handle: ServiceHandle,
    nats: TestNats,
    db: TestDb,
    fake: MockServer,
}

async fn start() -> Harness {
    start_with_wait(10).await
}

async fn start_with_wait(idempotency_wait_secs: u64) -> Harness {
    testkit::init();
    let fake = MockServer::start().await;
    let db = TestDb::new().await.expect("MariaDB");
    let nats = TestNats::shared();
    let mut settings = SeedgenService::default_settings();
    testkit::configure(&mut settings.common, &db, &nats);
    settings.service = common::settings(&fake.uri());
    settings.service.idempotency_wait_secs = idempotency_wait_secs;
    let listeners = testkit::bind_ephemeral().await.expect("ports");
    let mut handle = ServiceHandle::spawn::<SeedgenService>(settings, listeners).expect("spawn");
    handle
        .wait_ready(Duration::from_secs(30))
        .await
        .expect("ready");
    let client = SeedGenClient::connect(handle.grpc_url())
        .await
        .expect("connect");
    Harness {
        client,
        handle,
        nats,
        db,
        fake,
    }
}

async fn mount_alttpr(fake: &MockServer, hash: &str, delay_ms: u64) {
    Mock::given(method("POST"))
        .and(path("/api/randomizer"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(common::alttpr_response(hash, "off"))
                .set_delay(Duration::from_millis(delay_ms)),
        )
        .mount(fake)
        .await;
}

fn generate(key: &str, preset: &str) -> pb::GenerateRequest {
    pb::GenerateRequest {
        idempotency_key: key.into(),
        randomizer: "alttpr".into(),
        preset: preset.into(),
        race: true,
        allow_quickswap: true,
        requested_by: "discord:185198185990324225".into(),
        surface: "discord".into(),
        ..Default::default()
    }
}

async fn count(db: &TestDb, sql: &str) -> i64 {
    use sea_orm::{ConnectionTrait, Database, Statement};
    let conn = Database::connect(db.url()).await.expect("db");
    let row = conn
        .query_one_raw(Statement::from_string(
            conn.get_database_backend(),
            sql.to_string(),
        ))
        .await
        .expect("query")
        .expect("row");
    row.try_get_by_index::<i64>(0).expect("count")
}

/// Every `seedgen.seed.generated` event on the test's stream.
async fn events(nats: &TestNats, expect: usize) -> Vec<proto::events::v1::SeedGenerated> {
    use async_nats::jetstream::consumer::pull;
    use prost::Message;
    let js = nats.jetstream().await.expect("jetstream");
    let stream = js.get_stream(&nats.stream).await.expect("stream");
    let consumer = stream
        .create_consumer(pull::Config {
            filter_subject: format!("{}.seedgen.seed.generated", nats.subject_prefix),
            ..Default::default()
        })
        .await
        .expect("consumer");
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while out.len() < expect && tokio::time::Instant::now() < deadline {
        let mut batch = consumer
            .fetch()
            .max_messages(10)
            .expires(Duration::from_millis(500))
            .messages()
            .await
            .expect("fetch");
        while let Some(Ok(message)) = batch.next().await {
            let envelope =
                proto::events::v1::Envelope::decode(message.payload.as_ref()).expect("envelope");
            let payload = envelope.payload.expect("payload");
            out.push(
                proto::events::v1::SeedGenerated::decode(payload.value.as_slice())
                    .expect("payload"),
            );
        }
    }
    out
}

#[tokio::test]
async fn generate_is_idempotent_audited_and_announced() {
    let mut h = start().await;
    mount_alttpr(&h.fake, "IdEmPoTeNt", 0).await;
    let first = h
        .client
        .generate(generate("interaction-1", "open"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.hash, "IdEmPoTeNt");
    assert_eq!(first.file_select_code, common::CODE);
    assert_eq!(first.permalink, format!("{}/h/IdEmPoTeNt", h.fake.uri()));
    assert_eq!(
        first.settings.get("crystals.ganon").map(String::as_str),
        Some("7")
    );
    let again = h
        .client
        .generate(generate("interaction-1", "open"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again, first, "the same key returns the same seed");
    assert_eq!(
        h.fake.received_requests().await.unwrap().len(),
        1,
        "never a second roll"
    );
    assert_eq!(
        count(&h.db, "SELECT COUNT(*) FROM audit_generated_games").await,
        1
    );

    let verified = h
        .client
        .verify_game(pb::VerifyGameRequest {
            hash: "IdEmPoTeNt".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(verified.generated_by_us);
    assert_eq!(
        (
            verified.randomizer.as_str(),
            verified.kind.as_str(),
            verified.option.as_str()
        ),
        ("alttpr", "preset", "open")
    );
    assert_eq!(verified.requested_by, "discord:185198185990324225");
    let unknown = h
        .client
        .verify_game(pb::VerifyGameRequest {
            hash: "nope".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!unknown.generated_by_us);

    let events = events(&h.nats, 1).await;
    assert_eq!(events.len(), 1, "exactly one event for one seed");
    assert_eq!(events[0].hash, "IdEmPoTeNt");
    assert_eq!(events[0].surface, "discord");
    assert!(events[0].race);
    assert_eq!(events[0].file_select_code, common::CODE);
    h.handle.stop().await.unwrap();
}

#[tokio::test]
async fn concurrent_calls_with_one_key_roll_once() {
    let h = start().await;
    mount_alttpr(&h.fake, "OnlyOnce", 300).await;
    let calls = (0..8).map(|_| {
        let mut client = h.client.clone();
        async move {
            client
                .generate(generate("same-key", "open"))
                .await
                .map(|r| r.into_inner().hash)
        }
    });
    let results = futures::future::join_all(calls).await;
    for result in &results {
        assert_eq!(result.as_deref().unwrap(), "OnlyOnce");
    }
    assert_eq!(h.fake.received_requests().await.unwrap().len(), 1);
    assert_eq!(
        count(&h.db, "SELECT COUNT(*) FROM audit_generated_games").await,
        1
    );
}

#[tokio::test]
async fn failures_leave_nothing_behind_and_map_to_status_codes() {
    let mut h = start().await;
    Mock::given(method("POST"))
        .and(path("/api/randomizer"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(3)
        .mount(&h.fake)
        .await;
    let error = h
        .client
        .generate(generate("k-fail", "open"))
        .await
        .unwrap_err();
    assert_eq!(error.code(), Code::Unavailable);
    assert!(
        error.message().starts_with("alttpr.com:"),
        "{}",
        error.message()
    );
    assert_eq!(
        count(&h.db, "SELECT COUNT(*) FROM audit_generated_games").await,
        0
    );
    assert_eq!(count(&h.db, "SELECT COUNT(*) FROM outbox").await, 0);
    // The key was released: a retry rolls.
    mount_alttpr(&h.fake, "Retried", 0).await;
    let ok = h
        .client
        .generate(generate("k-fail", "open"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ok.hash, "Retried");

    Mock::given(method("POST"))
        .and(path("/beeta/api/randomizer"))
        .respond_with(
            ResponseTemplate::new(422).set_body_json(json!({"message": "invalid settings"})),
        )
        .mount(&h.fake)
        .await;
    let mut beeta = generate("k-beeta", "open");
    beeta.branch = "beeta".into();
    let error = h.client.generate(beeta).await.unwrap_err();
    assert_eq!(error.code(), Code::FailedPrecondition);
    assert_eq!(error.message(), "alttpr.com: invalid settings");

    let error = h
        .client
        .generate(generate("k-missing", "no_such_preset"))
        .await
        .unwrap_err();
    assert_eq!(error.code(), Code::NotFound);
    assert!(
        error.message().contains("no_such_preset"),
        "{}",
        error.message()
    );

    let mut inline = generate("k-yaml", "");
    inline.preset_yaml = "settings:\n  goal: ganon\n bad: [\n".into();
    let error = h.client.generate(inline).await.unwrap_err();
    assert_eq!(error.code(), Code::InvalidArgument);
    assert!(error.message().contains("line 3"), "{}", error.message());

    let error = h.client.generate(generate("", "open")).await.unwrap_err();
    assert_eq!(error.code(), Code::InvalidArgument);
    let mut unknown = generate("k-unknown", "open");
    unknown.randomizer = "pokemon".into();
    let error = h.client.generate(unknown).await.unwrap_err();
    assert_eq!(error.code(), Code::InvalidArgument);
    assert!(error.message().starts_with("unknown randomizer `pokemon`"));
    h.handle.stop().await.unwrap();
}

fn save(user: &str, name: &str, namespace: &str, yaml: &str) -> pb::SavePresetRequest {
    pb::SavePresetRequest {
        randomizer: "alttpr".into(),
        namespace: namespace.into(),
        name: name.into(),
        yaml: yaml.into(),
        discord_user_id: user.into(),
        discord_user_name: "Synack The Great".into(),
    }
}

const MY_PRESET: &str =
    "# my settings\ndescription: mine\nsettings:\n  goal: ganon\n  mode: inverted\n";

#[tokio::test]
async fn namespaced_presets_have_owners_and_collaborators() {
    let mut h = start().await;
    let saved = h
        .client
        .save_preset(save("111", "My_Inverted", "", MY_PRESET))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(saved.namespace, "synack-the-great");
    assert_eq!(saved.name, "my_inverted");
    assert_eq!(
        saved.yaml, MY_PRESET,
        "stored as uploaded, comments included"
    );

    let got = h
        .client
        .get_preset(pb::GetPresetRequest {
            randomizer: "alttpr".into(),
            name: "synack-the-great/my_inverted".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.yaml, MY_PRESET);

    let error = h
        .client
        .save_preset(save("222", "evil", "synack-the-great", MY_PRESET))
        .await
        .unwrap_err();
    assert_eq!(error.code(), Code::PermissionDenied);
    let error = h
        .client
        .delete_preset(pb::DeletePresetRequest {
            randomizer: "alttpr".into(),
            namespace: "synack-the-great".into(),
            name: "my_inverted".into(),
            discord_user_id: "222".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(error.code(), Code::PermissionDenied);
    let error = h
        .client
        .add_collaborator(pb::AddCollaboratorRequest {
            namespace: "synack-the-great".into(),
            owner_discord_user_id: "222".into(),
            collaborator_discord_user_id: "222".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(error.code(), Code::PermissionDenied);
    h.client
        .add_collaborator(pb::AddCollaboratorRequest {
            namespace: "synack-the-great".into(),
            owner_discord_user_id: "111".into(),
            collaborator_discord_user_id: "222".into(),
        })
        .await
        .unwrap();
    h.client
        .save_preset(save("222", "shared", "synack-the-great", MY_PRESET))
        .await
        .unwrap();

    let error = h
        .client
        .save_preset(save("111", "broken", "", "settings:\n  a: [\n"))
        .await
        .unwrap_err();
    assert_eq!(error.code(), Code::InvalidArgument);
    assert!(error.message().contains("line "), "{}", error.message());
    let error = h
        .client
        .save_preset(save("111", "noset", "", "goal_name: x\n"))
        .await
        .unwrap_err();
    assert_eq!(
        error.message(),
        "the alttpr preset is invalid: `settings` is missing"
    );
    let error = h
        .client
        .save_preset(save("111", "bad/name", "", MY_PRESET))
        .await
        .unwrap_err();
    assert_eq!(error.code(), Code::InvalidArgument);
    let big = format!(
        "description: \"{}\"\nsettings: {{}}\n",
        "x".repeat(300 * 1024)
    );
    let error = h
        .client
        .save_preset(save("111", "big", "", &big))
        .await
        .unwrap_err();
    assert!(error.message().contains("limit"), "{}", error.message());

    // Autocomplete: the caller's presets, then global ones, prefix-filtered, at most 25.
    let list = h
        .client
        .list_presets(pb::ListPresetsRequest {
            randomizer: "alttpr".into(),
            discord_user_id: "222".into(),
            prefix: "".into(),
            limit: 0,
        })
        .await
        .unwrap()
        .into_inner();
    let references: Vec<_> = list.presets.iter().map(|p| p.reference.as_str()).collect();
    assert_eq!(
        &references[..2],
        ["synack-the-great/my_inverted", "synack-the-great/shared"]
    );
    assert!(references.contains(&"open"));
    assert!(references.len() <= 25);
    let list = h
        .client
        .list_presets(pb::ListPresetsRequest {
            randomizer: "alttpr".into(),
            discord_user_id: "".into(),
            prefix: "Op".into(),
            limit: 5,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        list.presets
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>(),
        ["open"]
    );

    mount_alttpr(&h.fake, "NsPreset", 0).await;
    let seed = h
        .client
        .generate(generate("k-ns", "synack-the-great/my_inverted"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(seed.option, "synack-the-great/my_inverted");
    let body: serde_json::Value =
        serde_json::from_slice(&h.fake.received_requests().await.unwrap()[0].body).unwrap();
    assert_eq!(body["mode"], "inverted");

    h.client
        .delete_preset(pb::DeletePresetRequest {
            randomizer: "alttpr".into(),
            namespace: "synack-the-great".into(),
            name: "my_inverted".into(),
            discord_user_id: "111".into(),
        })
        .await
        .unwrap();
    let error = h
        .client
        .get_preset(pb::GetPresetRequest {
            randomizer: "alttpr".into(),
            name: "synack-the-great/my_inverted".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(error.code(), Code::NotFound);
    h.handle.stop().await.unwrap();
}

#[tokio::test]
async fn mystery_rolls_replay_and_daily() {
    let mut h = start().await;
    let roll = |seed| pb::RollMysteryRequest {
        weightset: "weighted".into(),
        weightset_yaml: String::new(),
        rng_seed: Some(seed),
    };
    let a = h.client.roll_mystery(roll(41)).await.unwrap().into_inner();
    let b = h.client.roll_mystery(roll(41)).await.unwrap().into_inner();
    assert_eq!(a, b, "a recorded seed replays the roll");
    assert_eq!(a.rng_seed, 41);
    assert!(!a.description.is_empty());
    let error = h
        .client
        .roll_mystery(pb::RollMysteryRequest {
            weightset: "nope".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(error.code(), Code::NotFound);
    let error = h
        .client
        .roll_mystery(pb::RollMysteryRequest {
            weightset_yaml: "goals: {a: x}\n".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(error.code(), Code::InvalidArgument);
    assert!(
        error
            .message()
            .contains("`goals.a`: the weight must be a number"),
        "{}",
        error.message()
    );

    Mock::given(method("GET"))
        .and(path("/api/daily"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"hash": "DaIlY12345", "daily": "2026-11-20"})),
        )
        .mount(&h.fake)
        .await;
    Mock::given(method("GET"))
        .and(path("/hash/DaIlY12345"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "text/html")
                .set_body_json(common::alttpr_response("DaIlY12345", "off")),
        )
        .mount(&h.fake)
        .await;
    let daily = h
        .client
        .get_daily(pb::GetDailyRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(daily.date, "2026-11-20");
    assert_eq!(daily.file_select_code, common::CODE);
    assert_eq!(daily.title, "Seed Name");
    h.handle.stop().await.unwrap();
}

/// The old design claimed a key with a `pending` row before rolling; a call that died
/// mid-roll (client gone, panic, crash) left it claimed, and every retry got "still running"
/// for ten minutes. Now a key is only ever recorded with its seed.
#[tokio::test]
async fn a_cancelled_roll_leaves_the_key_free_and_a_retry_rolls_at_once() {
    let mut h = start_with_wait(1).await;
    mount_alttpr(&h.fake, "AfterCancel", 700).await;
    let mut cancelled = generate("cancelled", "open");
    cancelled.race = true;
    let mut request = tonic::Request::new(cancelled.clone());
    request.set_timeout(Duration::from_millis(200));
    let error = h.client.generate(request).await.unwrap_err();
    assert_eq!(error.code(), Code::Cancelled, "{error:?}");
    assert_eq!(
        count(
            &h.db,
            "SELECT COUNT(*) FROM idempotency_keys WHERE scope = 'seedgen.generate'"
        )
        .await,
        0,
        "nothing is left claimed"
    );
    // The retry rolls right away (the old design answered ABORTED "still running").
    let seed = h.client.generate(cancelled).await.unwrap().into_inner();
    assert_eq!(seed.hash, "AfterCancel");
    assert_eq!(
        count(
            &h.db,
            "SELECT COUNT(*) FROM idempotency_keys WHERE scope = 'seedgen.generate'"
        )
        .await,
        1
    );
    h.handle.stop().await.unwrap();
}

/// Two replicas on one database asked for one key at the same time: both answer the seed the
/// first to commit recorded; one audit row, one event.
#[tokio::test]
async fn two_replicas_with_one_key_answer_one_seed() {
    let h = start().await;
    mount_alttpr(&h.fake, "OneOfTwo", 300).await;
    let mut settings = SeedgenService::default_settings();
    testkit::configure(&mut settings.common, &h.db, &h.nats);
    settings.service = common::settings(&h.fake.uri());
    let listeners = testkit::bind_ephemeral().await.unwrap();
    let mut replica = ServiceHandle::spawn::<SeedgenService>(settings, listeners).unwrap();
    replica.wait_ready(Duration::from_secs(30)).await.unwrap();
    let mut other = SeedGenClient::connect(replica.grpc_url()).await.unwrap();
    let mut first = h.client.clone();
    let (a, b) = tokio::join!(
        first.generate(generate("two-replicas", "open")),
        other.generate(generate("two-replicas", "open")),
    );
    let (a, b) = (a.unwrap().into_inner(), b.unwrap().into_inner());
    assert_eq!(a.permalink, b.permalink);
    assert_eq!(a.rng_seed, b.rng_seed, "the same recorded reply");
    assert_eq!(
        count(&h.db, "SELECT COUNT(*) FROM audit_generated_games").await,
        1
    );
    assert_eq!(
        count(
            &h.db,
            "SELECT COUNT(*) FROM idempotency_keys WHERE scope = 'seedgen.generate'"
        )
        .await,
        1
    );
    replica.stop().await.unwrap();
    h.handle.stop().await.unwrap();
}

/// `validate_only` answers what Generate would refuse, and rolls nothing.
#[tokio::test]
async fn validate_only_checks_without_rolling() {
    let mut h = start().await;
    let mut check = generate("", "open");
    check.validate_only = true;
    let reply = h.client.generate(check.clone()).await.unwrap().into_inner();
    assert_eq!(
        (reply.kind.as_str(), reply.option.as_str()),
        ("preset", "open")
    );
    assert!(reply.permalink.is_empty());
    check.preset = "no_such_preset".into();
    let error = h.client.generate(check.clone()).await.unwrap_err();
    assert_eq!(error.code(), Code::NotFound);
    // A near miss names the closest presets in one sentence.
    check.preset = "opne".into();
    let error = h.client.generate(check.clone()).await.unwrap_err();
    assert_eq!(error.code(), Code::NotFound);
    assert!(
        error
            .message()
            .starts_with("Could not find preset `opne` for alttpr. Did you mean `open`"),
        "{}",
        error.message()
    );
    check.randomizer = "z1r".into();
    check.preset = "rr2042".into();
    let error = h.client.generate(check).await.unwrap_err();
    assert_eq!(error.code(), Code::InvalidArgument);
    assert!(
        error.message().contains("did you mean `rr2024`"),
        "{}",
        error.message()
    );
    assert!(h.fake.received_requests().await.unwrap().is_empty());
    assert_eq!(
        count(
            &h.db,
            "SELECT COUNT(*) FROM idempotency_keys WHERE scope = 'seedgen.generate'"
        )
        .await,
        0
    );
    h.handle.stop().await.unwrap();
}
