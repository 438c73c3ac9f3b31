//! The outbox, inbox and diagnostic-probe tables of the platform's event plumbing.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        platform::events::schema::create_event_tables(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        platform::events::schema::drop_event_tables(manager).await
    }
}
