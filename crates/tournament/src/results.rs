//! Results (spec §1.5.8, done properly: upstream recorded nothing). `racetime.race.finished`
//! of a bound room stores the standings on the room binding; a `cancelled` status marks the
//! binding cancelled (a new room may then be opened for the match). The result is announced —
//! `tournament.match.finished` and a post to the audit channel — only once the stream delay has
//! passed since the race ended (spoiler safety), by a job that survives restarts.

use chrono::{DateTime, Duration, Utc};
use platform::events::{Event, HandlerError, Outbox, Subscriber};
use proto::events::v1 as ev;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, DatabaseTransaction,
    DbErr, EntityTrait, IntoActiveModel, QueryFilter,
};
use serde::{Deserialize, Serialize};

use crate::db::{RoomState, r#match, match_room};
use crate::opener::Opener;
use crate::registry;

/// One entrant's result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Standing {
    /// racetime.gg user id.
    pub racetime_user_id: String,
    /// Name.
    pub name: String,
    /// `done`, `dnf`, `dq`, ...
    pub status: String,
    /// Place (0: none).
    pub place: u32,
    /// Finish time in milliseconds (0: none).
    pub finish_time_ms: u64,
}

/// `H:MM:SS` of a finish time, or the status for a non-finisher.
pub fn describe(standing: &Standing) -> String {
    if standing.finish_time_ms == 0 {
        return standing.status.to_uppercase();
    }
    let seconds = standing.finish_time_ms / 1000;
    format!(
        "{}:{:02}:{:02}",
        seconds / 3600,
        (seconds / 60) % 60,
        seconds % 60
    )
}

async fn binding(
    txn: &DatabaseTransaction,
    room: &str,
) -> Result<Option<match_room::Model>, DbErr> {
    match_room::Entity::find()
        .filter(match_room::Column::Room.eq(room))
        .one(txn)
        .await
}

/// Records finished races of bound rooms.
#[derive(Clone, Debug)]
pub struct OnRaceFinished {
    db: DatabaseConnection,
}

impl OnRaceFinished {
    /// The consumer.
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

impl Subscriber for OnRaceFinished {
    type Event = ev::RaceFinished;

    fn name(&self) -> &str {
        "tournament-race-finished"
    }

    async fn on(
        &self,
        txn: &DatabaseTransaction,
        event: ev::RaceFinished,
        _envelope: &ev::Envelope,
    ) -> Result<(), HandlerError> {
        let Some(row) = binding(txn, &event.room).await? else {
            return Ok(());
        };
        if row.results.is_some() && row.state == RoomState::Finished {
            return Ok(());
        }
        let tournament = crate::db::tournament::Entity::find_by_id(row.tournament_id)
            .one(&self.db)
            .await?;
        let delay = tournament.map_or(0, |t| t.stream_delay_minutes);
        let ended = platform::grpc::datetime(event.ended_at.as_ref()).unwrap_or_else(Utc::now);
        let mut standings: Vec<Standing> = event
            .entrants
            .iter()
            .map(|e| Standing {
                racetime_user_id: e.user_id.clone(),
                name: e.name.clone(),
                status: e.status.clone(),
                place: e.place,
                finish_time_ms: e.finish_time_ms,
            })
            .collect();
        standings.sort_by_key(|s| (s.place == 0, s.place, s.name.clone()));
        let mut active = row.into_active_model();
        active.state = Set(RoomState::Finished);
        active.results = Set(Some(serde_json::to_string(&standings).unwrap_or_default()));
        active.finished_at = Set(Some(ended));
        active.result_publish_at = Set(Some(ended + Duration::minutes(i64::from(delay))));
        active.updated_at = Set(Utc::now());
        active.update(txn).await?;
        Ok(())
    }
}

/// Marks bound rooms cancelled on racetime.gg.
#[derive(Clone, Debug)]
pub struct OnRoomCancelled;

impl Subscriber for OnRoomCancelled {
    type Event = ev::RaceStatusChanged;

    fn name(&self) -> &str {
        "tournament-room-status"
    }

    async fn on(
        &self,
        txn: &DatabaseTransaction,
        event: ev::RaceStatusChanged,
        _envelope: &ev::Envelope,
    ) -> Result<(), HandlerError> {
        if event.status != "cancelled" {
            return Ok(());
        }
        let Some(row) = binding(txn, &event.room).await? else {
            return Ok(());
        };
        if row.state == RoomState::Cancelled {
            return Ok(());
        }
        let now = Utc::now();
        let mut active = row.into_active_model();
        active.state = Set(RoomState::Cancelled);
        active.finished_at = Set(Some(now));
        active.result_publish_at = Set(Some(now));
        active.updated_at = Set(now);
        active.update(txn).await?;
        Ok(())
    }
}

/// Announces results whose stream delay has passed: `tournament.match.finished` (with the
/// binding marked published, in one transaction) and a post to the audit channel. Returns how
/// many were announced.
///
/// Errors: the database failed.
pub async fn publish_due(
    db: &DatabaseConnection,
    outbox: &Outbox,
    opener: &Opener,
    now: DateTime<Utc>,
) -> Result<usize, DbErr> {
    let due = match_room::Entity::find()
        .filter(match_room::Column::ResultPublished.eq(false))
        .filter(match_room::Column::ResultPublishAt.lte(now))
        .all(db)
        .await?;
    let mut published = 0;
    for row in due {
        let Some(m) = r#match::Entity::find_by_id(row.match_id).one(db).await? else {
            continue;
        };
        let Some(tournament) = crate::db::tournament::Entity::find_by_id(row.tournament_id)
            .one(db)
            .await?
        else {
            continue;
        };
        let standings: Vec<Standing> = row
            .results
            .as_deref()
            .and_then(|r| serde_json::from_str(r).ok())
            .unwrap_or_default();
        let cancelled = row.state == RoomState::Cancelled;
        let txn = sea_orm::TransactionTrait::begin(db).await?;
        // Claim it: a second replica's update finds nothing to change.
        let claimed = match_room::Entity::update_many()
            .col_expr(
                match_room::Column::ResultPublished,
                sea_orm::sea_query::Expr::value(true),
            )
            .filter(match_room::Column::Id.eq(row.id))
            .filter(match_room::Column::ResultPublished.eq(false))
            .exec(&txn)
            .await?;
        if claimed.rows_affected != 1 {
            continue;
        }
        let event = ev::TournamentMatchFinished {
            tournament: tournament.slug.clone(),
            episode_id: m.external_id.clone(),
            room: row.room.clone().unwrap_or_default(),
            room_url: row.room_url.clone().unwrap_or_default(),
            cancelled,
            standings: standings
                .iter()
                .map(|s| ev::MatchStanding {
                    racetime_user_id: s.racetime_user_id.clone(),
                    name: s.name.clone(),
                    status: s.status.clone(),
                    place: s.place,
                    finish_time_ms: s.finish_time_ms,
                })
                .collect(),
            ended_at: row.finished_at.map(platform::grpc::timestamp),
        };
        if outbox.write(&txn, Event::of(&event)).await.is_err() {
            continue;
        }
        txn.commit().await?;
        outbox.wake();
        published += 1;
        let text = if cancelled {
            format!(
                "Match `{}` ({}): the race room {} was cancelled.",
                m.external_id, m.title, event.room_url
            )
        } else {
            let lines: Vec<String> = standings
                .iter()
                .map(|s| {
                    let place = if s.place > 0 {
                        format!("{}.", s.place)
                    } else {
                        "-".into()
                    };
                    format!("{place} {} {}", s.name, describe(s))
                })
                .collect();
            format!(
                "Match `{}` ({}) finished — {}\n{}",
                m.external_id,
                m.title,
                event.room_url,
                lines.join("\n")
            )
        };
        if let Ok(t) = registry::Tournament::from_row(tournament) {
            opener
                .audit(&t, &format!("result:{}:{}", row.id, row.generation), &text)
                .await;
        }
    }
    Ok(published)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finish_times_read_as_hours_minutes_seconds() {
        let s = |ms, status: &str| Standing {
            racetime_user_id: "u".into(),
            name: "A".into(),
            status: status.into(),
            place: 1,
            finish_time_ms: ms,
        };
        assert_eq!(describe(&s(5_025_000, "done")), "1:23:45");
        assert_eq!(describe(&s(0, "dnf")), "DNF");
    }
}
