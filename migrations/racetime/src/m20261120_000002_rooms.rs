//! Race rooms and their handler state, room leases, OpenRoom intents, KONOT series and the
//! stream-override whitelist.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RacetimeRooms {
    Table,
    Name,
    Category,
    Status,
    Version,
    State,
    Data,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RacetimeRoomLeases {
    Table,
    Room,
    Owner,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum RacetimeOpenRequests {
    Table,
    IdempotencyKey,
    Category,
    Marker,
    State,
    Room,
    Request,
    Error,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RacetimeKonotGames {
    Table,
    Id,
    Category,
    CreatedAt,
}

#[derive(DeriveIden)]
enum RacetimeOverrideWhitelist {
    Table,
    RacetimeId,
    Category,
    Expires,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RacetimeRooms::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(RacetimeRooms::Name).string_len(150).not_null().primary_key())
                    .col(ColumnDef::new(RacetimeRooms::Category).string_len(50).not_null())
                    .col(ColumnDef::new(RacetimeRooms::Status).string_len(20).not_null())
                    .col(ColumnDef::new(RacetimeRooms::Version).big_integer().not_null())
                    .col(ColumnDef::new(RacetimeRooms::State).text().not_null())
                    .col(ColumnDef::new(RacetimeRooms::Data).custom(Alias::new("MEDIUMTEXT")).not_null())
                    .col(ColumnDef::new(RacetimeRooms::UpdatedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RacetimeRoomLeases::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(RacetimeRoomLeases::Room).string_len(150).not_null().primary_key())
                    .col(ColumnDef::new(RacetimeRoomLeases::Owner).string_len(64).not_null())
                    .col(ColumnDef::new(RacetimeRoomLeases::ExpiresAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RacetimeOpenRequests::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(RacetimeOpenRequests::IdempotencyKey).string_len(191).not_null().primary_key())
                    .col(ColumnDef::new(RacetimeOpenRequests::Category).string_len(50).not_null())
                    .col(ColumnDef::new(RacetimeOpenRequests::Marker).string_len(64).not_null())
                    .col(ColumnDef::new(RacetimeOpenRequests::State).string_len(20).not_null())
                    .col(ColumnDef::new(RacetimeOpenRequests::Room).string_len(150).null())
                    .col(ColumnDef::new(RacetimeOpenRequests::Request).text().not_null())
                    .col(ColumnDef::new(RacetimeOpenRequests::Error).text().null())
                    .col(ColumnDef::new(RacetimeOpenRequests::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(RacetimeOpenRequests::UpdatedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_racetime_open_requests_room")
                    .table(RacetimeOpenRequests::Table)
                    .col(RacetimeOpenRequests::Room)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RacetimeKonotGames::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(RacetimeKonotGames::Id).big_integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(RacetimeKonotGames::Category).string_len(50).not_null())
                    .col(ColumnDef::new(RacetimeKonotGames::CreatedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RacetimeOverrideWhitelist::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(RacetimeOverrideWhitelist::RacetimeId).string_len(32).not_null())
                    .col(ColumnDef::new(RacetimeOverrideWhitelist::Category).string_len(50).not_null())
                    .col(ColumnDef::new(RacetimeOverrideWhitelist::Expires).timestamp_with_time_zone().null())
                    .primary_key(Index::create().col(RacetimeOverrideWhitelist::RacetimeId).col(RacetimeOverrideWhitelist::Category))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            RacetimeOverrideWhitelist::Table.into_iden(),
            RacetimeKonotGames::Table.into_iden(),
            RacetimeOpenRequests::Table.into_iden(),
            RacetimeRoomLeases::Table.into_iden(),
            RacetimeRooms::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).if_exists().to_owned()).await?;
        }
        Ok(())
    }
}
