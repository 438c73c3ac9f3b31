//! A fresh database per test, on MariaDB (the default) or SQLite.
//!
//! `TEST_DATABASE=sqlite` gives every test its own SQLite file (the embedded default of
//! `run.sh`) instead of a MariaDB database, so the same tests prove both backends; the README
//! test command runs the main flows both ways.

use sea_orm::{ConnectionTrait, Database};

/// Where tests find MariaDB unless `TEST_DATABASE_URL` says otherwise.
pub const DEFAULT_DATABASE_URL: &str = "mysql://root@127.0.0.1:3306";

/// Which database server a test run uses (`TEST_DATABASE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// MariaDB/MySQL at `TEST_DATABASE_URL` (the default).
    MariaDb,
    /// One SQLite file per test under the system's temporary directory.
    Sqlite,
}

impl Backend {
    /// The backend `TEST_DATABASE` names: `sqlite`, else MariaDB.
    pub fn current() -> Self {
        match std::env::var("TEST_DATABASE") {
            Ok(value) if value.eq_ignore_ascii_case("sqlite") => Self::Sqlite,
            _ => Self::MariaDb,
        }
    }
}

/// A database `t_<random>` created for one test and dropped when this value is dropped.
#[derive(Debug)]
pub struct TestDb {
    backend: Backend,
    /// MariaDB: the server URL; SQLite: the directory holding the file.
    server_url: String,
    name: String,
}

impl TestDb {
    /// Creates the database on the backend of [`Backend::current`].
    ///
    /// Errors: MariaDB is unreachable or refuses the user (the message says how to fix the
    /// usual causes), or the SQLite directory cannot be created.
    pub async fn new() -> anyhow::Result<Self> {
        let name = format!("t_{}", crate::unique_suffix());
        if Backend::current() == Backend::Sqlite {
            let dir = std::env::temp_dir().join("sahasrahbot-test-db");
            std::fs::create_dir_all(&dir)?;
            return Ok(Self {
                backend: Backend::Sqlite,
                server_url: dir.display().to_string(),
                name,
            });
        }
        let server_url = std::env::var("TEST_DATABASE_URL")
            .unwrap_or_else(|_| DEFAULT_DATABASE_URL.to_owned())
            .trim_end_matches('/')
            .to_owned();
        let server = Database::connect(&server_url).await.map_err(|error| {
            anyhow::anyhow!(
                "cannot reach MariaDB at {server_url} ({error}). Run the README test command, which \
                 starts it; if it says 'Access denied' for root over TCP, run: mariadb -e \
                 \"ALTER USER root@localhost IDENTIFIED VIA mysql_native_password USING PASSWORD('') OR unix_socket\""
            )
        })?;
        server
            .execute_unprepared(&format!(
                "CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            ))
            .await?;
        server.close().await?;
        Ok(Self {
            backend: Backend::MariaDb,
            server_url,
            name,
        })
    }

    /// URL of this test's database (`mysql://…/t_x` or `sqlite:///tmp/…/t_x.db?mode=rwc`).
    pub fn url(&self) -> String {
        match self.backend {
            Backend::MariaDb => format!("{}/{}", self.server_url, self.name),
            Backend::Sqlite => format!("sqlite://{}?mode=rwc", self.sqlite_path().display()),
        }
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The backend this database lives on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    fn sqlite_path(&self) -> std::path::PathBuf {
        std::path::Path::new(&self.server_url).join(format!("{}.db", self.name))
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if self.backend == Backend::Sqlite {
            let path = self.sqlite_path();
            for suffix in ["", "-wal", "-shm"] {
                let mut file = path.clone().into_os_string();
                file.push(suffix);
                let _ = std::fs::remove_file(file);
            }
            return;
        }
        let server_url = self.server_url.clone();
        let name = self.name.clone();
        crate::block_on_side(async move {
            if let Ok(server) = Database::connect(&server_url).await {
                // A service of this test may still hold a connection in an open transaction
                // (a consumer stopped mid-event whose rollback never ran): its metadata lock
                // would make the DROP wait forever, and this drop blocks the test's runtime, so
                // the service could never finish. End those connections first.
                let holders = server
                    .query_all_raw(sea_orm::Statement::from_sql_and_values(
                        server.get_database_backend(),
                        "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()",
                        [name.clone().into()],
                    ))
                    .await
                    .unwrap_or_default();
                for row in holders {
                    if let Ok(id) = row.try_get_by_index::<i64>(0) {
                        let _ = server.execute_unprepared(&format!("KILL {id}")).await;
                    }
                }
                let _ = server
                    .execute_unprepared("SET SESSION lock_wait_timeout = 30")
                    .await;
                let _ = server
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS `{name}`"))
                    .await;
                let _ = server.close().await;
            }
        });
    }
}
