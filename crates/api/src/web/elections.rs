//! The ballot page of a ranked-choice election (spec W20–W21): `GET /ranked_choice/{id}` shows
//! the election and, to a logged-in voter who may vote, a form ranking the candidates;
//! `POST` casts it (once; CSRF-checked); the JSON routes `GET|POST /ranked_choice/{id}/api`
//! keep upstream's shapes. The tournament service decides who may vote (the voter role of a
//! private election) and counts.

use std::collections::HashMap;

use askama::Template;
use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use proto::elections::v1 as pb;
use proto::elections::v1::elections_client::ElectionsClient;
use serde::Deserialize;
use serde_json::json;

use super::{Chrome, Viewer, WebError, render};
use crate::error::ApiError;
use crate::http::AppState;

/// The tournament service, which owns elections.
fn tournament(state: &AppState) -> Result<platform::grpc::Peer, ApiError> {
    state
        .peers
        .get("tournament")
        .cloned()
        .map_err(|s| ApiError::from_status(&s))
}

/// The election as `voter` sees it.
async fn election(state: &AppState, id: i64, voter: u64) -> Result<pb::Election, ApiError> {
    let peer = tournament(state)?;
    let request = pb::GetElectionRequest {
        election_id: id,
        voter_discord_id: voter,
    };
    Ok(peer
        .call(|| {
            let mut client = ElectionsClient::new(peer.channel());
            async move { client.get_election(request).await }
        })
        .await
        .map_err(|s| ApiError::from_status(&s))?
        .into_inner())
}

async fn cast(state: &AppState, id: i64, voter: u64, ranking: Vec<i64>) -> Result<(), ApiError> {
    let peer = tournament(state)?;
    let request = pb::CastBallotRequest {
        election_id: id,
        voter_discord_id: voter,
        ranking,
    };
    peer.call(|| {
        let mut client = ElectionsClient::new(peer.channel());
        let request = request.clone();
        async move { client.cast_ballot(request).await }
    })
    .await
    .map_err(|s| ApiError::from_status(&s))?;
    Ok(())
}

/// The Discord id voting: ballots belong to Discord accounts.
fn voter(viewer: &Viewer) -> Result<u64, WebError> {
    let user = viewer.require_user()?;
    user.discord_user_id
        .map(platform::db::u64_from_db)
        .ok_or_else(|| {
            WebError::Page(
                axum::http::StatusCode::FORBIDDEN,
                "Not allowed",
                "Elections are voted with a Discord account; log in with Discord.".to_owned(),
            )
        })
}

/// `(candidate id, rank)` pairs into a ranking (best first): empty ranks skipped, each rank
/// once.
///
/// Errors: a rank used twice, or not a positive number.
pub fn ranking(votes: &[(i64, i64)]) -> Result<Vec<i64>, ApiError> {
    let mut ranked: Vec<(i64, i64)> = votes.iter().copied().filter(|(_, r)| *r != 0).collect();
    if ranked.iter().any(|(_, r)| *r < 0) {
        return Err(ApiError::bad_request("Ranks are positive numbers."));
    }
    ranked.sort_by_key(|(_, r)| *r);
    if ranked.windows(2).any(|w| w[0].1 == w[1].1) {
        return Err(ApiError::bad_request("Each rank must be unique."));
    }
    Ok(ranked.into_iter().map(|(c, _)| c).collect())
}

#[derive(Template)]
#[template(path = "ballot.html")]
struct Ballot {
    chrome: Chrome,
    e: pb::Election,
    mine: Vec<String>,
    ranks: Vec<usize>,
}

/// `GET /ranked_choice/{id}`.
pub async fn page(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    let who = voter(&viewer)?;
    let e = election(&state, id, who).await.map_err(WebError::from)?;
    let mine = e
        .my_ranking
        .iter()
        .filter_map(|c| e.candidates.iter().find(|k| k.id == *c))
        .map(|c| c.name.clone())
        .collect();
    Ok(render(&Ballot {
        chrome: viewer.chrome(&e.title).await,
        ranks: (1..=e.candidates.len()).collect(),
        mine,
        e,
    }))
}

/// `POST /ranked_choice/{id}`: `csrf` and `rank_<candidate id>` fields.
pub async fn submit(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    axum::Form(form): axum::Form<HashMap<String, String>>,
) -> Result<Response, WebError> {
    let who = voter(&viewer)?;
    viewer
        .check_csrf(form.get("csrf").map_or("", String::as_str))
        .await?;
    let mut votes = Vec::new();
    for (key, value) in &form {
        let Some(candidate) = key.strip_prefix("rank_") else {
            continue;
        };
        let (Ok(candidate), rank) = (candidate.parse::<i64>(), value.trim()) else {
            return Err(ApiError::bad_request("Invalid candidate.").into());
        };
        if rank.is_empty() {
            continue;
        }
        let rank = rank
            .parse::<i64>()
            .map_err(|_| ApiError::bad_request("Ranks are numbers."))?;
        votes.push((candidate, rank));
    }
    let ranking = ranking(&votes)?;
    cast(&state, id, who, ranking).await?;
    Ok(Redirect::to(&format!("/ranked_choice/{id}")).into_response())
}

/// W20: `GET /ranked_choice/{id}/api`.
pub async fn api_get(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let who = voter(&viewer).map_err(|_| ApiError::unauthenticated("log in with Discord"))?;
    let e = election(&state, id, who).await?;
    if !e.active {
        return Err(ApiError::not_found("Election is inactive."));
    }
    if !e.may_vote && e.my_ranking.is_empty() {
        return Err(ApiError::forbidden(e.why_not.clone()));
    }
    let existing = (!e.my_ranking.is_empty()).then(|| {
        e.my_ranking
            .iter()
            .zip(1..)
            .map(|(c, rank)| json!({"candidate_id": c, "rank": rank}))
            .collect::<Vec<_>>()
    });
    Ok(Json(json!({
        "election": {
            "id": e.id, "name": e.title, "description": e.description,
            "candidates": e.candidates.iter().map(|c| json!({"id": c.id, "name": c.name})).collect::<Vec<_>>(),
        },
        "existing_votes": existing,
        "already_voted": !e.my_ranking.is_empty(),
    }))
    .into_response())
}

/// W21's body: `{"votes": [{"candidate_id", "rank"}]}`.
#[derive(Debug, Deserialize)]
pub struct Votes {
    votes: Vec<Vote>,
}

#[derive(Debug, Deserialize)]
struct Vote {
    candidate_id: i64,
    #[serde(default)]
    rank: Option<i64>,
}

/// W21: `POST /ranked_choice/{id}/api` (JSON only, so a cross-site form cannot send it).
pub async fn api_post(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Json(body): Json<Votes>,
) -> Result<Response, ApiError> {
    let who = voter(&viewer).map_err(|_| ApiError::unauthenticated("log in with Discord"))?;
    let votes: Vec<(i64, i64)> = body
        .votes
        .iter()
        .map(|v| (v.candidate_id, v.rank.unwrap_or(0)))
        .collect();
    cast(&state, id, who, ranking(&votes)?).await?;
    Ok(Json(json!({"success": true})).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_order_the_ballot_skip_blanks_and_are_unique() {
        assert_eq!(ranking(&[(7, 2), (5, 0), (9, 1)]).unwrap(), vec![9, 7]);
        // Only the order matters, not the numbers.
        assert_eq!(ranking(&[(7, 10), (9, 3)]).unwrap(), vec![9, 7]);
        let twice = ranking(&[(7, 1), (9, 1)]).unwrap_err();
        assert_eq!(twice.message, "Each rank must be unique.");
        assert!(ranking(&[(7, -1)]).is_err());
        assert!(ranking(&[]).unwrap().is_empty());
    }
}
