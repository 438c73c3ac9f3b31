//! Match settings submission (spec §1.5.10, T1, T2, W25): `GET|POST
//! /tournaments/{slug}/matches/{id}/settings` shows the tournament's form to a logged-in player
//! of the match (or an organizer) and submits it (CSRF-checked); the JSON routes keep
//! upstream's paths: `GET /api/tournament/form-config/{event}` (T2), `GET
//! /api/tournament/games` (T1) and `POST /api/tournament/submit` (W25). The tournament service
//! owns the form and the submissions and decides who may submit.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use proto::tournament::v1 as pb;
use proto::tournament::v1::tournaments_client::TournamentsClient;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Chrome, Viewer, WebError, render};
use crate::error::ApiError;
use crate::http::AppState;

async fn client(
    state: &AppState,
) -> Result<TournamentsClient<platform::grpc::TracedChannel>, ApiError> {
    let peer = state
        .peers
        .get("tournament")
        .map_err(|s| ApiError::from_status(&s))?;
    Ok(TournamentsClient::new(peer.channel()))
}

/// The caller as the tournament service sees them: api user and Discord id.
fn caller(viewer: &Viewer) -> Result<(pb::Actor, u64), WebError> {
    let user = viewer.require_user()?;
    Ok((
        pb::Actor {
            operator: false,
            user_id: u64::try_from(user.id).unwrap_or(0),
        },
        user.discord_user_id
            .map(platform::db::u64_from_db)
            .unwrap_or(0),
    ))
}

/// One field of the form as the page shows it.
struct FieldView {
    key: String,
    label: String,
    required: bool,
    choices: Vec<(String, String, bool)>,
}

#[derive(Template)]
#[template(path = "match_settings.html")]
struct SettingsPage {
    chrome: Chrome,
    slug: String,
    match_id: i64,
    name: String,
    versus: String,
    title: String,
    when: String,
    fields: Vec<FieldView>,
    submitted: bool,
    description: String,
    may_submit: bool,
}

fn fields(form_json: &str, values: &HashMap<String, String>) -> Vec<FieldView> {
    let form: Value = serde_json::from_str(form_json).unwrap_or(Value::Null);
    form["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            let key = f["key"].as_str().unwrap_or_default().to_owned();
            let chosen = values.get(&key);
            FieldView {
                label: f["label"].as_str().unwrap_or_default().to_owned(),
                required: f["required"].as_bool().unwrap_or(false),
                choices: f["choices"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|c| {
                        let value = c["value"].as_str().unwrap_or_default().to_owned();
                        let selected = chosen == Some(&value);
                        (
                            value,
                            c["label"].as_str().unwrap_or_default().to_owned(),
                            selected,
                        )
                    })
                    .collect(),
                key,
            }
        })
        .collect()
}

/// `GET /tournaments/{slug}/matches/{id}/settings`.
pub async fn page(
    viewer: Viewer,
    State(state): State<AppState>,
    Path((slug, id)): Path<(String, i64)>,
) -> Result<Response, WebError> {
    let (actor, discord) = caller(&viewer)?;
    let s = client(&state)
        .await?
        .get_match_settings(pb::MatchSettingsRequest {
            tournament: slug.clone(),
            match_id: id,
            actor: Some(actor),
            actor_discord_id: discord,
            external_id: String::new(),
        })
        .await
        .map_err(|s| WebError::from_status(&s))?
        .into_inner();
    let m = s.r#match.clone().unwrap_or_default();
    let form = s.form.clone().unwrap_or_default();
    Ok(render(&SettingsPage {
        chrome: viewer.chrome(&format!("Settings: {}", s.versus)).await,
        slug,
        match_id: id,
        name: form.name,
        versus: s.versus.clone(),
        title: m.title,
        when: m
            .scheduled_at
            .and_then(|t| chrono::DateTime::from_timestamp(t.seconds, 0))
            .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_default(),
        fields: fields(&form.form_json, &s.values),
        submitted: s.submitted,
        description: s.description,
        may_submit: s.may_submit,
    }))
}

/// `POST /tournaments/{slug}/matches/{id}/settings`: `csrf` and `f_<key>` fields.
pub async fn submit(
    viewer: Viewer,
    State(state): State<AppState>,
    Path((slug, id)): Path<(String, i64)>,
    axum::Form(form): axum::Form<HashMap<String, String>>,
) -> Result<Response, WebError> {
    let (actor, discord) = caller(&viewer)?;
    viewer
        .check_csrf(form.get("csrf").map_or("", String::as_str))
        .await?;
    let values: HashMap<String, String> = form
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("f_")?.to_owned(), v.clone())))
        .collect();
    let sent = client(&state)
        .await?
        .submit_settings(pb::SubmitSettingsRequest {
            tournament: slug.clone(),
            match_id: id,
            actor: Some(actor),
            actor_discord_id: discord,
            values,
            external_id: String::new(),
        })
        .await;
    match sent {
        Ok(_) => viewer.flash("Settings submitted. Thank you!", false).await,
        Err(status)
            if matches!(
                status.code(),
                tonic::Code::InvalidArgument | tonic::Code::FailedPrecondition
            ) =>
        {
            viewer.flash(status.message(), true).await;
        }
        Err(status) => return Err(WebError::from_status(&status)),
    }
    Ok(Redirect::to(&format!("/tournaments/{slug}/matches/{id}/settings")).into_response())
}

/// T2: `GET /api/tournament/form-config/{event}` → `{"settings": [{"key", "label",
/// "settings": {value: label}}]}`; 404 for an unknown event, 422 without a form.
pub async fn form_config(State(state): State<AppState>, Path(event): Path<String>) -> Response {
    let mut client = match client(&state).await {
        Ok(c) => c,
        Err(error) => return error.into_response(),
    };
    match client
        .get_settings_form(pb::GetTournamentRequest {
            slug: event.clone(),
        })
        .await
    {
        Ok(form) => {
            let form: Value =
                serde_json::from_str(&form.into_inner().form_json).unwrap_or(Value::Null);
            let settings: Vec<Value> = form["fields"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|f| {
                    let choices: serde_json::Map<String, Value> = f["choices"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|c| {
                            (
                                c["value"].as_str().unwrap_or_default().to_owned(),
                                c["label"].clone(),
                            )
                        })
                        .collect();
                    json!({"key": f["key"], "label": f["label"], "settings": choices})
                })
                .collect();
            Json(json!({"settings": settings})).into_response()
        }
        Err(status) if status.code() == tonic::Code::NotFound => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": format!("Unknown event: {event}")})),
        )
            .into_response(),
        Err(status) if status.code() == tonic::Code::FailedPrecondition => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"error": status.message()})),
        )
            .into_response(),
        Err(status) => ApiError::from_status(&status).into_response(),
    }
}

/// T1's filters.
#[derive(Debug, Deserialize)]
pub struct GamesQuery {
    event: Option<String>,
    episode_id: Option<String>,
}

/// T1: `GET /api/tournament/games?event=&episode_id=` → the submitted settings as upstream's
/// `tournament_games` rows (`submitted` now means settings were submitted).
pub async fn games(
    State(state): State<AppState>,
    Query(q): Query<GamesQuery>,
) -> Result<Response, ApiError> {
    let Some(event) = q.event.filter(|e| !e.is_empty()) else {
        return Err(ApiError::bad_request("Missing required filter: event"));
    };
    let list = client(&state)
        .await?
        .list_submissions(pb::ListSubmissionsRequest {
            tournament: event,
            external_id: q.episode_id.unwrap_or_default(),
        })
        .await
        .map_err(|s| ApiError::from_status(&s))?
        .into_inner();
    let rows: Vec<Value> = list
        .submissions
        .iter()
        .map(|s| {
            let at = s
                .submitted_at
                .as_ref()
                .and_then(|t| chrono::DateTime::from_timestamp(t.seconds, 0))
                .map(|t| t.to_rfc3339());
            let values: BTreeMap<&String, &String> = s.values.iter().collect();
            json!({
                "episode_id": s.external_id, "event": s.tournament,
                "game_number": values.get(&"game".to_owned()).and_then(|g| g.parse::<i64>().ok()),
                "settings": {"randomizer": s.randomizer, "preset": s.preset, "values": values},
                "preset": s.preset, "notes": null, "submitted": 1,
                "created": at, "updated": at,
            })
        })
        .collect();
    Ok(Json(Value::Array(rows)).into_response())
}

/// W25: `POST /api/tournament/submit` with `{"event", "episodeid", …fields}` (session).
pub async fn submit_json(
    viewer: Viewer,
    State(state): State<AppState>,
    Json(body): Json<serde_json::Map<String, Value>>,
) -> Result<Response, ApiError> {
    let Ok((actor, discord)) = caller(&viewer) else {
        return Ok((
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "unauthenticated"})),
        )
            .into_response());
    };
    let text = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let event = body.get("event").and_then(text).filter(|e| !e.is_empty());
    let episode = body
        .get("episodeid")
        .and_then(text)
        .filter(|e| !e.is_empty());
    let (Some(event), Some(episode)) = (event, episode) else {
        return Err(ApiError::bad_request(
            "Missing required field: event/episodeid",
        ));
    };
    let values: HashMap<String, String> = body
        .iter()
        .filter(|(k, _)| k.as_str() != "event" && k.as_str() != "episodeid")
        .filter_map(|(k, v)| Some((k.clone(), text(v)?)))
        .collect();
    let reply = client(&state)
        .await?
        .submit_settings(pb::SubmitSettingsRequest {
            tournament: event,
            match_id: 0,
            actor: Some(actor),
            actor_discord_id: discord,
            values,
            external_id: episode,
        })
        .await
        .map_err(|s| ApiError::from_status(&s))?
        .into_inner();
    Ok(Json(json!({"success": true, "versus": reply.versus})).into_response())
}
