//! Preset namespaces, namespaced presets, the generated-game audit and Generate idempotency.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PresetNamespaces {
    Table,
    Id,
    Name,
    DiscordUserId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum PresetNamespaceCollaborators {
    Table,
    Id,
    NamespaceId,
    DiscordUserId,
}

#[derive(DeriveIden)]
enum Presets {
    Table,
    Id,
    Randomizer,
    PresetName,
    NamespaceId,
    Content,
    Modified,
}

#[derive(DeriveIden)]
enum AuditGeneratedGames {
    Table,
    Id,
    Randomizer,
    HashId,
    Permalink,
    Settings,
    Gentype,
    Genoption,
    Namespace,
    Provider,
    Surface,
    RequestedBy,
    Customizer,
    Doors,
    Avianart,
    RngSeed,
    SpoilerUrl,
    AttemptCount,
    LatencyMs,
    CreatedAt,
}

#[derive(DeriveIden)]
enum GenerateRequests {
    Table,
    IdempotencyKey,
    State,
    Reply,
    AuditId,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PresetNamespaces::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(PresetNamespaces::Id).big_integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(PresetNamespaces::Name).string_len(50).not_null().unique_key())
                    .col(ColumnDef::new(PresetNamespaces::DiscordUserId).big_unsigned().not_null().unique_key())
                    .col(ColumnDef::new(PresetNamespaces::CreatedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PresetNamespaceCollaborators::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(PresetNamespaceCollaborators::Id).big_integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(PresetNamespaceCollaborators::NamespaceId).big_integer().not_null())
                    .col(ColumnDef::new(PresetNamespaceCollaborators::DiscordUserId).big_unsigned().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(PresetNamespaceCollaborators::Table, PresetNamespaceCollaborators::NamespaceId)
                            .to(PresetNamespaces::Table, PresetNamespaces::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .index(
                        Index::create()
                            .unique()
                            .name("uq_collaborator")
                            .col(PresetNamespaceCollaborators::NamespaceId)
                            .col(PresetNamespaceCollaborators::DiscordUserId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Presets::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(Presets::Id).big_integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(Presets::Randomizer).string_len(50).not_null())
                    .col(ColumnDef::new(Presets::PresetName).string_len(50).not_null())
                    .col(ColumnDef::new(Presets::NamespaceId).big_integer().not_null())
                    .col(ColumnDef::new(Presets::Content).text().not_null())
                    .col(ColumnDef::new(Presets::Modified).timestamp_with_time_zone().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(Presets::Table, Presets::NamespaceId)
                            .to(PresetNamespaces::Table, PresetNamespaces::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .index(
                        Index::create()
                            .unique()
                            .name("uq_preset")
                            .col(Presets::Randomizer)
                            .col(Presets::PresetName)
                            .col(Presets::NamespaceId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditGeneratedGames::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(AuditGeneratedGames::Id).big_integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(AuditGeneratedGames::Randomizer).string_len(45).not_null())
                    .col(ColumnDef::new(AuditGeneratedGames::HashId).string_len(64).null())
                    .col(ColumnDef::new(AuditGeneratedGames::Permalink).string_len(2000).not_null())
                    .col(ColumnDef::new(AuditGeneratedGames::Settings).json().null())
                    .col(ColumnDef::new(AuditGeneratedGames::Gentype).string_len(16).not_null())
                    .col(ColumnDef::new(AuditGeneratedGames::Genoption).string_len(101).not_null())
                    .col(ColumnDef::new(AuditGeneratedGames::Namespace).string_len(50).null())
                    .col(ColumnDef::new(AuditGeneratedGames::Provider).string_len(45).not_null())
                    .col(ColumnDef::new(AuditGeneratedGames::Surface).string_len(16).not_null())
                    .col(ColumnDef::new(AuditGeneratedGames::RequestedBy).string_len(100).not_null())
                    .col(ColumnDef::new(AuditGeneratedGames::Customizer).boolean().not_null())
                    .col(ColumnDef::new(AuditGeneratedGames::Doors).boolean().not_null())
                    .col(ColumnDef::new(AuditGeneratedGames::Avianart).boolean().not_null())
                    .col(ColumnDef::new(AuditGeneratedGames::RngSeed).big_unsigned().null())
                    .col(ColumnDef::new(AuditGeneratedGames::SpoilerUrl).string_len(2000).null())
                    .col(ColumnDef::new(AuditGeneratedGames::AttemptCount).integer().not_null())
                    .col(ColumnDef::new(AuditGeneratedGames::LatencyMs).big_integer().not_null())
                    .col(ColumnDef::new(AuditGeneratedGames::CreatedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("ix_audit_hash", AuditGeneratedGames::HashId),
            ("ix_audit_gentype", AuditGeneratedGames::Gentype),
            ("ix_audit_genoption", AuditGeneratedGames::Genoption),
        ] {
            manager
                .create_index(
                    Index::create()
                        .if_not_exists()
                        .name(name)
                        .table(AuditGeneratedGames::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(GenerateRequests::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(GenerateRequests::IdempotencyKey).string_len(191).not_null().primary_key())
                    .col(ColumnDef::new(GenerateRequests::State).string_len(16).not_null())
                    .col(ColumnDef::new(GenerateRequests::Reply).text().null())
                    .col(ColumnDef::new(GenerateRequests::AuditId).big_integer().null())
                    .col(ColumnDef::new(GenerateRequests::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(GenerateRequests::UpdatedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            GenerateRequests::Table.into_iden(),
            AuditGeneratedGames::Table.into_iden(),
            Presets::Table.into_iden(),
            PresetNamespaceCollaborators::Table.into_iden(),
            PresetNamespaces::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
