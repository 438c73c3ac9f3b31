//! One idempotency mechanism for every service: the `idempotency_keys` table (created by each
//! service's migrations through [`create_table`]) and the helpers below.
//!
//! A row is one caller key within a scope (`seedgen.generate`, `racetime.open`, `discord`),
//! so services sharing a schema never collide. Two ways to use it:
//!
//! - **Record when done** ([`insert`] with [`KeyState::Done`] in the transaction of the side
//!   effect's bookkeeping): a concurrent duplicate hits the primary key and reads the
//!   winner's payload instead (seedgen's Generate, the gateway's posts).
//! - **Intent first** (insert [`KeyState::Pending`] with an `owner` marker before an external
//!   call whose outcome may be lost; [`take_over`] swaps the marker so only one caller
//!   retries a stale attempt; [`finish`] records the outcome and its `subject`, e.g. the room
//!   it created, which [`find_by_subject`] answers) — racetime's OpenRoom.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Index};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use sea_orm_migration::prelude::{ColumnDef, DeriveIden, SchemaManager, Table};

/// Where a key stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, sea_orm::DeriveValueType)]
#[sea_orm(value_type = "String")]
pub enum KeyState {
    /// An attempt is (or was) under way; its outcome is not recorded.
    Pending,
    /// The outcome is recorded in the payload.
    Done,
}

impl std::fmt::Display for KeyState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Pending => "pending",
            Self::Done => "done",
        })
    }
}

impl std::str::FromStr for KeyState {
    type Err = sea_orm::sea_query::ValueTypeErr;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "pending" => Ok(Self::Pending),
            "done" => Ok(Self::Done),
            _ => Err(sea_orm::sea_query::ValueTypeErr),
        }
    }
}

/// The `idempotency_keys` entity.
pub mod entity {
    use sea_orm::entity::prelude::*;

    /// One key of one scope.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "idempotency_keys")]
    pub struct Model {
        /// What the key is for, e.g. `seedgen.generate`.
        #[sea_orm(primary_key, auto_increment = false)]
        pub scope: String,
        /// The caller's key (at most 200 characters).
        #[sea_orm(primary_key, auto_increment = false)]
        pub idem_key: String,
        /// Pending or done.
        pub state: super::KeyState,
        /// The attempt holding a pending key (a marker that changes with every attempt).
        pub owner: Option<String>,
        /// What the key produced that others look it up by (e.g. a room name).
        pub subject: Option<String>,
        /// The scope's own data: a stored reply, the request, the created object.
        #[sea_orm(column_type = "Text", nullable)]
        pub payload: Option<String>,
        /// The last failure of a pending attempt.
        #[sea_orm(column_type = "Text", nullable)]
        pub error: Option<String>,
        /// When the key was first recorded.
        pub created_at: ChronoDateTimeUtc,
        /// When it last changed.
        pub updated_at: ChronoDateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub use entity::Model as Record;

/// What [`insert`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Inserted {
    /// The row is ours.
    New,
    /// The key was already recorded (by an earlier or a concurrent caller).
    Existing,
}

/// The key's row, if any.
///
/// Errors: the database failed.
pub async fn get<C: ConnectionTrait>(
    conn: &C,
    scope: &str,
    key: &str,
) -> Result<Option<Record>, DbErr> {
    entity::Entity::find_by_id((scope.to_owned(), key.to_owned()))
        .one(conn)
        .await
}

/// Records `key` in `state` with `owner`, `subject` and `payload`, unless it exists.
///
/// Errors: the database failed (a duplicate key is [`Inserted::Existing`], not an error; on
/// MySQL the caller's transaction stays usable, on every backend a duplicate inside a
/// transaction should be followed by a rollback before reading the winner).
pub async fn insert<C: ConnectionTrait>(
    conn: &C,
    scope: &str,
    key: &str,
    state: KeyState,
    owner: Option<&str>,
    subject: Option<&str>,
    payload: Option<&str>,
) -> Result<Inserted, DbErr> {
    let now = Utc::now();
    let row = entity::ActiveModel {
        scope: Set(scope.to_owned()),
        idem_key: Set(key.to_owned()),
        state: Set(state),
        owner: Set(owner.map(str::to_owned)),
        subject: Set(subject.map(str::to_owned)),
        payload: Set(payload.map(str::to_owned)),
        error: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    };
    match entity::Entity::insert(row)
        .exec_without_returning(conn)
        .await
    {
        Ok(_) => Ok(Inserted::New),
        Err(error) if crate::db::is_unique_violation(&error) => Ok(Inserted::Existing),
        Err(error) => Err(error),
    }
}

/// Hands a pending key from the attempt `from` to the attempt `to`; `true` if this caller
/// won the swap (exactly one concurrent caller does).
///
/// Errors: the database failed.
pub async fn take_over<C: ConnectionTrait>(
    conn: &C,
    scope: &str,
    key: &str,
    from: Option<&str>,
    to: &str,
) -> Result<bool, DbErr> {
    let mut update = entity::Entity::update_many()
        .col_expr(entity::Column::Owner, Expr::value(to.to_owned()))
        .col_expr(entity::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(entity::Column::Scope.eq(scope))
        .filter(entity::Column::IdemKey.eq(key))
        .filter(entity::Column::State.eq(KeyState::Pending));
    update = match from {
        Some(owner) => update.filter(entity::Column::Owner.eq(owner)),
        None => update.filter(entity::Column::Owner.is_null()),
    };
    Ok(update.exec(conn).await?.rows_affected == 1)
}

/// Records the outcome of `key`: done, with `subject` (what it produced) and, when given, a
/// new `payload`.
///
/// Errors: the database failed.
pub async fn finish<C: ConnectionTrait>(
    conn: &C,
    scope: &str,
    key: &str,
    subject: Option<&str>,
    payload: Option<&str>,
) -> Result<(), DbErr> {
    let mut update = entity::Entity::update_many()
        .col_expr(entity::Column::State, Expr::value(KeyState::Done))
        .col_expr(
            entity::Column::Subject,
            Expr::value(subject.map(str::to_owned)),
        )
        .col_expr(entity::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(entity::Column::Scope.eq(scope))
        .filter(entity::Column::IdemKey.eq(key));
    if let Some(payload) = payload {
        update = update.col_expr(entity::Column::Payload, Expr::value(payload.to_owned()));
    }
    update.exec(conn).await.map(drop)
}

/// Notes the failure of a pending attempt (the key stays pending).
///
/// Errors: the database failed.
pub async fn set_error<C: ConnectionTrait>(
    conn: &C,
    scope: &str,
    key: &str,
    error: &str,
) -> Result<(), DbErr> {
    entity::Entity::update_many()
        .col_expr(entity::Column::Error, Expr::value(error.to_owned()))
        .col_expr(entity::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(entity::Column::Scope.eq(scope))
        .filter(entity::Column::IdemKey.eq(key))
        .exec(conn)
        .await
        .map(drop)
}

/// Forgets `key` (an attempt that certainly changed nothing), so the key can be used again.
///
/// Errors: the database failed.
pub async fn forget<C: ConnectionTrait>(conn: &C, scope: &str, key: &str) -> Result<(), DbErr> {
    entity::Entity::delete_by_id((scope.to_owned(), key.to_owned()))
        .exec(conn)
        .await
        .map(drop)
}

/// The key of `scope` whose outcome is `subject`, if any.
///
/// Errors: the database failed.
pub async fn find_by_subject<C: ConnectionTrait>(
    conn: &C,
    scope: &str,
    subject: &str,
) -> Result<Option<Record>, DbErr> {
    entity::Entity::find()
        .filter(entity::Column::Scope.eq(scope))
        .filter(entity::Column::Subject.eq(subject))
        .one(conn)
        .await
}

/// When `record` last changed.
pub fn age(record: &Record) -> chrono::Duration {
    let updated: DateTime<Utc> = record.updated_at;
    Utc::now() - updated
}

#[derive(DeriveIden)]
enum Keys {
    #[sea_orm(iden = "idempotency_keys")]
    Table,
    Scope,
    IdemKey,
    State,
    Owner,
    Subject,
    Payload,
    Error,
    CreatedAt,
    UpdatedAt,
}

/// Creates `idempotency_keys` and its subject index unless they exist (MariaDB/MySQL and
/// SQLite; a schema shared by several services meets them again).
///
/// Errors: the database refused the DDL.
pub async fn create_table(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(Keys::Table)
                .if_not_exists()
                .col(ColumnDef::new(Keys::Scope).string_len(64).not_null())
                .col(ColumnDef::new(Keys::IdemKey).string_len(200).not_null())
                .col(ColumnDef::new(Keys::State).string_len(16).not_null())
                .col(ColumnDef::new(Keys::Owner).string_len(64).null())
                .col(ColumnDef::new(Keys::Subject).string_len(191).null())
                .col(ColumnDef::new(Keys::Payload).text().null())
                .col(ColumnDef::new(Keys::Error).text().null())
                .col(ColumnDef::new(Keys::CreatedAt).date_time().not_null())
                .col(ColumnDef::new(Keys::UpdatedAt).date_time().not_null())
                .primary_key(Index::create().col(Keys::Scope).col(Keys::IdemKey))
                .to_owned(),
        )
        .await?;
    if !manager
        .has_index("idempotency_keys", "idx_idempotency_subject")
        .await?
    {
        manager
            .create_index(
                Index::create()
                    .name("idx_idempotency_subject")
                    .table(Keys::Table)
                    .col(Keys::Scope)
                    .col(Keys::Subject)
                    .to_owned(),
            )
            .await?;
    }
    Ok(())
}

/// For a service's `down` migration: removes its `scope` rows, and the table once no service
/// has rows left in it.
///
/// Errors: the database refused a statement.
pub async fn drop_scope(manager: &SchemaManager<'_>, scope: &str) -> Result<(), DbErr> {
    let conn = manager.get_connection();
    entity::Entity::delete_many()
        .filter(entity::Column::Scope.eq(scope))
        .exec(conn)
        .await?;
    let left = entity::Entity::find().one(conn).await?;
    if left.is_none() {
        manager
            .drop_table(Table::drop().table(Keys::Table).if_exists().to_owned())
            .await?;
    }
    Ok(())
}
