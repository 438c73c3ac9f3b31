//! Connecting to the service's own database and migrating it.
//!
//! MySQL/MariaDB in production and tests; SQLite files (`sqlite://data/<service>.db?mode=rwc`)
//! for the embedded default, with the parent directory created and WAL journaling on.

use std::time::Duration;

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbErr};
use sea_orm_migration::MigratorTrait;
use secrecy::ExposeSecret;

use crate::config::{DatabaseSettings, redact_url};

/// The URL to connect with: `settings.url` with `settings.password` filled in.
fn connect_url(settings: &DatabaseSettings) -> Result<String, DbErr> {
    let Some(password) = &settings.password else {
        return Ok(settings.url.clone());
    };
    let mut url = url::Url::parse(&settings.url)
        .map_err(|error| DbErr::Custom(format!("database.url is not a URL: {error}")))?;
    url.set_password(Some(password.expose_secret()))
        .map_err(|()| DbErr::Custom("database.url cannot carry a password".to_owned()))?;
    Ok(url.to_string())
}

/// Connects once. For SQLite, creates the file's directory and switches on WAL so readers do
/// not block the writer.
pub async fn connect(settings: &DatabaseSettings) -> Result<DatabaseConnection, DbErr> {
    let url = connect_url(settings)?;
    let parent = sqlite_path(&url)
        .and_then(|path| std::path::Path::new(path).parent())
        .filter(|parent| !parent.as_os_str().is_empty());
    if let Some(parent) = parent {
        std::fs::create_dir_all(parent)
            .map_err(|error| DbErr::Custom(format!("creating {}: {error}", parent.display())))?;
    }
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(settings.max_connections)
        .min_connections(settings.min_connections)
        .connect_timeout(Duration::from_millis(settings.connect_timeout_ms))
        .acquire_timeout(Duration::from_millis(settings.connect_timeout_ms))
        .sqlx_logging(false);
    let db = Database::connect(options).await?;
    if db.get_database_backend() == sea_orm::DbBackend::Sqlite {
        db.execute_unprepared("PRAGMA journal_mode=WAL").await?;
    }
    Ok(db)
}

fn sqlite_path(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then_some(path)
}

/// Connects, retrying with capped exponential backoff (0.2 s … 10 s) until it succeeds. Each
/// failure is logged, so a service waiting for its database says so.
pub async fn connect_with_retry(settings: &DatabaseSettings) -> DatabaseConnection {
    let mut delay = Duration::from_millis(200);
    loop {
        match connect(settings).await {
            Ok(db) => return db,
            Err(error) => {
                tracing::warn!(url = %redact_url(&settings.url), error = %error, retry_in_ms = delay.as_millis() as u64, "database not reachable; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(10));
            }
        }
    }
}

/// Applies pending migrations of `M`; returns how many were applied.
pub async fn migrate<M: MigratorTrait>(db: &DatabaseConnection) -> Result<usize, DbErr> {
    let pending = M::get_pending_migrations(db).await?.len();
    M::up(db, None).await?;
    Ok(pending)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_paths() {
        assert_eq!(
            sqlite_path("sqlite://data/seedgen.db?mode=rwc"),
            Some("data/seedgen.db")
        );
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("mysql://root@localhost/x"), None);
    }

    #[test]
    fn password_is_filled_into_the_url() {
        let settings = DatabaseSettings {
            url: "mysql://seedgen@db:3306/sahasrahbot_seedgen".to_owned(),
            password: Some("p@ss".to_owned().into()),
            max_connections: 1,
            min_connections: 1,
            connect_timeout_ms: 1,
            migrate_on_start: true,
        };
        assert_eq!(
            connect_url(&settings).expect("url"),
            "mysql://seedgen:p%40ss@db:3306/sahasrahbot_seedgen"
        );
    }
}

/// Whether `error` is a unique-key violation (a duplicate primary or unique key), on every
/// backend: the signal of every "insert once" idempotency guard.
pub fn is_unique_violation(error: &DbErr) -> bool {
    matches!(
        error.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

/// A `u64` (a Discord snowflake, an RNG seed) as the `i64` a BIGINT column holds: its
/// two's-complement bit pattern, so values below 2^63 — every Discord snowflake — are stored
/// unchanged and larger ones (RNG seeds) round-trip through [`u64_from_db`].
///
/// Why not a `u64` column: SQLite has no unsigned 64-bit integer; `sqlx-sqlite` refuses to
/// decode one ("u64 unsupported by sqlx-sqlite") and `sea-query-sqlx` panics binding one above
/// `i64::MAX`. Every entity holds `i64` and converts here, so both backends behave alike.
pub const fn u64_to_db(value: u64) -> i64 {
    i64::from_ne_bytes(value.to_ne_bytes())
}

/// The `u64` that [`u64_to_db`] stored.
pub const fn u64_from_db(value: i64) -> u64 {
    u64::from_ne_bytes(value.to_ne_bytes())
}

#[cfg(test)]
mod u64_tests {
    use super::{u64_from_db, u64_to_db};

    #[test]
    fn u64_round_trips_and_snowflakes_keep_their_value() {
        for value in [0, 1, 42, i64::MAX as u64, i64::MAX as u64 + 1, u64::MAX] {
            assert_eq!(u64_from_db(u64_to_db(value)), value);
        }
        assert_eq!(
            u64_to_db(1_234_567_890_123_456_789),
            1_234_567_890_123_456_789
        );
        assert_eq!(u64_to_db(u64::MAX), -1);
    }
}

/// Begins a transaction that will write after it reads. On SQLite a transaction starts as a
/// reader, and one that reads, then writes after another connection committed, fails with
/// `database is locked` (SQLITE_BUSY_SNAPSHOT) without waiting; so there the write lock is
/// taken first, with a write that changes nothing, and other writers wait their turn (busy
/// timeout). MySQL/MariaDB lock rows as they are written: a plain transaction.
///
/// Errors: the database failed, or the write lock was not free within the busy timeout.
pub async fn begin_write(db: &DatabaseConnection) -> Result<sea_orm::DatabaseTransaction, DbErr> {
    use sea_orm::TransactionTrait;
    let txn = db.begin().await?;
    if db.get_database_backend() == sea_orm::DbBackend::Sqlite {
        // Every service has the outbox table (the event tables migration).
        txn.execute_unprepared("UPDATE outbox SET seq = seq WHERE 1 = 0")
            .await?;
    }
    Ok(txn)
}
