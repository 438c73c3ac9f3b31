//! All five services in one process against one MariaDB and one NATS: readiness, one trace
//! across a gRPC hop, and events handled exactly once across a consumer crash and a NATS
//! server restart.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use e2e::{Cluster, SERVICES};
use proto::diagnostics::v1::{EmitProbeRequest, GetProbeReceiptsRequest, PingRequest};
use testkit::{ServiceHandle, TestNats};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;
use tracing::Instrument;

async fn emit(
    cluster: &Cluster,
    from: &str,
    to: &str,
    count: u32,
    handle_delay_ms: u32,
) -> Vec<String> {
    cluster
        .diagnostics(from)
        .await
        .expect("client")
        .emit_probe(EmitProbeRequest {
            target: to.to_owned(),
            count,
            handle_delay_ms,
        })
        .await
        .expect("emit")
        .into_inner()
        .event_ids
}

async fn receipts(cluster: &Cluster, at: &str, ids: &[String]) -> BTreeMap<String, u32> {
    match cluster.diagnostics(at).await {
        Ok(mut client) => match client
            .get_probe_receipts(GetProbeReceiptsRequest {
                event_ids: ids.to_vec(),
            })
            .await
        {
            Ok(reply) => reply
                .into_inner()
                .receipts
                .into_iter()
                .map(|receipt| (receipt.event_id, receipt.times_handled))
                .collect(),
            Err(_) => BTreeMap::new(),
        },
        Err(_) => BTreeMap::new(),
    }
}

/// Waits until every id has a receipt at `at`, then returns the receipts.
async fn wait_all_handled(
    cluster: &Cluster,
    at: &str,
    ids: &[String],
    within: Duration,
) -> BTreeMap<String, u32> {
    let started = Instant::now();
    loop {
        let seen = receipts(cluster, at, ids).await;
        if seen.len() == ids.len() {
            return seen;
        }
        assert!(
            started.elapsed() < within,
            "only {} of {} events handled by {at} after {within:?}",
            seen.len(),
            ids.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn assert_exactly_once(receipts: &BTreeMap<String, u32>, ids: &[String]) {
    for id in ids {
        assert_eq!(
            receipts.get(id),
            Some(&1),
            "event {id} handled {:?} times",
            receipts.get(id)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_services_become_ready_serve_health_and_share_one_trace_across_a_call() {
    let cluster = Cluster::start(TestNats::shared())
        .await
        .expect("cluster starts");

    for name in SERVICES {
        let service = cluster.service(name);
        let (status, body) = service.readyz().await.expect("readyz");
        assert_eq!(status, 200, "{name}: {body}");
        assert_eq!(body, "database: ok\nnats: ok\ngrpc: ok\n");
        let (status, _) = testkit::http_get(service.admin_addr, "/healthz")
            .await
            .expect("healthz");
        assert_eq!(status, 200);
        let mut health = HealthClient::new(
            tonic::transport::Endpoint::from_shared(service.grpc_url())
                .expect("url")
                .connect()
                .await
                .expect("connect"),
        );
        let serving = health
            .check(HealthCheckRequest {
                service: String::new(),
            })
            .await
            .expect("health check")
            .into_inner()
            .status;
        assert_eq!(
            serving,
            tonic_health::pb::health_check_response::ServingStatus::Serving as i32,
            "{name}"
        );
    }

    // gateway calls seedgen over its configured peer channel; both hops see the test's trace.
    let span = tracing::info_span!("test.root");
    let (reply, trace_id) = async {
        let reply = cluster
            .diagnostics("gateway")
            .await
            .expect("client")
            .ping(PingRequest {
                via: "seedgen".to_owned(),
            })
            .await
            .expect("ping")
            .into_inner();
        (
            reply,
            platform::telemetry::current_trace_id().expect("root trace id"),
        )
    }
    .instrument(span)
    .await;
    let upstream = reply.upstream.expect("seedgen answered through gateway");
    assert_eq!(reply.service, "gateway");
    assert_eq!(upstream.service, "seedgen");
    assert_eq!(reply.trace_id.len(), 32);
    assert_eq!(
        reply.trace_id, trace_id,
        "gateway's span is in the caller's trace"
    );
    assert_eq!(
        upstream.trace_id, trace_id,
        "seedgen's span is in the same trace"
    );

    // A peer that is not configured is a clear error, not a hang.
    let error = cluster
        .diagnostics("seedgen")
        .await
        .expect("client")
        .ping(PingRequest {
            via: "gateway".to_owned(),
        })
        .await
        .expect_err("seedgen has no peers");
    assert_eq!(error.code(), tonic::Code::FailedPrecondition);
    assert!(
        error.message().contains("no peer `gateway`"),
        "{}",
        error.message()
    );

    // seedgen's API is live: a Generate without an idempotency key is refused.
    let mut seedgen = proto::seedgen::v1::seed_gen_client::SeedGenClient::connect(
        cluster.service("seedgen").grpc_url(),
    )
    .await
    .expect("connect");
    let error = seedgen
        .generate(proto::seedgen::v1::GenerateRequest::default())
        .await
        .expect_err("no idempotency key");
    assert_eq!(error.code(), tonic::Code::InvalidArgument);

    // The api front door reaches every service over gRPC.
    let (status, body) = testkit::http_get(cluster.api_http(), "/api/v1/status")
        .await
        .expect("status");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""status":"ok""#), "{body}");
    let (status, _) = testkit::http_get(cluster.api_http(), "/api/v1/nope")
        .await
        .expect("404");
    assert_eq!(status, 404);

    // Metrics count the calls above.
    let (status, metrics) = testkit::http_get(cluster.service("gateway").admin_addr, "/metrics")
        .await
        .expect("metrics");
    assert_eq!(status, 200);
    // One ping from this test, one from the api's status check.
    assert!(
        metrics.contains(r#"sahasrahbot_grpc_server_requests_total{service="gateway",method="/diagnostics.v1.Diagnostics/Ping",code="Ok"} 2"#),
        "{metrics}"
    );
    assert!(metrics.contains("sahasrahbot_outbox_backlog"), "{metrics}");

    cluster.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_are_handled_exactly_once_across_a_consumer_crash_and_a_graceful_restart() {
    let mut cluster = Cluster::start(TestNats::shared())
        .await
        .expect("cluster starts");
    const COUNT: u32 = 40;
    let ids = emit(&cluster, "seedgen", "gateway", COUNT, 50).await;
    assert_eq!(ids.len(), COUNT as usize);

    // Crash gateway while its consumer is part-way through: some handled, some delivered and
    // unacked, one mid-transaction.
    let started = Instant::now();
    loop {
        let handled = receipts(&cluster, "gateway", &ids).await.len();
        if handled >= 5 {
            assert!(
                handled < ids.len(),
                "all handled before the crash; the test proves nothing"
            );
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "gateway handled nothing"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cluster
        .restart("gateway", true)
        .await
        .expect("gateway back after crash");

    // A graceful stop with work in flight: the message in hand finishes, the rest come back.
    let more = emit(&cluster, "racetime", "gateway", 10, 100).await;
    tokio::time::sleep(Duration::from_millis(250)).await;
    cluster
        .restart("gateway", false)
        .await
        .expect("gateway back after stop");

    let all: Vec<String> = ids.iter().chain(&more).cloned().collect();
    let seen = wait_all_handled(&cluster, "gateway", &all, Duration::from_secs(60)).await;
    assert_exactly_once(&seen, &all);
    // Only gateway records probes addressed to it.
    assert!(receipts(&cluster, "tournament", &all).await.is_empty());
    cluster.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_are_handled_exactly_once_across_a_nats_server_restart() {
    let nats = TestNats::private().await.expect("private nats-server");
    let mut cluster = Cluster::start(nats).await.expect("cluster starts");

    let before = emit(&cluster, "racetime", "tournament", 30, 20).await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    cluster
        .nats
        .restart(Duration::from_millis(1_500))
        .await
        .expect("nats-server restarts");
    let after = emit(&cluster, "racetime", "tournament", 30, 0).await;

    let all: Vec<String> = before.iter().chain(&after).cloned().collect();
    let seen = wait_all_handled(&cluster, "tournament", &all, Duration::from_secs(90)).await;
    assert_exactly_once(&seen, &all);
    for name in SERVICES {
        let service = cluster.service(name);
        let mut last = String::new();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(20) {
            let (status, body) = service.readyz().await.expect("readyz");
            if status == 200 {
                break;
            }
            last = body;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(
            service.readyz().await.expect("readyz").0,
            200,
            "{name}: {last}"
        );
    }
    cluster.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_down_makes_services_not_ready_and_the_outbox_catches_up() {
    let nats = TestNats::private().await.expect("private nats-server");
    let mut cluster = Cluster::start(nats).await.expect("cluster starts");

    // Take NATS away for a while and write events meanwhile.
    let admin = cluster.service("seedgen").admin_addr;
    let seedgen = cluster.diagnostics("seedgen").await.expect("client");
    let observe = async move {
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        let (status, body) = testkit::http_get(admin, "/readyz").await.expect("readyz");
        let written = seedgen
            .clone()
            .emit_probe(EmitProbeRequest {
                target: "api".to_owned(),
                count: 20,
                handle_delay_ms: 0,
            })
            .await
            .expect("events are written while NATS is down")
            .into_inner()
            .event_ids;
        (status, body, written)
    };
    let (restarted, (status, body, written)) =
        tokio::join!(cluster.nats.restart(Duration::from_secs(4)), observe);
    restarted.expect("nats-server back");
    assert_eq!(status, 503, "not ready while NATS is down: {body}");
    assert!(
        body.contains("nats: ") && !body.contains("nats: ok"),
        "{body}"
    );
    assert!(body.contains("database: ok"), "{body}");

    let seen = wait_all_handled(&cluster, "api", &written, Duration::from_secs(60)).await;
    assert_exactly_once(&seen, &written);
    cluster.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_whose_database_is_down_is_alive_but_not_ready() {
    testkit::init();
    let nats = TestNats::shared();
    let mut settings = <seedgen::SeedgenService as platform::Service>::default_settings();
    nats.configure(&mut settings.common);
    // Nothing listens on port 1.
    settings.common.database.url = "mysql://root@127.0.0.1:1/nothing".to_owned();
    settings.common.database.connect_timeout_ms = 200;
    let listeners = testkit::bind_ephemeral().await.expect("listeners");
    let handle =
        ServiceHandle::spawn::<seedgen::SeedgenService>(settings, listeners).expect("spawn");

    tokio::time::sleep(Duration::from_millis(700)).await;
    let (status, _) = testkit::http_get(handle.admin_addr, "/healthz")
        .await
        .expect("healthz");
    assert_eq!(status, 200, "alive while waiting");
    let (status, body) = handle.readyz().await.expect("readyz");
    assert_eq!(status, 503);
    assert!(body.contains("database: connecting"), "{body}");
    // It still stops promptly when asked.
    tokio::time::timeout(Duration::from_secs(5), handle.stop())
        .await
        .expect("stops within 5 s")
        .expect("clean stop");
}
