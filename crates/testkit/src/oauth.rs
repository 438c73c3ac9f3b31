//! A fake OAuth2 authorization server for the website's two sign-ins, following the real
//! endpoints' shapes:
//!
//! * Discord ([`FakeOAuth::discord`]): `GET /oauth2/authorize`, `POST /api/oauth2/token`,
//!   `GET /api/v10/users/@me` (the user object: `id` as a string, `username`, `global_name`,
//!   `avatar`, `discriminator` "0").
//! * racetime.gg ([`FakeOAuth::racetime`]): `GET /o/authorize`, `POST /o/token`,
//!   `GET /o/userinfo` (racetime-app's user summary: `id`, `full_name`, `name`,
//!   `discriminator`, `url`, `avatar`, `pronouns`, `flair`, `twitch_name`, `can_moderate`, plus
//!   `active_race`).
//!
//! The authorization endpoint stands for the provider's consent screen: it checks the client
//! id, `response_type=code`, the registered redirect URI and the scope, then sends the browser
//! straight back with `code` and the unchanged `state` — as if the person signed in as the
//! account chosen with [`FakeOAuth::sign_in_as`] had clicked "Authorize" — or with
//! `error=access_denied` after [`FakeOAuth::deny`]. Codes are single-use and bound to the
//! client and redirect URI; the token endpoint takes the client's credentials as HTTP Basic or
//! in the form (RFC 6749 §2.3.1).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde_json::{Value as Json, json};

/// Which provider the fake plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavour {
    /// discord.com.
    Discord,
    /// racetime.gg.
    Racetime,
}

/// An account at the provider.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    /// Discord snowflake or racetime.gg hashid.
    pub id: String,
    /// The user name.
    pub name: String,
}

#[derive(Debug, Default)]
struct Inner {
    signed_in: Option<Account>,
    deny: bool,
    codes: HashMap<String, (Account, String)>,
    tokens: HashMap<String, Account>,
    counter: u64,
    token_calls: u32,
}

/// A running fake provider.
#[derive(Clone, Debug)]
pub struct FakeOAuth {
    /// Base URL, `http://127.0.0.1:<port>`.
    pub url: String,
    /// The registered client id.
    pub client_id: String,
    /// The registered client secret.
    pub client_secret: String,
    flavour: Flavour,
    redirect_uri: Arc<Mutex<String>>,
    inner: Arc<Mutex<Inner>>,
}

impl FakeOAuth {
    /// A fake discord.com.
    ///
    /// Errors: no port to listen on.
    pub async fn discord() -> anyhow::Result<Self> {
        Self::start(Flavour::Discord).await
    }

    /// A fake racetime.gg.
    ///
    /// Errors: no port to listen on.
    pub async fn racetime() -> anyhow::Result<Self> {
        Self::start(Flavour::Racetime).await
    }

    async fn start(flavour: Flavour) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let fake = Self {
            url,
            client_id: format!("{flavour:?}-client").to_lowercase(),
            client_secret: "s3cret-client-secret".to_owned(),
            flavour,
            redirect_uri: Arc::new(Mutex::new(String::new())),
            inner: Arc::new(Mutex::new(Inner::default())),
        };
        let (authorize, token, me) = match flavour {
            Flavour::Discord => (
                "/oauth2/authorize",
                "/api/oauth2/token",
                "/api/v10/users/@me",
            ),
            Flavour::Racetime => ("/o/authorize", "/o/token", "/o/userinfo"),
        };
        let app = Router::new()
            .route(authorize, get(authorize_endpoint))
            .route(token, post(token_endpoint))
            .route(me, get(profile_endpoint))
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

    /// Registers the application's redirect URI (as in the provider's developer portal).
    pub fn register_redirect(&self, uri: &str) {
        *self
            .redirect_uri
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = uri.to_owned();
    }

    /// The person at the browser is signed in to the provider as `id`/`name`.
    pub fn sign_in_as(&self, id: &str, name: &str) {
        let mut inner = self.lock();
        inner.signed_in = Some(Account {
            id: id.to_owned(),
            name: name.to_owned(),
        });
        inner.deny = false;
    }

    /// The person clicks "Cancel" on the consent screen.
    pub fn deny(&self) {
        self.lock().deny = true;
    }

    /// How many token requests were made.
    pub fn token_calls(&self) -> u32 {
        self.lock().token_calls
    }

    /// The authorize URL (for settings).
    pub fn authorize_url(&self) -> String {
        match self.flavour {
            Flavour::Discord => format!("{}/oauth2/authorize", self.url),
            Flavour::Racetime => format!("{}/o/authorize", self.url),
        }
    }

    /// The token URL (for settings).
    pub fn token_url(&self) -> String {
        match self.flavour {
            Flavour::Discord => format!("{}/api/oauth2/token", self.url),
            Flavour::Racetime => format!("{}/o/token", self.url),
        }
    }

    /// Discord's REST API base (for settings).
    pub fn api_url(&self) -> String {
        format!("{}/api/v10", self.url)
    }

    fn profile(&self, account: &Account) -> Json {
        match self.flavour {
            Flavour::Discord => json!({
                "id": account.id,
                "username": account.name,
                "discriminator": "0",
                "global_name": account.name,
                "avatar": null,
                "public_flags": 0,
                "flags": 0,
                "locale": "en-US",
                "mfa_enabled": false,
            }),
            Flavour::Racetime => json!({
                "id": account.id,
                "full_name": format!("{}#1234", account.name),
                "name": account.name,
                "discriminator": "1234",
                "url": format!("/user/{}/{}", account.id, account.name.to_lowercase()),
                "avatar": null,
                "pronouns": null,
                "flair": "",
                "twitch_name": null,
                "twitch_display_name": null,
                "twitch_channel": null,
                "can_moderate": false,
                "active_race": null,
            }),
        }
    }
}

fn oauth_error(status: StatusCode, error: &str) -> Response {
    (status, axum::Json(json!({"error": error}))).into_response()
}

async fn authorize_endpoint(
    State(fake): State<FakeOAuth>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| query.get(k).cloned().unwrap_or_default();
    if get("client_id") != fake.client_id {
        return (
            StatusCode::BAD_REQUEST,
            "Invalid client_id parameter value.",
        )
            .into_response();
    }
    let registered = fake
        .redirect_uri
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    let redirect_uri = get("redirect_uri");
    if registered.is_empty() || redirect_uri != registered {
        return (StatusCode::BAD_REQUEST, "Mismatching redirect URI.").into_response();
    }
    let separator = if redirect_uri.contains('?') { '&' } else { '?' };
    let state = url::form_urlencoded::byte_serialize(get("state").as_bytes()).collect::<String>();
    if get("response_type") != "code" {
        return Redirect::to(&format!(
            "{redirect_uri}{separator}error=unsupported_response_type&state={state}"
        ))
        .into_response();
    }
    let wanted = match fake.flavour {
        Flavour::Discord => "identify",
        Flavour::Racetime => "read",
    };
    if !get("scope").split([' ', '+']).any(|s| s == wanted) {
        return Redirect::to(&format!(
            "{redirect_uri}{separator}error=invalid_scope&state={state}"
        ))
        .into_response();
    }
    let mut inner = fake.lock();
    if inner.deny {
        return Redirect::to(&format!(
            "{redirect_uri}{separator}error=access_denied&state={state}"
        ))
        .into_response();
    }
    let Some(account) = inner.signed_in.clone() else {
        return (StatusCode::UNAUTHORIZED, "Log in to the provider first.").into_response();
    };
    inner.counter += 1;
    let code = format!("code-{}-{}", inner.counter, uuid::Uuid::now_v7().simple());
    inner
        .codes
        .insert(code.clone(), (account, redirect_uri.clone()));
    Redirect::to(&format!(
        "{redirect_uri}{separator}code={code}&state={state}"
    ))
    .into_response()
}

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    use base64::Engine as _;
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let unescape = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Some((unescape(id), unescape(secret)))
}

async fn token_endpoint(
    State(fake): State<FakeOAuth>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    let mut inner = fake.lock();
    inner.token_calls += 1;
    let (id, secret) = basic_credentials(&headers).unwrap_or_else(|| {
        (
            form.get("client_id").cloned().unwrap_or_default(),
            form.get("client_secret").cloned().unwrap_or_default(),
        )
    });
    if id != fake.client_id || secret != fake.client_secret {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    if form.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type");
    }
    let code = form.get("code").cloned().unwrap_or_default();
    let Some((account, redirect_uri)) = inner.codes.remove(&code) else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    };
    if form.get("redirect_uri") != Some(&redirect_uri) {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    }
    inner.counter += 1;
    let token = format!("token-{}-{}", inner.counter, uuid::Uuid::now_v7().simple());
    inner.tokens.insert(token.clone(), account);
    let scope = match fake.flavour {
        Flavour::Discord => "identify",
        Flavour::Racetime => "read",
    };
    axum::Json(json!({
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": 604800,
        "refresh_token": format!("refresh-{token}"),
        "scope": scope,
    }))
    .into_response()
}

async fn profile_endpoint(State(fake): State<FakeOAuth>, headers: HeaderMap) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_owned();
    let account = fake.lock().tokens.get(&token).cloned();
    match account {
        Some(account) => axum::Json(fake.profile(&account)).into_response(),
        None => match fake.flavour {
            Flavour::Discord => (
                StatusCode::UNAUTHORIZED,
                axum::Json(json!({"message": "401: Unauthorized", "code": 0})),
            )
                .into_response(),
            Flavour::Racetime => oauth_error(StatusCode::UNAUTHORIZED, "invalid_token"),
        },
    }
}
