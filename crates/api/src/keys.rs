//! API keys: created with scopes and an optional expiry, shown once, stored only as their
//! SHA-256 hash (a key is 40 random alphanumerics, so a fast hash is enough: there is nothing
//! to guess), revoked by id. Verification finds the key by its hash.

use chrono::{DateTime, Utc};
use rand::RngExt;
use rand::distr::Alphanumeric;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, QueryOrder,
};
use sha2::{Digest, Sha256};

/// The `api_keys` entity.
pub mod api_key {
    use sea_orm::entity::prelude::*;

    /// One API key (its hash, never the key).
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "api_keys")]
    pub struct Model {
        /// The key id (what operators revoke by).
        #[sea_orm(primary_key)]
        pub id: i64,
        /// What the key is for, e.g. `community tracker`.
        pub name: String,
        /// Hex SHA-256 of the key.
        #[sea_orm(unique)]
        pub key_hash: String,
        /// The user the key acts for; none for an operator's key.
        pub user_id: Option<i64>,
        /// Space-separated scopes, e.g. `asynctournament:read racetime:cmd:alttpr`.
        #[sea_orm(column_type = "Text")]
        pub scopes: String,
        /// When it was created.
        pub created_at: ChronoDateTimeUtc,
        /// When it stops working, if ever.
        pub expires_at: Option<ChronoDateTimeUtc>,
        /// When it was revoked.
        pub revoked_at: Option<ChronoDateTimeUtc>,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The prefix of every key, so a leaked one is recognisable.
pub const PREFIX: &str = "sb_";

/// Why a key was not accepted. Every case is an HTTP 401 / gRPC UNAUTHENTICATED; the
/// variants exist for logs, not for callers.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// No key has this hash.
    #[error("unknown API key")]
    Unknown,
    /// The key was revoked.
    #[error("the API key was revoked")]
    Revoked,
    /// The key is past its expiry.
    #[error("the API key has expired")]
    Expired,
}

/// A key's scope list, checked for shape.
///
/// Errors (a message for the operator): an empty or oversized list, or a scope with
/// characters other than letters, digits and `:._-`.
pub fn parse_scopes(scopes: &[String]) -> Result<String, String> {
    if scopes.is_empty() {
        return Err("give the key at least one scope".into());
    }
    for scope in scopes {
        let ok = !scope.is_empty()
            && scope.len() <= 100
            && scope
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ":._-".contains(c));
        if !ok {
            return Err(format!(
                "`{scope}` is not a scope (letters, digits and `:._-`, at most 100)"
            ));
        }
    }
    Ok(scopes.join(" "))
}

/// `len` random ASCII letters and digits from the thread's CSPRNG (API keys, CSRF tokens,
/// OAuth2 `state`, webhook secrets).
pub fn random_alphanumeric(len: usize) -> String {
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// The hex SHA-256 of `key`, as stored.
pub fn hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// Creates a key named `name` for `user_id` (none: an operator's key) with `scopes`, valid
/// until `expires_at`. Returns the stored row and the key itself, which is never stored and
/// must be shown to the operator now.
///
/// Errors: bad scopes (as [`DbErr::Custom`] with the message), or the database failed.
pub async fn create<C: ConnectionTrait>(
    conn: &C,
    name: &str,
    user_id: Option<i64>,
    scopes: &[String],
    expires_at: Option<DateTime<Utc>>,
) -> Result<(api_key::Model, String), DbErr> {
    let scopes = parse_scopes(scopes).map_err(DbErr::Custom)?;
    let key = format!("{PREFIX}{}", random_alphanumeric(40));
    let row = api_key::ActiveModel {
        name: Set(name.to_owned()),
        key_hash: Set(hash(&key)),
        user_id: Set(user_id),
        scopes: Set(scopes),
        created_at: Set(Utc::now()),
        expires_at: Set(expires_at),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok((row, key))
}

/// Every key, newest first (hashes only).
///
/// Errors: the database failed.
pub async fn list<C: ConnectionTrait>(conn: &C) -> Result<Vec<api_key::Model>, DbErr> {
    api_key::Entity::find()
        .order_by_desc(api_key::Column::Id)
        .all(conn)
        .await
}

/// Revokes key `id`; `false` if there is no such key or it was revoked already.
///
/// Errors: the database failed.
pub async fn revoke<C: ConnectionTrait>(conn: &C, id: i64) -> Result<bool, DbErr> {
    let revoked = api_key::Entity::update_many()
        .col_expr(
            api_key::Column::RevokedAt,
            sea_orm::sea_query::Expr::value(Utc::now()),
        )
        .filter(api_key::Column::Id.eq(id))
        .filter(api_key::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(revoked.rows_affected == 1)
}

/// The key's row when `key` is a live key.
///
/// Errors: `Ok(Err(..))` for an unknown, revoked or expired key; `Err` when the database
/// failed.
pub async fn verify<C: ConnectionTrait>(
    conn: &C,
    key: &str,
) -> Result<Result<api_key::Model, KeyError>, DbErr> {
    let Some(row) = api_key::Entity::find()
        .filter(api_key::Column::KeyHash.eq(hash(key.trim())))
        .one(conn)
        .await?
    else {
        return Ok(Err(KeyError::Unknown));
    };
    if row.revoked_at.is_some() {
        return Ok(Err(KeyError::Revoked));
    }
    if row.expires_at.is_some_and(|at| at <= Utc::now()) {
        return Ok(Err(KeyError::Expired));
    }
    Ok(Ok(row))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_hex_sha256() {
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn scopes_are_checked_and_joined() {
        assert_eq!(
            parse_scopes(&["asynctournament:read".into(), "racetime:cmd:alttpr".into()]),
            Ok("asynctournament:read racetime:cmd:alttpr".into())
        );
        assert!(parse_scopes(&[]).is_err());
        assert!(parse_scopes(&["two words".into()]).is_err());
    }
}
