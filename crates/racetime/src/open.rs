//! `OpenRoom`: one idempotency key never yields two rooms. racetime.gg's `startrace` is not
//! idempotent, so the intent is recorded before the POST, and when its outcome is unknown (a
//! timeout or 5xx after the request may have reached the server) we look for the room before
//! ever posting again: a room opened by our bot with the same goal and info that no other
//! intent has claimed. Only when none appears within the confirmation window (the bot category
//! endpoint is cached up to 60 s on racetime.gg) is a new POST allowed.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use platform::events::Event;
use platform::idempotency::{self, Inserted, KeyState};
use proto::events::v1 as ev;
use racetime_client::{ApiError, RaceSettings};
use sea_orm::{ActiveValue::Set, EntityTrait, TransactionTrait};

use crate::bot::Bot;
use crate::db::room;
use crate::state::RoomState;

/// The idempotency scope of OpenRoom keys.
const SCOPE: &str = "racetime.open";

/// Another caller holds the attempt for this key.
const IN_PROGRESS: &str = "another caller is opening this room; retry with the same key";

/// Why a room could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The request is malformed (the message says how).
    #[error("{0}")]
    Invalid(String),
    /// The category has no credentials configured.
    #[error("category `{0}` is not configured on this bot")]
    UnknownCategory(String),
    /// racetime.gg refused the room (its message).
    #[error("racetime.gg refused to open the room: {0}")]
    Refused(String),
    /// The outcome is not known yet; retry with the same key.
    #[error("{0}")]
    Unconfirmed(String),
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
}

/// The opened room.
#[derive(Clone, Debug)]
pub struct OpenedRoom {
    /// `{category}/{slug}`.
    pub name: String,
}

impl Bot {
    /// Opens a room for `key` (see the module docs). `initial` is the new room's handler state.
    ///
    /// Errors: the key is invalid, the category unknown, or racetime.gg refused the room.
    pub async fn open(
        self: &Arc<Self>,
        category: &str,
        settings: RaceSettings,
        key: &str,
        initial: RoomState,
    ) -> Result<OpenedRoom, OpenError> {
        open_room(self, category, settings, key, initial).await
    }
}

async fn open_room(
    bot: &Arc<Bot>,
    category: &str,
    mut settings: RaceSettings,
    key: &str,
    initial: RoomState,
) -> Result<OpenedRoom, OpenError> {
    let key = key.trim();
    if key.is_empty() || key.len() > 191 {
        return Err(OpenError::Invalid(
            "idempotency_key must be 1 to 191 characters".into(),
        ));
    }
    let cat = bot
        .category(category)
        .ok_or_else(|| OpenError::UnknownCategory(category.to_string()))?;
    let guard = bot.open_lock(&format!("open:{key}"));
    let _held = guard.lock().await;

    if let Some(row) = idempotency::get(&bot.db, SCOPE, key).await? {
        if let (Some(name), KeyState::Done) = (&row.subject, row.state) {
            if let Err(error) = bot.join(name).await {
                tracing::warn!(room = %name, %error, "could not join an opened room");
            }
            return Ok(OpenedRoom { name: name.clone() });
        }
        // Pending: an earlier attempt may have created the room.
        let earlier: RaceSettings =
            serde_json::from_str(row.payload.as_deref().unwrap_or_default()).unwrap_or_default();
        if let Some(name) = find_unclaimed(bot, category, &earlier).await {
            return finish(bot, category, key, &name, initial, earlier.invitational).await;
        }
        let age = idempotency::age(&row);
        if age < chrono::Duration::seconds(bot.settings.open_confirm_window_secs as i64) {
            return Err(OpenError::Unconfirmed(format!(
                "an earlier attempt for this key has not been confirmed by racetime.gg yet; retry with the same key in {} s",
                bot.settings.open_confirm_window_secs
            )));
        }
        // Take the attempt over (only one caller wins the marker swap).
        let marker = uuid::Uuid::now_v7().to_string();
        let claimed =
            idempotency::take_over(&bot.db, SCOPE, key, row.owner.as_deref(), &marker).await?;
        if !claimed {
            return Err(OpenError::Unconfirmed(IN_PROGRESS.into()));
        }
        settings = earlier;
    } else {
        // A goal the category does not have becomes a custom goal (as the upstream bot does).
        let token = cat.tokens.current();
        if !settings.goal.is_empty()
            && let Ok(data) = bot.http.category_data(category, &token.access_token).await
            && !data
                .goals
                .iter()
                .any(|g| g.eq_ignore_ascii_case(&settings.goal))
        {
            tracing::warn!(%category, goal = %settings.goal, "unknown goal; using it as a custom goal");
            settings.custom_goal = std::mem::take(&mut settings.goal);
        }
        settings
            .validate()
            .map_err(|errors| OpenError::Invalid(errors.join("; ")))?;
        let marker = uuid::Uuid::now_v7().to_string();
        let request = serde_json::to_string(&settings).unwrap_or_default();
        let inserted = idempotency::insert(
            &bot.db,
            SCOPE,
            key,
            KeyState::Pending,
            Some(&marker),
            None,
            Some(&request),
        )
        .await?;
        if inserted == Inserted::Existing {
            return Err(OpenError::Unconfirmed(IN_PROGRESS.into()));
        }
    }

    let token = cat.tokens.current();
    match bot
        .http
        .start_race(category, &token.access_token, &settings)
        .await
    {
        Ok(name) => finish(bot, category, key, &name, initial, settings.invitational).await,
        Err(
            error @ (ApiError::Validation(_)
            | ApiError::Forbidden
            | ApiError::NotFound(_)
            | ApiError::InvalidClient),
        ) => {
            // Nothing was created: forget the intent so a corrected request can use the key.
            idempotency::forget(&bot.db, SCOPE, key).await?;
            Err(match error {
                ApiError::Validation(errors) => OpenError::Invalid(errors.join("; ")),
                other => OpenError::Refused(other.to_string()),
            })
        }
        Err(error) => {
            tracing::warn!(%category, %key, %error, "startrace outcome unknown; looking for the room before any retry");
            idempotency::set_error(&bot.db, SCOPE, key, &error.to_string()).await?;
            tokio::time::sleep(Duration::from_millis(200)).await;
            if let Some(name) = find_unclaimed(bot, category, &settings).await {
                return finish(bot, category, key, &name, initial, settings.invitational).await;
            }
            Err(OpenError::Unconfirmed(format!(
                "racetime.gg did not confirm the room ({error}); retry with the same key"
            )))
        }
    }
}

/// A room our bot opened with these settings that no intent has claimed yet.
async fn find_unclaimed(bot: &Bot, category: &str, settings: &RaceSettings) -> Option<String> {
    let cat = bot.category(category)?;
    let token = cat.tokens.current();
    // The public listing is fresh but hides unlisted rooms; the bot listing shows them but
    // racetime.gg may serve it up to 60 s stale. Look in both.
    let mut summaries = Vec::new();
    if let Ok(listed) = bot.http.public_category_data(category).await {
        summaries.extend(listed.current_races);
    }
    if let Ok(all) = bot.http.category_data(category, &token.access_token).await {
        summaries.extend(all.current_races);
    }
    summaries.sort_by(|a, b| a.name.cmp(&b.name));
    summaries.dedup_by(|a, b| a.name == b.name);
    let goal = if settings.goal.is_empty() {
        &settings.custom_goal
    } else {
        &settings.goal
    };
    for summary in summaries {
        if summary.opened_by_bot.is_none() || !summary.goal.name.eq_ignore_ascii_case(goal) {
            continue;
        }
        let claimed = idempotency::find_by_subject(&bot.db, SCOPE, &summary.name)
            .await
            .ok()?;
        if claimed.is_some() {
            continue;
        }
        let Ok(race) = bot.http.race_data(&summary.name).await else {
            continue;
        };
        if race.info_user.clone().unwrap_or_default() == settings.info_user
            && race.info_bot.clone().unwrap_or_default() == settings.info_bot
            && race.status().is_preparing()
        {
            return Some(summary.name);
        }
    }
    None
}

/// Records the room for the key, stores its first state and `racetime.room.opened` in one
/// transaction, then joins it.
async fn finish(
    bot: &Arc<Bot>,
    category: &str,
    key: &str,
    name: &str,
    mut initial: RoomState,
    invitational: bool,
) -> Result<OpenedRoom, OpenError> {
    initial.opened_by_us = true;
    initial.last_chat_at = Some(Utc::now());
    let slug = name.split_once('/').map_or(name, |(_, s)| s).to_string();
    let url = bot.http.url(&format!("/{name}")).to_string();
    let txn = bot.db.begin().await?;
    idempotency::finish(&txn, SCOPE, key, Some(name), None).await?;
    room::Entity::insert(room::ActiveModel {
        name: Set(name.to_string()),
        category: Set(category.to_string()),
        status: Set(crate::db::StoredStatus(if invitational {
            racetime_client::RaceStatus::Invitational
        } else {
            racetime_client::RaceStatus::Open
        })),
        version: Set(0),
        state: Set(serde_json::to_string(&initial).unwrap_or_default()),
        data: Set("{}".into()),
        updated_at: Set(Utc::now()),
    })
    .on_conflict_do_nothing_on([room::Column::Name])
    .exec_without_returning(&txn)
    .await?;
    bot.outbox
        .write(
            &txn,
            Event::of(&ev::RaceRoomOpened {
                category: category.to_string(),
                room_slug: slug,
                idempotency_key: key.to_string(),
                room: name.to_string(),
                room_url: url,
            }),
        )
        .await
        .map_err(|e| sea_orm::DbErr::Custom(e.to_string()))?;
    txn.commit().await?;
    bot.outbox.wake();
    if let Err(error) = bot.join(name).await {
        tracing::warn!(room = %name, %error, "opened a room but could not join it yet; discovery will");
    }
    Ok(OpenedRoom {
        name: name.to_string(),
    })
}
