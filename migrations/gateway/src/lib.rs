//! Migrations of the `gateway` service's database, recorded in `seaql_migrations_gateway` so every
//! service can also share one schema.

pub use sea_orm_migration::prelude::*;

mod m20261120_000001_event_tables;
mod m20261121_000002_discord;
mod m20261130_000003_signed_bigints;
mod m20261130_000004_idempotency_keys;
mod m20261201_000005_server_directory;
mod m20261202_000006_inquiry_and_audit;

/// Applies the `gateway` service's migrations in order.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migration_table_name() -> DynIden {
        Alias::new("seaql_migrations_gateway").into_iden()
    }

    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261120_000001_event_tables::Migration),
            Box::new(m20261121_000002_discord::Migration),
            Box::new(m20261130_000003_signed_bigints::Migration),
            Box::new(m20261130_000004_idempotency_keys::Migration),
            Box::new(m20261201_000005_server_directory::Migration),
            Box::new(m20261202_000006_inquiry_and_audit::Migration),
        ]
    }
}
