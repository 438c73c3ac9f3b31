//! Async tournaments on the website (spec `discord-and-web.md` §3.3 W26–W36, §3.4): the
//! leaderboard, a player's dashboard and reattempt form, the pools, a permalink's and a
//! player's runs, and the review queue and review page, as HTML pages at upstream's SPA paths
//! (`/async/leaderboard/{id}`, `/async/races/{id}`, …) and as upstream's session JSON
//! (`/async/races/{id}/leaderboard.json`, …). Forms carry the session's CSRF token; the JSON
//! POSTs take `application/json` only (a cross-site form cannot send it). The tournament
//! service decides who sees what: results are for admins and mods while the tournament runs
//! and public once it is closed; a player sees their own runs.

use std::collections::HashMap;

use askama::Template;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use proto::asynctournament::v1 as pb;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Chrome, Viewer, WebError, render};
use crate::error::ApiError;
use crate::http::AppState;
use crate::rest::asyncs::{client, leaderboard_body, permalink_body, race_body};

/// The viewer as the tournament service's caller (anonymous when logged out).
fn caller(viewer: &Viewer) -> pb::Caller {
    match &viewer.user {
        Some(user) => pb::Caller {
            user_id: user.id,
            discord_user_id: user.discord_user_id.map_or(0, platform::db::u64_from_db),
            name: user.display_name.clone().unwrap_or_default(),
            ..Default::default()
        },
        None => pb::Caller::default(),
    }
}

fn tref(viewer: &Viewer, id: i64) -> pb::TournamentRef {
    pb::TournamentRef {
        tournament_id: id,
        caller: Some(caller(viewer)),
        ..Default::default()
    }
}

fn run_ref(viewer: &Viewer, tournament: i64, run: i64) -> pb::RunRef {
    pb::RunRef {
        run_id: run,
        tournament_id: tournament,
        caller: Some(caller(viewer)),
        ..Default::default()
    }
}

fn failed(status: tonic::Status) -> ApiError {
    ApiError::from_status(&status)
}

/// The viewer must be logged in (JSON: 401).
fn logged_in(viewer: &Viewer) -> Result<(), ApiError> {
    viewer
        .user
        .as_ref()
        .map(drop)
        .ok_or_else(|| ApiError::unauthenticated("Authentication required."))
}

async fn tournament(
    state: &AppState,
    viewer: &Viewer,
    id: i64,
) -> Result<pb::Tournament, ApiError> {
    Ok(client(state)?
        .get_tournament(pb::GetTournamentRequest {
            tournament: Some(tref(viewer, id)),
        })
        .await
        .map_err(failed)?
        .into_inner())
}

/// The tournament, if the viewer may see its results (else 403 "Not authorized.").
async fn visible(state: &AppState, viewer: &Viewer, id: i64) -> Result<pb::Tournament, ApiError> {
    let t = tournament(state, viewer, id).await?;
    if t.caller_may_view_results {
        Ok(t)
    } else {
        Err(ApiError::forbidden("Not authorized."))
    }
}

/// Leaderboard entries per page on the website.
const BOARD_PAGE: i32 = 100;

/// The leaderboard; `page` (1-based) of [`BOARD_PAGE`] entries, or all with `None`.
async fn board(
    state: &AppState,
    viewer: &Viewer,
    id: i64,
    page: Option<i32>,
) -> Result<pb::LeaderboardReply, ApiError> {
    let (offset, limit) = match page {
        Some(p) => ((p.clamp(1, 100_000) - 1) * BOARD_PAGE, BOARD_PAGE),
        None => (0, 0),
    };
    Ok(client(state)?
        .leaderboard(pb::LeaderboardRequest {
            tournament: Some(tref(viewer, id)),
            offset,
            limit,
        })
        .await
        .map_err(failed)?
        .into_inner())
}

async fn runs(
    state: &AppState,
    request: pb::ListRunsRequest,
) -> Result<pb::ListRunsReply, ApiError> {
    Ok(client(state)?
        .list_runs(request)
        .await
        .map_err(failed)?
        .into_inner())
}

fn score_text(score: f64) -> String {
    format!("{score:.3}")
}

/// One leaderboard line for the page.
struct Line {
    rank: i32,
    player_id: i64,
    name: String,
    score: String,
    estimate: String,
    slots: Vec<String>,
    counts: String,
}

#[derive(Template)]
#[template(path = "async_leaderboard.html")]
struct LeaderboardPage {
    chrome: Chrome,
    id: i64,
    name: String,
    active: bool,
    columns: Vec<String>,
    lines: Vec<Line>,
    page: i32,
    more: bool,
    total: i32,
}

/// `?page=` of the leaderboard page.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PageQuery {
    page: Option<i32>,
}

/// `GET /async/leaderboard/{id}?page=N`: 100 players a page.
pub async fn leaderboard_page(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(q): Query<PageQuery>,
) -> Result<Response, WebError> {
    let page = q.page.unwrap_or(1).clamp(1, 100_000);
    let reply = board(&state, &viewer, id, Some(page)).await?;
    let t = reply.tournament.clone().unwrap_or_default();
    let mut columns = Vec::new();
    for pool in &t.pools {
        for n in 0..t.runs_per_pool.max(1) {
            columns.push(if t.runs_per_pool > 1 {
                format!("{} #{}", pool.name, n + 1)
            } else {
                pool.name.clone()
            });
        }
    }
    let lines = reply
        .entries
        .iter()
        .map(|e| {
            let p = e.player.clone().unwrap_or_default();
            Line {
                rank: e.rank,
                player_id: p.id,
                name: p.display_name,
                score: score_text(e.score),
                estimate: score_text(e.estimate),
                slots: e
                    .races
                    .iter()
                    .map(|r| {
                        if r.id == 0 {
                            "—".to_owned()
                        } else {
                            format!("{} ({})", r.score_formatted, r.elapsed_time)
                        }
                    })
                    .collect(),
                counts: format!("{} / {} / {}", e.finished, e.forfeited, e.unplayed),
            }
        })
        .collect();
    Ok(render(&LeaderboardPage {
        chrome: viewer.chrome(&format!("{} leaderboard", t.name)).await,
        id,
        name: t.name,
        active: t.active,
        columns,
        lines,
        page,
        more: page * BOARD_PAGE < reply.total,
        total: reply.total,
    }))
}

/// A run as the pages list it.
struct Row {
    id: i64,
    player_id: i64,
    player: String,
    pool: String,
    permalink_id: i64,
    status: String,
    review_status: String,
    elapsed: String,
    score: String,
    reviewer: String,
    vod: String,
    reattempted: bool,
    reattempt_reason: String,
    may_reattempt: bool,
}

fn row(r: &pb::Run, may_reattempt: bool) -> Row {
    let closed = matches!(r.status.as_str(), "finished" | "forfeit" | "disqualified");
    Row {
        id: r.id,
        player_id: r.player.as_ref().map_or(0, |p| p.id),
        player: r
            .player
            .as_ref()
            .map(|p| p.display_name.clone())
            .unwrap_or_default(),
        pool: r.pool_name.clone(),
        permalink_id: r.permalink_id,
        status: r.status.clone(),
        review_status: r.review_status.clone(),
        elapsed: r.elapsed_time.clone(),
        score: r.score_formatted.clone(),
        reviewer: r.reviewed_by_name.clone(),
        vod: r.runner_vod_url.clone(),
        reattempted: r.reattempted,
        reattempt_reason: r.reattempt_reason.clone(),
        may_reattempt: may_reattempt && closed && !r.reattempted,
    }
}

#[derive(Template)]
#[template(path = "async_runs.html")]
struct RunsPage {
    chrome: Chrome,
    id: i64,
    heading: String,
    intro: String,
    rows: Vec<Row>,
    dashboard: bool,
    staff: bool,
}

async fn dashboard_data(
    state: &AppState,
    viewer: &Viewer,
    id: i64,
) -> Result<pb::ListRunsReply, ApiError> {
    logged_in(viewer)?;
    runs(
        state,
        pb::ListRunsRequest {
            tournament: Some(tref(viewer, id)),
            own: true,
            order: "newest".into(),
            page_size: 100,
            ..Default::default()
        },
    )
    .await
}

/// `GET /async/races/{id}`: the viewer's own runs, with their reattempt links.
pub async fn dashboard_page(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    viewer.require_user()?;
    let reply = dashboard_data(&state, &viewer, id).await?;
    let t = reply.tournament.clone().unwrap_or_default();
    let left = (t.allowed_reattempts - reply.reattempts_used).max(0);
    let rows = reply
        .runs
        .iter()
        .map(|r| row(r, left > 0 && t.active))
        .collect();
    Ok(render(&RunsPage {
        chrome: viewer.chrome(&format!("{}: your runs", t.name)).await,
        id,
        heading: format!("{}: your runs", t.name),
        intro: format!(
            "Reattempts left: {left} of {}.{}",
            t.allowed_reattempts,
            if t.active {
                ""
            } else {
                " This tournament is closed."
            }
        ),
        rows,
        dashboard: true,
        staff: t.caller_is_staff,
    }))
}

/// `?race_id=`.
#[derive(Debug, Deserialize)]
pub struct RaceQuery {
    race_id: Option<i64>,
}

#[derive(Template)]
#[template(path = "async_reattempt.html")]
struct ReattemptPage {
    chrome: Chrome,
    id: i64,
    run: Row,
    name: String,
}

async fn own_run(
    state: &AppState,
    viewer: &Viewer,
    id: i64,
    run: i64,
) -> Result<(pb::Run, pb::ListRunsReply), ApiError> {
    let reply = dashboard_data(state, viewer, id).await?;
    let found = reply
        .runs
        .iter()
        .find(|r| r.id == run)
        .cloned()
        .ok_or_else(|| ApiError::forbidden("Race not found or you are not the player."))?;
    Ok((found, reply))
}

/// `GET /async/races/{id}/reattempt?race_id=`: the reattempt form.
pub async fn reattempt_page(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(q): Query<RaceQuery>,
) -> Result<Response, WebError> {
    viewer.require_user()?;
    let race = q
        .race_id
        .ok_or_else(|| ApiError::bad_request("race_id is required."))?;
    let (run, reply) = own_run(&state, &viewer, id, race).await?;
    let t = reply.tournament.unwrap_or_default();
    Ok(render(&ReattemptPage {
        chrome: viewer.form_chrome("Reattempt a run").await,
        id,
        run: row(&run, true),
        name: t.name,
    }))
}

/// `POST /async/races/{id}/reattempt`: `csrf`, `race_id`, `reason`.
pub async fn reattempt(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    axum::Form(form): axum::Form<HashMap<String, String>>,
) -> Result<Response, WebError> {
    viewer.require_user()?;
    viewer
        .check_csrf(form.get("csrf").map_or("", String::as_str))
        .await?;
    let race: i64 = form
        .get("race_id")
        .and_then(|r| r.parse().ok())
        .ok_or_else(|| ApiError::bad_request("race_id is required."))?;
    let reason = form.get("reason").cloned().unwrap_or_default();
    match do_reattempt(&state, &viewer, id, race, reason).await {
        Ok(()) => {
            viewer
                .flash(
                    "Your run is marked as a reattempt; play the pool again from Discord.",
                    false,
                )
                .await;
            Ok(Redirect::to(&format!("/async/races/{id}")).into_response())
        }
        Err(error)
            if error.status == StatusCode::BAD_REQUEST || error.status == StatusCode::CONFLICT =>
        {
            viewer.flash(error.message, true).await;
            Ok(
                Redirect::to(&format!("/async/races/{id}/reattempt?race_id={race}"))
                    .into_response(),
            )
        }
        Err(error) => Err(error.into()),
    }
}

async fn do_reattempt(
    state: &AppState,
    viewer: &Viewer,
    id: i64,
    race: i64,
    reason: String,
) -> Result<(), ApiError> {
    logged_in(viewer)?;
    client(state)?
        .reattempt(pb::ReattemptRequest {
            run: Some(run_ref(viewer, id, race)),
            reason,
        })
        .await
        .map_err(failed)?;
    Ok(())
}

/// The review queue's filters (upstream's defaults: finished, pending, thread runs).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct QueueQuery {
    page: Option<i32>,
    status: Option<String>,
    reviewed: Option<String>,
    review_status: Option<String>,
    live: Option<String>,
}

impl QueueQuery {
    fn request(&self, viewer: &Viewer, id: i64) -> pb::ListRunsRequest {
        pb::ListRunsRequest {
            tournament: Some(tref(viewer, id)),
            status: self.status.clone().unwrap_or_else(|| "finished".into()),
            reviewed: self.reviewed.clone().unwrap_or_else(|| "all".into()),
            review_status: self
                .review_status
                .clone()
                .unwrap_or_else(|| "pending".into()),
            live: self.live.clone().unwrap_or_else(|| "false".into()),
            page: self.page.unwrap_or(1).clamp(1, 100_000),
            page_size: 20,
            review_queue: true,
            ..Default::default()
        }
    }
}

#[derive(Template)]
#[template(path = "async_queue.html")]
struct QueuePage {
    chrome: Chrome,
    id: i64,
    name: String,
    rows: Vec<Row>,
    review_status: String,
    reviewed: String,
    page: i32,
    more: bool,
}

/// `GET /async/races/{id}/queue`: the review queue (admins and mods).
pub async fn queue_page(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(q): Query<QueueQuery>,
) -> Result<Response, WebError> {
    viewer.require_user()?;
    let request = q.request(&viewer, id);
    let (review_status, reviewed) = (request.review_status.clone(), request.reviewed.clone());
    let reply = runs(&state, request).await?;
    let t = reply.tournament.clone().unwrap_or_default();
    Ok(render(&QueuePage {
        chrome: viewer.chrome(&format!("{}: review queue", t.name)).await,
        id,
        name: t.name,
        more: reply.runs.len() as i32 == reply.page_size,
        rows: reply.runs.iter().map(|r| row(r, false)).collect(),
        review_status,
        reviewed,
        page: reply.page,
    }))
}

#[derive(Template)]
#[template(path = "async_review.html")]
struct ReviewPage {
    chrome: Chrome,
    id: i64,
    run: pb::Run,
    player: String,
    reviewable: bool,
    already_claimed: bool,
    reviewer_is_self: bool,
    statuses: [&'static str; 3],
}

async fn open_review(
    state: &AppState,
    viewer: &Viewer,
    id: i64,
    race: i64,
) -> Result<pb::ReviewReply, ApiError> {
    logged_in(viewer)?;
    Ok(client(state)?
        .get_for_review(run_ref(viewer, id, race))
        .await
        .map_err(failed)?
        .into_inner())
}

/// `GET /async/races/{id}/review/{race}`: a run to review, claimed for the viewer.
pub async fn review_page(
    viewer: Viewer,
    State(state): State<AppState>,
    Path((id, race)): Path<(i64, i64)>,
) -> Result<Response, WebError> {
    viewer.require_user()?;
    let review = open_review(&state, &viewer, id, race).await?;
    let run = review.run.unwrap_or_default();
    Ok(render(&ReviewPage {
        chrome: viewer.form_chrome(&format!("Review run {}", run.id)).await,
        id,
        player: run
            .player
            .as_ref()
            .map(|p| p.display_name.clone())
            .unwrap_or_default(),
        run,
        reviewable: review.reviewable,
        already_claimed: review.already_claimed,
        reviewer_is_self: review.reviewer_is_self,
        statuses: ["pending", "approved", "rejected"],
    }))
}

async fn do_review(
    state: &AppState,
    viewer: &Viewer,
    id: i64,
    race: i64,
    status: String,
    notes: String,
) -> Result<(), ApiError> {
    logged_in(viewer)?;
    client(state)?
        .submit_review(pb::SubmitReviewRequest {
            run: Some(run_ref(viewer, id, race)),
            review_status: status,
            reviewer_notes: notes,
        })
        .await
        .map_err(failed)?;
    Ok(())
}

/// `POST /async/races/{id}/review/{race}`: `csrf`, `review_status`, `reviewer_notes`.
pub async fn review(
    viewer: Viewer,
    State(state): State<AppState>,
    Path((id, race)): Path<(i64, i64)>,
    axum::Form(form): axum::Form<HashMap<String, String>>,
) -> Result<Response, WebError> {
    viewer.require_user()?;
    viewer
        .check_csrf(form.get("csrf").map_or("", String::as_str))
        .await?;
    let field = |n: &str| form.get(n).cloned().unwrap_or_default();
    match do_review(
        &state,
        &viewer,
        id,
        race,
        field("review_status"),
        field("reviewer_notes"),
    )
    .await
    {
        Ok(()) => {
            viewer.flash(format!("Run {race} reviewed."), false).await;
            Ok(Redirect::to(&format!("/async/races/{id}/queue")).into_response())
        }
        Err(error) if error.status == StatusCode::BAD_REQUEST => {
            viewer.flash(error.message, true).await;
            Ok(Redirect::to(&format!("/async/races/{id}/review/{race}")).into_response())
        }
        Err(error) => Err(error.into()),
    }
}

#[derive(Template)]
#[template(path = "async_pools.html")]
struct PoolsPage {
    chrome: Chrome,
    id: i64,
    t: pb::Tournament,
}

/// `GET /async/pools/{id}`: pools and their seeds with par.
pub async fn pools_page(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    let t = visible(&state, &viewer, id).await?;
    Ok(render(&PoolsPage {
        chrome: viewer.chrome(&format!("{}: pools", t.name)).await,
        id,
        t,
    }))
}

/// A permalink's closed, counted runs, best first.
async fn permalink_runs(
    state: &AppState,
    viewer: &Viewer,
    id: i64,
    link: i64,
) -> Result<pb::ListRunsReply, ApiError> {
    let mut reply = runs(
        state,
        pb::ListRunsRequest {
            tournament: Some(tref(viewer, id)),
            permalink_id: link,
            exclude_reattempted: true,
            order: "score".into(),
            page_size: 100,
            ..Default::default()
        },
    )
    .await?;
    reply
        .runs
        .retain(|r| matches!(r.status.as_str(), "finished" | "forfeit" | "disqualified"));
    Ok(reply)
}

/// `GET /async/permalink/{id}/{permalink}`.
pub async fn permalink_page(
    viewer: Viewer,
    State(state): State<AppState>,
    Path((id, link)): Path<(i64, i64)>,
) -> Result<Response, WebError> {
    let reply = permalink_runs(&state, &viewer, id, link).await?;
    let t = reply.tournament.clone().unwrap_or_default();
    let seed = reply.runs.first();
    Ok(render(&RunsPage {
        chrome: viewer.chrome(&format!("{}: seed {link}", t.name)).await,
        id,
        heading: format!("{}: seed {link}", t.name),
        intro: seed.map_or_else(
            || "No finished runs on this seed yet.".to_owned(),
            |r| format!("{} — {}", r.permalink_url, r.permalink_notes),
        ),
        rows: reply.runs.iter().map(|r| row(r, false)).collect(),
        dashboard: false,
        staff: t.caller_is_staff,
    }))
}

async fn player_runs(
    state: &AppState,
    viewer: &Viewer,
    id: i64,
    user: i64,
) -> Result<pb::ListRunsReply, ApiError> {
    runs(
        state,
        pb::ListRunsRequest {
            tournament: Some(tref(viewer, id)),
            user_id: user,
            page_size: 100,
            ..Default::default()
        },
    )
    .await
}

/// `GET /async/player/{id}/{user}`.
pub async fn player_page(
    viewer: Viewer,
    State(state): State<AppState>,
    Path((id, user)): Path<(i64, i64)>,
) -> Result<Response, WebError> {
    let reply = player_runs(&state, &viewer, id, user).await?;
    let t = reply.tournament.clone().unwrap_or_default();
    let name = reply
        .runs
        .first()
        .and_then(|r| r.player.as_ref())
        .map_or_else(|| format!("player {user}"), |p| p.display_name.clone());
    Ok(render(&RunsPage {
        chrome: viewer.chrome(&format!("{}: {name}", t.name)).await,
        id,
        heading: format!("{}: {name}", t.name),
        intro: String::new(),
        rows: reply.runs.iter().map(|r| row(r, false)).collect(),
        dashboard: false,
        staff: t.caller_is_staff,
    }))
}

// Upstream's session JSON (W26–W36).

fn brief(t: &pb::Tournament) -> Value {
    json!({"id": t.id, "name": t.name, "active": t.active, "runs_per_pool": t.runs_per_pool})
}

fn run_json(r: &pb::Run, private: bool) -> Value {
    let mut v = json!({
        "id": r.id, "status": r.status, "review_status": r.review_status,
        "start_time": race_body(r).start_time, "end_time": race_body(r).end_time,
        "elapsed_time": r.elapsed_time, "reattempted": r.reattempted,
        "score": r.score, "score_formatted": r.score_formatted,
        "pool_name": r.pool_name, "permalink_url": r.permalink_url,
        "permalink_notes": r.permalink_notes, "permalink_live_race": r.permalink_live_race,
    });
    v["created"] = json!(platform::grpc::datetime(r.created_at.as_ref()).map(|t| t.to_rfc3339()));
    if private {
        v["reattempt_reason"] = json!(r.reattempt_reason);
        v["runner_notes"] = json!(r.runner_notes);
        v["runner_vod_url"] = json!(r.runner_vod_url);
        v["reviewer_notes"] = json!(r.reviewer_notes);
    }
    v
}

/// W26 `GET /async/races/{id}/info`.
pub async fn info_json(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(brief(&visible(&state, &viewer, id).await?)))
}

/// W27 `GET /async/races/{id}/leaderboard.json`.
pub async fn leaderboard_json(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<Vec<crate::rest::asyncs::EntryBody>>, ApiError> {
    let reply = board(&state, &viewer, id, None).await?;
    Ok(Json(leaderboard_body(&reply)))
}

/// W28 `GET /async/races/{id}/dashboard.json`.
pub async fn dashboard_json(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let reply = dashboard_data(&state, &viewer, id).await?;
    let t = reply.tournament.clone().unwrap_or_default();
    let user = viewer.user.as_ref().map_or(0, |u| u.id);
    Ok(Json(json!({
        "tournament": {"id": t.id, "name": t.name, "active": t.active,
            "allowed_reattempts": t.allowed_reattempts, "runs_per_pool": t.runs_per_pool},
        "player": {"id": user, "display_name": viewer.user.as_ref().and_then(|u| u.display_name.clone())},
        "races": reply.runs.iter().map(|r| run_json(r, true)).collect::<Vec<_>>(),
        "reattempted": reply.reattempts_used > 0,
        "reattempts_used": reply.reattempts_used,
    })))
}

/// W29 `GET /async/races/{id}/reattempt.json?race_id=`.
pub async fn reattempt_json(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(q): Query<RaceQuery>,
) -> Result<Json<Value>, ApiError> {
    let race = q
        .race_id
        .ok_or_else(|| ApiError::bad_request("race_id is required."))?;
    let (run, reply) = own_run(&state, &viewer, id, race).await?;
    let t = reply.tournament.unwrap_or_default();
    Ok(Json(json!({
        "tournament": {"id": t.id, "name": t.name, "active": t.active},
        "race": {"id": run.id, "status": run.status, "elapsed_time": run.elapsed_time,
                 "pool_name": run.pool_name, "permalink_url": run.permalink_url},
    })))
}

/// W30's body.
#[derive(Debug, Deserialize)]
pub struct ReattemptBody {
    race_id: i64,
    #[serde(default)]
    reason: String,
}

/// W30 `POST /async/races/{id}/reattempt.json`.
pub async fn reattempt_post_json(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Json(body): Json<ReattemptBody>,
) -> Result<Json<Value>, ApiError> {
    do_reattempt(&state, &viewer, id, body.race_id, body.reason).await?;
    Ok(Json(json!({"success": true})))
}

/// W31 `GET /async/races/{id}/queue.json`.
pub async fn queue_json(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(q): Query<QueueQuery>,
) -> Result<Json<Value>, ApiError> {
    logged_in(&viewer)?;
    let request = q.request(&viewer, id);
    let filters = json!({"status": request.status, "reviewed": request.reviewed,
        "review_status": request.review_status, "live": request.live});
    let reply = runs(&state, request).await?;
    let t = reply.tournament.clone().unwrap_or_default();
    Ok(Json(json!({
        "tournament": brief(&t),
        "races": reply.runs.iter().map(|r| json!({
            "id": r.id, "status": r.status, "review_status": r.review_status,
            "elapsed_time": r.elapsed_time, "score_formatted": r.score_formatted,
            "created": platform::grpc::datetime(r.created_at.as_ref()).map(|t| t.to_rfc3339()),
            "pool_name": r.pool_name, "permalink_url": r.permalink_url,
            "user_id": r.player.as_ref().map(|p| p.id),
            "user_display_name": r.player.as_ref().map(|p| p.display_name.clone()),
            "reviewed_by_name": r.reviewed_by_name, "runner_vod_url": r.runner_vod_url,
        })).collect::<Vec<_>>(),
        "page": reply.page, "page_size": reply.page_size, "filters": filters,
    })))
}

/// W32 `GET /async/races/{id}/review/{race}/data.json` (claims the run).
pub async fn review_json(
    viewer: Viewer,
    State(state): State<AppState>,
    Path((id, race)): Path<(i64, i64)>,
) -> Result<Json<Value>, ApiError> {
    let review = open_review(&state, &viewer, id, race).await?;
    let r = review.run.unwrap_or_default();
    let mut body = run_json(&r, true);
    body["run_collection_rate"] = json!(r.run_collection_rate);
    body["run_igt"] = json!(r.run_igt);
    body["reviewed_by_name"] = json!(r.reviewed_by_name);
    body["reviewed_at"] =
        json!(platform::grpc::datetime(r.reviewed_at.as_ref()).map(|t| t.to_rfc3339()));
    body["user_id"] = json!(r.player.as_ref().map(|p| p.id));
    body["user_display_name"] = json!(r.player.as_ref().map(|p| p.display_name.clone()));
    Ok(Json(json!({
        "tournament": {"id": id, "name": ""},
        "race": body,
        "reviewable": review.reviewable,
        "already_claimed": review.already_claimed,
        "reviewer_is_self": review.reviewer_is_self,
    })))
}

/// W33's body.
#[derive(Debug, Deserialize)]
pub struct ReviewBody {
    #[serde(default)]
    review_status: Option<String>,
    #[serde(default)]
    reviewer_notes: String,
}

/// W33 `POST /async/races/{id}/review/{race}/submit.json`.
pub async fn review_post_json(
    viewer: Viewer,
    State(state): State<AppState>,
    Path((id, race)): Path<(i64, i64)>,
    Json(body): Json<ReviewBody>,
) -> Result<Json<Value>, ApiError> {
    let status = body.review_status.unwrap_or_else(|| "pending".into());
    do_review(&state, &viewer, id, race, status, body.reviewer_notes).await?;
    Ok(Json(json!({"success": true})))
}

/// W34 `GET /async/pools/{id}/data.json`.
pub async fn pools_json(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let t = visible(&state, &viewer, id).await?;
    Ok(Json(json!({
        "tournament": brief(&t),
        "pools": t.pools.iter().map(|p| json!({
            "id": p.id, "name": p.name, "preset": p.preset,
            "permalinks": p.permalinks.iter().map(|l| json!({
                "id": l.id, "url": l.url, "notes": l.notes, "live_race": l.live_race,
                "par_time": l.par_time.map(hms),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })))
}

fn hms(seconds: f64) -> String {
    let s = seconds.max(0.0).trunc() as u64;
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// W35 `GET /async/permalink/{id}/{permalink}/data.json`.
pub async fn permalink_json(
    viewer: Viewer,
    State(state): State<AppState>,
    Path((id, link)): Path<(i64, i64)>,
) -> Result<Json<Value>, ApiError> {
    let reply = permalink_runs(&state, &viewer, id, link).await?;
    let t = reply.tournament.clone().unwrap_or_default();
    let known = t
        .pools
        .iter()
        .flat_map(|p| p.permalinks.iter())
        .find(|l| l.id == link)
        .map(|l| json!(permalink_body(l)));
    let permalink = known.unwrap_or_else(|| {
        let first = reply.runs.first();
        json!({"id": link, "url": first.map(|r| r.permalink_url.clone()),
               "notes": first.map(|r| r.permalink_notes.clone()),
               "live_race": first.is_some_and(|r| r.permalink_live_race),
               "pool_name": first.map(|r| r.pool_name.clone())})
    });
    Ok(Json(json!({
        "tournament": brief(&t),
        "permalink": permalink,
        "races": reply.runs.iter().map(|r| json!({
            "id": r.id, "status": r.status, "elapsed_time": r.elapsed_time,
            "score_formatted": r.score_formatted, "review_status": r.review_status,
        })).collect::<Vec<_>>(),
    })))
}

/// W36 `GET /async/player/{id}/{user}/data.json`.
pub async fn player_json(
    viewer: Viewer,
    State(state): State<AppState>,
    Path((id, user)): Path<(i64, i64)>,
) -> Result<Json<Value>, ApiError> {
    let reply = player_runs(&state, &viewer, id, user).await?;
    let t = reply.tournament.clone().unwrap_or_default();
    let name = reply
        .runs
        .first()
        .and_then(|r| r.player.as_ref())
        .map(|p| p.display_name.clone());
    Ok(Json(json!({
        "tournament": brief(&t),
        "player": {"id": user, "display_name": name},
        "races": reply.runs.iter().map(|r| run_json(r, false)).collect::<Vec<_>>(),
    })))
}
