//! Tournaments over REST, for organizers and tools: the registry, matches, manual room opening
//! (sahabot2's `POST/GET /api/matches/{id}/racetime-room`) and results as JSON or CSV. The
//! tournament service decides who may change what: an API key with `admin` acts as the
//! operator; a logged-in user, or a key with `tournaments:write` that belongs to a user, acts
//! as that user (an organizer of the tournament, or refused with 403).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use proto::tournament::v1 as pb;
use proto::tournament::v1::tournament_admin_client::TournamentAdminClient;
use proto::tournament::v1::tournaments_client::TournamentsClient;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::http::AppState;

/// The scope that lets a user's key manage the tournaments the user organizes.
pub const TOURNAMENTS_WRITE: &str = "tournaments:write";

fn status(s: &tonic::Status) -> ApiError {
    ApiError::from_status(s)
}

/// Who acts, for the tournament service.
fn actor(caller: &Caller) -> Result<pb::Actor, ApiError> {
    if let Caller::Key(key, _) = caller
        && key.scopes().any(|s| s == crate::rest::admin::ADMIN)
    {
        return Ok(pb::Actor {
            operator: true,
            user_id: 0,
        });
    }
    caller.require(TOURNAMENTS_WRITE)?;
    let user = caller.user().ok_or_else(|| {
        ApiError::forbidden("this key belongs to no user; organizers act as themselves")
    })?;
    Ok(pb::Actor {
        operator: false,
        user_id: u64::try_from(user.id).unwrap_or_default(),
    })
}

macro_rules! call {
    ($state:expr, $client:ident, $method:ident, $request:expr) => {{
        let peer = $state
            .peers
            .get("tournament")
            .map_err(|s| ApiError::from_status(&s))?;
        let request = $request;
        peer.call(|| {
            let mut client = $client::new(peer.channel());
            let request = request.clone();
            async move { client.$method(request).await }
        })
        .await
        .map_err(|s| status(&s))?
        .into_inner()
    }};
}

fn stamp(t: Option<DateTime<Utc>>) -> Option<prost_types::Timestamp> {
    t.map(platform::grpc::timestamp)
}

fn snowflake(raw: Option<&String>, field: &str) -> Result<u64, ApiError> {
    match raw.map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => Ok(0),
        Some(s) => s
            .parse()
            .map_err(|_| ApiError::bad_request(format!("`{field}` must be a Discord id (digits)"))),
    }
}

/// A tournament's configuration (Discord ids as strings).
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct TournamentBody {
    /// Slug (from the path when writing).
    pub slug: String,
    /// Name.
    pub name: String,
    /// Whether its jobs run.
    pub active: bool,
    /// Active from.
    pub starts_at: Option<DateTime<Utc>>,
    /// Active until.
    pub ends_at: Option<DateTime<Utc>>,
    /// `speedgaming` or `internal`.
    pub schedule_source: String,
    /// SpeedGaming event slug (default: the slug).
    pub speedgaming_event: String,
    /// racetime.gg category.
    pub racetime_category: String,
    /// racetime.gg goal.
    pub racetime_goal: String,
    /// Room profile: `invitational`, `unlisted`, `start_delay_seconds`, `time_limit_hours`,
    /// `streaming_required`, `auto_start`, `allow_comments`, `hide_comments`,
    /// `allow_prerace_chat`, `allow_midrace_chat`, `allow_non_entrant_chat`,
    /// `chat_message_delay_seconds`, `team_race`.
    #[schema(value_type = Object)]
    pub room_profile: Value,
    /// Minutes before the race the room opens (default 60).
    pub room_open_minutes_before: u32,
    /// Stream delay in minutes.
    pub stream_delay_minutes: u32,
    /// Players need a linked racetime.gg account.
    pub require_racetime_link: bool,
    /// Seed roller: `{"kind": "none"}`, `{"kind": "preset", "randomizer", "preset"}`,
    /// `{"kind": "title_map", "randomizer", "map", "default"}`.
    #[schema(value_type = Object)]
    pub seed_roller: Value,
    /// Discord guild.
    pub guild_id: Option<String>,
    /// Audit channel.
    pub audit_channel_id: Option<String>,
    /// Commentary channel.
    pub commentary_channel_id: Option<String>,
    /// Announcement channel.
    pub announce_channel_id: Option<String>,
    /// Helper roles.
    pub helper_role_ids: Vec<String>,
    /// racetime.gg teams whose members are helpers (e.g. `sg-volunteers`).
    pub helper_racetime_teams: Vec<String>,
    /// An open race series (dailies, qualifiers), or null for matches between players:
    /// `series`, `seed_label`, `seed_minutes_before`, `announce_prefix`, `webhook_url`,
    /// `team_race_title`.
    #[schema(value_type = Object)]
    pub open_race: Value,
    /// IANA zone.
    pub time_zone: String,
    /// Mention in front of player-check reports (e.g. `<@&123>`); empty: none.
    #[serde(default)]
    pub audit_mention: String,
    /// Keep a Discord scheduled event per upcoming match.
    #[serde(default)]
    pub scheduled_events: bool,
    /// Channel of the scheduling-needs embed.
    #[serde(default)]
    pub scheduling_needs_channel_id: Option<String>,
    /// List tracker needs too.
    #[serde(default)]
    pub scheduling_needs_tracker: bool,
    /// Crew language counted (default `en`).
    #[serde(default)]
    pub scheduling_needs_language: String,
    /// The settings form players submit (`fields` with `key`, `label`, `required` and
    /// `choices` of `value`, `label`, optional `randomizer` / `preset`; `required`;
    /// `reminder_hours`), or null.
    #[schema(value_type = Object)]
    #[serde(default)]
    pub settings_form: Value,
}

fn id_string(v: u64) -> Option<String> {
    (v != 0).then(|| v.to_string())
}

impl From<pb::TournamentConfig> for TournamentBody {
    fn from(c: pb::TournamentConfig) -> Self {
        Self {
            starts_at: platform::grpc::datetime(c.starts_at.as_ref()),
            ends_at: platform::grpc::datetime(c.ends_at.as_ref()),
            room_profile: serde_json::from_str(&c.room_profile_json).unwrap_or(Value::Null),
            seed_roller: serde_json::from_str(&c.seed_roller_json).unwrap_or(Value::Null),
            guild_id: id_string(c.guild_id),
            audit_channel_id: id_string(c.audit_channel_id),
            commentary_channel_id: id_string(c.commentary_channel_id),
            announce_channel_id: id_string(c.announce_channel_id),
            helper_role_ids: c.helper_role_ids.iter().map(u64::to_string).collect(),
            slug: c.slug,
            name: c.name,
            active: c.active,
            schedule_source: c.schedule_source,
            speedgaming_event: c.speedgaming_event,
            racetime_category: c.racetime_category,
            racetime_goal: c.racetime_goal,
            room_open_minutes_before: c.room_open_minutes_before,
            stream_delay_minutes: c.stream_delay_minutes,
            require_racetime_link: c.require_racetime_link,
            time_zone: c.time_zone,
            helper_racetime_teams: c.helper_racetime_teams,
            open_race: serde_json::from_str(&c.open_race_json).unwrap_or(Value::Null),
            audit_mention: c.audit_mention,
            scheduled_events: c.scheduled_events,
            scheduling_needs_channel_id: id_string(c.scheduling_needs_channel_id),
            scheduling_needs_tracker: c.scheduling_needs_tracker,
            scheduling_needs_language: c.scheduling_needs_language,
            settings_form: serde_json::from_str(&c.settings_form_json).unwrap_or(Value::Null),
        }
    }
}

impl TournamentBody {
    fn into_config(self, slug: &str) -> Result<pb::TournamentConfig, ApiError> {
        let json = |v: &Value| {
            if v.is_null() {
                String::new()
            } else {
                v.to_string()
            }
        };
        let helpers = self
            .helper_role_ids
            .iter()
            .map(|h| snowflake(Some(h), "helper_role_ids"))
            .collect::<Result<Vec<u64>, _>>()?;
        Ok(pb::TournamentConfig {
            slug: slug.to_owned(),
            name: self.name,
            active: self.active,
            starts_at: stamp(self.starts_at),
            ends_at: stamp(self.ends_at),
            schedule_source: self.schedule_source,
            speedgaming_event: self.speedgaming_event,
            racetime_category: self.racetime_category,
            racetime_goal: self.racetime_goal,
            room_profile_json: json(&self.room_profile),
            room_open_minutes_before: self.room_open_minutes_before,
            stream_delay_minutes: self.stream_delay_minutes,
            require_racetime_link: self.require_racetime_link,
            seed_roller_json: json(&self.seed_roller),
            guild_id: snowflake(self.guild_id.as_ref(), "guild_id")?,
            audit_channel_id: snowflake(self.audit_channel_id.as_ref(), "audit_channel_id")?,
            commentary_channel_id: snowflake(
                self.commentary_channel_id.as_ref(),
                "commentary_channel_id",
            )?,
            announce_channel_id: snowflake(
                self.announce_channel_id.as_ref(),
                "announce_channel_id",
            )?,
            helper_role_ids: helpers,
            time_zone: self.time_zone,
            helper_racetime_teams: self.helper_racetime_teams,
            open_race_json: json(&self.open_race),
            scheduling_needs_channel_id: snowflake(
                self.scheduling_needs_channel_id.as_ref(),
                "scheduling_needs_channel_id",
            )?,
            audit_mention: self.audit_mention,
            scheduled_events: self.scheduled_events,
            scheduling_needs_tracker: self.scheduling_needs_tracker,
            scheduling_needs_language: self.scheduling_needs_language,
            settings_form_json: json(&self.settings_form),
        })
    }
}

/// Every tournament.
#[utoipa::path(get, path = "/api/v1/tournaments", tag = "tournaments",
    responses((status = 200, body = [TournamentBody])))]
pub async fn list(State(state): State<AppState>) -> Result<Json<Vec<TournamentBody>>, ApiError> {
    let reply = call!(
        state,
        TournamentAdminClient,
        list_tournament_configs,
        pb::ListTournamentsRequest { active_only: false }
    );
    Ok(Json(
        reply
            .tournaments
            .into_iter()
            .map(TournamentBody::from)
            .collect(),
    ))
}

/// One tournament's configuration.
#[utoipa::path(get, path = "/api/v1/tournaments/{slug}", tag = "tournaments",
    params(("slug" = String, Path)), responses((status = 200, body = TournamentBody), (status = 404)))]
pub async fn get(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Json<TournamentBody>, ApiError> {
    let reply = call!(
        state,
        TournamentAdminClient,
        get_tournament_config,
        pb::GetTournamentRequest { slug }
    );
    Ok(Json(reply.into()))
}

/// Creates (operators) or changes (operators and organizers) a tournament.
#[utoipa::path(put, path = "/api/v1/tournaments/{slug}", tag = "tournaments",
    params(("slug" = String, Path)), request_body = TournamentBody,
    responses((status = 200, body = TournamentBody), (status = 400), (status = 401), (status = 403)),
    security(("api_key" = ["admin"]), ("api_key" = ["tournaments:write"]), ("session" = [])))]
pub async fn put(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
    Json(body): Json<TournamentBody>,
) -> Result<Json<TournamentBody>, ApiError> {
    let request = pb::UpsertTournamentRequest {
        actor: Some(actor(&caller)?),
        config: Some(body.into_config(&slug)?),
    };
    let reply = call!(state, TournamentAdminClient, upsert_tournament, request);
    Ok(Json(reply.into()))
}

/// A role grant.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Grant {
    /// `organizer` or `helper`.
    pub role: String,
    /// An api user id.
    #[serde(default)]
    pub user_id: Option<u64>,
    /// A Discord role id.
    #[serde(default)]
    pub discord_role_id: Option<String>,
}

/// Grants a role in a tournament.
#[utoipa::path(post, path = "/api/v1/tournaments/{slug}/roles", tag = "tournaments",
    params(("slug" = String, Path)), request_body = Grant,
    responses((status = 204), (status = 400), (status = 401), (status = 403), (status = 404)),
    security(("api_key" = ["admin"]), ("api_key" = ["tournaments:write"]), ("session" = [])))]
pub async fn grant(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
    Json(body): Json<Grant>,
) -> Result<StatusCode, ApiError> {
    let request = pb::GrantRoleRequest {
        actor: Some(actor(&caller)?),
        tournament: slug,
        role: body.role,
        user_id: body.user_id.unwrap_or(0),
        discord_role_id: snowflake(body.discord_role_id.as_ref(), "discord_role_id")?,
    };
    call!(state, TournamentAdminClient, grant_role, request);
    Ok(StatusCode::NO_CONTENT)
}

/// A finishing position.
#[derive(Debug, Serialize, ToSchema)]
pub struct StandingBody {
    /// racetime.gg user id.
    pub racetime_user_id: String,
    /// Name.
    pub name: String,
    /// `done`, `dnf`, ...
    pub status: String,
    /// Place (none for non-finishers).
    pub place: Option<u32>,
    /// Finish time in seconds.
    pub finish_time_seconds: Option<f64>,
}

/// A match's room.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoomBody {
    /// `opening`, `open`, `cancelled`, `finished`.
    pub state: String,
    /// `category/slug`.
    pub room_slug: String,
    /// The room URL.
    pub room_url: String,
    /// racetime.gg ids invited.
    pub invited_players: Vec<String>,
    /// How many.
    pub invited_count: usize,
    /// When the room was opened.
    pub created_at: Option<DateTime<Utc>>,
    /// When the race ended.
    pub finished_at: Option<DateTime<Utc>>,
    /// The result.
    pub standings: Vec<StandingBody>,
}

/// A match.
#[derive(Debug, Serialize, ToSchema)]
pub struct MatchBody {
    /// Match id.
    pub id: u64,
    /// Tournament slug.
    pub tournament: String,
    /// `speedgaming` or `internal`.
    pub source: String,
    /// SpeedGaming episode id, or the internal match's id.
    pub external_id: String,
    /// Title.
    pub title: String,
    /// Race start.
    pub scheduled_at: Option<DateTime<Utc>>,
    /// Player names.
    pub players: Vec<String>,
    /// Broadcast channels.
    pub channels: Vec<String>,
    /// Its room, once opened.
    pub room: Option<RoomBody>,
}

fn room_body(r: pb::MatchRoom) -> RoomBody {
    RoomBody {
        invited_count: r.invited_racetime_ids.len(),
        invited_players: r.invited_racetime_ids,
        state: r.state,
        room_slug: r.room,
        room_url: r.room_url,
        created_at: platform::grpc::datetime(r.opened_at.as_ref()),
        finished_at: platform::grpc::datetime(r.finished_at.as_ref()),
        standings: r
            .standings
            .into_iter()
            .map(|s| StandingBody {
                racetime_user_id: s.racetime_user_id,
                name: s.name,
                status: s.status,
                place: (s.place > 0).then_some(s.place),
                #[allow(clippy::cast_precision_loss)]
                finish_time_seconds: (s.finish_time_ms > 0)
                    .then(|| s.finish_time_ms as f64 / 1000.0),
            })
            .collect(),
    }
}

fn match_body(m: pb::Match) -> MatchBody {
    MatchBody {
        id: m.id,
        tournament: m.tournament,
        source: m.source,
        external_id: m.external_id,
        title: m.title,
        scheduled_at: platform::grpc::datetime(m.scheduled_at.as_ref()),
        players: m.players.into_iter().map(|p| p.display_name).collect(),
        channels: m.channels,
        room: m.room.filter(|r| !r.state.is_empty()).map(room_body),
    }
}

/// `?from=&to=` (RFC 3339; default the last day to a week ahead).
#[derive(Debug, Deserialize, IntoParams)]
pub struct Window {
    /// From.
    from: Option<DateTime<Utc>>,
    /// To.
    to: Option<DateTime<Utc>>,
}

/// A tournament's matches.
#[utoipa::path(get, path = "/api/v1/tournaments/{slug}/matches", tag = "tournaments",
    params(("slug" = String, Path), Window), responses((status = 200, body = [MatchBody]), (status = 404)))]
pub async fn matches(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(window): Query<Window>,
) -> Result<Json<Vec<MatchBody>>, ApiError> {
    let request = pb::ListMatchesRequest {
        tournament: slug,
        from: stamp(window.from),
        to: stamp(window.to),
    };
    let reply = call!(state, TournamentAdminClient, list_matches, request);
    Ok(Json(reply.matches.into_iter().map(match_body).collect()))
}

/// How long a match lasts in the calendar (a match has no end time of its own).
pub const MATCH_LENGTH: chrono::Duration = chrono::Duration::hours(2);

/// A tournament's schedule as an iCalendar feed (RFC 5545): the matches from a day ago to two
/// months ahead, each a `VEVENT` (UID `match-{id}@sahasrahbot`, start in UTC, two hours long,
/// the players and broadcast channels in the description, the race room as its URL). Public,
/// like the schedule; calendar apps subscribe to it.
#[utoipa::path(get, path = "/api/v1/tournaments/{slug}/schedule.ics", tag = "tournaments",
    params(("slug" = String, Path)),
    responses((status = 200, content_type = "text/calendar", body = String), (status = 404)))]
pub async fn calendar(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Response, ApiError> {
    use icalendar::{Calendar, Component, EventLike};
    let now = Utc::now();
    let tournament = call!(
        state,
        TournamentsClient,
        get_tournament,
        pb::GetTournamentRequest { slug: slug.clone() }
    );
    let request = pb::ListMatchesRequest {
        tournament: slug.clone(),
        from: stamp(Some(now - chrono::Duration::days(1))),
        to: stamp(Some(now + chrono::Duration::days(60))),
    };
    let reply = call!(state, TournamentAdminClient, list_matches, request);
    let mut calendar = Calendar::new();
    calendar.name(&tournament.name);
    for m in reply.matches.into_iter().map(match_body) {
        let Some(start) = m.scheduled_at else {
            continue;
        };
        let mut description = Vec::new();
        if !m.players.is_empty() {
            description.push(m.players.join(" vs. "));
        }
        if !m.channels.is_empty() {
            description.push(format!("On {}", m.channels.join(", ")));
        }
        let room = m
            .room
            .as_ref()
            .map(|r| r.room_url.clone())
            .filter(|u| !u.is_empty());
        if let Some(room) = &room {
            description.push(format!("Race room: {room}"));
        }
        let mut event = icalendar::Event::new();
        event
            .uid(&format!("match-{}@sahasrahbot", m.id))
            .summary(&format!("{}: {}", tournament.name, m.title))
            .description(&description.join("\n"))
            .starts(start)
            .ends(start + MATCH_LENGTH);
        if let Some(room) = room {
            event.add_property("URL", room);
        }
        calendar.push(event.done());
    }
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/calendar; charset=utf-8"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&format!("inline; filename=\"{slug}.ics\""))
                    .unwrap_or_else(|_| HeaderValue::from_static("inline")),
            ),
        ],
        calendar.done().to_string(),
    )
        .into_response())
}

/// A new internal match.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewMatch {
    /// Title.
    pub title: String,
    /// Race start (RFC 3339 with an offset).
    pub scheduled_at: DateTime<Utc>,
    /// Players: `{"display_name", "discord_user_id"}`.
    pub players: Vec<NewPlayer>,
    /// Per-match goal.
    #[serde(default)]
    pub goal: Option<String>,
    /// Per-match invitational flag.
    #[serde(default)]
    pub invitational: Option<bool>,
}

/// A player of a new match.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewPlayer {
    /// Name.
    pub display_name: String,
    /// Discord id (string).
    #[serde(default)]
    pub discord_user_id: Option<String>,
}

/// Creates an internal match.
#[utoipa::path(post, path = "/api/v1/tournaments/{slug}/matches", tag = "tournaments",
    params(("slug" = String, Path)), request_body = NewMatch,
    responses((status = 201, body = MatchBody), (status = 400), (status = 401), (status = 403)),
    security(("api_key" = ["admin"]), ("api_key" = ["tournaments:write"]), ("session" = [])))]
pub async fn create_match(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
    Json(body): Json<NewMatch>,
) -> Result<(StatusCode, Json<MatchBody>), ApiError> {
    let players = body
        .players
        .iter()
        .map(|p| {
            Ok(pb::MatchPlayer {
                display_name: p.display_name.clone(),
                discord_user_id: snowflake(p.discord_user_id.as_ref(), "discord_user_id")?,
                ..Default::default()
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let request = pb::CreateMatchRequest {
        actor: Some(actor(&caller)?),
        tournament: slug,
        title: body.title,
        scheduled_at: stamp(Some(body.scheduled_at)),
        players,
        goal_override: body.goal.unwrap_or_default(),
        invitational_override: body.invitational,
    };
    let reply = call!(state, TournamentAdminClient, create_match, request);
    Ok((StatusCode::CREATED, Json(match_body(reply))))
}

async fn find(state: &AppState, id: u64) -> Result<pb::Match, ApiError> {
    Ok(call!(
        state,
        TournamentAdminClient,
        get_match,
        pb::GetMatchRequest {
            tournament: String::new(),
            match_id: id
        }
    ))
}

/// The room of match `id`: `room_slug`, `room_url`, `invited_players`, `invited_count`,
/// `created_at` (sahabot2's shape); 404 before it is opened.
#[utoipa::path(get, path = "/api/v1/matches/{id}/racetime-room", tag = "tournaments",
    params(("id" = u64, Path)), responses((status = 200, body = RoomBody), (status = 404)))]
pub async fn room(
    State(state): State<AppState>,
    Path(id): Path<u64>,
) -> Result<Json<RoomBody>, ApiError> {
    let m = find(&state, id).await?;
    m.room
        .filter(|r| !r.state.is_empty())
        .map(|r| Json(room_body(r)))
        .ok_or_else(|| ApiError::not_found(format!("match {id} has no room yet")))
}

/// Opens match `id`'s room now (organizers); answers the room, also when it was open already.
#[utoipa::path(post, path = "/api/v1/matches/{id}/racetime-room", tag = "tournaments",
    params(("id" = u64, Path)),
    responses((status = 200, body = RoomBody), (status = 401), (status = 403), (status = 404), (status = 503)),
    security(("api_key" = ["admin"]), ("api_key" = ["tournaments:write"]), ("session" = [])))]
pub async fn open_room(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<u64>,
) -> Result<Json<RoomBody>, ApiError> {
    let actor = actor(&caller)?;
    let m = find(&state, id).await?;
    let request = pb::OpenMatchRoomRequest {
        tournament: m.tournament.clone(),
        episode_id: m.external_id.clone(),
        game_number: 1,
        actor: Some(actor),
    };
    call!(state, TournamentsClient, open_match_room, request);
    room(State(state), Path(id)).await
}

/// `?format=csv` for CSV.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ResultsFormat {
    /// `json` (default) or `csv`.
    format: Option<String>,
}

/// One CSV row of the results.
#[derive(Debug, Serialize)]
struct CsvRow<'a> {
    match_id: u64,
    external_id: &'a str,
    title: &'a str,
    scheduled_at: String,
    room_url: &'a str,
    state: &'a str,
    place: String,
    name: &'a str,
    racetime_user_id: &'a str,
    status: &'a str,
    finish_time_seconds: String,
}

/// Finished (and cancelled) matches with their standings, as JSON or CSV.
#[utoipa::path(get, path = "/api/v1/tournaments/{slug}/results", tag = "tournaments",
    params(("slug" = String, Path), ResultsFormat),
    responses((status = 200, body = [MatchBody]), (status = 200, content_type = "text/csv", body = String), (status = 404)))]
pub async fn results(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(format): Query<ResultsFormat>,
) -> Result<Response, ApiError> {
    let request = pb::ListMatchesRequest {
        tournament: slug.clone(),
        // Every match: a match played early (a room opened "now") counts too.
        from: stamp(Some(DateTime::<Utc>::UNIX_EPOCH)),
        to: stamp(Some(Utc::now() + chrono::Duration::days(3650))),
    };
    let reply = call!(state, TournamentAdminClient, list_matches, request);
    let done: Vec<MatchBody> = reply
        .matches
        .into_iter()
        .map(match_body)
        .filter(|m| {
            m.room
                .as_ref()
                .is_some_and(|r| r.state == "finished" || r.state == "cancelled")
        })
        .collect();
    if format.format.as_deref() != Some("csv") {
        return Ok(Json(done).into_response());
    }
    let mut writer = csv::Writer::from_writer(Vec::new());
    for m in &done {
        let Some(room) = &m.room else { continue };
        let scheduled = m.scheduled_at.map(|t| t.to_rfc3339()).unwrap_or_default();
        let rows: Vec<Option<&StandingBody>> = if room.standings.is_empty() {
            vec![None]
        } else {
            room.standings.iter().map(Some).collect()
        };
        for s in rows {
            writer
                .serialize(CsvRow {
                    match_id: m.id,
                    external_id: &m.external_id,
                    title: &m.title,
                    scheduled_at: scheduled.clone(),
                    room_url: &room.room_url,
                    state: &room.state,
                    place: s
                        .and_then(|s| s.place)
                        .map(|p| p.to_string())
                        .unwrap_or_default(),
                    name: s.map_or("", |s| s.name.as_str()),
                    racetime_user_id: s.map_or("", |s| s.racetime_user_id.as_str()),
                    status: s.map_or("", |s| s.status.as_str()),
                    finish_time_seconds: s
                        .and_then(|s| s.finish_time_seconds)
                        .map(|t| format!("{t:.3}"))
                        .unwrap_or_default(),
                })
                .map_err(ApiError::internal)?;
        }
    }
    let body = writer.into_inner().map_err(ApiError::internal)?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&format!("attachment; filename=\"{slug}-results.csv\""))
                    .unwrap_or_else(|_| HeaderValue::from_static("attachment")),
            ),
        ],
        body,
    )
        .into_response())
}
