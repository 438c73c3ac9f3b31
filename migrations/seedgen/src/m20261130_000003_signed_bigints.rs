//! Discord user ids and RNG seeds become signed BIGINT columns.
//!
//! SQLite has no unsigned 64-bit integer: `sqlx-sqlite` refuses to read a `u64` and panics
//! writing one above `i64::MAX`, so every roll failed on the embedded default. The entities
//! now hold `i64`; a `u64` is stored as its two's-complement bit pattern
//! (`platform::db::u64_to_db`), which leaves Discord snowflakes (all below 2^63) unchanged.
//!
//! On SQLite the columns already have INTEGER affinity: nothing to do. On MySQL/MariaDB the
//! id columns are narrowed in place (every snowflake fits) and `rng_seed` is re-written
//! through a new column, since a seed above `i64::MAX` would not fit a plain `MODIFY`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(Debug, DeriveMigrationName)]
pub struct Migration;

/// Runs `statements` in order on MySQL/MariaDB; nothing on other backends.
async fn on_mysql(manager: &SchemaManager<'_>, statements: &[&str]) -> Result<(), DbErr> {
    if manager.get_database_backend() != DbBackend::MySql {
        return Ok(());
    }
    let db = manager.get_connection();
    for statement in statements {
        db.execute_unprepared(statement).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        on_mysql(
            manager,
            &[
                "ALTER TABLE preset_namespaces MODIFY discord_user_id BIGINT NOT NULL",
                "ALTER TABLE preset_namespace_collaborators MODIFY discord_user_id BIGINT NOT NULL",
                "ALTER TABLE audit_generated_games ADD COLUMN rng_seed_bits BIGINT NULL",
                "UPDATE audit_generated_games SET rng_seed_bits = CAST(rng_seed AS SIGNED)",
                "ALTER TABLE audit_generated_games DROP COLUMN rng_seed",
                "ALTER TABLE audit_generated_games CHANGE rng_seed_bits rng_seed BIGINT NULL",
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        on_mysql(
            manager,
            &[
                "ALTER TABLE preset_namespaces MODIFY discord_user_id BIGINT UNSIGNED NOT NULL",
                "ALTER TABLE preset_namespace_collaborators MODIFY discord_user_id BIGINT UNSIGNED NOT NULL",
                "ALTER TABLE audit_generated_games ADD COLUMN rng_seed_bits BIGINT UNSIGNED NULL",
                "UPDATE audit_generated_games SET rng_seed_bits = CAST(rng_seed AS UNSIGNED)",
                "ALTER TABLE audit_generated_games DROP COLUMN rng_seed",
                "ALTER TABLE audit_generated_games CHANGE rng_seed_bits rng_seed BIGINT UNSIGNED NULL",
            ],
        )
        .await
    }
}
