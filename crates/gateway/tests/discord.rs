//! The gateway end to end: the fake Discord (REST + gateway websocket), the real seedgen
//! service with alttpr.com faked by wiremock, MariaDB and NATS. Interactions go in as the
//! gateway dispatches Discord sends; what the bot did is read back from the fake's REST log.

#![allow(clippy::unwrap_used, clippy::expect_used)]

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
    gateway: ServiceHandle,
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
    let storage = &mut settings.service.storage;
    storage.bucket = bucket.clone();
    storage.endpoint = Some(s3.clone());
    storage.force_path_style = true;
    storage.access_key_id = Some("test".into());
    storage.secret_access_key = Some("test".to_string().into());
    storage.public_url_base = format!("{s3}/{bucket}");
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
    let listeners = testkit::bind_ephemeral().await.unwrap();
    let mut gateway = ServiceHandle::spawn::<GatewayService>(settings, listeners).unwrap();
    gateway.wait_ready(Duration::from_secs(30)).await.unwrap();
    fake.wait_for_session(WAIT).await;
    World {
        fake,
        alttpr,
        _seedgen: seedgen,
        _seedgen_db: seedgen_db,
        gateway,
        _db: db,
        nats,
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

#[tokio::test]
async fn seed_commands_defer_then_edit_and_errors_stay_private() {
    let w = world().await;
    // Commands were registered globally by bulk overwrite.
    let names: Vec<String> = w
        .fake
        .registered_commands(None)
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    for expected in [
        "alttpr",
        "alttprutils",
        "sm",
        "smz3",
        "ctjets",
        "z2r",
        "datetime",
        "dailygame",
    ] {
        assert!(names.contains(&expected.to_string()), "{names:?}");
    }
    let racer = Invoker::member(42, "racer");

    // /alttpr preset: deferred publicly, then the embed replaces the "thinking" message.
    let sent = w.fake.slash_command(
        &racer,
        &["alttpr", "preset"],
        &[("preset", json!("open")), ("race", json!("yes"))],
        &[],
    );
    let ack = w.fake.callback(&sent, WAIT).await;
    assert_eq!(ack["type"], 5, "{ack}");
    assert!(
        ack["data"].is_null() || ack["data"]["flags"].is_null(),
        "public defer: {ack}"
    );
    let reply = embed_reply(&w, &sent).await;
    let embed = &reply["embeds"][0];
    assert_eq!(field(embed, "Preset"), Some("open"));
    // A race seed is a tournament embed: no permalink, dark gold.
    assert_eq!(field(embed, "Permalink"), None, "{embed}");
    assert_eq!(embed["color"], 0xC27C0E);
    assert!(
        field(embed, "File Select Code").is_some_and(|c| !c.is_empty()),
        "{embed}"
    );
    let body: Json = serde_json::from_slice(&rolls(&w).await[0].body).unwrap();
    assert_eq!(body["tournament"], true);

    // Not a race: the permalink shows.
    let sent = w.fake.slash_command(
        &racer,
        &["alttpr", "preset"],
        &[("preset", json!("open"))],
        &[],
    );
    let reply = embed_reply(&w, &sent).await;
    assert!(
        field(&reply["embeds"][0], "Permalink").is_some_and(|p| p.ends_with("/h/HaShHaSh")),
        "{reply}"
    );

    // The same interaction delivered again rolls nothing: Discord refuses a second
    // acknowledgement, and the roll's idempotency key is the interaction id.
    w.fake.redeliver(&sent);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(rolls(&w).await.len(), 2);

    // Autocomplete lists presets starting with what was typed.
    let sent = w
        .fake
        .autocomplete(&racer, &["alttpr", "preset"], &[], ("preset", "ope"));
    let choices = w.fake.autocomplete_choices(&sent, WAIT).await;
    assert!(choices.iter().any(|c| c["value"] == "open"), "{choices:?}");
    assert!(choices.len() <= 25);
    assert!(
        choices
            .iter()
            .all(|c| c["value"].as_str().unwrap().starts_with("ope"))
    );

    // An unknown preset: the public "thinking" message goes away, the caller alone is told.
    let sent = w.fake.slash_command(
        &racer,
        &["alttpr", "preset"],
        &[("preset", json!("nosuchpreset"))],
        &[],
    );
    let followup = w.fake.wait_for_followup(&sent, WAIT).await;
    assert_eq!(followup["flags"], 64, "{followup}");
    assert!(
        followup["content"]
            .as_str()
            .unwrap()
            .contains("Could not find preset `nosuchpreset`"),
        "{followup}"
    );
    assert!(w.fake.original_deleted(&sent));

    // A custom preset that is not YAML gets the parser's message with its line.
    let url = w
        .fake
        .host_file("broken.yaml", "text/yaml", "settings:\n  goal: [unclosed\n");
    let sent = w.fake.slash_command(
        &racer,
        &["alttpr", "custompreset"],
        &[],
        &[("yamlfile", "broken.yaml", &url, 26, "text/yaml")],
    );
    let followup = w.fake.wait_for_followup(&sent, WAIT).await;
    let text = followup["content"].as_str().unwrap();
    assert!(
        text.starts_with("`broken.yaml` is not valid YAML:") && text.contains("line"),
        "{text}"
    );
    // A file over the limit is refused before it is downloaded.
    let sent = w.fake.slash_command(
        &racer,
        &["alttpr", "custompreset"],
        &[],
        &[("yamlfile", "huge.yaml", &url, 100_000, "text/yaml")],
    );
    let followup = w.fake.wait_for_followup(&sent, WAIT).await;
    assert!(
        followup["content"]
            .as_str()
            .unwrap()
            .contains("files up to 4 KiB are accepted"),
        "{followup}"
    );
    let rolls_so_far = rolls(&w).await.len();
    assert_eq!(rolls_so_far, 2, "refused files never reach the provider");

    // A good file is saved as the caller's `latest` and can be rolled again by that name.
    let open = std::fs::read_to_string(
        std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap())
            .join("../../presets/alttpr/open.yaml"),
    )
    .unwrap();
    let url = w.fake.host_file("mine.yaml", "text/yaml", open.clone());
    let sent = w.fake.slash_command(
        &racer,
        &["alttpr", "custompreset"],
        &[],
        &[(
            "yamlfile",
            "mine.yaml",
            &url,
            open.len() as u64,
            "text/yaml",
        )],
    );
    let reply = embed_reply(&w, &sent).await;
    let saved = field(&reply["embeds"][0], "Saved as preset!")
        .unwrap()
        .to_string();
    assert!(saved.contains("`racer/latest`"), "{saved}");
    let sent = w.fake.slash_command(
        &racer,
        &["alttpr", "preset"],
        &[("preset", json!("racer/latest"))],
        &[],
    );
    let reply = embed_reply(&w, &sent).await;
    assert_eq!(field(&reply["embeds"][0], "Preset"), Some("racer/latest"));

    // verifygame and savepreset answer privately.
    let sent = w.fake.slash_command(
        &racer,
        &["alttprutils", "verifygame"],
        &[("hash_id", json!("HaShHaSh"))],
        &[],
    );
    let reply = text_reply(&w, &sent).await;
    assert!(
        reply["content"]
            .as_str()
            .unwrap()
            .starts_with("HaShHaSh was generated by SahasrahBot."),
        "{reply}"
    );
    assert_eq!(w.fake.callback(&sent, WAIT).await["data"]["flags"], 64);
    let sent = w.fake.slash_command(
        &racer,
        &["alttprutils", "verifygame"],
        &[("hash_id", json!("NotOurs"))],
        &[],
    );
    assert_eq!(
        text_reply(&w, &sent).await["content"],
        "That game was not generated by SahasrahBot."
    );
    let sent = w.fake.slash_command(
        &racer,
        &["alttprutils", "savepreset"],
        &[("preset_name", json!("MyOpen"))],
        &[(
            "preset_file",
            "mine.yaml",
            &url,
            open.len() as u64,
            "text/yaml",
        )],
    );
    assert_eq!(
        text_reply(&w, &sent).await["content"],
        "Preset saved as racer/myopen"
    );

    // A customizer save file becomes a preset file, sent back privately.
    let save = json!({"randomizer.goal": "fast_ganon", "vt.custom.equipment": {"PegasusBoots": 1}})
        .to_string();
    let url = w
        .fake
        .host_file("customizer-settings.json", "application/json", save.clone());
    let sent = w.fake.slash_command(
        &racer,
        &["alttprutils", "convertcustomizer"],
        &[],
        &[(
            "customizer_json",
            "customizer-settings.json",
            &url,
            save.len() as u64,
            "application/json",
        )],
    );
    assert_eq!(w.fake.callback(&sent, WAIT).await["data"]["flags"], 64);
    let edit = w
        .fake
        .wait_for_call(WAIT, |c| {
            c.method == "PATCH" && c.path.contains(&sent.token) && !c.files.is_empty()
        })
        .await;
    let (name, bytes) = &edit.files[0];
    assert_eq!(name, "output.yaml");
    let preset: serde_yaml::Value = serde_yaml::from_slice(bytes).unwrap();
    assert_eq!(preset["customizer"], serde_yaml::Value::Bool(true));
    assert_eq!(
        preset["settings"]["goal"],
        serde_yaml::Value::from("fast_ganon")
    );
    assert_eq!(
        preset["settings"]["eq"][0],
        serde_yaml::Value::from("PegasusBoots")
    );

    // Mystery: masked by default; mask_settings "no" really shows the settings (§7.1).
    let sent = w.fake.slash_command(
        &racer,
        &["alttpr", "mystery"],
        &[("weightset", json!("weighted"))],
        &[],
    );
    let reply = embed_reply(&w, &sent).await;
    let embed = &reply["embeds"][0];
    assert_eq!(embed["title"], "Mystery Game");
    assert_eq!(field(embed, "Weightset"), Some("weighted"));
    assert!(field(embed, "Mystery Game").is_some(), "{embed}");
    let sent = w.fake.slash_command(
        &racer,
        &["alttpr", "mystery"],
        &[
            ("weightset", json!("weighted")),
            ("mask_settings", json!("no")),
        ],
        &[],
    );
    let reply = embed_reply(&w, &sent).await;
    let embed = &reply["embeds"][0];
    assert!(field(embed, "Mystery Game").is_none(), "{embed}");
    assert!(
        field(embed, "Goal").is_some_and(|g| g.contains("**Goal:**")),
        "{embed}"
    );

    // Fixed lists autocomplete with real choices (upstream answered plain strings, §7.2).
    let sent = w
        .fake
        .autocomplete(&racer, &["smvaria"], &[], ("skills", "vet"));
    let choices = w.fake.autocomplete_choices(&sent, WAIT).await;
    assert_eq!(
        choices,
        vec![json!({"name": "veteran", "value": "veteran"})]
    );

    // /sm while sm.samus.link is down: a short private message that says to retry.
    let sent = w
        .fake
        .slash_command(&racer, &["sm"], &[("preset", json!("casual_full"))], &[]);
    let followup = w.fake.wait_for_followup(&sent, WAIT).await;
    let text = followup["content"].as_str().unwrap();
    assert!(
        text == "samus.link: the server failed (HTTP 503). Please try again in a minute.",
        "{text}"
    );
    // /smz3 from samus.link: the SMZ3 embed with the four-word code.
    let sent = w.fake.slash_command(
        &racer,
        &["smz3"],
        &[("preset", json!("normal")), ("race", json!("yes"))],
        &[],
    );
    let reply = embed_reply(&w, &sent).await;
    let embed = &reply["embeds"][0];
    assert_eq!(embed["description"], "Requested SMZ3 Randomizer Game.");
    assert_eq!(
        field(embed, "File Select Code"),
        Some("GEEMER RIPPER ATOMIC POWAMP")
    );

    // A spoiler race: the log is uploaded and linked, the permalink hidden.
    let sent = w.fake.slash_command(
        &racer,
        &["alttpr", "spoiler"],
        &[
            ("preset", json!("open")),
            ("progression_spoiler", json!(true)),
        ],
        &[],
    );
    let reply = embed_reply(&w, &sent).await;
    let embed = &reply["embeds"][0];
    let log = field(embed, "Spoiler Log URL").unwrap();
    assert!(
        log.contains("/spoilers-") && log.contains("progression__"),
        "{log}"
    );
    assert_eq!(field(embed, "Permalink"), None);

    // /ctjets: the share link.
    let sent = w
        .fake
        .slash_command(&racer, &["ctjets"], &[("preset", json!("race"))], &[]);
    assert_eq!(
        text_reply(&w, &sent).await["content"],
        format!("{}/share/XYZ", w.alttpr.uri())
    );
    // /z2r mrb: seed, flags and which of MRB's flag sets.
    let sent = w.fake.slash_command(&racer, &["z2r", "mrb"], &[], &[]);
    let mrb = text_reply(&w, &sent).await["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        mrb.starts_with("**Seed**: ")
            && mrb.contains("**Flags:** ")
            && mrb.contains("**Description**: "),
        "{mrb}"
    );
    // A custom mystery weightset is saved as the caller's latest weightset.
    let weights = std::fs::read_to_string(
        std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap())
            .join("../../presets/alttprmystery/friendly.yaml"),
    )
    .unwrap();
    let url = w
        .fake
        .host_file("weights.yaml", "text/yaml", weights.clone());
    let sent = w.fake.slash_command(
        &racer,
        &["alttpr", "custommystery"],
        &[],
        &[(
            "yamlfile",
            "weights.yaml",
            &url,
            weights.len() as u64,
            "text/yaml",
        )],
    );
    let reply = embed_reply(&w, &sent).await;
    assert_eq!(
        field(&reply["embeds"][0], "Weightset"),
        Some("racer/latest")
    );
    assert!(
        field(&reply["embeds"][0], "Saved as custom weightset!").is_some(),
        "{reply}"
    );

    // A spoiler race from an uploaded preset.
    let url = w.fake.host_file("spoiler.yaml", "text/yaml", open.clone());
    let sent = w.fake.slash_command(
        &racer,
        &["alttpr", "customspoiler"],
        &[],
        &[(
            "yamlfile",
            "spoiler.yaml",
            &url,
            open.len() as u64,
            "text/yaml",
        )],
    );
    let reply = embed_reply(&w, &sent).await;
    let log = field(&reply["embeds"][0], "Spoiler Log URL").unwrap();
    assert!(log.contains("spoiler__"), "{log}");

    // Kiss Priest: one batch of three customizer games sharing a batch code.
    let sent = w.fake.slash_command(
        &racer,
        &["alttpr", "kisspriest"],
        &[("count", json!(3))],
        &[],
    );
    let reply = embed_reply(&w, &sent).await;
    let embed = &reply["embeds"][0];
    assert_eq!(embed["title"], "Kiss Priest Games");
    assert_eq!(embed["fields"].as_array().unwrap().len(), 3);
    let names: Vec<String> = w
        .alttpr
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path() == "/api/customizer")
        .filter_map(|r| serde_json::from_slice::<Json>(&r.body).ok())
        .filter(|b| b["goal"] == "triforce-hunt")
        .map(|b| b["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
    let code = &names[0][12..15];
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        (1..=3)
            .map(|i| format!("kiss-priest-{code}-{i:02}"))
            .collect::<Vec<_>>()
    );

    // /datetime answers at once, privately.
    let sent = w.fake.slash_command(
        &racer,
        &["datetime"],
        &[
            ("year", json!(2024)),
            ("month", json!(7)),
            ("day", json!(1)),
            ("hour", json!(20)),
            ("timezone", json!("Europe/Berlin")),
        ],
        &[],
    );
    let ack = w.fake.callback(&sent, WAIT).await;
    assert_eq!(ack["type"], 4);
    assert_eq!(ack["data"]["flags"], 64);
    assert_eq!(
        ack["data"]["embeds"][0]["title"],
        "Date markdown for 2024-07-01 20:00:00 Europe/Berlin"
    );
    assert!(
        ack["data"]["embeds"][0]["description"]
            .as_str()
            .unwrap()
            .contains("<t:1719856800:F>")
    );
    let sent = w.fake.slash_command(
        &racer,
        &["datetime"],
        &[("timezone", json!("Mars/Olympus"))],
        &[],
    );
    let ack = w.fake.callback(&sent, WAIT).await;
    assert_eq!(ack["data"]["content"], "Unknown timezone: Mars/Olympus");
    let sent = w
        .fake
        .autocomplete(&racer, &["datetime"], &[], ("timezone", "berl"));
    let choices = w.fake.autocomplete_choices(&sent, WAIT).await;
    assert_eq!(choices[0]["value"], "Europe/Berlin");
}

#[tokio::test]
async fn a_dropped_gateway_resumes_and_missed_interactions_are_answered() {
    let w = world().await;
    let racer = Invoker::member(7, "runner");
    w.fake.drop_gateway();
    // Sent while the bot is disconnected: replayed on RESUME.
    let sent = w.fake.slash_command(
        &racer,
        &["z2r", "preset"],
        &[("preset", json!("maxrando"))],
        &[],
    );
    let reply = text_reply(&w, &sent).await;
    let content = reply["content"].as_str().unwrap();
    assert!(content.starts_with("**Seed**: "), "{content}");
    assert!(
        content.ends_with("**Flags:** iyhqh$j9g7@$ZqTBT!BhOAdES$vA"),
        "{content}"
    );
    let (identifies, resumes) = w.fake.gateway_counts();
    assert_eq!(identifies, 1, "the session was resumed, not replaced");
    assert!(resumes >= 1);
}

#[tokio::test]
async fn send_message_is_idempotent_and_blocked_dms_are_typed() {
    let w = world().await;
    let mut client = DiscordClient::connect(w.gateway.grpc_url()).await.unwrap();
    let request = pb::SendMessageRequest {
        idempotency_key: "tournament:room-opened:1".into(),
        channel_id: 555,
        content: "Room opened".into(),
        embeds: vec![pb::Embed {
            title: "Match 1".into(),
            fields: vec![pb::EmbedField {
                name: "Room".into(),
                value: "https://racetime.gg/alttpr/x".into(),
                inline: false,
            }],
            ..Default::default()
        }],
    };
    let first = client
        .send_message(request.clone())
        .await
        .unwrap()
        .into_inner();
    let again = client.send_message(request).await.unwrap().into_inner();
    assert_eq!(first, again);
    let posted = w.fake.channel_messages(555);
    assert_eq!(posted.len(), 1);
    // A 429 is waited out and the message still goes out once.
    w.fake.rate_limit("/channels/557/messages", 1);
    let limited = client
        .send_message(pb::SendMessageRequest {
            idempotency_key: "k-limited".into(),
            channel_id: 557,
            content: "after the limit".into(),
            embeds: vec![],
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(w.fake.channel_messages(557).len(), 1);
    assert_eq!(w.fake.calls_to("POST", "/channels/557/messages").len(), 2);
    assert_ne!(limited.message_id, 0);
    assert_eq!(posted[0]["embeds"][0]["title"], "Match 1");

    w.fake.forbid_channel(556);
    let error = client
        .send_message(pb::SendMessageRequest {
            idempotency_key: "k2".into(),
            channel_id: 556,
            content: "x".into(),
            embeds: vec![],
        })
        .await
        .unwrap_err();
    assert_eq!(error.code(), tonic::Code::PermissionDenied, "{error:?}");

    w.fake.block_dms(99);
    let error = client
        .send_direct_message(pb::SendDirectMessageRequest {
            idempotency_key: "dm-1".into(),
            user_id: 99,
            content: "Your match starts soon".into(),
            embeds: vec![],
        })
        .await
        .unwrap_err();
    assert_eq!(error.code(), tonic::Code::FailedPrecondition);
    assert!(
        error.message().starts_with("dm_blocked"),
        "{}",
        error.message()
    );
    let ok = client
        .send_direct_message(pb::SendDirectMessageRequest {
            idempotency_key: "dm-2".into(),
            user_id: 100,
            content: "Your match starts soon".into(),
            embeds: vec![],
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(Some(ok.channel_id), w.fake.dm_channel(100));
    assert_eq!(w.fake.channel_messages(ok.channel_id).len(), 1);
}

#[tokio::test]
async fn scheduled_events_are_created_once_per_key_updated_and_deleted() {
    let w = world().await;
    let mut client = DiscordClient::connect(w.gateway.grpc_url()).await.unwrap();
    let start = chrono::Utc::now() + chrono::Duration::days(1);
    let event = pb::ScheduledEvent {
        idempotency_key: "episode:42:event".into(),
        guild_id: 1,
        event_id: 0,
        name: "Alice vs Bob".into(),
        description: "Round 1".into(),
        location: "https://racetime.gg/alttpr/x".into(),
        start_time: Some(platform::grpc::timestamp(start)),
        end_time: Some(platform::grpc::timestamp(
            start + chrono::Duration::hours(2),
        )),
    };
    let first = client
        .create_scheduled_event(event.clone())
        .await
        .unwrap()
        .into_inner();
    let again = client
        .create_scheduled_event(event.clone())
        .await
        .unwrap()
        .into_inner();
    assert_ne!(first.event_id, 0);
    assert_eq!(first.event_id, again.event_id);
    assert_eq!(w.fake.scheduled_events().len(), 1);

    let mut renamed = first.clone();
    renamed.name = "Alice vs Carol".into();
    client.update_scheduled_event(renamed).await.unwrap();
    assert_eq!(
        w.fake.scheduled_events()[&first.event_id]["name"],
        "Alice vs Carol"
    );

    // An end before the start is refused before Discord is asked.
    let mut backwards = event.clone();
    backwards.idempotency_key = "episode:43:event".into();
    backwards.end_time = Some(platform::grpc::timestamp(
        start - chrono::Duration::hours(1),
    ));
    let error = client.create_scheduled_event(backwards).await.unwrap_err();
    assert_eq!(error.code(), tonic::Code::InvalidArgument);

    let delete = pb::DeleteScheduledEventRequest {
        guild_id: 1,
        event_id: first.event_id,
    };
    client.delete_scheduled_event(delete).await.unwrap();
    // A retried delete of an event that is already gone still succeeds.
    client.delete_scheduled_event(delete).await.unwrap();
    assert!(w.fake.scheduled_events().is_empty());
}

#[tokio::test]
async fn config_is_for_server_managers_and_drives_the_seed_audit_channel() {
    let w = world().await;
    let member = Invoker::member(42, "racer");
    let admin = Invoker::admin(1, "owner");

    let reply = set_config(&w, &member, "SeedAuditChannel", "<#555>").await;
    assert!(
        reply["content"]
            .as_str()
            .unwrap()
            .starts_with("You need the Manage Server permission")
    );

    let reply = set_config(&w, &admin, "SeedAuditChannel", "general").await;
    assert_eq!(
        reply["content"],
        "`general` is not a channel; mention it (#channel) or give its id."
    );

    let sent = w.fake.slash_command(
        &admin,
        &["config", "set"],
        &[
            ("key", json!("SeedAuditChannel")),
            ("value", json!("<#555>")),
        ],
        &[],
    );
    let ack = w.fake.callback(&sent, WAIT).await;
    assert_eq!(
        ack["data"]["flags"], 64,
        "config replies are private: {ack}"
    );
    let reply = text_reply(&w, &sent).await;
    assert_eq!(reply["content"], "SeedAuditChannel is now `555`.");
    let sent = w.fake.slash_command(&admin, &["config", "view"], &[], &[]);
    let reply = text_reply(&w, &sent).await;
    assert!(
        reply["content"]
            .as_str()
            .unwrap()
            .contains("**SeedAuditChannel**: <#555>"),
        "{reply}"
    );

    // A roll is announced once in the audit channel (seedgen's event, through JetStream).
    let sent = w.fake.slash_command(
        &member,
        &["alttpr", "preset"],
        &[("preset", json!("open"))],
        &[],
    );
    embed_reply(&w, &sent).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while w.fake.channel_messages(555).is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "no audit post");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let posts = w.fake.channel_messages(555);
    assert_eq!(posts.len(), 1);
    let embed = &posts[0]["embeds"][0];
    assert_eq!(embed["title"], "Seed generated");
    assert_eq!(field(embed, "Preset"), Some("open"));
    assert_eq!(field(embed, "Requested by"), Some("discord:42"));

    let sent = w.fake.slash_command(
        &admin,
        &["config", "clear"],
        &[("key", json!("SeedAuditChannel"))],
        &[],
    );
    let reply = text_reply(&w, &sent).await;
    assert_eq!(reply["content"], "SeedAuditChannel is cleared.");
}

#[tokio::test]
async fn holy_images_by_slug_alias_and_number_with_the_guild_default_game() {
    let w = world().await;
    let base = format!("{}/holyimage/", w.alttpr.uri());
    let racer = Invoker::member(42, "racer");
    let sent = w
        .fake
        .slash_command(&racer, &["holyimage"], &[("slug", json!("fairy"))], &[]);
    let reply = embed_reply(&w, &sent).await;
    let embed = &reply["embeds"][0];
    assert_eq!(embed["title"], "Fairy Fountain");
    assert_eq!(
        embed["description"],
        "Throw the bottle in.\nProfit & enjoy."
    );
    assert_eq!(embed["thumbnail"]["url"], format!("{base}images/fairy.png"));
    assert_eq!(
        field(embed, "Source"),
        Some(format!("{base}z3r-fairy.html").as_str())
    );
    assert_eq!(embed["footer"]["text"], "Created by Synack");
    for slug in ["ff", "1"] {
        let sent = w
            .fake
            .slash_command(&racer, &["holyimage"], &[("slug", json!(slug))], &[]);
        assert_eq!(
            embed_reply(&w, &sent).await["embeds"][0]["title"],
            "Fairy Fountain"
        );
    }
    // A redirect image is a link, not a picture.
    let sent = w
        .fake
        .slash_command(&racer, &["holyimage"], &[("slug", json!("fatfairy"))], &[]);
    let reply = embed_reply(&w, &sent).await;
    assert_eq!(
        field(&reply["embeds"][0], "Link"),
        Some("https://example.org/ff")
    );
    assert!(reply["embeds"][0]["thumbnail"].is_null());
    // Unknown: only the caller is told, with where to look.
    let sent = w
        .fake
        .slash_command(&racer, &["holyimage"], &[("slug", json!("nope"))], &[]);
    let followup = w.fake.wait_for_followup(&sent, WAIT).await;
    assert_eq!(
        followup["content"],
        format!("That holy image does not exist.  Check out <{base}>")
    );
    // The guild's default game applies to the lookup and to slug autocomplete.
    let admin = Invoker::admin(1, "owner");
    set_config(&w, &admin, "HolyImageDefaultGame", "smz3").await;
    let sent = w
        .fake
        .slash_command(&racer, &["holyimage"], &[("slug", json!("ship"))], &[]);
    assert_eq!(
        embed_reply(&w, &sent).await["embeds"][0]["title"],
        "The Ship"
    );
    let sent = w
        .fake
        .autocomplete(&racer, &["holyimage"], &[], ("slug", "s"));
    let choices = w.fake.autocomplete_choices(&sent, WAIT).await;
    assert_eq!(choices, vec![json!({"name": "ship", "value": "ship"})]);
    let sent = w
        .fake
        .autocomplete(&racer, &["holyimage"], &[], ("game", ""));
    let choices = w.fake.autocomplete_choices(&sent, WAIT).await;
    assert_eq!(choices.len(), 2);
}

#[tokio::test]
async fn the_daily_is_announced_once_per_channel_with_a_thread_and_sgdaily_reads_the_schedule() {
    let w = world().await;
    // The community commands went to the community guild only.
    let guild: Vec<String> = w
        .fake
        .registered_commands(Some(1))
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(guild, ["welcome", "rom", "sgdaily"]);
    assert!(
        !w.fake
            .registered_commands(None)
            .iter()
            .any(|c| c["name"] == "sgdaily")
    );

    let admin = Invoker::admin(1, "owner");
    let sent = w.fake.slash_command(
        &admin,
        &["config", "set"],
        &[
            ("key", json!("DailyAnnouncerChannel")),
            ("value", json!("<#777>, <#778>")),
        ],
        &[],
    );
    assert_eq!(
        text_reply(&w, &sent).await["content"],
        "DailyAnnouncerChannel is now `777,778`."
    );
    // The daily appears on alttpr.com only now.
    Mock::given(method("GET"))
        .and(path("/api/daily"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"hash": "DaIlYhAsH", "daily": "2026-11-21"})),
        )
        .mount(&w.alttpr)
        .await;
    Mock::given(method("GET"))
        .and(path("/hash/DaIlYhAsH"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "logic": "NoGlitches", "hash": "DaIlYhAsH", "generated": "2026-11-21T00:00:00+00:00", "size": 2,
            "patch": [{"1573397": [0, 1, 2, 3, 4]}],
            "spoiler": {"meta": {"name": "Daily Challenge: Nov 21", "spoilers": "off", "mode": "open", "logic": "NoGlitches"}}
        })))
        .mount(&w.alttpr)
        .await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while w.fake.channel_messages(777).is_empty()
        || w.fake.channel_messages(778).is_empty()
        || w.fake.threads().len() < 2
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no daily announcement: {:?}",
            w.fake.threads()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Later checks see the same daily and post nothing more.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    for channel in [777, 778] {
        let posts = w.fake.channel_messages(channel);
        assert_eq!(posts.len(), 1, "{posts:?}");
        assert_eq!(
            field(&posts[0]["embeds"][0], "Permalink"),
            Some(format!("{}/h/DaIlYhAsH", w.alttpr.uri()).as_str())
        );
    }
    let threads = w.fake.threads();
    assert_eq!(threads.len(), 2);
    assert!(
        threads
            .values()
            .all(|t| t["name"] == "Daily Challenge: Nov 21"
                && t["thread_metadata"]["auto_archive_duration"] == 1440)
    );

    // /dailygame shows the same daily.
    let racer = Invoker::member(42, "racer");
    let sent = w.fake.slash_command(&racer, &["dailygame"], &[], &[]);
    let reply = embed_reply(&w, &sent).await;
    assert_eq!(reply["embeds"][0]["title"], "Daily Challenge: Nov 21");
    assert!(
        reply["embeds"][0]["description"]
            .as_str()
            .unwrap()
            .starts_with("This is today's daily challenge.")
    );
    // The community texts.
    let sent = w
        .fake
        .slash_command(&racer, &["welcome"], &[("language", json!("german"))], &[]);
    assert!(
        text_reply(&w, &sent).await["content"]
            .as_str()
            .unwrap()
            .starts_with("Willkommen!")
    );
    let sent = w.fake.slash_command(&racer, &["rom"], &[], &[]);
    assert!(
        text_reply(&w, &sent).await["content"]
            .as_str()
            .unwrap()
            .contains("http://alttp.mymm1.com/game/checkcrc/")
    );

    // /sgdaily: the next race, then three days of them (SpeedGaming answers JSON as text/html).
    let soon = chrono::Utc::now() + chrono::Duration::hours(5);
    let later = chrono::Utc::now() + chrono::Duration::hours(50);
    let episode = |when: chrono::DateTime<chrono::Utc>, title: &str| {
        json!({
            "id": 1, "when": when.to_rfc3339(), "whenCountdown": when.to_rfc3339(),
            "event": {"name": "ALTTPR Daily", "slug": "alttprdaily"},
            "match1": {"title": title, "players": []},
            "channels": [{"name": "SpeedGaming"}, {"name": "No Restream"}]
        })
    };
    Mock::given(method("GET"))
        .and(path("/sg/schedule"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            json!([episode(later, "Open"), episode(soon, "")]).to_string(),
            "text/html",
        ))
        .mount(&w.alttpr)
        .await;
    let sent = w.fake.slash_command(&racer, &["sgdaily"], &[], &[]);
    let reply = embed_reply(&w, &sent).await;
    let embed = &reply["embeds"][0];
    assert_eq!(embed["title"], "ALTTPR Daily");
    assert!(
        embed["description"]
            .as_str()
            .unwrap()
            .starts_with("**Mode:** *TBD*")
    );
    assert_eq!(
        field(embed, "Time"),
        Some(format!("<t:{0}:f> (<t:{0}:R>)", soon.timestamp()).as_str())
    );
    assert_eq!(
        field(embed, "Twitch Channels"),
        Some("[SpeedGaming](https://twitch.tv/SpeedGaming)")
    );
    let sent = w
        .fake
        .slash_command(&racer, &["sgdaily"], &[("number_of_days", json!(3))], &[]);
    let reply = embed_reply(&w, &sent).await;
    let names: Vec<&str> = reply["embeds"][0]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["TBD", "Open"]);
}

#[tokio::test]
async fn a_watched_racer_starting_a_race_is_posted_once() {
    use prost::Message as _;
    let w = world().await;
    let admin = Invoker::admin(1, "owner");
    for (key, value) in [
        ("RaceWatchChannel", "<#880>"),
        ("RaceWatchCategories", "alttpr"),
        ("RaceWatchPlayers", "abc"),
    ] {
        set_config(&w, &admin, key, value).await;
    }
    let event = proto::events::v1::RaceStatusChanged {
        category: "alttpr".into(),
        room_slug: "cool-race-1234".into(),
        status: "in_progress".into(),
        previous_status: "pending".into(),
        room: "alttpr/cool-race-1234".into(),
        room_url: "https://racetime.gg/alttpr/cool-race-1234".into(),
        version: 7,
        entrants: vec![
            proto::events::v1::RaceEntrant {
                user_id: "abc".into(),
                name: "Watched".into(),
                ..Default::default()
            },
            proto::events::v1::RaceEntrant {
                user_id: "xyz".into(),
                name: "Other".into(),
                ..Default::default()
            },
        ],
        ..Default::default()
    };
    let id = uuid::Uuid::now_v7().to_string();
    let envelope = proto::events::v1::Envelope {
        id: id.clone(),
        occurred_at: Some(platform::grpc::timestamp(chrono::Utc::now())),
        source: "racetime".into(),
        subject: "racetime.race.status_changed".into(),
        trace: None,
        payload: Some(prost_types::Any::from_msg(&event).unwrap()),
    };
    let jetstream = w.nats.jetstream().await.unwrap();
    // Delivered twice (a redelivery): posted once.
    for _ in 0..2 {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(
            async_nats::header::NATS_MESSAGE_ID,
            format!("{id}-{}", uuid::Uuid::now_v7()).as_str(),
        );
        jetstream
            .publish_with_headers(
                format!("{}.racetime.race.status_changed", w.nats.subject_prefix),
                headers,
                envelope.encode_to_vec().into(),
            )
            .await
            .unwrap()
            .await
            .unwrap();
    }
    let deadline = tokio::time::Instant::now() + WAIT;
    while w.fake.channel_messages(880).is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "no race watch post");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let posts = w.fake.channel_messages(880);
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert_eq!(
        posts[0]["embeds"][0]["title"],
        "Watchlisted Player Detected in race"
    );
    assert_eq!(
        posts[0]["embeds"][0]["description"],
        "Watchlisted player [Watched](https://racetime.gg/user/abc) began racing in [alttpr/cool-race-1234](https://racetime.gg/alttpr/cool-race-1234)"
    );
}
