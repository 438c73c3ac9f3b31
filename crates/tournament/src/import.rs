//! The SpeedGaming importer (spec §1.7, sahabot2's ETL): each SpeedGaming tournament's
//! episodes from 30 minutes ago to a week ahead are copied into `matches` with change
//! detection. An episode that vanished from the schedule is deleted only after
//! `GET /episode` confirms it is gone (an episode moved out of the window is kept and updated);
//! the audit channel hears about a deleted match that already had a room. SpeedGaming errors
//! are logged and counted, never fatal: the next poll tries again.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use sea_orm::DatabaseConnection;

use crate::db::ScheduleSource;
use crate::matches::{self, Change, NewMatch};
use crate::opener::Opener;
use crate::registry::Tournament;
use crate::speedgaming::{SgError, SpeedGaming};

/// How far ahead schedules are imported.
pub const HORIZON: Duration = Duration::days(7);

/// What one import did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// New matches.
    pub created: usize,
    /// Changed matches (external ids).
    pub updated: Vec<String>,
    /// Matches deleted because SpeedGaming confirmed their episode is gone (external ids).
    pub deleted: Vec<String>,
}

/// Why an import stopped.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// SpeedGaming failed.
    #[error(transparent)]
    Sg(#[from] SgError),
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
}

/// Imports `tournament`'s SpeedGaming schedule as of `now`.
///
/// Errors: SpeedGaming or the database failed (nothing half-written: each match is one row).
pub async fn import(
    db: &DatabaseConnection,
    sg: &SpeedGaming,
    opener: &Opener,
    tournament: &Tournament,
    now: DateTime<Utc>,
) -> Result<Report, ImportError> {
    let Some(event) = tournament.row.speedgaming_event.as_deref() else {
        return Ok(Report::default());
    };
    let from = now - matches::CATCH_UP;
    let to = now + HORIZON;
    let episodes = sg.schedule(event, from, to).await?;
    let mut report = Report::default();
    let mut seen = HashSet::new();
    let mut to_check = Vec::new();
    for episode in &episodes {
        if episode.event.slug != event && !episode.event.slug.is_empty() {
            continue;
        }
        let new = NewMatch::from_episode(episode);
        seen.insert(new.external_id.clone());
        let (stored, change) =
            matches::upsert(db, tournament.row.id, ScheduleSource::Speedgaming, &new).await?;
        match change {
            Change::Created => report.created += 1,
            Change::Updated => {
                opener.rescheduled(tournament, &stored).await;
                report.updated.push(new.external_id);
            }
            Change::Unchanged => {}
        }
        // New or changed players are checked now, days before the room opens.
        if change != Change::Unchanged || !stored.link_alerted {
            to_check.push(stored);
        }
    }
    match crate::player_checks::check(db, opener, tournament, &to_check).await {
        Ok(_) => {
            for stored in to_check.into_iter().filter(|m| !m.link_alerted) {
                let mut active = sea_orm::IntoActiveModel::into_active_model(stored);
                active.link_alerted = sea_orm::ActiveValue::Set(true);
                sea_orm::ActiveModelTrait::update(active, db).await?;
            }
        }
        // Identity or the gateway is down: the next import checks again.
        Err(error) => {
            tracing::warn!(tournament = %tournament.row.slug, %error, "player check failed")
        }
    }
    for stored in matches::between(db, tournament.row.id, from, to).await? {
        if stored.source != ScheduleSource::Speedgaming || seen.contains(&stored.external_id) {
            continue;
        }
        let Ok(id) = stored.external_id.parse::<i64>() else {
            continue;
        };
        match sg.episode(id).await {
            Ok(episode) => {
                let new = NewMatch::from_episode(&episode);
                let (_, change) =
                    matches::upsert(db, tournament.row.id, ScheduleSource::Speedgaming, &new)
                        .await?;
                if change == Change::Updated {
                    report.updated.push(new.external_id);
                }
            }
            Err(SgError::NotFound(_)) => {
                matches::delete(db, stored.id).await?;
                report.deleted.push(stored.external_id);
            }
            Err(error) => return Err(error.into()),
        }
    }
    Ok(report)
}
