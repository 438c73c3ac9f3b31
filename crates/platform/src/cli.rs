//! The command line every service binary shares: `<service> [--config FILE] [serve|migrate|check-config]`.
//! `main.rs` of a service is one call to [`main`].

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use tokio_util::sync::CancellationToken;

use crate::config::{self, Settings};
use crate::runtime::{self, Listeners, Service};
use crate::{db, telemetry};

#[derive(Debug, Parser)]
struct Cli<X: Subcommand> {
    /// YAML configuration file layered over the built-in defaults (also `<PREFIX>CONFIG`).
    #[arg(long, short, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command<X>>,
}

/// No service-specific commands.
#[derive(Debug, Subcommand)]
pub enum NoCommands {}

/// A service's own commands, run with its loaded settings (e.g. `api keys create`).
pub type Extra<S, X> = fn(
    X,
    Settings<<S as Service>::Settings>,
) -> futures::future::BoxFuture<'static, anyhow::Result<()>>;

#[derive(Debug, Subcommand)]
enum Command<X: Subcommand> {
    /// Run the service (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Load and validate the configuration, print it with secrets redacted, and exit.
    CheckConfig,
    /// Exit 0 if this service's `/readyz` on the configured admin port answers 200, else 1
    /// (for container healthchecks; needs no curl in the image).
    Healthcheck,
    #[command(flatten)]
    Service(X),
}

/// Parses the command line, loads settings and runs the chosen command. Exit codes: 0 success,
/// 1 runtime failure, 2 invalid configuration or usage.
pub fn main<S: Service>() -> ExitCode {
    main_with::<S, NoCommands>(|never, _| match never {})
}

/// [`main`] with the service's own subcommands `X`, run by `extra` with the loaded settings.
pub fn main_with<S: Service, X: Subcommand + std::fmt::Debug>(extra: Extra<S, X>) -> ExitCode {
    let matches = Cli::<X>::command()
        .name(S::NAME)
        .about(format!("SahasrahBot {} service", S::NAME))
        .get_matches();
    let cli = match Cli::<X>::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(error) => error.exit(),
    };
    let _ = rustls::crypto::ring::default_provider().install_default();

    let config_file = cli
        .config
        .or_else(|| std::env::var_os(format!("{}CONFIG", S::ENV_PREFIX)).map(PathBuf::from));
    let settings = match config::load(
        &S::default_settings(),
        config_file.as_deref(),
        S::ENV_PREFIX,
    ) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("{}: invalid configuration: {error}", S::NAME);
            return ExitCode::from(2);
        }
    };
    if matches!(cli.command, Some(Command::Healthcheck)) {
        return healthcheck(settings.common.admin.listen);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("{}: cannot start the async runtime: {error}", S::NAME);
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let telemetry = match telemetry::init(S::NAME, &settings.common.telemetry) {
            Ok(guard) => guard,
            Err(error) => {
                eprintln!("{}: invalid configuration: {error:#}", S::NAME);
                return ExitCode::from(2);
            }
        };
        let result = match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => serve::<S>(settings).await,
            Command::Migrate => migrate::<S>(&settings).await,
            Command::CheckConfig => {
                println!("{settings:#?}");
                Ok(())
            }
            Command::Healthcheck => Ok(()),
            Command::Service(command) => extra(command, settings).await,
        };
        telemetry.shutdown().await;
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                tracing::error!(error = %format!("{error:#}"), "{} failed", S::NAME);
                eprintln!("{}: {error:#}", S::NAME);
                ExitCode::FAILURE
            }
        }
    })
}

fn healthcheck(admin: std::net::SocketAddr) -> ExitCode {
    let target = if admin.ip().is_unspecified() {
        std::net::SocketAddr::from(([127, 0, 0, 1], admin.port()))
    } else {
        admin
    };
    let probe = async {
        tokio::time::timeout(
            std::time::Duration::from_secs(3),
            crate::admin::http_get(target, "/readyz"),
        )
        .await
    };
    let answer = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|runtime| runtime.block_on(probe).map_err(anyhow::Error::from)?);
    match answer {
        Ok((200, _)) => ExitCode::SUCCESS,
        Ok((status, body)) => {
            eprintln!("not ready ({status}): {}", body.trim().replace('\n', "; "));
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("no answer from {target}: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve<S: Service>(settings: Settings<S::Settings>) -> anyhow::Result<()> {
    let listeners = Listeners::bind(&settings.common).await?;
    let shutdown = CancellationToken::new();
    tokio::spawn(stop_on_signal(shutdown.clone()));
    runtime::run::<S>(settings, listeners, shutdown).await
}

async fn migrate<S: Service>(settings: &Settings<S::Settings>) -> anyhow::Result<()> {
    let database = &settings.common.database;
    let db = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        db::connect_with_retry(database),
    )
    .await
    .map_err(|_| anyhow::anyhow!("database not reachable within 60 s"))?;
    let applied = db::migrate::<S::Migrator>(&db).await?;
    println!("{}: {applied} migration(s) applied", S::NAME);
    db.close().await?;
    Ok(())
}

/// Cancels `shutdown` on SIGINT or SIGTERM; a second signal exits at once.
async fn stop_on_signal(shutdown: CancellationToken) {
    wait_for_signal().await;
    tracing::info!("signal received; shutting down (send it again to exit at once)");
    shutdown.cancel();
    wait_for_signal().await;
    tracing::warn!("second signal; exiting now");
    std::process::exit(130);
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
