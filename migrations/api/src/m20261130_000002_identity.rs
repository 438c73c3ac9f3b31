//! Users with their linked accounts, and API keys (stored as SHA-256 hashes only).

use sea_orm_migration::prelude::*;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    DiscordUserId,
    RacetimeUserId,
    RacetimeName,
    TwitchName,
    DisplayName,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Id,
    Name,
    KeyHash,
    UserId,
    Scopes,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
}

#[derive(Debug, DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(Users::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(Users::DiscordUserId)
                            .big_integer()
                            .null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(Users::RacetimeUserId)
                            .string_len(64)
                            .null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(Users::RacetimeName).string_len(200).null())
                    .col(ColumnDef::new(Users::TwitchName).string_len(200).null())
                    .col(
                        ColumnDef::new(Users::DisplayName)
                            .string_len(32)
                            .null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(Users::CreatedAt).date_time().not_null())
                    .col(ColumnDef::new(Users::UpdatedAt).date_time().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ApiKeys::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(ApiKeys::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(ApiKeys::Name).string_len(100).not_null())
                    .col(
                        ColumnDef::new(ApiKeys::KeyHash)
                            .string_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(ApiKeys::UserId).big_integer().null())
                    .col(ColumnDef::new(ApiKeys::Scopes).text().not_null())
                    .col(ColumnDef::new(ApiKeys::CreatedAt).date_time().not_null())
                    .col(ColumnDef::new(ApiKeys::ExpiresAt).date_time().null())
                    .col(ColumnDef::new(ApiKeys::RevokedAt).date_time().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ApiKeys::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Users::Table).to_owned())
            .await
    }
}
