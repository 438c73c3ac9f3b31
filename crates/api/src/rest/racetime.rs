//! `POST /api/v1/racetime/command` (and upstream's `POST /api/racetime/cmd`, spec R1): runs a
//! chat command in a race room the bot handles, as a monitor. Needs the
//! `racetime:cmd:<category>` scope.

use axum::Json;
use axum::extract::State;
use proto::racetime::v1::InjectCommandRequest;
use proto::racetime::v1::race_rooms_client::RaceRoomsClient;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::ApiKey;
use crate::error::ApiError;
use crate::http::AppState;

/// The request body (upstream's shape).
#[derive(Debug, Deserialize, ToSchema)]
pub struct CommandBody {
    /// The racetime.gg category, e.g. `alttpr`.
    pub category: String,
    /// The room slug (`witty-zelda-1016`), or `category/slug`.
    pub room: String,
    /// The command, e.g. `!race open`.
    pub cmd: String,
}

/// The answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Done {
    /// Always true.
    pub success: bool,
}

/// Runs a chat command in a race room the bot handles, as a monitor (scope
/// `racetime:cmd:<category>`).
#[utoipa::path(post, path = "/api/v1/racetime/command", tag = "racetime", request_body = CommandBody,
    responses((status = 200, body = Done), (status = 400), (status = 401), (status = 403),
        (status = 404, description = "the room is not handled by the bot")),
    security(("api_key" = ["racetime:cmd:<category>"])))]
pub async fn command(
    State(state): State<AppState>,
    key: ApiKey,
    Json(body): Json<CommandBody>,
) -> Result<Json<Done>, ApiError> {
    let category = body.category.trim();
    if category.is_empty() || body.room.trim().is_empty() || body.cmd.trim().is_empty() {
        return Err(ApiError::bad_request(
            "`category`, `room` and `cmd` are required",
        ));
    }
    key.require(&format!("racetime:cmd:{category}"))?;
    let room = body.room.trim();
    let room = match room.split_once('/') {
        Some((prefix, _)) if prefix == category => room.to_owned(),
        Some(_) => {
            return Err(ApiError::bad_request(format!(
                "room `{room}` is not in category `{category}`"
            )));
        }
        None => format!("{category}/{room}"),
    };
    let peer = state
        .peers
        .get("racetime")
        .map_err(|status| ApiError::from_status(&status))?;
    let request = InjectCommandRequest {
        room,
        command: body.cmd.trim().to_owned(),
        requested_by: format!("api key {} ({})", key.0.id, key.0.name),
    };
    peer.call(|| {
        let mut client = RaceRoomsClient::new(peer.channel());
        let request = request.clone();
        async move { client.inject_command(request).await }
    })
    .await
    .map_err(|status| ApiError::from_status(&status))?;
    Ok(Json(Done { success: true }))
}

/// Upstream R1: the same as `POST /api/v1/racetime/command`.
#[utoipa::path(post, path = "/api/racetime/cmd", tag = "upstream", request_body = CommandBody,
    responses((status = 200, body = Done), (status = 401), (status = 403), (status = 404)),
    security(("api_key" = ["racetime:cmd:<category>"])))]
pub async fn upstream_command(
    state: State<AppState>,
    key: ApiKey,
    body: Json<CommandBody>,
) -> Result<Json<Done>, ApiError> {
    command(state, key, body).await
}
