//! OpenRoom intents move to the shared `idempotency_keys` table (scope `racetime.open`: the
//! attempt marker as the owner, the room as the subject, the requested settings as the
//! payload, `opened` as done); `racetime_open_requests` is dropped. Irreversible: going back
//! would need the old code, which is gone.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

#[derive(Debug, DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        platform::idempotency::create_table(manager).await?;
        manager
            .get_connection()
            .execute_unprepared(
                "INSERT INTO idempotency_keys (scope, idem_key, state, owner, subject, payload, error, created_at, updated_at) \
                 SELECT 'racetime.open', idempotency_key, \
                        CASE WHEN state = 'opened' THEN 'done' ELSE 'pending' END, \
                        marker, room, request, error, created_at, updated_at \
                 FROM racetime_open_requests",
            )
            .await?;
        manager
            .drop_table(
                Table::drop()
                    .table(Alias::new("racetime_open_requests"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "m20261130_000003_idempotency_keys cannot be undone".into(),
        ))
    }
}
