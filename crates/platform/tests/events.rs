//! The event path against a real MariaDB and a real NATS JetStream: outbox atomicity, the
//! relay's headers, inbox dedupe across a crash between commit and ack, retries and the
//! dead-letter subject.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use async_nats::jetstream;
use futures::StreamExt;
use platform::config::{CommonSettings, EventSettings};
use platform::events::{
    self, Consumer, Event, EventHandler, HandlerError, Outbox, Processed, Relay,
};
use platform::metrics::Metrics;
use prost::Message as _;
use proto::events::v1::{Envelope, ProbeEmitted};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, Statement, TransactionTrait,
};
use sea_orm_migration::prelude::*;
use testkit::{TestDb, TestNats};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migration_table_name() -> DynIden {
        Alias::new("seaql_migrations_platform_test").into_iden()
    }
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(EventTables)]
    }
}

#[derive(DeriveMigrationName)]
struct EventTables;

#[async_trait::async_trait]
impl MigrationTrait for EventTables {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        platform::events::schema::create_event_tables(manager).await
    }
    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        platform::events::schema::drop_event_tables(manager).await
    }
}

struct Fixture {
    _db: TestDb,
    nats: TestNats,
    conn: DatabaseConnection,
    jetstream: jetstream::Context,
    settings: EventSettings,
    metrics: Arc<Metrics>,
}

impl Fixture {
    /// The relay of `outbox` on this fixture's database and stream.
    fn relay(&self, outbox: &Outbox) -> Relay {
        Relay::new(
            self.conn.clone(),
            self.jetstream.clone(),
            outbox,
            &self.settings,
            self.metrics.clone(),
        )
    }
}

async fn fixture() -> Fixture {
    testkit::init();
    let db = TestDb::new().await.expect("test database");
    let nats = TestNats::shared();
    let mut common = CommonSettings::defaults("seedgen", &[]);
    common.database.url = db.url();
    testkit::configure(&mut common, &db, &nats);
    common.events.max_deliveries = 3;
    let conn = platform::db::connect(&common.database)
        .await
        .expect("connect");
    platform::db::migrate::<Migrator>(&conn)
        .await
        .expect("migrate");
    let client = events::connect_nats("test", &common.nats)
        .await
        .expect("nats");
    let jetstream = jetstream::new(client);
    events::ensure_stream(&jetstream, &common.events)
        .await
        .expect("stream");
    Fixture {
        _db: db,
        nats,
        conn,
        jetstream,
        settings: common.events,
        metrics: Arc::new(Metrics::new("seedgen")),
    }
}

fn probe(sequence: u32) -> Event {
    Event::new(
        "seedgen.diagnostics.probe_emitted",
        &ProbeEmitted {
            target: "gateway".to_owned(),
            handle_delay_ms: 0,
            sequence,
        },
    )
}

/// Writes one probe event through seedgen's outbox and publishes it; returns its id.
async fn publish_one_probe(f: &Fixture) -> String {
    let outbox = Outbox::new("seedgen");
    let txn = f.conn.begin().await.expect("begin");
    let event_id = outbox.write(&txn, probe(0)).await.expect("write");
    txn.commit().await.expect("commit");
    let relay = f.relay(&outbox);
    assert_eq!(relay.publish_pending().await.expect("publish"), 1);
    event_id
}

async fn count(conn: &DatabaseConnection, sql: &str) -> i64 {
    let row = conn
        .query_one_raw(Statement::from_string(
            conn.get_database_backend(),
            sql.to_owned(),
        ))
        .await
        .expect("query")
        .expect("one row");
    row.try_get_by_index(0).expect("count")
}

/// Records a handled probe in `diagnostic_probe`.
async fn record_probe(txn: &DatabaseTransaction, event: &Envelope) -> Result<(), HandlerError> {
    txn.execute_raw(Statement::from_sql_and_values(
        txn.get_database_backend(),
        "INSERT INTO diagnostic_probe (event_id, source, times_handled, first_handled_at) VALUES (?, ?, 1, ?)",
        [
            event.id.clone().into(),
            event.source.clone().into(),
            chrono::Utc::now().into(),
        ],
    ))
    .await?;
    Ok(())
}

/// Handler that records each run in `diagnostic_probe`-like counting, or fails as told.
struct Recorder {
    name: String,
    filter: String,
    runs: Arc<AtomicU32>,
    fail: Option<fn() -> HandlerError>,
}

impl EventHandler for Recorder {
    fn name(&self) -> &str {
        &self.name
    }
    fn filter(&self) -> &str {
        &self.filter
    }
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &Envelope,
    ) -> Result<(), HandlerError> {
        self.runs.fetch_add(1, Ordering::SeqCst);
        if let Some(fail) = self.fail {
            return Err(fail());
        }
        record_probe(txn, event).await
    }
}

#[tokio::test]
async fn outbox_rows_exist_only_for_committed_transactions_and_relay_sets_headers() {
    let f = fixture().await;
    let outbox = Outbox::new("seedgen");

    let txn = f.conn.begin().await.expect("begin");
    outbox.write(&txn, probe(0)).await.expect("write");
    txn.rollback().await.expect("rollback");
    assert_eq!(
        count(&f.conn, "SELECT COUNT(*) FROM outbox").await,
        0,
        "rolled back event must vanish"
    );

    let span = tracing::info_span!("writer");
    let (event_id, trace_id) = async {
        let txn = f.conn.begin().await.expect("begin");
        let id = outbox.write(&txn, probe(1)).await.expect("write");
        txn.commit().await.expect("commit");
        (
            id,
            platform::telemetry::current_trace_id().expect("trace id"),
        )
    }
    .instrument(span)
    .await;

    let relay = f.relay(&outbox);
    assert_eq!(relay.publish_pending().await.expect("publish"), 1);
    assert_eq!(relay.publish_pending().await.expect("nothing left"), 0);
    assert_eq!(
        count(
            &f.conn,
            "SELECT COUNT(*) FROM outbox WHERE published_at IS NULL"
        )
        .await,
        0
    );

    let stream = f
        .jetstream
        .get_stream(&f.nats.stream)
        .await
        .expect("stream");
    let message = stream
        .get_last_raw_message_by_subject(&format!(
            "{}.seedgen.diagnostics.probe_emitted",
            f.nats.subject_prefix
        ))
        .await
        .expect("published message");
    assert_eq!(
        message.headers.get("Nats-Msg-Id").map(|v| v.as_str()),
        Some(event_id.as_str())
    );
    let traceparent = message
        .headers
        .get("traceparent")
        .expect("traceparent header");
    assert!(
        traceparent.as_str().contains(&trace_id),
        "{traceparent:?} lacks {trace_id}"
    );
    let envelope = Envelope::decode(message.payload).expect("envelope");
    assert_eq!(envelope.id, event_id);
    assert_eq!(envelope.source, "seedgen");
    assert_eq!(envelope.subject, "seedgen.diagnostics.probe_emitted");
    let payload = envelope.payload.expect("payload");
    assert_eq!(
        payload.type_url,
        "type.googleapis.com/events.v1.ProbeEmitted"
    );
    assert_eq!(
        ProbeEmitted::decode(payload.value.as_slice())
            .expect("probe")
            .sequence,
        1
    );
}

#[tokio::test]
async fn republishing_the_same_event_is_dropped_by_jetstream() {
    let f = fixture().await;
    publish_one_probe(&f).await;
    // As if the relay crashed after publishing but before marking the row.
    f.conn
        .execute_unprepared("UPDATE outbox SET published_at = NULL")
        .await
        .expect("reset");
    let relay = f.relay(&Outbox::new("seedgen"));
    assert_eq!(relay.publish_pending().await.expect("publish again"), 1);
    let mut stream = f
        .jetstream
        .get_stream(&f.nats.stream)
        .await
        .expect("stream");
    assert_eq!(stream.info().await.expect("info").state.messages, 1);
}

#[tokio::test]
async fn invalid_subjects_are_refused() {
    let f = fixture().await;
    let outbox = Outbox::new("seedgen");
    let error = outbox
        .write(
            &f.conn,
            Event::new("racetime.race.status_changed", &ProbeEmitted::default()),
        )
        .await
        .expect_err("a service writes only its own subjects");
    assert!(
        error.to_string().contains("racetime.race.status_changed"),
        "{error}"
    );
}

#[tokio::test]
async fn a_redelivery_after_commit_but_before_ack_is_dropped_by_the_inbox() {
    let f = fixture().await;
    let event_id = publish_one_probe(&f).await;

    let runs = Arc::new(AtomicU32::new(0));
    let recorder = || Recorder {
        name: "gateway-recorder".to_owned(),
        filter: "seedgen.diagnostics.probe_emitted".to_owned(),
        runs: runs.clone(),
        fail: None,
    };
    let consumer = Consumer::new(
        "gateway",
        recorder(),
        f.conn.clone(),
        f.jetstream.clone(),
        &f.settings,
        f.metrics.clone(),
    );

    // First delivery: handled and committed, then the process "dies" before acking.
    let stream = f
        .jetstream
        .get_stream(&f.nats.stream)
        .await
        .expect("stream");
    let pull = stream
        .get_or_create_consumer("gateway-recorder", consumer.config())
        .await
        .expect("consumer");
    let mut batch = pull
        .fetch()
        .max_messages(1)
        .messages()
        .await
        .expect("fetch");
    let message = batch.next().await.expect("a message").expect("ok message");
    let envelope = Envelope::decode(message.payload.clone()).expect("envelope");
    assert_eq!(envelope.id, event_id);
    let first =
        events::consumer::process(&f.conn, &recorder(), message.subject.as_str(), &envelope)
            .await
            .expect("handled");
    assert_eq!(first, Processed::Handled);
    drop(message); // no ack

    // The real consumer gets the redelivery after ack_wait and must drop it.
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(consumer.run(shutdown.clone()));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let text = f.metrics.render();
        if text.contains(r#"consumer="gateway-recorder",outcome="duplicate"} 1"#) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no redelivery seen:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    shutdown.cancel();
    running.await.expect("consumer task");
    assert_eq!(runs.load(Ordering::SeqCst), 1, "the handler ran once");
    assert_eq!(
        count(&f.conn, "SELECT COUNT(*) FROM diagnostic_probe").await,
        1
    );
    assert_eq!(count(&f.conn, "SELECT COUNT(*) FROM inbox").await, 1);
}

async fn dead_letter_after(fail: fn() -> HandlerError, expected_runs: u32) {
    let f = fixture().await;
    let event_id = publish_one_probe(&f).await;

    let runs = Arc::new(AtomicU32::new(0));
    let consumer = Consumer::new(
        "gateway",
        Recorder {
            name: "gateway-failing".to_owned(),
            filter: "seedgen.diagnostics.probe_emitted".to_owned(),
            runs: runs.clone(),
            fail: Some(fail),
        },
        f.conn.clone(),
        f.jetstream.clone(),
        &f.settings,
        f.metrics.clone(),
    );
    let dead_letters = consumer.dead_letter_subject();
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(consumer.run(shutdown.clone()));

    let stream = f
        .jetstream
        .get_stream(&f.nats.stream)
        .await
        .expect("stream");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let parked = loop {
        if let Ok(message) = stream.get_last_raw_message_by_subject(&dead_letters).await {
            break message;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "nothing parked on {dead_letters}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    shutdown.cancel();
    running.await.expect("consumer task");

    assert_eq!(runs.load(Ordering::SeqCst), expected_runs);
    let error = parked
        .headers
        .get("Sahasrahbot-Error")
        .expect("error header");
    assert!(error.as_str().contains("boom"), "{error:?}");
    assert_eq!(
        Envelope::decode(parked.payload)
            .expect("original payload")
            .id,
        event_id
    );
    assert_eq!(
        count(&f.conn, "SELECT COUNT(*) FROM inbox").await,
        0,
        "nothing committed"
    );
    // Nothing is redelivered after parking.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(runs.load(Ordering::SeqCst), expected_runs);
}

#[tokio::test]
async fn a_failing_handler_is_retried_then_parked_on_the_dead_letter_subject() {
    // max_deliveries is 3 in the fixture.
    dead_letter_after(|| HandlerError::Transient(anyhow::anyhow!("boom")), 3).await;
}

#[tokio::test]
async fn a_permanent_error_is_parked_at_once() {
    dead_letter_after(|| HandlerError::Permanent(anyhow::anyhow!("boom")), 1).await;
}

#[tokio::test]
async fn in_a_shared_schema_each_relay_publishes_only_its_own_rows() {
    let f = fixture().await;
    let seedgen = Outbox::new("seedgen");
    let racetime = Outbox::new("racetime");
    let txn = f.conn.begin().await.expect("begin");
    seedgen.write(&txn, probe(0)).await.expect("seedgen event");
    racetime
        .write(
            &txn,
            Event::new(
                "racetime.diagnostics.probe_emitted",
                &ProbeEmitted::default(),
            ),
        )
        .await
        .expect("racetime event");
    txn.commit().await.expect("commit");

    let relay = f.relay(&seedgen);
    assert_eq!(
        relay.publish_pending().await.expect("publish"),
        1,
        "only seedgen's row"
    );
    assert_eq!(
        platform::events::outbox::outbox_backlog(&f.conn, "racetime")
            .await
            .expect("backlog"),
        1
    );
    assert_eq!(
        platform::events::outbox::outbox_backlog(&f.conn, "seedgen")
            .await
            .expect("backlog"),
        0
    );
}

/// Hangs on its first run (as a handler stuck on a dead peer would), then records.
struct HangsOnce {
    runs: Arc<AtomicU32>,
}

impl EventHandler for HangsOnce {
    fn name(&self) -> &str {
        "gateway-hangs-once"
    }
    fn filter(&self) -> &str {
        "seedgen.diagnostics.probe_emitted"
    }
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &Envelope,
    ) -> Result<(), HandlerError> {
        if self.runs.fetch_add(1, Ordering::SeqCst) == 0 {
            std::future::pending::<()>().await;
        }
        record_probe(txn, event).await
    }
}

#[tokio::test]
async fn a_hung_handler_times_out_and_the_message_is_retried() {
    let mut f = fixture().await;
    // The handler may take three quarters of the ack wait: 750 ms.
    f.settings.ack_wait_ms = 1_000;
    f.settings.retry_backoff_ms = 50;
    publish_one_probe(&f).await;
    let runs = Arc::new(AtomicU32::new(0));
    let consumer = Consumer::new(
        "gateway",
        HangsOnce { runs: runs.clone() },
        f.conn.clone(),
        f.jetstream.clone(),
        &f.settings,
        f.metrics.clone(),
    );
    assert_eq!(consumer.handler_timeout(), Duration::from_millis(750));
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(consumer.run(shutdown.clone()));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while count(&f.conn, "SELECT COUNT(*) FROM diagnostic_probe").await == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the retry never ran"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    shutdown.cancel();
    running.await.expect("consumer task");
    assert_eq!(runs.load(Ordering::SeqCst), 2, "one hung run, one retry");
    assert_eq!(count(&f.conn, "SELECT COUNT(*) FROM inbox").await, 1);
}

/// Takes 1.5 s (a slow seed provider) and says so.
struct SlowButKnowsIt {
    runs: Arc<AtomicU32>,
}

impl EventHandler for SlowButKnowsIt {
    fn name(&self) -> &str {
        "gateway-slow-but-knows-it"
    }
    fn filter(&self) -> &str {
        "seedgen.diagnostics.probe_emitted"
    }
    fn handler_timeout(&self) -> Option<Duration> {
        Some(Duration::from_secs(3))
    }
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &Envelope,
    ) -> Result<(), HandlerError> {
        self.runs.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        record_probe(txn, event).await
    }
}

#[tokio::test]
async fn a_handler_with_its_own_timeout_outlasts_the_default_ack_wait_once() {
    let mut f = fixture().await;
    // By default a run may take 750 ms; this handler asks for 3 s and takes 1.5 s.
    f.settings.ack_wait_ms = 1_000;
    f.settings.retry_backoff_ms = 50;
    publish_one_probe(&f).await;
    let runs = Arc::new(AtomicU32::new(0));
    let consumer = Consumer::new(
        "gateway",
        SlowButKnowsIt { runs: runs.clone() },
        f.conn.clone(),
        f.jetstream.clone(),
        &f.settings,
        f.metrics.clone(),
    );
    assert_eq!(consumer.handler_timeout(), Duration::from_secs(3));
    assert_eq!(
        consumer.ack_wait(),
        Duration::from_secs(4),
        "the server waits longer too"
    );
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(consumer.run(shutdown.clone()));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while count(&f.conn, "SELECT COUNT(*) FROM diagnostic_probe").await == 0 {
        assert!(tokio::time::Instant::now() < deadline, "never handled");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Past the default ack wait: no redelivery ran it again.
    tokio::time::sleep(Duration::from_secs(2)).await;
    shutdown.cancel();
    running.await.expect("consumer task");
    assert_eq!(
        runs.load(Ordering::SeqCst),
        1,
        "handled once, not timed out"
    );
    assert_eq!(count(&f.conn, "SELECT COUNT(*) FROM inbox").await, 1);
}
