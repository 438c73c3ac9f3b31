//! Seed providers: every remote randomizer behind [`SeedProvider`], with the reliability
//! contract of spec §2.1 — a per-attempt timeout, at most `attempts` tries with exponential
//! backoff on timeouts, transport errors, 429 and 5xx only, typed [`ProviderError`]s, and a
//! per-provider circuit breaker that fails fast while a provider is down.

pub mod alttpr;
pub mod avianart;
pub mod ctjets;
pub mod dash;
pub mod doors;
pub mod ootr;
pub mod samus;
pub mod varia;

use std::future::Future;
use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable};
use bytes::Bytes;
use failsafe::{backoff, failure_policy};
use reqwest::{RequestBuilder, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// What went wrong with a provider, in the contract's categories.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProviderErrorKind {
    /// No answer within the per-attempt timeout.
    Timeout,
    /// 5xx, connection refused, DNS, TLS, or the circuit breaker is open.
    Unavailable,
    /// 429.
    RateLimit,
    /// The provider refused the settings (4xx other than 429, or a generation failure it
    /// reported).
    Rejected,
    /// The answer was not what the provider documents.
    ResponseFormat,
}

/// A failed provider call. Displays as `"{provider}: {message}"`, fit for users.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{provider}: {message}")]
pub struct ProviderError {
    /// The provider, e.g. `alttpr.com`.
    pub provider: &'static str,
    /// What was attempted, e.g. `generate`.
    pub operation: &'static str,
    /// What kind of failure.
    pub kind: ProviderErrorKind,
    /// Attempts made.
    pub attempts: u32,
    /// The HTTP status, when there was one.
    pub status: Option<u16>,
    /// Details.
    pub message: String,
}

impl ProviderError {
    /// A failure of `provider` doing `operation`.
    pub fn new(
        provider: &'static str,
        operation: &'static str,
        kind: ProviderErrorKind,
        message: impl Into<String>,
    ) -> Self {
        Self {
            provider,
            operation,
            kind,
            attempts: 1,
            status: None,
            message: message.into(),
        }
    }

    /// A response that does not have the documented shape.
    pub fn format(
        provider: &'static str,
        operation: &'static str,
        what: impl Into<String>,
    ) -> Self {
        Self::new(provider, operation, ProviderErrorKind::ResponseFormat, what)
    }

    fn retryable(&self) -> bool {
        matches!(
            self.kind,
            ProviderErrorKind::Timeout
                | ProviderErrorKind::Unavailable
                | ProviderErrorKind::RateLimit
        )
    }
}

/// A generated seed in the canonical shape every provider returns.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Seed {
    /// Where players get the seed (permalink, seed page, patcher URL).
    pub url: String,
    /// The provider's id of the game; empty when it has none.
    pub hash: String,
    /// File-select code or hash words.
    pub code: Vec<String>,
    /// The stored spoiler log.
    pub spoiler_url: Option<String>,
    /// The randomizer version.
    pub version: Option<String>,
    /// The provider's response, kept for spoiler logs and embeds (not stored).
    #[serde(skip)]
    pub raw: Json,
    /// Seed-page title and notes (ALTTPR `spoiler.meta.name`/`notes`).
    pub title: Option<String>,
    /// Seed page notes, or the flags for local rollers (`description: flags`).
    pub notes: Option<String>,
    /// Local rollers: the flag string, and what the chosen flag set is (z2r `mrb`).
    pub flags: Option<String>,
    /// What the flag set is (z2r `mrb`).
    pub flags_description: Option<String>,
    /// Attempts it took.
    pub attempts: u32,
}

/// One randomizer service that makes seeds from a typed request.
pub trait SeedProvider: Send + Sync {
    /// What the provider needs to make a seed.
    type Request: Send;

    /// The provider's name in errors, metrics and the audit row.
    fn name(&self) -> &'static str;

    /// Makes one seed. Retries and the circuit breaker are the provider's business.
    fn generate(
        &self,
        request: Self::Request,
    ) -> impl Future<Output = Result<Seed, ProviderError>> + Send;
}

/// Retry, timeout and breaker settings of one provider (`providers.http` in configuration).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct HttpPolicy {
    /// Per-attempt timeout in seconds (contract: 60).
    pub timeout_secs: f64,
    /// Attempts per call (contract: 3).
    pub attempts: u32,
    /// First wait between attempts in milliseconds (contract: 1000, doubling, capped at
    /// `backoff_max_ms`).
    pub backoff_min_ms: u64,
    /// Longest wait between retries, in milliseconds.
    pub backoff_max_ms: u64,
    /// Consecutive failed calls that open the breaker.
    pub breaker_failures: u32,
    /// Seconds the breaker stays open before letting a trial call through.
    pub breaker_open_secs: u64,
}

impl Default for HttpPolicy {
    fn default() -> Self {
        Self {
            timeout_secs: 60.0,
            attempts: 3,
            backoff_min_ms: 1000,
            backoff_max_ms: 2000,
            breaker_failures: 5,
            breaker_open_secs: 30,
        }
    }
}

type Breaker = failsafe::StateMachine<failure_policy::ConsecutiveFailures<backoff::Constant>, ()>;

/// An HTTP response with a status below 400.
#[derive(Debug)]
pub struct Reply {
    /// The HTTP status.
    pub status: StatusCode,
    /// The headers.
    pub headers: reqwest::header::HeaderMap,
    /// The body.
    pub body: Bytes,
}

impl Reply {
    /// The body as JSON whatever the Content-Type (alttpr.com serves JSON as text/html).
    pub fn json(
        &self,
        provider: &'static str,
        operation: &'static str,
    ) -> Result<Json, ProviderError> {
        serde_json::from_slice(&self.body).map_err(|error| {
            ProviderError::format(
                provider,
                operation,
                format!("the answer is not JSON ({error})"),
            )
        })
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// The HTTP side every remote provider shares.
pub struct HttpProvider {
    /// The provider name, for errors and metrics.
    pub name: &'static str,
    client: reqwest::Client,
    policy: HttpPolicy,
    breaker: Breaker,
}

impl std::fmt::Debug for HttpProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpProvider")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// The message of an error body: JSON `message`/`error`, else the text, shortened.
fn body_message(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let from_json = serde_json::from_str::<Json>(&text).ok().and_then(|j| {
        j.get("message")
            .or_else(|| j.get("error"))
            .or_else(|| j.get("errorMsg"))
            .and_then(|m| m.as_str().map(str::to_string))
            .or_else(|| j.as_str().map(str::to_string))
    });
    let message = from_json.unwrap_or_else(|| text.trim().to_string());
    let mut short: String = message.chars().take(300).collect();
    if short.len() < message.len() {
        short.push('…');
    }
    short
}

impl HttpProvider {
    /// A provider client. Redirects are not followed (DASH answers 307 with the seed URL).
    pub fn new(name: &'static str, policy: HttpPolicy) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("SahasrahBot/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let breaker = failsafe::Config::new()
            .failure_policy(failure_policy::consecutive_failures(
                policy.breaker_failures.max(1),
                backoff::constant(Duration::from_secs(policy.breaker_open_secs)),
            ))
            .build();
        Ok(Self {
            name,
            client,
            policy,
            breaker,
        })
    }

    /// The underlying HTTP client.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Sends a request built by `build` (called once per attempt) under the contract.
    /// Statuses below 400 are returned; 4xx other than 429 fail at once with the body's
    /// message; timeouts, transport errors, 429 and 5xx are retried.
    pub async fn send(
        &self,
        operation: &'static str,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<Reply, ProviderError> {
        if !self.breaker.is_call_permitted() {
            return Err(ProviderError::new(
                self.name,
                operation,
                ProviderErrorKind::Unavailable,
                format!("{} is failing; not trying again for a while", self.name),
            ));
        }
        let started = Instant::now();
        let mut attempts = 0u32;
        let attempt = || {
            attempts += 1;
            self.attempt(operation, &build)
        };
        let backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(self.policy.backoff_min_ms))
            .with_max_delay(Duration::from_millis(self.policy.backoff_max_ms))
            .with_max_times(self.policy.attempts.saturating_sub(1) as usize);
        let result = attempt
            .retry(backoff)
            .when(ProviderError::retryable)
            .notify(|error, wait| {
                tracing::warn!(provider = self.name, operation, %error, ?wait, "provider call failed; retrying");
            })
            .await;
        let elapsed_ms = started.elapsed().as_millis();
        match result {
            Ok(reply) => {
                self.breaker.on_success();
                tracing::debug!(
                    provider = self.name,
                    operation,
                    attempts,
                    elapsed_ms,
                    "provider answered"
                );
                Ok(reply)
            }
            Err(mut error) => {
                error.attempts = attempts;
                if error.retryable() {
                    self.breaker.on_error();
                } else {
                    // The provider answered; it is up.
                    self.breaker.on_success();
                }
                tracing::warn!(provider = self.name, operation, attempts, elapsed_ms, %error, "provider call failed");
                Err(error)
            }
        }
    }

    async fn attempt(
        &self,
        operation: &'static str,
        build: &impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<Reply, ProviderError> {
        let timeout = Duration::from_secs_f64(self.policy.timeout_secs.max(0.001));
        let fail = |kind, status: Option<u16>, message: String| ProviderError {
            provider: self.name,
            operation,
            kind,
            attempts: 1,
            status,
            message,
        };
        let call = async {
            let response = build(&self.client).send().await?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = response.bytes().await?;
            Ok::<_, reqwest::Error>((status, headers, body))
        };
        let (status, headers, body) = match tokio::time::timeout(timeout, call).await {
            Err(_) => {
                return Err(fail(
                    ProviderErrorKind::Timeout,
                    None,
                    format!("no answer within {} s", self.policy.timeout_secs),
                ));
            }
            Ok(Err(error)) if error.is_timeout() => {
                return Err(fail(
                    ProviderErrorKind::Timeout,
                    None,
                    "the request timed out".into(),
                ));
            }
            Ok(Err(error)) => {
                // The OS's words ("Connection refused (os error 111)") help an operator, not a
                // racer: they go to the log, the user hears which site is down.
                tracing::warn!(provider = self.name, operation, error = %root_cause(&error), "provider unreachable");
                return Err(fail(
                    ProviderErrorKind::Unavailable,
                    None,
                    "cannot be reached right now".into(),
                ));
            }
            Ok(Ok(parts)) => parts,
        };
        let code = Some(status.as_u16());
        if status == StatusCode::TOO_MANY_REQUESTS {
            return Err(fail(
                ProviderErrorKind::RateLimit,
                code,
                "too many requests; try again shortly".into(),
            ));
        }
        if status.is_server_error() {
            let detail = body_message(&body);
            let message = if detail.is_empty() {
                format!("the server failed (HTTP {})", status.as_u16())
            } else {
                format!("the server failed (HTTP {}): {detail}", status.as_u16())
            };
            return Err(fail(ProviderErrorKind::Unavailable, code, message));
        }
        if status.is_client_error() {
            let detail = body_message(&body);
            let message = if detail.is_empty() {
                format!("the settings were refused (HTTP {})", status.as_u16())
            } else {
                detail
            };
            return Err(fail(ProviderErrorKind::Rejected, code, message));
        }
        Ok(Reply {
            status,
            headers,
            body,
        })
    }
}

fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    while let Some(source) = current.source() {
        current = source;
    }
    current.to_string()
}

/// Random alphanumeric text (seed ids, spoiler keys, file name suffixes).
pub fn random_alphanumeric(rng: &mut impl rand::Rng, len: usize) -> String {
    use rand::RngExt;
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..len)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}
