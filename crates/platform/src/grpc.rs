//! gRPC server and client setup shared by every service.
//!
//! Server: `grpc.health.v1` health, reflection over every proto of the workspace, a span per
//! request whose parent is the caller's `traceparent`, request count and latency metrics, and a
//! server-wide deadline (a caller's shorter `grpc-timeout` wins).
//! Client: lazily connecting channels with a per-call deadline, `traceparent` injected into every
//! request, and [`Peer::call`] retrying calls that fail with UNAVAILABLE.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable};
use opentelemetry::propagation::Injector;
use tonic::Status;
use tonic::metadata::{MetadataKey, MetadataMap, MetadataValue};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};

use crate::config::PeerSettings;
use crate::metrics::{GrpcCallLabels, GrpcMethodLabels, Metrics};
use crate::telemetry;

/// A chrono UTC time as a protobuf `google.protobuf.Timestamp`.
pub fn timestamp(at: chrono::DateTime<chrono::Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

/// A protobuf `google.protobuf.Timestamp` as a chrono UTC time; `None` when absent or out of
/// chrono's range.
pub fn datetime(at: Option<&prost_types::Timestamp>) -> Option<chrono::DateTime<chrono::Utc>> {
    at.and_then(|t| {
        chrono::DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).unwrap_or(0))
    })
}

/// Deadline of any request on our servers when the caller sets none, or a longer one.
pub const SERVER_DEADLINE: Duration = Duration::from_secs(60);

/// The span of one incoming request, child of the caller's trace when it sent `traceparent`.
pub fn request_span(request: &http::Request<()>) -> tracing::Span {
    let span = tracing::info_span!(
        "grpc.request",
        otel.kind = "server",
        rpc.method = %request.uri().path(),
    );
    telemetry::set_parent_from(&span, &telemetry::HeaderExtractor(request.headers()));
    span
}

/// Counts requests and measures latency per method (status from the response headers; a
/// trailers-only error carries it there, a success is `Ok`).
#[derive(Clone, Debug)]
pub struct MetricsLayer {
    metrics: Arc<Metrics>,
}

impl MetricsLayer {
    /// The layer recording into `metrics`.
    pub fn new(metrics: Arc<Metrics>) -> Self {
        Self { metrics }
    }
}

impl<S> tower::Layer<S> for MetricsLayer {
    type Service = MetricsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        MetricsService {
            inner,
            metrics: self.metrics.clone(),
        }
    }
}

/// The service [`MetricsLayer`] wraps around the gRPC router.
#[derive(Clone, Debug)]
pub struct MetricsService<S> {
    inner: S,
    metrics: Arc<Metrics>,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

impl<S, ReqBody, ResBody> tower::Service<http::Request<ReqBody>> for MetricsService<S>
where
    S: tower::Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
    S::Error: 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<ReqBody>) -> Self::Future {
        let method = request.uri().path().to_owned();
        let metrics = self.metrics.clone();
        let started = Instant::now();
        let response = self.inner.call(request);
        Box::pin(async move {
            let result = response.await;
            let code = match &result {
                Ok(response) => response
                    .headers()
                    .get("grpc-status")
                    .and_then(|value| value.to_str().ok())
                    .and_then(|value| value.parse::<i32>().ok())
                    .map_or(tonic::Code::Ok, tonic::Code::from_i32),
                Err(_) => tonic::Code::Unknown,
            };
            metrics
                .grpc_latency
                .get_or_create(&GrpcMethodLabels {
                    method: method.clone(),
                })
                .observe(started.elapsed().as_secs_f64());
            metrics
                .grpc_requests
                .get_or_create(&GrpcCallLabels {
                    method,
                    code: format!("{code:?}"),
                })
                .inc();
            result
        })
    }
}

/// Adds the current span's `traceparent`/`tracestate` to every outgoing request.
#[derive(Clone, Copy, Debug, Default)]
pub struct TraceInterceptor;

impl tonic::service::Interceptor for TraceInterceptor {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, Status> {
        telemetry::inject_current(&mut MetadataCarrier(request.metadata_mut()));
        Ok(request)
    }
}

struct MetadataCarrier<'a>(&'a mut MetadataMap);

impl Injector for MetadataCarrier<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(key), Ok(value)) = (
            MetadataKey::from_bytes(key.as_bytes()),
            MetadataValue::try_from(value.as_str()),
        ) {
            self.0.insert(key, value);
        }
    }
}

/// A channel whose requests carry the caller's trace context. Generated clients take it:
/// `SeedGenClient::new(peer.channel())`.
pub type TracedChannel = InterceptedService<Channel, TraceInterceptor>;

/// Another service this one calls.
#[derive(Clone, Debug)]
pub struct Peer {
    name: String,
    channel: Channel,
    attempts: u32,
}

impl Peer {
    /// A lazily connecting channel to `settings.url` with `settings.timeout_ms` per call.
    ///
    /// Errors: the URL is not a valid endpoint.
    pub fn new(name: &str, settings: &PeerSettings) -> Result<Self, tonic::transport::Error> {
        let channel = Endpoint::from_shared(settings.url.clone())?
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_millis(settings.timeout_ms))
            .tcp_nodelay(true)
            .http2_keep_alive_interval(Duration::from_secs(30))
            .keep_alive_while_idle(true)
            .connect_lazy();
        Ok(Self {
            name: name.to_owned(),
            channel,
            attempts: settings.attempts.max(1),
        })
    }

    /// The peer's service name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A traced channel for a generated client.
    pub fn channel(&self) -> TracedChannel {
        InterceptedService::new(self.channel.clone(), TraceInterceptor)
    }

    /// Runs `call` up to the configured attempts while it fails with UNAVAILABLE (peer
    /// restarting, connection refused), waiting 50 ms, 100 ms, ... between attempts. Other errors
    /// return at once. Only use it for idempotent calls or calls with an idempotency key.
    pub async fn call<T, F, Fut>(&self, call: F) -> Result<T, Status>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Status>>,
    {
        call.retry(
            ExponentialBuilder::default()
                .with_min_delay(Duration::from_millis(50))
                .with_max_delay(Duration::from_secs(2))
                .with_max_times(self.attempts.saturating_sub(1) as usize),
        )
        .sleep(tokio::time::sleep)
        .when(|status: &Status| status.code() == tonic::Code::Unavailable)
        .notify(|status: &Status, delay: Duration| {
            tracing::debug!(peer = %self.name, error = %status.message(), retry_in_ms = delay.as_millis() as u64, "peer unavailable; retrying");
        })
        .await
        .map_err(|status| self.unreachable(status))
    }

    /// A transport failure (the status carries its cause; one the peer sent does not) says
    /// which service is down; the OS's words go to the log, not to a person.
    fn unreachable(&self, status: Status) -> Status {
        if status.code() != tonic::Code::Unavailable || std::error::Error::source(&status).is_none()
        {
            return status;
        }
        tracing::warn!(peer = %self.name, error = %status.message(), "peer unreachable");
        Status::unavailable(format!(
            "the {} service cannot be reached right now",
            self.name
        ))
    }
}

/// What a person is told when a peer's call failed: the one policy of every front door
/// (Discord replies, racetime.gg chat). `None` means our side failed: show the trace id.
///
/// - NOT_FOUND, INVALID_ARGUMENT, FAILED_PRECONDITION, PERMISSION_DENIED, ALREADY_EXISTS: the
///   owner's message as it is (it says what to change);
/// - UNAVAILABLE, DEADLINE_EXCEEDED: the message (which names the site or service) and "try
///   again in a minute";
/// - ABORTED: the same request is still running.
pub fn user_message(status: &Status) -> Option<String> {
    let message = status.message().trim_end_matches('.');
    match status.code() {
        tonic::Code::NotFound
        | tonic::Code::InvalidArgument
        | tonic::Code::FailedPrecondition
        | tonic::Code::PermissionDenied
        | tonic::Code::AlreadyExists => Some(status.message().to_owned()),
        tonic::Code::Unavailable | tonic::Code::DeadlineExceeded => {
            Some(format!("{message}. Please try again in a minute."))
        }
        tonic::Code::Aborted => {
            Some("That request is still being worked on; please wait a moment.".to_owned())
        }
        _ => None,
    }
}

/// The peers a service is configured to call, by service name.
#[derive(Clone, Debug, Default)]
pub struct Peers(std::collections::BTreeMap<String, Peer>);

impl Peers {
    /// Channels for every configured peer (no connection is made yet).
    ///
    /// Errors: a peer URL is not a valid endpoint.
    pub fn from_settings(
        settings: &std::collections::BTreeMap<String, PeerSettings>,
    ) -> Result<Self, crate::config::ConfigError> {
        settings
            .iter()
            .map(|(name, peer)| {
                Peer::new(name, peer)
                    .map(|channel| (name.clone(), channel))
                    .map_err(|error| {
                        crate::config::ConfigError::invalid(
                            format!("peers.{name}.url"),
                            error.to_string(),
                        )
                    })
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    /// The peer called `name`, or FAILED_PRECONDITION naming the configured ones.
    pub fn get(&self, name: &str) -> Result<&Peer, Status> {
        self.0.get(name).ok_or_else(|| {
            let known: Vec<&str> = self.0.keys().map(String::as_str).collect();
            Status::failed_precondition(format!(
                "no peer `{name}` is configured for this service (configured: {})",
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            ))
        })
    }
}

/// The handler [`catch_panic_layer`] calls with a panic's payload.
pub type PanicHandler = fn(Box<dyn std::any::Any + Send + 'static>) -> http::Response<String>;

/// Turns a panic in any gRPC handler into an `INTERNAL` status whose message quotes the
/// request's trace id, and logs the panic with it, instead of a reset HTTP/2 stream that the
/// caller can only report as "connection reset". Every service's server carries it.
pub fn catch_panic_layer() -> tower_http::catch_panic::CatchPanicLayer<PanicHandler> {
    tower_http::catch_panic::CatchPanicLayer::custom(panic_response as PanicHandler)
}

fn panic_response(payload: Box<dyn std::any::Any + Send + 'static>) -> http::Response<String> {
    let detail = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned());
    let trace = telemetry::current_trace_id().unwrap_or_else(|| "unknown".to_owned());
    tracing::error!(panic = %detail, trace_id = %trace, "gRPC handler panicked");
    Status::internal(format!(
        "internal error (trace {trace}); it is logged, please report it"
    ))
    .into_http()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::convert::Infallible;

    use tower::{Layer, Service};
    use tracing::Instrument;

    use super::*;

    /// A gRPC handler that panics mid-request, as the SQLite u64 bind once did.
    #[derive(Clone)]
    struct Panics;

    impl Service<http::Request<()>> for Panics {
        type Response = http::Response<String>;
        type Error = Infallible;
        type Future = BoxFuture<Result<Self::Response, Infallible>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, _: http::Request<()>) -> Self::Future {
            Box::pin(async {
                let values: Vec<u64> = Vec::new();
                let _ = values[3];
                Ok(http::Response::new(String::new()))
            })
        }
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_internal_with_the_trace_id() {
        crate::telemetry::init_for_tests();
        let span = tracing::info_span!("grpc.request");
        let trace = span.in_scope(telemetry::current_trace_id).unwrap();
        let mut service = catch_panic_layer().layer(Panics);
        let response = service
            .call(http::Request::new(()))
            .instrument(span)
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            http::StatusCode::OK,
            "a gRPC answer, not a reset"
        );
        let status = Status::from_header_map(response.headers()).unwrap();
        assert_eq!(status.code(), tonic::Code::Internal);
        assert_eq!(
            status.message(),
            format!("internal error (trace {trace}); it is logged, please report it")
        );
    }

    #[test]
    fn people_are_told_what_to_do_and_never_an_os_error() {
        let refused = Status::not_found("Could not find preset `nope` for alttpr.");
        assert_eq!(user_message(&refused).unwrap(), refused.message());
        let down = Status::unavailable("alttpr.com: cannot be reached right now");
        assert_eq!(
            user_message(&down).unwrap(),
            "alttpr.com: cannot be reached right now. Please try again in a minute."
        );
        assert!(user_message(&Status::internal("boom")).is_none());
    }
}
