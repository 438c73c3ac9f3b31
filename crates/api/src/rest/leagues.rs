//! League car-number rosters, public: `GET /api/v1/leagues/{guild}/{league}/roster` as JSON,
//! or CSV with `?format=csv` (the tournament service renders it; the same file as Discord's
//! `/export`). `{league}` is the league's slug; `-` means the guild's only league.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use proto::leagues::v1 as pb;
use proto::leagues::v1::leagues_client::LeaguesClient;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;
use crate::http::AppState;

/// `?format=`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct RosterFormat {
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

/// One claimed number.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimBody {
    /// The number.
    pub number: i32,
    /// Its car class ("" without classes).
    pub class: String,
    /// The holder's Discord id.
    pub discord_user_id: String,
    /// Their iRacing customer id, when linked.
    pub iracing_cust_id: Option<String>,
    /// Their iRacing name, once a sync saw it.
    pub iracing_name: Option<String>,
    /// iRacing shows them with this number.
    pub verified: bool,
    /// Since when.
    pub claimed_at: Option<DateTime<Utc>>,
}

/// A league's roster.
#[derive(Debug, Serialize, ToSchema)]
pub struct RosterBody {
    /// The league's name.
    pub name: String,
    /// Its slug.
    pub league: String,
    /// Lowest and highest number.
    pub numbers: [i32; 2],
    /// Its classes.
    pub classes: Vec<String>,
    /// Reserved numbers.
    pub reserved: Vec<i32>,
    /// The claims, by class and number.
    pub claims: Vec<ClaimBody>,
}

/// The claims of `r` as the API shows them.
pub fn claims(r: &[pb::Claim]) -> Vec<ClaimBody> {
    r.iter()
        .map(|c| ClaimBody {
            number: c.number,
            class: c.class.clone(),
            discord_user_id: c.discord_user_id.to_string(),
            iracing_cust_id: (c.iracing_cust_id != 0).then(|| c.iracing_cust_id.to_string()),
            iracing_name: (!c.iracing_name.is_empty()).then(|| c.iracing_name.clone()),
            verified: c.verified,
            claimed_at: platform::grpc::datetime(c.claimed_at.as_ref()),
        })
        .collect()
}

/// The whole roster of league `league` of guild `guild` (`-`: its only league).
///
/// Errors: the tournament service is unavailable, or no such league (404).
pub async fn roster_of(
    state: &AppState,
    guild: u64,
    league: &str,
) -> Result<pb::ExportRosterReply, ApiError> {
    let peer = state
        .peers
        .get("tournament")
        .map_err(|s| ApiError::from_status(&s))?;
    let request = pb::LeagueRef {
        guild_id: guild,
        league: if league == "-" {
            String::new()
        } else {
            league.to_owned()
        },
    };
    Ok(peer
        .call(|| {
            let mut client = LeaguesClient::new(peer.channel());
            let request = request.clone();
            async move { client.export_roster(request).await }
        })
        .await
        .map_err(|s| ApiError::from_status(&s))?
        .into_inner())
}

/// Every claim of a league, with its rules (public).
#[utoipa::path(get, path = "/api/v1/leagues/{guild}/{league}/roster", tag = "leagues",
    params(("guild" = u64, Path, description = "The Discord guild id"),
           ("league" = String, Path, description = "The league slug, or `-` for the guild's only league"),
           RosterFormat),
    responses((status = 200, body = RosterBody), (status = 200, content_type = "text/csv", body = String), (status = 404)))]
pub async fn roster(
    State(state): State<AppState>,
    Path((guild, league)): Path<(u64, String)>,
    Query(format): Query<RosterFormat>,
) -> Result<Response, ApiError> {
    let export = roster_of(&state, guild, &league).await?;
    let l = export.league.clone().unwrap_or_default();
    if format.format.as_deref() == Some("csv") {
        return Ok((
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/csv; charset=utf-8"),
                ),
                (
                    header::CONTENT_DISPOSITION,
                    HeaderValue::from_str(&format!(
                        "attachment; filename=\"{}-roster.csv\"",
                        l.slug
                    ))
                    .unwrap_or_else(|_| HeaderValue::from_static("attachment")),
                ),
            ],
            export.csv,
        )
            .into_response());
    }
    Ok(Json(RosterBody {
        name: l.name,
        league: l.slug,
        numbers: [l.number_min, l.number_max],
        classes: l.classes,
        reserved: l.reserved,
        claims: claims(&export.claims),
    })
    .into_response())
}
