//! Racer verification may also count ALTTPR Ladder races (spec §1.13, `use_alttpr_ladder`).

use sea_orm_migration::prelude::*;

#[derive(DeriveIden)]
enum RacerVerifications {
    Table,
    UseAlttprLadder,
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
                    .table(RacerVerifications::Table)
                    .add_column(
                        ColumnDef::new(RacerVerifications::UseAlttprLadder)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(RacerVerifications::Table)
                    .drop_column(RacerVerifications::UseAlttprLadder)
                    .to_owned(),
            )
            .await
    }
}
