//! No Docker engine runs here, so the deployment files are checked against the code: the
//! compose file's services, ports, healthchecks, dependencies, databases and peers; the MariaDB
//! init script's one-database-one-user rule; the Dockerfile; and the README/CI contract.

use std::collections::BTreeSet;
use std::path::PathBuf;

use platform::Service;
use serde_yaml::Value;

fn repo() -> PathBuf {
    // At run time: a test binary reused from another checkout must read this checkout's files.
    PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("run by cargo test")).join("..")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap_or_else(|error| panic!("{path}: {error}"))
}

fn compose() -> Value {
    let mut value: Value =
        serde_yaml::from_str(&read("docker-compose.yml")).expect("docker-compose.yml is YAML");
    value.apply_merge().expect("merge keys resolve");
    value
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_sequence()
        .map(|seq| {
            seq.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The peers a service calls in code, by name.
fn peers_in_code(name: &str) -> BTreeSet<String> {
    let peers = match name {
        "seedgen" => seedgen::SeedgenService::default_settings().common.peers,
        "racetime" => racetime::RacetimeService::default_settings().common.peers,
        "tournament" => {
            tournament::TournamentService::default_settings()
                .common
                .peers
        }
        "gateway" => gateway::GatewayService::default_settings().common.peers,
        "api" => api::ApiService::default_settings().common.peers,
        other => panic!("unknown service {other}"),
    };
    peers.into_keys().collect()
}

#[test]
fn compose_runs_the_five_services_with_their_fixed_ports_and_infrastructure() {
    let compose = compose();
    let services = compose["services"].as_mapping().expect("services");
    for infrastructure in ["mariadb", "nats", "s3", "otel-collector", "jaeger"] {
        assert!(
            services.contains_key(infrastructure),
            "{infrastructure} missing"
        );
    }
    assert!(
        strings(&compose["services"]["nats"]["command"]).contains(&"-js".to_owned()),
        "NATS without JetStream"
    );
    assert!(
        !strings(&compose["services"]["nats"]["volumes"]).is_empty(),
        "NATS without a volume"
    );
    assert!(compose["services"]["mariadb"]["healthcheck"]["test"].is_sequence());

    for name in e2e::SERVICES {
        let service = &compose["services"][name];
        assert!(service.is_mapping(), "{name} missing");
        let upper = name.to_uppercase();
        assert_eq!(
            service["build"]["dockerfile"].as_str(),
            Some("deploy/Dockerfile"),
            "{name}"
        );
        assert_eq!(
            strings(&service["command"]),
            vec![name.to_owned()],
            "{name}: the command picks the service"
        );

        let (grpc, admin) = platform::config::default_ports(name).expect("fixed ports");
        let ports = strings(&service["ports"]);
        assert!(
            ports.contains(&format!("{grpc}:{grpc}")),
            "{name}: {ports:?}"
        );
        assert!(
            ports.contains(&format!("{admin}:{admin}")),
            "{name}: {ports:?}"
        );
        if name == "api" {
            assert!(
                ports.contains(&"8080:8080".to_owned()),
                "api HTTP: {ports:?}"
            );
        }

        let health = strings(&service["healthcheck"]["test"]);
        assert_eq!(
            health,
            vec!["CMD".to_owned(), name.to_owned(), "healthcheck".to_owned()]
        );
        for dependency in ["mariadb", "nats"] {
            assert_eq!(
                service["depends_on"][dependency]["condition"].as_str(),
                Some("service_healthy"),
                "{name} must wait for {dependency}"
            );
        }

        let env = service["environment"].as_mapping().expect("environment");
        let var = |key: &str| env.get(key).and_then(Value::as_str).map(str::to_owned);
        assert_eq!(
            var(&format!("{upper}_DATABASE__URL")),
            Some(format!("mysql://{name}@mariadb:3306/sahasrahbot_{name}")),
            "{name} uses its own database and user"
        );
        assert!(
            var(&format!("{upper}_DATABASE__PASSWORD")).is_some(),
            "{name}"
        );
        assert_eq!(
            var(&format!("{upper}_NATS__URL")).as_deref(),
            Some("nats://nats:4222")
        );
        assert!(
            var("OTEL_EXPORTER_OTLP_ENDPOINT").is_some(),
            "{name} exports traces"
        );

        let mut wired = BTreeSet::new();
        for (key, value) in env {
            let (Some(key), Some(value)) = (key.as_str(), value.as_str()) else {
                continue;
            };
            let prefix = format!("{upper}_PEERS__");
            if let Some(peer) = key
                .strip_prefix(&prefix)
                .and_then(|rest| rest.strip_suffix("__URL"))
            {
                let peer = peer.to_lowercase();
                let (port, _) = platform::config::default_ports(&peer).expect("peer is a service");
                assert_eq!(value, format!("http://{peer}:{port}"), "{name} → {peer}");
                wired.insert(peer);
            }
        }
        assert_eq!(
            wired,
            peers_in_code(name),
            "{name}: compose peers match the code's"
        );
    }
}

#[test]
fn mariadb_init_creates_one_database_and_one_user_per_service() {
    let script = read("deploy/mariadb/init-databases.sh");
    assert!(
        script
            .contains("GRANT ALL PRIVILEGES ON \\`sahasrahbot_${service}\\`.* TO '${service}'@'%'"),
        "{script}"
    );
    assert!(!script.contains("ON *.*"), "no user may get every database");
    let compose = compose();
    let mariadb_env = compose["services"]["mariadb"]["environment"]
        .as_mapping()
        .expect("env");
    for name in e2e::SERVICES {
        let password = format!("{}_DB_PASSWORD", name.to_uppercase());
        assert!(
            script.contains(&format!("create {name} \"${{{password}}}\"")),
            "{name} not created"
        );
        assert!(
            mariadb_env.contains_key(password.as_str()),
            "{password} not passed to MariaDB"
        );
    }
    let mounts = strings(&compose["services"]["mariadb"]["volumes"]);
    assert!(
        mounts
            .iter()
            .any(|m| m
                .starts_with("./deploy/mariadb/init-databases.sh:/docker-entrypoint-initdb.d/")),
        "{mounts:?}"
    );
}

#[test]
fn dockerfile_is_multi_stage_builds_every_service_and_drops_root() {
    let dockerfile = read("deploy/Dockerfile");
    assert!(
        dockerfile.matches("\nFROM ").count() + usize::from(dockerfile.starts_with("FROM ")) >= 2
    );
    for name in e2e::SERVICES {
        assert!(
            dockerfile.contains(&format!("--bin {name}")),
            "{name} not built"
        );
    }
    assert!(dockerfile.contains("\nUSER "), "runs as root");
}

#[test]
fn ci_runs_the_readme_test_command_and_readme_lists_the_ports() {
    let readme = read("README.md");
    let ci = read(".ci/run");
    let command = readme
        .lines()
        .find(|line| line.contains("deploy/local/test.sh"))
        .expect("README names the test command");
    assert!(command.contains("./deploy/local/test.sh"), "{command}");
    assert!(
        ci.contains("./deploy/local/test.sh"),
        ".ci/run must call the README test command"
    );
    assert!(
        readme.contains("./deploy/local/run.sh"),
        "README names the run command"
    );
    for name in e2e::SERVICES {
        let (grpc, admin) = platform::config::default_ports(name).expect("ports");
        assert!(
            readme.contains(&grpc.to_string()) && readme.contains(&admin.to_string()),
            "{name} ports missing from README"
        );
    }
}

#[test]
fn env_example_documents_exactly_the_variables_compose_reads() {
    let compose = read("docker-compose.yml");
    let used: BTreeSet<String> = compose
        .split("${")
        .skip(1)
        .filter_map(|rest| {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            (!name.is_empty()).then_some(name)
        })
        .collect();
    let example = read(".env.example");
    let documented: BTreeSet<String> = example
        .lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .filter_map(|line| line.split_once('=').map(|(name, _)| name.trim().to_owned()))
        .collect();
    assert_eq!(used, documented, "docker-compose.yml vs .env.example");
    assert!(read("README.md").contains("cp .env.example .env"));
}

/// serde_yaml is archived; the maintained fork serde_norway replaces it everywhere (figment's
/// own YAML feature included, which would bring it back).
#[test]
fn the_archived_serde_yaml_is_not_built() {
    let lock = read("Cargo.lock");
    assert!(
        !lock.contains("name = \"serde_yaml\"\n"),
        "Cargo.lock still builds the archived serde_yaml"
    );
    assert!(lock.contains("name = \"serde_norway\"\n"));
}
