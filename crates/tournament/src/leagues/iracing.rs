//! A read-only client of the iRacing Data API: the league roster, with each member's car
//! number.
//!
//! Authentication is iRacing's OAuth2 "password limited" grant (`POST {oauth}/token`,
//! form-encoded: `grant_type=password_limited`, `client_id`, `client_secret`, `username`,
//! `password`, `scope=iracing.auth`), the secret and the password *masked*: base64 of
//! SHA-256 of the value followed by the lower-cased, trimmed id it belongs to (the client id for
//! the secret, the username for the password). The bearer token is kept until shortly before
//! `expires_in` and fetched again after a 401.
//!
//! Data: `GET {data}/data/league/roster?league_id=N` answers `{"link": <signed URL>, ...}`;
//! the link's document holds the roster, directly or behind one more `data_url`:
//! `{"league_id", "roster_count", "roster": [{"cust_id", "display_name", "car_number": "7" |
//! null, ...}]}`. Rate limits: a 429 is waited out until `x-ratelimit-reset` (epoch seconds)
//! or `Retry-After`, at most [`MAX_WAIT`], and retried; `x-ratelimit-remaining: 0` makes the
//! next call wait for the reset first.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;
use tokio::time::Instant;

/// The longest a rate limit is waited out.
pub const MAX_WAIT: Duration = Duration::from_secs(60);

/// The deployment's iRacing credentials (environment `TOURNAMENT_IRACING__…`). All four
/// secrets present: sync on; otherwise off and the commands say so.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct IracingSettings {
    /// OAuth server base (`https://oauth.iracing.com/oauth2`).
    pub oauth_url: String,
    /// Data API base (`https://members-ng.iracing.com`).
    pub data_url: String,
    /// The OAuth client id iRacing issued.
    pub client_id: String,
    /// Its secret.
    #[serde(skip_serializing)]
    pub client_secret: Option<SecretString>,
    /// The iRacing account the bot reads as (on the client's access list).
    pub username: String,
    /// Its password.
    #[serde(skip_serializing)]
    pub password: Option<SecretString>,
    /// Seconds per HTTP request.
    pub timeout_secs: u64,
}

impl Default for IracingSettings {
    fn default() -> Self {
        Self {
            oauth_url: "https://oauth.iracing.com/oauth2".into(),
            data_url: "https://members-ng.iracing.com".into(),
            client_id: String::new(),
            client_secret: None,
            username: String::new(),
            password: None,
            timeout_secs: 20,
        }
    }
}

impl IracingSettings {
    /// Whether every credential is set.
    pub fn configured(&self) -> bool {
        let set =
            |s: &Option<SecretString>| s.as_ref().is_some_and(|s| !s.expose_secret().is_empty());
        !self.client_id.trim().is_empty()
            && !self.username.trim().is_empty()
            && set(&self.client_secret)
            && set(&self.password)
    }
}

/// One member of an iRacing league roster.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct RosterMember {
    /// iRacing customer id.
    pub cust_id: u64,
    /// Their iRacing name.
    #[serde(default)]
    pub display_name: String,
    /// Their car number in the league ("7", "007"), when set.
    #[serde(default)]
    pub car_number: Option<String>,
}

impl RosterMember {
    /// The car number as a number (`None`: unset, or not digits).
    pub fn number(&self) -> Option<i32> {
        self.car_number
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .and_then(|n| n.parse().ok())
    }
}

/// Why the roster could not be read.
#[derive(Debug, thiserror::Error)]
pub enum IracingError {
    /// No credentials in this deployment.
    #[error("iRacing sync is not configured in this deployment")]
    Unconfigured,
    /// iRacing refused the credentials.
    #[error("iRacing refused the bot's credentials ({0}); the operator must check them")]
    Credentials(String),
    /// No such league, or the bot's account may not see it.
    #[error("iRacing has no league {0} the bot's account can see")]
    NotFound(u64),
    /// iRacing is down, slow or rate limiting past [`MAX_WAIT`].
    #[error("iRacing is unavailable: {0}")]
    Unavailable(String),
}

/// The masked form of `secret` for `id` (see the module docs).
pub fn mask(secret: &str, id: &str) -> String {
    let digest = Sha256::digest(format!("{secret}{}", id.trim().to_lowercase()).as_bytes());
    base64::engine::general_purpose::STANDARD.encode(digest)
}

#[derive(Debug)]
struct Token {
    access: SecretString,
    until: Instant,
}

/// The client; cheap to clone (the token and rate limit state are shared).
#[derive(Clone, Debug)]
pub struct Iracing {
    settings: Arc<IracingSettings>,
    http: reqwest::Client,
    token: Arc<Mutex<Option<Token>>>,
    /// Calls wait until this instant (the rate limit reset).
    hold: Arc<Mutex<Option<Instant>>>,
}

#[derive(Deserialize)]
struct TokenReply {
    access_token: String,
    #[serde(default)]
    expires_in: u64,
}

impl Iracing {
    /// A client for `settings`.
    ///
    /// Errors: [`IracingError::Unconfigured`] without every credential.
    pub fn new(settings: &IracingSettings) -> Result<Self, IracingError> {
        if !settings.configured() {
            return Err(IracingError::Unconfigured);
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(settings.timeout_secs.max(1)))
            .build()
            .map_err(|e| IracingError::Unavailable(e.to_string()))?;
        Ok(Self {
            settings: Arc::new(settings.clone()),
            http,
            token: Arc::default(),
            hold: Arc::default(),
        })
    }

    async fn login(&self) -> Result<SecretString, IracingError> {
        let s = &self.settings;
        let secret = s.client_secret.as_ref().ok_or(IracingError::Unconfigured)?;
        let password = s.password.as_ref().ok_or(IracingError::Unconfigured)?;
        let form = [
            ("grant_type", "password_limited".to_owned()),
            ("client_id", s.client_id.clone()),
            ("client_secret", mask(secret.expose_secret(), &s.client_id)),
            ("username", s.username.clone()),
            ("password", mask(password.expose_secret(), &s.username)),
            ("scope", "iracing.auth".to_owned()),
        ];
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form.iter().map(|(k, v)| (*k, v.as_str())))
            .finish();
        let response = self
            .http
            .post(format!("{}/token", s.oauth_url.trim_end_matches('/')))
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(body)
            .send()
            .await
            .map_err(|e| IracingError::Unavailable(e.without_url().to_string()))?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        if status.is_client_error() && status.as_u16() != 429 {
            // `{"error": "invalid_grant", "error_description": ...}`: never the secrets.
            let error = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v["error"].as_str().map(str::to_owned))
                .unwrap_or_else(|| status.to_string());
            return Err(IracingError::Credentials(error));
        }
        if !status.is_success() {
            return Err(IracingError::Unavailable(format!(
                "the token endpoint answered {status}"
            )));
        }
        let reply: TokenReply = serde_json::from_str(&text)
            .map_err(|e| IracingError::Unavailable(format!("unreadable token answer: {e}")))?;
        let lifetime = Duration::from_secs(reply.expires_in.max(60));
        let access = SecretString::from(reply.access_token);
        *self.token.lock().await = Some(Token {
            access: access.clone(),
            until: Instant::now() + lifetime - Duration::from_secs(30).min(lifetime / 2),
        });
        Ok(access)
    }

    async fn bearer(&self) -> Result<SecretString, IracingError> {
        if let Some(token) = self.token.lock().await.as_ref()
            && Instant::now() < token.until
        {
            return Ok(token.access.clone());
        }
        self.login().await
    }

    /// Waits out a rate limit reset we know of.
    async fn wait_turn(&self) {
        let until = *self.hold.lock().await;
        if let Some(until) = until {
            tokio::time::sleep_until(until).await;
        }
    }

    /// When the limit resets, from `x-ratelimit-reset` (epoch seconds) or `Retry-After`.
    fn reset_in(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
        let number = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        if let Some(reset) = number("x-ratelimit-reset") {
            let now = chrono::Utc::now().timestamp().max(0) as u64;
            return Some(Duration::from_secs(reset.saturating_sub(now)));
        }
        number("retry-after").map(Duration::from_secs)
    }

    /// `GET url` as JSON; `authorized` for the Data API (the signed links take no token).
    async fn get(&self, url: &str, authorized: bool) -> Result<serde_json::Value, IracingError> {
        let mut relogged = false;
        for _ in 0..4 {
            self.wait_turn().await;
            let mut request = self.http.get(url);
            if authorized {
                request = request.bearer_auth(self.bearer().await?.expose_secret());
            }
            let response = request
                .send()
                .await
                .map_err(|e| IracingError::Unavailable(e.without_url().to_string()))?;
            let status = response.status();
            let headers = response.headers().clone();
            if headers
                .get("x-ratelimit-remaining")
                .and_then(|v| v.to_str().ok())
                == Some("0")
                && let Some(wait) = Self::reset_in(&headers)
            {
                *self.hold.lock().await = Some(Instant::now() + wait.min(MAX_WAIT));
            }
            match status.as_u16() {
                200..=299 => {
                    *self.hold.lock().await = None;
                    return response
                        .json()
                        .await
                        .map_err(|e| IracingError::Unavailable(format!("unreadable answer: {e}")));
                }
                401 if authorized && !relogged => {
                    relogged = true;
                    *self.token.lock().await = None;
                }
                401 | 403 => {
                    return Err(IracingError::Credentials(format!(
                        "the Data API answered {status}"
                    )));
                }
                429 => {
                    let wait = Self::reset_in(&headers).unwrap_or(Duration::from_secs(1));
                    if wait > MAX_WAIT {
                        return Err(IracingError::Unavailable(format!(
                            "rate limited for {} s",
                            wait.as_secs()
                        )));
                    }
                    tracing::info!(
                        wait_ms = wait.as_millis() as u64,
                        "iRacing rate limit: waiting"
                    );
                    tokio::time::sleep(wait).await;
                }
                404 => return Err(IracingError::Unavailable("not found".into())),
                _ => return Err(IracingError::Unavailable(format!("answered {status}"))),
            }
        }
        Err(IracingError::Unavailable(
            "gave up after repeated rate limits".into(),
        ))
    }

    /// The roster of iRacing league `league_id`.
    ///
    /// Errors: see [`IracingError`].
    pub async fn roster(&self, league_id: u64) -> Result<Vec<RosterMember>, IracingError> {
        let url = format!(
            "{}/data/league/roster?league_id={league_id}",
            self.settings.data_url.trim_end_matches('/')
        );
        let first = match self.get(&url, true).await {
            Err(IracingError::Unavailable(e)) if e == "not found" => {
                return Err(IracingError::NotFound(league_id));
            }
            other => other?,
        };
        let mut document = first;
        // Follow `link`, then `data_url`, to the document with the roster.
        for key in ["link", "data_url"] {
            if document.get("roster").is_some() {
                break;
            }
            let next = document
                .get(key)
                .or_else(|| document.get("data").and_then(|d| d.get(key)))
                .and_then(|v| v.as_str())
                .map(str::to_owned);
            if let Some(next) = next {
                document = self.get(&next, false).await?;
            }
        }
        let roster = document
            .get("roster")
            .or_else(|| document.get("data").and_then(|d| d.get("roster")))
            .cloned()
            .ok_or_else(|| IracingError::Unavailable("the answer has no roster".into()))?;
        serde_json::from_value(roster)
            .map_err(|e| IracingError::Unavailable(format!("unreadable roster: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_is_base64_of_sha256_of_the_value_and_the_lowercased_id() {
        // sha256("secret" + "clientid"), base64.
        let expected =
            base64::engine::general_purpose::STANDARD.encode(Sha256::digest(b"secretclientid"));
        assert_eq!(mask("secret", " ClientID "), expected);
        assert_ne!(mask("secret", "other"), expected);
    }

    #[test]
    fn car_numbers_are_read_from_strings() {
        let member: RosterMember = serde_json::from_value(serde_json::json!(
            {"cust_id": 1, "display_name": "A", "car_number": "07"}
        ))
        .unwrap();
        assert_eq!(member.number(), Some(7));
        let unset: RosterMember =
            serde_json::from_value(serde_json::json!({"cust_id": 2, "car_number": null})).unwrap();
        assert_eq!(unset.number(), None);
    }
}
