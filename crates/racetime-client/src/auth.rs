//! Client-credentials tokens for one category bot: minted at start, refreshed at half their
//! lifetime (from `expires_in`, never from wall-clock parsing), retried with backoff on 5xx and
//! transport errors while the old token is still valid. Rooms watch the current token and
//! reconnect their sockets when it changes, because a socket keeps its connect-time token.

use std::sync::Arc;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use tokio::sync::{Notify, watch};
use tokio::time::Instant;

use crate::http::{ApiError, Credentials, RacetimeHttp};

/// A bearer token with its expiry on the monotonic clock.
#[derive(Clone, Debug)]
pub struct Token {
    /// The bearer token.
    pub access_token: String,
    /// When it was issued.
    pub issued_at: Instant,
    /// When it expires.
    pub expires_at: Instant,
}

impl Token {
    /// Time left before the server stops accepting it.
    pub fn remaining(&self) -> Duration {
        self.expires_at.saturating_duration_since(Instant::now())
    }
}

/// Keeps a fresh token for one category; cheap to clone.
#[derive(Clone, Debug)]
pub struct TokenManager {
    rx: watch::Receiver<Arc<Token>>,
    refresh_now: Arc<Notify>,
    degraded: watch::Receiver<Option<ApiError>>,
}

/// Mints a token, retrying transient failures up to `attempts` times with exponential backoff.
pub async fn mint(
    http: &RacetimeHttp,
    credentials: &Credentials,
    attempts: usize,
) -> Result<Token, ApiError> {
    let issued_at = Instant::now();
    let response = (|| http.token(credentials))
        .retry(
            ExponentialBuilder::default()
                .with_min_delay(Duration::from_millis(200))
                .with_max_delay(Duration::from_secs(10))
                .with_max_times(attempts)
                .with_jitter(),
        )
        .when(ApiError::is_transient)
        .await?;
    Ok(Token {
        access_token: response.access_token,
        issued_at,
        expires_at: issued_at + response.expires_in,
    })
}

impl TokenManager {
    /// Mints the first token (an error here means the category cannot start, e.g.
    /// `invalid_client`) and spawns the refresh loop, which ends when every clone is dropped.
    pub async fn start(http: RacetimeHttp, credentials: Credentials) -> Result<Self, ApiError> {
        let first = mint(&http, &credentials, 5).await?;
        let (tx, rx) = watch::channel(Arc::new(first));
        let (degraded_tx, degraded) = watch::channel(None);
        let refresh_now = Arc::new(Notify::new());
        let notify = refresh_now.clone();
        tokio::spawn(async move {
            loop {
                let current = tx.borrow().clone();
                let lifetime = current
                    .expires_at
                    .saturating_duration_since(current.issued_at);
                let refresh_at = current.issued_at + lifetime / 2;
                tokio::select! {
                    _ = tokio::time::sleep_until(refresh_at) => {}
                    _ = notify.notified() => {}
                    _ = tx.closed() => return,
                }
                match mint(&http, &credentials, 3).await {
                    Ok(token) => {
                        let _ = degraded_tx.send(None);
                        tracing::debug!(
                            expires_in_s = token.remaining().as_secs(),
                            "racetime.gg token refreshed"
                        );
                        if tx.send(Arc::new(token)).is_err() {
                            return;
                        }
                    }
                    Err(error) => {
                        tracing::error!(%error, "racetime.gg token refresh failed; keeping the current token while it is valid");
                        let _ = degraded_tx.send(Some(error.clone()));
                        let pause = if error == ApiError::InvalidClient {
                            Duration::from_secs(300)
                        } else {
                            (current.remaining() / 4).max(Duration::from_secs(1))
                        };
                        tokio::select! {
                            _ = tokio::time::sleep(pause) => {}
                            _ = tx.closed() => return,
                        }
                    }
                }
            }
        });
        Ok(Self {
            rx,
            refresh_now,
            degraded,
        })
    }

    /// The current token.
    pub fn current(&self) -> Arc<Token> {
        self.rx.borrow().clone()
    }

    /// A receiver that changes whenever a new token is minted.
    pub fn subscribe(&self) -> watch::Receiver<Arc<Token>> {
        self.rx.clone()
    }

    /// Asks for a new token now (after the server said `Permission denied`).
    pub fn refresh_now(&self) {
        self.refresh_now.notify_one();
    }

    /// The last refresh error, while refreshing keeps failing (the category is degraded).
    pub fn degraded(&self) -> Option<ApiError> {
        self.degraded.borrow().clone()
    }
}
