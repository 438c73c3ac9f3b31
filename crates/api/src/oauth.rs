//! The two OAuth2 authorization-code clients of the website, on the [`oauth2`] crate:
//! Discord login (scope `identify`, then `GET {api}/users/@me`) and racetime.gg account
//! linking (scope `read` on the configured server, then `GET {url}/o/userinfo`), as upstream
//! does it (spec `discord-and-web.md` §3.0, W2–W3, W13–W14). The CSRF `state` is kept in the
//! session by the caller.

use std::future::Future;
use std::time::Duration;

use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    RedirectUrl, Scope, TokenResponse, TokenUrl,
};
use secrecy::ExposeSecret;
use serde::Deserialize;

use crate::settings::{ApiSettings, DiscordOAuth, RacetimeOAuth};

/// Which provider a flow runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Provider {
    /// Discord login.
    Discord,
    /// racetime.gg linking.
    Racetime,
}

impl Provider {
    /// The provider's name for people.
    pub fn label(self) -> &'static str {
        match self {
            Self::Discord => "Discord",
            Self::Racetime => "racetime.gg",
        }
    }
}

/// Why a flow failed.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// The provider is not configured (no client id or secret).
    #[error("{0} sign-in is not configured on this server")]
    NotConfigured(&'static str),
    /// A configured URL is not a URL.
    #[error("the {0} OAuth2 settings hold an invalid URL: {1}")]
    BadUrl(&'static str, String),
    /// The provider refused the code or could not be reached.
    #[error("{0} did not accept the sign-in: {1}")]
    Exchange(&'static str, String),
    /// The profile request failed.
    #[error("{0} did not return your profile: {1}")]
    Profile(&'static str, String),
}

type Client = BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// The OAuth2 clients and the HTTP client they use.
#[derive(Clone, Debug)]
pub struct OAuth {
    discord: DiscordOAuth,
    racetime: RacetimeOAuth,
    public_url: String,
    http: reqwest::Client,
}

/// The Discord account of a login (`GET /users/@me`).
#[derive(Clone, Debug, Deserialize)]
pub struct DiscordProfile {
    /// The snowflake, as Discord sends it (a string).
    pub id: String,
    /// The unique user name.
    pub username: String,
    /// The display name, if set.
    #[serde(default)]
    pub global_name: Option<String>,
    /// The avatar hash, if any.
    #[serde(default)]
    pub avatar: Option<String>,
}

impl DiscordProfile {
    /// The snowflake as a number.
    ///
    /// Errors: Discord sent something that is not a snowflake.
    pub fn snowflake(&self) -> Result<u64, OAuthError> {
        self.id
            .parse()
            .map_err(|_| OAuthError::Profile("Discord", format!("bad user id `{}`", self.id)))
    }

    /// The avatar image URL (Discord's CDN), if the user has one.
    pub fn avatar_url(&self) -> Option<String> {
        self.avatar
            .as_ref()
            .map(|hash| format!("https://cdn.discordapp.com/avatars/{}/{hash}.png", self.id))
    }
}

/// The racetime.gg account of a link (`GET /o/userinfo`, racetime-app `UserInfo` view).
#[derive(Clone, Debug, Deserialize)]
pub struct RacetimeProfile {
    /// The user's hashid.
    pub id: String,
    /// The name without discriminator.
    pub name: String,
    /// `name#discriminator`, when racetime.gg sends it.
    #[serde(default)]
    pub full_name: Option<String>,
}

impl OAuth {
    /// The clients of `settings`.
    ///
    /// Errors: the HTTP client cannot be built.
    pub fn new(settings: &ApiSettings) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            // Token endpoints must not redirect (RFC 6749 §3.2 and oauth2's own advice).
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            discord: settings.discord.clone(),
            racetime: settings.racetime.clone(),
            public_url: settings.http.public_url.trim_end_matches('/').to_owned(),
            http,
        })
    }

    /// Whether `provider` has credentials.
    pub fn configured(&self, provider: Provider) -> bool {
        self.client(provider).is_ok()
    }

    /// The redirect URI registered with `provider` (upstream's paths, so an existing
    /// application's settings keep working).
    pub fn redirect_uri(&self, provider: Provider) -> String {
        match provider {
            Provider::Discord => format!("{}/callback/discord/", self.public_url),
            Provider::Racetime => format!("{}/racetime/verify/return", self.public_url),
        }
    }

    fn client(&self, provider: Provider) -> Result<Client, OAuthError> {
        let label = provider.label();
        let (id, secret, authorize, token) = match provider {
            Provider::Discord => (
                &self.discord.client_id,
                &self.discord.client_secret,
                self.discord.authorize_url.clone(),
                self.discord.token_url.clone(),
            ),
            Provider::Racetime => {
                let base = self.racetime.url.trim_end_matches('/');
                (
                    &self.racetime.client_id,
                    &self.racetime.client_secret,
                    format!("{base}/o/authorize"),
                    format!("{base}/o/token"),
                )
            }
        };
        let secret = secret
            .as_ref()
            .filter(|s| !s.expose_secret().is_empty())
            .ok_or(OAuthError::NotConfigured(label))?;
        if id.is_empty() {
            return Err(OAuthError::NotConfigured(label));
        }
        let bad = |e: oauth2::url::ParseError| OAuthError::BadUrl(label, e.to_string());
        Ok(BasicClient::new(ClientId::new(id.clone()))
            .set_client_secret(ClientSecret::new(secret.expose_secret().to_owned()))
            .set_auth_uri(AuthUrl::new(authorize).map_err(bad)?)
            .set_token_uri(TokenUrl::new(token).map_err(bad)?)
            .set_redirect_uri(RedirectUrl::new(self.redirect_uri(provider)).map_err(bad)?))
    }

    /// Where to send the browser to sign in with `provider`, carrying `state`.
    ///
    /// Errors: not configured, or a configured URL is invalid.
    pub fn authorize_url(&self, provider: Provider, state: &str) -> Result<String, OAuthError> {
        let scope = match provider {
            Provider::Discord => "identify",
            Provider::Racetime => "read",
        };
        let state = state.to_owned();
        let (url, _) = self
            .client(provider)?
            .authorize_url(move || CsrfToken::new(state))
            .add_scope(Scope::new(scope.to_owned()))
            .url();
        Ok(url.to_string())
    }

    /// Exchanges an authorization `code` for an access token.
    ///
    /// Errors: not configured, or the provider refused.
    pub async fn exchange(&self, provider: Provider, code: &str) -> Result<String, OAuthError> {
        let client = self.client(provider)?;
        let http = Http(self.http.clone());
        let token = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .request_async(&http)
            .await
            .map_err(|e| OAuthError::Exchange(provider.label(), e.to_string()))?;
        Ok(token.access_token().secret().clone())
    }

    /// The Discord account the `token` belongs to.
    ///
    /// Errors: Discord refused or answered something else.
    pub async fn discord_profile(&self, token: &str) -> Result<DiscordProfile, OAuthError> {
        let url = format!("{}/users/@me", self.discord.api_url.trim_end_matches('/'));
        self.profile("Discord", &url, token).await
    }

    /// The racetime.gg account the `token` belongs to.
    ///
    /// Errors: racetime.gg refused or answered something else.
    pub async fn racetime_profile(&self, token: &str) -> Result<RacetimeProfile, OAuthError> {
        let url = format!("{}/o/userinfo", self.racetime.url.trim_end_matches('/'));
        self.profile("racetime.gg", &url, token).await
    }

    async fn profile<T: serde::de::DeserializeOwned>(
        &self,
        label: &'static str,
        url: &str,
        token: &str,
    ) -> Result<T, OAuthError> {
        let response = self
            .http
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .map_err(|e| OAuthError::Profile(label, e.without_url().to_string()))?;
        if !response.status().is_success() {
            return Err(OAuthError::Profile(
                label,
                format!("HTTP {}", response.status()),
            ));
        }
        response
            .json()
            .await
            .map_err(|e| OAuthError::Profile(label, e.without_url().to_string()))
    }

    /// The racetime.gg profile page of `racetime_user_id`.
    pub fn racetime_user_url(&self, racetime_user_id: &str) -> String {
        format!(
            "{}/user/{racetime_user_id}/",
            self.racetime.url.trim_end_matches('/')
        )
    }
}

/// oauth2's HTTP client on our reqwest (the crate's own adapter targets another reqwest major
/// version).
struct Http(reqwest::Client);

impl<'c> oauth2::AsyncHttpClient<'c> for Http {
    type Error = reqwest::Error;
    type Future = std::pin::Pin<
        Box<dyn Future<Output = Result<oauth2::HttpResponse, reqwest::Error>> + Send + 'c>,
    >;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(send(self.0.clone(), request))
    }
}

async fn send(
    http: reqwest::Client,
    request: oauth2::HttpRequest,
) -> Result<oauth2::HttpResponse, reqwest::Error> {
    let (parts, body) = request.into_parts();
    let response = http
        .request(parts.method, parts.uri.to_string())
        .headers(parts.headers)
        .body(body)
        .send()
        .await?;
    let mut builder = http::Response::builder().status(response.status());
    for (name, value) in response.headers() {
        builder = builder.header(name, value);
    }
    let body = response.bytes().await?.to_vec();
    Ok(builder
        .body(body)
        .unwrap_or_else(|_| http::Response::new(Vec::new())))
}
