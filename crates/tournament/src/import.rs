//! The SpeedGaming importer (spec §1.7, sahabot2's ETL): each SpeedGaming tournament's
//! episodes from 30 minutes ago to a week ahead are copied into `matches` with change
//! detection. An episode that vanished from the schedule is deleted only after
//! `GET /episode` confirms it is gone (an episode moved out of the window is kept and updated);
//! the audit channel hears about a deleted match that already had a room. SpeedGaming errors
//! are logged and counted, never fatal: the next poll tries again.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use sea_orm::DatabaseConnection;

use crate::db::{ScheduleSource, r#match};
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
        if tournament.row.require_racetime_link && !stored.link_alerted {
            check_links(db, opener, tournament, stored).await?;
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

/// `require_racetime_link`: tells the audit channel, once per match, which players cannot be
/// invited (no Discord id on the schedule, or no linked racetime.gg account), days before the
/// room opens rather than at the start. Identity being down is retried at the next import.
async fn check_links(
    db: &DatabaseConnection,
    opener: &Opener,
    tournament: &Tournament,
    stored: r#match::Model,
) -> Result<(), ImportError> {
    let Ok(players) = opener.resolve(tournament, matches::players(&stored)).await else {
        return Ok(());
    };
    // Not found on Discord (no id on the schedule, and the tag matches no guild member), and
    // found but without a linked racetime.gg account.
    let (unknown, unlinked): (Vec<_>, Vec<_>) = players
        .iter()
        .filter(|p| p.racetime_user_id.is_none())
        .partition(|p| p.player.discord_user_id.is_none());
    let mut problems = Vec::new();
    if !unknown.is_empty() {
        let names: Vec<String> = unknown
            .iter()
            .map(|p| match p.player.discord_tag.as_deref() {
                Some(tag) if !tag.is_empty() => format!("{} (`{tag}`)", p.player.display_name),
                _ => p.player.display_name.clone(),
            })
            .collect();
        problems.push(format!(
            "{} cannot be found on Discord (no Discord id on the schedule, and no member of the server has the tag)",
            names.join(", ")
        ));
    }
    if !unlinked.is_empty() {
        let names: Vec<String> = unlinked
            .iter()
            .map(|p| p.player.display_name.clone())
            .collect();
        problems.push(format!(
            "{} cannot be invited to the race room: no linked racetime.gg account (link at the website's profile page)",
            names.join(", ")
        ));
    }
    if !problems.is_empty() {
        opener
            .audit(
                tournament,
                &format!(
                    "link-check:{}:{}:{}",
                    tournament.row.slug,
                    stored.id,
                    stored.content_hash.get(..12).unwrap_or_default()
                ),
                &format!(
                    "Match `{}` ({}) on {}: {}.",
                    stored.external_id,
                    stored.title,
                    stored.scheduled_at.format("%Y-%m-%d %H:%M UTC"),
                    problems.join("; ")
                ),
            )
            .await;
    }
    let mut active = sea_orm::IntoActiveModel::into_active_model(stored);
    active.link_alerted = sea_orm::ActiveValue::Set(true);
    sea_orm::ActiveModelTrait::update(active, db).await?;
    Ok(())
}
