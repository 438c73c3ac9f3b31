//! Triforce texts on the website (spec W22–W24, tournament.md §4.4): `GET|POST
//! /triforcetexts/{pool}` lets a logged-in racer submit a three-line end-credit text;
//! `GET /triforcetexts/{pool}/moderation` lists the pool's texts for its moderators, who
//! approve or reject each (`POST /triforcetexts/{pool}/moderation/{id}`). Forms carry the
//! session's CSRF token. The JSON routes keep upstream's paths and shapes. seedgen owns the
//! texts and decides who moderates.

use std::collections::HashMap;

use askama::Template;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use proto::triforce::v1 as pb;
use proto::triforce::v1::triforce_texts_client::TriforceTextsClient;
use serde::Deserialize;
use serde_json::json;

use super::{Chrome, Viewer, WebError, render};
use crate::error::ApiError;
use crate::http::AppState;

/// The caller's Discord id and the name shown as the author.
fn submitter(viewer: &Viewer) -> Result<(u64, String), WebError> {
    let user = viewer.require_user()?;
    let discord = user
        .discord_user_id
        .map(platform::db::u64_from_db)
        .ok_or_else(|| {
            WebError::Page(
                StatusCode::FORBIDDEN,
                "Not allowed",
                "Triforce texts are submitted with a Discord account; log in with Discord."
                    .to_owned(),
            )
        })?;
    let name = user
        .display_name
        .clone()
        .unwrap_or_else(|| format!("discord:{discord}"));
    Ok((discord, name))
}

/// Like [`submitter`] for the JSON routes: 401 instead of the login redirect.
fn api_submitter(viewer: &Viewer) -> Result<(u64, String), ApiError> {
    submitter(viewer).map_err(|_| ApiError::unauthenticated("log in with Discord"))
}

async fn client(
    state: &AppState,
) -> Result<TriforceTextsClient<platform::grpc::TracedChannel>, ApiError> {
    let peer = state
        .peers
        .get("seedgen")
        .map_err(|s| ApiError::from_status(&s))?;
    Ok(TriforceTextsClient::new(peer.channel()))
}

async fn submit_text(
    state: &AppState,
    pool: &str,
    (discord, author): (u64, String),
    lines: [String; 3],
) -> Result<pb::Text, ApiError> {
    Ok(client(state)
        .await?
        .submit(pb::SubmitRequest {
            pool: pool.to_owned(),
            discord_user_id: discord,
            author,
            lines: lines.to_vec(),
        })
        .await
        .map_err(|s| ApiError::from_status(&s))?
        .into_inner())
}

async fn list_texts(
    state: &AppState,
    pool: &str,
    actor: u64,
    status: &str,
) -> Result<pb::ListReply, ApiError> {
    Ok(client(state)
        .await?
        .list(pb::ListRequest {
            pool: pool.to_owned(),
            actor_discord_id: actor,
            status: status.to_owned(),
        })
        .await
        .map_err(|s| ApiError::from_status(&s))?
        .into_inner())
}

async fn moderate_text(
    state: &AppState,
    pool: &str,
    id: i64,
    actor: u64,
    action: &str,
) -> Result<pb::Text, ApiError> {
    let approve = match action {
        "approve" => true,
        "reject" => false,
        _ => return Err(ApiError::bad_request("Invalid action.")),
    };
    Ok(client(state)
        .await?
        .moderate(pb::ModerateRequest {
            pool: pool.to_owned(),
            text_id: id,
            actor_discord_id: actor,
            approve,
        })
        .await
        .map_err(|s| ApiError::from_status(&s))?
        .into_inner())
}

/// Upstream's `approved` filter (`pending` default, `true`, `false`, anything else: all).
fn status_filter(approved: Option<&str>) -> &'static str {
    match approved.unwrap_or("pending") {
        "pending" => "pending",
        "true" | "approved" => "approved",
        "false" | "rejected" => "rejected",
        _ => "all",
    }
}

/// Upstream's `approved`: null while pending.
fn approved(status: &str) -> serde_json::Value {
    match status {
        "approved" => json!(true),
        "rejected" => json!(false),
        _ => serde_json::Value::Null,
    }
}

#[derive(Template)]
#[template(path = "triforce.html")]
struct SubmitPage {
    chrome: Chrome,
    pool: String,
    max: usize,
}

/// `GET /triforcetexts/{pool}`.
pub async fn page(viewer: Viewer, Path(pool): Path<String>) -> Result<Response, WebError> {
    submitter(&viewer)?;
    Ok(render(&SubmitPage {
        chrome: viewer.chrome(&format!("Triforce texts for {pool}")).await,
        pool,
        max: 19,
    }))
}

/// `POST /triforcetexts/{pool}`: `csrf`, `first_line`, `second_line`, `third_line`.
pub async fn submit(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(pool): Path<String>,
    axum::Form(form): axum::Form<HashMap<String, String>>,
) -> Result<Response, WebError> {
    let who = submitter(&viewer)?;
    viewer
        .check_csrf(form.get("csrf").map_or("", String::as_str))
        .await?;
    let line = |name: &str| form.get(name).cloned().unwrap_or_default();
    let lines = [line("first_line"), line("second_line"), line("third_line")];
    match submit_text(&state, &pool, who, lines).await {
        Ok(_) => {
            viewer
                .flash(
                    "Thank you! Your text was submitted; a moderator will review it.",
                    false,
                )
                .await;
        }
        Err(error) if error.status == StatusCode::BAD_REQUEST => {
            viewer.flash(error.message, true).await;
        }
        Err(error) => return Err(error.into()),
    }
    Ok(Redirect::to(&format!("/triforcetexts/{pool}")).into_response())
}

#[derive(Template)]
#[template(path = "triforce_moderation.html")]
struct ModerationPage {
    chrome: Chrome,
    pool: String,
    status: String,
    texts: Vec<pb::Text>,
    filters: Vec<(&'static str, &'static str)>,
}

/// `?approved=` of the moderation routes.
#[derive(Debug, Deserialize)]
pub struct Filter {
    approved: Option<String>,
}

/// `GET /triforcetexts/{pool}/moderation`.
pub async fn moderation(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(pool): Path<String>,
    Query(filter): Query<Filter>,
) -> Result<Response, WebError> {
    let (who, _) = submitter(&viewer)?;
    let status = status_filter(filter.approved.as_deref());
    let listed = list_texts(&state, &pool, who, status).await?;
    Ok(render(&ModerationPage {
        chrome: viewer
            .chrome(&format!("Moderate triforce texts: {pool}"))
            .await,
        pool,
        status: listed.status,
        texts: listed.texts,
        filters: vec![
            ("pending", "Pending"),
            ("true", "Approved"),
            ("false", "Rejected"),
            ("all", "All"),
        ],
    }))
}

/// `POST /triforcetexts/{pool}/moderation/{id}`: `csrf`, `action` (`approve` | `reject`).
pub async fn moderate(
    viewer: Viewer,
    State(state): State<AppState>,
    Path((pool, id)): Path<(String, i64)>,
    axum::Form(form): axum::Form<HashMap<String, String>>,
) -> Result<Response, WebError> {
    let (who, _) = submitter(&viewer)?;
    viewer
        .check_csrf(form.get("csrf").map_or("", String::as_str))
        .await?;
    let action = form.get("action").map_or("", String::as_str);
    let text = moderate_text(&state, &pool, id, who, action).await?;
    viewer
        .flash(format!("Text {} is now {}.", text.id, text.status), false)
        .await;
    Ok(Redirect::to(&format!("/triforcetexts/{pool}/moderation")).into_response())
}

/// W22's body.
#[derive(Debug, Deserialize)]
pub struct Lines {
    #[serde(default)]
    first_line: String,
    #[serde(default)]
    second_line: String,
    #[serde(default)]
    third_line: String,
}

/// W22: `POST /triforcetexts/{pool}/api` (JSON only, so a cross-site form cannot send it).
pub async fn api_submit(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(pool): Path<String>,
    Json(body): Json<Lines>,
) -> Result<Response, ApiError> {
    let who = api_submitter(&viewer)?;
    submit_text(
        &state,
        &pool,
        who,
        [body.first_line, body.second_line, body.third_line],
    )
    .await?;
    Ok(Json(json!({"success": true})).into_response())
}

/// W23: `GET /triforcetexts/{pool}/moderation/api?approved=`.
pub async fn api_list(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(pool): Path<String>,
    Query(filter): Query<Filter>,
) -> Result<Response, ApiError> {
    let (who, _) = api_submitter(&viewer)?;
    let listed = list_texts(
        &state,
        &pool,
        who,
        status_filter(filter.approved.as_deref()),
    )
    .await?;
    let texts: Vec<serde_json::Value> = listed
        .texts
        .iter()
        .map(|t| json!({"id": t.id, "text": t.text, "author": t.author, "approved": approved(&t.status)}))
        .collect();
    Ok(Json(json!({
        "pool_name": listed.pool,
        "filter": filter.approved.unwrap_or_else(|| "pending".into()),
        "texts": texts,
    }))
    .into_response())
}

/// W24's body.
#[derive(Debug, Deserialize)]
pub struct Action {
    #[serde(default)]
    action: String,
}

/// W24: `POST /triforcetexts/{pool}/moderation/api/{id}`.
pub async fn api_moderate(
    viewer: Viewer,
    State(state): State<AppState>,
    Path((pool, id)): Path<(String, i64)>,
    Json(body): Json<Action>,
) -> Result<Response, ApiError> {
    let (who, _) = api_submitter(&viewer)?;
    let text = moderate_text(&state, &pool, id, who, &body.action).await?;
    Ok(Json(json!({"success": true, "approved": text.status == "approved"})).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_filters_and_approved_values() {
        assert_eq!(status_filter(None), "pending");
        assert_eq!(status_filter(Some("true")), "approved");
        assert_eq!(status_filter(Some("false")), "rejected");
        assert_eq!(status_filter(Some("whatever")), "all");
        assert_eq!(approved("pending"), serde_json::Value::Null);
        assert_eq!(approved("approved"), json!(true));
        assert_eq!(approved("rejected"), json!(false));
    }
}
