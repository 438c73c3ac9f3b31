//! A fresh MariaDB database per test.

use sea_orm::{ConnectionTrait, Database};

/// Where tests find MariaDB unless `TEST_DATABASE_URL` says otherwise.
pub const DEFAULT_DATABASE_URL: &str = "mysql://root@127.0.0.1:3306";

/// A database `t_<random>` created for one test and dropped when this value is dropped.
#[derive(Debug)]
pub struct TestDb {
    server_url: String,
    name: String,
}

impl TestDb {
    /// Creates the database.
    ///
    /// Errors: MariaDB is unreachable or refuses the user; the message says how to fix the
    /// usual causes.
    pub async fn new() -> anyhow::Result<Self> {
        let server_url = std::env::var("TEST_DATABASE_URL")
            .unwrap_or_else(|_| DEFAULT_DATABASE_URL.to_owned())
            .trim_end_matches('/')
            .to_owned();
        let name = format!("t_{}", crate::unique_suffix());
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
        Ok(Self { server_url, name })
    }

    /// URL of this test's database.
    pub fn url(&self) -> String {
        format!("{}/{}", self.server_url, self.name)
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
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
