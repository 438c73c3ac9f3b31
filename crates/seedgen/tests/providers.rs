//! Generation against HTTP fakes of every provider (response shapes of spec §2), the door
//! pipeline with stand-in scripts, and spoiler uploads to the local S3 server.

#![allow(clippy::unwrap_used)]

mod common;

use std::io::Read;
use std::sync::Arc;

use seedgen::generate::{GenerateError, Job, Request};
use seedgen::preset::files::GlobalPresets;
use seedgen::providers::ProviderErrorKind;
use serde_json::{Value as Json, json};
use wiremock::matchers::{body_json, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn generator(settings: &seedgen::SeedgenSettings) -> seedgen::generate::Generator {
    seedgen::build_generator(settings, None).expect("generator")
}

fn request(randomizer: &str, preset: &str) -> Request {
    Request {
        randomizer: randomizer.into(),
        preset: preset.into(),
        race: true,
        allow_quickswap: true,
        surface: "test".into(),
        ..Request::default()
    }
}

fn provider_kind(error: &GenerateError) -> ProviderErrorKind {
    match error {
        GenerateError::Provider(p) => p.kind,
        other => panic!("expected a provider error, got {other}"),
    }
}

#[tokio::test]
async fn alttpr_seed_comes_back_with_hash_code_and_permalink() {
    let server = MockServer::start().await;
    let expected: Json = serde_json::from_str(
        &std::fs::read_to_string(
            testkit::shared_dir().join("fixtures/seedgen/sample_payload_open.json"),
        )
        .unwrap(),
    )
    .unwrap();
    Mock::given(method("POST"))
        .and(path("/api/randomizer"))
        .and(body_json(&expected["body"]))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(common::alttpr_response("W4xkRb2A7q", "off")),
        )
        .expect(1)
        .mount(&server)
        .await;
    let generated = generator(&common::settings(&server.uri()))
        .generate(&request("alttpr", "open"))
        .await
        .unwrap();
    assert_eq!(generated.seed.hash, "W4xkRb2A7q");
    assert_eq!(generated.seed.url, format!("{}/h/W4xkRb2A7q", server.uri()));
    assert_eq!(generated.seed.code, common::CODE);
    assert_eq!(generated.seed.title.as_deref(), Some("Seed Name"));
    assert_eq!(generated.provider, "alttpr.com");
    assert_eq!(generated.settings, expected["body"]);
}

#[tokio::test]
async fn server_errors_are_retried_then_succeed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(502))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(common::alttpr_response("abc", "off")),
        )
        .mount(&server)
        .await;
    let generated = generator(&common::settings(&server.uri()))
        .generate(&request("alttpr", "open"))
        .await
        .unwrap();
    assert_eq!(generated.seed.hash, "abc");
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn a_rejection_is_not_retried_and_keeps_the_providers_message() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(422)
                .set_body_json(json!({"message": "The crystals.tower field is invalid."})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let error = generator(&common::settings(&server.uri()))
        .generate(&request("alttpr", "open"))
        .await
        .unwrap_err();
    assert_eq!(provider_kind(&error), ProviderErrorKind::Rejected);
    assert_eq!(
        error.to_string(),
        "alttpr.com: The crystals.tower field is invalid."
    );
}

#[tokio::test]
async fn timeouts_and_garbage_are_typed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/randomizer"))
        .respond_with(ResponseTemplate::new(200).set_delay(std::time::Duration::from_secs(3)))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/beeta/api/randomizer"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>oops</html>"))
        .mount(&server)
        .await;
    let mut settings = common::settings(&server.uri());
    settings.providers.http.timeout_secs = 0.2;
    settings.providers.http.attempts = 2;
    let g = generator(&settings);
    let error = g.generate(&request("alttpr", "open")).await.unwrap_err();
    assert_eq!(provider_kind(&error), ProviderErrorKind::Timeout);
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        2,
        "a timeout is retried"
    );

    let mut beeta = request("alttpr", "open");
    beeta.branch = Some("beeta".into());
    let error = g.generate(&beeta).await.unwrap_err();
    assert_eq!(provider_kind(&error), ProviderErrorKind::ResponseFormat);
    assert!(
        error
            .to_string()
            .starts_with("alttpr.com: the answer is not JSON"),
        "{error}"
    );
}

#[tokio::test]
async fn the_circuit_breaker_fails_fast_while_a_provider_is_down() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let mut settings = common::settings(&server.uri());
    settings.providers.http.attempts = 1;
    settings.providers.http.breaker_failures = 2;
    let g = generator(&settings);
    for _ in 0..2 {
        let error = g.generate(&request("alttpr", "open")).await.unwrap_err();
        assert_eq!(provider_kind(&error), ProviderErrorKind::Unavailable);
    }
    let error = g.generate(&request("alttpr", "open")).await.unwrap_err();
    assert!(
        error.to_string().contains("not trying again for a while"),
        "{error}"
    );
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        2,
        "the open breaker sent nothing"
    );
}

#[tokio::test]
async fn connection_refused_is_unavailable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let mut settings = common::settings(&base);
    settings.providers.http.attempts = 2;
    let error = generator(&settings)
        .generate(&request("alttpr", "open"))
        .await
        .unwrap_err();
    assert_eq!(provider_kind(&error), ProviderErrorKind::Unavailable);
    assert!(
        error.to_string() == "alttpr.com: cannot be reached right now",
        "{error}"
    );
}

#[tokio::test]
async fn every_upstream_alttpr_preset_builds_its_request_for_every_option() {
    let presets = Arc::new(GlobalPresets::load(common::upstream_presets()));
    let catalog = presets.catalog();
    let invalid: Vec<_> = catalog
        .invalid()
        .iter()
        .map(|(r, n, _)| format!("{r}/{n}"))
        .collect();
    assert_eq!(
        invalid,
        ["alttprmystery/festive"],
        "only the seasonal weightset lacks required keys"
    );
    assert_eq!(catalog.len(), 206);
    let mut settings = common::settings("http://alttpr.test");
    settings.presets_dir = common::upstream_presets();
    let g = generator(&settings);
    let mut built = 0;
    for preset in catalog.presets("alttpr") {
        let seedgen::preset::PresetBody::Alttpr(alttpr) = &preset.body else {
            panic!()
        };
        let own_quickswap = alttpr.settings.get("allow_quickswap").cloned();
        for flags in 0..16u8 {
            for branch in [None, Some("live"), Some("beeta"), Some("tournament")] {
                let r = Request {
                    randomizer: "alttpr".into(),
                    preset: preset.name.clone(),
                    race: flags & 1 != 0,
                    hints: flags & 2 != 0,
                    allow_quickswap: flags & 4 != 0,
                    spoiler: flags & 8 != 0,
                    branch: branch.map(str::to_string),
                    ..Request::default()
                };
                let planned = g
                    .plan(&r)
                    .await
                    .unwrap_or_else(|e| panic!("{}: {e}", preset.name));
                match &planned.job {
                    Job::Alttpr(a) => {
                        let body = &a.body;
                        assert_eq!(body["tournament"], r.race || r.spoiler, "{}", preset.name);
                        let spoilers = if r.spoiler {
                            "generate"
                        } else if r.race {
                            "off"
                        } else {
                            "on"
                        };
                        assert_eq!(body["spoilers"], spoilers);
                        if r.hints {
                            assert_eq!(body["hints"], "on");
                        } else {
                            assert_eq!(body.get("hints"), alttpr.settings.get("hints"));
                        }
                        let quickswap = own_quickswap
                            .clone()
                            .unwrap_or(Json::Bool(r.allow_quickswap || r.spoiler));
                        assert_eq!(body["allow_quickswap"], quickswap, "{}", preset.name);
                        let endpoint = if alttpr.kind == seedgen::alttpr::AlttprKind::Customizer {
                            "/api/customizer"
                        } else {
                            "/api/randomizer"
                        };
                        assert_eq!(a.endpoint, endpoint);
                        let base = match branch {
                            Some(b) => format!("http://alttpr.test/{b}"),
                            None => "http://alttpr.test".into(),
                        };
                        assert_eq!(g.alttpr.request_url(a), format!("{base}{endpoint}"));
                        built += 1;
                    }
                    Job::Doors(d) => assert_eq!(d.id.len(), 12),
                    Job::Avianart(a) => assert!(!a.preset.is_empty()),
                    other => panic!("{}: unexpected job {other:?}", preset.name),
                }
            }
        }
    }
    assert_eq!(
        built,
        104 * 64,
        "randomizer and customizer presets × every combination"
    );
}

#[tokio::test]
async fn forced_locations_place_their_items_in_the_customizer_body() {
    let mut settings = common::settings("http://alttpr.test");
    settings.presets_dir = common::upstream_presets();
    let g = generator(&settings);
    let mut r = request("alttpr", "invrosia");
    for seed in 0..20 {
        r.rng_seed = Some(seed);
        let Job::Alttpr(a) = g.plan(&r).await.unwrap().job else {
            panic!()
        };
        let placed: Vec<_> = a.body["l"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, v)| *v == "BigKeyA2:1")
            .collect();
        assert_eq!(placed.len(), 1);
        let again = g.plan(&r).await.unwrap().job;
        assert_eq!(
            Job::Alttpr(a),
            again,
            "the same rng seed places the same way"
        );
    }
}

#[tokio::test]
async fn samus_link_seeds_multiworld_and_spoiler_keys() {
    let server = MockServer::start().await;
    let answer = json!({"id": 1, "gameName": "SMZ3", "gameVersion": "11.3", "guid": "0f5b2a1c3d4e4f6a8b9c0d1e2f3a4b5c",
                        "hash": "GEEMER RIPPER ATOMIC POWAMP", "mode": "normal", "worlds": []});
    Mock::given(method("POST"))
        .and(path("/api/randomizers/smz3/generate"))
        .respond_with(ResponseTemplate::new(200).set_body_json(&answer))
        .mount(&server)
        .await;
    let mut mw = answer.clone();
    mw["mode"] = json!("multiworld");
    Mock::given(method("POST"))
        .and(path("/mw/api/randomizers/smz3/generate"))
        .respond_with(ResponseTemplate::new(200).set_body_json(&mw))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/sm/api/randomizers/sm/generate"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    let g = generator(&common::settings(&server.uri()));
    let mut r = request("smz3", "normal");
    r.spoiler = true;
    let seed = g.generate(&r).await.unwrap();
    assert_eq!(
        seed.seed.url,
        format!("{}/seed/D1sqHD1OT2qLnA0eLzpLXA", server.uri())
    );
    assert_eq!(seed.seed.code, ["GEEMER", "RIPPER", "ATOMIC", "POWAMP"]);
    let key = seed.settings["spoilerKey"].as_str().unwrap();
    assert_eq!(key.len(), 20);
    assert_eq!(seed.settings["race"], "true");
    assert_eq!(
        seed.seed.spoiler_url.as_deref(),
        Some(
            format!(
                "{}/api/spoiler/0f5b2a1c3d4e4f6a8b9c0d1e2f3a4b5c?key={key}&yaml=True",
                server.uri()
            )
            .as_str()
        )
    );
    let mut r = request("smz3", "normal");
    r.players = vec!["alice".into(), "bob".into()];
    let seed = g.generate(&r).await.unwrap();
    assert!(
        seed.seed
            .url
            .ends_with("/multiworld/D1sqHD1OT2qLnA0eLzpLXA"),
        "{}",
        seed.seed.url
    );
    assert_eq!(seed.settings["players"], "2");
    assert_eq!(seed.settings["player-1"], "bob");
    assert_eq!(seed.settings["gamemode"], "multiworld");
    let error = g.generate(&request("sm", "casual_full")).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "samus.link: the server failed (HTTP 500)"
    );
}

#[tokio::test]
async fn avianart_polls_until_done_and_reports_failures() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(query_param("action", "generate"))
        .and(query_param("preset", "crosskeys"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"status": 200, "response": {"hash": "abc123", "status": "generating"}}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(query_param("hash", "abc123"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"status": 200, "response": {"status": "generating"}})),
        )
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(query_param("hash", "abc123"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"status": 200, "response": {
            "message": "done", "spoiler": {"meta": {"hash": "Bow, Boomerang, Hookshot, Bomb, Pearl", "version": "1.0"}}, "patch": []}})))
        .mount(&server)
        .await;
    let yaml = "avianart: true\nsettings:\n  preset: crosskeys\n";
    let g = generator(&common::settings(&server.uri()));
    let mut r = request("alttpr", "");
    r.preset_yaml = yaml.into();
    let seed = g.generate(&r).await.unwrap();
    assert_eq!(seed.seed.url, format!("{}/perm/abc123", server.uri()));
    assert_eq!(
        seed.seed.code,
        ["Bow", "Boomerang", "Hookshot", "Bombs", "Moon Pearl"]
    );
    assert!(seed.avianart);
    assert_eq!(seed.seed.attempts, 4, "one generate and three polls");

    let failing = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"response": {"hash": "x", "status": "failure", "message": "bad preset"}}),
        ))
        .mount(&failing)
        .await;
    let error = generator(&common::settings(&failing.uri()))
        .generate(&r)
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "avianart: Failed to generate game: bad preset"
    );

    let stuck = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"response": {"hash": "x", "status": "generating"}})),
        )
        .mount(&stuck)
        .await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"response": {"status": "generating"}})),
        )
        .mount(&stuck)
        .await;
    let mut settings = common::settings(&stuck.uri());
    settings.providers.avianart.max_polls = 3;
    let error = generator(&settings).generate(&r).await.unwrap_err();
    assert_eq!(provider_kind(&error), ProviderErrorKind::Timeout);
}

#[tokio::test]
async fn dash_varia_ootr_and_ctjets() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/generate/recall"))
        .respond_with(
            ResponseTemplate::new(307).set_body_string("https://www.dashrando.net/seed/ABC123"),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/randoPresetWebService"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"majorsSplit": "Full", "areaRandomization": "off"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/presetWebService"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"Knows": {}})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/randomizerWebService"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"fileName": "VARIA.sfc", "ips": "", "errorMsg": "warn<br/>two", "seedKey": "7b0cbb2a-12f9-4d65-9a0e-62e7ba3f3a36"})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/sglive/seed/create"))
        .and(query_param("key", "k"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 123456})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/3_1_0/options/"))
        .respond_with(ResponseTemplate::new(200)
            .insert_header("set-cookie", "csrftoken=c00k; Path=/")
            .set_body_string(r#"<form><input type="hidden" name="csrfmiddlewaretoken" value="tok3n"></form>"#))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/3_1_0/generate-rom/"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string(r#"<p><a href="/share/XYZ">Seed share link</a></p>"#),
        )
        .mount(&server)
        .await;
    let mut settings = common::settings(&server.uri());
    settings.providers.ootr.api_key = Some("k".to_string().into());
    let rom = std::env::temp_dir().join(format!("ct-{}.sfc", testkit::unique_suffix()));
    std::fs::write(&rom, b"not really a rom").unwrap();
    settings.providers.ctjets.rom = Some(rom.clone());
    let g = generator(&settings);

    let dash = g.generate(&request("smdash", "recall")).await.unwrap();
    assert_eq!(dash.seed.url, "https://www.dashrando.net/seed/ABC123");
    assert_eq!(dash.seed.hash, "ABC123");

    let varia = g
        .generate(&request("smvaria", "regular/Season_Races"))
        .await
        .unwrap();
    assert_eq!(
        varia.seed.url,
        format!(
            "{}/customizer/7b0cbb2a-12f9-4d65-9a0e-62e7ba3f3a36",
            server.uri()
        )
    );
    assert_eq!(varia.seed.notes.as_deref(), Some("warn\ntwo"));

    let mut ootr = request("ootr", "");
    ootr.preset_yaml = "world_count: 1\nshuffle_song_items: song\n".into();
    let seed = g.generate(&ootr).await.unwrap();
    assert_eq!(
        seed.seed.url,
        format!("{}/seed/get?id=123456", server.uri())
    );

    let ct = g.generate(&request("ctjets", "race")).await.unwrap();
    assert_eq!(ct.seed.url, format!("{}/share/XYZ", server.uri()));
    let posted = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.url.path() == "/3_1_0/generate-rom/")
        .unwrap();
    let body = String::from_utf8_lossy(&posted.body);
    assert!(
        body.contains("tok3n")
            && body.contains("not really a rom")
            && body.contains("Fully Random")
    );
    assert_eq!(posted.headers.get("cookie").unwrap(), "csrftoken=c00k");
    std::fs::remove_file(rom).ok();

    let mut settings = common::settings(&server.uri());
    settings.providers.ctjets.rom = None;
    let error = generator(&settings)
        .generate(&request("ctjets", "race"))
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("no Chrono Trigger ROM is configured"),
        "{error}"
    );
}

fn gunzip(bytes: &[u8]) -> String {
    let mut text = String::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_string(&mut text)
        .unwrap();
    text
}

#[tokio::test]
async fn spoiler_races_upload_the_log_to_s3() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(common::alttpr_response("SpOiLeR123", "generate")),
        )
        .mount(&server)
        .await;
    let mut settings = common::settings(&server.uri());
    common::s3(&mut settings).await;
    let g = generator(&settings);
    let mut r = request("alttpr", "open");
    r.spoiler = true;
    r.spoiler_type = "spoiler".into();
    let seed = g.generate(&r).await.unwrap();
    assert_eq!(seed.settings["spoilers"], "generate");
    assert_eq!(seed.study_time_seconds, 900);
    let url = seed.seed.spoiler_url.clone().expect("spoiler url");
    let key = url.rsplit('/').next().unwrap();
    assert!(
        key.starts_with("spoiler__SpOiLeR123__MoonPearl-Boots-Bombs-Bow-Boomerang__"),
        "{key}"
    );
    let store = seedgen::storage::ObjectStore::new(&settings.storage).unwrap();
    let log: Json = serde_json::from_str(&gunzip(&store.get(key).await.unwrap())).unwrap();
    assert_eq!(log["Prizes"]["Eastern Palace"], "PendantOfCourage");
    assert_eq!(log["meta"]["hash"], "SpOiLeR123");

    r.spoiler_type = "progression".into();
    let seed = g.generate(&r).await.unwrap();
    assert_eq!(seed.study_time_seconds, 0);
    let key = seed
        .seed
        .spoiler_url
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let log: Json = serde_json::from_str(&gunzip(&store.get(&key).await.unwrap())).unwrap();
    assert_eq!(log["Light World"], json!(["Link's Uncle"]));

    let mut no_store = common::settings(&server.uri());
    no_store.storage.bucket.clear();
    let error = generator(&no_store).generate(&r).await.unwrap_err();
    assert!(
        error.to_string().contains("SEEDGEN_STORAGE__BUCKET"),
        "{error}"
    );
}

fn script(dir: &std::path::Path, name: &str, body: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    path
}

#[tokio::test]
async fn door_seeds_run_the_generator_patch_and_upload() {
    let dir = std::env::temp_dir().join(format!("doors-{}", testkit::unique_suffix()));
    std::fs::create_dir_all(&dir).unwrap();
    // A stand-in DungeonRandomizer.py: reads the settings file, writes ROM and spoiler.
    script(
        &dir,
        "DungeonRandomizer.py",
        r#"import json, sys, os
settings = json.load(open(sys.argv[2]))
if settings.get("goal") == "explode":
    sys.stderr.write("Traceback...\nValueError: bad goal\n")
    sys.exit(1)
out = os.path.join(settings["outputpath"], "DR_" + settings["outputname"])
open(out + ".sfc", "wb").write(b"ROM" + json.dumps(settings).encode())
open(out + "_Spoiler.txt", "w").write("ALttP Dungeon Randomizer Version 1.4.1.11-v  -  Seed: 4242\n\nHash: Bomb, Pearl, Bug Net, Bow, Key\n")
"#,
    );
    let flips = script(&dir, "flips", "#!/bin/sh\nprintf BPS > \"$5\"\n");
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(&flips)
        .status()
        .unwrap();
    let mut settings = common::settings("http://unused.test");
    common::s3(&mut settings).await;
    settings.providers.doors.stable_dir = dir.clone();
    settings.providers.doors.flips = flips;
    settings.providers.doors.rom = dir.join("base.sfc");
    settings.providers.doors.patcher_url = "https://patch.test/?patch=".into();
    settings.providers.doors.attempts = 2;
    let g = generator(&settings);
    let mut r = request("alttpr", "");
    r.race = false;
    r.preset_yaml =
        "doors: true\nsettings:\n  goal: ganon\n  door_shuffle: crossed\n  hints: false\n".into();
    let seed = g.generate(&r).await.unwrap();
    assert!(seed.doors);
    assert_eq!(seed.seed.hash.len(), 12);
    assert_eq!(
        seed.seed.code,
        ["Bombs", "Moon Pearl", "Bugnet", "Bow", "Big Key"]
    );
    assert_eq!(seed.seed.version.as_deref(), Some("1.4.1.11-v"));
    let patch_url = format!(
        "{}/patch/DR_{}.bps",
        settings.storage.public_url_base, seed.seed.hash
    );
    assert_eq!(
        seed.seed.url,
        format!("https://patch.test/?patch={patch_url}")
    );
    assert!(
        seed.seed.spoiler_url.is_some(),
        "not a race: the spoiler is public"
    );
    let store = seedgen::storage::ObjectStore::new(&settings.storage).unwrap();
    assert_eq!(
        store
            .get(&format!("patch/DR_{}.bps", seed.seed.hash))
            .await
            .unwrap(),
        b"BPS"
    );
    let spoiler = gunzip(
        &store
            .get(&format!("spoiler/DR_{}_Spoiler.txt", seed.seed.hash))
            .await
            .unwrap(),
    );
    assert!(spoiler.contains("Hash: Bomb, Pearl"));

    r.preset_yaml = "doors: true\nsettings:\n  goal: explode\n".into();
    let error = g.generate(&r).await.unwrap_err();
    assert_eq!(provider_kind(&error), ProviderErrorKind::Rejected);
    assert!(
        error.to_string().contains("ValueError: bad goal"),
        "{error}"
    );
    if let GenerateError::Provider(p) = &error {
        assert_eq!(p.attempts, 2);
    }
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn local_rollers_need_no_network_and_replay_from_the_rng_seed() {
    let g = generator(&common::settings("http://unused.test"));
    let mut r = request("z1r", "rr2024");
    r.rng_seed = Some(99);
    let a = g.generate(&r).await.unwrap();
    let b = g.generate(&r).await.unwrap();
    assert_eq!(a.seed.hash, b.seed.hash);
    assert_eq!(a.provider, "local");
    // The flags travel as their own field, not only inside the notes.
    let flags = a.seed.flags.clone().expect("a local roll has flags");
    assert!(!flags.is_empty());
    assert_eq!(a.seed.flags_description, None, "rr2024 is one flag set");
    let mrb = g.generate(&request("z2r", "mrb")).await.unwrap();
    let description = mrb
        .seed
        .flags_description
        .expect("mrb says which set it drew");
    assert_eq!(
        mrb.seed.notes.as_deref(),
        Some(format!("{description}: {}", mrb.seed.flags.unwrap()).as_str())
    );
    let error = g.generate(&request("z2r", "nope")).await.unwrap_err();
    assert!(
        error.to_string() == "unknown z2r preset `nope` (the help lists all 9)",
        "{error}"
    );
}

#[tokio::test]
async fn mystery_generation_masks_and_routes() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(common::alttpr_response("MyStErY", "mystery")),
        )
        .mount(&server)
        .await;
    let mut settings = common::settings(&server.uri());
    settings.presets_dir = common::upstream_presets();
    let g = generator(&settings);
    let mut r = request("alttprmystery", "weighted");
    r.rng_seed = Some(7);
    let seed = g.generate(&r).await.unwrap();
    assert!(seed.masked);
    assert_eq!(seed.kind, "mystery");
    assert_eq!(seed.settings["spoilers"], "mystery");
    assert_eq!(seed.rng_seed, 7);
    let sent: Json =
        serde_json::from_slice(&server.received_requests().await.unwrap()[0].body).unwrap();
    assert_eq!(sent, seed.settings);

    // grabbag's `preset:` names `tournament`, which does not exist upstream.
    let mut grab = request("alttprmystery", "grabbag");
    let mut failures = 0;
    let mut customizers = 0;
    for seed in 0..200 {
        grab.rng_seed = Some(seed);
        let planned = g.plan(&grab).await;
        if let Ok(planned) = &planned
            && let seedgen::generate::Job::Alttpr(sent) = &planned.job
        {
            // The drawn preset is not revealed on the seed page: no `name`/`notes`; quickswap
            // is the preset's own value or, when it sets none, upstream's mystery default.
            assert!(
                sent.body.get("name").is_none(),
                "seed {seed}: {}",
                sent.body
            );
            assert!(
                sent.body.get("notes").is_none(),
                "seed {seed}: {}",
                sent.body
            );
            assert!(sent.body["allow_quickswap"].is_boolean(), "seed {seed}");
            customizers += usize::from(sent.endpoint.ends_with("/api/customizer"));
        }
        if let Err(error) = planned {
            assert!(
                error
                    .to_string()
                    .contains("rolled the preset `tournament`, which does not exist"),
                "{error}"
            );
            failures += 1;
        }
    }
    assert!(
        (1..40).contains(&failures),
        "about 5% of grabbag rolls hit the missing preset: {failures}"
    );
    assert!(
        customizers > 0,
        "grabbag draws customizer presets (which carry name and notes)"
    );
    let error = g
        .plan(&request("alttprmystery", "festive"))
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("has no `glitches_required`"),
        "{error}"
    );
}

/// A door preset's ROM is a race ROM for every race, spoiler races included, and its log is
/// public exactly when spoilers are generated (upstream's `race = (spoilers == "on")` gave a
/// spoiler race a race ROM and a private log).
#[tokio::test]
async fn door_presets_race_rom_and_public_log_are_independent() {
    let g = generator(&common::settings("http://unused.test"));
    let mut r = request("alttpr", "");
    r.preset_yaml = "doors: true\nsettings:\n  goal: ganon\n  door_shuffle: crossed\n".into();
    let plan = |race: bool, spoiler: bool| {
        let mut r = r.clone();
        r.race = race;
        r.spoiler = spoiler;
        let g = &g;
        async move {
            match g.plan(&r).await.unwrap().job {
                seedgen::generate::Job::Doors(doors) => (doors.race, doors.spoilers),
                other => panic!("not a door job: {other:?}"),
            }
        }
    };
    assert_eq!(plan(false, false).await, (false, true), "casual: open log");
    let mut nightly = r.clone();
    nightly.branch = Some("nightly".into());
    let error = g.plan(&nightly).await.unwrap_err().to_string();
    assert!(error.starts_with("unknown branch `nightly`"), "{error}");
    assert_eq!(
        plan(true, false).await,
        (true, false),
        "race: race ROM, no log"
    );
    assert_eq!(
        plan(true, true).await,
        (true, true),
        "spoiler race: race ROM, public log"
    );
}
