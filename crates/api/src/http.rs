//! The HTTP server: the website ([`crate::web`]) and the JSON API ([`crate::rest`], with its
//! OpenAPI document at `/api/openapi.json`) on one port, behind the shared layers — request
//! ids and a log span per request, a body size cap, per-client-IP rate limits, sessions, and
//! CORS (closed unless origins are configured).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::http::{HeaderValue, Method, Request, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use platform::events::Outbox;
use platform::grpc::Peers;
use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_governor::GovernorError;
use tower_governor::GovernorLayer;
use tower_governor::governor::GovernorConfigBuilder;
use tower_governor::key_extractor::{KeyExtractor, PeerIpKeyExtractor, SmartIpKeyExtractor};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::error::ApiError;
use crate::oauth::OAuth;
use crate::presets::PresetCache;
use crate::settings::ApiSettings;

/// The largest request body accepted, in bytes (a mystery weightset is at most a few tens of
/// KiB; presets are capped by seedgen at its own limit).
pub const MAX_BODY_BYTES: usize = 512 * 1024;

/// What the handlers share.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The other services.
    pub peers: Peers,
    /// The api database (users, keys, sessions, webhooks).
    pub db: DatabaseConnection,
    /// api's outbox (identity events).
    pub outbox: Outbox,
    /// The OAuth2 clients.
    pub oauth: Arc<OAuth>,
    /// api's settings.
    pub settings: Arc<ApiSettings>,
    /// The preset listing cache.
    pub preset_cache: Arc<PresetCache>,
}

/// The client IP a rate limit is counted against: the peer address, or the proxy's
/// `X-Forwarded-For`/`X-Real-IP` when `http.trust_forwarded_for` is set.
#[derive(Clone, Copy, Debug)]
struct ClientIp {
    trust_forwarded: bool,
}

impl KeyExtractor for ClientIp {
    type Key = IpAddr;

    fn extract<T>(&self, req: &Request<T>) -> Result<IpAddr, GovernorError> {
        if self.trust_forwarded {
            SmartIpKeyExtractor.extract(req)
        } else {
            PeerIpKeyExtractor.extract(req)
        }
    }
}

/// The whole application: website and JSON API with every layer.
pub fn router(state: AppState) -> Router {
    let (api, openapi) = crate::rest::router().split_for_parts();
    let openapi = Arc::new(openapi);
    let settings = state.settings.clone();
    let app = Router::new()
        .merge(crate::web::router())
        .merge(api)
        .route(
            "/api/openapi.json",
            get(move || {
                let openapi = openapi.clone();
                async move { Json((*openapi).clone()) }
            }),
        )
        .fallback(not_found)
        .with_state(state.clone());

    let mut app = app
        .layer(crate::sessions::layer(
            state.db.clone(),
            settings.http.secure_cookies(),
            settings.http.session_idle_days,
        ))
        .layer(cors(&settings.http.cors_origins))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES));
    if settings.http.rate_limit_per_second > 0 {
        // One request's worth of quota comes back every 1/rate seconds.
        let period_ns = (1_000_000_000 / u64::from(settings.http.rate_limit_per_second)).max(1);
        if let Some(config) = GovernorConfigBuilder::default()
            .per_nanosecond(period_ns)
            .burst_size(settings.http.rate_limit_burst.max(1))
            .key_extractor(ClientIp {
                trust_forwarded: settings.http.trust_forwarded_for,
            })
            .finish()
        {
            let config = Arc::new(config);
            // Forget idle clients now and then, so the table does not grow forever; the task
            // ends with the router.
            let limiter = Arc::downgrade(config.limiter());
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_secs(60));
                loop {
                    tick.tick().await;
                    match limiter.upgrade() {
                        Some(limiter) => limiter.retain_recent(),
                        None => break,
                    }
                }
            });
            app = app.layer(GovernorLayer::new(config).error_handler(|error| {
                let wait = match &error {
                    // Whole seconds, rounded up: "0" would invite an immediate retry.
                    GovernorError::TooManyRequests { wait_time, .. } => (*wait_time).max(1),
                    _ => 1,
                };
                let mut response = ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limited",
                    format!("too many requests; try again in {wait} s"),
                )
                .into_response();
                if let Ok(value) = HeaderValue::from_str(&wait.to_string()) {
                    response.headers_mut().insert(header::RETRY_AFTER, value);
                }
                response
            }));
        }
    }
    // Outermost last: the id is set first, so even a refused request's answer carries it.
    app.layer(axum::middleware::from_fn(log_request))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

fn cors(origins: &[String]) -> CorsLayer {
    let allowed: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o.trim()).ok())
        .collect();
    // No origins: no Access-Control-Allow-Origin is ever sent, so browsers refuse
    // cross-origin reads.
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(allowed))
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .max_age(Duration::from_secs(3600))
}

/// 404: JSON under `/api/`, a page elsewhere.
async fn not_found(uri: axum::http::Uri) -> axum::response::Response {
    if uri.path().starts_with("/api/") {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "no_route",
            "The requested resource does not exist; see /api/openapi.json",
        )
        .into_response()
    } else {
        crate::web::WebError::Page(
            StatusCode::NOT_FOUND,
            "Not found",
            "There is no page here.".to_owned(),
        )
        .into_response()
    }
}

/// Runs the request in a span carrying its `x-request-id` (set by the layer above, or the
/// caller's), so every log line of a request can be found by the id the caller sees.
async fn log_request(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let span = tracing::info_span!(
        "http",
        request_id = %id,
        method = %request.method(),
        path = %request.uri().path()
    );
    let response = tracing::Instrument::instrument(next.run(request), span.clone()).await;
    span.in_scope(|| tracing::debug!(status = response.status().as_u16(), "answered"));
    response
}

/// Serves until `shutdown`, letting requests in flight finish.
pub(crate) async fn serve(listener: TcpListener, state: AppState, shutdown: CancellationToken) {
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    if let Err(error) = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
    {
        tracing::error!(error = %error, "HTTP API server failed");
    }
}
