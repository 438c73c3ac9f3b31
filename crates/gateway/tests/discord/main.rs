//! The gateway end to end: the fake Discord (REST + gateway websocket), the real seedgen
//! service with alttpr.com faked by wiremock, MariaDB and NATS. Interactions go in as the
//! gateway dispatches Discord sends; what the bot did is read back from the fake's REST log.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod community;
mod component_routing;
mod components;
mod daily;
mod guild;
mod migration;
mod posting;
mod seeds;
mod shutdown;

use std::time::Duration;

use gateway::GatewayService;
use platform::Service;
use proto::discord::v1 as pb;
use proto::discord::v1::discord_client::DiscordClient;
use seedgen::SeedgenService;
use serde_json::{Value as Json, json};
use testkit::discord::{APPLICATION_ID, BOT_TOKEN, Invoker, SentInteraction};
use testkit::fixtures::alttpr_seed_response;
use testkit::{FakeDiscord, ServiceHandle, TestDb, TestNats};
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const WAIT: Duration = Duration::from_secs(20);

struct World {
    fake: FakeDiscord,
    alttpr: MockServer,
    _seedgen: ServiceHandle,
    _seedgen_db: TestDb,
    gateway: Option<ServiceHandle>,
    settings: platform::config::Settings<gateway::GatewaySettings>,
    _db: TestDb,
    // Dropping it deletes the test's stream.
    nats: TestNats,
}

async fn world() -> World {
    testkit::init();
    let fake = FakeDiscord::start().await.unwrap();
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
    // Customizer presets and weightsets (mystery rolls may pick one) go to /api/customizer.
    Mock::given(method("POST"))
        .and(path("/api/customizer"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(alttpr_seed_response("CuStOmIzEr", "off")),
        )
        .mount(&alttpr)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/randomizer"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(alttpr_seed_response("HaShHaSh", "off")),
        )
        .mount(&alttpr)
        .await;
    Mock::given(method("GET"))
        .and(path("/holyimage/holyimages.json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "z3r": [
                {"slug": "fairy", "idx": 1, "aliases": ["ff"], "title": "Fairy Fountain",
                 "desc": "Throw the <b>bottle</b> in.<br>Profit &amp; enjoy.", "url": "images/fairy.png", "credit": "Synack"},
                {"slug": "fatfairy", "idx": 2, "title": "Fat Fairy", "url": "https://example.org/ff", "mode": "redirect"}
            ],
            "smz3": [{"slug": "ship", "idx": 1, "title": "The Ship"}]
        })))
        .mount(&alttpr)
        .await;
    let samus = json!({"id": 1, "gameName": "SMZ3", "gameVersion": "11.3", "guid": "0f5b2a1c3d4e4f6a8b9c0d1e2f3a4b5c",
                       "hash": "GEEMER RIPPER ATOMIC POWAMP", "mode": "normal", "worlds": []});
    Mock::given(method("POST"))
        .and(path("/api/randomizers/smz3/generate"))
        .respond_with(ResponseTemplate::new(200).set_body_json(&samus))
        .mount(&alttpr)
        .await;
    Mock::given(method("POST"))
        .and(path("/sm/api/randomizers/sm/generate"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&alttpr)
        .await;
    // ctjot.com: the options form (CSRF token and cookie), then the share link.
    Mock::given(method("GET"))
        .and(path("/3_1_0/options/"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("set-cookie", "csrftoken=c00k; Path=/")
                .set_body_string(r#"<form><input type="hidden" name="csrfmiddlewaretoken" value="tok3n"></form>"#),
        )
        .mount(&alttpr)
        .await;
    Mock::given(method("POST"))
        .and(path("/3_1_0/generate-rom/"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string(r#"<p><a href="/share/XYZ">Seed share link</a></p>"#),
        )
        .mount(&alttpr)
        .await;
    let nats = TestNats::shared();
    let seedgen_db = TestDb::new().await.unwrap();
    let mut settings = SeedgenService::default_settings();
    testkit::configure(&mut settings.common, &seedgen_db, &nats);
    settings.service.presets_dir =
        std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap())
            .join("../../presets");
    settings.service.providers.alttpr.base_url = alttpr.uri();
    settings.service.providers.samus.smz3_url = alttpr.uri();
    settings.service.providers.samus.sm_url = format!("{}/sm", alttpr.uri());
    settings.service.providers.http.attempts = 1;
    settings.service.providers.ctjets.base_url = alttpr.uri();
    let rom = std::env::temp_dir().join(format!("ct-{}.sfc", testkit::unique_suffix()));
    std::fs::write(&rom, b"not really a rom").unwrap();
    settings.service.providers.ctjets.rom = Some(rom);
    // Spoiler logs go to the local S3 server the test command starts (moto).
    let s3 = std::env::var("TEST_S3_ENDPOINT").unwrap_or_else(|_| "http://127.0.0.1:9300".into());
    let bucket = format!("spoilers-{}", testkit::unique_suffix().to_lowercase());
    settings.service.storage = seedgen::storage::StorageSettings::local(&s3, &bucket);
    let storage = &settings.service.storage;
    seedgen::storage::ObjectStore::new(storage)
        .unwrap()
        .ensure_bucket()
        .await
        .expect("the local S3 server must run (deploy/local/test.sh starts it)");
    let listeners = testkit::bind_ephemeral().await.unwrap();
    let mut seedgen = ServiceHandle::spawn::<SeedgenService>(settings, listeners).unwrap();
    seedgen.wait_ready(Duration::from_secs(30)).await.unwrap();

    let db = TestDb::new().await.unwrap();
    let mut settings = GatewayService::default_settings();
    testkit::configure(&mut settings.common, &db, &nats);
    settings.common.peers.get_mut("seedgen").unwrap().url = seedgen.grpc_url();
    let d = &mut settings.service.discord;
    d.token = Some(BOT_TOKEN.to_string().into());
    d.application_id = Some(APPLICATION_ID);
    d.api_base_url = fake.url.clone();
    d.gateway_url = fake.gateway_url.clone();
    settings.service.attachment_max_bytes = 4096;
    settings.service.holyimage_url = format!("{}/holyimage/", alttpr.uri());
    settings.service.speedgaming_url = format!("{}/sg", alttpr.uri());
    settings.service.daily_poll_secs = 1;
    settings.service.discord.community_guilds = vec![1];
    // The audit log and moderation listen (the fake does not check intents); Discord's
    // phishing list is served locally.
    settings.service.moderation.enabled = true;
    settings.service.moderation.phishing_list_url =
        format!("{}/bad-domains/hashes.json", alttpr.uri());
    let gateway = spawn_gateway(&settings).await;
    fake.wait_for_session(WAIT).await;
    World {
        fake,
        alttpr,
        _seedgen: seedgen,
        _seedgen_db: seedgen_db,
        gateway: Some(gateway),
        settings,
        _db: db,
        nats,
    }
}

async fn spawn_gateway(
    settings: &platform::config::Settings<gateway::GatewaySettings>,
) -> ServiceHandle {
    let listeners = testkit::bind_ephemeral().await.unwrap();
    let mut gateway = ServiceHandle::spawn::<GatewayService>(settings.clone(), listeners).unwrap();
    gateway.wait_ready(Duration::from_secs(30)).await.unwrap();
    gateway
}

impl World {
    fn gateway(&self) -> &ServiceHandle {
        self.gateway.as_ref().expect("the gateway runs")
    }

    /// Stops the gateway and starts it again on the same database (a deploy).
    async fn restart_gateway(&mut self) {
        if let Some(old) = self.gateway.take() {
            old.stop().await.unwrap();
        }
        self.gateway = Some(spawn_gateway(&self.settings).await);
        self.fake.wait_for_session(WAIT).await;
    }
}

/// `/config set key value` as `who`; the reply.
async fn set_config(w: &World, who: &Invoker, key: &str, value: &str) -> Json {
    let sent = w.fake.slash_command(
        who,
        &["config", "set"],
        &[("key", json!(key)), ("value", json!(value))],
        &[],
    );
    text_reply(w, &sent).await
}

/// The original response once the bot put text in it.
async fn text_reply(w: &World, sent: &SentInteraction) -> Json {
    w.fake
        .wait_for_reply(sent, WAIT, |m| {
            m["content"].as_str().is_some_and(|c| !c.is_empty())
        })
        .await
}

/// The original response once the bot put an embed in it.
async fn embed_reply(w: &World, sent: &SentInteraction) -> Json {
    w.fake
        .wait_for_reply(sent, WAIT, |m| {
            m["embeds"].as_array().is_some_and(|e| !e.is_empty())
        })
        .await
}

/// The seeds requested from the fake alttpr.com (it also serves the daily and other files).
async fn rolls(w: &World) -> Vec<wiremock::Request> {
    w.alttpr
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.method == wiremock::http::Method::POST && r.url.path() == "/api/randomizer")
        .collect()
}

fn field<'a>(embed: &'a Json, name: &str) -> Option<&'a str> {
    embed["fields"]
        .as_array()?
        .iter()
        .find(|f| f["name"] == name)
        .and_then(|f| f["value"].as_str())
}
