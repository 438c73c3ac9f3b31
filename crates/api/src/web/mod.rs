//! The website: server-rendered HTML from askama templates (`crates/api/templates/`, checked
//! at compile time), plain forms that work without JavaScript, on a layout that fits a phone.
//!
//! Adding a page: write `templates/<page>.html` extending `base.html`, a `#[derive(Template)]`
//! struct with a `chrome: Chrome` field, a handler taking a [`Viewer`] that returns
//! `page(..)`, and one `.route(..)` line in [`router`]. Forms that change state carry
//! `<input type="hidden" name="csrf" value="{{ chrome.csrf }}">` and the handler calls
//! [`Viewer::check_csrf`] first.

mod account;
mod asyncs;
mod elections;
mod leagues;
mod mystery;
mod presets;
mod settings;
mod tournaments;
mod triforce;

use askama::Template;
use axum::Router;
use axum::extract::{FromRequestParts, OriginalUri};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use crate::http::AppState;
use crate::identity::user;

/// What every page's layout shows: who is logged in, the CSRF token for its forms, a one-time
/// message, the page title and path (to come back to after logging in).
#[derive(Clone, Debug)]
pub struct Chrome {
    /// The logged-in user.
    pub user: Option<UserChip>,
    /// The session's CSRF token.
    pub csrf: String,
    /// A message left by the previous request (shown once).
    pub flash: Option<Flash>,
    /// The page title.
    pub title: String,
    /// The path of this page.
    pub path: String,
}

/// The logged-in user in the header.
#[derive(Clone, Debug)]
pub struct UserChip {
    /// Display name, else "your profile".
    pub name: String,
}

/// A one-time message.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Flash {
    /// The text.
    pub text: String,
    /// Shown as an error.
    pub error: bool,
}

const FLASH: &str = "flash";

/// The visitor of a page: their session and, when logged in, their user.
#[derive(Clone, Debug)]
pub struct Viewer {
    /// The session.
    pub session: Session,
    /// The logged-in user.
    pub user: Option<user::Model>,
    path: String,
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let path = OriginalUri::from_request_parts(parts, state)
            .await
            .map(|uri| {
                uri.0
                    .path_and_query()
                    .map_or_else(|| "/".to_owned(), ToString::to_string)
            })
            .unwrap_or_else(|_| "/".to_owned());
        let user = crate::sessions::current_user(&session, &state.db)
            .await
            .map_err(|error| WebError::internal(error).into_response())?;
        Ok(Self {
            session,
            user,
            path,
        })
    }
}

impl Viewer {
    /// The layout data for a page titled `title`; takes the pending flash message. The CSRF
    /// token is only made for a logged-in visitor (their forms need it): an anonymous page view
    /// writes no session. Pages with a form open to anyone use [`Viewer::form_chrome`].
    pub async fn chrome(&self, title: &str) -> Chrome {
        self.chrome_with(title, self.user.is_some()).await
    }

    /// Like [`Viewer::chrome`], with a CSRF token also for an anonymous visitor.
    pub async fn form_chrome(&self, title: &str) -> Chrome {
        self.chrome_with(title, true).await
    }

    async fn chrome_with(&self, title: &str, with_token: bool) -> Chrome {
        // Removing marks the session changed (and saves it), so only when there is a message.
        let flash = match self.session.get::<Flash>(FLASH).await {
            Ok(Some(_)) => self.session.remove::<Flash>(FLASH).await.ok().flatten(),
            _ => None,
        };
        Chrome {
            user: self.user.as_ref().map(|u| UserChip {
                name: u
                    .display_name
                    .clone()
                    .unwrap_or_else(|| "Your profile".to_owned()),
            }),
            csrf: if with_token {
                crate::csrf::token(&self.session).await
            } else {
                String::new()
            },
            flash,
            title: title.to_owned(),
            path: self.path.clone(),
        }
    }

    /// The logged-in user.
    ///
    /// Errors: a redirect to the login page that comes back here.
    pub fn require_user(&self) -> Result<&user::Model, WebError> {
        self.user.as_ref().ok_or_else(|| WebError::Login {
            next: self.path.clone(),
        })
    }

    /// Refuses a form whose `csrf` field is not this session's token.
    ///
    /// Errors: 403 with a page that says to reload the form.
    pub async fn check_csrf(&self, submitted: &str) -> Result<(), WebError> {
        if crate::csrf::valid(&self.session, submitted).await {
            Ok(())
        } else {
            Err(WebError::Page(
                StatusCode::FORBIDDEN,
                "Form expired",
                "This form was not sent from this site or has expired. Go back, reload the page and try again.".to_owned(),
            ))
        }
    }

    /// Leaves a message for the next page.
    pub async fn flash(&self, text: impl Into<String>, error: bool) {
        let flash = Flash {
            text: text.into(),
            error,
        };
        if let Err(e) = self.session.insert(FLASH, flash).await {
            tracing::warn!(error = %e, "could not store a flash message");
        }
    }
}

/// A failed page.
#[derive(Debug)]
pub enum WebError {
    /// Not logged in: off to the login page, then back to `next`.
    Login {
        /// Where to come back to.
        next: String,
    },
    /// A page with a status, a title and a message.
    Page(StatusCode, &'static str, String),
}

impl WebError {
    /// 500; the cause is logged, the visitor gets a generic message.
    pub fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!(%error, "website internal error");
        Self::Page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong",
            "Something bad happened. Please try again later.".to_owned(),
        )
    }

    /// A peer service's gRPC error as a page, with the service's message for the visitor.
    pub fn from_status(status: &tonic::Status) -> Self {
        crate::error::ApiError::from_status(status).into()
    }
}

impl From<crate::error::ApiError> for WebError {
    /// The page for an API error: its status, a title for it, and its message.
    fn from(api: crate::error::ApiError) -> Self {
        let title = match api.status {
            StatusCode::NOT_FOUND => "Not found",
            StatusCode::FORBIDDEN => "Not allowed",
            StatusCode::BAD_REQUEST => "That did not work",
            StatusCode::SERVICE_UNAVAILABLE => "Try again soon",
            _ => "Something went wrong",
        };
        Self::Page(api.status, title, api.message)
    }
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    chrome: Chrome,
    message: String,
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        match self {
            Self::Login { next } => {
                Redirect::to(&format!("/login/?next={}", urlencode(&next))).into_response()
            }
            Self::Page(status, title, message) => {
                let page = MessagePage {
                    chrome: Chrome {
                        user: None,
                        csrf: String::new(),
                        flash: None,
                        title: title.to_owned(),
                        path: "/".to_owned(),
                    },
                    message,
                };
                (status, render(&page)).into_response()
            }
        }
    }
}

/// Renders a template as an HTML answer (a template error is logged and shown as a 500).
pub fn render(template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(error) => {
            tracing::error!(%error, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response()
        }
    }
}

/// `text` percent-encoded for a query value.
pub fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[derive(Template)]
#[template(path = "home.html")]
struct Home {
    chrome: Chrome,
}

async fn home(viewer: Viewer) -> Response {
    render(&Home {
        chrome: viewer.chrome("Home").await,
    })
}

async fn robots() -> &'static str {
    "User-agent: *\nDisallow: /\n"
}

/// The website's routes (HTML pages and their forms).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/robots.txt", get(robots))
        .route("/login", get(account::login))
        .route("/login/", get(account::login))
        .route("/callback/discord/", get(account::discord_callback))
        .route("/logout", get(account::logout_page).post(account::logout))
        .route("/logout/", get(account::logout_page).post(account::logout))
        .route("/me", get(account::profile))
        .route("/me/display-name", post(account::display_name))
        .route("/me/racetime/unlink", post(account::unlink))
        .route("/me/purge", post(account::purge))
        .route(
            "/racetime/verification/initiate",
            get(account::racetime_initiate),
        )
        .route("/racetime/verify/return", get(account::racetime_return))
        .route("/leagues/{guild}/{league}", get(leagues::roster))
        .route(
            "/ranked_choice/{id}",
            get(elections::page).post(elections::submit),
        )
        .route(
            "/ranked_choice/{id}/api",
            get(elections::api_get).post(elections::api_post),
        )
        .route("/presets", get(presets::index))
        .route("/presets/me", get(presets::mine))
        .route(
            "/presets/global/{randomizer}/{name}",
            get(presets::global_preset),
        )
        .route("/presets/manage/{namespace}", get(presets::namespace))
        .route("/presets/manage/{namespace}/upload", post(presets::upload))
        .route(
            "/presets/manage/{namespace}/collaborators",
            post(presets::collaborators),
        )
        .route(
            "/presets/manage/{namespace}/{randomizer}/{name}",
            get(presets::preset),
        )
        .route(
            "/presets/manage/{namespace}/{randomizer}/{name}/delete",
            post(presets::delete),
        )
        .route("/mystery", get(mystery::form).post(mystery::roll))
        .route(
            "/triforcetexts/{pool}",
            get(triforce::page).post(triforce::submit),
        )
        .route("/triforcetexts/{pool}/api", post(triforce::api_submit))
        .route("/tournaments/{slug}", get(tournaments::page))
        .route(
            "/tournaments/{slug}/matches/{id}",
            get(tournaments::match_page),
        )
        .route(
            "/tournaments/{slug}/matches/{id}/open",
            post(tournaments::open_now),
        )
        .route(
            "/tournaments/{slug}/edit",
            get(tournaments::edit_form).post(tournaments::edit),
        )
        .route(
            "/tournaments/{slug}/dry-run",
            get(tournaments::dry_run_form).post(tournaments::dry_run),
        )
        .route(
            "/tournaments/{slug}/matches/{id}/settings",
            get(settings::page).post(settings::submit),
        )
        .route(
            "/api/tournament/form-config/{event}",
            get(settings::form_config),
        )
        .route("/api/tournament/games", get(settings::games))
        .route("/api/tournament/submit", post(settings::submit_json))
        .route(
            "/triforcetexts/{pool}/moderation",
            get(triforce::moderation),
        )
        .route(
            "/triforcetexts/{pool}/moderation/{id}",
            post(triforce::moderate),
        )
        .route(
            "/triforcetexts/{pool}/moderation/api",
            get(triforce::api_list),
        )
        .route(
            "/triforcetexts/{pool}/moderation/api/{id}",
            post(triforce::api_moderate),
        )
        .route("/async/leaderboard/{id}", get(asyncs::leaderboard_page))
        .route("/async/races/{id}", get(asyncs::dashboard_page))
        .route(
            "/async/races/{id}/reattempt",
            get(asyncs::reattempt_page).post(asyncs::reattempt),
        )
        .route("/async/races/{id}/queue", get(asyncs::queue_page))
        .route(
            "/async/races/{id}/review/{race}",
            get(asyncs::review_page).post(asyncs::review),
        )
        .route("/async/pools/{id}", get(asyncs::pools_page))
        .route("/async/permalink/{id}/{link}", get(asyncs::permalink_page))
        .route("/async/player/{id}/{user}", get(asyncs::player_page))
        .route("/async/races/{id}/info", get(asyncs::info_json))
        .route(
            "/async/races/{id}/leaderboard.json",
            get(asyncs::leaderboard_json),
        )
        .route(
            "/async/races/{id}/dashboard.json",
            get(asyncs::dashboard_json),
        )
        .route(
            "/async/races/{id}/reattempt.json",
            get(asyncs::reattempt_json).post(asyncs::reattempt_post_json),
        )
        .route("/async/races/{id}/queue.json", get(asyncs::queue_json))
        .route(
            "/async/races/{id}/review/{race}/data.json",
            get(asyncs::review_json),
        )
        .route(
            "/async/races/{id}/review/{race}/submit.json",
            post(asyncs::review_post_json),
        )
        .route("/async/pools/{id}/data.json", get(asyncs::pools_json))
        .route(
            "/async/permalink/{id}/{link}/data.json",
            get(asyncs::permalink_json),
        )
        .route(
            "/async/player/{id}/{user}/data.json",
            get(asyncs::player_json),
        )
}
