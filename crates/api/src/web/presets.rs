//! Preset pages (spec W15–W19): browse the global and namespaced presets of each randomizer,
//! view one, and — for a namespace's owner and collaborators — upload, replace and delete
//! presets and manage collaborators. seedgen decides who may edit; these pages only hide the
//! forms from others.

use askama::Template;
use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use proto::seedgen::v1 as pb;
use serde::Deserialize;

use super::{Chrome, Viewer, WebError, render};
use crate::http::AppState;
use crate::identity::user;
use crate::presets::{self, PresetList, RANDOMIZERS};

/// `?randomizer=`.
#[derive(Debug, Deserialize)]
pub struct Which {
    randomizer: Option<String>,
}

#[derive(Template)]
#[template(path = "presets.html")]
struct Index {
    chrome: Chrome,
    randomizers: &'static [&'static str],
    list: std::sync::Arc<PresetList>,
}

/// `GET /presets?randomizer=`: the listing (alttpr by default).
pub async fn index(
    viewer: Viewer,
    State(state): State<AppState>,
    Query(which): Query<Which>,
) -> Result<Response, WebError> {
    let randomizer = which.randomizer.unwrap_or_else(|| "alttpr".to_owned());
    let list = presets::list(&state, &randomizer)
        .await
        .map_err(|s| WebError::from_status(&s))?;
    Ok(render(&Index {
        chrome: viewer.chrome("Presets").await,
        randomizers: &RANDOMIZERS,
        list,
    }))
}

/// The Discord id of `user`, which edits presets.
fn editor(user: &user::Model) -> Result<u64, WebError> {
    user.discord_user_id
        .map(platform::db::u64_from_db)
        .ok_or_else(|| {
            WebError::Page(
                StatusCode::FORBIDDEN,
                "Not allowed",
                "Presets belong to Discord accounts; log in with Discord.".to_owned(),
            )
        })
}

/// `GET /presets/me` (W15): the visitor's namespace, created on first visit.
pub async fn mine(viewer: Viewer, State(state): State<AppState>) -> Result<Response, WebError> {
    let user = viewer.require_user()?;
    let discord = editor(user)?;
    let name = match viewer
        .session
        .get::<String>(super::account::DISCORD_NAME)
        .await
    {
        Ok(Some(name)) => name,
        _ => user.display_name.clone().unwrap_or_default(),
    };
    let ns = presets::own_namespace(&state, discord, &name)
        .await
        .map_err(|s| WebError::from_status(&s))?;
    Ok(Redirect::to(&format!("/presets/manage/{}", ns.name)).into_response())
}

#[derive(Template)]
#[template(path = "namespace.html")]
struct NamespacePage {
    chrome: Chrome,
    ns: pb::Namespace,
    randomizers: &'static [&'static str],
    can_edit: bool,
    is_owner: bool,
}

/// Whether the viewer owns `ns`, and whether they may edit it.
fn rights(viewer: &Viewer, ns: &pb::Namespace) -> (bool, bool) {
    let Some(discord) = viewer
        .user
        .as_ref()
        .and_then(|u| u.discord_user_id)
        .map(|id| platform::db::u64_from_db(id).to_string())
    else {
        return (false, false);
    };
    let owner = ns.owner_discord_user_id == discord;
    (
        owner,
        owner || ns.collaborator_discord_user_ids.contains(&discord),
    )
}

/// `GET /presets/manage/{namespace}` (W17).
pub async fn namespace(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, WebError> {
    let ns = presets::namespace(&state, &name)
        .await
        .map_err(|s| WebError::from_status(&s))?;
    let (is_owner, can_edit) = rights(&viewer, &ns);
    Ok(render(&NamespacePage {
        chrome: viewer.chrome(&format!("Namespace {}", ns.name)).await,
        ns,
        randomizers: &RANDOMIZERS,
        can_edit,
        is_owner,
    }))
}

#[derive(Template)]
#[template(path = "preset.html")]
struct PresetPage {
    chrome: Chrome,
    reference: String,
    namespace: String,
    randomizer: String,
    name: String,
    description: String,
    yaml: String,
    download_url: String,
    can_edit: bool,
}

/// `GET /presets/manage/{namespace}/{randomizer}/{name}` (W18).
pub async fn preset(
    viewer: Viewer,
    State(state): State<AppState>,
    Path((namespace, randomizer, name)): Path<(String, String, String)>,
) -> Result<Response, WebError> {
    let ns = presets::namespace(&state, &namespace)
        .await
        .map_err(|s| WebError::from_status(&s))?;
    let found = presets::get(&state, &randomizer, &format!("{namespace}/{name}"))
        .await
        .map_err(|s| WebError::from_status(&s))?;
    let (_, can_edit) = rights(&viewer, &ns);
    let reference = format!("{namespace}/{name}");
    Ok(render(&PresetPage {
        chrome: viewer.chrome(&reference).await,
        download_url: format!("/presets/download/{namespace}/{randomizer}/{name}"),
        reference,
        namespace,
        randomizer: found.randomizer,
        name: found.name,
        description: found.description,
        yaml: found.yaml,
        can_edit,
    }))
}

/// `GET /presets/global/{randomizer}/{name}`: a global preset (read-only).
pub async fn global_preset(
    viewer: Viewer,
    State(state): State<AppState>,
    Path((randomizer, name)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let found = presets::get(&state, &randomizer, &name)
        .await
        .map_err(|s| WebError::from_status(&s))?;
    Ok(render(&PresetPage {
        chrome: viewer.chrome(&name).await,
        download_url: format!("/api/v1/presets/{randomizer}/{name}/yaml"),
        reference: name.clone(),
        namespace: String::new(),
        randomizer: found.randomizer,
        name: found.name,
        description: found.description,
        yaml: found.yaml,
        can_edit: false,
    }))
}

/// `POST /presets/manage/{namespace}/upload` (W16, W19): multipart `csrf`, `randomizer`,
/// `preset_name`, file `presetfile`.
pub async fn upload(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(namespace): Path<String>,
    mut multipart: Multipart,
) -> Result<Response, WebError> {
    let (mut csrf, mut randomizer, mut name, mut yaml) =
        (String::new(), String::new(), String::new(), None);
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| WebError::Page(StatusCode::BAD_REQUEST, "Upload failed", e.body_text()))?
    {
        let field_name = field.name().unwrap_or_default().to_owned();
        let bytes = field
            .bytes()
            .await
            .map_err(|e| WebError::Page(StatusCode::BAD_REQUEST, "Upload failed", e.body_text()))?;
        let text = String::from_utf8(bytes.to_vec()).map_err(|_| {
            WebError::Page(
                StatusCode::BAD_REQUEST,
                "Upload failed",
                format!("`{field_name}` is not UTF-8 text."),
            )
        })?;
        match field_name.as_str() {
            "csrf" => csrf = text,
            "randomizer" => randomizer = text,
            "preset_name" => name = text,
            "presetfile" => yaml = Some(text),
            _ => {}
        }
    }
    viewer.check_csrf(&csrf).await?;
    let user = viewer.require_user()?;
    let discord = editor(user)?;
    let Some(yaml) = yaml.filter(|y| !y.trim().is_empty()) else {
        return Err(WebError::Page(
            StatusCode::BAD_REQUEST,
            "Upload failed",
            "A preset file is required.".to_owned(),
        ));
    };
    let saved = presets::save(&state, &randomizer, &namespace, &name, yaml, discord)
        .await
        .map_err(|s| WebError::from_status(&s))?;
    viewer
        .flash(format!("Saved {}/{}.", saved.namespace, saved.name), false)
        .await;
    Ok(Redirect::to(&format!(
        "/presets/manage/{}/{}/{}",
        saved.namespace, saved.randomizer, saved.name
    ))
    .into_response())
}

/// The delete form.
#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /presets/manage/{namespace}/{randomizer}/{name}/delete` (W19).
pub async fn delete(
    viewer: Viewer,
    State(state): State<AppState>,
    Path((namespace, randomizer, name)): Path<(String, String, String)>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, WebError> {
    viewer.check_csrf(&form.csrf).await?;
    let discord = editor(viewer.require_user()?)?;
    presets::delete(&state, &randomizer, &namespace, &name, discord)
        .await
        .map_err(|s| WebError::from_status(&s))?;
    viewer
        .flash(format!("Deleted {namespace}/{name}."), false)
        .await;
    Ok(Redirect::to(&format!("/presets/manage/{namespace}")).into_response())
}

/// The collaborator form.
#[derive(Debug, Deserialize)]
pub struct CollaboratorForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    discord_user_id: String,
    #[serde(default)]
    action: String,
}

/// `POST /presets/manage/{namespace}/collaborators`: add or remove a collaborator (owner
/// only).
pub async fn collaborators(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(namespace): Path<String>,
    Form(form): Form<CollaboratorForm>,
) -> Result<Response, WebError> {
    viewer.check_csrf(&form.csrf).await?;
    let owner = editor(viewer.require_user()?)?;
    let Ok(collaborator) = form.discord_user_id.trim().parse::<u64>() else {
        viewer
            .flash(
                "A Discord user id is a number (Discord → Copy User ID).",
                true,
            )
            .await;
        return Ok(Redirect::to(&format!("/presets/manage/{namespace}")).into_response());
    };
    let add = form.action != "remove";
    presets::set_collaborator(&state, &namespace, owner, collaborator, add)
        .await
        .map_err(|s| WebError::from_status(&s))?;
    viewer
        .flash(
            if add {
                format!("{collaborator} may now edit {namespace}.")
            } else {
                format!("{collaborator} no longer edits {namespace}.")
            },
            false,
        )
        .await;
    Ok(Redirect::to(&format!("/presets/manage/{namespace}")).into_response())
}
