//! OpenRoom intents move to the shared `idempotency_keys` table (scope `racetime.open`: the
//! attempt marker as the owner, the room as the subject, the requested settings as the
//! payload, `opened` as done); `racetime_open_requests` is dropped. `down` moves them back
//! (the category, which nothing read, comes back empty).

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

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let name = |n: &str| Alias::new(n);
        manager
            .create_table(
                Table::create()
                    .table(name("racetime_open_requests"))
                    .if_not_exists()
                    .col(
                        ColumnDef::new(name("idempotency_key"))
                            .string_len(191)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(name("category")).string_len(50).not_null())
                    .col(ColumnDef::new(name("marker")).string_len(64).not_null())
                    .col(ColumnDef::new(name("state")).string_len(20).not_null())
                    .col(ColumnDef::new(name("room")).string_len(150).null())
                    .col(ColumnDef::new(name("request")).text().not_null())
                    .col(ColumnDef::new(name("error")).text().null())
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
                "INSERT INTO racetime_open_requests (idempotency_key, category, marker, state, room, request, error, created_at, updated_at) \
                 SELECT idem_key, '', COALESCE(owner, ''), \
                        CASE WHEN state = 'done' THEN 'opened' ELSE 'pending' END, \
                        subject, COALESCE(payload, '{}'), error, created_at, updated_at \
                 FROM idempotency_keys WHERE scope = 'racetime.open'",
            )
            .await?;
        platform::idempotency::drop_scope(manager, "racetime.open").await
    }
}
