//! API-key authentication for the HTTP API: `Authorization: Bearer <key>`, or the raw key in
//! `Authorization` as upstream tools send it. Keys in the query string (upstream's deprecated
//! `?auth_key=`) are refused: URLs end up in logs. A missing, wrong, revoked or expired key is
//! 401; a key without the route's scope is 403.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use crate::error::ApiError;
use crate::http::AppState;
use crate::keys::{self, api_key};

/// The verified key of a request.
#[derive(Clone, Debug)]
pub struct ApiKey(pub api_key::Model);

impl ApiKey {
    /// The key's scopes.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.0.scopes.split_whitespace()
    }

    /// Passes when the key has `scope`.
    ///
    /// Errors: 403 naming the missing scope.
    pub fn require(&self, scope: &str) -> Result<(), ApiError> {
        if self.scopes().any(|s| s == scope) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "this API key does not have the `{scope}` scope"
            )))
        }
    }
}

impl FromRequestParts<AppState> for ApiKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if parts
            .uri
            .query()
            .is_some_and(|q| q.split('&').any(|p| p.starts_with("auth_key=")))
        {
            return Err(ApiError::unauthenticated(
                "keys in the URL are not accepted; send `Authorization: Bearer <key>`",
            ));
        }
        let Some(header) = parts.headers.get(AUTHORIZATION) else {
            return Err(ApiError::unauthenticated(
                "an API key is required: send `Authorization: Bearer <key>`",
            ));
        };
        let value = header.to_str().unwrap_or_default().trim();
        let key = value.strip_prefix("Bearer ").unwrap_or(value).trim();
        match keys::verify(&state.db, key).await {
            Ok(Ok(row)) => Ok(Self(row)),
            Ok(Err(refused)) => {
                tracing::info!(reason = %refused, "API key refused");
                Err(ApiError::unauthenticated("invalid API key"))
            }
            Err(error) => Err(ApiError::internal(error)),
        }
    }
}
