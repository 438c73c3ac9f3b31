//! The mystery settings generator page: roll a named weightset or pasted weights (YAML or
//! JSON) and show the settings, without generating a seed.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::response::Response;
use proto::seedgen::v1::RollMysteryRequest;
use serde::Deserialize;

use super::{Chrome, Viewer, WebError, render};
use crate::http::AppState;

/// A roll's result as shown.
struct Shown {
    settings: String,
    customizer: bool,
    doors: bool,
    instructions: String,
}

#[derive(Template)]
#[template(path = "mystery.html")]
struct MysteryPage {
    chrome: Chrome,
    weightsets: Vec<String>,
    chosen: String,
    weights: String,
    result: Option<Shown>,
}

async fn weightsets(state: &AppState) -> Result<Vec<String>, WebError> {
    Ok(crate::presets::list(state, "alttprmystery")
        .await
        .map_err(|s| WebError::from_status(&s))?
        .global
        .iter()
        .map(|p| p.name.clone())
        .collect())
}

/// `GET /mystery`.
pub async fn form(viewer: Viewer, State(state): State<AppState>) -> Result<Response, WebError> {
    Ok(render(&MysteryPage {
        chrome: viewer.form_chrome("Mystery settings").await,
        weightsets: weightsets(&state).await?,
        chosen: String::new(),
        weights: String::new(),
        result: None,
    }))
}

/// The form.
#[derive(Debug, Deserialize)]
pub struct RollForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    weightset: String,
    #[serde(default)]
    weights: String,
}

/// `POST /mystery`: rolls and shows the result under the form (errors as a message above it).
pub async fn roll(
    viewer: Viewer,
    State(state): State<AppState>,
    Form(form): Form<RollForm>,
) -> Result<Response, WebError> {
    viewer.check_csrf(&form.csrf).await?;
    let request = if form.weights.trim().is_empty() {
        RollMysteryRequest {
            weightset: form.weightset.trim().to_owned(),
            ..RollMysteryRequest::default()
        }
    } else {
        RollMysteryRequest {
            weightset_yaml: form.weights.clone(),
            ..RollMysteryRequest::default()
        }
    };
    let result = match crate::rest::mystery::roll_settings(&state, request).await {
        Ok(rolled) => Some(Shown {
            settings: serde_json::to_string_pretty(&rolled.settings).unwrap_or_default(),
            customizer: rolled.customizer,
            doors: rolled.doors,
            instructions: rolled.custom_instructions.unwrap_or_default(),
        }),
        Err(error) => {
            viewer.flash(error.message, true).await;
            None
        }
    };
    Ok(render(&MysteryPage {
        chrome: viewer.form_chrome("Mystery settings").await,
        weightsets: weightsets(&state).await?,
        chosen: form.weightset,
        weights: form.weights,
        result,
    }))
}
