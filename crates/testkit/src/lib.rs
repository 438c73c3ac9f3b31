//! Test-only support, so every test talks to real parts:
//! - [`TestDb`]: a fresh MariaDB database (or, with `TEST_DATABASE=sqlite`, SQLite file) per
//!   test, dropped afterwards;
//! - [`TestNats`]: stream and subject names unique per test on the shared NATS server, or a
//!   private `nats-server` process that a test can restart;
//! - [`ServiceHandle`]: any service run in-process on ephemeral ports against them.
//!
//! `TEST_DATABASE_URL` (default `mysql://root@127.0.0.1:3306`) and `TEST_NATS_URL` (default
//! `nats://127.0.0.1:4222`) say where the servers are; `TEST_LOG=1` shows logs.

#![warn(missing_docs)]

pub mod bench;
pub mod browser;
mod db;
pub mod discord;
pub mod fixtures;
pub mod iracing;
mod nats;
pub mod oauth;
pub mod process;
pub mod racetime;
mod service;
pub mod speedgaming;
mod ws;

pub use db::{Backend, TestDb};
pub use discord::FakeDiscord;
pub use nats::TestNats;
pub use platform::admin::http_get;
pub use racetime::FakeRacetime;
pub use service::{ServiceHandle, bind_ephemeral, configure};

/// Installs the crypto provider and the test subscriber; call first in every test.
pub fn init() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    platform::telemetry::init_for_tests();
}

/// A short random suffix for names that must not collide between tests.
pub fn unique_suffix() -> String {
    // The tail of a UUIDv7 is its random part.
    uuid::Uuid::now_v7().simple().to_string()[16..].to_owned()
}

/// Runs `cleanup` to completion on a fresh runtime in its own thread. Drop handlers use it:
/// they cannot await, and may run inside or outside a runtime.
pub(crate) fn block_on_side<F>(cleanup: F)
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let joined = std::thread::spawn(move || {
        if let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            runtime.block_on(cleanup);
        }
    })
    .join();
    if joined.is_err() {
        eprintln!("testkit: cleanup thread panicked");
    }
}

/// The team's shared directory with the upstream preset files and recorded fixtures:
/// `$SAHASRAHBOT_SHARED_DIR`, else `shared/` beside the checkout, else `/work/shared`.
///
/// # Panics
/// When none exists: tests that need real upstream data must not pass without it.
pub fn shared_dir() -> std::path::PathBuf {
    let mut candidates = Vec::new();
    if let Some(dir) = std::env::var_os("SAHASRAHBOT_SHARED_DIR") {
        candidates.push(std::path::PathBuf::from(dir));
    }
    if let Ok(manifest) = std::env::var("CARGO_MANIFEST_DIR") {
        let mut dir = std::path::PathBuf::from(manifest);
        while dir.pop() {
            candidates.push(dir.join("../shared"));
            candidates.push(dir.join("shared"));
        }
    }
    candidates.push("/work/shared".into());
    candidates
        .into_iter()
        .find(|c| c.join("upstream/presets").is_dir())
        .unwrap_or_else(|| {
            panic!("the shared directory with upstream/presets was not found; set SAHASRAHBOT_SHARED_DIR")
        })
}
