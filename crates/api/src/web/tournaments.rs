//! Tournament pages (issue: organizer tools): `/tournaments/{slug}` shows the schedule (room
//! state and link per match), the results and the exports (iCal, CSV, JSON) to everyone;
//! `/tournaments/{slug}/matches/{id}` one match (players, submitted settings, room, result)
//! with "Open room now"; `/tournaments/{slug}/dry-run` rehearses a race day. Changes are
//! forms with the session's CSRF token; the tournament service decides who may act
//! (organizers), and its refusal is shown to the visitor.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use proto::tournament::v1 as pb;
use proto::tournament::v1::tournament_admin_client::TournamentAdminClient;
use proto::tournament::v1::tournaments_client::TournamentsClient;

use super::{Chrome, Viewer, WebError, render};
use crate::error::ApiError;
use crate::http::AppState;

fn peer(state: &AppState) -> Result<platform::grpc::TracedChannel, ApiError> {
    Ok(state
        .peers
        .get("tournament")
        .map_err(|s| ApiError::from_status(&s))?
        .channel())
}

/// The logged-in visitor as a tournament actor.
fn actor(viewer: &Viewer) -> Result<pb::Actor, WebError> {
    let user = viewer.require_user()?;
    Ok(pb::Actor {
        operator: false,
        user_id: u64::try_from(user.id).unwrap_or(0),
    })
}

fn when(t: Option<&prost_types::Timestamp>, zone: &str) -> String {
    let tz: chrono_tz::Tz = zone.parse().unwrap_or(chrono_tz::UTC);
    t.and_then(|t| chrono::DateTime::from_timestamp(t.seconds, 0))
        .map(|t| {
            t.with_timezone(&tz)
                .format("%a %Y-%m-%d %H:%M %Z")
                .to_string()
        })
        .unwrap_or_default()
}

/// Match `id` of tournament `slug`.
async fn get_match(
    channel: &platform::grpc::TracedChannel,
    slug: &str,
    id: u64,
) -> Result<pb::Match, WebError> {
    Ok(TournamentAdminClient::new(channel.clone())
        .get_match(pb::GetMatchRequest {
            tournament: slug.to_owned(),
            match_id: id,
        })
        .await
        .map_err(|s| WebError::from_status(&s))?
        .into_inner())
}

/// A match row as the pages show it.
struct Row {
    id: u64,
    when: String,
    title: String,
    versus: String,
    state: String,
    room_url: String,
    standings: Vec<(u32, String, String)>,
}

fn row(m: &pb::Match, zone: &str) -> Row {
    let room = m.room.clone().unwrap_or_default();
    Row {
        id: m.id,
        when: when(m.scheduled_at.as_ref(), zone),
        title: m.title.clone(),
        versus: m
            .players
            .iter()
            .map(|p| p.display_name.as_str())
            .collect::<Vec<_>>()
            .join(" vs. "),
        state: if room.state.is_empty() {
            "not open yet".into()
        } else {
            room.state.clone()
        },
        room_url: room.room_url.clone(),
        standings: room
            .standings
            .iter()
            .map(|s| {
                let time = if s.finish_time_ms > 0 {
                    let secs = s.finish_time_ms / 1000;
                    format!("{}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
                } else {
                    s.status.clone()
                };
                (s.place, s.name.clone(), time)
            })
            .collect(),
    }
}

#[derive(Template)]
#[template(path = "tournament.html")]
struct TournamentPage {
    chrome: Chrome,
    slug: String,
    name: String,
    category: String,
    goal: String,
    zone: String,
    upcoming: Vec<Row>,
    results: Vec<Row>,
}

/// `GET /tournaments/{slug}`: public.
pub async fn page(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Response, WebError> {
    let channel = peer(&state)?;
    let t = TournamentsClient::new(channel.clone())
        .get_tournament(pb::GetTournamentRequest { slug: slug.clone() })
        .await
        .map_err(|s| WebError::from_status(&s))?
        .into_inner();
    let config = TournamentAdminClient::new(channel.clone())
        .get_tournament_config(pb::GetTournamentRequest { slug: slug.clone() })
        .await
        .map_err(|s| WebError::from_status(&s))?
        .into_inner();
    let now = chrono::Utc::now();
    let matches = TournamentAdminClient::new(channel)
        .list_matches(pb::ListMatchesRequest {
            tournament: slug.clone(),
            from: Some(platform::grpc::timestamp(now - chrono::Duration::days(30))),
            to: Some(platform::grpc::timestamp(now + chrono::Duration::days(14))),
        })
        .await
        .map_err(|s| WebError::from_status(&s))?
        .into_inner()
        .matches;
    let zone = config.time_zone.clone();
    let (done, upcoming): (Vec<&pb::Match>, Vec<&pb::Match>) = matches.iter().partition(|m| {
        m.room
            .as_ref()
            .is_some_and(|r| r.state == "finished" || r.state == "cancelled")
    });
    Ok(render(&TournamentPage {
        chrome: viewer.chrome(&t.name).await,
        name: t.name,
        category: t.racetime_category,
        goal: t.racetime_goal,
        upcoming: upcoming.into_iter().map(|m| row(m, &zone)).collect(),
        results: done.into_iter().rev().map(|m| row(m, &zone)).collect(),
        zone,
        slug,
    }))
}

#[derive(Template)]
#[template(path = "match.html")]
struct MatchPage {
    chrome: Chrome,
    slug: String,
    m: Row,
    players: Vec<(String, bool)>,
    settings: Option<String>,
    settings_link: bool,
    seed: String,
}

/// `GET /tournaments/{slug}/matches/{id}`: public; the seed shows once the race is over.
pub async fn match_page(
    viewer: Viewer,
    State(state): State<AppState>,
    Path((slug, id)): Path<(String, u64)>,
) -> Result<Response, WebError> {
    let channel = peer(&state)?;
    let m = get_match(&channel, &slug, id).await?;
    let config = TournamentAdminClient::new(channel.clone())
        .get_tournament_config(pb::GetTournamentRequest { slug: slug.clone() })
        .await
        .map_err(|s| WebError::from_status(&s))?
        .into_inner();
    let settings = TournamentsClient::new(channel)
        .get_match_settings(pb::MatchSettingsRequest {
            tournament: slug.clone(),
            match_id: i64::try_from(id).unwrap_or(0),
            ..Default::default()
        })
        .await
        .ok()
        .map(|s| s.into_inner());
    let room = m.room.clone().unwrap_or_default();
    let finished = room.state == "finished";
    Ok(render(&MatchPage {
        chrome: viewer.chrome(&format!("Match {}", m.external_id)).await,
        players: m
            .players
            .iter()
            .map(|p| (p.display_name.clone(), p.discord_user_id != 0))
            .collect(),
        settings_link: settings.is_some(),
        settings: settings.filter(|s| s.submitted).map(|s| s.description),
        seed: if finished {
            room.seed_permalink.clone()
        } else {
            String::new()
        },
        m: row(&m, &config.time_zone),
        slug,
    }))
}

/// `POST /tournaments/{slug}/matches/{id}/open`: `csrf`; organizers open the room now.
pub async fn open_now(
    viewer: Viewer,
    State(state): State<AppState>,
    Path((slug, id)): Path<(String, u64)>,
    axum::Form(form): axum::Form<HashMap<String, String>>,
) -> Result<Response, WebError> {
    let actor = actor(&viewer)?;
    viewer
        .check_csrf(form.get("csrf").map_or("", String::as_str))
        .await?;
    let channel = peer(&state)?;
    let m = get_match(&channel, &slug, id).await?;
    match TournamentsClient::new(channel)
        .open_match_room(pb::OpenMatchRoomRequest {
            tournament: slug.clone(),
            episode_id: m.external_id,
            game_number: 1,
            actor: Some(actor),
        })
        .await
    {
        Ok(_) => viewer.flash("The race room is open.", false).await,
        Err(status) => viewer.flash(status.message(), true).await,
    }
    Ok(Redirect::to(&format!("/tournaments/{slug}/matches/{id}")).into_response())
}

#[derive(Template)]
#[template(path = "dryrun.html")]
struct DryRunPage {
    chrome: Chrome,
    slug: String,
    hours: u32,
    from: String,
    text: Option<String>,
    problems: usize,
}

/// `GET /tournaments/{slug}/dry-run`: the form (organizers act on it).
pub async fn dry_run_form(viewer: Viewer, Path(slug): Path<String>) -> Result<Response, WebError> {
    viewer.require_user()?;
    Ok(render(&DryRunPage {
        chrome: viewer.chrome("Dry run").await,
        slug,
        hours: 24,
        from: String::new(),
        text: None,
        problems: 0,
    }))
}

/// `POST /tournaments/{slug}/dry-run`: `csrf`, `from` (RFC 3339 or empty for now), `hours`.
pub async fn dry_run(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(slug): Path<String>,
    axum::Form(form): axum::Form<HashMap<String, String>>,
) -> Result<Response, WebError> {
    let actor = actor(&viewer)?;
    viewer
        .check_csrf(form.get("csrf").map_or("", String::as_str))
        .await?;
    let from_text = form
        .get("from")
        .map(|f| f.trim().to_owned())
        .unwrap_or_default();
    let from = if from_text.is_empty() {
        None
    } else {
        Some(
            chrono::DateTime::parse_from_rfc3339(&from_text)
                .map_err(|_| {
                    WebError::from(ApiError::bad_request(
                        "`from` is a time such as 2026-12-05T14:00:00Z (or empty for now).",
                    ))
                })?
                .with_timezone(&chrono::Utc),
        )
    };
    let hours = form
        .get("hours")
        .and_then(|h| h.trim().parse::<u32>().ok())
        .filter(|h| (1..=336).contains(h))
        .unwrap_or(24);
    let reply = TournamentAdminClient::new(peer(&state)?)
        .dry_run(pb::DryRunRequest {
            actor: Some(actor),
            tournament: slug.clone(),
            from: from.map(platform::grpc::timestamp),
            hours,
        })
        .await
        .map_err(|s| WebError::from_status(&s))?
        .into_inner();
    Ok(render(&DryRunPage {
        chrome: viewer.chrome("Dry run").await,
        slug,
        hours,
        from: from_text,
        problems: reply.problems.len(),
        text: Some(reply.text),
    }))
}

#[derive(Template)]
#[template(path = "tournament_edit.html")]
struct EditPage {
    chrome: Chrome,
    slug: String,
    c: pb::TournamentConfig,
    needs_channel: String,
}

/// `GET /tournaments/{slug}/edit`: the organizers' form (the service refuses others on save).
pub async fn edit_form(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Response, WebError> {
    viewer.require_user()?;
    let c = TournamentAdminClient::new(peer(&state)?)
        .get_tournament_config(pb::GetTournamentRequest { slug: slug.clone() })
        .await
        .map_err(|s| WebError::from_status(&s))?
        .into_inner();
    Ok(render(&EditPage {
        chrome: viewer.chrome(&format!("Edit {}", c.name)).await,
        needs_channel: if c.scheduling_needs_channel_id == 0 {
            String::new()
        } else {
            c.scheduling_needs_channel_id.to_string()
        },
        slug,
        c,
    }))
}

/// `POST /tournaments/{slug}/edit`: `csrf` and the form's fields; the rest of the
/// configuration is kept. The service checks the caller organizes the tournament and every
/// field; its refusal (naming the field) comes back as the page's message.
pub async fn edit(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(slug): Path<String>,
    axum::Form(form): axum::Form<HashMap<String, String>>,
) -> Result<Response, WebError> {
    let actor = actor(&viewer)?;
    viewer
        .check_csrf(form.get("csrf").map_or("", String::as_str))
        .await?;
    let channel = peer(&state)?;
    let mut c = TournamentAdminClient::new(channel.clone())
        .get_tournament_config(pb::GetTournamentRequest { slug: slug.clone() })
        .await
        .map_err(|s| WebError::from_status(&s))?
        .into_inner();
    let text = |name: &str| {
        form.get(name)
            .map(|v| v.trim().to_owned())
            .unwrap_or_default()
    };
    let flag = |name: &str| form.contains_key(name);
    let number = |name: &str| -> Result<u32, WebError> {
        text(name).parse::<u32>().map_err(|_| {
            WebError::from(ApiError::bad_request(format!(
                "{name} must be a whole number."
            )))
        })
    };
    c.name = text("name");
    c.active = flag("active");
    c.room_open_minutes_before = number("room_open_minutes_before")?;
    c.stream_delay_minutes = number("stream_delay_minutes")?;
    c.require_racetime_link = flag("require_racetime_link");
    c.audit_mention = text("audit_mention");
    c.scheduled_events = flag("scheduled_events");
    c.scheduling_needs_channel_id = if text("scheduling_needs_channel_id").is_empty() {
        0
    } else {
        text("scheduling_needs_channel_id").parse().map_err(|_| {
            WebError::from(ApiError::bad_request(
                "The scheduling-needs channel is a Discord channel id.",
            ))
        })?
    };
    c.scheduling_needs_tracker = flag("scheduling_needs_tracker");
    c.seed_roller_json = text("seed_roller_json");
    c.settings_form_json = text("settings_form_json");
    match TournamentAdminClient::new(channel)
        .upsert_tournament(pb::UpsertTournamentRequest {
            actor: Some(actor),
            config: Some(c),
        })
        .await
    {
        Ok(_) => viewer.flash("Saved.", false).await,
        Err(status) if status.code() == tonic::Code::InvalidArgument => {
            viewer.flash(status.message(), true).await;
        }
        Err(status) => return Err(WebError::from_status(&status)),
    }
    Ok(Redirect::to(&format!("/tournaments/{slug}/edit")).into_response())
}
