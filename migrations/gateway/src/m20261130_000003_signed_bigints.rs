//! Discord snowflake columns become signed BIGINT.
//!
//! SQLite has no unsigned 64-bit integer (`sqlx-sqlite` refuses to read a `u64`), so the
//! entities now hold `i64` (`platform::db::u64_to_db`). Every snowflake is below 2^63, so on
//! MySQL/MariaDB the columns are narrowed in place; on SQLite they already have INTEGER
//! affinity and nothing changes.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(Debug, DeriveMigrationName)]
pub struct Migration;

async fn run(manager: &SchemaManager<'_>, sql_type: &str) -> Result<(), DbErr> {
    if manager.get_database_backend() != DbBackend::MySql {
        return Ok(());
    }
    let db = manager.get_connection();
    for (table, column) in [
        ("gateway_guild_config", "guild_id"),
        ("gateway_guild_config", "updated_by"),
        ("gateway_idempotency", "container_id"),
        ("gateway_idempotency", "object_id"),
    ] {
        db.execute_unprepared(&format!(
            "ALTER TABLE {table} MODIFY {column} {sql_type} NOT NULL"
        ))
        .await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, "BIGINT").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, "BIGINT UNSIGNED").await
    }
}
