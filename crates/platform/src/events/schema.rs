//! The tables every service's database has for events: `outbox` (written in the same
//! transaction as a state change, drained by the relay), `inbox` (event ids a consumer has
//! handled, so redeliveries are dropped) and `diagnostic_probe` (receipts of probe events).
//!
//! Each service's migration crate calls [`create_event_tables`] from its first migration, so the
//! definitions live once.

use sea_orm_migration::prelude::*;

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Seq,
    EventId,
    Source,
    Subject,
    Envelope,
    Traceparent,
    Tracestate,
    OccurredAt,
    PublishedAt,
    Attempts,
    LastError,
}

#[derive(DeriveIden)]
enum Inbox {
    Table,
    Consumer,
    EventId,
    Subject,
    ProcessedAt,
}

#[derive(DeriveIden)]
enum DiagnosticProbe {
    Table,
    EventId,
    Source,
    TimesHandled,
    FirstHandledAt,
}

/// Creates `outbox`, `inbox` and `diagnostic_probe` with their indexes (MariaDB/MySQL and
/// SQLite).
pub async fn create_event_tables(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(Outbox::Table)
                .if_not_exists()
                .col(
                    ColumnDef::new(Outbox::Seq)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(Outbox::EventId)
                        .string_len(36)
                        .not_null()
                        .unique_key(),
                )
                .col(
                    // The writing service: in a schema shared by several services each relay
                    // publishes only its own rows.
                    ColumnDef::new(Outbox::Source).string_len(64).not_null(),
                )
                .col(ColumnDef::new(Outbox::Subject).string_len(255).not_null())
                // Encoded events.v1.Envelope; MEDIUMBLOB on MySQL (16 MiB), BLOB affinity on SQLite.
                .col(
                    ColumnDef::new(Outbox::Envelope)
                        .custom("MEDIUMBLOB")
                        .not_null(),
                )
                .col(
                    ColumnDef::new(Outbox::Traceparent)
                        .string_len(64)
                        .not_null()
                        .default(""),
                )
                .col(
                    ColumnDef::new(Outbox::Tracestate)
                        .string_len(512)
                        .not_null()
                        .default(""),
                )
                .col(ColumnDef::new(Outbox::OccurredAt).date_time().not_null())
                .col(ColumnDef::new(Outbox::PublishedAt).date_time().null())
                .col(
                    ColumnDef::new(Outbox::Attempts)
                        .integer()
                        .not_null()
                        .default(0),
                )
                .col(ColumnDef::new(Outbox::LastError).text().null())
                .to_owned(),
        )
        .await?;
    // MySQL has no CREATE INDEX IF NOT EXISTS; a shared schema meets these indexes again.
    if !manager
        .has_index("outbox", "idx_outbox_unpublished")
        .await?
    {
        manager
            .create_index(
                Index::create()
                    .name("idx_outbox_unpublished")
                    .table(Outbox::Table)
                    .col(Outbox::Source)
                    .col(Outbox::PublishedAt)
                    .col(Outbox::Seq)
                    .to_owned(),
            )
            .await?;
    }
    manager
        .create_table(
            Table::create()
                .table(Inbox::Table)
                .if_not_exists()
                .col(ColumnDef::new(Inbox::Consumer).string_len(64).not_null())
                .col(ColumnDef::new(Inbox::EventId).string_len(36).not_null())
                .col(ColumnDef::new(Inbox::Subject).string_len(255).not_null())
                .col(ColumnDef::new(Inbox::ProcessedAt).date_time().not_null())
                .primary_key(Index::create().col(Inbox::Consumer).col(Inbox::EventId))
                .to_owned(),
        )
        .await?;
    if !manager.has_index("inbox", "idx_inbox_processed_at").await? {
        manager
            .create_index(
                Index::create()
                    .name("idx_inbox_processed_at")
                    .table(Inbox::Table)
                    .col(Inbox::ProcessedAt)
                    .to_owned(),
            )
            .await?;
    }
    manager
        .create_table(
            Table::create()
                .table(DiagnosticProbe::Table)
                .if_not_exists()
                .col(
                    ColumnDef::new(DiagnosticProbe::EventId)
                        .string_len(36)
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(DiagnosticProbe::Source)
                        .string_len(64)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(DiagnosticProbe::TimesHandled)
                        .integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(DiagnosticProbe::FirstHandledAt)
                        .date_time()
                        .not_null(),
                )
                .to_owned(),
        )
        .await
}

/// Drops what [`create_event_tables`] created. In a schema shared by several services this
/// removes the tables for all of them: roll back only a service that has its own schema.
pub async fn drop_event_tables(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    for table in [
        Alias::new("diagnostic_probe"),
        Alias::new("inbox"),
        Alias::new("outbox"),
    ] {
        manager
            .drop_table(Table::drop().table(table).if_exists().to_owned())
            .await?;
    }
    Ok(())
}
