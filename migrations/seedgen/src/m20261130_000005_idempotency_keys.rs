//! `Generate` keys move to the shared `idempotency_keys` table (scope `seedgen.generate`, the
//! stored reply as the payload); `generate_requests` is dropped. Irreversible: going back
//! would need the old code, which is gone.

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

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "m20261130_000005_idempotency_keys cannot be undone".into(),
        ))
    }
}
