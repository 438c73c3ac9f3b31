//! Website sessions: [`tower_sessions`] with a store in the api database (`web_sessions`).
//! The cookie (`sb_session`, HttpOnly, SameSite=Lax, Secure when the public URL is https)
//! carries only a random id; the table keys rows by the id's SHA-256, so a copy of the table
//! cannot be replayed as cookies. Logging out deletes the row; purging a user deletes all of
//! theirs.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter,
};
use tower_sessions::cookie::SameSite;
use tower_sessions::cookie::time::{Duration as CookieDuration, OffsetDateTime};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};
use tower_sessions::{Expiry, Session, SessionManagerLayer};

use crate::keys;

/// The session cookie's name.
pub const COOKIE: &str = "sb_session";
/// Session key of the logged-in user's id (`i64`).
pub const USER_ID: &str = "user_id";

/// The `web_sessions` entity.
pub mod web_session {
    use sea_orm::entity::prelude::*;

    /// One login session.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "web_sessions")]
    pub struct Model {
        /// Hex SHA-256 of the session id in the cookie.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id_hash: String,
        /// The logged-in user, once logged in.
        pub user_id: Option<i64>,
        /// The session's values as JSON.
        pub data: String,
        /// When the session ends unless used again.
        pub expires_at: ChronoDateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A [`SessionStore`] over `web_sessions`.
#[derive(Clone, Debug)]
pub struct DbStore {
    db: DatabaseConnection,
}

impl DbStore {
    /// A store on `db`.
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

fn backend(error: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(error.to_string())
}

fn to_chrono(at: OffsetDateTime) -> DateTime<Utc> {
    DateTime::from_timestamp(at.unix_timestamp(), at.nanosecond()).unwrap_or_else(Utc::now)
}

fn row(record: &Record) -> Result<web_session::ActiveModel, session_store::Error> {
    let data = serde_json::to_string(&record.data)
        .map_err(|e| session_store::Error::Encode(e.to_string()))?;
    Ok(web_session::ActiveModel {
        id_hash: Set(keys::hash(&record.id.to_string())),
        user_id: Set(record.data.get(USER_ID).and_then(serde_json::Value::as_i64)),
        data: Set(data),
        expires_at: Set(to_chrono(record.expiry_date)),
    })
}

#[async_trait]
impl SessionStore for DbStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // A 128-bit random id collides practically never; on a collision, draw another.
        loop {
            match web_session::Entity::insert(row(record)?)
                .exec(&self.db)
                .await
            {
                Ok(_) => return Ok(()),
                Err(error) if platform::db::is_unique_violation(&error) => {
                    record.id = Id::default();
                }
                Err(error) => return Err(backend(error)),
            }
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        web_session::Entity::insert(row(record)?)
            .on_conflict(
                OnConflict::column(web_session::Column::IdHash)
                    .update_columns([
                        web_session::Column::UserId,
                        web_session::Column::Data,
                        web_session::Column::ExpiresAt,
                    ])
                    .to_owned(),
            )
            .exec(&self.db)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let Some(found) = web_session::Entity::find_by_id(keys::hash(&id.to_string()))
            .one(&self.db)
            .await
            .map_err(backend)?
        else {
            return Ok(None);
        };
        if found.expires_at <= Utc::now() {
            return Ok(None);
        }
        let data = serde_json::from_str(&found.data)
            .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        let expiry_date = OffsetDateTime::from_unix_timestamp(found.expires_at.timestamp())
            .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date,
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        web_session::Entity::delete_by_id(keys::hash(&id.to_string()))
            .exec(&self.db)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

/// The session layer: cookie [`COOKIE`], HttpOnly, SameSite=Lax, `Secure` when `secure`,
/// ending after `idle_days` without a request.
pub fn layer(db: DatabaseConnection, secure: bool, idle_days: i64) -> SessionManagerLayer<DbStore> {
    SessionManagerLayer::new(DbStore::new(db))
        .with_name(COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(secure)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(CookieDuration::days(idle_days)))
}

/// Ends every session of `user_id` (purge, merge).
///
/// Errors: the database failed.
pub async fn end_all<C: ConnectionTrait>(conn: &C, user_id: i64) -> Result<u64, DbErr> {
    Ok(web_session::Entity::delete_many()
        .filter(web_session::Column::UserId.eq(user_id))
        .exec(conn)
        .await?
        .rows_affected)
}

/// Deletes expired sessions; returns how many.
///
/// Errors: the database failed.
pub async fn sweep(db: &DatabaseConnection) -> Result<u64, DbErr> {
    Ok(web_session::Entity::delete_many()
        .filter(web_session::Column::ExpiresAt.lt(Utc::now()))
        .exec(db)
        .await?
        .rows_affected)
}

/// The logged-in user id of `session`, if any.
pub async fn user_id(session: &Session) -> Option<i64> {
    session.get::<i64>(USER_ID).await.ok().flatten()
}

/// The logged-in user of `session`: none when nobody logged in or the user is gone (purged,
/// merged).
///
/// Errors: the database failed.
pub async fn current_user(
    session: &Session,
    db: &DatabaseConnection,
) -> Result<Option<crate::identity::user::Model>, DbErr> {
    match user_id(session).await {
        Some(id) => crate::identity::get(db, id).await,
        None => Ok(None),
    }
}
