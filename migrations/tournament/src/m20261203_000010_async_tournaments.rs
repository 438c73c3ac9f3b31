//! Async tournaments (qualifiers; spec `tournament.md` §3.1 and §5.1): the tournament per
//! Discord channel, its pools and seeds (permalinks), every run with its timers, review and
//! score, live qualifier races, grants, the whitelist, the audit log, and a cache of the
//! players' identities (owned by api; refreshed whenever tournament resolves one).
//!
//! Changes from upstream's schema: runs carry their pool and the runner's Discord id (the
//! leaderboard and the thread buttons need no join), a unique index on `thread_id` (upstream
//! looked runs up by it with no index), the indexes §5.1 asks for, the pending-timeout warning
//! and the countdown's start recorded (timers resume after a restart), times kept to the
//! microsecond on both databases, and no foreign keys to api's `users` (a plain user id).

use sea_orm_migration::prelude::*;

#[derive(DeriveIden)]
enum AsyncTournaments {
    Table,
    Id,
    Name,
    GuildId,
    ChannelId,
    MessageId,
    OwnerDiscordId,
    Active,
    AllowedReattempts,
    RunsPerPool,
    Customization,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AsyncPools {
    Table,
    Id,
    TournamentId,
    Name,
    Preset,
}

#[derive(DeriveIden)]
enum AsyncPermalinks {
    Table,
    Id,
    PoolId,
    Url,
    Notes,
    LiveRace,
    ParTime,
    ParUpdatedAt,
}

#[derive(DeriveIden)]
enum AsyncRuns {
    Table,
    Id,
    TournamentId,
    PoolId,
    PermalinkId,
    UserId,
    DiscordUserId,
    ThreadId,
    LiveRaceId,
    Status,
    ThreadOpenTime,
    ThreadTimeoutTime,
    WarnedAt,
    ReadyAt,
    StartTime,
    EndTime,
    Reattempted,
    ReattemptReason,
    RunnerNotes,
    RunnerVodUrl,
    RunCollectionRate,
    RunIgt,
    ReviewStatus,
    ReviewedBy,
    ReviewedAt,
    ReviewerNotes,
    Score,
    ScoreUpdatedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AsyncLiveRaces {
    Table,
    Id,
    TournamentId,
    PoolId,
    PermalinkId,
    RacetimeSlug,
    EpisodeId,
    MatchTitle,
    Status,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AsyncGrants {
    Table,
    Id,
    TournamentId,
    Role,
    UserId,
    DiscordRoleId,
}

#[derive(DeriveIden)]
enum AsyncWhitelist {
    Table,
    TournamentId,
    UserId,
}

#[derive(DeriveIden)]
enum AsyncAudit {
    Table,
    Id,
    TournamentId,
    UserId,
    Action,
    Details,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AsyncPlayers {
    Table,
    UserId,
    DiscordUserId,
    RacetimeUserId,
    DisplayName,
    TwitchName,
    UpdatedAt,
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

/// A point in time to the microsecond: `TIMESTAMP(6)` on MySQL/MariaDB (a plain `TIMESTAMP`
/// drops fractions, and par is a mean of microsecond durations), the usual type elsewhere.
fn at<T: IntoIden>(manager: &SchemaManager, col: T) -> ColumnDef {
    let mut def = ColumnDef::new(col);
    if manager.get_database_backend() == sea_orm_migration::sea_orm::DatabaseBackend::MySql {
        def.custom(Alias::new("TIMESTAMP(6)"));
    } else {
        def.timestamp_with_time_zone();
    }
    def.null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use AsyncTournaments as T;
        manager
            .create_table(
                Table::create()
                    .table(T::Table)
                    .if_not_exists()
                    .col(id(T::Id))
                    .col(ColumnDef::new(T::Name).string_len(100).not_null())
                    .col(ColumnDef::new(T::GuildId).big_integer().not_null())
                    .col(
                        ColumnDef::new(T::ChannelId)
                            .big_integer()
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(T::MessageId).big_integer().null())
                    .col(ColumnDef::new(T::OwnerDiscordId).big_integer().not_null())
                    .col(ColumnDef::new(T::Active).boolean().not_null())
                    .col(ColumnDef::new(T::AllowedReattempts).integer().not_null())
                    .col(ColumnDef::new(T::RunsPerPool).integer().not_null())
                    .col(ColumnDef::new(T::Customization).string_len(20).not_null())
                    .col(
                        ColumnDef::new(T::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        use AsyncPools as P;
        manager
            .create_table(
                Table::create()
                    .table(P::Table)
                    .if_not_exists()
                    .col(id(P::Id))
                    .col(ColumnDef::new(P::TournamentId).big_integer().not_null())
                    .col(ColumnDef::new(P::Name).string_len(100).not_null())
                    .col(ColumnDef::new(P::Preset).string_len(200).not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("async_pools_name")
                    .table(P::Table)
                    .col(P::TournamentId)
                    .col(P::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;
        use AsyncPermalinks as L;
        manager
            .create_table(
                Table::create()
                    .table(L::Table)
                    .if_not_exists()
                    .col(id(L::Id))
                    .col(ColumnDef::new(L::PoolId).big_integer().not_null())
                    .col(ColumnDef::new(L::Url).string_len(400).not_null())
                    .col(ColumnDef::new(L::Notes).string_len(200).not_null())
                    .col(ColumnDef::new(L::LiveRace).boolean().not_null())
                    .col(ColumnDef::new(L::ParTime).double().null())
                    .col(at(manager, L::ParUpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("async_permalinks_pool")
                    .table(L::Table)
                    .col(L::PoolId)
                    .to_owned(),
            )
            .await?;
        use AsyncRuns as R;
        manager
            .create_table(
                Table::create()
                    .table(R::Table)
                    .if_not_exists()
                    .col(id(R::Id))
                    .col(ColumnDef::new(R::TournamentId).big_integer().not_null())
                    .col(ColumnDef::new(R::PoolId).big_integer().not_null())
                    .col(ColumnDef::new(R::PermalinkId).big_integer().not_null())
                    .col(ColumnDef::new(R::UserId).big_integer().not_null())
                    .col(ColumnDef::new(R::DiscordUserId).big_integer().null())
                    .col(ColumnDef::new(R::ThreadId).big_integer().null())
                    .col(ColumnDef::new(R::LiveRaceId).big_integer().null())
                    .col(ColumnDef::new(R::Status).string_len(16).not_null())
                    .col(at(manager, R::ThreadOpenTime))
                    .col(at(manager, R::ThreadTimeoutTime))
                    .col(at(manager, R::WarnedAt))
                    .col(at(manager, R::ReadyAt))
                    .col(at(manager, R::StartTime))
                    .col(at(manager, R::EndTime))
                    .col(ColumnDef::new(R::Reattempted).boolean().not_null())
                    .col(ColumnDef::new(R::ReattemptReason).text().null())
                    .col(ColumnDef::new(R::RunnerNotes).text().null())
                    .col(ColumnDef::new(R::RunnerVodUrl).string_len(400).null())
                    .col(ColumnDef::new(R::RunCollectionRate).string_len(100).null())
                    .col(ColumnDef::new(R::RunIgt).string_len(100).null())
                    .col(ColumnDef::new(R::ReviewStatus).string_len(16).not_null())
                    .col(ColumnDef::new(R::ReviewedBy).big_integer().null())
                    .col(at(manager, R::ReviewedAt))
                    .col(ColumnDef::new(R::ReviewerNotes).text().null())
                    .col(ColumnDef::new(R::Score).double().null())
                    .col(at(manager, R::ScoreUpdatedAt))
                    .col(
                        ColumnDef::new(R::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, cols, unique) in [
            ("async_runs_thread", vec![R::ThreadId], true),
            (
                "async_runs_player",
                vec![R::TournamentId, R::UserId, R::Status],
                false,
            ),
            (
                "async_runs_permalink",
                vec![R::PermalinkId, R::Status, R::Reattempted],
                false,
            ),
            ("async_runs_status", vec![R::Status], false),
            ("async_runs_live", vec![R::LiveRaceId], false),
        ] {
            let mut index = Index::create();
            index.name(name).table(R::Table);
            for col in cols {
                index.col(col);
            }
            if unique {
                index.unique();
            }
            manager.create_index(index.to_owned()).await?;
        }
        use AsyncLiveRaces as V;
        manager
            .create_table(
                Table::create()
                    .table(V::Table)
                    .if_not_exists()
                    .col(id(V::Id))
                    .col(ColumnDef::new(V::TournamentId).big_integer().not_null())
                    .col(ColumnDef::new(V::PoolId).big_integer().not_null())
                    .col(ColumnDef::new(V::PermalinkId).big_integer().null())
                    .col(
                        ColumnDef::new(V::RacetimeSlug)
                            .string_len(200)
                            .null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(V::EpisodeId).big_integer().null())
                    .col(ColumnDef::new(V::MatchTitle).string_len(200).null())
                    .col(ColumnDef::new(V::Status).string_len(16).not_null())
                    .col(
                        ColumnDef::new(V::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        use AsyncGrants as G;
        manager
            .create_table(
                Table::create()
                    .table(G::Table)
                    .if_not_exists()
                    .col(id(G::Id))
                    .col(ColumnDef::new(G::TournamentId).big_integer().not_null())
                    .col(ColumnDef::new(G::Role).string_len(16).not_null())
                    .col(ColumnDef::new(G::UserId).big_integer().null())
                    .col(ColumnDef::new(G::DiscordRoleId).big_integer().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("async_grants_tournament")
                    .table(G::Table)
                    .col(G::TournamentId)
                    .to_owned(),
            )
            .await?;
        use AsyncWhitelist as W;
        manager
            .create_table(
                Table::create()
                    .table(W::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(W::TournamentId).big_integer().not_null())
                    .col(ColumnDef::new(W::UserId).big_integer().not_null())
                    .primary_key(Index::create().col(W::TournamentId).col(W::UserId))
                    .to_owned(),
            )
            .await?;
        use AsyncAudit as A;
        manager
            .create_table(
                Table::create()
                    .table(A::Table)
                    .if_not_exists()
                    .col(id(A::Id))
                    .col(ColumnDef::new(A::TournamentId).big_integer().not_null())
                    .col(ColumnDef::new(A::UserId).big_integer().null())
                    .col(ColumnDef::new(A::Action).string_len(45).not_null())
                    .col(ColumnDef::new(A::Details).text().not_null())
                    .col(
                        ColumnDef::new(A::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("async_audit_tournament")
                    .table(A::Table)
                    .col(A::TournamentId)
                    .to_owned(),
            )
            .await?;
        use AsyncPlayers as Y;
        manager
            .create_table(
                Table::create()
                    .table(Y::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(Y::UserId)
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Y::DiscordUserId).big_integer().null())
                    .col(ColumnDef::new(Y::RacetimeUserId).string_len(64).null())
                    .col(ColumnDef::new(Y::DisplayName).string_len(200).not_null())
                    .col(ColumnDef::new(Y::TwitchName).string_len(200).null())
                    .col(
                        ColumnDef::new(Y::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AsyncPlayers::Table.into_iden(),
            AsyncAudit::Table.into_iden(),
            AsyncWhitelist::Table.into_iden(),
            AsyncGrants::Table.into_iden(),
            AsyncLiveRaces::Table.into_iden(),
            AsyncRuns::Table.into_iden(),
            AsyncPermalinks::Table.into_iden(),
            AsyncPools::Table.into_iden(),
            AsyncTournaments::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
