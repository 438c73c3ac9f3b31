//! The run timers (spec §3.3 "Background loops"), one sweep a minute on one replica (the job
//! lease) with every change a conditional update, so a second replica or a retry acts once:
//!
//! - a pending run is warned once when 10 minutes are left (upstream pinged every minute
//!   for those 10 minutes) and forfeited at its timeout (20 minutes after its thread opened,
//!   or as extended), audited `timeout_forfeit` by the system;
//! - a run in progress for 12 hours is forfeited;
//! - a countdown the gateway never finished (it restarted mid-countdown) starts the clock
//!   11 seconds after Ready, as the countdown would have, and says so in the thread;
//! - a reserved run whose thread never opened (the gateway died in between) is dropped after
//!   5 minutes, so the player may click again.
//!
//! The due times live in the runs themselves, so a restart loses no timer.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, TransactionTrait};

use super::core::{AsyncError, Asyncs, audit};
use super::db::{AuditAction, RunStatus, run};
use super::runs::{IN_PROGRESS_LIMIT, PENDING_TIMEOUT};

/// How long before the timeout the runner is warned.
pub const WARNING_BEFORE: Duration = Duration::minutes(10);
/// A run reserved without a thread for this long is dropped.
pub const RESERVATION_TTL: Duration = Duration::minutes(5);
/// How long a countdown may take before the sweep starts the clock itself.
pub const COUNTDOWN_GRACE: Duration = Duration::minutes(2);
/// The countdown's length: "10..." to "1..." a second apart, then GO.
pub const COUNTDOWN: Duration = Duration::seconds(11);

/// What one sweep did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Swept {
    /// Warnings posted.
    pub warned: u32,
    /// Pending runs forfeited.
    pub pending_forfeits: u32,
    /// Runs in progress forfeited.
    pub overtime_forfeits: u32,
    /// Clocks started for interrupted countdowns.
    pub clocks_started: u32,
    /// Reservations dropped.
    pub dropped: u32,
}

impl Asyncs {
    /// One sweep at `now`.
    ///
    /// Errors: the database failed (thread posts that fail are logged and left).
    pub async fn sweep(&self, now: DateTime<Utc>) -> Result<Swept, AsyncError> {
        let mut swept = Swept::default();
        let dropped = run::Entity::delete_many()
            .filter(run::Column::Status.eq(RunStatus::Pending))
            .filter(run::Column::ThreadId.is_null())
            .filter(run::Column::LiveRaceId.is_null())
            .filter(run::Column::CreatedAt.lt(now - RESERVATION_TTL))
            .exec(&self.db)
            .await?;
        swept.dropped = dropped.rows_affected as u32;

        let pending = run::Entity::find()
            .filter(run::Column::Status.eq(RunStatus::Pending))
            .filter(run::Column::ThreadId.is_not_null())
            .all(&self.db)
            .await?;
        for r in pending {
            let Some(thread) = r.thread_id else { continue };
            let timeout = r
                .thread_timeout_time
                .or(r.thread_open_time.map(|o| o + PENDING_TIMEOUT))
                .unwrap_or(r.created_at + PENDING_TIMEOUT);
            if now >= timeout {
                let txn = self.db.begin().await?;
                let moved = run::Entity::update_many()
                    .col_expr(run::Column::Status, Expr::value(RunStatus::Forfeit))
                    .filter(run::Column::Id.eq(r.id))
                    .filter(run::Column::Status.eq(RunStatus::Pending))
                    .exec(&txn)
                    .await?;
                if moved.rows_affected == 1 {
                    audit(
                        &txn,
                        r.tournament_id,
                        None,
                        AuditAction::TimeoutForfeit,
                        format!(
                            "{} was automatically forfeited by System due to timeout",
                            r.id
                        ),
                    )
                    .await?;
                    txn.commit().await?;
                    self.touched(r.tournament_id).await;
                    swept.pending_forfeits += 1;
                    self.tell(
                        format!("async:{}:pending-timeout", r.id),
                        thread,
                        format!(
                            "<@{}>, this race has been forfeited because it was not started before <t:{}:f>.",
                            r.discord_user_id.unwrap_or_default(),
                            timeout.timestamp()
                        ),
                    )
                    .await;
                }
            } else if now >= timeout - WARNING_BEFORE && r.warned_at.is_none() {
                let marked = run::Entity::update_many()
                    .col_expr(run::Column::WarnedAt, Expr::value(now))
                    .filter(run::Column::Id.eq(r.id))
                    .filter(run::Column::WarnedAt.is_null())
                    .filter(run::Column::Status.eq(RunStatus::Pending))
                    .exec(&self.db)
                    .await?;
                if marked.rows_affected == 1 {
                    swept.warned += 1;
                    self.tell(
                        format!("async:{}:warning:{}", r.id, timeout.timestamp()),
                        thread,
                        format!(
                            "<@{}>, your race will be permanently forfeit on <t:{ts}:f> (<t:{ts}:R>) if you do not start it by then.  Please start your run as soon as possible.  Please ping the @Admins if you need more time.",
                            r.discord_user_id.unwrap_or_default(),
                            ts = timeout.timestamp()
                        ),
                    )
                    .await;
                }
            }
        }

        let running = run::Entity::find()
            .filter(run::Column::Status.eq(RunStatus::InProgress))
            .all(&self.db)
            .await?;
        for r in running {
            match (r.start_time, r.ready_at) {
                (Some(start), _) if now > start + IN_PROGRESS_LIMIT && r.live_race_id.is_none() => {
                    let txn = self.db.begin().await?;
                    let moved = run::Entity::update_many()
                        .col_expr(run::Column::Status, Expr::value(RunStatus::Forfeit))
                        .filter(run::Column::Id.eq(r.id))
                        .filter(run::Column::Status.eq(RunStatus::InProgress))
                        .exec(&txn)
                        .await?;
                    if moved.rows_affected == 1 {
                        audit(
                            &txn,
                            r.tournament_id,
                            None,
                            AuditAction::TimeoutForfeit,
                            format!(
                                "in progress race \"{}\" was automatically forfeited by System due to timeout",
                                r.id
                            ),
                        )
                        .await?;
                        txn.commit().await?;
                        self.touched(r.tournament_id).await;
                        swept.overtime_forfeits += 1;
                        if let Some(thread) = r.thread_id {
                            self.tell(
                                format!("async:{}:overtime", r.id),
                                thread,
                                format!(
                                    "<@{}>, this race has exceeded 12 hours.  This run has been forfeit.  Please contact an admin if you believe this is in error.",
                                    r.discord_user_id.unwrap_or_default()
                                ),
                            )
                            .await;
                        }
                    }
                }
                (None, Some(ready)) if now > ready + COUNTDOWN_GRACE => {
                    let started = ready + COUNTDOWN;
                    let run = self.start_clock(&r, started).await?;
                    if run.start_time == Some(started) {
                        swept.clocks_started += 1;
                        if let Some(thread) = r.thread_id {
                            self.tell(
                                format!("async:{}:countdown-recovered", r.id),
                                thread,
                                format!(
                                    "<@{}>, the countdown was interrupted; your run's clock started at <t:{}:T>. Use `/async done` when you finish.",
                                    r.discord_user_id.unwrap_or_default(),
                                    started.timestamp()
                                ),
                            )
                            .await;
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(swept)
    }

    /// Posts `text` in a run's thread once per `key`; a thread that is gone is logged.
    async fn tell(&self, key: String, thread: i64, text: String) {
        if let Err(status) =
            crate::notify::post(&self.peers, key, thread as u64, &text, Vec::new()).await
        {
            tracing::warn!(thread, %status, "could not post in an async run's thread");
        }
    }

    /// The hourly scores: every active tournament recalculated.
    pub async fn score_active(&self) {
        let Ok(tournaments) = self.list(Some(true)).await else {
            return;
        };
        for t in tournaments {
            match self.recalculate(t.id, false).await {
                Ok((pars, runs)) => {
                    tracing::debug!(tournament = t.id, pars, runs, "async scores recalculated")
                }
                Err(error) => tracing::warn!(tournament = t.id, %error, "async scores failed"),
            }
        }
    }
}
