//! `Generate` no longer claims a key with a `pending` row before rolling (it records the reply,
//! the audit row and the event in one transaction instead). Rows a previous version left
//! `pending` would block their key: they are removed, so a retry of such a key rolls.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

#[derive(Debug, DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DELETE FROM generate_requests WHERE state = 'pending'")
            .await?;
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}
