//! A run from the "Start new async run" button to the VOD (spec §3.3–§3.5): the gates in
//! upstream's order and wording, the seed reserved before the thread is opened (so a refusal
//! leaves no orphan thread, upstream's BUG), Ready → countdown → GO → Finish or Forfeit, the
//! post-race form, the timeout extension, the owner's corrections and reattempts within the
//! tournament's allowance (upstream allowed exactly one whatever `allowed_reattempts` said).
//!
//! Every transition is a conditional update (`… WHERE status = <expected>`): a double click,
//! a retry or a second replica changes a run once, and the loser is told the state it found.

use chrono::{DateTime, Duration, Utc};
use proto::asynctournament::v1 as pb;
use rand::RngExt;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, TransactionTrait,
};

use super::access::Action;
use super::alloc::{self, Exhausted, Seed};
use super::core::{AsyncError, Asyncs, STAFF_ONLY, Who, account_created, audit};
use super::db::{
    AuditAction, ReviewStatus, RunStatus, permalink, player, pool, run, tournament, whitelist,
};

/// How long a pending run waits for Ready (the rules text says 10 minutes; upstream's timer
/// was 20, kept).
pub const PENDING_TIMEOUT: Duration = Duration::minutes(20);
/// How long a started run may take before it is forfeited.
pub const IN_PROGRESS_LIMIT: Duration = Duration::hours(12);
/// How old a Discord account must be, counted back from the tournament's creation.
pub const ACCOUNT_AGE: Duration = Duration::days(7);

/// The gates' answers, worded as upstream worded them.
pub mod refusals {
    /// The tournament is closed.
    pub const INACTIVE: &str = "This tournament is not currently active.";
    /// The Discord account is too new.
    pub const TOO_NEW: &str = "Your Discord account is too new to participate in this tournament.  Please contact a tournament administrator for manual verification and whitelisting.";
    /// Every pool played.
    pub const NO_POOLS: &str = "You have already played all available pools for this tournament.";
    /// A run is open.
    pub const ACTIVE_RACE: &str = "You already have an active race.  If you believe this is in error, please contact a moderator.";
    /// The pool's limit reached.
    pub const POOL_LIMIT: &str =
        "You have already played the maximum number of seeds from this pool.";
    /// No seed left for this player.
    pub const POOL_EXHAUSTED: &str = "There are no more seeds in this pool for you to play.  Please contact a tournament administrator.";
}

/// "You must link your RaceTime.gg account…" with the link on `website`.
pub fn no_racetime(website: &str) -> String {
    format!(
        "You must link your RaceTime.gg account to SahasrahBot before you can participate in an async tournament.\n\nPlease visit <{}/racetime/verification/initiate> to link your RaceTime account.",
        website.trim_end_matches('/')
    )
}

/// A run's elapsed time from its `status` and times: finished (or forfeited with both times)
/// end − start; in progress now − start; otherwise none.
pub fn elapsed_between(
    status: RunStatus,
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<Duration> {
    let start = start?;
    match status {
        RunStatus::Pending => None,
        RunStatus::InProgress => Some(now - start),
        _ => end.map(|end| end - start),
    }
}

/// Parses "HH:MM:SS" (hours may exceed 24).
///
/// Errors: anything else, named.
pub fn parse_hms(text: &str) -> Result<Duration, AsyncError> {
    let bad = || AsyncError::Invalid(format!("`{text}` is not a time as HH:MM:SS."));
    let parts: Vec<&str> = text.trim().split(':').collect();
    let [h, m, s] = parts.as_slice() else {
        return Err(bad());
    };
    let (h, m, s): (i64, i64, i64) = (
        h.parse().map_err(|_| bad())?,
        m.parse().map_err(|_| bad())?,
        s.parse().map_err(|_| bad())?,
    );
    if h < 0 || !(0..60).contains(&m) || !(0..60).contains(&s) {
        return Err(bad());
    }
    Ok(Duration::seconds(h * 3600 + m * 60 + s))
}

fn is_runner(run: &run::Model, caller: Option<&pb::Caller>) -> bool {
    let Some(caller) = caller else { return false };
    (caller.discord_user_id != 0 && run.discord_user_id == Some(caller.discord_user_id as i64))
        || (caller.user_id != 0 && run.user_id == caller.user_id)
}

impl Asyncs {
    /// The gates of "Start new async run", in order (spec §3.3): active, account age (unless
    /// whitelisted), a linked racetime.gg account, a pool left to play. Returns the player and
    /// the pools they may play.
    ///
    /// Errors: Refused with the player's message.
    async fn gates(
        &self,
        t: &tournament::Model,
        who: &Who,
    ) -> Result<(player::Model, Vec<pool::Model>), AsyncError> {
        if !t.active {
            return Err(AsyncError::Refused(refusals::INACTIVE.into()));
        }
        if let Some(created) = account_created(who.discord_user_id)
            && created > t.created_at - ACCOUNT_AGE
        {
            let whitelisted = match &who.player {
                Some(p) => whitelist::Entity::find_by_id((t.id, p.user_id))
                    .one(&self.db)
                    .await?
                    .is_some(),
                None => false,
            };
            if !whitelisted {
                return Err(AsyncError::Refused(refusals::TOO_NEW.into()));
            }
        }
        let player = match &who.player {
            Some(p) if p.racetime_user_id.is_some() => p.clone(),
            _ => return Err(AsyncError::Refused(no_racetime(&self.website))),
        };
        let pools = self.available_pools(t, player.user_id).await?;
        if pools.is_empty() {
            return Err(AsyncError::Refused(refusals::NO_POOLS.into()));
        }
        Ok((player, pools))
    }

    /// The pools where `user` has fewer counted (not reattempted) runs than the tournament's
    /// runs per pool.
    async fn available_pools(
        &self,
        t: &tournament::Model,
        user: i64,
    ) -> Result<Vec<pool::Model>, AsyncError> {
        let pools = pool::Entity::find()
            .filter(pool::Column::TournamentId.eq(t.id))
            .order_by_asc(pool::Column::Id)
            .all(&self.db)
            .await?;
        let runs = run::Entity::find()
            .filter(run::Column::TournamentId.eq(t.id))
            .filter(run::Column::UserId.eq(user))
            .filter(run::Column::Reattempted.eq(false))
            .all(&self.db)
            .await?;
        Ok(pools
            .into_iter()
            .filter(|p| {
                runs.iter().filter(|r| r.pool_id == p.id).count() < t.runs_per_pool.max(1) as usize
            })
            .collect())
    }

    /// The tournament and the pools the caller may play now.
    ///
    /// Errors: NotFound, Refused (a gate), Peer.
    pub async fn eligibility(
        &self,
        r: &pb::TournamentRef,
    ) -> Result<(tournament::Model, Vec<pool::Model>), AsyncError> {
        let t = self.tournament(r).await?;
        let who = self.who(&t, r.caller.as_ref()).await?;
        let (_, pools) = self.gates(&t, &who).await?;
        Ok((t, pools))
    }

    /// Reserves a pending run of pool `pool_name` for the caller on a seed chosen as §3.4 says,
    /// after the gates, the one-active-run rule and the pool's limit; its thread is attached
    /// next ([`Asyncs::attach_thread`]).
    ///
    /// Errors: NotFound, Refused, Peer.
    pub async fn start_run(&self, r: &pb::StartRunRequest) -> Result<run::Model, AsyncError> {
        let tr = r.tournament.clone().unwrap_or_default();
        let t = self.tournament(&tr).await?;
        let who = self.who(&t, tr.caller.as_ref()).await?;
        let (player, pools) = self.gates(&t, &who).await?;
        if self.active_run(t.id, player.user_id).await?.is_some() {
            return Err(AsyncError::Refused(refusals::ACTIVE_RACE.into()));
        }
        let Some(pool) = pools.into_iter().find(|p| p.name == r.pool_name) else {
            let exists = pool::Entity::find()
                .filter(pool::Column::TournamentId.eq(t.id))
                .filter(pool::Column::Name.eq(r.pool_name.as_str()))
                .count(&self.db)
                .await?;
            return Err(if exists > 0 {
                AsyncError::Refused(refusals::POOL_LIMIT.into())
            } else {
                AsyncError::NotFound(format!("There is no pool named `{}`.", r.pool_name))
            });
        };
        let links = permalink::Entity::find()
            .filter(permalink::Column::PoolId.eq(pool.id))
            .filter(permalink::Column::LiveRace.eq(false))
            .order_by_asc(permalink::Column::Id)
            .all(&self.db)
            .await?;
        let pool_runs = run::Entity::find()
            .filter(run::Column::PoolId.eq(pool.id))
            .all(&self.db)
            .await?;
        let seeds: Vec<Seed> = links
            .iter()
            .map(|l| Seed {
                id: l.id,
                plays: pool_runs.iter().filter(|r| r.permalink_id == l.id).count() as u64,
            })
            .collect();
        let played: Vec<i64> = pool_runs
            .iter()
            .filter(|r| r.user_id == player.user_id)
            .map(|r| r.permalink_id)
            .collect();
        let chosen = alloc::choose(&seeds, &played, |eligible| {
            eligible[rand::rng().random_range(0..eligible.len())]
        })
        .map_err(|e| match e {
            Exhausted::Empty | Exhausted::AllPlayed => {
                AsyncError::Refused(refusals::POOL_EXHAUSTED.into())
            }
        })?;
        let now = Utc::now();
        let row = run::ActiveModel {
            tournament_id: Set(t.id),
            pool_id: Set(pool.id),
            permalink_id: Set(chosen),
            user_id: Set(player.user_id),
            discord_user_id: Set((who.discord_user_id != 0).then_some(who.discord_user_id as i64)),
            status: Set(RunStatus::Pending),
            reattempted: Set(false),
            review_status: Set(ReviewStatus::Pending),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&self.db)
        .await?;
        // Two clicks at once both passed the one-active-run check: the older run stands.
        let active = run::Entity::find()
            .filter(run::Column::TournamentId.eq(t.id))
            .filter(run::Column::UserId.eq(player.user_id))
            .filter(run::Column::Status.is_in([RunStatus::Pending, RunStatus::InProgress]))
            .order_by_asc(run::Column::Id)
            .one(&self.db)
            .await?;
        if active.is_some_and(|a| a.id != row.id) {
            run::Entity::delete_by_id(row.id).exec(&self.db).await?;
            return Err(AsyncError::Refused(refusals::ACTIVE_RACE.into()));
        }
        self.touched(t.id).await;
        Ok(row)
    }

    /// The caller's open (pending or in-progress) run in tournament `t`.
    pub async fn active_run(&self, t: i64, user: i64) -> Result<Option<run::Model>, AsyncError> {
        Ok(run::Entity::find()
            .filter(run::Column::TournamentId.eq(t))
            .filter(run::Column::UserId.eq(user))
            .filter(run::Column::Status.is_in([RunStatus::Pending, RunStatus::InProgress]))
            .one(&self.db)
            .await?)
    }

    /// The run's private thread was opened: the pending timer starts now (20 minutes) and the
    /// audit log says `Created thread {thread} for pool {pool}, permalink {url}`.
    ///
    /// Errors: NotFound, Denied (not the runner), Refused (already attached).
    pub async fn attach_thread(
        &self,
        r: &pb::AttachThreadRequest,
    ) -> Result<run::Model, AsyncError> {
        let run = self
            .run(&pb::RunRef {
                run_id: r.run_id,
                ..Default::default()
            })
            .await?;
        if !is_runner(&run, r.caller.as_ref()) {
            return Err(AsyncError::Denied("That is not your run.".into()));
        }
        if run.thread_id == Some(r.thread_id as i64) {
            return Ok(run);
        }
        let (pool, link) = self.seed_of(&run).await?;
        let now = Utc::now();
        let txn = self.db.begin().await?;
        let updated = run::Entity::update_many()
            .col_expr(run::Column::ThreadId, Expr::value(r.thread_id as i64))
            .col_expr(run::Column::ThreadOpenTime, Expr::value(now))
            .col_expr(
                run::Column::ThreadTimeoutTime,
                Expr::value(now + PENDING_TIMEOUT),
            )
            .filter(run::Column::Id.eq(run.id))
            .filter(run::Column::ThreadId.is_null())
            .filter(run::Column::Status.eq(RunStatus::Pending))
            .exec(&txn)
            .await?;
        if updated.rows_affected == 0 {
            return Err(AsyncError::Refused(
                "This run already has its thread.".into(),
            ));
        }
        audit(
            &txn,
            run.tournament_id,
            Some(run.user_id),
            AuditAction::CreateThread,
            format!(
                "Created thread {} for pool {}, permalink {}",
                r.thread_id, pool.name, link.url
            ),
        )
        .await?;
        txn.commit().await?;
        self.reload(run.id).await
    }

    /// The pool and permalink of `run`.
    pub async fn seed_of(
        &self,
        run: &run::Model,
    ) -> Result<(pool::Model, permalink::Model), AsyncError> {
        let pool = pool::Entity::find_by_id(run.pool_id).one(&self.db).await?;
        let link = permalink::Entity::find_by_id(run.permalink_id)
            .one(&self.db)
            .await?;
        match (pool, link) {
            (Some(p), Some(l)) => Ok((p, l)),
            _ => Err(AsyncError::NotFound(
                "This run's seed no longer exists.".into(),
            )),
        }
    }

    pub(crate) async fn reload(&self, id: i64) -> Result<run::Model, AsyncError> {
        run::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or_else(|| AsyncError::NotFound("That run no longer exists.".into()))
    }

    /// Moves `run` from one of `from` to `to` with `times` set, once: false when another
    /// request already moved it.
    async fn transition<C: sea_orm::ConnectionTrait>(
        conn: &C,
        run: i64,
        from: &[RunStatus],
        to: RunStatus,
        times: &[(run::Column, DateTime<Utc>)],
    ) -> Result<bool, AsyncError> {
        let mut update = run::Entity::update_many()
            .col_expr(run::Column::Status, Expr::value(to))
            .filter(run::Column::Id.eq(run))
            .filter(run::Column::Status.is_in(from.to_vec()));
        for (column, at) in times {
            update = update.col_expr(*column, Expr::value(*at));
        }
        Ok(update.exec(conn).await?.rows_affected == 1)
    }

    /// Ready: the countdown begins (runner only, pending only; audited `race_ready` and
    /// `race_countdown`).
    ///
    /// Errors: NotFound, Denied, Refused.
    pub async fn mark_ready(&self, r: &pb::RunRef) -> Result<run::Model, AsyncError> {
        let run = self.run(r).await?;
        if !is_runner(&run, r.caller.as_ref()) {
            return Err(AsyncError::Denied(
                "Only the runner of this race can start it.".into(),
            ));
        }
        let txn = self.db.begin().await?;
        if !Self::transition(
            &txn,
            run.id,
            &[RunStatus::Pending],
            RunStatus::InProgress,
            &[(run::Column::ReadyAt, Utc::now())],
        )
        .await?
        {
            return Err(AsyncError::Refused(
                "This race must be in the pending state to start it.".into(),
            ));
        }
        for (action, what) in [
            (AuditAction::RaceReady, "is marked as ready"),
            (AuditAction::RaceCountdown, "is starting a countdown"),
        ] {
            audit(
                &txn,
                run.tournament_id,
                Some(run.user_id),
                action,
                format!("{} {what}", run.id),
            )
            .await?;
        }
        txn.commit().await?;
        self.reload(run.id).await
    }

    /// GO was posted: the run's clock starts now (runner or the system; once).
    ///
    /// Errors: NotFound, Denied, Refused (not in progress).
    pub async fn mark_started(&self, r: &pb::RunRef) -> Result<run::Model, AsyncError> {
        let run = self.run(r).await?;
        if !is_runner(&run, r.caller.as_ref()) && !r.caller.as_ref().is_some_and(|c| c.operator) {
            return Err(AsyncError::Denied("That is not your run.".into()));
        }
        self.start_clock(&run, Utc::now()).await
    }

    /// Sets `run`'s start time to `at` unless it has one.
    pub(crate) async fn start_clock(
        &self,
        run: &run::Model,
        at: DateTime<Utc>,
    ) -> Result<run::Model, AsyncError> {
        if run.status != RunStatus::InProgress {
            return Err(AsyncError::Refused("This race is not in progress.".into()));
        }
        let txn = self.db.begin().await?;
        let updated = run::Entity::update_many()
            .col_expr(run::Column::StartTime, Expr::value(at))
            .filter(run::Column::Id.eq(run.id))
            .filter(run::Column::StartTime.is_null())
            .exec(&txn)
            .await?;
        if updated.rows_affected == 1 {
            audit(
                &txn,
                run.tournament_id,
                Some(run.user_id),
                AuditAction::RaceStarted,
                format!("{} has started", run.id),
            )
            .await?;
        }
        txn.commit().await?;
        self.reload(run.id).await
    }

    /// Finish (runner only, a started run only; audited `race_finish`).
    ///
    /// Errors: NotFound, Denied, Refused.
    pub async fn finish(&self, r: &pb::RunRef) -> Result<run::Model, AsyncError> {
        let run = self.run(r).await?;
        if !is_runner(&run, r.caller.as_ref()) {
            return Err(AsyncError::Denied(
                "Only the runner of this race can finish it.".into(),
            ));
        }
        if run.start_time.is_none() {
            return Err(AsyncError::Refused(
                "This race must be in progress to finish it.".into(),
            ));
        }
        let txn = self.db.begin().await?;
        if !Self::transition(
            &txn,
            run.id,
            &[RunStatus::InProgress],
            RunStatus::Finished,
            &[(run::Column::EndTime, Utc::now())],
        )
        .await?
        {
            return Err(AsyncError::Refused(
                "This race must be in progress to finish it.".into(),
            ));
        }
        audit(
            &txn,
            run.tournament_id,
            Some(run.user_id),
            AuditAction::RaceFinish,
            format!("{} has finished", run.id),
        )
        .await?;
        txn.commit().await?;
        self.touched(run.tournament_id).await;
        self.reload(run.id).await
    }

    /// Forfeit (runner only, pending or in progress; audited `runner_forfeit`).
    ///
    /// Errors: NotFound, Denied, Refused.
    pub async fn forfeit(&self, r: &pb::RunRef) -> Result<run::Model, AsyncError> {
        let run = self.run(r).await?;
        if !is_runner(&run, r.caller.as_ref()) {
            return Err(AsyncError::Denied(
                "Only the runner of this race can forfeit it.".into(),
            ));
        }
        let txn = self.db.begin().await?;
        if !Self::transition(
            &txn,
            run.id,
            &[RunStatus::Pending, RunStatus::InProgress],
            RunStatus::Forfeit,
            &[],
        )
        .await?
        {
            return Err(AsyncError::Refused("This race is already over.".into()));
        }
        audit(
            &txn,
            run.tournament_id,
            Some(run.user_id),
            AuditAction::RunnerForfeit,
            format!("{} was forfeited by runner", run.id),
        )
        .await?;
        txn.commit().await?;
        self.touched(run.tournament_id).await;
        self.reload(run.id).await
    }

    /// The post-race form (runner only, once the run is over; a resubmission replaces it). The
    /// default form needs a VOD link (http or https); `gmpmt2023` a collection rate and IGT.
    ///
    /// Errors: NotFound, Denied, Refused (still running), Invalid (named field).
    pub async fn submit_run_info(
        &self,
        r: &pb::SubmitRunInfoRequest,
    ) -> Result<run::Model, AsyncError> {
        let rr = r.run.clone().unwrap_or_default();
        let run = self.run(&rr).await?;
        if !is_runner(&run, rr.caller.as_ref()) {
            return Err(AsyncError::Denied(
                "Only the runner of this race can submit its information.".into(),
            ));
        }
        if !run.status.is_closed() {
            return Err(AsyncError::Refused(
                "Submit your run's information after you finish.".into(),
            ));
        }
        let t = self.tournament_of(&run).await?;
        let mut active: run::ActiveModel = run.clone().into();
        match t.customization {
            super::db::Customization::Default => {
                let vod = r.vod_url.trim();
                let ok = url::Url::parse(vod)
                    .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
                if !ok || vod.len() > 400 {
                    return Err(AsyncError::Invalid(
                        "The VOD link must be a web address (https://…), at most 400 characters."
                            .into(),
                    ));
                }
                if r.notes.chars().count() > 4000 {
                    return Err(AsyncError::Invalid(
                        "Runner notes are at most 4000 characters.".into(),
                    ));
                }
                active.runner_vod_url = Set(Some(vod.to_owned()));
                active.runner_notes =
                    Set((!r.notes.trim().is_empty()).then(|| r.notes.trim().to_owned()));
            }
            super::db::Customization::Gmpmt2023 => {
                for (name, value) in [("Collection Rate", &r.collection_rate), ("IGT", &r.igt)] {
                    if value.trim().is_empty() || value.chars().count() > 100 {
                        return Err(AsyncError::Invalid(format!(
                            "{name} is required (at most 100 characters)."
                        )));
                    }
                }
                active.run_collection_rate = Set(Some(r.collection_rate.trim().to_owned()));
                active.run_igt = Set(Some(r.igt.trim().to_owned()));
            }
        }
        Ok(active.update(&self.db).await?)
    }

    /// `/async extendtimeout` (admin or mod; a pending run): the timeout moves `minutes` later
    /// and a new warning will come (audited `extend_timeout`).
    ///
    /// Errors: NotFound, Denied, Refused, Invalid.
    pub async fn extend_timeout(
        &self,
        r: &pb::ExtendTimeoutRequest,
    ) -> Result<run::Model, AsyncError> {
        let rr = r.run.clone().unwrap_or_default();
        let run = self.run(&rr).await?;
        let t = self.tournament_of(&run).await?;
        let who = self.who(&t, rr.caller.as_ref()).await?;
        who.require(Action::ExtendTimeout, &t, false, STAFF_ONLY)?;
        if !(1..=24 * 60).contains(&r.minutes) {
            return Err(AsyncError::Invalid("Extend by 1 to 1440 minutes.".into()));
        }
        if run.status != RunStatus::Pending {
            return Err(AsyncError::Refused(
                "Only a race that has not started can have its timeout extended.".into(),
            ));
        }
        let base = run
            .thread_timeout_time
            .or(run.thread_open_time.map(|o| o + PENDING_TIMEOUT))
            .unwrap_or_else(|| Utc::now() + PENDING_TIMEOUT);
        let txn = self.db.begin().await?;
        let mut active: run::ActiveModel = run.clone().into();
        active.thread_timeout_time = Set(Some(base + Duration::minutes(r.minutes.into())));
        active.warned_at = Set(None);
        let updated = active.update(&txn).await?;
        audit(
            &txn,
            t.id,
            who.user_id(),
            AuditAction::ExtendTimeout,
            format!("{} extended by {} minutes", run.id, r.minutes),
        )
        .await?;
        txn.commit().await?;
        Ok(updated)
    }

    /// `/async update_run` (the owner): a status, an elapsed time (the run then ends now and
    /// started that long ago) and/or a VOD; the change is appended to the runner's notes and
    /// audited (upstream audited nothing). Returns the run and the note.
    ///
    /// Errors: NotFound, Denied, Invalid.
    pub async fn update_run(
        &self,
        r: &pb::UpdateRunRequest,
    ) -> Result<(run::Model, String), AsyncError> {
        let rr = r.run.clone().unwrap_or_default();
        let run = self.run(&rr).await?;
        let t = self.tournament_of(&run).await?;
        let who = self.who(&t, rr.caller.as_ref()).await?;
        who.require(
            Action::UpdateRun,
            &t,
            false,
            "Only the owner of this tournament may update runs.",
        )?;
        let status = match r.status.as_str() {
            "" => None,
            s => Some(
                RunStatus::parse(s)
                    .filter(|s| s.is_closed())
                    .ok_or_else(|| {
                        AsyncError::Invalid(format!(
                            "`{s}` is not a status to set (finished, forfeit, disqualified)."
                        ))
                    })?,
            ),
        };
        let elapsed = match r.elapsed_time.trim() {
            "" => None,
            text => Some(parse_hms(text)?),
        };
        if status.is_none() && elapsed.is_none() && r.vod_url.trim().is_empty() {
            return Err(AsyncError::Invalid(
                "Give a status, an elapsed time or a VOD link to change.".into(),
            ));
        }
        let name = rr
            .caller
            .as_ref()
            .map(|c| c.name.clone())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| format!("<@{}>", who.discord_user_id));
        let mut note = format!("{name} administratively updated this run:\n");
        let mut active: run::ActiveModel = run.clone().into();
        if let Some(status) = status {
            active.status = Set(status);
            note.push_str(&format!("\nStatus: {}", status.as_str()));
        }
        if let Some(elapsed) = elapsed {
            let now = Utc::now();
            active.end_time = Set(Some(now));
            active.start_time = Set(Some(now - elapsed));
            note.push_str(&format!("\nElapsed time: {}", r.elapsed_time.trim()));
        }
        if !r.vod_url.trim().is_empty() {
            active.runner_vod_url = Set(Some(r.vod_url.trim().to_owned()));
            note.push_str(&format!("\nVOD URL: {}", r.vod_url.trim()));
        }
        let notes = match &run.runner_notes {
            Some(old) if !old.is_empty() => format!("{old}\n\n{note}"),
            _ => note.clone(),
        };
        active.runner_notes = Set(Some(notes));
        let txn = self.db.begin().await?;
        let updated = active.update(&txn).await?;
        audit(
            &txn,
            t.id,
            who.user_id(),
            AuditAction::UpdateRun,
            format!("{}: {}", run.id, note.replace('\n', " ")),
        )
        .await?;
        txn.commit().await?;
        self.touched(t.id).await;
        Ok((updated, note))
    }

    /// A player gives up one of their finished, forfeited or disqualified runs to play its
    /// pool again (on another seed), within the tournament's `allowed_reattempts` (spec §3.5's
    /// proposal; upstream allowed exactly one). Audited `reattempt`.
    ///
    /// Errors: NotFound, Denied (not theirs), Refused (the allowance used, the run still open,
    /// the tournament closed), Invalid (no reason).
    pub async fn reattempt(&self, r: &pb::ReattemptRequest) -> Result<run::Model, AsyncError> {
        let rr = r.run.clone().unwrap_or_default();
        let run = self.run(&rr).await?;
        let t = self.tournament_of(&run).await?;
        let who = self.who(&t, rr.caller.as_ref()).await?;
        let own = who.user_id() == Some(run.user_id);
        who.require(
            Action::OwnRuns,
            &t,
            own,
            "Race not found or you are not the player.",
        )?;
        if !t.active {
            return Err(AsyncError::Refused("This tournament is closed.".into()));
        }
        if run.reattempted {
            return Err(AsyncError::Refused(
                "This run is already reattempted.".into(),
            ));
        }
        if !run.status.is_closed() {
            return Err(AsyncError::Refused(
                "Finish or forfeit this run before reattempting it.".into(),
            ));
        }
        let reason = r.reason.trim();
        if reason.is_empty() || reason.chars().count() > 2000 {
            return Err(AsyncError::Invalid(
                "Say why you reattempt (1 to 2000 characters).".into(),
            ));
        }
        let used = self.reattempts_used(t.id, run.user_id).await?;
        if used >= i64::from(t.allowed_reattempts.max(0)) {
            return Err(AsyncError::Refused(if t.allowed_reattempts <= 0 {
                "This tournament allows no reattempts.".to_owned()
            } else {
                format!(
                    "You have already used your {} reattempt{} in this tournament.",
                    t.allowed_reattempts,
                    if t.allowed_reattempts == 1 { "" } else { "s" }
                )
            }));
        }
        let (pool, _) = self.seed_of(&run).await?;
        let txn = self.db.begin().await?;
        let updated = run::Entity::update_many()
            .col_expr(run::Column::Reattempted, Expr::value(true))
            .col_expr(run::Column::ReattemptReason, Expr::value(reason.to_owned()))
            .filter(run::Column::Id.eq(run.id))
            .filter(run::Column::Reattempted.eq(false))
            .exec(&txn)
            .await?;
        if updated.rows_affected == 0 {
            return Err(AsyncError::Refused(
                "This run is already reattempted.".into(),
            ));
        }
        audit(
            &txn,
            t.id,
            Some(run.user_id),
            AuditAction::Reattempt,
            format!("Marked {} as a re-attempt for pool {}", run.id, pool.name),
        )
        .await?;
        txn.commit().await?;
        self.touched(t.id).await;
        self.reload(run.id).await
    }

    /// How many runs `user` reattempted in tournament `t`.
    pub async fn reattempts_used(&self, t: i64, user: i64) -> Result<i64, AsyncError> {
        Ok(run::Entity::find()
            .filter(run::Column::TournamentId.eq(t))
            .filter(run::Column::UserId.eq(user))
            .filter(run::Column::Reattempted.eq(true))
            .count(&self.db)
            .await? as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hms_parses_hours_past_a_day_and_refuses_the_rest() {
        assert_eq!(parse_hms("01:02:03").unwrap(), Duration::seconds(3723));
        assert_eq!(parse_hms("25:00:00").unwrap(), Duration::hours(25));
        for bad in ["1:60:00", "01:02", "a:b:c", "-1:00:00", ""] {
            assert!(parse_hms(bad).is_err(), "{bad}");
        }
    }
}
