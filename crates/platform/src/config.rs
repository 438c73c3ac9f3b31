//! Typed, layered configuration: built-in defaults → optional YAML file → environment.
//!
//! Every service has one environment prefix (`SEEDGEN_`, `RACETIME_`, `TOURNAMENT_`, `GATEWAY_`,
//! `API_`); nested keys are joined with `__`, so `database.url` of seedgen is
//! `SEEDGEN_DATABASE__URL`. The YAML file is named by `--config FILE` or `<PREFIX>CONFIG`.
//! A bad or missing value becomes a [`ConfigError`] that names the key and its source.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::Path;

use figment::Figment;
use figment::providers::{Data, Env, Format, Serialized};
use secrecy::SecretString;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A secret read from configuration (token, password). `Debug` prints `[REDACTED]`; read it with
/// [`secrecy::ExposeSecret::expose_secret`] only where it is sent.
pub type Secret = SecretString;

/// A configuration value that is missing or wrong, naming the key and where the value came from.
///
/// Displayed on one line, e.g. ``configuration key `grpc.listen` (environment variable
/// SEEDGEN_GRPC__LISTEN): invalid socket address syntax``.
#[derive(Debug, thiserror::Error)]
#[error("configuration key `{key}`{source_hint}: {message}")]
pub struct ConfigError {
    /// Dotted key path, e.g. `database.url`.
    pub key: String,
    /// What is wrong with it.
    pub message: String,
    source_hint: String,
}

impl ConfigError {
    /// An error about `key`, found while validating already-parsed settings.
    pub fn invalid(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            message: message.into(),
            source_hint: String::new(),
        }
    }

    fn from_figment(error: figment::Error, env_prefix: &str) -> Self {
        let key = if error.path.is_empty() {
            "<root>".to_owned()
        } else {
            error.path.join(".")
        };
        let source_hint = match error.metadata.as_ref() {
            Some(meta) if meta.name.contains("environment") => format!(
                " (environment variable {env_prefix}{})",
                error.path.join("__").to_uppercase()
            ),
            Some(meta) => match &meta.source {
                Some(figment::Source::File(path)) => format!(" (file {})", path.display()),
                _ => format!(" ({})", meta.name),
            },
            None => String::new(),
        };
        Self {
            key,
            message: error.kind.to_string(),
            source_hint,
        }
    }
}

/// Settings every service has. A service's own settings struct embeds this with
/// `#[serde(flatten)]`, so its keys sit at the top level of the YAML file and the environment.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CommonSettings {
    /// The service's database.
    pub database: DatabaseSettings,
    /// The NATS server.
    pub nats: NatsSettings,
    /// The event stream, outbox relay and consumers.
    pub events: EventSettings,
    /// The gRPC listener.
    pub grpc: GrpcSettings,
    /// The admin HTTP listener (health, readiness, metrics).
    pub admin: AdminSettings,
    /// Logs and traces.
    pub telemetry: TelemetrySettings,
    /// Other services this one calls, by service name (`seedgen`, `racetime`, ...).
    #[serde(default)]
    pub peers: BTreeMap<String, PeerSettings>,
}

/// Where the service's own database is and how the pool behaves.
#[derive(Clone, Serialize, Deserialize)]
pub struct DatabaseSettings {
    /// `mysql://user@host:3306/db` (MariaDB or MySQL) or `sqlite://data/seedgen.db?mode=rwc`.
    /// Put no password here; use `password`.
    pub url: String,
    /// Password for a MySQL URL, kept out of logs.
    #[serde(default, skip_serializing)]
    pub password: Option<Secret>,
    /// Most connections in the pool.
    pub max_connections: u32,
    /// Connections kept open when idle.
    pub min_connections: u32,
    /// Timeout of one connection attempt, in milliseconds.
    pub connect_timeout_ms: u64,
    /// Run pending migrations when the service starts (the `migrate` subcommand always does).
    pub migrate_on_start: bool,
}

impl fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseSettings")
            .field("url", &redact_url(&self.url))
            .field("password", &self.password.as_ref().map(|_| "[REDACTED]"))
            .field("max_connections", &self.max_connections)
            .field("min_connections", &self.min_connections)
            .field("connect_timeout_ms", &self.connect_timeout_ms)
            .field("migrate_on_start", &self.migrate_on_start)
            .finish()
    }
}

/// A URL with any password replaced by `***`, for logs.
pub fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        Ok(_) => raw.to_owned(),
        Err(_) => "<unparseable url>".to_owned(),
    }
}

/// The NATS server and the JetStream names this deployment uses.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NatsSettings {
    /// `nats://host:4222`; several servers separated by commas.
    pub url: String,
    /// Optional credentials.
    #[serde(default)]
    pub user: Option<String>,
    /// The NATS password, if the server wants one (a secret: never logged).
    #[serde(default, skip_serializing)]
    pub password: Option<Secret>,
}

/// The event stream and how this service publishes and consumes.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EventSettings {
    /// JetStream stream holding every event of the deployment.
    pub stream: String,
    /// First subject token: events are `<prefix>.<service>.<aggregate>.<event>`.
    pub subject_prefix: String,
    /// How long the server waits for an ack before redelivering, in milliseconds.
    pub ack_wait_ms: u64,
    /// Deliveries of one message before it is parked on the dead-letter subject.
    pub max_deliveries: u32,
    /// First redelivery delay after a failed handler, in milliseconds; doubles per try.
    pub retry_backoff_ms: u64,
    /// Cap of that delay, in milliseconds.
    pub retry_backoff_max_ms: u64,
    /// How often the outbox relay looks for unsent rows when nothing woke it, in milliseconds.
    pub relay_poll_ms: u64,
    /// Rows the relay publishes per round.
    pub relay_batch: u32,
    /// Messages a consumer pulls at once; keep `batch × handling time` below `ack_wait_ms`.
    pub consumer_batch: u32,
    /// Published outbox rows and inbox rows are deleted after this many hours.
    pub retention_hours: u64,
    /// Events older than this many hours leave the stream (a stopped consumer must catch up
    /// within this time).
    pub stream_max_age_hours: u64,
    /// The server's duplicate window for `Nats-Msg-Id`, in seconds.
    pub duplicate_window_secs: u64,
}

/// Where the gRPC server listens.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GrpcSettings {
    /// Address the gRPC server listens on.
    pub listen: SocketAddr,
}

/// Where `/healthz`, `/readyz` and `/metrics` are served.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AdminSettings {
    /// Address the admin HTTP server listens on.
    pub listen: SocketAddr,
}

/// Log output. OpenTelemetry export is switched on by the standard
/// `OTEL_EXPORTER_OTLP_ENDPOINT` variable, not by a key here.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TelemetrySettings {
    /// How log lines look.
    pub log_format: LogFormat,
    /// `tracing_subscriber::EnvFilter` directives; `RUST_LOG` wins when set.
    pub log_filter: String,
}

/// How log lines look.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines, for a terminal.
    Human,
    /// One JSON object per line, for log collectors.
    Json,
}

/// How this service reaches a peer's gRPC server.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PeerSettings {
    /// `http://host:port`.
    pub url: String,
    /// Deadline of one call, in milliseconds.
    #[serde(default = "default_peer_timeout_ms")]
    pub timeout_ms: u64,
    /// Attempts of one call while the peer answers UNAVAILABLE.
    #[serde(default = "default_peer_attempts")]
    pub attempts: u32,
}

fn default_peer_timeout_ms() -> u64 {
    10_000
}

fn default_peer_attempts() -> u32 {
    4
}

/// The built-in ports of each service: `(grpc, admin)`.
pub fn default_ports(service: &str) -> Option<(u16, u16)> {
    Some(match service {
        "seedgen" => (50051, 9101),
        "racetime" => (50052, 9102),
        "tournament" => (50053, 9103),
        "gateway" => (50054, 9104),
        "api" => (50055, 9105),
        _ => return None,
    })
}

impl CommonSettings {
    /// The embedded defaults of `service`: SQLite under `./data/`, NATS on localhost, the fixed
    /// ports of README, and `peers` pointing at the other services on localhost.
    pub fn defaults(service: &str, peers: &[&str]) -> Self {
        let (grpc, admin) = default_ports(service).unwrap_or((0, 0));
        Self {
            database: DatabaseSettings {
                url: format!("sqlite://data/{service}.db?mode=rwc"),
                password: None,
                max_connections: 10,
                min_connections: 1,
                connect_timeout_ms: 5_000,
                migrate_on_start: true,
            },
            nats: NatsSettings {
                url: "nats://127.0.0.1:4222".to_owned(),
                user: None,
                password: None,
            },
            events: EventSettings {
                stream: "SAHASRAHBOT".to_owned(),
                subject_prefix: "sahasrahbot".to_owned(),
                ack_wait_ms: 30_000,
                max_deliveries: 8,
                retry_backoff_ms: 1_000,
                retry_backoff_max_ms: 60_000,
                relay_poll_ms: 1_000,
                relay_batch: 100,
                consumer_batch: 10,
                retention_hours: 72,
                stream_max_age_hours: 168,
                duplicate_window_secs: 120,
            },
            grpc: GrpcSettings {
                listen: SocketAddr::from(([0, 0, 0, 0], grpc)),
            },
            admin: AdminSettings {
                listen: SocketAddr::from(([0, 0, 0, 0], admin)),
            },
            telemetry: TelemetrySettings {
                log_format: LogFormat::Human,
                log_filter: "info".to_owned(),
            },
            peers: peers
                .iter()
                .filter_map(|peer| {
                    let (port, _) = default_ports(peer)?;
                    Some((
                        (*peer).to_owned(),
                        PeerSettings {
                            url: format!("http://127.0.0.1:{port}"),
                            timeout_ms: default_peer_timeout_ms(),
                            attempts: default_peer_attempts(),
                        },
                    ))
                })
                .collect(),
        }
    }

    /// Checks what serde cannot: URL schemes, sane numbers.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let db = &self.database;
        let scheme = db.url.split("://").next().unwrap_or_default();
        if !db.url.contains("://") || !matches!(scheme, "mysql" | "mariadb" | "sqlite") {
            return Err(ConfigError::invalid(
                "database.url",
                "must start with mysql://, mariadb:// or sqlite://",
            ));
        }
        if db.max_connections == 0 || db.min_connections > db.max_connections {
            return Err(ConfigError::invalid(
                "database.max_connections",
                "must be at least 1 and at least database.min_connections",
            ));
        }
        for (index, server) in self.nats.url.split(',').enumerate() {
            let server = server.trim();
            if url::Url::parse(server).is_err() && server.parse::<SocketAddr>().is_err() {
                return Err(ConfigError::invalid(
                    "nats.url",
                    format!("server #{} `{server}` is not a nats:// URL", index + 1),
                ));
            }
        }
        let events = &self.events;
        if events.stream.is_empty()
            || events
                .stream
                .contains(|c: char| c == '.' || c == '*' || c == '>' || c.is_whitespace())
        {
            return Err(ConfigError::invalid(
                "events.stream",
                "must be a non-empty name without '.', '*', '>' or spaces",
            ));
        }
        if events.subject_prefix.is_empty()
            || events
                .subject_prefix
                .contains(|c: char| c == '*' || c == '>' || c.is_whitespace())
        {
            return Err(ConfigError::invalid(
                "events.subject_prefix",
                "must be a non-empty subject without wildcards or spaces",
            ));
        }
        if events.max_deliveries < 2 {
            return Err(ConfigError::invalid(
                "events.max_deliveries",
                "must be at least 2 so a failed handler gets a retry",
            ));
        }
        if events.ack_wait_ms < 100 || events.relay_batch == 0 || events.relay_poll_ms == 0 {
            return Err(ConfigError::invalid(
                "events.ack_wait_ms",
                "ack_wait_ms must be at least 100 and relay_batch, relay_poll_ms above 0",
            ));
        }
        for (name, peer) in &self.peers {
            let parsed = url::Url::parse(&peer.url).map_err(|error| {
                ConfigError::invalid(format!("peers.{name}.url"), error.to_string())
            })?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(ConfigError::invalid(
                    format!("peers.{name}.url"),
                    "must be an http:// or https:// URL",
                ));
            }
            if peer.attempts == 0 {
                return Err(ConfigError::invalid(
                    format!("peers.{name}.attempts"),
                    "must be at least 1",
                ));
            }
        }
        Ok(())
    }
}

/// A service's own settings (beside [`CommonSettings`], at the top level of the same YAML file
/// and environment; their keys must not clash with the common ones).
pub trait ServiceSettings:
    Serialize + DeserializeOwned + Clone + Send + Sync + fmt::Debug + 'static
{
    /// Checks what serde cannot; the common keys are checked by the platform.
    fn validate(&self) -> Result<(), ConfigError> {
        Ok(())
    }
}

/// Settings of a service without keys of its own.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct NoSettings {}

impl ServiceSettings for NoSettings {}

/// Everything a service is configured with.
#[derive(Clone, Debug)]
pub struct Settings<T> {
    /// Settings every service has.
    pub common: CommonSettings,
    /// The service's own settings.
    pub service: T,
}

/// Loads settings: `defaults`, then the YAML file (if any), then environment variables that
/// start with `env_prefix`. The file must exist when it is named.
///
/// The common and the service's own keys are read from the same layers but extracted apart, so
/// that an error names its full key path.
pub fn load<T: ServiceSettings>(
    defaults: &Settings<T>,
    file: Option<&Path>,
    env_prefix: &str,
) -> Result<Settings<T>, ConfigError> {
    let mut figment = Figment::from(Serialized::defaults(&defaults.common))
        .merge(Serialized::defaults(&defaults.service));
    if let Some(path) = file {
        if !path.is_file() {
            return Err(ConfigError::invalid(
                "config",
                format!("configuration file {} does not exist", path.display()),
            ));
        }
        figment = figment.merge(Data::<Yaml>::file(path));
    }
    let figment = figment.merge(environment(env_prefix));
    let first_error = |error: figment::Error| {
        ConfigError::from_figment(
            error
                .into_iter()
                .next()
                .unwrap_or_else(|| figment::Error::from("unknown error".to_owned())),
            env_prefix,
        )
    };
    let common: CommonSettings = figment.extract().map_err(first_error)?;
    let service: T = figment.extract().map_err(first_error)?;
    common.validate()?;
    service.validate()?;
    Ok(Settings { common, service })
}

/// Variables starting with `prefix`, nested on `__`. An empty value counts as unset, so a
/// compose file can pass `${DISCORD_TOKEN:-}` without turning "no token" into an empty one.
fn environment(prefix: &str) -> Env {
    let empty: std::collections::HashSet<String> = std::env::vars_os()
        .filter_map(|(key, value)| {
            let key = key.into_string().ok()?;
            let rest = key
                .get(..prefix.len())?
                .eq_ignore_ascii_case(prefix)
                .then(|| key[prefix.len()..].to_ascii_lowercase())?;
            value.is_empty().then_some(rest)
        })
        .collect();
    Env::prefixed(prefix)
        .filter(move |key| !empty.contains(&key.as_str().to_ascii_lowercase()))
        .split("__")
}

/// The YAML format of configuration files, read with the maintained `serde_yaml` fork the
/// workspace uses everywhere (figment's own `yaml` feature would pull in the archived crate).
#[derive(Debug)]
pub struct Yaml;

impl Format for Yaml {
    type Error = serde_yaml::Error;

    const NAME: &'static str = "YAML";

    fn from_str<T: serde::de::DeserializeOwned>(string: &str) -> Result<T, Self::Error> {
        serde_yaml::from_str(string)
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail's closures return figment::Error
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[derive(Clone, Debug, Serialize, Deserialize)]
    struct Demo {
        #[serde(default, skip_serializing)]
        token: Option<Secret>,
        retries: u32,
    }

    impl ServiceSettings for Demo {}

    fn demo() -> Settings<Demo> {
        Settings {
            common: CommonSettings::defaults("seedgen", &["racetime"]),
            service: Demo {
                token: None,
                retries: 3,
            },
        }
    }

    #[test]
    fn defaults_have_fixed_ports_and_sqlite() {
        figment::Jail::expect_with(|_| {
            let settings = load(&demo(), None, "DEMO1_").expect("defaults load");
            assert_eq!(settings.common.grpc.listen.port(), 50051);
            assert_eq!(settings.common.admin.listen.port(), 9101);
            assert_eq!(
                settings.common.database.url,
                "sqlite://data/seedgen.db?mode=rwc"
            );
            assert_eq!(
                settings.common.peers["racetime"].url,
                "http://127.0.0.1:50052"
            );
            Ok(())
        });
    }

    #[test]
    fn env_overrides_file_which_overrides_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "svc.yaml",
                "grpc:\n  listen: 127.0.0.1:7000\nadmin:\n  listen: 127.0.0.1:7001\n",
            )?;
            jail.set_env("DEMO2_GRPC__LISTEN", "127.0.0.1:8000");
            jail.set_env("DEMO2_TOKEN", "hunter2");
            let settings = load(&demo(), Some(Path::new("svc.yaml")), "DEMO2_").expect("loads");
            assert_eq!(settings.common.grpc.listen.port(), 8000);
            assert_eq!(settings.common.admin.listen.port(), 7001);
            let token = settings.service.token.as_ref().expect("token set");
            assert_eq!(token.expose_secret(), "hunter2");
            let debug = format!("{settings:?}");
            assert!(
                !debug.contains("hunter2"),
                "secret leaked into Debug: {debug}"
            );
            Ok(())
        });
    }

    #[test]
    fn bad_value_names_the_key_and_the_variable() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("DEMO3_GRPC__LISTEN", "not-an-address");
            let error = load(&demo(), None, "DEMO3_").expect_err("must fail");
            assert_eq!(error.key, "grpc.listen");
            let line = error.to_string();
            assert!(line.contains("DEMO3_GRPC__LISTEN"), "{line}");
            assert!(!line.contains('\n'), "{line}");
            Ok(())
        });
    }

    #[test]
    fn bad_service_value_names_its_key() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("DEMO6_RETRIES", "many");
            let error = load(&demo(), None, "DEMO6_").expect_err("must fail");
            assert_eq!(error.key, "retries");
            Ok(())
        });
    }

    #[test]
    fn empty_variables_count_as_unset() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("DEMO7_TOKEN", "");
            jail.set_env("DEMO7_RETRIES", "");
            let settings = load(&demo(), None, "DEMO7_").expect("loads");
            assert!(settings.service.token.is_none());
            assert_eq!(settings.service.retries, 3);
            Ok(())
        });
    }

    #[test]
    fn validation_rejects_unknown_database_scheme() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("DEMO4_DATABASE__URL", "postgres://localhost/db");
            let error = load(&demo(), None, "DEMO4_").expect_err("must fail");
            assert_eq!(error.key, "database.url");
            Ok(())
        });
    }

    #[test]
    fn missing_named_file_is_an_error() {
        figment::Jail::expect_with(|_| {
            let error =
                load(&demo(), Some(Path::new("nope.yaml")), "DEMO5_").expect_err("must fail");
            assert_eq!(error.key, "config");
            Ok(())
        });
    }

    #[test]
    fn password_in_database_url_is_redacted_in_debug() {
        let mut settings = demo();
        settings.common.database.url = "mysql://bot:s3cret@db:3306/x".to_owned();
        let debug = format!("{settings:?}");
        assert!(!debug.contains("s3cret"), "{debug}");
    }
}
