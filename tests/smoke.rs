//! The embedded default, as `deploy/local/run.sh` runs it: the five service binaries started
//! with no configuration (SQLite files under `./data/`, the default ports, the local NATS),
//! each waited for with `<service> healthcheck`, then seeds rolled through seedgen's gRPC API:
//! two local rollers (z1r, and smb3r whose random seed once panicked the SQLite binding) and
//! alttpr through a fake alttpr.com. Every roll failed on SQLite before the u64 fix.
//!
//! The binaries come from the build directory of this test (`cargo build --bins`, which the
//! README test command runs first). A working directory of its own keeps `./data/` apart.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use e2e::SERVICES;
use proto::seedgen::v1::GenerateRequest;
use proto::seedgen::v1::seed_gen_client::SeedGenClient;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// `target/<profile>/`, where cargo puts the service binaries beside `deps/`.
fn binaries_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().and_then(Path::parent).unwrap().to_path_buf()
}

/// The five processes; killed (and their logs shown on failure) when dropped.
struct System {
    children: Vec<(&'static str, Child)>,
    logs: PathBuf,
}

impl Drop for System {
    fn drop(&mut self) {
        for (_, child) in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            for (name, _) in &self.children {
                let log = std::fs::read_to_string(self.logs.join(format!("{name}.log")))
                    .unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(20).collect();
                eprintln!("--- {name} (last lines) ---");
                for line in tail.into_iter().rev() {
                    eprintln!("{line}");
                }
            }
        }
    }
}

/// Starts the five binaries and waits for each `healthcheck`, like run.sh. The fixed ports lie
/// in Linux's ephemeral range, so a port can be held by some process's outgoing connection for
/// longer than a service's bind retries; then everything is started again (3 attempts).
fn start(workdir: &Path, alttpr: &str) -> System {
    for port in [50051, 50052, 50053, 50054, 50055, 8080] {
        assert!(
            std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
            "port {port} is taken: stop the running system (run.sh) before this test"
        );
    }
    let mut last = String::new();
    for _ in 0..3 {
        match try_start(workdir, alttpr) {
            Ok(system) => return system,
            Err(why) if why.contains("Address already in use") => {
                last = why;
                std::thread::sleep(Duration::from_secs(1));
            }
            Err(why) => panic!("{why}"),
        }
    }
    panic!("the fixed ports stayed taken: {last}");
}

fn try_start(workdir: &Path, alttpr: &str) -> Result<System, String> {
    let bin = binaries_dir();
    let presets = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("../presets");
    let mut system = System {
        children: Vec::new(),
        logs: workdir.to_path_buf(),
    };
    for service in SERVICES {
        let binary = bin.join(service);
        assert!(
            binary.exists(),
            "{} is missing: build the services first (`cargo build --bins`; the README test command does)",
            binary.display()
        );
        let log = std::fs::File::create(workdir.join(format!("{service}.log"))).unwrap();
        let mut command = Command::new(&binary);
        command
            .current_dir(workdir)
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log));
        if service == "seedgen" {
            command
                .env("SEEDGEN_PRESETS_DIR", &presets)
                .env("SEEDGEN_PROVIDERS__ALTTPR__BASE_URL", alttpr)
                .env("SEEDGEN_PROVIDERS__ALTTPR__LIVE_URL", alttpr);
        }
        system.children.push((service, command.spawn().unwrap()));
    }
    // Like run.sh: each service's own `healthcheck` until it exits 0.
    for (index, service) in SERVICES.into_iter().enumerate() {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let status = Command::new(bin.join(service))
                .arg("healthcheck")
                .current_dir(workdir)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .unwrap();
            if status.success() {
                break;
            }
            if let Ok(Some(exit)) = system.children[index].1.try_wait() {
                let log = std::fs::read_to_string(workdir.join(format!("{service}.log")))
                    .unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(3).collect();
                // Returning drops `system`, which stops the others (no log dump: not panicking).
                return Err(format!("{service} exited ({exit}): {}", tail.join(" | ")));
            }
            assert!(Instant::now() < deadline, "{service} did not become ready");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    Ok(system)
}

fn roll(key: &str, randomizer: &str, preset: &str) -> GenerateRequest {
    GenerateRequest {
        idempotency_key: key.into(),
        randomizer: randomizer.into(),
        preset: preset.into(),
        race: true,
        requested_by: "smoke".into(),
        surface: "cli".into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn the_embedded_default_rolls_seeds_end_to_end() {
    testkit::init();
    let alttpr = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/randomizer"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(testkit::fixtures::alttpr_seed_response("SmokeHash", "off")),
        )
        .mount(&alttpr)
        .await;
    let workdir =
        std::env::temp_dir().join(format!("sahasrahbot-smoke-{}", testkit::unique_suffix()));
    std::fs::create_dir_all(&workdir).unwrap();
    let system = start(&workdir, &alttpr.uri());

    let mut seedgen = SeedGenClient::connect("http://127.0.0.1:50051")
        .await
        .unwrap();
    // Several rolls each: a random u64 RNG seed is above i64::MAX half of the time.
    for n in 0..6 {
        for (randomizer, preset) in [("z1r", "rr2024"), ("smb3r", "1234ABCD")] {
            let key = format!("smoke-{}-{randomizer}-{n}", testkit::unique_suffix());
            let seed = seedgen
                .generate(roll(&key, randomizer, preset))
                .await
                .unwrap_or_else(|status| panic!("{randomizer}: {status:?}"))
                .into_inner();
            assert_eq!(seed.provider, "local");
            assert!(!seed.hash.is_empty(), "{seed:?}");
            // The stored reply answers a retry of the key.
            let again = seedgen
                .generate(roll(&key, randomizer, preset))
                .await
                .unwrap()
                .into_inner();
            assert_eq!(again.rng_seed, seed.rng_seed);
        }
    }
    let seed = seedgen
        .generate(roll("smoke-alttpr", "alttpr", "open"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(seed.hash, "SmokeHash");
    assert_eq!(seed.file_select_code.len(), 5);

    // The files are SQLite databases under ./data/, one per service.
    for service in SERVICES {
        let file = workdir.join("data").join(format!("{service}.db"));
        assert!(file.exists(), "{} missing", file.display());
    }
    drop(system);
    let _ = std::fs::remove_dir_all(&workdir);
}
