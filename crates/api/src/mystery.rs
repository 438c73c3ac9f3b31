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
use proto::seedgen::v1::seed_gen_client::SeedGenClient;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::ApiError;
use crate::http::AppState;

/// Upstream's answer, plus the instructions and the RNG seed that replays the roll.
#[derive(Debug, Serialize)]
pub struct Rolled {
    /// The rolled settings (alttpr.com request body, or Door Randomizer settings).
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
#[derive(Debug, Deserialize)]
pub struct Named {
    /// The weightset name.
    pub weightset: Option<String>,
}

async fn roll(state: &AppState, request: RollMysteryRequest) -> Result<Json<Rolled>, ApiError> {
    let peer = state
        .peers
        .get("seedgen")
        .map_err(|status| ApiError::from_status(&status))?;
    let reply = peer
        .call(|| {
            let mut client = SeedGenClient::new(peer.channel());
            let request = request.clone();
            async move { client.roll_mystery(request).await }
        })
        .await
        .map_err(|status| ApiError::from_status(&status))?
        .into_inner();
    let settings = serde_json::from_str(&reply.settings_json).map_err(ApiError::internal)?;
    Ok(Json(Rolled {
        settings,
        customizer: reply.customizer,
        doors: reply.doors,
        endpoint: Some(reply.endpoint).filter(|e| !e.is_empty()),
        custom_instructions: Some(reply.custom_instructions).filter(|c| !c.is_empty()),
        rng_seed: reply.rng_seed,
    }))
}

/// Rolls the weights in the body (a JSON object).
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
