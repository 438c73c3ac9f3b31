//! The Discord server directory (spec `discord-and-web.md` §1.6): per guild, categories posted
//! to a channel, each listing servers by invite code. Rows belong to their guild (upstream let
//! any admin delete or change any guild's rows by id).

use sea_orm_migration::prelude::*;

#[derive(DeriveIden)]
enum GatewayDirectoryCategories {
    Table,
    Id,
    GuildId,
    ChannelId,
    Title,
    Description,
    Position,
}

#[derive(DeriveIden)]
enum GatewayDirectoryServers {
    Table,
    Id,
    GuildId,
    CategoryId,
    InviteCode,
    ServerName,
    Description,
}

/// The migration.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(GatewayDirectoryCategories::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(GatewayDirectoryCategories::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(GatewayDirectoryCategories::GuildId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(GatewayDirectoryCategories::ChannelId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(GatewayDirectoryCategories::Title)
                            .string_len(200)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(GatewayDirectoryCategories::Description)
                            .string_len(200)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(GatewayDirectoryCategories::Position)
                            .integer()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(GatewayDirectoryServers::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(GatewayDirectoryServers::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(GatewayDirectoryServers::GuildId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(GatewayDirectoryServers::CategoryId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(GatewayDirectoryServers::InviteCode)
                            .string_len(45)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(GatewayDirectoryServers::ServerName)
                            .string_len(100)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(GatewayDirectoryServers::Description)
                            .string_len(200)
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_gateway_directory_servers_category")
                    .table(GatewayDirectoryServers::Table)
                    .col(GatewayDirectoryServers::CategoryId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(GatewayDirectoryServers::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(
                Table::drop()
                    .table(GatewayDirectoryCategories::Table)
                    .to_owned(),
            )
            .await
    }
}
