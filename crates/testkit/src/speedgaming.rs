//! A fake SpeedGaming schedule API following spec `tournament.md` §2: `GET /schedule?event=
//! &from=&to=` answers the event's episodes whose broadcast time (`when`) is in the window as a
//! JSON array, `GET /episode?id=` one episode — both with `Content-Type: text/html` like the
//! real server — and `{"error": "..."}` bodies for unknown events and episodes. It can be taken
//! down (HTTP 503) to test outages. Fixture builders give the shapes of §2.2: a standard 1v1,
//! a 4-player co-op, a daily, a qualifier, and a player without a Discord id.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Duration, FixedOffset, Offset, Utc};
use serde_json::{Value as Json, json};

#[derive(Debug, Default)]
struct Inner {
    episodes: BTreeMap<i64, Json>,
    events: Vec<String>,
    down: bool,
    schedule_calls: u32,
}

/// A running fake.
#[derive(Clone, Debug)]
pub struct FakeSpeedGaming {
    /// Base URL (what `TOURNAMENT_SPEEDGAMING_URL` takes): `http://127.0.0.1:<port>/api`.
    pub url: String,
    inner: Arc<Mutex<Inner>>,
}

impl FakeSpeedGaming {
    /// Starts the fake.
    ///
    /// Errors: no port to listen on.
    pub async fn start() -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let fake = Self {
            url: format!("http://{}/api", listener.local_addr()?),
            inner: Arc::default(),
        };
        let app = Router::new()
            .route("/api/schedule", get(schedule))
            .route("/api/schedule/", get(schedule))
            .route("/api/episode", get(episode_route))
            .route("/api/episode/", get(episode_route))
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

    /// Makes `slug` a known event (its schedule may be empty).
    pub fn add_event(&self, slug: &str) {
        let mut inner = self.lock();
        if !inner.events.iter().any(|e| e == slug) {
            inner.events.push(slug.to_owned());
        }
    }

    /// Adds or replaces an episode (its `event.slug` becomes a known event).
    pub fn put_episode(&self, episode: Json) {
        let id = episode["id"].as_i64().unwrap_or_default();
        if let Some(slug) = episode["event"]["slug"].as_str() {
            self.add_event(slug);
        }
        self.lock().episodes.insert(id, episode);
    }

    /// Deletes an episode.
    pub fn remove_episode(&self, id: i64) {
        self.lock().episodes.remove(&id);
    }

    /// Takes the server down (every request answers 503) or brings it back.
    pub fn set_down(&self, down: bool) {
        self.lock().down = down;
    }

    /// How many schedule requests were answered.
    pub fn schedule_calls(&self) -> u32 {
        self.lock().schedule_calls
    }
}

fn html_json(status: StatusCode, body: &Json) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=UTF-8")],
        body.to_string(),
    )
        .into_response()
}

fn parse_time(value: Option<&String>) -> Option<DateTime<FixedOffset>> {
    value.and_then(|v| DateTime::parse_from_rfc3339(v).ok())
}

async fn schedule(
    State(fake): State<FakeSpeedGaming>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Response {
    let mut inner = fake.lock();
    if inner.down {
        return (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable").into_response();
    }
    inner.schedule_calls += 1;
    let event = query.get("event").cloned().unwrap_or_default();
    if !inner.events.contains(&event) {
        return html_json(
            StatusCode::OK,
            &json!({"error": format!("Failed to find event {event}.")}),
        );
    }
    let (from, to) = (parse_time(query.get("from")), parse_time(query.get("to")));
    let episodes: Vec<Json> = inner
        .episodes
        .values()
        .filter(|e| e["event"]["slug"] == event.as_str())
        .filter(|e| {
            let when = e["when"]
                .as_str()
                .and_then(|w| DateTime::parse_from_rfc3339(w).ok());
            match (when, from, to) {
                (Some(w), Some(f), Some(t)) => f <= w && w <= t,
                _ => true,
            }
        })
        .cloned()
        .collect();
    html_json(StatusCode::OK, &Json::Array(episodes))
}

async fn episode_route(
    State(fake): State<FakeSpeedGaming>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Response {
    let inner = fake.lock();
    if inner.down {
        return (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable").into_response();
    }
    let id: i64 = query.get("id").and_then(|i| i.parse().ok()).unwrap_or(-1);
    match inner.episodes.get(&id) {
        Some(e) => html_json(StatusCode::OK, e),
        None => html_json(
            StatusCode::OK,
            &json!({"error": format!("Failed to find episode with id {id}.")}),
        ),
    }
}

/// A player of a fixture: `(display name, Discord id or "", Discord tag or "")`.
pub type FixturePlayer<'a> = (&'a str, &'a str, &'a str);

/// An episode of `event` with race start `start` (broadcast 30 minutes later, like the real
/// schedule's `when` vs `whenCountdown`), match title `title` and these players.
pub fn episode(
    id: i64,
    event: &str,
    start: DateTime<Utc>,
    title: &str,
    players: &[FixturePlayer<'_>],
) -> Json {
    // US Eastern (summer), as SpeedGaming writes times.
    let eastern = FixedOffset::west_opt(4 * 3600).unwrap_or(Utc.fix());
    let players: Vec<Json> = players
        .iter()
        .map(|(name, discord_id, tag)| {
            json!({"id": 11_000 + name.len(), "displayName": name, "discordId": discord_id,
                   "discordTag": tag, "publicStream": "", "streamingFrom": name.to_lowercase()})
        })
        .collect();
    json!({
        "id": id,
        "title": "",
        "approved": true,
        "when": (start + Duration::minutes(30)).with_timezone(&eastern).to_rfc3339(),
        "whenCountdown": start.with_timezone(&eastern).to_rfc3339(),
        "length": 60,
        "event": {"id": 573, "name": format!("{event} Tournament"), "shortName": event.to_uppercase(),
                  "slug": event, "game": "A Link to the Past Randomizer", "active": true},
        "match1": {"id": 32_812, "note": "", "title": title, "players": players},
        "match2": null,
        "channels": [{"id": 25, "name": "SpeedGaming", "slug": "speedgaming", "language": "en", "initials": "SG"}],
        "commentators": [{"id": 60_789, "displayName": "DerMo", "discordId": "472785637984960512",
                          "discordTag": "Mo1988#1772", "language": "en", "approved": false,
                          "ready": false, "partner": "", "publicStream": "DerMo1988"}],
        "trackers": [],
        "broadcasters": [],
        "helpers": []
    })
}

/// A standard 1v1 between two players with Discord ids.
pub fn standard_1v1(
    id: i64,
    event: &str,
    start: DateTime<Utc>,
    a: (&str, u64),
    b: (&str, u64),
) -> Json {
    let (ida, idb) = (a.1.to_string(), b.1.to_string());
    episode(
        id,
        event,
        start,
        "Standard",
        &[(a.0, &ida, ""), (b.0, &idb, "")],
    )
}

/// A 4-player co-op (two teams of two).
pub fn coop_4p(id: i64, event: &str, start: DateTime<Utc>, players: [(&str, u64); 4]) -> Json {
    let ids: Vec<String> = players.iter().map(|p| p.1.to_string()).collect();
    let list: Vec<FixturePlayer<'_>> = players
        .iter()
        .zip(&ids)
        .map(|(p, id)| (p.0, id.as_str(), ""))
        .collect();
    episode(id, event, start, "Co-op", &list)
}

/// A daily (no players).
pub fn daily(id: i64, event: &str, start: DateTime<Utc>) -> Json {
    episode(id, event, start, "Daily 1", &[])
}

/// A live qualifier (no players).
pub fn qualifier(id: i64, event: &str, start: DateTime<Utc>) -> Json {
    episode(id, event, start, "Qualifier 1", &[])
}

/// A 1v1 whose second player has no Discord id (only a tag, or nothing).
pub fn without_discord(
    id: i64,
    event: &str,
    start: DateTime<Utc>,
    a: (&str, u64),
    b: &str,
) -> Json {
    let ida = a.1.to_string();
    episode(
        id,
        event,
        start,
        "Standard",
        &[(a.0, &ida, ""), (b, "", "")],
    )
}
