//! Ranked-choice elections (spec `tournament.md` §4.1, `discord-and-web.md` §1.9): the
//! election and its Discord post, its candidates (names unique per election, unlike upstream
//! where duplicates collapsed into one), and one ballot per voter.

use sea_orm_migration::prelude::*;

#[derive(DeriveIden)]
enum Elections {
    Table,
    Id,
    GuildId,
    ChannelId,
    MessageId,
    OwnerDiscordId,
    Title,
    Description,
    Seats,
    VoterRoleId,
    ShowVoteCount,
    Active,
    Results,
    CreatedAt,
    EndedAt,
}

#[derive(DeriveIden)]
enum ElectionCandidates {
    Table,
    Id,
    ElectionId,
    Name,
    Position,
    Winner,
}

#[derive(DeriveIden)]
enum ElectionBallots {
    Table,
    Id,
    ElectionId,
    VoterDiscordId,
    Ranking,
    CastAt,
}

/// The migration.
#[derive(DeriveMigrationName)]
pub struct Migration;

fn id<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col)
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Elections::Table)
                    .if_not_exists()
                    .col(id(Elections::Id))
                    .col(ColumnDef::new(Elections::GuildId).big_integer().not_null())
                    .col(
                        ColumnDef::new(Elections::ChannelId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Elections::MessageId).big_integer().null())
                    .col(
                        ColumnDef::new(Elections::OwnerDiscordId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Elections::Title).string_len(200).not_null())
                    .col(ColumnDef::new(Elections::Description).text().not_null())
                    .col(ColumnDef::new(Elections::Seats).integer().not_null())
                    .col(ColumnDef::new(Elections::VoterRoleId).big_integer().null())
                    .col(
                        ColumnDef::new(Elections::ShowVoteCount)
                            .boolean()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Elections::Active).boolean().not_null())
                    .col(ColumnDef::new(Elections::Results).text().null())
                    .col(ColumnDef::new(Elections::CreatedAt).date_time().not_null())
                    .col(ColumnDef::new(Elections::EndedAt).date_time().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ElectionCandidates::Table)
                    .if_not_exists()
                    .col(id(ElectionCandidates::Id))
                    .col(
                        ColumnDef::new(ElectionCandidates::ElectionId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ElectionCandidates::Name)
                            .string_len(100)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ElectionCandidates::Position)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ElectionCandidates::Winner)
                            .boolean()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_election_candidates_name")
                    .table(ElectionCandidates::Table)
                    .col(ElectionCandidates::ElectionId)
                    .col(ElectionCandidates::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ElectionBallots::Table)
                    .if_not_exists()
                    .col(id(ElectionBallots::Id))
                    .col(
                        ColumnDef::new(ElectionBallots::ElectionId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ElectionBallots::VoterDiscordId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(ElectionBallots::Ranking).text().not_null())
                    .col(
                        ColumnDef::new(ElectionBallots::CastAt)
                            .date_time()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_election_ballots_voter")
                    .table(ElectionBallots::Table)
                    .col(ElectionBallots::ElectionId)
                    .col(ElectionBallots::VoterDiscordId)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ElectionBallots::Table.into_iden(),
            ElectionCandidates::Table.into_iden(),
            Elections::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
