//! Presets over REST: the listing (public, cached), one preset as parsed data or as its YAML
//! file, a namespace, and namespace edits (a logged-in owner or collaborator, or an API key
//! with `presets:write` that belongs to one; seedgen checks the namespace rights). Upstream's
//! P1–P3 and W17–W18 paths are kept as aliases with upstream's answers.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use proto::seedgen::v1 as pb;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::http::AppState;
use crate::presets::{self, PresetList};

fn status(s: &tonic::Status) -> ApiError {
    ApiError::from_status(s)
}

/// `?format=`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct Format {
    /// `yaml`: the stored file as an attachment; otherwise the parsed preset as JSON.
    format: Option<String>,
}

/// One preset, parsed.
#[derive(Debug, Serialize, ToSchema)]
pub struct PresetData {
    /// The randomizer.
    pub randomizer: String,
    /// The preset name.
    pub name: String,
    /// Its namespace; empty for a global preset.
    pub namespace: String,
    /// Its description, if any.
    pub description: String,
    /// When it last changed (namespaced presets), RFC 3339.
    pub updated_at: Option<String>,
    /// The preset's YAML as JSON.
    #[schema(value_type = Object)]
    pub data: Value,
}

fn parsed(preset: &pb::Preset) -> Result<Value, ApiError> {
    serde_yaml::from_str::<Value>(&preset.yaml).map_err(ApiError::internal)
}

fn data(preset: pb::Preset) -> Result<PresetData, ApiError> {
    let data = parsed(&preset)?;
    Ok(PresetData {
        updated_at: platform::grpc::datetime(preset.updated_at.as_ref()).map(|d| d.to_rfc3339()),
        randomizer: preset.randomizer,
        name: preset.name,
        namespace: preset.namespace,
        description: preset.description,
        data,
    })
}

/// The YAML file as an attachment named `filename`.
fn attachment(yaml: String, filename: &str) -> Response {
    let disposition = format!(
        "attachment; filename=\"{}\"",
        filename.replace(['"', '\\', '\r', '\n'], "_")
    );
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition)
                    .unwrap_or_else(|_| HeaderValue::from_static("attachment")),
            ),
        ],
        yaml,
    )
        .into_response()
}

fn preset_or_yaml(
    preset: pb::Preset,
    format: &Format,
    filename: &str,
) -> Result<Response, ApiError> {
    if format.format.as_deref() == Some("yaml") {
        return Ok(attachment(preset.yaml, filename));
    }
    Ok(Json(data(preset)?).into_response())
}

/// Every preset of a randomizer: the global ones and each namespace's.
#[utoipa::path(get, path = "/api/v1/presets/{randomizer}", tag = "presets",
    params(("randomizer" = String, Path, description = "alttpr, alttprmystery, sm, smz3 or ctjets")),
    responses((status = 200, body = PresetList), (status = 400, description = "unknown randomizer")))]
pub async fn list(
    State(state): State<AppState>,
    Path(randomizer): Path<String>,
) -> Result<Json<PresetList>, ApiError> {
    let list = presets::list(&state, &randomizer)
        .await
        .map_err(|s| status(&s))?;
    Ok(Json((*list).clone()))
}

/// A global preset, parsed, or its YAML with `?format=yaml`.
#[utoipa::path(get, path = "/api/v1/presets/{randomizer}/{name}", tag = "presets",
    params(("randomizer" = String, Path), ("name" = String, Path), Format),
    responses((status = 200, body = PresetData), (status = 404, description = "no such preset")))]
pub async fn global(
    State(state): State<AppState>,
    Path((randomizer, name)): Path<(String, String)>,
    Query(format): Query<Format>,
) -> Result<Response, ApiError> {
    let preset = presets::get(&state, &randomizer, &name)
        .await
        .map_err(|s| status(&s))?;
    preset_or_yaml(preset, &format, &format!("{name}.yaml"))
}

/// A namespace's preset, parsed, or its YAML with `?format=yaml`.
#[utoipa::path(get, path = "/api/v1/namespaces/{namespace}/presets/{randomizer}/{name}", tag = "presets",
    params(("namespace" = String, Path), ("randomizer" = String, Path), ("name" = String, Path), Format),
    responses((status = 200, body = PresetData), (status = 404, description = "no such preset")))]
pub async fn namespaced(
    State(state): State<AppState>,
    Path((namespace, randomizer, name)): Path<(String, String, String)>,
    Query(format): Query<Format>,
) -> Result<Response, ApiError> {
    let preset = presets::get(&state, &randomizer, &format!("{namespace}/{name}"))
        .await
        .map_err(|s| status(&s))?;
    preset_or_yaml(preset, &format, &format!("{namespace}-{name}.yaml"))
}

/// Creates or replaces a namespace's preset; the body is the YAML file. The caller must own
/// or collaborate on the namespace; an API key needs `presets:write`.
#[utoipa::path(put, path = "/api/v1/namespaces/{namespace}/presets/{randomizer}/{name}", tag = "presets",
    params(("namespace" = String, Path), ("randomizer" = String, Path), ("name" = String, Path)),
    request_body(content = String, content_type = "application/yaml"),
    responses((status = 200, body = PresetData), (status = 400, description = "not a valid preset"),
        (status = 401, description = "not logged in, bad key"), (status = 403, description = "not an editor of the namespace, or the key lacks presets:write")),
    security(("api_key" = ["presets:write"]), ("session" = [])))]
pub async fn put(
    State(state): State<AppState>,
    caller: Caller,
    Path((namespace, randomizer, name)): Path<(String, String, String)>,
    body: Bytes,
) -> Result<Json<PresetData>, ApiError> {
    caller.require("presets:write")?;
    let editor = caller.discord_user_id()?;
    let yaml = String::from_utf8(body.to_vec())
        .map_err(|_| ApiError::bad_request("the body must be the preset's YAML, in UTF-8"))?;
    if yaml.trim().is_empty() {
        return Err(ApiError::bad_request("A preset file is required."));
    }
    let saved = presets::save(&state, &randomizer, &namespace, &name, yaml, editor)
        .await
        .map_err(|s| status(&s))?;
    Ok(Json(data(saved)?))
}

/// Deletes a namespace's preset (owner or collaborator; an API key needs `presets:write`).
#[utoipa::path(delete, path = "/api/v1/namespaces/{namespace}/presets/{randomizer}/{name}", tag = "presets",
    params(("namespace" = String, Path), ("randomizer" = String, Path), ("name" = String, Path)),
    responses((status = 204, description = "deleted"), (status = 401), (status = 403), (status = 404)),
    security(("api_key" = ["presets:write"]), ("session" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path((namespace, randomizer, name)): Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    caller.require("presets:write")?;
    let editor = caller.discord_user_id()?;
    presets::delete(&state, &randomizer, &namespace, &name, editor)
        .await
        .map_err(|s| status(&s))?;
    Ok(StatusCode::NO_CONTENT)
}

/// A namespace: owner, collaborators and presets.
#[derive(Debug, Serialize, ToSchema)]
pub struct NamespaceData {
    /// The namespace name.
    pub name: String,
    /// The owner's Discord id.
    pub owner_discord_user_id: String,
    /// Collaborators' Discord ids.
    pub collaborator_discord_user_ids: Vec<String>,
    /// Its presets: `{randomizer, name}`.
    pub presets: Vec<NamespacedPreset>,
}

/// A preset in a namespace listing.
#[derive(Debug, Serialize, ToSchema)]
pub struct NamespacedPreset {
    /// The randomizer.
    pub randomizer: String,
    /// The name.
    pub name: String,
}

/// A namespace with its owner, collaborators and presets.
#[utoipa::path(get, path = "/api/v1/namespaces/{namespace}", tag = "presets",
    params(("namespace" = String, Path)),
    responses((status = 200, body = NamespaceData), (status = 404)))]
pub async fn namespace(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<NamespaceData>, ApiError> {
    let ns = presets::namespace(&state, &name)
        .await
        .map_err(|s| status(&s))?;
    Ok(Json(NamespaceData {
        presets: ns
            .presets
            .into_iter()
            .map(|p| NamespacedPreset {
                randomizer: p.randomizer,
                name: p.name,
            })
            .collect(),
        name: ns.name,
        owner_discord_user_id: ns.owner_discord_user_id,
        collaborator_discord_user_ids: ns.collaborator_discord_user_ids,
    }))
}

// Upstream's paths (spec §3.1 P1–P3, §3.3 W17–W18), with upstream's answers.

/// Upstream P1: a namespaced preset's YAML as `{namespace}-{preset}.yaml`.
#[utoipa::path(get, path = "/presets/download/{namespace}/{randomizer}/{preset}", tag = "upstream",
    params(("namespace" = String, Path), ("randomizer" = String, Path), ("preset" = String, Path)),
    responses((status = 200, content_type = "application/octet-stream", body = String), (status = 404)))]
pub async fn upstream_download(
    State(state): State<AppState>,
    Path((namespace, randomizer, name)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let preset = presets::get(&state, &randomizer, &format!("{namespace}/{name}"))
        .await
        .map_err(|s| match s.code() {
            tonic::Code::NotFound => ApiError::not_found("Preset not found."),
            _ => status(&s),
        })?;
    Ok(attachment(preset.yaml, &format!("{namespace}-{name}.yaml")))
}

/// Upstream P2's shape: global names and each namespace's names.
#[derive(Debug, Serialize, ToSchema)]
pub struct UpstreamList {
    /// Global preset names.
    pub global: Vec<String>,
    /// Namespaces with their preset names.
    pub namespaces: Vec<crate::presets::NamespacePresets>,
}

/// Upstream P2: `{"global": [names], "namespaces": [{"name", "presets"}]}`.
#[utoipa::path(get, path = "/presets/api/{randomizer}/list", tag = "upstream",
    params(("randomizer" = String, Path)),
    responses((status = 200, body = UpstreamList), (status = 400)))]
pub async fn upstream_list(
    State(state): State<AppState>,
    Path(randomizer): Path<String>,
) -> Result<Json<UpstreamList>, ApiError> {
    let list = presets::list(&state, &randomizer)
        .await
        .map_err(|s| status(&s))?;
    Ok(Json(UpstreamList {
        global: list.global.iter().map(|p| p.name.clone()).collect(),
        namespaces: list.namespaces.clone(),
    }))
}

/// `?preset=name` or `?preset=namespace/name`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct PresetQuery {
    /// `name` or `namespace/name`.
    preset: Option<String>,
}

/// Upstream P3: `{"preset", "randomizer", "data"}`, or `{}` when there is no such preset.
#[utoipa::path(get, path = "/presets/api/{randomizer}", tag = "upstream",
    params(("randomizer" = String, Path), PresetQuery),
    responses((status = 200, body = Object)))]
pub async fn upstream_get(
    State(state): State<AppState>,
    Path(randomizer): Path<String>,
    Query(query): Query<PresetQuery>,
) -> Result<Json<Value>, ApiError> {
    let name = query.preset.unwrap_or_default();
    match presets::get(&state, &randomizer, &name).await {
        Ok(preset) => Ok(Json(serde_json::json!({
            "preset": name,
            "randomizer": preset.randomizer,
            "data": parsed(&preset)?,
        }))),
        Err(s)
            if matches!(
                s.code(),
                tonic::Code::NotFound | tonic::Code::InvalidArgument
            ) =>
        {
            Ok(Json(serde_json::json!({})))
        }
        Err(s) => Err(status(&s)),
    }
}

/// `?randomizer=`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct RandomizerQuery {
    /// Only this randomizer's presets.
    randomizer: Option<String>,
}

fn is_owner(caller: Option<&Caller>, ns: &pb::Namespace) -> bool {
    caller
        .and_then(|c| c.discord_user_id().ok())
        .is_some_and(|id| id.to_string() == ns.owner_discord_user_id)
}

/// Upstream W17: a namespace's presets with `is_owner`.
#[utoipa::path(get, path = "/presets/manage/{namespace}/data.json", tag = "upstream",
    params(("namespace" = String, Path), RandomizerQuery),
    responses((status = 200, body = Object), (status = 404)))]
pub async fn upstream_namespace(
    State(state): State<AppState>,
    caller: Option<Caller>,
    Path(namespace): Path<String>,
    Query(query): Query<RandomizerQuery>,
) -> Result<Json<Value>, ApiError> {
    let ns = presets::namespace(&state, &namespace)
        .await
        .map_err(|s| status(&s))?;
    let presets: Vec<Value> = ns
        .presets
        .iter()
        .filter(|p| query.randomizer.as_ref().is_none_or(|r| *r == p.randomizer))
        .map(|p| serde_json::json!({"preset_name": p.name, "randomizer": p.randomizer}))
        .collect();
    Ok(Json(serde_json::json!({
        "namespace": ns.name,
        "is_owner": is_owner(caller.as_ref(), &ns),
        "randomizers": crate::presets::RANDOMIZERS,
        "randomizer": query.randomizer,
        "presets": presets,
    })))
}

/// Upstream W18: one namespaced preset with its content and download URL.
#[utoipa::path(get, path = "/presets/manage/{namespace}/{randomizer}/{name}/data.json", tag = "upstream",
    params(("namespace" = String, Path), ("randomizer" = String, Path), ("name" = String, Path)),
    responses((status = 200, body = Object), (status = 404)))]
pub async fn upstream_preset(
    State(state): State<AppState>,
    caller: Option<Caller>,
    Path((namespace, randomizer, name)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let ns = presets::namespace(&state, &namespace)
        .await
        .map_err(|s| status(&s))?;
    let preset = presets::get(&state, &randomizer, &format!("{namespace}/{name}"))
        .await
        .map_err(|s| status(&s))?;
    Ok(Json(serde_json::json!({
        "namespace": ns.name,
        "is_owner": is_owner(caller.as_ref(), &ns),
        "preset": {"preset_name": preset.name, "randomizer": preset.randomizer, "content": preset.yaml},
        "download_url": format!("/presets/download/{namespace}/{randomizer}/{name}"),
    })))
}
