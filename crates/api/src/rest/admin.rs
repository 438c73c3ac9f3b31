//! Operator routes (scope `admin`): API keys — created (the key shown once), listed (never
//! the key) and revoked — as the `api keys` subcommand does it.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::ApiKey;
use crate::error::ApiError;
use crate::http::AppState;
use crate::keys::{self, api_key};

/// The scope of operator routes.
pub const ADMIN: &str = "admin";

/// A key as listed (its hash and the key itself are never shown).
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyInfo {
    /// The key id.
    pub id: i64,
    /// What it is for.
    pub name: String,
    /// The user it acts for; none for an operator's key.
    pub user_id: Option<i64>,
    /// Its scopes.
    pub scopes: Vec<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<api_key::Model> for KeyInfo {
    fn from(row: api_key::Model) -> Self {
        Self {
            id: row.id,
            scopes: row.scopes.split_whitespace().map(str::to_owned).collect(),
            name: row.name,
            user_id: row.user_id,
            created_at: row.created_at,
            expires_at: row.expires_at,
            revoked_at: row.revoked_at,
        }
    }
}

/// A new key.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewKey {
    /// What it is for (1–100 characters).
    pub name: String,
    /// The user it acts for (its owner for `me` and namespace edits).
    #[serde(default)]
    pub user_id: Option<i64>,
    /// Its scopes, e.g. `["presets:write"]`.
    pub scopes: Vec<String>,
    /// When it stops working.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

/// The created key: `key` is shown this once and never again.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedKey {
    /// The key, to give to its user now.
    pub key: String,
    /// The stored key.
    pub info: KeyInfo,
}

/// Every API key.
#[utoipa::path(get, path = "/api/v1/admin/keys", tag = "admin",
    responses((status = 200, body = [KeyInfo]), (status = 401), (status = 403)),
    security(("api_key" = ["admin"])))]
pub async fn list(
    State(state): State<AppState>,
    key: ApiKey,
) -> Result<Json<Vec<KeyInfo>>, ApiError> {
    key.require(ADMIN)?;
    let rows = keys::list(&state.db).await.map_err(ApiError::internal)?;
    Ok(Json(rows.into_iter().map(KeyInfo::from).collect()))
}

/// Creates a key.
#[utoipa::path(post, path = "/api/v1/admin/keys", tag = "admin", request_body = NewKey,
    responses((status = 201, body = CreatedKey), (status = 400), (status = 401), (status = 403)),
    security(("api_key" = ["admin"])))]
pub async fn create(
    State(state): State<AppState>,
    key: ApiKey,
    Json(body): Json<NewKey>,
) -> Result<(StatusCode, Json<CreatedKey>), ApiError> {
    key.require(ADMIN)?;
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::bad_request("`name` must be 1–100 characters"));
    }
    keys::parse_scopes(&body.scopes).map_err(ApiError::bad_request)?;
    if let Some(user_id) = body.user_id
        && crate::identity::get(&state.db, user_id)
            .await
            .map_err(ApiError::internal)?
            .is_none()
    {
        return Err(ApiError::bad_request(format!("there is no user {user_id}")));
    }
    let (row, secret) = keys::create(&state.db, name, body.user_id, &body.scopes, body.expires_at)
        .await
        .map_err(ApiError::internal)?;
    tracing::info!(key_id = row.id, by = key.0.id, "API key created over HTTP");
    Ok((
        StatusCode::CREATED,
        Json(CreatedKey {
            key: secret,
            info: row.into(),
        }),
    ))
}

/// Revokes a key (at once: the next request with it is 401).
#[utoipa::path(delete, path = "/api/v1/admin/keys/{id}", tag = "admin",
    params(("id" = i64, Path)),
    responses((status = 204), (status = 401), (status = 403), (status = 404)),
    security(("api_key" = ["admin"])))]
pub async fn revoke(
    State(state): State<AppState>,
    key: ApiKey,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    key.require(ADMIN)?;
    if keys::revoke(&state.db, id)
        .await
        .map_err(ApiError::internal)?
    {
        tracing::info!(key_id = id, by = key.0.id, "API key revoked over HTTP");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!("no API key {id}")))
    }
}

/// The seedgen service's triforce text RPCs.
fn triforce(
    state: &AppState,
) -> Result<
    proto::triforce::v1::triforce_texts_client::TriforceTextsClient<platform::grpc::TracedChannel>,
    ApiError,
> {
    let peer = state
        .peers
        .get("seedgen")
        .map_err(|s| ApiError::from_status(&s))?;
    Ok(proto::triforce::v1::triforce_texts_client::TriforceTextsClient::new(peer.channel()))
}

async fn set_moderator(
    state: &AppState,
    pool: String,
    discord_user_id: u64,
    moderator: bool,
) -> Result<bool, ApiError> {
    let reply = triforce(state)?
        .set_moderator(proto::triforce::v1::SetModeratorRequest {
            pool,
            discord_user_id,
            moderator,
            operator: true,
        })
        .await
        .map_err(|s| ApiError::from_status(&s))?;
    Ok(reply.into_inner().changed)
}

/// Makes a Discord user a moderator of a triforce text pool (spec §4.4; upstream kept them
/// in a config table edited by hand).
#[utoipa::path(put, path = "/api/v1/admin/triforcetexts/{pool}/moderators/{discord_user_id}",
    tag = "admin",
    params(("pool" = String, Path), ("discord_user_id" = u64, Path)),
    responses((status = 204), (status = 400), (status = 401), (status = 403)),
    security(("api_key" = ["admin"])))]
pub async fn add_triforce_moderator(
    State(state): State<AppState>,
    key: ApiKey,
    Path((pool, discord_user_id)): Path<(String, u64)>,
) -> Result<StatusCode, ApiError> {
    key.require(ADMIN)?;
    set_moderator(&state, pool, discord_user_id, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes a triforce text pool moderator.
#[utoipa::path(delete, path = "/api/v1/admin/triforcetexts/{pool}/moderators/{discord_user_id}",
    tag = "admin",
    params(("pool" = String, Path), ("discord_user_id" = u64, Path)),
    responses((status = 204), (status = 401), (status = 403), (status = 404)),
    security(("api_key" = ["admin"])))]
pub async fn remove_triforce_moderator(
    State(state): State<AppState>,
    key: ApiKey,
    Path((pool, discord_user_id)): Path<(String, u64)>,
) -> Result<StatusCode, ApiError> {
    key.require(ADMIN)?;
    if set_moderator(&state, pool.clone(), discord_user_id, false).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!(
            "{discord_user_id} does not moderate {pool}"
        )))
    }
}
