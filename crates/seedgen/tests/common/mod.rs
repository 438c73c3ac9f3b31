//! Shared pieces of seedgen's integration tests: settings pointing every provider at a fake
//! HTTP server, a fast retry policy, the local S3 server, and alttpr.com-shaped responses.

#![allow(dead_code)]

use std::path::PathBuf;

use seedgen::SeedgenSettings;
use seedgen::providers::HttpPolicy;

/// Settings whose providers all live at `base` (a wiremock server), with retries in
/// milliseconds instead of seconds.
pub fn settings(base: &str) -> SeedgenSettings {
    let mut s = SeedgenSettings {
        presets_dir: repo_presets(),
        ..SeedgenSettings::default()
    };
    s.providers.http = HttpPolicy {
        timeout_secs: 1.0,
        attempts: 3,
        backoff_min_ms: 10,
        backoff_max_ms: 20,
        breaker_failures: 100,
        breaker_open_secs: 30,
    };
    let p = &mut s.providers;
    p.alttpr.base_url = base.into();
    p.alttpr.live_url = format!("{base}/live");
    p.alttpr.beeta_url = format!("{base}/beeta");
    p.alttpr.tournament_url = format!("{base}/tournament");
    p.samus.smz3_url = base.into();
    p.samus.sm_url = format!("{base}/sm");
    p.samus.smz3_release_url = format!("{base}/{{release}}");
    p.samus.sm_release_url = format!("{base}/sm-{{release}}");
    p.samus.multiworld_url = format!("{base}/mw");
    p.avianart.base_url = base.into();
    p.avianart.poll_interval_ms = 5;
    p.dash.base_url = base.into();
    p.varia.base_url = base.into();
    p.ctjets.base_url = base.into();
    p.ootr.base_url = base.into();
    s
}

/// The repository's bundled presets.
pub fn repo_presets() -> PathBuf {
    PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"))
        .join("../../presets")
}

/// The upstream community presets.
pub fn upstream_presets() -> PathBuf {
    testkit::shared_dir().join("upstream/presets")
}

/// Storage settings for the local S3 server started by the test command, with a fresh bucket.
pub async fn s3(settings: &mut SeedgenSettings) {
    let endpoint =
        std::env::var("TEST_S3_ENDPOINT").unwrap_or_else(|_| "http://127.0.0.1:9300".into());
    let bucket = format!("spoilers-{}", testkit::unique_suffix().to_lowercase());
    settings.storage.bucket = bucket.clone();
    settings.storage.endpoint = Some(endpoint.clone());
    settings.storage.force_path_style = true;
    settings.storage.access_key_id = Some("test".into());
    settings.storage.secret_access_key = Some("test".to_string().into());
    settings.storage.public_url_base = format!("{endpoint}/{bucket}");
    let store = seedgen::storage::ObjectStore::new(&settings.storage).expect("store");
    store.ensure_bucket().await.unwrap_or_else(|e| {
        panic!("the local S3 server at {endpoint} must run (deploy/local/test.sh starts it): {e}")
    });
}

/// An alttpr.com generate response with file-select code Moon Pearl/Boots/Bombs/Bow/Boomerang.
pub use testkit::fixtures::alttpr_seed_response as alttpr_response;

pub const CODE: [&str; 5] = ["Moon Pearl", "Boots", "Bombs", "Bow", "Boomerang"];
