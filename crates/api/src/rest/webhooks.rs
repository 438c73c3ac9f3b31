//! Webhook registration and the delivery log (scope `webhooks:admin`, or `admin`).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::ApiKey;
use crate::error::ApiError;
use crate::http::AppState;
use crate::webhooks::{self, DeliveryState, EventType, RegisterError, delivery, webhook};

/// The scope of webhook routes (`admin` also passes).
pub const WEBHOOKS_ADMIN: &str = "webhooks:admin";

fn require(key: &ApiKey) -> Result<(), ApiError> {
    if key.scopes().any(|s| s == crate::rest::admin::ADMIN) {
        return Ok(());
    }
    key.require(WEBHOOKS_ADMIN)
}

/// A webhook as listed (without its secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookInfo {
    /// The id.
    pub id: i64,
    /// Where deliveries go.
    pub url: String,
    /// The event types it receives.
    pub event_types: Vec<String>,
    /// What it is for.
    pub description: String,
    /// Deliveries are made while active.
    pub active: bool,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
}

impl From<webhook::Model> for WebhookInfo {
    fn from(row: webhook::Model) -> Self {
        Self {
            id: row.id,
            event_types: row
                .event_types
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
            url: row.url,
            description: row.description,
            active: row.active,
            created_at: row.created_at,
        }
    }
}

/// A new webhook.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewWebhook {
    /// The receiver (http or https).
    pub url: String,
    /// Event types: `seed.generated`, `room.opened`, `race.finished`, `match.room_opened`.
    pub event_types: Vec<String>,
    /// What it is for.
    #[serde(default)]
    pub description: String,
}

/// The registered webhook and its signing secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedWebhook {
    /// The HMAC-SHA256 key of `X-SahasrahBot-Signature`.
    pub secret: String,
    /// The webhook.
    pub webhook: WebhookInfo,
}

/// Every webhook.
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks",
    responses((status = 200, body = [WebhookInfo]), (status = 401), (status = 403)),
    security(("api_key" = ["webhooks:admin"])))]
pub async fn list(
    State(state): State<AppState>,
    key: ApiKey,
) -> Result<Json<Vec<WebhookInfo>>, ApiError> {
    require(&key)?;
    let rows = webhooks::list(&state.db)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(rows.into_iter().map(WebhookInfo::from).collect()))
}

/// Registers a webhook.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", request_body = NewWebhook,
    responses((status = 201, body = CreatedWebhook), (status = 400), (status = 401), (status = 403)),
    security(("api_key" = ["webhooks:admin"])))]
pub async fn create(
    State(state): State<AppState>,
    key: ApiKey,
    Json(body): Json<NewWebhook>,
) -> Result<(StatusCode, Json<CreatedWebhook>), ApiError> {
    require(&key)?;
    let row = webhooks::register(
        &state.db,
        &body.url,
        &body.event_types,
        &body.description,
        key.0.user_id,
        state.settings.webhooks.allow_private_targets,
    )
    .await
    .map_err(|e| match e {
        RegisterError::Db(db) => ApiError::internal(db),
        other => ApiError::bad_request(other.to_string()),
    })?;
    tracing::info!(webhook = row.id, by = key.0.id, "webhook registered");
    Ok((
        StatusCode::CREATED,
        Json(CreatedWebhook {
            secret: row.secret.clone(),
            webhook: row.into(),
        }),
    ))
}

/// Deactivates a webhook (its delivery log stays).
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks",
    params(("id" = i64, Path)),
    responses((status = 204), (status = 401), (status = 403), (status = 404)),
    security(("api_key" = ["webhooks:admin"])))]
pub async fn remove(
    State(state): State<AppState>,
    key: ApiKey,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    require(&key)?;
    if webhooks::deactivate(&state.db, id)
        .await
        .map_err(ApiError::internal)?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!("no webhook {id}")))
    }
}

/// One delivery in the log.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryInfo {
    /// The delivery id (`X-SahasrahBot-Delivery`).
    pub delivery_id: String,
    /// The event type.
    pub event_type: EventType,
    /// Where it stands.
    pub state: DeliveryState,
    /// Attempts made.
    pub attempts: i32,
    /// The last HTTP status.
    pub last_status: Option<i32>,
    /// The last failure.
    pub last_error: Option<String>,
    /// When the event arrived.
    pub created_at: DateTime<Utc>,
    /// When the next attempt is due (pending deliveries).
    pub next_attempt_at: DateTime<Utc>,
    /// When the receiver accepted it.
    pub delivered_at: Option<DateTime<Utc>>,
}

impl From<delivery::Model> for DeliveryInfo {
    fn from(row: delivery::Model) -> Self {
        Self {
            delivery_id: row.delivery_id,
            event_type: row.event_type,
            state: row.state,
            attempts: row.attempts,
            last_status: row.last_status,
            last_error: row.last_error,
            created_at: row.created_at,
            next_attempt_at: row.next_attempt_at,
            delivered_at: row.delivered_at,
        }
    }
}

/// `?limit=` (default 50, at most 500).
#[derive(Debug, Deserialize, IntoParams)]
pub struct Limit {
    /// How many of the newest deliveries.
    limit: Option<u64>,
}

/// The delivery log of a webhook, newest first.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks",
    params(("id" = i64, Path), Limit),
    responses((status = 200, body = [DeliveryInfo]), (status = 401), (status = 403)),
    security(("api_key" = ["webhooks:admin"])))]
pub async fn deliveries(
    State(state): State<AppState>,
    key: ApiKey,
    Path(id): Path<i64>,
    Query(limit): Query<Limit>,
) -> Result<Json<Vec<DeliveryInfo>>, ApiError> {
    require(&key)?;
    let rows = webhooks::deliveries(&state.db, id, limit.limit.unwrap_or(50).min(500))
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(rows.into_iter().map(DeliveryInfo::from).collect()))
}
