//! Matches: SpeedGaming episodes imported with change detection, and internal matches created
//! by organizers — one model, times in UTC.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, TryIntoModel,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::db::{ScheduleSource, r#match};
use crate::speedgaming::Episode;

/// How long after its start a match without a room still gets one (catch-up after an outage;
/// upstream looked back 30 minutes).
pub const CATCH_UP: Duration = Duration::minutes(30);

/// A player of a match as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Player {
    /// Name to show.
    pub display_name: String,
    /// Discord account, when known.
    #[serde(default)]
    pub discord_user_id: Option<u64>,
    /// Discord tag (resolution fallback), when known.
    #[serde(default)]
    pub discord_tag: Option<String>,
    /// Twitch login.
    #[serde(default)]
    pub streaming_from: String,
}

/// A match to store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NewMatch {
    /// Episode id, or a generated id for internal matches.
    pub external_id: String,
    /// Title.
    pub title: String,
    /// Race start.
    pub scheduled_at: DateTime<Utc>,
    /// Broadcast start when different.
    pub broadcast_at: Option<DateTime<Utc>>,
    /// Players.
    pub players: Vec<Player>,
    /// Broadcast channels.
    pub channels: Vec<String>,
    /// Per-match goal.
    pub goal_override: Option<String>,
    /// Per-match invitational flag.
    pub invitational_override: Option<bool>,
}

impl NewMatch {
    /// A SpeedGaming episode as a match.
    pub fn from_episode(episode: &Episode) -> Self {
        let start = episode.race_start();
        let broadcast = episode.when.with_timezone(&Utc);
        Self {
            external_id: episode.id.to_string(),
            title: episode.match_title().to_owned(),
            scheduled_at: start,
            broadcast_at: (broadcast != start).then_some(broadcast),
            players: episode
                .players()
                .into_iter()
                .map(|p| Player {
                    display_name: p.display_name.clone(),
                    discord_user_id: p.discord(),
                    discord_tag: p.tag().map(str::to_owned),
                    streaming_from: p.streaming_from.clone(),
                })
                .collect(),
            channels: episode.broadcast_channels(),
            goal_override: None,
            invitational_override: None,
        }
    }

    fn hash(&self) -> String {
        let text = serde_json::to_string(self).unwrap_or_default();
        hex::encode(Sha256::digest(text.as_bytes()))
    }
}

/// What an upsert did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// A new match.
    Created,
    /// Something changed (time, title, players, channels).
    Updated,
    /// Nothing changed.
    Unchanged,
}

/// The players of a stored match.
pub fn players(row: &r#match::Model) -> Vec<Player> {
    serde_json::from_str(&row.players).unwrap_or_default()
}

/// The broadcast channels of a stored match.
pub fn channels(row: &r#match::Model) -> Vec<String> {
    serde_json::from_str(&row.channels).unwrap_or_default()
}

/// Creates or updates the match `new.external_id` of `source` in tournament `tournament_id`.
///
/// Errors: the database failed.
pub async fn upsert<C: ConnectionTrait>(
    conn: &C,
    tournament_id: i64,
    source: ScheduleSource,
    new: &NewMatch,
) -> Result<(r#match::Model, Change), DbErr> {
    let hash = new.hash();
    let now = Utc::now();
    let existing = r#match::Entity::find()
        .filter(r#match::Column::TournamentId.eq(tournament_id))
        .filter(r#match::Column::Source.eq(source))
        .filter(r#match::Column::ExternalId.eq(&new.external_id))
        .one(conn)
        .await?;
    let (mut active, change) = match existing {
        Some(row) if row.content_hash == hash => return Ok((row, Change::Unchanged)),
        Some(row) => {
            let mut active = row.into_active_model();
            // Players or times changed: check the players' links again.
            active.link_alerted = Set(false);
            (active, Change::Updated)
        }
        None => (
            r#match::ActiveModel {
                tournament_id: Set(tournament_id),
                source: Set(source),
                external_id: Set(new.external_id.clone()),
                link_alerted: Set(false),
                created_at: Set(now),
                ..Default::default()
            },
            Change::Created,
        ),
    };
    active.title = Set(new.title.chars().take(300).collect());
    active.scheduled_at = Set(new.scheduled_at);
    active.broadcast_at = Set(new.broadcast_at);
    active.players = Set(serde_json::to_string(&new.players).unwrap_or_else(|_| "[]".into()));
    active.channels = Set(serde_json::to_string(&new.channels).unwrap_or_else(|_| "[]".into()));
    active.goal_override = Set(new.goal_override.clone());
    active.invitational_override = Set(new.invitational_override);
    active.content_hash = Set(hash);
    active.updated_at = Set(now);
    Ok((active.save(conn).await?.try_into_model()?, change))
}

/// Matches of tournament `tournament_id` starting in `[from, to]`, soonest first.
///
/// Errors: the database failed.
pub async fn between<C: ConnectionTrait>(
    conn: &C,
    tournament_id: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<r#match::Model>, DbErr> {
    r#match::Entity::find()
        .filter(r#match::Column::TournamentId.eq(tournament_id))
        .filter(r#match::Column::ScheduledAt.gte(from))
        .filter(r#match::Column::ScheduledAt.lte(to))
        .order_by_asc(r#match::Column::ScheduledAt)
        .all(conn)
        .await
}

/// The match `external_id` of tournament `tournament_id`.
///
/// Errors: the database failed.
pub async fn by_external<C: ConnectionTrait>(
    conn: &C,
    tournament_id: i64,
    external_id: &str,
) -> Result<Option<r#match::Model>, DbErr> {
    r#match::Entity::find()
        .filter(r#match::Column::TournamentId.eq(tournament_id))
        .filter(r#match::Column::ExternalId.eq(external_id))
        .one(conn)
        .await
}

/// Deletes match `id`.
///
/// Errors: the database failed.
pub async fn delete<C: ConnectionTrait>(conn: &C, id: i64) -> Result<(), DbErr> {
    r#match::Entity::delete_by_id(id).exec(conn).await?;
    Ok(())
}
