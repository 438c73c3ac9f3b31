//! What an idempotency key created on Discord moves to the shared `idempotency_keys` table
//! (scope `discord`, payload `{"kind", "container", "object"}`); `gateway_idempotency` is
//! dropped. Irreversible: going back would need the old code, which is gone.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(Debug, DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        platform::idempotency::create_table(manager).await?;
        let payload = match manager.get_database_backend() {
            DbBackend::Sqlite => {
                "'{\"kind\":\"' || kind || '\",\"container\":' || container_id || ',\"object\":' || object_id || '}'"
            }
            _ => {
                "CONCAT('{\"kind\":\"', kind, '\",\"container\":', container_id, ',\"object\":', object_id, '}')"
            }
        };
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "INSERT INTO idempotency_keys (scope, idem_key, state, owner, subject, payload, error, created_at, updated_at) \
                 SELECT 'discord', idempotency_key, 'done', NULL, NULL, {payload}, NULL, created_at, created_at \
                 FROM gateway_idempotency"
            ))
            .await?;
        manager
            .drop_table(
                Table::drop()
                    .table(Alias::new("gateway_idempotency"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "m20261130_000004_idempotency_keys cannot be undone".into(),
        ))
    }
}
