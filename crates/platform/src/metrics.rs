//! Prometheus metrics of one service instance, served as text on the admin port's `/metrics`.
//!
//! Each service owns its own registry (several services can share a process in tests); every
//! series carries a constant `service` label.

use std::borrow::Cow;
use std::sync::{Mutex, PoisonError};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Labels of a finished gRPC call.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct GrpcCallLabels {
    /// `/package.Service/Method`
    pub method: String,
    /// gRPC status code name, e.g. `Ok`, `Unavailable`.
    pub code: String,
}

/// Labels of a gRPC method.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct GrpcMethodLabels {
    /// The full gRPC method path.
    pub method: String,
}

/// Labels of a consumer's handled message.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ConsumerOutcomeLabels {
    /// The durable consumer's name.
    pub consumer: String,
    /// `handled`, `duplicate`, `retried`, `dead_lettered`, `undecodable`.
    pub outcome: String,
}

/// Labels of a durable consumer.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ConsumerLabels {
    /// The durable consumer's name.
    pub consumer: String,
}

fn latency_histogram() -> Histogram {
    // 1 ms .. ~33 s
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

/// The metrics every service exports.
#[derive(Debug)]
pub struct Metrics {
    registry: Mutex<Registry>,
    /// gRPC requests served, by method and status code.
    pub grpc_requests: Family<GrpcCallLabels, Counter>,
    /// gRPC request latency in seconds, by method.
    pub grpc_latency: Family<GrpcMethodLabels, Histogram, fn() -> Histogram>,
    /// Outbox rows not yet published to JetStream.
    pub outbox_backlog: Gauge,
    /// Outbox rows published (acknowledged by JetStream).
    pub events_published: Counter,
    /// Messages processed by consumers, by outcome.
    pub events_consumed: Family<ConsumerOutcomeLabels, Counter>,
    /// Messages in the stream not yet delivered to a consumer (JetStream `num_pending`).
    pub consumer_lag: Family<ConsumerLabels, Gauge>,
    /// Messages delivered to a consumer and not yet acknowledged.
    pub consumer_ack_pending: Family<ConsumerLabels, Gauge>,
}

impl Metrics {
    /// A fresh registry with every metric registered, labelled `service=<service>`.
    pub fn new(service: &str) -> Self {
        let mut registry = Registry::with_prefix_and_labels(
            "sahasrahbot",
            [(Cow::Borrowed("service"), Cow::Owned(service.to_owned()))].into_iter(),
        );
        let grpc_requests = Family::<GrpcCallLabels, Counter>::default();
        registry.register(
            "grpc_server_requests",
            "gRPC requests served, by method and status code",
            grpc_requests.clone(),
        );
        let grpc_latency =
            Family::<GrpcMethodLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                latency_histogram,
            );
        registry.register(
            "grpc_server_request_duration_seconds",
            "gRPC request latency in seconds",
            grpc_latency.clone(),
        );
        let outbox_backlog = Gauge::default();
        registry.register(
            "outbox_backlog",
            "Outbox rows not yet published to JetStream",
            outbox_backlog.clone(),
        );
        let events_published = Counter::default();
        registry.register(
            "events_published",
            "Outbox rows published and acknowledged by JetStream",
            events_published.clone(),
        );
        let events_consumed = Family::<ConsumerOutcomeLabels, Counter>::default();
        registry.register(
            "events_consumed",
            "Messages processed by this service's consumers, by outcome",
            events_consumed.clone(),
        );
        let consumer_lag = Family::<ConsumerLabels, Gauge>::default();
        registry.register(
            "consumer_lag",
            "Messages in the stream not yet delivered to the consumer",
            consumer_lag.clone(),
        );
        let consumer_ack_pending = Family::<ConsumerLabels, Gauge>::default();
        registry.register(
            "consumer_ack_pending",
            "Messages delivered to the consumer and not yet acknowledged",
            consumer_ack_pending.clone(),
        );
        Self {
            registry: Mutex::new(registry),
            grpc_requests,
            grpc_latency,
            outbox_backlog,
            events_published,
            events_consumed,
            consumer_lag,
            consumer_ack_pending,
        }
    }

    /// Counts one consumed message.
    pub fn consumed(&self, consumer: &str, outcome: &str) {
        self.events_consumed
            .get_or_create(&ConsumerOutcomeLabels {
                consumer: consumer.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// Adds a service's own metric (named without the `sahasrahbot_` prefix, which is added;
    /// a histogram of seconds ends in `_seconds`). Register each name once, at start.
    pub fn register(
        &self,
        name: &str,
        help: &str,
        metric: impl prometheus_client::registry::Metric,
    ) {
        self.registry
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .register(name, help, metric);
    }

    /// The Prometheus text exposition (OpenMetrics) of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let registry = self.registry.lock().unwrap_or_else(PoisonError::into_inner);
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_contains_service_label_and_counts() {
        let metrics = Metrics::new("seedgen");
        metrics.consumed("probe", "handled");
        metrics.consumed("probe", "handled");
        metrics.outbox_backlog.set(3);
        let text = metrics.render();
        assert!(
            text.contains(r#"sahasrahbot_events_consumed_total{service="seedgen",consumer="probe",outcome="handled"} 2"#),
            "{text}"
        );
        assert!(
            text.contains(r#"sahasrahbot_outbox_backlog{service="seedgen"} 3"#),
            "{text}"
        );
    }

    #[test]
    fn a_service_metric_is_rendered_with_the_prefix_and_label() {
        let metrics = Metrics::new("tournament");
        let lateness = Histogram::new([1.0, 10.0, 60.0]);
        metrics.register(
            "room_open_lateness_seconds",
            "Seconds after its window opened that a room opened",
            lateness.clone(),
        );
        lateness.observe(4.0);
        let text = metrics.render();
        assert!(
            text.contains(
                r#"sahasrahbot_room_open_lateness_seconds_bucket{service="tournament",le="10.0"} 1"#
            ),
            "{text}"
        );
        assert!(
            text.contains(
                r#"sahasrahbot_room_open_lateness_seconds_bucket{service="tournament",le="1.0"} 0"#
            ),
            "{text}"
        );
    }
}
