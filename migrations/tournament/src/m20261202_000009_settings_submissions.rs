//! Settings submissions (spec §1.5.10): a tournament's form, each match's submitted answers,
//! and the reminders sent (one per player and match).

use sea_orm_migration::prelude::*;

#[derive(DeriveIden)]
enum Tournaments {
    Table,
    SettingsForm,
}

#[derive(DeriveIden)]
enum TournamentSettingsSubmissions {
    Table,
    MatchId,
    TournamentId,
    Settings,
    SubmittedBy,
    SubmittedAt,
}

#[derive(DeriveIden)]
enum TournamentSettingsReminders {
    Table,
    MatchId,
    DiscordUserId,
    SentAt,
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
                    .add_column(ColumnDef::new(Tournaments::SettingsForm).text().null())
                    .to_owned(),
            )
            .await?;
        use TournamentSettingsSubmissions as S;
        manager
            .create_table(
                Table::create()
                    .table(S::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(S::MatchId)
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(S::TournamentId).big_integer().not_null())
                    .col(ColumnDef::new(S::Settings).text().not_null())
                    .col(ColumnDef::new(S::SubmittedBy).big_integer().not_null())
                    .col(
                        ColumnDef::new(S::SubmittedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        use TournamentSettingsReminders as M;
        manager
            .create_table(
                Table::create()
                    .table(M::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(M::MatchId).big_integer().not_null())
                    .col(ColumnDef::new(M::DiscordUserId).big_integer().not_null())
                    .col(
                        ColumnDef::new(M::SentAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .primary_key(Index::create().col(M::MatchId).col(M::DiscordUserId))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(TournamentSettingsReminders::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(
                Table::drop()
                    .table(TournamentSettingsSubmissions::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Tournaments::Table)
                    .drop_column(Tournaments::SettingsForm)
                    .to_owned(),
            )
            .await
    }
}
