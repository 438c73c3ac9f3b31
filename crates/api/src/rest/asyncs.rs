//! Async tournaments over REST for programs (spec `discord-and-web.md` §3.1 A1–A6): API keys
//! with the `asynctournament:read` scope read every tournament, its runs, pools, permalinks
//! and leaderboard, under `/api/v1/async/tournaments…`; upstream's `/async/api/tournaments…`
//! paths answer the same (and, as upstream did, an unknown tournament there is a 200 with
//! `{"error": …}`). The tournament service owns the data and checks the scope again.
//!
//! The JSON shapes here are also the website's (`crate::web::asyncs`).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use proto::asynctournament::v1 as pb;
use proto::asynctournament::v1::async_tournaments_client::AsyncTournamentsClient;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use crate::auth::ApiKey;
use crate::error::ApiError;
use crate::http::AppState;

/// The scope that reads async tournaments.
pub const READ: &str = "asynctournament:read";

/// A client of the tournament service's async tournaments.
///
/// Errors: the tournament service is not configured.
pub fn client(
    state: &AppState,
) -> Result<AsyncTournamentsClient<platform::grpc::TracedChannel>, ApiError> {
    let peer = state
        .peers
        .get("tournament")
        .map_err(|s| ApiError::from_status(&s))?;
    Ok(AsyncTournamentsClient::new(peer.channel()))
}

fn stamp(t: Option<&prost_types::Timestamp>) -> Option<String> {
    platform::grpc::datetime(t).map(|t| t.to_rfc3339())
}

fn nonzero<T: PartialEq + Default>(v: T) -> Option<T> {
    (v != T::default()).then_some(v)
}

/// An async tournament (A1, A2).
#[derive(Debug, Serialize, ToSchema)]
pub struct TournamentBody {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Discord guild.
    pub guild_id: String,
    /// Discord channel of its post.
    pub channel_id: String,
    /// Unused (upstream kept it).
    pub report_channel_id: Option<String>,
    /// The owner's Discord id.
    pub owner_id: String,
    /// Created (RFC 3339).
    pub created: Option<String>,
    /// Same as created (upstream's column).
    pub updated: Option<String>,
    /// Open for runs.
    pub active: bool,
    /// Reattempts each player may use.
    pub allowed_reattempts: i32,
    /// Runs per pool per player.
    pub runs_per_pool: i32,
    /// `default` | `gmpmt2023`.
    pub customization: String,
}

/// `t` as upstream's tournament JSON.
pub fn tournament_body(t: &pb::Tournament) -> TournamentBody {
    let created = stamp(t.created_at.as_ref());
    TournamentBody {
        id: t.id,
        name: t.name.clone(),
        guild_id: t.guild_id.to_string(),
        channel_id: t.channel_id.to_string(),
        report_channel_id: None,
        owner_id: t.owner_discord_id.to_string(),
        updated: created.clone(),
        created,
        active: t.active,
        allowed_reattempts: t.allowed_reattempts,
        runs_per_pool: t.runs_per_pool,
        customization: t.customization.clone(),
    }
}

/// A run (A3).
#[derive(Debug, Serialize, ToSchema)]
pub struct RaceBody {
    /// Id.
    pub id: i64,
    /// Its Discord thread.
    pub thread_id: Option<String>,
    /// Started.
    pub start_time: Option<String>,
    /// Ended.
    pub end_time: Option<String>,
    /// The seed.
    pub permalink_id: i64,
    /// The player's user id.
    pub user_id: i64,
    /// Thread opened.
    pub thread_open_time: Option<String>,
    /// Forfeited if not started by.
    pub thread_timeout_time: Option<String>,
    /// `pending` | `in_progress` | `finished` | `forfeit` | `disqualified`.
    pub status: String,
    /// `pending` | `approved` | `rejected`.
    pub review_status: String,
    /// The reviewer's notes.
    pub reviewer_notes: Option<String>,
    /// The runner's notes.
    pub runner_notes: Option<String>,
    /// The VOD.
    pub runner_vod_url: Option<String>,
    /// Replaced by a reattempt.
    pub reattempted: bool,
    /// Why.
    pub reattempt_reason: Option<String>,
    /// Reviewed.
    pub reviewed_at: Option<String>,
    /// The reviewer's user id.
    pub reviewed_by_id: Option<i64>,
    /// The live race.
    pub live_race_id: Option<i64>,
    /// Score.
    pub score: Option<f64>,
    /// Collection rate (`gmpmt2023`).
    pub run_collection_rate: Option<String>,
    /// IGT (`gmpmt2023`).
    pub run_igt: Option<String>,
    /// `HH:MM:SS` or `N/A`.
    pub elapsed_time: String,
}

/// `r` as upstream's run JSON.
pub fn race_body(r: &pb::Run) -> RaceBody {
    let text = |s: &String| nonzero(s.clone());
    RaceBody {
        id: r.id,
        thread_id: nonzero(r.thread_id).map(|t| t.to_string()),
        start_time: stamp(r.start_time.as_ref()),
        end_time: stamp(r.end_time.as_ref()),
        permalink_id: r.permalink_id,
        user_id: r.player.as_ref().map_or(0, |p| p.id),
        thread_open_time: stamp(r.thread_open_time.as_ref()),
        thread_timeout_time: stamp(r.thread_timeout_time.as_ref()),
        status: r.status.clone(),
        review_status: r.review_status.clone(),
        reviewer_notes: text(&r.reviewer_notes),
        runner_notes: text(&r.runner_notes),
        runner_vod_url: text(&r.runner_vod_url),
        reattempted: r.reattempted,
        reattempt_reason: text(&r.reattempt_reason),
        reviewed_at: stamp(r.reviewed_at.as_ref()),
        reviewed_by_id: nonzero(r.reviewed_by),
        live_race_id: nonzero(r.live_race_id),
        score: r.score,
        run_collection_rate: text(&r.run_collection_rate),
        run_igt: text(&r.run_igt),
        elapsed_time: r.elapsed_time.clone(),
    }
}

/// A pool (A4).
#[derive(Debug, Serialize, ToSchema)]
pub struct PoolBody {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Its preset.
    pub preset: String,
}

/// A permalink (A5).
#[derive(Debug, Serialize, ToSchema)]
pub struct PermalinkBody {
    /// Id.
    pub id: i64,
    /// The seed.
    pub url: String,
    /// File-select code.
    pub notes: String,
    /// Raced live.
    pub live_race: bool,
    /// Par in seconds.
    pub par_time: Option<f64>,
    /// When par was calculated.
    pub par_updated_at: Option<String>,
    /// Its pool.
    pub pool_id: i64,
}

/// `l` as upstream's permalink JSON.
pub fn permalink_body(l: &pb::Permalink) -> PermalinkBody {
    PermalinkBody {
        id: l.id,
        url: l.url.clone(),
        notes: l.notes.clone(),
        live_race: l.live_race,
        par_time: l.par_time,
        par_updated_at: stamp(l.par_updated_at.as_ref()),
        pool_id: l.pool_id,
    }
}

/// A leaderboard player.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlayerBody {
    /// User id.
    pub id: i64,
    /// Display name.
    pub display_name: String,
    /// Discord id.
    pub discord_user_id: Option<String>,
    /// Twitch.
    pub twitch_name: Option<String>,
    /// racetime.gg id.
    pub rtgg_id: Option<String>,
}

/// A slot's run on the leaderboard.
#[derive(Debug, Serialize, ToSchema)]
pub struct SlotBody {
    /// Run id.
    pub id: i64,
    /// Started.
    pub start_time: Option<String>,
    /// Ended.
    pub end_time: Option<String>,
    /// Score.
    pub score: Option<f64>,
    /// The seed.
    pub permalink_id: i64,
    /// `HH:MM:SS` or `N/A`.
    pub elapsed_time: String,
    /// Status.
    pub status: String,
}

/// Slot counts.
#[derive(Debug, Serialize, ToSchema)]
pub struct CountsBody {
    /// Finished slots.
    pub finished: i32,
    /// Forfeited or disqualified slots.
    pub forfeited: i32,
    /// Empty slots.
    pub unplayed: i32,
}

/// One leaderboard line (A6, W27).
#[derive(Debug, Serialize, ToSchema)]
pub struct EntryBody {
    /// The player.
    pub player: PlayerBody,
    /// Mean over every slot.
    pub score: f64,
    /// Mean over the scored finished slots.
    pub estimate: f64,
    /// 1 for the best.
    pub rank: i32,
    /// pools × runs_per_pool slots; `null` when unplayed.
    pub races: Vec<Option<SlotBody>>,
    /// Slot counts.
    pub counts: CountsBody,
}

/// The leaderboard as upstream's JSON.
pub fn leaderboard_body(board: &pb::LeaderboardReply) -> Vec<EntryBody> {
    board
        .entries
        .iter()
        .map(|e| {
            let p = e.player.clone().unwrap_or_default();
            EntryBody {
                player: PlayerBody {
                    id: p.id,
                    display_name: p.display_name,
                    discord_user_id: nonzero(p.discord_user_id).map(|d| d.to_string()),
                    twitch_name: nonzero(p.twitch_name),
                    rtgg_id: nonzero(p.racetime_user_id),
                },
                score: e.score,
                estimate: e.estimate,
                rank: e.rank,
                races: e
                    .races
                    .iter()
                    .map(|r| {
                        (r.id != 0).then(|| SlotBody {
                            id: r.id,
                            start_time: stamp(r.start_time.as_ref()),
                            end_time: stamp(r.end_time.as_ref()),
                            score: r.score,
                            permalink_id: r.permalink_id,
                            elapsed_time: r.elapsed_time.clone(),
                            status: r.status.clone(),
                        })
                    })
                    .collect(),
                counts: CountsBody {
                    finished: e.finished,
                    forfeited: e.forfeited,
                    unplayed: e.unplayed,
                },
            }
        })
        .collect()
}

/// The tournament service's caller for a key.
fn reader(key: &ApiKey) -> Result<pb::Caller, ApiError> {
    key.require(READ)?;
    Ok(pb::Caller {
        scopes: key.scopes().map(str::to_owned).collect(),
        ..Default::default()
    })
}

fn by_id(id: i64, caller: pb::Caller) -> pb::TournamentRef {
    pb::TournamentRef {
        tournament_id: id,
        caller: Some(caller),
        ..Default::default()
    }
}

/// `?active=`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ActiveFilter {
    /// `true` or `false`; anything else (or nothing): all.
    pub active: Option<String>,
}

async fn list_tournaments(
    state: &AppState,
    key: &ApiKey,
    filter: &ActiveFilter,
) -> Result<Vec<TournamentBody>, ApiError> {
    let active = match filter.active.as_deref() {
        Some("true") => Some(true),
        Some("false") => Some(false),
        _ => None,
    };
    let reply = client(state)?
        .list_tournaments(pb::ListTournamentsRequest {
            caller: Some(reader(key)?),
            active,
        })
        .await
        .map_err(|s| ApiError::from_status(&s))?
        .into_inner();
    Ok(reply.tournaments.iter().map(tournament_body).collect())
}

/// Every async tournament (A1).
#[utoipa::path(get, path = "/api/v1/async/tournaments", tag = "async",
    params(ActiveFilter), security(("api_key" = [])),
    responses((status = 200, body = [TournamentBody]), (status = 401), (status = 403)))]
pub async fn list(
    State(state): State<AppState>,
    key: ApiKey,
    Query(filter): Query<ActiveFilter>,
) -> Result<Json<Vec<TournamentBody>>, ApiError> {
    Ok(Json(list_tournaments(&state, &key, &filter).await?))
}

/// A1 at upstream's path.
#[utoipa::path(get, path = "/async/api/tournaments", tag = "upstream",
    params(ActiveFilter), security(("api_key" = [])),
    responses((status = 200, body = [TournamentBody]), (status = 401), (status = 403)))]
pub async fn upstream_list(
    State(state): State<AppState>,
    key: ApiKey,
    Query(filter): Query<ActiveFilter>,
) -> Result<Json<Vec<TournamentBody>>, ApiError> {
    Ok(Json(list_tournaments(&state, &key, &filter).await?))
}

async fn get_tournament(
    state: &AppState,
    key: &ApiKey,
    id: i64,
) -> Result<pb::Tournament, ApiError> {
    Ok(client(state)?
        .get_tournament(pb::GetTournamentRequest {
            tournament: Some(by_id(id, reader(key)?)),
        })
        .await
        .map_err(|s| ApiError::from_status(&s))?
        .into_inner())
}

/// An async tournament (A2).
#[utoipa::path(get, path = "/api/v1/async/tournaments/{id}", tag = "async",
    params(("id" = i64, Path, description = "Tournament id")), security(("api_key" = [])),
    responses((status = 200, body = TournamentBody), (status = 404)))]
pub async fn get(
    State(state): State<AppState>,
    key: ApiKey,
    Path(id): Path<i64>,
) -> Result<Json<TournamentBody>, ApiError> {
    Ok(Json(tournament_body(
        &get_tournament(&state, &key, id).await?,
    )))
}

/// Upstream's answer for an unknown tournament: 200 with an error.
fn upstream_missing(error: ApiError) -> Result<Response, ApiError> {
    if error.status == axum::http::StatusCode::NOT_FOUND {
        Ok(Json(json!({"error": "Tournament not found."})).into_response())
    } else {
        Err(error)
    }
}

/// A2 at upstream's path.
#[utoipa::path(get, path = "/async/api/tournaments/{id}", tag = "upstream",
    params(("id" = i64, Path, description = "Tournament id")), security(("api_key" = [])),
    responses((status = 200, body = TournamentBody)))]
pub async fn upstream_get(
    State(state): State<AppState>,
    key: ApiKey,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    match get_tournament(&state, &key, id).await {
        Ok(t) => Ok(Json(tournament_body(&t)).into_response()),
        Err(error) => upstream_missing(error),
    }
}

/// A3's filters and page.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
pub struct RaceFilter {
    /// A run id.
    pub id: Option<i64>,
    /// A player's user id.
    pub user_id: Option<i64>,
    /// A permalink.
    pub permalink_id: Option<i64>,
    /// A pool.
    pub pool_id: Option<i64>,
    /// A status.
    pub status: Option<String>,
    /// 1..100000 (default 1).
    pub page: Option<i64>,
    /// 1..100 (default 20).
    pub page_size: Option<i64>,
}

async fn races_of(
    state: &AppState,
    key: &ApiKey,
    id: i64,
    f: &RaceFilter,
) -> Result<Vec<RaceBody>, ApiError> {
    let page = f.page.unwrap_or(1);
    if !(1..=100_000).contains(&page) {
        return Err(ApiError::bad_request("page must be between 1 and 100000."));
    }
    let page_size = f.page_size.unwrap_or(20);
    if !(1..=100).contains(&page_size) {
        return Err(ApiError::bad_request(
            "page_size must be between 1 and 100.",
        ));
    }
    let reply = client(state)?
        .list_runs(pb::ListRunsRequest {
            tournament: Some(by_id(id, reader(key)?)),
            run_id: f.id.unwrap_or_default(),
            user_id: f.user_id.unwrap_or_default(),
            permalink_id: f.permalink_id.unwrap_or_default(),
            pool_id: f.pool_id.unwrap_or_default(),
            status: f.status.clone().unwrap_or_default(),
            page: page as i32,
            page_size: page_size as i32,
            ..Default::default()
        })
        .await
        .map_err(|s| ApiError::from_status(&s))?
        .into_inner();
    Ok(reply.runs.iter().map(race_body).collect())
}

/// A tournament's runs, filtered and paged (A3).
#[utoipa::path(get, path = "/api/v1/async/tournaments/{id}/races", tag = "async",
    params(("id" = i64, Path, description = "Tournament id"), RaceFilter), security(("api_key" = [])),
    responses((status = 200, body = [RaceBody]), (status = 400), (status = 404)))]
pub async fn races(
    State(state): State<AppState>,
    key: ApiKey,
    Path(id): Path<i64>,
    Query(filter): Query<RaceFilter>,
) -> Result<Json<Vec<RaceBody>>, ApiError> {
    Ok(Json(races_of(&state, &key, id, &filter).await?))
}

/// A3 at upstream's path.
#[utoipa::path(get, path = "/async/api/tournaments/{id}/races", tag = "upstream",
    params(("id" = i64, Path, description = "Tournament id"), RaceFilter), security(("api_key" = [])),
    responses((status = 200, body = [RaceBody]), (status = 400)))]
pub async fn upstream_races(
    State(state): State<AppState>,
    key: ApiKey,
    Path(id): Path<i64>,
    Query(filter): Query<RaceFilter>,
) -> Result<Response, ApiError> {
    match races_of(&state, &key, id, &filter).await {
        Ok(r) => Ok(Json(r).into_response()),
        Err(error) => upstream_missing(error),
    }
}

/// `?id=` and `?pool_id=`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
pub struct PoolFilter {
    /// One pool or permalink.
    pub id: Option<i64>,
    /// The permalinks of one pool.
    pub pool_id: Option<i64>,
}

/// A tournament's pools (A4).
#[utoipa::path(get, path = "/api/v1/async/tournaments/{id}/pools", tag = "async",
    params(("id" = i64, Path, description = "Tournament id"), PoolFilter), security(("api_key" = [])),
    responses((status = 200, body = [PoolBody]), (status = 404)))]
pub async fn pools(
    State(state): State<AppState>,
    key: ApiKey,
    Path(id): Path<i64>,
    Query(filter): Query<PoolFilter>,
) -> Result<Json<Vec<PoolBody>>, ApiError> {
    let t = get_tournament(&state, &key, id).await?;
    Ok(Json(
        t.pools
            .iter()
            .filter(|p| filter.id.is_none_or(|id| id == p.id))
            .map(|p| PoolBody {
                id: p.id,
                name: p.name.clone(),
                preset: p.preset.clone(),
            })
            .collect(),
    ))
}

/// A4 at upstream's path.
#[utoipa::path(get, path = "/async/api/tournaments/{id}/pools", tag = "upstream",
    params(("id" = i64, Path, description = "Tournament id"), PoolFilter), security(("api_key" = [])),
    responses((status = 200, body = [PoolBody])))]
pub async fn upstream_pools(
    state: State<AppState>,
    key: ApiKey,
    id: Path<i64>,
    filter: Query<PoolFilter>,
) -> Result<Response, ApiError> {
    match pools(state, key, id, filter).await {
        Ok(body) => Ok(body.into_response()),
        Err(error) => upstream_missing(error),
    }
}

/// A tournament's permalinks (A5).
#[utoipa::path(get, path = "/api/v1/async/tournaments/{id}/permalinks", tag = "async",
    params(("id" = i64, Path, description = "Tournament id"), PoolFilter), security(("api_key" = [])),
    responses((status = 200, body = [PermalinkBody]), (status = 404)))]
pub async fn permalinks(
    State(state): State<AppState>,
    key: ApiKey,
    Path(id): Path<i64>,
    Query(filter): Query<PoolFilter>,
) -> Result<Json<Vec<PermalinkBody>>, ApiError> {
    let t = get_tournament(&state, &key, id).await?;
    Ok(Json(
        t.pools
            .iter()
            .filter(|p| filter.pool_id.is_none_or(|id| id == p.id))
            .flat_map(|p| p.permalinks.iter())
            .filter(|l| filter.id.is_none_or(|id| id == l.id))
            .map(permalink_body)
            .collect(),
    ))
}

/// A5 at upstream's path.
#[utoipa::path(get, path = "/async/api/tournaments/{id}/permalinks", tag = "upstream",
    params(("id" = i64, Path, description = "Tournament id"), PoolFilter), security(("api_key" = [])),
    responses((status = 200, body = [PermalinkBody])))]
pub async fn upstream_permalinks(
    state: State<AppState>,
    key: ApiKey,
    id: Path<i64>,
    filter: Query<PoolFilter>,
) -> Result<Response, ApiError> {
    match permalinks(state, key, id, filter).await {
        Ok(body) => Ok(body.into_response()),
        Err(error) => upstream_missing(error),
    }
}

/// A tournament's leaderboard (A6).
#[utoipa::path(get, path = "/api/v1/async/tournaments/{id}/leaderboard", tag = "async",
    params(("id" = i64, Path, description = "Tournament id")), security(("api_key" = [])),
    responses((status = 200, body = [EntryBody]), (status = 404)))]
pub async fn leaderboard(
    State(state): State<AppState>,
    key: ApiKey,
    Path(id): Path<i64>,
) -> Result<Json<Vec<EntryBody>>, ApiError> {
    let board = client(&state)?
        .leaderboard(pb::LeaderboardRequest {
            tournament: Some(by_id(id, reader(&key)?)),
            ..Default::default()
        })
        .await
        .map_err(|s| ApiError::from_status(&s))?
        .into_inner();
    Ok(Json(leaderboard_body(&board)))
}

/// A6 at upstream's path.
#[utoipa::path(get, path = "/async/api/tournaments/{id}/leaderboard", tag = "upstream",
    params(("id" = i64, Path, description = "Tournament id")), security(("api_key" = [])),
    responses((status = 200, body = [EntryBody])))]
pub async fn upstream_leaderboard(
    state: State<AppState>,
    key: ApiKey,
    id: Path<i64>,
) -> Result<Response, ApiError> {
    match leaderboard(state, key, id).await {
        Ok(body) => Ok(body.into_response()),
        Err(error) => upstream_missing(error),
    }
}
