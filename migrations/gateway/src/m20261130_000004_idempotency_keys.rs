//! What an idempotency key created on Discord moves to the shared `idempotency_keys` table
//! (scope `discord`, payload `{"kind", "container", "object"}`); `gateway_idempotency` is
//! dropped. `down` moves them back.

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

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let name = |n: &str| Alias::new(n);
        manager
            .create_table(
                Table::create()
                    .table(name("gateway_idempotency"))
                    .if_not_exists()
                    .col(
                        ColumnDef::new(name("idempotency_key"))
                            .string_len(200)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(name("kind")).string_len(20).not_null())
                    .col(
                        ColumnDef::new(name("container_id"))
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(name("object_id")).big_integer().not_null())
                    .col(
                        ColumnDef::new(name("created_at"))
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        let (kind, container, object) = match manager.get_database_backend() {
            DbBackend::Sqlite => (
                "json_extract(payload, '$.kind')",
                "json_extract(payload, '$.container')",
                "json_extract(payload, '$.object')",
            ),
            _ => (
                "JSON_UNQUOTE(JSON_EXTRACT(payload, '$.kind'))",
                "CAST(JSON_EXTRACT(payload, '$.container') AS SIGNED)",
                "CAST(JSON_EXTRACT(payload, '$.object') AS SIGNED)",
            ),
        };
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "INSERT INTO gateway_idempotency (idempotency_key, kind, container_id, object_id, created_at) \
                 SELECT idem_key, {kind}, {container}, {object}, created_at \
                 FROM idempotency_keys WHERE scope = 'discord'"
            ))
            .await?;
        platform::idempotency::drop_scope(manager, "discord").await
    }
}
