//! The api binary's own commands: `api keys create|list|revoke` for operators (spec: API keys
//! are created, listed and revoked by an operator and shown once).

use chrono::{Duration, Utc};
use platform::config::Settings;
use sea_orm::DatabaseConnection;

use crate::ApiSettings;
use crate::keys;

/// `api keys …`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Manage API keys.
    #[command(subcommand)]
    Keys(Keys),
}

/// `api keys create|list|revoke`.
#[derive(Debug, clap::Subcommand)]
pub enum Keys {
    /// Create a key; it is printed once and stored only as a hash.
    Create {
        /// What the key is for, e.g. `community tracker`.
        #[arg(long)]
        name: String,
        /// A scope the key grants (repeatable), e.g. `asynctournament:read`.
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
        /// The user the key acts for (none: an operator's key).
        #[arg(long)]
        user: Option<i64>,
        /// Days until the key stops working (none: never).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=3650))]
        expires_in_days: Option<u32>,
    },
    /// List every key (never the keys themselves).
    List,
    /// Revoke a key by its id.
    Revoke {
        /// The key id from `keys list`.
        id: i64,
    },
}

/// Runs `command` against the api database (migrated first).
///
/// Errors: the database is unreachable, a scope is malformed, or the key id is unknown.
pub async fn run(command: Command, settings: Settings<ApiSettings>) -> anyhow::Result<()> {
    let db = platform::db::connect(&settings.common.database).await?;
    platform::db::migrate::<api_migration::Migrator>(&db).await?;
    let Command::Keys(keys) = command;
    println!("{}", execute(&db, keys).await?);
    Ok(())
}

/// Carries out `command` and returns what to print.
///
/// Errors: a malformed scope, an unknown key id, or the database failed.
pub async fn execute(db: &DatabaseConnection, command: Keys) -> anyhow::Result<String> {
    match command {
        Keys::Create {
            name,
            scopes,
            user,
            expires_in_days,
        } => {
            let expires_at =
                expires_in_days.map(|days| Utc::now() + Duration::days(i64::from(days)));
            let (row, key) = keys::create(db, &name, user, &scopes, expires_at)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            Ok(format!(
                "created key {} ({}); it is shown only now:\n{key}",
                row.id, row.name
            ))
        }
        Keys::List => {
            let rows = keys::list(db).await?;
            if rows.is_empty() {
                return Ok("no API keys".into());
            }
            let lines: Vec<String> = rows
                .iter()
                .map(|k| {
                    let status = match (k.revoked_at, k.expires_at) {
                        (Some(at), _) => format!("revoked {}", at.format("%Y-%m-%d")),
                        (None, Some(at)) if at <= Utc::now() => {
                            format!("expired {}", at.format("%Y-%m-%d"))
                        }
                        (None, Some(at)) => format!("expires {}", at.format("%Y-%m-%d")),
                        (None, None) => "active".into(),
                    };
                    format!(
                        "{}\t{}\t{}\t{}\t{status}",
                        k.id,
                        k.name,
                        k.user_id.map_or("-".into(), |u| u.to_string()),
                        k.scopes
                    )
                })
                .collect();
            Ok(format!(
                "id\tname\tuser\tscopes\tstatus\n{}",
                lines.join("\n")
            ))
        }
        Keys::Revoke { id } => {
            if keys::revoke(db, id).await? {
                Ok(format!("revoked key {id}"))
            } else {
                anyhow::bail!("there is no active key {id} (see `api keys list`)")
            }
        }
    }
}
