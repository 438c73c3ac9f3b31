//! Triforce texts (spec tournament.md §4.4): submitted texts per pool with their moderation
//! status, and each pool's moderators (upstream: a key/value config table).

use sea_orm_migration::prelude::*;

#[derive(DeriveIden)]
enum SeedgenTriforceTexts {
    Table,
    Id,
    Pool,
    Text,
    DiscordUserId,
    Author,
    Status,
    CreatedAt,
    ModeratedBy,
    ModeratedAt,
}

#[derive(DeriveIden)]
enum SeedgenTriforceModerators {
    Table,
    Pool,
    DiscordUserId,
}

/// The migration.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use SeedgenTriforceModerators as M;
        use SeedgenTriforceTexts as T;
        manager
            .create_table(
                Table::create()
                    .table(T::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(T::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(T::Pool).string_len(45).not_null())
                    .col(ColumnDef::new(T::Text).string_len(200).not_null())
                    .col(ColumnDef::new(T::DiscordUserId).big_integer().not_null())
                    .col(ColumnDef::new(T::Author).string_len(100).not_null())
                    .col(ColumnDef::new(T::Status).string_len(20).not_null())
                    .col(
                        ColumnDef::new(T::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(T::ModeratedBy).big_integer().null())
                    .col(
                        ColumnDef::new(T::ModeratedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_seedgen_triforce_texts_pool_status")
                    .table(T::Table)
                    .col(T::Pool)
                    .col(T::Status)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(M::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(M::Pool).string_len(45).not_null())
                    .col(ColumnDef::new(M::DiscordUserId).big_integer().not_null())
                    .primary_key(Index::create().col(M::Pool).col(M::DiscordUserId))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(SeedgenTriforceModerators::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(SeedgenTriforceTexts::Table).to_owned())
            .await
    }
}
