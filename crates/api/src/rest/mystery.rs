//! Mystery settings without a seed (spec §3.1 S1–S3): roll a weightset posted as JSON, or a
//! named one, through `SeedGen.RollMystery`. Public routes.
//!
//! `POST /api/v1/mystery/settings` (body: the weights), `GET /api/v1/mystery/settings?weightset=`
//! and `GET /api/v1/mystery/settings/{weightset}`; upstream's `/api/settingsgen/mystery` paths
//! are aliases.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use proto::seedgen::v1::RollMysteryRequest;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;
use crate::http::AppState;

/// Upstream's answer, plus the instructions and the RNG seed that replays the roll.
#[derive(Debug, Serialize, ToSchema)]
pub struct Rolled {
    /// The rolled settings (alttpr.com request body, or Door Randomizer settings).
    #[schema(value_type = Object)]
    pub settings: Value,
    /// Goes to alttpr.com's customizer.
    pub customizer: bool,
    /// Goes to the Door Randomizer.
    pub doors: bool,
    /// `/api/customizer`, `/api/randomizer`, or null for doors.
    pub endpoint: Option<String>,
    /// Instructions for the racers, if the weightset has them.
    pub custom_instructions: Option<String>,
    /// Replays this roll.
    pub rng_seed: u64,
}

/// `?weightset=`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct Named {
    /// The weightset name.
    pub weightset: Option<String>,
}

/// Rolls through seedgen's RollMystery.
///
/// Errors: bad weights (400 naming the problem), unknown weightset (404), seedgen down (503).
pub(crate) async fn roll_settings(
    state: &AppState,
    request: RollMysteryRequest,
) -> Result<Rolled, ApiError> {
    let reply = crate::presets::seedgen(state, |mut client| {
        let request = request.clone();
        async move { client.roll_mystery(request).await }
    })
    .await
    .map_err(|status| ApiError::from_status(&status))?;
    let settings = serde_json::from_str(&reply.settings_json).map_err(ApiError::internal)?;
    Ok(Rolled {
        settings,
        customizer: reply.customizer,
        doors: reply.doors,
        endpoint: Some(reply.endpoint).filter(|e| !e.is_empty()),
        custom_instructions: Some(reply.custom_instructions).filter(|c| !c.is_empty()),
        rng_seed: reply.rng_seed,
    })
}

async fn roll(state: &AppState, request: RollMysteryRequest) -> Result<Json<Rolled>, ApiError> {
    roll_settings(state, request).await.map(Json)
}

/// Rolls the mystery weights in the body (a JSON object, as in a weightset file).
#[utoipa::path(post, path = "/api/v1/mystery/settings", tag = "mystery",
    request_body(content = Object, description = "mystery weights"),
    responses((status = 200, body = Rolled), (status = 400, description = "the weights are not valid")))]
pub async fn posted(State(state): State<AppState>, body: Bytes) -> Result<Json<Rolled>, ApiError> {
    let weights: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("the body is not JSON: {e}")))?;
    if !weights.is_object() {
        return Err(ApiError::bad_request(
            "the body must be a JSON object of mystery weights",
        ));
    }
    let request = RollMysteryRequest {
        // JSON is YAML: seedgen parses and validates it like an uploaded weightset.
        weightset_yaml: weights.to_string(),
        ..RollMysteryRequest::default()
    };
    roll(&state, request).await
}

/// Rolls the weightset named in the query.
#[utoipa::path(get, path = "/api/v1/mystery/settings", tag = "mystery", params(Named),
    responses((status = 200, body = Rolled), (status = 400), (status = 404, description = "no such weightset")))]
pub async fn by_query(
    State(state): State<AppState>,
    Query(named): Query<Named>,
) -> Result<Json<Rolled>, ApiError> {
    let weightset = named
        .weightset
        .filter(|w| !w.trim().is_empty())
        .ok_or_else(|| ApiError::bad_request("give `?weightset=<name>`"))?;
    by_name(&state, weightset).await
}

/// Rolls the weightset named in the path.
#[utoipa::path(get, path = "/api/v1/mystery/settings/{weightset}", tag = "mystery",
    params(("weightset" = String, Path)),
    responses((status = 200, body = Rolled), (status = 404, description = "no such weightset")))]
pub async fn by_path(
    State(state): State<AppState>,
    Path(weightset): Path<String>,
) -> Result<Json<Rolled>, ApiError> {
    by_name(&state, weightset).await
}

async fn by_name(state: &AppState, weightset: String) -> Result<Json<Rolled>, ApiError> {
    roll(
        state,
        RollMysteryRequest {
            weightset: weightset.trim().to_owned(),
            ..RollMysteryRequest::default()
        },
    )
    .await
}

/// Upstream S1: rolls posted weights.
#[utoipa::path(post, path = "/api/settingsgen/mystery", tag = "upstream",
    request_body(content = Object), responses((status = 200, body = Rolled), (status = 400)))]
pub async fn upstream_posted(
    state: State<AppState>,
    body: Bytes,
) -> Result<Json<Rolled>, ApiError> {
    posted(state, body).await
}

/// Upstream S2: rolls `?weightset=`.
#[utoipa::path(get, path = "/api/settingsgen/mystery", tag = "upstream", params(Named),
    responses((status = 200, body = Rolled), (status = 400), (status = 404)))]
pub async fn upstream_by_query(
    state: State<AppState>,
    named: Query<Named>,
) -> Result<Json<Rolled>, ApiError> {
    by_query(state, named).await
}

/// Upstream S3: rolls the weightset in the path.
#[utoipa::path(get, path = "/api/settingsgen/mystery/{weightset}", tag = "upstream",
    params(("weightset" = String, Path)), responses((status = 200, body = Rolled), (status = 404)))]
pub async fn upstream_by_path(
    state: State<AppState>,
    weightset: Path<String>,
) -> Result<Json<Rolled>, ApiError> {
    by_path(state, weightset).await
}
