//! racetime.gg HTTP endpoints a bot uses (racetime-app `views/race.py`, `views/category.py`,
//! DOT `TokenView`): token, category data, race data, `startrace`, `edit`, user and team data.

use std::time::Duration;

use reqwest::StatusCode;
use secrecy::ExposeSecret;
use serde_json::Value as Json;
use url::Url;

use crate::model::{CategoryData, RaceData};
use crate::settings::RaceSettings;

/// An error from a racetime.gg HTTP endpoint, typed so callers can act on it.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum ApiError {
    /// `401 {"error":"invalid_client"}`: wrong credentials, or the bot was deactivated (which
    /// deletes its OAuth application) or reactivated with new credentials.
    #[error(
        "racetime.gg rejected the bot credentials (invalid_client); check the client id and secret of the category bot"
    )]
    InvalidClient,
    /// `403` with an empty body: bad or expired token, missing scope, or not this category's bot
    /// (or the race is done, for edits).
    #[error(
        "racetime.gg refused the request (403): the token is invalid or expired, or the bot does not belong to this category"
    )]
    Forbidden,
    /// 404: no such race, category or user.
    #[error("not found on racetime.gg: {0}")]
    NotFound(String),
    /// `422 {"errors": {"field": ["msg"]}}`, flattened to `field: msg` (`__all__` unprefixed).
    #[error("racetime.gg rejected the race settings: {}", .0.join("; "))]
    Validation(Vec<String>),
    /// Any other unsuccessful answer.
    #[error("racetime.gg answered HTTP {status}: {body}")]
    Status {
        /// The HTTP status.
        status: u16,
        /// The body, for the log.
        body: String,
    },
    /// The request did not reach racetime.gg.
    #[error("could not reach racetime.gg: {0}")]
    Transport(String),
    /// The answer was not the expected JSON.
    #[error("unexpected answer from racetime.gg: {0}")]
    Format(String),
}

impl ApiError {
    /// Worth retrying: 5xx, 429 and transport errors. (Never retry `startrace` blindly: it is
    /// not idempotent.)
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Status { status, .. } => *status >= 500 || *status == 429,
            Self::Transport(_) => true,
            _ => false,
        }
    }
}

impl From<reqwest::Error> for ApiError {
    fn from(error: reqwest::Error) -> Self {
        Self::Transport(error.without_url().to_string())
    }
}

/// OAuth2 client credentials of one category bot.
#[derive(Clone, Debug)]
pub struct Credentials {
    /// The bot's OAuth2 client id.
    pub client_id: String,
    /// The bot's OAuth2 client secret.
    pub client_secret: secrecy::SecretString,
}

/// A minted access token (`POST /o/token`). Client credentials get no refresh token: a refresh
/// is another POST, and earlier tokens stay valid until they expire.
#[derive(Clone, Debug)]
pub struct TokenResponse {
    /// The bearer token.
    pub access_token: String,
    /// `expires_in`, 36000 s when absent (what every bot library assumes).
    pub expires_in: Duration,
}

/// HTTP side of the racetime.gg bot API, joined to one base URL (`https://racetime.gg`).
#[derive(Clone, Debug)]
pub struct RacetimeHttp {
    client: reqwest::Client,
    base: Url,
}

impl RacetimeHttp {
    /// A client with a per-request timeout.
    pub fn new(base: Url, timeout: Duration) -> Result<Self, ApiError> {
        // reqwest is built without a default crypto provider; ring is the workspace's one.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("SahasrahBot/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ApiError::Transport(e.to_string()))?;
        Ok(Self { client, base })
    }

    /// The configured base URL.
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// Joins a server path (every URL in racetime.gg JSON is a path starting with `/`).
    pub fn url(&self, path: &str) -> Url {
        let mut url = self.base.clone();
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        url.set_path(path);
        url.set_query((!query.is_empty()).then_some(query));
        url
    }

    /// The websocket URL for a path: `http` → `ws`, `https` → `wss`.
    pub fn ws_url(&self, path: &str) -> Url {
        let mut url = self.url(path);
        let scheme = if url.scheme() == "https" { "wss" } else { "ws" };
        // Both schemes are "special", so set_scheme cannot fail here.
        let _ = url.set_scheme(scheme);
        url
    }

    /// `POST /o/token` with `grant_type=client_credentials` (all scopes).
    pub async fn token(&self, credentials: &Credentials) -> Result<TokenResponse, ApiError> {
        let response = self
            .client
            .post(self.url("/o/token"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", credentials.client_id.as_str()),
                ("client_secret", credentials.client_secret.expose_secret()),
            ])
            .send()
            .await?;
        let status = response.status();
        let body = response.text().await?;
        if status == StatusCode::UNAUTHORIZED || body.contains("invalid_client") {
            return Err(ApiError::InvalidClient);
        }
        if !status.is_success() {
            return Err(ApiError::Status {
                status: status.as_u16(),
                body: truncate(&body),
            });
        }
        let json: Json =
            serde_json::from_str(&body).map_err(|e| ApiError::Format(e.to_string()))?;
        let access_token = json["access_token"]
            .as_str()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ApiError::Format("token response without access_token".into()))?
            .to_string();
        let expires_in = Duration::from_secs(json["expires_in"].as_u64().unwrap_or(36_000));
        Ok(TokenResponse {
            access_token,
            expires_in,
        })
    }

    /// `GET /o/{category}/data`: the category with **unlisted** races (server-cached ≤60 s).
    pub async fn category_data(
        &self,
        category: &str,
        token: &str,
    ) -> Result<CategoryData, ApiError> {
        let response = self
            .client
            .get(self.url(&format!("/o/{category}/data")))
            .bearer_auth(token)
            .send()
            .await?;
        json_body(response, &format!("category {category}")).await
    }

    /// `GET /{category}/data` (public): the category with its **listed** races only. Not held in
    /// the server's cache past a race or entrant change, so a new listed room shows at once;
    /// the fast way to discover rooms (unlisted ones need [`Self::category_data`]).
    pub async fn public_category_data(&self, category: &str) -> Result<CategoryData, ApiError> {
        self.get_public(
            &format!("/{category}/data"),
            &format!("category {category}"),
        )
        .await
    }

    /// `GET /{category}/{race}/data` (public): the race detail.
    pub async fn race_data(&self, race_name: &str) -> Result<RaceData, ApiError> {
        self.get_public(&format!("/{race_name}/data"), &format!("race {race_name}"))
            .await
    }

    /// `POST /o/{category}/startrace`: creates a room and returns its name
    /// (`{category}/{slug}`, from the `Location` header). **Not idempotent**: a retry after a
    /// timeout or 5xx can create a second room.
    pub async fn start_race(
        &self,
        category: &str,
        token: &str,
        settings: &RaceSettings,
    ) -> Result<String, ApiError> {
        let response = self
            .client
            .post(self.url(&format!("/o/{category}/startrace")))
            .bearer_auth(token)
            .form(&settings.start_form())
            .send()
            .await?;
        let status = response.status();
        if status == StatusCode::CREATED {
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .unwrap_or_default()
                .to_string();
            return parse_location(&location, category);
        }
        Err(error_for(
            status,
            response.text().await.unwrap_or_default(),
            category,
        ))
    }

    /// `POST /o/{category}/{race}/edit`. Omitted fields are reset to model defaults on the
    /// server, so `settings` must be the **full** set (see [`RaceSettings::from_race`]).
    pub async fn edit_race(
        &self,
        race_name: &str,
        token: &str,
        settings: &RaceSettings,
        started: bool,
    ) -> Result<(), ApiError> {
        let form = if started {
            settings.started_edit_form()
        } else {
            settings.edit_form()
        };
        let response = self
            .client
            .post(self.url(&format!("/o/{race_name}/edit")))
            .bearer_auth(token)
            .form(&form)
            .send()
            .await?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        Err(error_for(
            status,
            response.text().await.unwrap_or_default(),
            race_name,
        ))
    }

    /// `GET /user/{id}/data`: profile and stats (`stats.joined` counts finished listed races).
    pub async fn user_data(&self, user_id: &str) -> Result<Json, ApiError> {
        self.get_public(&format!("/user/{user_id}/data"), &format!("user {user_id}"))
            .await
    }

    /// `GET /user/{id}/races/data?page=&per_page=`: a page (from 1) of the user's past races,
    /// newest first: `{count, num_pages, races: [race summary + category]}`.
    pub async fn user_races(
        &self,
        user_id: &str,
        page: u32,
        per_page: u32,
    ) -> Result<Json, ApiError> {
        self.get_public(
            &format!("/user/{user_id}/races/data?page={page}&per_page={per_page}"),
            &format!("races of user {user_id}"),
        )
        .await
    }

    /// `GET /team/{slug}/data`: a team with its members.
    pub async fn team_data(&self, slug: &str) -> Result<Json, ApiError> {
        self.get_public(&format!("/team/{slug}/data"), &format!("team {slug}"))
            .await
    }
}

impl RacetimeHttp {
    /// `GET {path}` without authentication, decoded as JSON; `what` names it in errors.
    async fn get_public<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        what: &str,
    ) -> Result<T, ApiError> {
        let response = self.client.get(self.url(path)).send().await?;
        json_body(response, what).await
    }
}

fn truncate(body: &str) -> String {
    body.chars().take(300).collect()
}

fn error_for(status: StatusCode, body: String, what: &str) -> ApiError {
    match status {
        StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED => ApiError::Forbidden,
        StatusCode::NOT_FOUND => ApiError::NotFound(what.to_string()),
        StatusCode::UNPROCESSABLE_ENTITY => ApiError::Validation(form_errors(&body)),
        // A redirect means a user-only view (login redirect).
        s if s.is_redirection() => ApiError::Forbidden,
        s => ApiError::Status {
            status: s.as_u16(),
            body: truncate(&body),
        },
    }
}

/// Flattens Django form errors `{"errors": {"field": ["msg"], "__all__": ["msg"]}}`.
pub fn form_errors(body: &str) -> Vec<String> {
    let json: Json = serde_json::from_str(body).unwrap_or(Json::Null);
    let Some(errors) = json["errors"].as_object() else {
        return vec![truncate(body)];
    };
    let mut out = Vec::new();
    for (field, messages) in errors {
        for message in messages.as_array().into_iter().flatten() {
            let message = message.as_str().unwrap_or_default();
            if field == "__all__" {
                out.push(message.to_string());
            } else {
                out.push(format!("{field}: {message}"));
            }
        }
    }
    out
}

async fn json_body<T: serde::de::DeserializeOwned>(
    response: reqwest::Response,
    what: &str,
) -> Result<T, ApiError> {
    let status = response.status();
    let body = response.text().await?;
    if !status.is_success() {
        return Err(error_for(status, body, what));
    }
    serde_json::from_str(&body).map_err(|e| ApiError::Format(format!("{what}: {e}")))
}

/// Parses `Location: /{category}/{slug}` strictly and checks the category.
pub fn parse_location(location: &str, category: &str) -> Result<String, ApiError> {
    let parts: Vec<&str> = location.split('/').collect();
    match parts.as_slice() {
        ["", cat, slug] if !cat.is_empty() && !slug.is_empty() && *cat == category => {
            Ok(format!("{cat}/{slug}"))
        }
        _ => Err(ApiError::Format(format!(
            "startrace answered 201 with Location `{location}`, expected /{category}/<slug>"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_is_parsed_strictly() {
        assert_eq!(
            parse_location("/alttpr/clumsy-ganondorf-1711", "alttpr").unwrap(),
            "alttpr/clumsy-ganondorf-1711"
        );
        for bad in [
            "",
            "/alttpr",
            "/smz3/x-y-1",
            "alttpr/x",
            "/alttpr/x/y",
            "//x",
        ] {
            assert!(parse_location(bad, "alttpr").is_err(), "{bad}");
        }
    }

    #[test]
    fn form_errors_are_flattened_like_the_server_renders_them() {
        let body = r#"{"errors": {"__all__": ["You need to set a goal for this race."], "start_delay": ["Ensure this value is less than or equal to 60."]}}"#;
        assert_eq!(
            form_errors(body),
            vec![
                "You need to set a goal for this race.".to_string(),
                "start_delay: Ensure this value is less than or equal to 60.".to_string()
            ]
        );
    }

    #[test]
    fn urls_join_paths_and_switch_to_websocket_schemes() {
        let http = RacetimeHttp::new(
            Url::parse("https://racetime.gg").unwrap(),
            Duration::from_secs(5),
        )
        .unwrap();
        assert_eq!(
            http.ws_url("/ws/o/bot/a-b-1").as_str(),
            "wss://racetime.gg/ws/o/bot/a-b-1"
        );
        let local = RacetimeHttp::new(
            Url::parse("http://127.0.0.1:8000/").unwrap(),
            Duration::from_secs(5),
        )
        .unwrap();
        assert_eq!(
            local.url("/alttpr/data").as_str(),
            "http://127.0.0.1:8000/alttpr/data"
        );
        assert_eq!(
            local.ws_url("/ws/o/bot/x").as_str(),
            "ws://127.0.0.1:8000/ws/o/bot/x"
        );
        assert!(
            ApiError::Status {
                status: 502,
                body: String::new()
            }
            .is_transient()
        );
        assert!(!ApiError::Forbidden.is_transient());
    }
}
