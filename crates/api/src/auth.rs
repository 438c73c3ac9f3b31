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

/// The logged-in website user of a JSON request (session cookie); 401 JSON when there is none.
#[derive(Clone, Debug)]
pub struct SessionUser {
    /// The user.
    pub user: crate::identity::user::Model,
    /// The session, to end or change it.
    pub session: tower_sessions::Session,
}

impl FromRequestParts<AppState> for SessionUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let session = tower_sessions::Session::from_request_parts(parts, state)
            .await
            .map_err(|(_, message)| ApiError::internal(message))?;
        match crate::sessions::current_user(&session, &state.db).await {
            Ok(Some(user)) => Ok(Self { user, session }),
            Ok(None) => Err(ApiError::unauthenticated("unauthenticated: log in first")),
            Err(error) => Err(ApiError::internal(error)),
        }
    }
}

/// Who makes a REST request: a logged-in website user (session cookie) or a program with an
/// API key (`Authorization`). A request with a key is judged by the key alone.
#[derive(Clone, Debug)]
pub enum Caller {
    /// A website session.
    Session(crate::identity::user::Model),
    /// An API key, with its owner when it belongs to a user.
    Key(ApiKey, Option<crate::identity::user::Model>),
}

impl Caller {
    /// The user acting: the session's, or the key's owner.
    pub fn user(&self) -> Option<&crate::identity::user::Model> {
        match self {
            Self::Session(user) => Some(user),
            Self::Key(_, owner) => owner.as_ref(),
        }
    }

    /// Passes for a session, or for a key with `scope`.
    ///
    /// Errors: 403 naming the missing scope.
    pub fn require(&self, scope: &str) -> Result<(), ApiError> {
        match self {
            Self::Session(_) => Ok(()),
            Self::Key(key, _) => key.require(scope),
        }
    }

    /// The Discord account acting on presets (seedgen's namespaces belong to Discord users).
    ///
    /// Errors: 403 when the caller has no Discord account (an operator's key, a user who never
    /// logged in with Discord).
    pub fn discord_user_id(&self) -> Result<u64, ApiError> {
        self.user()
            .and_then(|u| u.discord_user_id)
            .map(platform::db::u64_from_db)
            .ok_or_else(|| {
                ApiError::forbidden(
                    "this needs a user with a Discord account: log in, or use a key that belongs to one",
                )
            })
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if parts.headers.contains_key(AUTHORIZATION)
            || parts.uri.query().is_some_and(|q| q.contains("auth_key="))
        {
            let key = ApiKey::from_request_parts(parts, state).await?;
            let owner = match key.0.user_id {
                Some(id) => crate::identity::get(&state.db, id)
                    .await
                    .map_err(ApiError::internal)?,
                None => None,
            };
            return Ok(Self::Key(key, owner));
        }
        SessionUser::from_request_parts(parts, state)
            .await
            .map(|s| Self::Session(s.user))
            .map_err(|_| {
                ApiError::unauthenticated(
                    "log in, or send an API key: `Authorization: Bearer <key>`",
                )
            })
    }
}

impl axum::extract::OptionalFromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    /// No credentials: `None`. A key that is sent must be valid (401 otherwise).
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, ApiError> {
        match <Self as FromRequestParts<AppState>>::from_request_parts(parts, state).await {
            Ok(caller) => Ok(Some(caller)),
            Err(error) if parts.headers.contains_key(AUTHORIZATION) => Err(error),
            Err(_) => Ok(None),
        }
    }
}
