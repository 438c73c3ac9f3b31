//! Organizer tools (spec §1.5.11–§1.5.13): per-tournament settings for the player-check
//! mention, Discord scheduled events and the scheduling-needs embed; the reported player
//! problems (each once), the match → Discord event map and the needs post.

use sea_orm_migration::prelude::*;

#[derive(DeriveIden)]
enum Tournaments {
    Table,
    AuditMention,
    ScheduledEvents,
    SchedulingNeedsChannelId,
    SchedulingNeedsTracker,
    SchedulingNeedsLanguage,
}

#[derive(DeriveIden)]
enum TournamentPlayerProblems {
    Table,
    Id,
    TournamentId,
    MatchId,
    PlayerKey,
    Problem,
    ReportedAt,
}

#[derive(DeriveIden)]
enum TournamentScheduledEvents {
    Table,
    MatchId,
    TournamentId,
    GuildId,
    EventId,
    Digest,
    Generation,
}

#[derive(DeriveIden)]
enum TournamentNeedsPosts {
    Table,
    TournamentId,
    ChannelId,
    MessageId,
    Generation,
}

/// The migration.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one column at a time.
        let columns = [
            ColumnDef::new(Tournaments::AuditMention)
                .string_len(100)
                .null()
                .to_owned(),
            ColumnDef::new(Tournaments::ScheduledEvents)
                .boolean()
                .not_null()
                .default(false)
                .to_owned(),
            ColumnDef::new(Tournaments::SchedulingNeedsChannelId)
                .big_integer()
                .null()
                .to_owned(),
            ColumnDef::new(Tournaments::SchedulingNeedsTracker)
                .boolean()
                .not_null()
                .default(false)
                .to_owned(),
            ColumnDef::new(Tournaments::SchedulingNeedsLanguage)
                .string_len(10)
                .null()
                .to_owned(),
        ];
        for mut column in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(Tournaments::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        use TournamentPlayerProblems as P;
        manager
            .create_table(
                Table::create()
                    .table(P::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(P::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(P::TournamentId).big_integer().not_null())
                    .col(ColumnDef::new(P::MatchId).big_integer().not_null())
                    .col(ColumnDef::new(P::PlayerKey).string_len(100).not_null())
                    .col(ColumnDef::new(P::Problem).string_len(20).not_null())
                    .col(
                        ColumnDef::new(P::ReportedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_tournament_player_problems")
                    .table(P::Table)
                    .col(P::MatchId)
                    .col(P::PlayerKey)
                    .col(P::Problem)
                    .unique()
                    .to_owned(),
            )
            .await?;
        use TournamentScheduledEvents as E;
        manager
            .create_table(
                Table::create()
                    .table(E::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(E::MatchId)
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(E::TournamentId).big_integer().not_null())
                    .col(ColumnDef::new(E::GuildId).big_integer().not_null())
                    .col(ColumnDef::new(E::EventId).big_integer().not_null())
                    .col(ColumnDef::new(E::Digest).string_len(64).not_null())
                    .col(ColumnDef::new(E::Generation).integer().not_null())
                    .to_owned(),
            )
            .await?;
        use TournamentNeedsPosts as N;
        manager
            .create_table(
                Table::create()
                    .table(N::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(N::TournamentId)
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(N::ChannelId).big_integer().not_null())
                    .col(ColumnDef::new(N::MessageId).big_integer().not_null())
                    .col(ColumnDef::new(N::Generation).integer().not_null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            TournamentNeedsPosts::Table.into_iden(),
            TournamentScheduledEvents::Table.into_iden(),
            TournamentPlayerProblems::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        for column in [
            Tournaments::SchedulingNeedsLanguage,
            Tournaments::SchedulingNeedsTracker,
            Tournaments::SchedulingNeedsChannelId,
            Tournaments::ScheduledEvents,
            Tournaments::AuditMention,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Tournaments::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
