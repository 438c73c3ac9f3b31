//! Migrations of the `tournament` service's database, recorded in `seaql_migrations_tournament` so every
//! service can also share one schema.

pub use sea_orm_migration::prelude::*;

mod m20261120_000001_event_tables;
mod m20261130_000002_matches;
mod m20261201_000003_gatekeeping_leases;
mod m20261201_000004_leagues;
mod m20261201_000005_elections;
mod m20261201_000006_racer_verification;
mod m20261202_000007_organizer_tools;
mod m20261202_000008_alttpr_ladder;
mod m20261202_000009_settings_submissions;
mod m20261203_000010_async_tournaments;

/// Applies the `tournament` service's migrations in order.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migration_table_name() -> DynIden {
        Alias::new("seaql_migrations_tournament").into_iden()
    }

    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261120_000001_event_tables::Migration),
            Box::new(m20261130_000002_matches::Migration),
            Box::new(m20261201_000003_gatekeeping_leases::Migration),
            Box::new(m20261201_000004_leagues::Migration),
            Box::new(m20261201_000005_elections::Migration),
            Box::new(m20261201_000006_racer_verification::Migration),
            Box::new(m20261202_000007_organizer_tools::Migration),
            Box::new(m20261202_000008_alttpr_ladder::Migration),
            Box::new(m20261202_000009_settings_submissions::Migration),
            Box::new(m20261203_000010_async_tournaments::Migration),
        ]
    }
}
