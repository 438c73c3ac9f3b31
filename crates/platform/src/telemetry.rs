//! Logs, traces and W3C trace-context propagation.
//!
//! [`init`] installs one global `tracing` subscriber: human or JSON log lines, an
//! [`EnvFilter`], and an OpenTelemetry layer. Spans always get W3C trace ids (so logs and errors
//! can name a trace); they are exported over OTLP/gRPC only when `OTEL_EXPORTER_OTLP_ENDPOINT`
//! is set. The helpers below carry the current trace across gRPC metadata and NATS headers
//! (`traceparent`, `tracestate`), so one Discord command is one trace across services.

use std::sync::OnceLock;

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer as _};

use crate::config::{LogFormat, TelemetrySettings};

/// The standard variable that switches on OTLP export (e.g. `http://otel-collector:4317`).
pub const OTLP_ENDPOINT_VAR: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";

static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();

/// Flushes and stops trace export when the service ends. Call [`TelemetryGuard::shutdown`]
/// from async code; dropping it without that loses buffered spans.
#[derive(Debug)]
pub struct TelemetryGuard {
    exporting: bool,
}

impl TelemetryGuard {
    /// Flushes buffered spans. Runs the blocking SDK shutdown off the async worker, which
    /// otherwise deadlocks on a current-thread runtime and drops the spans.
    pub async fn shutdown(self) {
        if !self.exporting {
            return;
        }
        if let Some(provider) = PROVIDER.get().cloned() {
            let _ = tokio::task::spawn_blocking(move || {
                if let Err(error) = provider.shutdown() {
                    eprintln!("telemetry: trace export shutdown failed: {error}");
                }
            })
            .await;
        }
    }
}

/// Installs the global subscriber and propagator for `service`. Must run inside a tokio
/// runtime (the OTLP exporter's client needs one). A second call in the same process (tests)
/// leaves the first subscriber in place.
pub fn init(service: &'static str, settings: &TelemetrySettings) -> anyhow::Result<TelemetryGuard> {
    let endpoint = std::env::var(OTLP_ENDPOINT_VAR)
        .ok()
        .filter(|value| !value.trim().is_empty());
    let exporting = endpoint.is_some();
    let provider = build_provider(service, endpoint.as_deref())?;
    let tracer = provider.tracer(service);
    let _ = PROVIDER.set(provider);
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());

    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&settings.log_filter))
        .map_err(|error| {
            crate::config::ConfigError::invalid("telemetry.log_filter", error.to_string())
        })?;
    let otel = tracing_opentelemetry::layer().with_tracer(tracer);
    let registry = tracing_subscriber::registry().with(filter).with(otel);
    let installed = match settings.log_format {
        LogFormat::Human => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_target(true)
                    .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout())),
            )
            .try_init(),
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_span_list(false),
            )
            .try_init(),
    };
    if installed.is_ok() && exporting {
        tracing::info!(
            endpoint = endpoint.as_deref().unwrap_or_default(),
            "exporting traces over OTLP"
        );
    }
    Ok(TelemetryGuard { exporting })
}

/// Installs a subscriber for tests: trace ids on, no export, logs only when `TEST_LOG` is set.
/// Safe to call from every test.
pub fn init_for_tests() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let provider = SdkTracerProvider::builder().build();
        let tracer = provider.tracer("test");
        let _ = PROVIDER.set(provider);
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        let otel = tracing_opentelemetry::layer().with_tracer(tracer);
        let registry = tracing_subscriber::registry().with(otel);
        if std::env::var_os("TEST_LOG").is_some() {
            let filter =
                EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
            let _ = registry
                .with(
                    tracing_subscriber::fmt::layer()
                        .with_test_writer()
                        .with_filter(filter),
                )
                .try_init();
        } else {
            let _ = registry.with(EnvFilter::new("info")).try_init();
        }
    });
}

fn build_provider(
    service: &'static str,
    endpoint: Option<&str>,
) -> anyhow::Result<SdkTracerProvider> {
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name(service)
        .build();
    let mut builder = SdkTracerProvider::builder().with_resource(resource);
    if endpoint.is_some() {
        // The exporter reads OTEL_EXPORTER_OTLP_ENDPOINT (and the other OTEL_* variables) itself.
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .build()?;
        builder = builder.with_batch_exporter(exporter);
    }
    Ok(builder.build())
}

/// W3C trace id (32 hex digits) of the current span, if it has a valid one.
pub fn current_trace_id() -> Option<String> {
    let context = tracing::Span::current().context();
    let span = context.span();
    let span_context = span.span_context();
    span_context
        .is_valid()
        .then(|| span_context.trace_id().to_string())
}

/// Writes the current span's trace context into `carrier`.
pub fn inject_current(carrier: &mut dyn Injector) {
    let context = tracing::Span::current().context();
    TraceContextPropagator::new().inject_context(&context, carrier);
}

/// Reads a trace context from `carrier`; an empty context when there is none.
pub fn extract(carrier: &dyn Extractor) -> opentelemetry::Context {
    TraceContextPropagator::new().extract(carrier)
}

/// Makes the context in `carrier` the parent of `span` (no-op when the carrier has none).
pub fn set_parent_from(span: &tracing::Span, carrier: &dyn Extractor) {
    let context = extract(carrier);
    if context.span().span_context().is_valid() {
        let _ = span.set_parent(context);
    }
}

/// The current span's `(traceparent, tracestate)`, for storing in an outbox row.
pub fn current_trace_headers() -> (String, String) {
    let mut map = std::collections::HashMap::new();
    inject_current(&mut map);
    (
        map.remove("traceparent").unwrap_or_default(),
        map.remove("tracestate").unwrap_or_default(),
    )
}

/// Carrier over gRPC/HTTP headers.
#[derive(Debug)]
pub struct HeaderCarrier<'a>(pub &'a mut http::HeaderMap);

impl Injector for HeaderCarrier<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            http::header::HeaderName::from_bytes(key.as_bytes()),
            http::HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

/// Read-only carrier over gRPC/HTTP headers.
#[derive(Debug)]
pub struct HeaderExtractor<'a>(pub &'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

/// Carrier over NATS message headers.
#[derive(Debug)]
pub struct NatsHeaderCarrier<'a>(pub &'a mut async_nats::HeaderMap);

impl Injector for NatsHeaderCarrier<'_> {
    fn set(&mut self, key: &str, value: String) {
        self.0.insert(key, value.as_str());
    }
}

/// Read-only carrier over NATS message headers.
#[derive(Debug)]
pub struct NatsHeaderExtractor<'a>(pub &'a async_nats::HeaderMap);

impl Extractor for NatsHeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(async_nats::HeaderValue::as_str)
    }
    fn keys(&self) -> Vec<&str> {
        Vec::new()
    }
}

/// Carrier over a stored `(traceparent, tracestate)` pair.
#[derive(Debug)]
pub struct StoredTrace<'a> {
    /// The stored W3C `traceparent`.
    pub traceparent: &'a str,
    /// The stored W3C `tracestate`.
    pub tracestate: &'a str,
}

impl Extractor for StoredTrace<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        match key {
            "traceparent" if !self.traceparent.is_empty() => Some(self.traceparent),
            "tracestate" if !self.tracestate.is_empty() => Some(self.tracestate),
            _ => None,
        }
    }
    fn keys(&self) -> Vec<&str> {
        vec!["traceparent", "tracestate"]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_context_survives_a_round_trip_through_headers() {
        init_for_tests();
        let span = tracing::info_span!("outer");
        let _entered = span.enter();
        let trace_id = current_trace_id().expect("span has a trace id");
        let mut headers = http::HeaderMap::new();
        inject_current(&mut HeaderCarrier(&mut headers));
        assert!(headers.contains_key("traceparent"));

        let child = tracing::info_span!("remote");
        set_parent_from(&child, &HeaderExtractor(&headers));
        let _child_entered = child.enter();
        assert_eq!(current_trace_id().as_deref(), Some(trace_id.as_str()));
    }

    #[test]
    fn stored_trace_headers_restore_the_trace() {
        init_for_tests();
        let span = tracing::info_span!("writer");
        let (traceparent, tracestate, trace_id) = span.in_scope(|| {
            let (parent, state) = current_trace_headers();
            (parent, state, current_trace_id().expect("trace id"))
        });
        assert!(traceparent.contains(&trace_id), "{traceparent}");
        let reader = tracing::info_span!("reader");
        set_parent_from(
            &reader,
            &StoredTrace {
                traceparent: &traceparent,
                tracestate: &tracestate,
            },
        );
        assert_eq!(reader.in_scope(current_trace_id), Some(trace_id));
    }
}
