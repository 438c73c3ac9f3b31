//! The caller's own account over JSON: `GET /api/v1/me` (session or API key), and upstream's
//! session routes W8 (`GET /api/me`), W11 (display name), W12 (unlink racetime.gg) and W6
//! (`POST /purgeme`). The JSON POSTs need `Content-Type: application/json`, which a cross-site
//! form cannot send without a CORS preflight, and the session cookie is SameSite=Lax.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::account::{self, AccountError};
use crate::auth::{Caller, SessionUser};
use crate::error::ApiError;
use crate::http::AppState;
use crate::identity::user;

/// A linked account.
#[derive(Debug, Serialize, ToSchema)]
pub struct Linked {
    /// Whether it is linked.
    pub linked: bool,
    /// Its id (Discord snowflake, racetime.gg hashid).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Its name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its profile page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// The caller's linked accounts.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkedAccounts {
    /// Discord.
    pub discord: Linked,
    /// racetime.gg.
    pub racetime: Linked,
    /// Twitch.
    pub twitch: Linked,
}

/// The caller's profile.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// The user id.
    pub id: String,
    /// The display name, if set.
    pub display_name: Option<String>,
    /// Linked accounts.
    pub linked_accounts: LinkedAccounts,
}

/// `{"data": Me}` (upstream W8's envelope).
#[derive(Debug, Serialize, ToSchema)]
pub struct MeEnvelope {
    /// The profile.
    pub data: Me,
}

fn me(state: &AppState, user: &user::Model) -> Me {
    let discord = user
        .discord_user_id
        .map(|id| platform::db::u64_from_db(id).to_string());
    Me {
        id: user.id.to_string(),
        display_name: user.display_name.clone(),
        linked_accounts: LinkedAccounts {
            discord: Linked {
                linked: discord.is_some(),
                id: discord,
                name: None,
                url: None,
            },
            racetime: Linked {
                linked: user.racetime_user_id.is_some(),
                url: user
                    .racetime_user_id
                    .as_ref()
                    .map(|id| state.oauth.racetime_user_url(id)),
                id: user.racetime_user_id.clone(),
                name: user.racetime_name.clone(),
            },
            twitch: Linked {
                linked: user.twitch_name.is_some(),
                id: None,
                name: user.twitch_name.clone(),
                url: None,
            },
        },
    }
}

/// The caller's profile: a logged-in user, or the owner of the API key.
#[utoipa::path(get, path = "/api/v1/me", tag = "account",
    responses((status = 200, body = MeEnvelope), (status = 401), (status = 404, description = "an operator's key has no user")),
    security(("api_key" = []), ("session" = [])))]
pub async fn v1_me(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<MeEnvelope>, ApiError> {
    let user = caller
        .user()
        .ok_or_else(|| ApiError::not_found("this API key belongs to the operator, not a user"))?;
    Ok(Json(MeEnvelope {
        data: me(&state, user),
    }))
}

/// Upstream W8: the logged-in user's profile.
#[utoipa::path(get, path = "/api/me", tag = "upstream",
    responses((status = 200, body = MeEnvelope), (status = 401)), security(("session" = [])))]
pub async fn upstream_me(State(state): State<AppState>, session: SessionUser) -> Json<MeEnvelope> {
    Json(MeEnvelope {
        data: me(&state, &session.user),
    })
}

/// `{"display_name"}`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DisplayName {
    /// 1–32 characters, unique.
    pub display_name: String,
}

/// `{"success": true, ...}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Success {
    /// Always true.
    pub success: bool,
    /// The new display name (W11).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Where the page should go next (W6).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect: Option<String>,
}

fn account_error(error: AccountError) -> ApiError {
    match error {
        AccountError::Db(_) | AccountError::Events(_) => ApiError::internal(error),
        AccountError::NoUser => ApiError::unauthenticated(error.to_string()),
        other => ApiError::bad_request(other.to_string()),
    }
}

/// Upstream W11: sets the display name.
#[utoipa::path(post, path = "/api/me/display-name", tag = "upstream", request_body = DisplayName,
    responses((status = 200, body = Success), (status = 400), (status = 401)), security(("session" = [])))]
pub async fn display_name(
    State(state): State<AppState>,
    session: SessionUser,
    Json(body): Json<DisplayName>,
) -> Result<Json<Success>, ApiError> {
    let user = account::set_display_name(&state.db, session.user.id, &body.display_name)
        .await
        .map_err(account_error)?;
    Ok(Json(Success {
        success: true,
        display_name: user.display_name,
        redirect: None,
    }))
}

/// Upstream W12: unlinks racetime.gg.
#[utoipa::path(post, path = "/api/me/racetime/unlink", tag = "upstream",
    responses((status = 200, body = Success), (status = 400), (status = 401)), security(("session" = [])))]
pub async fn unlink(
    State(state): State<AppState>,
    session: SessionUser,
    _json: axum::extract::Json<serde_json::Value>,
) -> Result<Json<Success>, ApiError> {
    account::unlink_racetime(&state.db, &state.outbox, session.user.id)
        .await
        .map_err(account_error)?;
    Ok(Json(Success {
        success: true,
        display_name: None,
        redirect: None,
    }))
}

/// `{"confirmpurge": "yes"}`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Purge {
    /// Must be `yes`.
    #[serde(default)]
    pub confirmpurge: String,
}

/// Upstream W6: deletes the caller's data everywhere (with `{"confirmpurge": "yes"}`).
#[utoipa::path(post, path = "/purgeme", tag = "upstream", request_body = Purge,
    responses((status = 200, body = Success), (status = 401)), security(("session" = [])))]
pub async fn purge(
    State(state): State<AppState>,
    session: SessionUser,
    Json(body): Json<Purge>,
) -> Result<Json<serde_json::Value>, ApiError> {
    if body.confirmpurge != "yes" {
        return Ok(Json(
            serde_json::json!({"success": false, "redirect": "/me"}),
        ));
    }
    account::purge(&state.db, &state.outbox, session.user.id)
        .await
        .map_err(account_error)?;
    session.session.flush().await.map_err(ApiError::internal)?;
    Ok(Json(
        serde_json::json!({"success": true, "redirect": "/logout/"}),
    ))
}
