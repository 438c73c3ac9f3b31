//! `asynctournament.v1.AsyncTournaments` over [`Asyncs`]: requests in, rows out as messages
//! (runs with their pool, seed, player, reviewer and formatted score and time).

use std::collections::BTreeMap;

use chrono::Utc;
use platform::grpc::timestamp;
use proto::asynctournament::v1 as pb;
use proto::asynctournament::v1::async_tournaments_server::AsyncTournaments;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use tonic::{Request, Response, Status};

use super::access::Action;
use super::core::{AsyncError, Asyncs};
use super::db::{audit, permalink, player, pool, run, tournament};
use super::live::Live;
use super::runs::elapsed_between;
use super::scoring::{format_hms, format_score};

/// The gRPC face of async tournaments.
#[derive(Clone, Debug)]
pub struct AsyncApi(pub Asyncs);

fn ts(at: Option<chrono::DateTime<Utc>>) -> Option<prost_types::Timestamp> {
    at.map(timestamp)
}

fn player_message(p: Option<&player::Model>, user_id: i64) -> pb::Player {
    pb::Player {
        id: user_id,
        display_name: p.map_or_else(|| format!("user {user_id}"), |p| p.display_name.clone()),
        discord_user_id: p.and_then(|p| p.discord_user_id).map_or(0, |d| d as u64),
        twitch_name: p.and_then(|p| p.twitch_name.clone()).unwrap_or_default(),
        racetime_user_id: p
            .and_then(|p| p.racetime_user_id.clone())
            .unwrap_or_default(),
    }
}

/// A run's elapsed time as shown: `HH:MM:SS`, or `N/A` before it started.
fn elapsed_text(
    status: super::db::RunStatus,
    start: Option<chrono::DateTime<Utc>>,
    end: Option<chrono::DateTime<Utc>>,
    now: chrono::DateTime<Utc>,
) -> String {
    elapsed_between(status, start, end, now).map_or_else(
        || "N/A".to_owned(),
        |d| format_hms(d.num_milliseconds() as f64 / 1000.0),
    )
}

fn permalink_message(l: &permalink::Model, pool_name: &str) -> pb::Permalink {
    pb::Permalink {
        id: l.id,
        pool_id: l.pool_id,
        url: l.url.clone(),
        notes: l.notes.clone(),
        live_race: l.live_race,
        par_time: l.par_time,
        par_updated_at: ts(l.par_updated_at),
        pool_name: pool_name.to_owned(),
    }
}

fn live_message(l: &Live) -> pb::LiveRace {
    pb::LiveRace {
        id: l.row.id,
        tournament_id: l.row.tournament_id,
        pool_name: l.pool_name.clone(),
        permalink_id: l.row.permalink_id.unwrap_or_default(),
        racetime_slug: l.row.racetime_slug.clone().unwrap_or_default(),
        episode_id: l.row.episode_id.unwrap_or_default(),
        match_title: l.row.match_title.clone().unwrap_or_default(),
        status: l.row.status.as_str().to_owned(),
    }
}

impl Asyncs {
    /// `t` as a message; its pools always, their seeds when `seeds`; what the caller may do.
    pub async fn tournament_message(
        &self,
        t: &tournament::Model,
        who: Option<&super::core::Who>,
    ) -> Result<pb::Tournament, AsyncError> {
        let may_view = who.is_some_and(|w| w.may(Action::ViewResults, t, false));
        let pools = self
            .pools(t)
            .await?
            .into_iter()
            .map(|(p, links)| pb::Pool {
                permalinks: if may_view {
                    links
                        .iter()
                        .map(|l| permalink_message(l, &p.name))
                        .collect()
                } else {
                    Vec::new()
                },
                id: p.id,
                name: p.name,
                preset: p.preset,
            })
            .collect();
        Ok(pb::Tournament {
            id: t.id,
            name: t.name.clone(),
            guild_id: t.guild_id as u64,
            channel_id: t.channel_id as u64,
            message_id: t.message_id.map_or(0, |m| m as u64),
            owner_discord_id: t.owner_discord_id as u64,
            active: t.active,
            allowed_reattempts: t.allowed_reattempts,
            runs_per_pool: t.runs_per_pool,
            customization: t.customization.as_str().to_owned(),
            created_at: Some(timestamp(t.created_at)),
            pools,
            caller_is_staff: who.is_some_and(|w| w.may(Action::Review, t, false)),
            caller_is_admin: who.is_some_and(|w| w.may(Action::CalculateScores, t, false)),
            caller_is_owner: who.is_some_and(|w| w.may(Action::Close, t, false)),
            caller_may_view_results: may_view,
        })
    }

    /// Runs as messages, their pools, seeds, players and reviewers loaded at once.
    ///
    /// Errors: the database failed.
    pub async fn describe(&self, runs: &[run::Model]) -> Result<Vec<pb::Run>, AsyncError> {
        let link_ids: Vec<i64> = runs.iter().map(|r| r.permalink_id).collect();
        let links: BTreeMap<i64, permalink::Model> = permalink::Entity::find()
            .filter(permalink::Column::Id.is_in(link_ids))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|l| (l.id, l))
            .collect();
        let pool_ids: Vec<i64> = runs.iter().map(|r| r.pool_id).collect();
        let pools: BTreeMap<i64, String> = pool::Entity::find()
            .filter(pool::Column::Id.is_in(pool_ids))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|p| (p.id, p.name))
            .collect();
        let tournament_ids: Vec<i64> = runs.iter().map(|r| r.tournament_id).collect();
        let customizations: BTreeMap<i64, &'static str> = tournament::Entity::find()
            .filter(tournament::Column::Id.is_in(tournament_ids))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|t| (t.id, t.customization.as_str()))
            .collect();
        let mut users: Vec<i64> = runs.iter().map(|r| r.user_id).collect();
        users.extend(runs.iter().filter_map(|r| r.reviewed_by));
        let players = self.players(&users).await?;
        let now = Utc::now();
        Ok(runs
            .iter()
            .map(|r| {
                let link = links.get(&r.permalink_id);
                pb::Run {
                    id: r.id,
                    tournament_id: r.tournament_id,
                    pool_id: r.pool_id,
                    pool_name: pools.get(&r.pool_id).cloned().unwrap_or_default(),
                    permalink_id: r.permalink_id,
                    permalink_url: link.map(|l| l.url.clone()).unwrap_or_default(),
                    permalink_notes: link.map(|l| l.notes.clone()).unwrap_or_default(),
                    permalink_live_race: link.is_some_and(|l| l.live_race),
                    player: Some(player_message(players.get(&r.user_id), r.user_id)),
                    thread_id: r.thread_id.map_or(0, |t| t as u64),
                    live_race_id: r.live_race_id.unwrap_or_default(),
                    status: r.status.as_str().to_owned(),
                    thread_open_time: ts(r.thread_open_time),
                    thread_timeout_time: ts(r.thread_timeout_time),
                    ready_at: ts(r.ready_at),
                    start_time: ts(r.start_time),
                    end_time: ts(r.end_time),
                    reattempted: r.reattempted,
                    reattempt_reason: r.reattempt_reason.clone().unwrap_or_default(),
                    runner_notes: r.runner_notes.clone().unwrap_or_default(),
                    runner_vod_url: r.runner_vod_url.clone().unwrap_or_default(),
                    run_collection_rate: r.run_collection_rate.clone().unwrap_or_default(),
                    run_igt: r.run_igt.clone().unwrap_or_default(),
                    review_status: r.review_status.as_str().to_owned(),
                    reviewed_by: r.reviewed_by.unwrap_or_default(),
                    reviewed_by_name: r
                        .reviewed_by
                        .map(|u| player_message(players.get(&u), u).display_name)
                        .unwrap_or_default(),
                    reviewed_at: ts(r.reviewed_at),
                    reviewer_notes: r.reviewer_notes.clone().unwrap_or_default(),
                    score: r.score,
                    score_formatted: format_score(r.score, r.status),
                    elapsed_time: elapsed_text(r.status, r.start_time, r.end_time, now),
                    created_at: Some(timestamp(r.created_at)),
                    customization: customizations
                        .get(&r.tournament_id)
                        .copied()
                        .unwrap_or("default")
                        .to_owned(),
                }
            })
            .collect())
    }

    async fn one(&self, run: run::Model) -> Result<pb::Run, AsyncError> {
        Ok(self.describe(&[run]).await?.remove(0))
    }
}

type Reply<T> = Result<Response<T>, Status>;

fn ok<T>(value: T) -> Reply<T> {
    Ok(Response::new(value))
}

#[tonic::async_trait]
impl AsyncTournaments for AsyncApi {
    async fn create_tournament(
        &self,
        request: Request<pb::CreateTournamentRequest>,
    ) -> Reply<pb::Tournament> {
        let r = request.into_inner();
        let t = self.0.create(&r).await?;
        ok(self.0.tournament_message(&t, None).await?)
    }

    async fn add_seeds(&self, request: Request<pb::AddSeedsRequest>) -> Reply<pb::Tournament> {
        let t = self.0.add_seeds(&request.into_inner()).await?;
        ok(self.0.tournament_message(&t, None).await?)
    }

    async fn set_message(&self, request: Request<pb::SetMessageRequest>) -> Reply<pb::Tournament> {
        let r = request.into_inner();
        let t = self.0.set_message(r.tournament_id, r.message_id).await?;
        ok(self.0.tournament_message(&t, None).await?)
    }

    async fn get_tournament(
        &self,
        request: Request<pb::GetTournamentRequest>,
    ) -> Reply<pb::Tournament> {
        let r = request.into_inner().tournament.unwrap_or_default();
        let t = self.0.tournament(&r).await?;
        let who = self.0.who(&t, r.caller.as_ref()).await?;
        ok(self.0.tournament_message(&t, Some(&who)).await?)
    }

    async fn list_tournaments(
        &self,
        request: Request<pb::ListTournamentsRequest>,
    ) -> Reply<pb::ListTournamentsReply> {
        let r = request.into_inner();
        let mut tournaments = Vec::new();
        for t in self.0.list(r.active).await? {
            let who = self.0.who(&t, r.caller.as_ref()).await?;
            tournaments.push(self.0.tournament_message(&t, Some(&who)).await?);
        }
        ok(pb::ListTournamentsReply { tournaments })
    }

    async fn close_tournament(&self, request: Request<pb::TournamentRef>) -> Reply<pb::Tournament> {
        let t = self.0.close(&request.into_inner()).await?;
        ok(self.0.tournament_message(&t, None).await?)
    }

    async fn grant(&self, request: Request<pb::GrantRequest>) -> Reply<pb::GrantReply> {
        let granted = self.0.grant(&request.into_inner()).await?;
        ok(pb::GrantReply {
            granted: granted as i32,
        })
    }

    async fn set_whitelisted(
        &self,
        request: Request<pb::SetWhitelistedRequest>,
    ) -> Reply<pb::Tournament> {
        let t = self.0.set_whitelisted(&request.into_inner()).await?;
        ok(self.0.tournament_message(&t, None).await?)
    }

    async fn eligibility(
        &self,
        request: Request<pb::EligibilityRequest>,
    ) -> Reply<pb::EligibilityReply> {
        let r = request.into_inner().tournament.unwrap_or_default();
        let (t, pools) = self.0.eligibility(&r).await?;
        ok(pb::EligibilityReply {
            tournament: Some(self.0.tournament_message(&t, None).await?),
            pools: pools.into_iter().map(|p| p.name).collect(),
        })
    }

    async fn start_run(&self, request: Request<pb::StartRunRequest>) -> Reply<pb::Run> {
        let run = self.0.start_run(&request.into_inner()).await?;
        ok(self.0.one(run).await?)
    }

    async fn attach_thread(&self, request: Request<pb::AttachThreadRequest>) -> Reply<pb::Run> {
        let run = self.0.attach_thread(&request.into_inner()).await?;
        ok(self.0.one(run).await?)
    }

    async fn get_run(&self, request: Request<pb::RunRef>) -> Reply<pb::Run> {
        let run = self.0.run(&request.into_inner()).await?;
        ok(self.0.one(run).await?)
    }

    async fn mark_ready(&self, request: Request<pb::RunRef>) -> Reply<pb::Run> {
        let run = self.0.mark_ready(&request.into_inner()).await?;
        ok(self.0.one(run).await?)
    }

    async fn mark_started(&self, request: Request<pb::RunRef>) -> Reply<pb::Run> {
        let run = self.0.mark_started(&request.into_inner()).await?;
        ok(self.0.one(run).await?)
    }

    async fn finish(&self, request: Request<pb::RunRef>) -> Reply<pb::Run> {
        let run = self.0.finish(&request.into_inner()).await?;
        ok(self.0.one(run).await?)
    }

    async fn forfeit(&self, request: Request<pb::RunRef>) -> Reply<pb::Run> {
        let run = self.0.forfeit(&request.into_inner()).await?;
        ok(self.0.one(run).await?)
    }

    async fn submit_run_info(&self, request: Request<pb::SubmitRunInfoRequest>) -> Reply<pb::Run> {
        let run = self.0.submit_run_info(&request.into_inner()).await?;
        ok(self.0.one(run).await?)
    }

    async fn extend_timeout(&self, request: Request<pb::ExtendTimeoutRequest>) -> Reply<pb::Run> {
        let run = self.0.extend_timeout(&request.into_inner()).await?;
        ok(self.0.one(run).await?)
    }

    async fn update_run(&self, request: Request<pb::UpdateRunRequest>) -> Reply<pb::Run> {
        let (run, _) = self.0.update_run(&request.into_inner()).await?;
        ok(self.0.one(run).await?)
    }

    async fn reattempt(&self, request: Request<pb::ReattemptRequest>) -> Reply<pb::Run> {
        let run = self.0.reattempt(&request.into_inner()).await?;
        ok(self.0.one(run).await?)
    }

    async fn list_runs(&self, request: Request<pb::ListRunsRequest>) -> Reply<pb::ListRunsReply> {
        let (page, who) = self.0.list_runs(&request.into_inner()).await?;
        ok(pb::ListRunsReply {
            runs: self.0.describe(&page.runs).await?,
            page: page.page as i32,
            page_size: page.page_size as i32,
            tournament: Some(
                self.0
                    .tournament_message(&page.tournament, Some(&who))
                    .await?,
            ),
            reattempts_used: page.reattempts_used as i32,
        })
    }

    async fn get_for_review(&self, request: Request<pb::RunRef>) -> Reply<pb::ReviewReply> {
        let review = self.0.get_for_review(&request.into_inner()).await?;
        ok(pb::ReviewReply {
            run: Some(self.0.one(review.run).await?),
            reviewable: review.reviewable,
            already_claimed: review.already_claimed,
            reviewer_is_self: review.reviewer_is_self,
        })
    }

    async fn submit_review(&self, request: Request<pb::SubmitReviewRequest>) -> Reply<pb::Run> {
        let run = self.0.submit_review(&request.into_inner()).await?;
        ok(self.0.one(run).await?)
    }

    async fn leaderboard(
        &self,
        request: Request<pb::LeaderboardRequest>,
    ) -> Reply<pb::LeaderboardReply> {
        let r = request.into_inner();
        let board = self
            .0
            .leaderboard_as(&r.tournament.unwrap_or_default())
            .await?;
        let offset = usize::try_from(r.offset).unwrap_or(0);
        let limit = match usize::try_from(r.limit) {
            Ok(0) | Err(_) => board.entries.len(),
            Ok(n) => n,
        };
        let page = board.entries.iter().skip(offset).take(limit);
        // Slots carry what the leaderboard shows, not every column of the run (a thousand
        // players' slots stay a small reply).
        let now = Utc::now();
        let slot = |run: &super::results::SlotRun| pb::Run {
            id: run.id,
            tournament_id: run.tournament_id,
            pool_id: run.pool_id,
            permalink_id: run.permalink_id,
            status: run.status.as_str().to_owned(),
            start_time: ts(run.start_time),
            end_time: ts(run.end_time),
            score: run.score,
            score_formatted: format_score(run.score, run.status),
            elapsed_time: elapsed_text(run.status, run.start_time, run.end_time, now),
            review_status: run.review_status.as_str().to_owned(),
            reattempted: run.reattempted,
            ..Default::default()
        };
        let entries = page
            .map(|e| pb::LeaderboardEntry {
                player: Some(player_message(board.players.get(&e.user), e.user)),
                score: e.score,
                estimate: e.estimate,
                rank: e.rank as i32,
                races: e
                    .slots
                    .iter()
                    .map(|s| {
                        s.and_then(|id| board.runs.get(&id))
                            .map(&slot)
                            .unwrap_or_default()
                    })
                    .collect(),
                finished: e.finished as i32,
                forfeited: e.forfeited as i32,
                unplayed: e.unplayed as i32,
            })
            .collect();
        ok(pb::LeaderboardReply {
            tournament: Some(self.0.tournament_message(&board.tournament, None).await?),
            entries,
            total: board.entries.len() as i32,
        })
    }

    async fn recalculate_scores(
        &self,
        request: Request<pb::RecalculateScoresRequest>,
    ) -> Reply<pb::RecalculateScoresReply> {
        let (permalinks, runs) = self.0.recalculate_as(&request.into_inner()).await?;
        ok(pb::RecalculateScoresReply {
            permalinks: permalinks as i32,
            runs: runs as i32,
        })
    }

    async fn audit_log(&self, request: Request<pb::TournamentRef>) -> Reply<pb::AuditLogReply> {
        let r = request.into_inner();
        let t = self.0.tournament(&r).await.map_err(Status::from)?;
        let who = self.0.who(&t, r.caller.as_ref()).await?;
        who.require(Action::Review, &t, false, super::core::STAFF_ONLY)?;
        let rows = audit::Entity::find()
            .filter(audit::Column::TournamentId.eq(t.id))
            .order_by_desc(audit::Column::Id)
            .limit(500)
            .all(self.0.db())
            .await
            .map_err(AsyncError::from)?;
        ok(pb::AuditLogReply {
            entries: rows
                .into_iter()
                .map(|a| pb::AuditEntry {
                    id: a.id,
                    action: a.action.as_str().to_owned(),
                    details: a.details,
                    user_id: a.user_id.unwrap_or_default(),
                    created_at: Some(timestamp(a.created_at)),
                })
                .collect(),
        })
    }

    async fn create_live_race(
        &self,
        request: Request<pb::CreateLiveRaceRequest>,
    ) -> Reply<pb::LiveRace> {
        let live = self.0.create_live_race(&request.into_inner()).await?;
        ok(live_message(&live))
    }

    async fn list_live_races(
        &self,
        request: Request<pb::TournamentRef>,
    ) -> Reply<pb::ListLiveRacesReply> {
        let live = self.0.list_live_races(&request.into_inner()).await?;
        ok(pb::ListLiveRacesReply {
            live_races: live.iter().map(live_message).collect(),
        })
    }

    async fn roll_live_race(
        &self,
        request: Request<pb::RollLiveRaceRequest>,
    ) -> Reply<pb::RollLiveRaceReply> {
        let (live, link, eligible) = self.0.roll_live_race(&request.into_inner()).await?;
        ok(pb::RollLiveRaceReply {
            permalink: Some(permalink_message(&link, &live.pool_name)),
            live_race: Some(live_message(&live)),
            eligible,
        })
    }

    async fn record_live_race(
        &self,
        request: Request<pb::RecordLiveRaceRequest>,
    ) -> Reply<pb::RecordLiveRaceReply> {
        let (live, warnings) = self.0.record_live_race(&request.into_inner()).await?;
        ok(pb::RecordLiveRaceReply {
            live_race: Some(live_message(&live)),
            warnings,
        })
    }
}
