//! Login with Discord, logout, the profile page, and linking racetime.gg (spec W2–W4, W6,
//! W11–W14).

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};

use super::{Chrome, Viewer, WebError, render};
use crate::account::{self, AccountError};
use crate::http::AppState;
use crate::oauth::{OAuthError, Provider};

/// Session key of a pending OAuth2 flow.
const PENDING: &str = "oauth_pending";

/// A flow started here and not yet returned.
#[derive(Debug, Serialize, Deserialize)]
struct Pending {
    provider: String,
    state: String,
    next: String,
}

/// `?next=`.
#[derive(Debug, Deserialize)]
pub struct Next {
    next: Option<String>,
}

/// Where to go after login: a path on this site, else `/me` (never another host: `//host`,
/// `/\host` and absolute URLs are refused).
pub fn same_site_path(next: Option<&str>) -> String {
    match next.map(str::trim) {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.starts_with("/\\")
                && !path.contains(['\r', '\n'])
                && !path.starts_with("/login")
                && !path.starts_with("/callback") =>
        {
            path.to_owned()
        }
        _ => "/me".to_owned(),
    }
}

fn oauth_page(error: &OAuthError) -> WebError {
    match error {
        OAuthError::NotConfigured(_) | OAuthError::BadUrl(..) => {
            tracing::warn!(%error, "OAuth2 is not usable");
            WebError::Page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Sign-in unavailable",
                format!("{error}. The operator must set the client id and secret."),
            )
        }
        OAuthError::Exchange(..) | OAuthError::Profile(..) => {
            tracing::warn!(%error, "OAuth2 flow failed");
            WebError::Page(
                StatusCode::BAD_GATEWAY,
                "OAuth Error",
                format!("{error}. Try again."),
            )
        }
    }
}

async fn begin(
    viewer: &Viewer,
    state: &AppState,
    provider: Provider,
    next: String,
) -> Result<Response, WebError> {
    let nonce = crate::keys::random_alphanumeric(32);
    let url = state
        .oauth
        .authorize_url(provider, &nonce)
        .map_err(|e| oauth_page(&e))?;
    let pending = Pending {
        provider: provider.label().to_owned(),
        state: nonce,
        next,
    };
    viewer
        .session
        .insert(PENDING, pending)
        .await
        .map_err(WebError::internal)?;
    Ok(Redirect::to(&url).into_response())
}

/// The answer of a provider: `?code&state`, or `?error` when the person said no.
#[derive(Debug, Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// Checks the returned `state` against the session's pending flow of `provider` (consuming
/// it) and returns the code and where to go next.
async fn finish(
    viewer: &Viewer,
    provider: Provider,
    callback: Callback,
) -> Result<(String, String), WebError> {
    let pending = viewer
        .session
        .remove::<Pending>(PENDING)
        .await
        .ok()
        .flatten()
        .filter(|p| p.provider == provider.label());
    if let Some(error) = callback.error {
        let message = if error == "access_denied" {
            format!("You declined to sign in with {}.", provider.label())
        } else {
            format!("{} answered: {error}", provider.label())
        };
        return Err(WebError::Page(
            StatusCode::FORBIDDEN,
            "Access Denied",
            message,
        ));
    }
    let (Some(pending), Some(code), Some(returned)) = (pending, callback.code, callback.state)
    else {
        return Err(WebError::Page(
            StatusCode::BAD_REQUEST,
            "OAuth Error",
            "Invalid or missing OAuth state. Start again.".to_owned(),
        ));
    };
    if returned != pending.state {
        return Err(WebError::Page(
            StatusCode::BAD_REQUEST,
            "OAuth Error",
            "Invalid or missing OAuth state. Start again.".to_owned(),
        ));
    }
    Ok((code, pending.next))
}

/// `GET /login/?next=` (W2): off to Discord.
pub async fn login(
    viewer: Viewer,
    State(state): State<AppState>,
    Query(next): Query<Next>,
) -> Result<Response, WebError> {
    let next = same_site_path(next.next.as_deref());
    begin(&viewer, &state, Provider::Discord, next).await
}

/// `GET /callback/discord/` (W3): the user is logged in (created on first login) and goes back
/// where they came from.
pub async fn discord_callback(
    viewer: Viewer,
    State(state): State<AppState>,
    Query(callback): Query<Callback>,
) -> Result<Response, WebError> {
    let (code, next) = finish(&viewer, Provider::Discord, callback).await?;
    let token = state
        .oauth
        .exchange(Provider::Discord, &code)
        .await
        .map_err(|e| oauth_page(&e))?;
    let profile = state
        .oauth
        .discord_profile(&token)
        .await
        .map_err(|e| oauth_page(&e))?;
    let snowflake = profile.snowflake().map_err(|e| oauth_page(&e))?;
    let name = profile.global_name.as_deref().unwrap_or(&profile.username);
    let user = account::login_discord(&state.db, snowflake, name)
        .await
        .map_err(WebError::internal)?;
    // A new id at login: a session id planted before login is worthless after it.
    viewer
        .session
        .cycle_id()
        .await
        .map_err(WebError::internal)?;
    viewer
        .session
        .insert(crate::sessions::USER_ID, user.id)
        .await
        .map_err(WebError::internal)?;
    viewer
        .session
        .insert(DISCORD_NAME, &profile.username)
        .await
        .map_err(WebError::internal)?;
    tracing::info!(user_id = user.id, "logged in with Discord");
    Ok(Redirect::to(&next).into_response())
}

/// Session key of the Discord user name of the login (names a new preset namespace).
pub const DISCORD_NAME: &str = "discord_name";

#[derive(Template)]
#[template(path = "logout.html")]
struct LogoutPage {
    chrome: Chrome,
}

/// `GET /logout/`: a button (logging out changes state, so it is a POST with a CSRF token).
pub async fn logout_page(viewer: Viewer) -> Response {
    render(&LogoutPage {
        chrome: viewer.form_chrome("Log out").await,
    })
}

/// `csrf` only.
#[derive(Debug, Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

/// `POST /logout/` (W4): the session ends on the server.
pub async fn logout(viewer: Viewer, Form(form): Form<CsrfOnly>) -> Result<Response, WebError> {
    viewer.check_csrf(&form.csrf).await?;
    viewer.session.flush().await.map_err(WebError::internal)?;
    Ok(Redirect::to("/").into_response())
}

/// A linked racetime.gg account on the profile page.
struct RacetimeView {
    name: String,
    url: String,
}

#[derive(Template)]
#[template(path = "profile.html")]
struct Profile {
    chrome: Chrome,
    discord: String,
    racetime: Option<RacetimeView>,
    display_name: String,
}

/// `GET /me`: the profile page.
pub async fn profile(viewer: Viewer, State(state): State<AppState>) -> Result<Response, WebError> {
    let user = viewer.require_user()?;
    let page = Profile {
        discord: user
            .discord_user_id
            .map(|id| platform::db::u64_from_db(id).to_string())
            .unwrap_or_default(),
        racetime: user.racetime_user_id.as_ref().map(|id| RacetimeView {
            name: user.racetime_name.clone().unwrap_or_else(|| id.clone()),
            url: state.oauth.racetime_user_url(id),
        }),
        display_name: user.display_name.clone().unwrap_or_default(),
        chrome: viewer.chrome("Your profile").await,
    };
    Ok(render(&page))
}

fn account_error(error: AccountError) -> WebError {
    match error {
        AccountError::Db(_) | AccountError::Events(_) => WebError::internal(error),
        other => WebError::Page(
            StatusCode::BAD_REQUEST,
            "That did not work",
            other.to_string(),
        ),
    }
}

/// The display-name form.
#[derive(Debug, Deserialize)]
pub struct DisplayNameForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    display_name: String,
}

/// `POST /me/display-name` (W11).
pub async fn display_name(
    viewer: Viewer,
    State(state): State<AppState>,
    Form(form): Form<DisplayNameForm>,
) -> Result<Response, WebError> {
    viewer.check_csrf(&form.csrf).await?;
    let user = viewer.require_user()?;
    match account::set_display_name(&state.db, user.id, &form.display_name).await {
        Ok(updated) => {
            let name = updated.display_name.unwrap_or_default();
            viewer
                .flash(format!("Your display name is now {name}."), false)
                .await;
        }
        Err(error @ (AccountError::DisplayNameLength | AccountError::DisplayNameTaken)) => {
            viewer.flash(error.to_string(), true).await;
        }
        Err(error) => return Err(account_error(error)),
    }
    Ok(Redirect::to("/me").into_response())
}

/// `POST /me/racetime/unlink` (W12).
pub async fn unlink(
    viewer: Viewer,
    State(state): State<AppState>,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, WebError> {
    viewer.check_csrf(&form.csrf).await?;
    let user = viewer.require_user()?;
    match account::unlink_racetime(&state.db, &state.outbox, user.id).await {
        Ok(_) => {
            viewer
                .flash("Your racetime.gg account is unlinked.", false)
                .await
        }
        Err(AccountError::NotLinked) => {
            viewer
                .flash(AccountError::NotLinked.to_string(), true)
                .await;
        }
        Err(error) => return Err(account_error(error)),
    }
    Ok(Redirect::to("/me").into_response())
}

/// The purge form: `confirm=yes` is required.
#[derive(Debug, Deserialize)]
pub struct PurgeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    confirm: String,
}

/// `POST /me/purge` (W6): everything of the person goes, in every service.
pub async fn purge(
    viewer: Viewer,
    State(state): State<AppState>,
    Form(form): Form<PurgeForm>,
) -> Result<Response, WebError> {
    viewer.check_csrf(&form.csrf).await?;
    let user = viewer.require_user()?;
    if form.confirm != "yes" {
        viewer
            .flash(
                "Tick the box to confirm that your data should be deleted.",
                true,
            )
            .await;
        return Ok(Redirect::to("/me").into_response());
    }
    account::purge(&state.db, &state.outbox, user.id)
        .await
        .map_err(account_error)?;
    viewer.session.flush().await.map_err(WebError::internal)?;
    Ok(WebError::Page(
        StatusCode::OK,
        "Data deleted",
        "Your account and everything kept about it are being deleted from every part of SahasrahBot.".to_owned(),
    )
    .into_response())
}

/// `GET /racetime/verification/initiate` (W13): off to racetime.gg.
pub async fn racetime_initiate(
    viewer: Viewer,
    State(state): State<AppState>,
) -> Result<Response, WebError> {
    viewer.require_user()?;
    begin(&viewer, &state, Provider::Racetime, "/me".to_owned()).await
}

/// `GET /racetime/verify/return` (W14): the account is linked, merging users when the
/// racetime.gg account already had one.
pub async fn racetime_return(
    viewer: Viewer,
    State(state): State<AppState>,
    Query(callback): Query<Callback>,
) -> Result<Response, WebError> {
    let user = viewer.require_user()?.clone();
    let (code, next) = finish(&viewer, Provider::Racetime, callback).await?;
    let token = state
        .oauth
        .exchange(Provider::Racetime, &code)
        .await
        .map_err(|e| oauth_page(&e))?;
    let profile = state
        .oauth
        .racetime_profile(&token)
        .await
        .map_err(|e| oauth_page(&e))?;
    let linked = account::link_racetime(
        &state.db,
        &state.outbox,
        user.id,
        &profile.id,
        profile.full_name.as_deref().unwrap_or(&profile.name),
    )
    .await
    .map_err(account_error)?;
    if linked.merged_from.is_some() {
        // The session's user row is gone; this session now belongs to the survivor.
        viewer
            .session
            .insert(crate::sessions::USER_ID, linked.user.id)
            .await
            .map_err(WebError::internal)?;
    }
    viewer
        .flash(
            format!("Linked racetime.gg account {}.", profile.name),
            false,
        )
        .await;
    Ok(Redirect::to(&next).into_response())
}

#[cfg(test)]
mod tests {
    use super::same_site_path;

    #[test]
    fn only_paths_of_this_site_are_followed_after_login() {
        assert_eq!(same_site_path(Some("/presets/me")), "/presets/me");
        assert_eq!(same_site_path(Some("/me?tab=1")), "/me?tab=1");
        assert_eq!(same_site_path(None), "/me");
        assert_eq!(same_site_path(Some("https://evil.example/")), "/me");
        assert_eq!(same_site_path(Some("//evil.example/")), "/me");
        assert_eq!(same_site_path(Some("/\\evil.example/")), "/me");
        assert_eq!(same_site_path(Some("/login/")), "/me");
        assert_eq!(same_site_path(Some("/x\r\nSet-Cookie: a=b")), "/me");
    }
}
