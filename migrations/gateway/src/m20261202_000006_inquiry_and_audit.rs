//! Inquiry posts (spec `discord-and-web.md` §1.8) and the audit log's message history (§2):
//! every version of a recorded message (version 0 as posted, then one row per edit), kept 30
//! days for the edit/delete log and the moderators' CSV export.

use sea_orm_migration::prelude::*;

#[derive(DeriveIden)]
enum GatewayInquiryMessages {
    Table,
    MessageId,
    GuildId,
    ChannelId,
    RoleId,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum GatewayAuditMessages {
    Table,
    Id,
    GuildId,
    ChannelId,
    MessageId,
    AuthorId,
    AuthorName,
    Version,
    Content,
    Attachment,
    MessageAt,
    RecordedAt,
    Deleted,
}

/// The migration.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use GatewayAuditMessages as A;
        use GatewayInquiryMessages as I;
        manager
            .create_table(
                Table::create()
                    .table(I::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(I::MessageId)
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(I::GuildId).big_integer().not_null())
                    .col(ColumnDef::new(I::ChannelId).big_integer().not_null())
                    .col(ColumnDef::new(I::RoleId).big_integer().not_null())
                    .col(ColumnDef::new(I::CreatedBy).big_integer().not_null())
                    .col(
                        ColumnDef::new(I::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(A::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(A::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(A::GuildId).big_integer().not_null())
                    .col(ColumnDef::new(A::ChannelId).big_integer().not_null())
                    .col(ColumnDef::new(A::MessageId).big_integer().not_null())
                    .col(ColumnDef::new(A::AuthorId).big_integer().not_null())
                    .col(ColumnDef::new(A::AuthorName).string_len(100).not_null())
                    .col(ColumnDef::new(A::Version).integer().not_null())
                    .col(ColumnDef::new(A::Content).text().not_null())
                    .col(ColumnDef::new(A::Attachment).string_len(1000).not_null())
                    .col(
                        ColumnDef::new(A::MessageAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(A::RecordedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(A::Deleted).boolean().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_gateway_audit_messages_version")
                    .table(A::Table)
                    .col(A::MessageId)
                    .col(A::Version)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_gateway_audit_messages_author")
                    .table(A::Table)
                    .col(A::GuildId)
                    .col(A::AuthorId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_gateway_audit_messages_recorded")
                    .table(A::Table)
                    .col(A::RecordedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(GatewayAuditMessages::Table).to_owned())
            .await?;
        manager
            .drop_table(
                Table::drop()
                    .table(GatewayInquiryMessages::Table)
                    .to_owned(),
            )
            .await
    }
}
