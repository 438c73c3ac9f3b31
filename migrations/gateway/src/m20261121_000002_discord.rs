//! Guild configuration (typed keys per guild), the idempotency record of what the gateway
//! created on Discord (messages, scheduled events) and the daily challenges announced.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum GatewayGuildConfig {
    Table,
    GuildId,
    Parameter,
    Value,
    UpdatedBy,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum GatewayDailyAnnouncements {
    Table,
    Hash,
    AnnouncedAt,
}

#[derive(DeriveIden)]
enum GatewayIdempotency {
    Table,
    IdempotencyKey,
    Kind,
    ContainerId,
    ObjectId,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(GatewayGuildConfig::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(GatewayGuildConfig::GuildId)
                            .big_unsigned()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(GatewayGuildConfig::Parameter)
                            .string_len(64)
                            .not_null(),
                    )
                    // Upstream's 45-character column could not hold two channel ids.
                    .col(
                        ColumnDef::new(GatewayGuildConfig::Value)
                            .string_len(1000)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(GatewayGuildConfig::UpdatedBy)
                            .big_unsigned()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(GatewayGuildConfig::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(GatewayGuildConfig::GuildId)
                            .col(GatewayGuildConfig::Parameter),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(GatewayIdempotency::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(GatewayIdempotency::IdempotencyKey)
                            .string_len(200)
                            .not_null()
                            .primary_key(),
                    )
                    // "message" or "scheduled_event".
                    .col(
                        ColumnDef::new(GatewayIdempotency::Kind)
                            .string_len(20)
                            .not_null(),
                    )
                    // The channel of a message, the guild of a scheduled event.
                    .col(
                        ColumnDef::new(GatewayIdempotency::ContainerId)
                            .big_unsigned()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(GatewayIdempotency::ObjectId)
                            .big_unsigned()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(GatewayIdempotency::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(GatewayDailyAnnouncements::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(GatewayDailyAnnouncements::Hash)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(GatewayDailyAnnouncements::AnnouncedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(GatewayDailyAnnouncements::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(GatewayIdempotency::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(GatewayGuildConfig::Table).to_owned())
            .await
    }
}
