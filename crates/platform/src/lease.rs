//! Leases: one replica at a time does a thing (handles a race room, runs a periodic job).
//!
//! A lease is a row `(key, owner, expires_at)` in a table the service owns (its migration
//! creates it: the key column is the primary key). [`acquire`] takes the lease when nobody holds
//! it or its holder let it lapse, and renews it for its holder; the holder renews it well before
//! `ttl` runs out, so a replica that dies loses it after at most `ttl`. The decision is one
//! conditional `UPDATE`, so two replicas racing for one key cannot both win.

use std::time::Duration;

use chrono::Utc;
use sea_orm::{ConnectionTrait, DbErr, Statement, Value};

/// Where a kind of lease lives: the table and its key column (the owner and expiry columns
/// are always `owner` and `expires_at`). Names are compile-time constants, never input.
#[derive(Clone, Copy, Debug)]
pub struct LeaseTable {
    /// Table name, e.g. `racetime_room_leases`.
    pub table: &'static str,
    /// The primary-key column naming what is leased, e.g. `room`.
    pub key_column: &'static str,
}

/// Takes or renews the lease on `key` for `owner` until now + `ttl`; returns whether `owner`
/// holds it afterwards.
///
/// Errors: the database failed (the caller should act as if it did not get the lease).
pub async fn acquire<C: ConnectionTrait>(
    conn: &C,
    lease: LeaseTable,
    key: &str,
    owner: &str,
    ttl: Duration,
) -> Result<bool, DbErr> {
    let now = Utc::now();
    let expires = now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::MAX);
    let backend = conn.get_database_backend();
    let LeaseTable { table, key_column } = lease;
    // The row exists (expired) after this; a concurrent insert of the same key is fine.
    let insert = conn
        .execute_raw(Statement::from_sql_and_values(
            backend,
            format!("INSERT INTO {table} ({key_column}, owner, expires_at) VALUES (?, ?, ?)"),
            [
                Value::from(key),
                Value::from(owner),
                Value::from(now - chrono::Duration::seconds(1)),
            ],
        ))
        .await;
    match insert {
        Ok(_) => {}
        Err(error) if crate::db::is_unique_violation(&error) => {}
        Err(error) => return Err(error),
    }
    let updated = conn
        .execute_raw(Statement::from_sql_and_values(
            backend,
            format!(
                "UPDATE {table} SET owner = ?, expires_at = ? WHERE {key_column} = ? AND (owner = ? OR expires_at < ?)"
            ),
            [
                Value::from(owner),
                Value::from(expires),
                Value::from(key),
                Value::from(owner),
                Value::from(now),
            ],
        ))
        .await?;
    Ok(updated.rows_affected() == 1)
}

/// Gives up `owner`'s lease on `key` (nothing when someone else holds it).
///
/// Errors: the database failed; the lease then lapses by itself.
pub async fn release<C: ConnectionTrait>(
    conn: &C,
    lease: LeaseTable,
    key: &str,
    owner: &str,
) -> Result<(), DbErr> {
    let LeaseTable { table, key_column } = lease;
    conn.execute_raw(Statement::from_sql_and_values(
        conn.get_database_backend(),
        format!("DELETE FROM {table} WHERE {key_column} = ? AND owner = ?"),
        [Value::from(key), Value::from(owner)],
    ))
    .await?;
    Ok(())
}
