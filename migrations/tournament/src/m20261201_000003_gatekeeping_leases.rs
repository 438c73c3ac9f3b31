//! Open race series per tournament (spec §1.5.5: the daily's info line, announcement and
//! webhook), with a flag on each room binding that its webhook announcement went out;
//! helper racetime.gg teams per tournament (spec §1.5.4: members of a team such as
//! `sg-volunteers` are let into a tournament room and made monitors) and job leases: a periodic
//! job that must run on one replica at a time (the room opener) holds its row until
//! `expires_at`.

use sea_orm_migration::prelude::*;

#[derive(DeriveIden)]
enum Tournaments {
    Table,
    HelperRacetimeTeams,
    OpenRace,
}

#[derive(DeriveIden)]
enum MatchRooms {
    Table,
    WebhookPosted,
}

#[derive(DeriveIden)]
enum TournamentJobLeases {
    Table,
    Name,
    Owner,
    ExpiresAt,
}

/// The migration.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Tournaments::Table)
                    .add_column(
                        ColumnDef::new(Tournaments::HelperRacetimeTeams)
                            .string_len(1000)
                            .not_null()
                            .default("[]"),
                    )
                    .to_owned(),
            )
            .await?;
        // One column per statement: SQLite alters one column at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(Tournaments::Table)
                    .add_column(ColumnDef::new(Tournaments::OpenRace).text().null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(MatchRooms::Table)
                    .add_column(
                        ColumnDef::new(MatchRooms::WebhookPosted)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TournamentJobLeases::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(TournamentJobLeases::Name)
                            .string_len(100)
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(TournamentJobLeases::Owner)
                            .string_len(100)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(TournamentJobLeases::ExpiresAt)
                            .date_time()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TournamentJobLeases::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(MatchRooms::Table)
                    .drop_column(MatchRooms::WebhookPosted)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Tournaments::Table)
                    .drop_column(Tournaments::OpenRace)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Tournaments::Table)
                    .drop_column(Tournaments::HelperRacetimeTeams)
                    .to_owned(),
            )
            .await
    }
}
