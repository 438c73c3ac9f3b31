//! Migrations of the `seedgen` service's database, recorded in `seaql_migrations_seedgen` so every
//! service can also share one schema.

pub use sea_orm_migration::prelude::*;

mod m20261120_000001_event_tables;
mod m20261120_000002_presets_and_audit;
mod m20261130_000003_signed_bigints;
mod m20261130_000004_no_pending_claims;
mod m20261130_000005_idempotency_keys;
mod m20261202_000006_triforce_texts;

/// Applies the `seedgen` service's migrations in order.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migration_table_name() -> DynIden {
        Alias::new("seaql_migrations_seedgen").into_iden()
    }

    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261120_000001_event_tables::Migration),
            Box::new(m20261120_000002_presets_and_audit::Migration),
            Box::new(m20261130_000003_signed_bigints::Migration),
            Box::new(m20261130_000004_no_pending_claims::Migration),
            Box::new(m20261130_000005_idempotency_keys::Migration),
            Box::new(m20261202_000006_triforce_texts::Migration),
        ]
    }
}
