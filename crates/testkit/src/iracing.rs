//! A fake iRacing (OAuth server and Data API) following the real shapes:
//!
//! - `POST /oauth2/token`, form-encoded `grant_type=password_limited`, `client_id`,
//!   `client_secret` and `password` masked (base64 of SHA-256 of the value followed by the
//!   lower-cased client id / username), `username`, `scope`: `{"access_token", "token_type":
//!   "Bearer", "expires_in", "refresh_token", "refresh_token_expires_in", "scope"}`; wrong
//!   credentials: 401 `{"error": "invalid_grant", ...}`.
//! - `GET /data/league/roster?league_id=N` with the bearer token: `{"link": <URL>, "expires"}`;
//!   the link (no token): `{"league_id", "success", "roster_count", "data_url"}`; the data URL:
//!   `{"league_id", "success", "roster_count", "roster": [{"cust_id", "display_name",
//!   "car_number": "7" | null, "owner", "admin", ...}]}`. An unknown league: 404.
//! - Every Data API answer carries `x-ratelimit-limit`, `x-ratelimit-remaining` and
//!   `x-ratelimit-reset` (epoch seconds); a forced limit answers 429.
//!
//! It can be taken down (503) or made to refuse every login.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use serde_json::{Value as Json, json};
use sha2::{Digest, Sha256};

/// The credentials the fake accepts.
pub const CLIENT_ID: &str = "sahasrahbot-test";
/// The client secret (sent masked).
pub const CLIENT_SECRET: &str = "fake-iracing-secret";
/// The bot account.
pub const USERNAME: &str = "Bot@Example.com";
/// Its password (sent masked).
pub const PASSWORD: &str = "fake-iracing-password";

#[derive(Debug, Default)]
struct Inner {
    rosters: BTreeMap<u64, Vec<Json>>,
    tokens: Vec<String>,
    down: bool,
    refuse_logins: bool,
    rate_limited: u32,
    logins: u32,
    roster_calls: u32,
}

/// A running fake.
#[derive(Clone, Debug)]
pub struct FakeIracing {
    /// `http://127.0.0.1:<port>`: the OAuth base is `{url}/oauth2`, the Data API base `{url}`.
    pub url: String,
    inner: Arc<Mutex<Inner>>,
}

fn mask(secret: &str, id: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(
        format!("{secret}{}", id.trim().to_lowercase()).as_bytes(),
    ))
}

impl FakeIracing {
    /// Starts the fake.
    ///
    /// Errors: no port to listen on.
    pub async fn start() -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let fake = Self {
            url: format!("http://{}", listener.local_addr()?),
            inner: Arc::default(),
        };
        let app = Router::new()
            .route("/oauth2/token", post(token))
            .route("/data/league/roster", get(roster))
            .route("/links/roster/{league}", get(link))
            .route("/links/roster-data/{league}", get(data))
            .with_state(fake.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(fake)
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Sets league `league_id`'s roster: `(cust_id, display name, car number)`.
    pub fn set_roster(&self, league_id: u64, members: &[(u64, &str, Option<&str>)]) {
        let roster = members
            .iter()
            .map(|(cust, name, number)| {
                json!({"cust_id": cust, "display_name": name, "car_number": number,
                       "helmet": {"pattern": 1, "color1": "ffffff", "color2": "000000", "color3": "ff0000"},
                       "owner": false, "admin": false, "league_mail_opt_out": false,
                       "league_pm_opt_out": false, "league_member_since": "2025-01-01T00:00:00Z",
                       "nick_name": null})
            })
            .collect();
        self.lock().rosters.insert(league_id, roster);
    }

    /// Answers 503 to everything while `down`.
    pub fn set_down(&self, down: bool) {
        self.lock().down = down;
    }

    /// Refuses every login (revoked credentials).
    pub fn refuse_logins(&self, refuse: bool) {
        self.lock().refuse_logins = refuse;
    }

    /// Answers the next `count` Data API calls with 429 (reset in one second).
    pub fn rate_limit(&self, count: u32) {
        self.lock().rate_limited = count;
    }

    /// Logins so far.
    pub fn logins(&self) -> u32 {
        self.lock().logins
    }

    /// Roster requests (`/data/league/roster`) so far.
    pub fn roster_calls(&self) -> u32 {
        self.lock().roster_calls
    }
}

fn unavailable() -> Response {
    (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable").into_response()
}

async fn token(
    State(fake): State<FakeIracing>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let mut inner = fake.lock();
    if inner.down {
        return unavailable();
    }
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
    let valid = field("grant_type") == "password_limited"
        && field("client_id") == CLIENT_ID
        && field("client_secret") == mask(CLIENT_SECRET, CLIENT_ID)
        && field("username").eq_ignore_ascii_case(USERNAME)
        && field("password") == mask(PASSWORD, USERNAME)
        && !inner.refuse_logins;
    if !valid {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(
                json!({"error": "invalid_grant", "error_description": "credentials are invalid"}),
            ),
        )
            .into_response();
    }
    inner.logins += 1;
    let access = format!("fake-access-{}", inner.logins);
    inner.tokens.push(access.clone());
    axum::Json(json!({
        "access_token": access, "token_type": "Bearer", "expires_in": 600,
        "refresh_token": format!("fake-refresh-{}", inner.logins), "refresh_token_expires_in": 3600,
        "scope": "iracing.auth",
    }))
    .into_response()
}

fn limits(headers: &mut HeaderMap, remaining: u32) {
    let reset = chrono::Utc::now().timestamp() + 1;
    for (name, value) in [
        ("x-ratelimit-limit", "240".to_owned()),
        ("x-ratelimit-remaining", remaining.to_string()),
        ("x-ratelimit-reset", reset.to_string()),
    ] {
        if let Ok(value) = value.parse() {
            headers.insert(name, value);
        }
    }
}

async fn roster(
    State(fake): State<FakeIracing>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let mut inner = fake.lock();
    if inner.down {
        return unavailable();
    }
    inner.roster_calls += 1;
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !inner.tokens.iter().any(|t| t == bearer) || inner.refuse_logins {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"error": "Unauthorized"})),
        )
            .into_response();
    }
    let mut response_headers = HeaderMap::new();
    if inner.rate_limited > 0 {
        inner.rate_limited -= 1;
        limits(&mut response_headers, 0);
        return (
            StatusCode::TOO_MANY_REQUESTS,
            response_headers,
            axum::Json(json!({"error": "Rate limit exceeded"})),
        )
            .into_response();
    }
    limits(&mut response_headers, 200);
    let league: u64 = query
        .get("league_id")
        .and_then(|l| l.parse().ok())
        .unwrap_or_default();
    if !inner.rosters.contains_key(&league) {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"error": "Not Found"})),
        )
            .into_response();
    }
    (
        response_headers,
        axum::Json(json!({
            "link": format!("{}/links/roster/{league}", fake.url),
            "expires": (chrono::Utc::now() + chrono::Duration::minutes(10)).to_rfc3339(),
        })),
    )
        .into_response()
}

async fn link(State(fake): State<FakeIracing>, Path(league): Path<u64>) -> Response {
    let inner = fake.lock();
    let Some(roster) = inner.rosters.get(&league) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    axum::Json(json!({
        "league_id": league, "success": true, "roster_count": roster.len(),
        "data_url": format!("{}/links/roster-data/{league}", fake.url),
    }))
    .into_response()
}

async fn data(State(fake): State<FakeIracing>, Path(league): Path<u64>) -> Response {
    let inner = fake.lock();
    let Some(roster) = inner.rosters.get(&league) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    axum::Json(json!({
        "league_id": league, "success": true, "roster_count": roster.len(), "roster": roster,
    }))
    .into_response()
}
