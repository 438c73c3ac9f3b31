//! Results of an async tournament (spec §3.6–§3.8): runs listed and filtered (the API, the
//! review queue, a player's and a permalink's runs), the review (claim on open, one status
//! vocabulary, never one's own run), pars and scores recalculated from the database, and the
//! leaderboard.

use std::collections::BTreeMap;

use chrono::Utc;
use proto::asynctournament::v1 as pb;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};

use super::access::Action;
use super::core::{AsyncError, Asyncs, STAFF_ONLY, Who, audit};
use super::db::{AuditAction, ReviewStatus, RunStatus, permalink, player, pool, run, tournament};
use super::scoring::{self, Entry};

/// Runs per page unless asked.
pub const PAGE_SIZE: u64 = 20;
/// The most runs per page.
pub const MAX_PAGE_SIZE: u64 = 100;
/// The last page one may ask for (upstream's bound).
pub const MAX_PAGE: u64 = 100_000;

/// A page of runs.
#[derive(Clone, Debug)]
pub struct Page {
    /// The tournament.
    pub tournament: tournament::Model,
    /// The runs.
    pub runs: Vec<run::Model>,
    /// 1-based.
    pub page: u64,
    /// Runs per page.
    pub page_size: u64,
    /// Reattempts the caller used (their own runs only).
    pub reattempts_used: i64,
}

/// A run opened for review.
#[derive(Clone, Debug)]
pub struct Review {
    /// The run (claimed by the reviewer when it was unclaimed and reviewable).
    pub run: run::Model,
    /// Finished and not reattempted.
    pub reviewable: bool,
    /// Someone else claimed it.
    pub already_claimed: bool,
    /// It is the reviewer's own run.
    pub reviewer_is_self: bool,
}

/// What the leaderboard needs of a run (ten columns, not the run's thirty).
#[derive(Clone, Debug, PartialEq)]
pub struct SlotRun {
    /// Run id.
    pub id: i64,
    /// Its tournament.
    pub tournament_id: i64,
    /// Its pool.
    pub pool_id: i64,
    /// Its seed.
    pub permalink_id: i64,
    /// The player.
    pub user_id: i64,
    /// State.
    pub status: RunStatus,
    /// Replaced by a reattempt.
    pub reattempted: bool,
    /// Score.
    pub score: Option<f64>,
    /// Started.
    pub start_time: Option<chrono::DateTime<Utc>>,
    /// Ended.
    pub end_time: Option<chrono::DateTime<Utc>>,
    /// Review.
    pub review_status: ReviewStatus,
}

/// The leaderboard with the runs its slots name and the players.
#[derive(Clone, Debug)]
pub struct Board {
    /// The tournament.
    pub tournament: tournament::Model,
    /// Best first.
    pub entries: Vec<Entry>,
    /// The runs by id.
    pub runs: BTreeMap<i64, SlotRun>,
    /// The players by user id.
    pub players: BTreeMap<i64, player::Model>,
}

/// How long a computed leaderboard is served before it is computed again (upstream kept it
/// until the next hourly scoring). This process forgets it at once when it changes a run.
pub const BOARD_TTL: std::time::Duration = std::time::Duration::from_secs(10);

impl Asyncs {
    /// Runs of a tournament by `r`'s filters, paged. Who may list what: the review queue is
    /// for admins and mods, one's own runs for oneself, a permalink's runs as its page, the
    /// rest as the tournament's results.
    ///
    /// Errors: NotFound, Denied, Invalid (a filter or page out of range, named).
    pub async fn list_runs(&self, r: &pb::ListRunsRequest) -> Result<(Page, Who), AsyncError> {
        let tr = r.tournament.clone().unwrap_or_default();
        let t = self.tournament(&tr).await?;
        let who = self.who(&t, tr.caller.as_ref()).await?;
        if r.review_queue {
            who.require(Action::Review, &t, false, STAFF_ONLY)?;
        } else if r.own {
            who.require(
                Action::OwnRuns,
                &t,
                who.player.is_some(),
                "Authentication required.",
            )?;
        } else if r.permalink_id != 0 {
            let live = permalink::Entity::find_by_id(r.permalink_id)
                .one(&self.db)
                .await?
                .is_some_and(|p| p.live_race);
            who.require(Action::ViewPermalink { live }, &t, false, "Not authorized.")?;
        } else {
            who.require(Action::ViewResults, &t, false, "Not authorized.")?;
        }
        let page = u64::try_from(r.page.max(1)).unwrap_or(1);
        if page > MAX_PAGE {
            return Err(AsyncError::Invalid(format!(
                "page must be between 1 and {MAX_PAGE}."
            )));
        }
        let page_size = match r.page_size {
            0 => PAGE_SIZE,
            n if (1..=MAX_PAGE_SIZE as i32).contains(&n) => n as u64,
            _ => {
                return Err(AsyncError::Invalid(format!(
                    "page_size must be between 1 and {MAX_PAGE_SIZE}."
                )));
            }
        };
        let mut query = run::Entity::find().filter(run::Column::TournamentId.eq(t.id));
        if r.own {
            query = query.filter(run::Column::UserId.eq(who.user_id().unwrap_or(-1)));
        }
        for (value, column) in [
            (r.run_id, run::Column::Id),
            (r.user_id, run::Column::UserId),
            (r.permalink_id, run::Column::PermalinkId),
            (r.pool_id, run::Column::PoolId),
        ] {
            if value != 0 {
                query = query.filter(column.eq(value));
            }
        }
        match r.status.as_str() {
            "" | "all" => {}
            s => {
                let status = RunStatus::parse(s)
                    .ok_or_else(|| AsyncError::Invalid(format!("`{s}` is not a run status.")))?;
                query = query.filter(run::Column::Status.eq(status));
            }
        }
        match r.review_status.as_str() {
            "" | "all" => {}
            s => {
                let status = ReviewStatus::parse(s).ok_or_else(|| {
                    AsyncError::Invalid(format!(
                        "`{s}` is not a review status (pending, approved, rejected)."
                    ))
                })?;
                query = query.filter(run::Column::ReviewStatus.eq(status));
            }
        }
        match r.reviewed.as_str() {
            "" | "all" => {}
            "unreviewed" => query = query.filter(run::Column::ReviewedBy.is_null()),
            "me" => query = query.filter(run::Column::ReviewedBy.eq(who.user_id().unwrap_or(-1))),
            other => {
                let id: i64 = other.parse().map_err(|_| {
                    AsyncError::Invalid(format!(
                        "`{other}` is not a reviewer (all, unreviewed, me or a user id)."
                    ))
                })?;
                query = query.filter(run::Column::ReviewedBy.eq(id));
            }
        }
        match r.live.as_str() {
            "" | "all" => {}
            "true" => query = query.filter(run::Column::LiveRaceId.is_not_null()),
            "false" => query = query.filter(run::Column::ThreadId.is_not_null()),
            other => {
                return Err(AsyncError::Invalid(format!(
                    "`{other}` is not a live filter (true, false, all)."
                )));
            }
        }
        if r.exclude_reattempted || r.review_queue {
            query = query.filter(run::Column::Reattempted.eq(false));
        }
        query = match r.order.as_str() {
            "newest" => query.order_by_desc(run::Column::Id),
            "score" => query
                .order_by_desc(run::Column::Score)
                .order_by_asc(run::Column::Id),
            _ => query.order_by_asc(run::Column::Id),
        };
        let runs = query
            .offset((page - 1) * page_size)
            .limit(page_size)
            .all(&self.db)
            .await?;
        let reattempts_used = match (r.own, who.user_id()) {
            (true, Some(user)) => self.reattempts_used(t.id, user).await?,
            _ => 0,
        };
        Ok((
            Page {
                tournament: t,
                runs,
                page,
                page_size,
                reattempts_used,
            },
            who,
        ))
    }

    /// Opens a run for review (admin or mod): claims it for the reviewer when it is
    /// reviewable and nobody claimed it.
    ///
    /// Errors: NotFound, Denied.
    pub async fn get_for_review(&self, r: &pb::RunRef) -> Result<Review, AsyncError> {
        let run = self.run(r).await?;
        let t = self.tournament_of(&run).await?;
        let who = self.who(&t, r.caller.as_ref()).await?;
        who.require(Action::Review, &t, false, STAFF_ONLY)?;
        let me = who.user_id();
        let reviewable = run.status == RunStatus::Finished && !run.reattempted;
        if reviewable
            && run.reviewed_by.is_none()
            && let Some(me) = me
        {
            run::Entity::update_many()
                .col_expr(run::Column::ReviewedBy, Expr::value(me))
                .filter(run::Column::Id.eq(run.id))
                .filter(run::Column::ReviewedBy.is_null())
                .exec(&self.db)
                .await?;
        }
        let run = self.reload(run.id).await?;
        Ok(Review {
            reviewable,
            already_claimed: run.reviewed_by.is_some() && run.reviewed_by != me,
            reviewer_is_self: me == Some(run.user_id),
            run,
        })
    }

    /// Records a review (admin or mod; a finished, not reattempted run, not one's own), then
    /// recalculates that seed's par and scores.
    ///
    /// Errors: NotFound, Denied, Invalid.
    pub async fn submit_review(
        &self,
        r: &pb::SubmitReviewRequest,
    ) -> Result<run::Model, AsyncError> {
        let rr = r.run.clone().unwrap_or_default();
        let run = self.run(&rr).await?;
        let t = self.tournament_of(&run).await?;
        let who = self.who(&t, rr.caller.as_ref()).await?;
        who.require(Action::Review, &t, false, STAFF_ONLY)?;
        if run.status != RunStatus::Finished {
            return Err(AsyncError::Invalid(
                "Only finished runs can be reviewed.".into(),
            ));
        }
        if run.reattempted {
            return Err(AsyncError::Invalid(
                "Reattempted runs are not reviewed.".into(),
            ));
        }
        if who.user_id() == Some(run.user_id) {
            return Err(AsyncError::Denied("Cannot review your own run.".into()));
        }
        let status = ReviewStatus::parse(r.review_status.trim()).ok_or_else(|| {
            AsyncError::Invalid(format!(
                "`{}` is not a review status (pending, approved, rejected).",
                r.review_status
            ))
        })?;
        if r.reviewer_notes.chars().count() > 4000 {
            return Err(AsyncError::Invalid(
                "Reviewer notes are at most 4000 characters.".into(),
            ));
        }
        let txn = self.db.begin().await?;
        let mut active: run::ActiveModel = run.clone().into();
        active.review_status = Set(status);
        active.reviewer_notes =
            Set(Some(r.reviewer_notes.trim().to_owned()).filter(|n| !n.is_empty()));
        active.reviewed_by = Set(who.user_id());
        active.reviewed_at = Set(Some(Utc::now()));
        let updated = active.update(&txn).await?;
        audit(
            &txn,
            t.id,
            who.user_id(),
            AuditAction::Review,
            format!("{} reviewed: {}", run.id, status.as_str()),
        )
        .await?;
        txn.commit().await?;
        self.score_permalink(run.permalink_id, false).await?;
        self.reload(updated.id).await
    }

    /// `/async calculate_scores` (admins): every permalink's par and its runs' scores now.
    /// Returns (permalinks with a par, runs scored).
    ///
    /// Errors: NotFound, Denied.
    pub async fn recalculate_as(
        &self,
        r: &pb::RecalculateScoresRequest,
    ) -> Result<(u32, u32), AsyncError> {
        let tr = r.tournament.clone().unwrap_or_default();
        let t = self.tournament(&tr).await?;
        let who = self.who(&t, tr.caller.as_ref()).await?;
        who.require(
            Action::CalculateScores,
            &t,
            false,
            "Only this tournament's admins may recalculate scores.",
        )?;
        let counts = self.recalculate(t.id, r.only_approved).await?;
        audit(
            &self.db,
            t.id,
            who.user_id(),
            AuditAction::CalculateScores,
            format!(
                "Recalculated {} pars and {} scores{}",
                counts.0,
                counts.1,
                if r.only_approved {
                    " from approved runs"
                } else {
                    ""
                }
            ),
        )
        .await?;
        Ok(counts)
    }

    /// Every par and score of tournament `t` (spec §3.7): per permalink, par = the mean of the
    /// five fastest finished, not reattempted runs (approved only when `only_approved`); each
    /// such run scored, forfeits and disqualifications 0. Returns (pars set, runs scored).
    ///
    /// Errors: the database failed.
    pub async fn recalculate(&self, t: i64, only_approved: bool) -> Result<(u32, u32), AsyncError> {
        let pools: Vec<i64> = pool::Entity::find()
            .filter(pool::Column::TournamentId.eq(t))
            .select_only()
            .column(pool::Column::Id)
            .into_tuple()
            .all(&self.db)
            .await?;
        let links: Vec<i64> = permalink::Entity::find()
            .filter(permalink::Column::PoolId.is_in(pools))
            .select_only()
            .column(permalink::Column::Id)
            .into_tuple()
            .all(&self.db)
            .await?;
        let (mut pars, mut scored) = (0, 0);
        for link in links {
            if let Some(n) = self.score_permalink_with(link, only_approved).await? {
                pars += 1;
                scored += n;
            }
        }
        self.touched(t).await;
        Ok((pars, scored))
    }

    async fn score_permalink(&self, link: i64, only_approved: bool) -> Result<(), AsyncError> {
        self.score_permalink_with(link, only_approved)
            .await
            .map(drop)
    }

    /// One permalink's par and scores; `None` when nobody finished it (nothing changes).
    async fn score_permalink_with(
        &self,
        link: i64,
        only_approved: bool,
    ) -> Result<Option<u32>, AsyncError> {
        let mut query = run::Entity::find()
            .filter(run::Column::PermalinkId.eq(link))
            .filter(run::Column::Reattempted.eq(false))
            .filter(run::Column::Status.is_in([
                RunStatus::Finished,
                RunStatus::Forfeit,
                RunStatus::Disqualified,
            ]));
        if only_approved {
            query = query.filter(run::Column::ReviewStatus.eq(ReviewStatus::Approved));
        }
        let runs = query.all(&self.db).await?;
        let micros = |r: &run::Model| -> Option<i64> {
            let (start, end) = (r.start_time?, r.end_time?);
            (end - start).num_microseconds()
        };
        let finished: Vec<i64> = runs
            .iter()
            .filter(|r| r.status == RunStatus::Finished)
            .filter_map(micros)
            .collect();
        let Some(par) = scoring::par_seconds(&finished) else {
            return Ok(None);
        };
        let now = Utc::now();
        let txn = self.db.begin().await?;
        permalink::Entity::update_many()
            .col_expr(permalink::Column::ParTime, Expr::value(par))
            .col_expr(permalink::Column::ParUpdatedAt, Expr::value(now))
            .filter(permalink::Column::Id.eq(link))
            .exec(&txn)
            .await?;
        for r in &runs {
            let score = match (r.status, micros(r)) {
                (RunStatus::Finished, Some(us)) => {
                    scoring::qualifier_score(par, us as f64 / 1_000_000.0)
                }
                _ => 0.0,
            };
            run::Entity::update_many()
                .col_expr(run::Column::Score, Expr::value(score))
                .col_expr(run::Column::ScoreUpdatedAt, Expr::value(now))
                .filter(run::Column::Id.eq(r.id))
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        if let Some(r) = runs.first() {
            self.touched(r.tournament_id).await;
        }
        Ok(Some(runs.len() as u32))
    }

    /// The leaderboard (admins and mods while active; everyone once closed; API readers),
    /// computed at most every [`BOARD_TTL`] per tournament (concurrent requests wait for one
    /// computation).
    ///
    /// Errors: NotFound, Denied.
    pub async fn leaderboard_as(
        &self,
        r: &pb::TournamentRef,
    ) -> Result<std::sync::Arc<Board>, AsyncError> {
        let t = self.tournament(r).await?;
        let who = self.who(&t, r.caller.as_ref()).await?;
        who.require(Action::ViewResults, &t, false, "Not authorized.")?;
        let mut boards = self.boards.lock().await;
        if let Some((at, board)) = boards.get(&t.id)
            && at.elapsed() < BOARD_TTL
            && board.tournament == t
        {
            return Ok(board.clone());
        }
        let board = std::sync::Arc::new(self.leaderboard(t.clone()).await?);
        boards.insert(t.id, (std::time::Instant::now(), board.clone()));
        Ok(board)
    }

    /// Forgets tournament `t`'s cached leaderboard (a run of it changed).
    pub(crate) async fn touched(&self, t: i64) {
        self.boards.lock().await.remove(&t);
    }

    /// The leaderboard of `t` from the database (spec §3.8, with sb2's best-N slots and the
    /// explicit tie-breaks of [`scoring::leaderboard`]).
    ///
    /// Errors: the database failed.
    pub async fn leaderboard(&self, t: tournament::Model) -> Result<Board, AsyncError> {
        let pools: Vec<i64> = pool::Entity::find()
            .filter(pool::Column::TournamentId.eq(t.id))
            .order_by_asc(pool::Column::Id)
            .select_only()
            .column(pool::Column::Id)
            .into_tuple()
            .all(&self.db)
            .await?;
        type Row = (
            i64,
            i64,
            i64,
            i64,
            RunStatus,
            bool,
            Option<f64>,
            Option<chrono::DateTime<Utc>>,
            Option<chrono::DateTime<Utc>>,
            ReviewStatus,
        );
        let rows: Vec<Row> = run::Entity::find()
            .filter(run::Column::TournamentId.eq(t.id))
            .select_only()
            .columns([
                run::Column::Id,
                run::Column::PoolId,
                run::Column::PermalinkId,
                run::Column::UserId,
                run::Column::Status,
                run::Column::Reattempted,
                run::Column::Score,
                run::Column::StartTime,
                run::Column::EndTime,
                run::Column::ReviewStatus,
            ])
            .into_tuple()
            .all(&self.db)
            .await?;
        let runs: Vec<SlotRun> = rows
            .into_iter()
            .map(
                |(
                    id,
                    pool_id,
                    permalink_id,
                    user_id,
                    status,
                    reattempted,
                    score,
                    start,
                    end,
                    review,
                )| {
                    SlotRun {
                        id,
                        tournament_id: t.id,
                        pool_id,
                        permalink_id,
                        user_id,
                        status,
                        reattempted,
                        score,
                        start_time: start,
                        end_time: end,
                        review_status: review,
                    }
                },
            )
            .collect();
        let light: Vec<scoring::Run> = runs
            .iter()
            .map(|r| scoring::Run {
                id: r.id,
                user: r.user_id,
                pool: r.pool_id,
                status: r.status,
                reattempted: r.reattempted,
                score: r.score,
            })
            .collect();
        let entries = scoring::leaderboard(&pools, t.runs_per_pool.max(1) as usize, &light);
        let users: Vec<i64> = entries.iter().map(|e| e.user).collect();
        let players = self.players(&users).await?;
        let mut keep = std::collections::BTreeSet::new();
        for e in &entries {
            keep.extend(e.slots.iter().flatten().copied());
        }
        let runs = runs
            .into_iter()
            .filter(|r| keep.contains(&r.id))
            .map(|r| (r.id, r))
            .collect();
        Ok(Board {
            tournament: t,
            entries,
            runs,
            players,
        })
    }

    /// Player rows by user id.
    ///
    /// Errors: the database failed.
    pub async fn players(&self, users: &[i64]) -> Result<BTreeMap<i64, player::Model>, AsyncError> {
        let mut found = BTreeMap::new();
        for chunk in users.chunks(500) {
            let rows = player::Entity::find()
                .filter(Condition::all().add(player::Column::UserId.is_in(chunk.to_vec())))
                .all(&self.db)
                .await?;
            found.extend(rows.into_iter().map(|p| (p.user_id, p)));
        }
        Ok(found)
    }

    /// How many runs tournament `t` has (for pages' summaries).
    pub async fn run_count(&self, t: i64) -> Result<u64, AsyncError> {
        Ok(run::Entity::find()
            .filter(run::Column::TournamentId.eq(t))
            .count(&self.db)
            .await?)
    }
}
