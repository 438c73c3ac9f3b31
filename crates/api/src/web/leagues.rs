//! A league's public roster page: who holds which car number, with the iRacing check's result
//! (Discord ids are not shown; the iRacing name is, once a sync saw it), and the CSV link.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;

use super::{Chrome, Viewer, WebError, render};
use crate::http::AppState;
use crate::rest::leagues::{ClaimBody, claims, roster_of};

#[derive(Template)]
#[template(path = "roster.html")]
struct Roster {
    chrome: Chrome,
    name: String,
    min: i32,
    max: i32,
    classes: String,
    reserved: String,
    claims: Vec<ClaimBody>,
    csv_url: String,
}

/// `GET /leagues/{guild}/{league}`: the roster (`-`: the guild's only league).
pub async fn roster(
    viewer: Viewer,
    State(state): State<AppState>,
    Path((guild, league)): Path<(u64, String)>,
) -> Result<Response, WebError> {
    let export = roster_of(&state, guild, &league)
        .await
        .map_err(WebError::from)?;
    let l = export.league.clone().unwrap_or_default();
    Ok(render(&Roster {
        chrome: viewer.chrome(&format!("{} — roster", l.name)).await,
        csv_url: format!("/api/v1/leagues/{guild}/{league}/roster?format=csv"),
        classes: l.classes.join(", "),
        reserved: l
            .reserved
            .iter()
            .map(|n| format!("#{n}"))
            .collect::<Vec<_>>()
            .join(", "),
        name: l.name,
        min: l.number_min,
        max: l.number_max,
        claims: claims(&export.claims),
    }))
}
