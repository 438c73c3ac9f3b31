//! What a person does to their own account: log in with Discord, link and unlink racetime.gg
//! (with the merge rule of spec W14), change their display name, and purge their data
//! (spec W6). Each change other services must hear about is written to the outbox in the
//! same transaction: `api.user.linked`, `api.user.merged`, `api.user.purged`.

use chrono::Utc;
use platform::events::{Event, Outbox};
use proto::events::v1 as ev;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait,
    IntoActiveModel, QueryFilter, TransactionTrait,
};

use crate::identity::{self, NewUser, user};
use crate::keys::api_key;
use crate::sessions;

/// Why an account change was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The display name is not 1–32 characters after trimming.
    #[error("Display name must be between 1 and 32 characters.")]
    DisplayNameLength,
    /// Another user has that display name.
    #[error("That display name is already taken.")]
    DisplayNameTaken,
    /// Unlink with nothing linked.
    #[error("No racetime.gg account is linked.")]
    NotLinked,
    /// The user is gone (purged in another tab, merged).
    #[error("Your account no longer exists; log in again.")]
    NoUser,
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] DbErr),
    /// The outbox refused the event.
    #[error("events: {0}")]
    Events(String),
}

fn events(error: platform::events::EventError) -> AccountError {
    AccountError::Events(error.to_string())
}

/// The user of a Discord login: found by Discord id, or created with the Discord name as
/// display name when that name is free.
///
/// Errors: the database failed.
pub async fn login_discord(
    db: &DatabaseConnection,
    discord_user_id: u64,
    name: &str,
) -> Result<user::Model, AccountError> {
    if let Some(found) = identity::by_discord(db, discord_user_id).await? {
        return Ok(found);
    }
    let display = valid_display_name(name).ok();
    let display = match display {
        Some(d) if identity::by_display_name(db, &d).await?.is_none() => Some(d),
        _ => None,
    };
    let new = NewUser {
        discord_user_id: Some(discord_user_id),
        display_name: display,
        ..NewUser::default()
    };
    match identity::create(db, new).await {
        Ok(created) => Ok(created),
        // Two logins of one person at once, or the name was taken meanwhile.
        Err(error) if platform::db::is_unique_violation(&error) => {
            if let Some(found) = identity::by_discord(db, discord_user_id).await? {
                return Ok(found);
            }
            Ok(identity::create(
                db,
                NewUser {
                    discord_user_id: Some(discord_user_id),
                    ..NewUser::default()
                },
            )
            .await?)
        }
        Err(error) => Err(error.into()),
    }
}

/// What linking did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Linked {
    /// The user the session now belongs to (the racetime.gg-keyed user after a merge).
    pub user: user::Model,
    /// The Discord-keyed user merged into it and deleted, if any.
    pub merged_from: Option<i64>,
}

/// Links racetime.gg account `racetime_user_id` (named `racetime_name`) to user `user_id`.
/// Spec W14: if another user already has this racetime.gg account, that user absorbs this
/// one — it takes over the Discord account (and the display name if it had none), this user
/// row is deleted, and `api.user.merged` tells other services to re-point references.
/// Otherwise the account is set on this user. `api.user.linked` follows either way.
///
/// Errors: the user is gone, or the database failed.
pub async fn link_racetime(
    db: &DatabaseConnection,
    outbox: &Outbox,
    user_id: i64,
    racetime_user_id: &str,
    racetime_name: &str,
) -> Result<Linked, AccountError> {
    let txn = db.begin().await?;
    let me = identity::get(&txn, user_id)
        .await?
        .ok_or(AccountError::NoUser)?;
    let holder = identity::by_racetime(&txn, racetime_user_id).await?;
    let now = Utc::now();
    let (user, merged_from, previous) = match holder {
        Some(other) if other.id != me.id => {
            // Free the unique columns first, then give them to the survivor.
            user::Entity::delete_by_id(me.id).exec(&txn).await?;
            let mut survivor = other.clone().into_active_model();
            survivor.discord_user_id = Set(me.discord_user_id.or(other.discord_user_id));
            if other.display_name.is_none() {
                survivor.display_name = Set(me.display_name.clone());
            }
            if other.twitch_name.is_none() {
                survivor.twitch_name = Set(me.twitch_name.clone());
            }
            survivor.racetime_name = Set(Some(racetime_name.to_owned()));
            survivor.updated_at = Set(now);
            let survivor = survivor.update(&txn).await?;
            api_key::Entity::update_many()
                .col_expr(
                    api_key::Column::UserId,
                    sea_orm::sea_query::Expr::value(survivor.id),
                )
                .filter(api_key::Column::UserId.eq(me.id))
                .exec(&txn)
                .await?;
            sessions::end_all(&txn, me.id).await?;
            outbox
                .write(
                    &txn,
                    Event::of(&ev::UserMerged {
                        from_user_id: id_u64(me.id),
                        into_user_id: id_u64(survivor.id),
                        discord_user_id: survivor
                            .discord_user_id
                            .map(platform::db::u64_from_db)
                            .unwrap_or_default(),
                        racetime_user_id: racetime_user_id.to_owned(),
                    }),
                )
                .await
                .map_err(events)?;
            (survivor, Some(me.id), None)
        }
        _ => {
            let previous = me
                .racetime_user_id
                .clone()
                .filter(|p| p != racetime_user_id);
            let mut active = me.into_active_model();
            active.racetime_user_id = Set(Some(racetime_user_id.to_owned()));
            active.racetime_name = Set(Some(racetime_name.to_owned()));
            active.updated_at = Set(now);
            (active.update(&txn).await?, None, previous)
        }
    };
    outbox
        .write(&txn, Event::of(&linked_event(&user, previous)))
        .await
        .map_err(events)?;
    txn.commit().await?;
    outbox.wake();
    Ok(Linked { user, merged_from })
}

/// Removes the racetime.gg account from user `user_id` and announces it (`api.user.linked`
/// with an empty racetime.gg id).
///
/// Errors: nothing was linked, the user is gone, or the database failed.
pub async fn unlink_racetime(
    db: &DatabaseConnection,
    outbox: &Outbox,
    user_id: i64,
) -> Result<user::Model, AccountError> {
    let txn = db.begin().await?;
    let me = identity::get(&txn, user_id)
        .await?
        .ok_or(AccountError::NoUser)?;
    let Some(previous) = me.racetime_user_id.clone() else {
        return Err(AccountError::NotLinked);
    };
    let mut active = me.into_active_model();
    active.racetime_user_id = Set(None);
    active.racetime_name = Set(None);
    active.updated_at = Set(Utc::now());
    let user = active.update(&txn).await?;
    outbox
        .write(&txn, Event::of(&linked_event(&user, Some(previous))))
        .await
        .map_err(events)?;
    txn.commit().await?;
    outbox.wake();
    Ok(user)
}

fn linked_event(user: &user::Model, previous: Option<String>) -> ev::UserLinked {
    ev::UserLinked {
        user_id: id_u64(user.id),
        discord_user_id: user
            .discord_user_id
            .map(platform::db::u64_from_db)
            .unwrap_or_default(),
        racetime_user_id: user.racetime_user_id.clone().unwrap_or_default(),
        racetime_name: user.racetime_name.clone().unwrap_or_default(),
        previous_racetime_user_id: previous.unwrap_or_default(),
    }
}

fn id_u64(id: i64) -> u64 {
    u64::try_from(id).unwrap_or_default()
}

/// A display name as stored: trimmed, 1–32 characters.
///
/// Errors: [`AccountError::DisplayNameLength`].
pub fn valid_display_name(name: &str) -> Result<String, AccountError> {
    let name = name.trim();
    let length = name.chars().count();
    if (1..=32).contains(&length) {
        Ok(name.to_owned())
    } else {
        Err(AccountError::DisplayNameLength)
    }
}

/// Sets user `user_id`'s display name (spec W11).
///
/// Errors: bad length, taken by another user, the user is gone, or the database failed.
pub async fn set_display_name(
    db: &DatabaseConnection,
    user_id: i64,
    name: &str,
) -> Result<user::Model, AccountError> {
    let name = valid_display_name(name)?;
    if let Some(other) = identity::by_display_name(db, &name).await?
        && other.id != user_id
    {
        return Err(AccountError::DisplayNameTaken);
    }
    let me = identity::get(db, user_id)
        .await?
        .ok_or(AccountError::NoUser)?;
    let mut active = me.into_active_model();
    active.display_name = Set(Some(name));
    active.updated_at = Set(Utc::now());
    match active.update(db).await {
        Ok(user) => Ok(user),
        Err(error) if platform::db::is_unique_violation(&error) => {
            Err(AccountError::DisplayNameTaken)
        }
        Err(error) => Err(error.into()),
    }
}

/// Deletes user `user_id`, their sessions and API keys, and announces `api.user.purged` so
/// every service deletes what it keeps about them (spec W6; upstream kept the user row and
/// everything but presets — here nothing of the person stays in api).
///
/// Errors: the user is gone, or the database failed.
pub async fn purge(
    db: &DatabaseConnection,
    outbox: &Outbox,
    user_id: i64,
) -> Result<(), AccountError> {
    let txn = db.begin().await?;
    let me = identity::get(&txn, user_id)
        .await?
        .ok_or(AccountError::NoUser)?;
    api_key::Entity::delete_many()
        .filter(api_key::Column::UserId.eq(me.id))
        .exec(&txn)
        .await?;
    sessions::end_all(&txn, me.id).await?;
    user::Entity::delete_by_id(me.id).exec(&txn).await?;
    outbox
        .write(
            &txn,
            Event::of(&ev::UserPurged {
                user_id: id_u64(me.id),
                discord_user_id: me
                    .discord_user_id
                    .map(platform::db::u64_from_db)
                    .unwrap_or_default(),
                racetime_user_id: me.racetime_user_id.unwrap_or_default(),
            }),
        )
        .await
        .map_err(events)?;
    txn.commit().await?;
    outbox.wake();
    tracing::info!(user_id, "user purged");
    Ok(())
}
