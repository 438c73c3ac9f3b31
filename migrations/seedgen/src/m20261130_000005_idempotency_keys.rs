//! `Generate` keys move to the shared `idempotency_keys` table (scope `seedgen.generate`, the
//! stored reply as the payload); `generate_requests` is dropped. `down` moves them back.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

#[derive(Debug, DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        platform::idempotency::create_table(manager).await?;
        let conn = manager.get_connection();
        conn.execute_unprepared(
            "INSERT INTO idempotency_keys (scope, idem_key, state, owner, subject, payload, error, created_at, updated_at) \
             SELECT 'seedgen.generate', idempotency_key, 'done', NULL, NULL, reply, NULL, created_at, updated_at \
             FROM generate_requests WHERE state = 'done'",
        )
        .await?;
        manager
            .drop_table(
                Table::drop()
                    .table(Alias::new("generate_requests"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let name = |n: &str| Alias::new(n);
        manager
            .create_table(
                Table::create()
                    .table(name("generate_requests"))
                    .if_not_exists()
                    .col(
                        ColumnDef::new(name("idempotency_key"))
                            .string_len(191)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(name("state")).string_len(16).not_null())
                    .col(ColumnDef::new(name("reply")).text().null())
                    .col(ColumnDef::new(name("audit_id")).big_integer().null())
                    .col(
                        ColumnDef::new(name("created_at"))
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(name("updated_at"))
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "INSERT INTO generate_requests (idempotency_key, state, reply, audit_id, created_at, updated_at) \
                 SELECT idem_key, 'done', payload, NULL, created_at, updated_at \
                 FROM idempotency_keys WHERE scope = 'seedgen.generate'",
            )
            .await?;
        platform::idempotency::drop_scope(manager, "seedgen.generate").await
    }
}
