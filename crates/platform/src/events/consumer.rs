//! Durable pull consumers. A message is acknowledged only after its handler's transaction has
//! committed; the same transaction records the event id in `inbox`, so a redelivery (after a
//! crash between commit and ack, or a lost ack) is recognised and dropped. A failing handler is
//! retried with growing delays; after `events.max_deliveries` deliveries, or at once for a
//! permanent error, the message is parked on the dead-letter subject
//! `<prefix>.deadletter.<service>.<consumer>` with the error in its headers.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, AckKind, consumer::pull};
use chrono::Utc;
use futures::StreamExt;
use prost::Message as _;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, Statement, TransactionTrait,
    Value,
};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::{EventError, full_subject};
use crate::config::EventSettings;
use crate::metrics::{ConsumerLabels, Metrics};
use crate::telemetry;
use proto::events::v1::Envelope;

/// Why a handler did not finish.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// Worth trying again later (a peer was down, a lock timed out).
    #[error("transient: {0:#}")]
    Transient(anyhow::Error),
    /// Will never succeed (the payload makes no sense); parked at once.
    #[error("permanent: {0:#}")]
    Permanent(anyhow::Error),
}

impl From<DbErr> for HandlerError {
    fn from(error: DbErr) -> Self {
        Self::Transient(error.into())
    }
}

/// The envelope's payload as `M`.
///
/// Errors: [`HandlerError::Permanent`] when the payload is missing, of another type, or does not
/// decode; such an event never becomes handleable.
pub fn payload<M: prost::Message + prost::Name + Default>(
    envelope: &Envelope,
) -> Result<M, HandlerError> {
    let any = envelope
        .payload
        .as_ref()
        .filter(|any| any.type_url == M::type_url())
        .ok_or_else(|| {
            HandlerError::Permanent(anyhow::anyhow!("payload is not a {}", M::full_name()))
        })?;
    M::decode(any.value.as_slice()).map_err(|error| {
        HandlerError::Permanent(anyhow::anyhow!("undecodable {}: {error}", M::full_name()))
    })
}

/// Reacts to one kind of event inside the transaction that also records it as handled.
pub trait EventHandler: Send + Sync + 'static {
    /// Durable consumer name, unique in the deployment: `<service>-<purpose>`.
    fn name(&self) -> &str;
    /// Subject filter without the deployment prefix, e.g. `racetime.race.status_changed` or
    /// `*.diagnostics.probe_emitted`.
    fn filter(&self) -> &str;
    /// How long one run may take, for handlers that wait on slow outside work (a seed from a
    /// provider): the consumer's ack wait is stretched to 4/3 of it. `None`: three quarters of
    /// the configured `ack_wait_ms`.
    fn handler_timeout(&self) -> Option<Duration> {
        None
    }
    /// Applies the event. Everything written through `txn` commits together with the inbox
    /// row, or not at all.
    fn handle<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        event: &'a Envelope,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send + 'a;
}

/// What happened to one delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Processed {
    /// The handler ran and its transaction committed.
    Handled,
    /// The inbox already had this event id for this consumer: dropped.
    Duplicate,
}

/// Runs the handler for `event` in a transaction that also inserts the inbox row. Does not ack;
/// the caller acks after this returns `Ok`.
///
/// MySQL/MariaDB: the inbox row is inserted first, so a concurrent duplicate delivery waits on
/// its row lock and is then dropped. SQLite: one write transaction locks the whole database,
/// and a handler that also writes through its own connection (the gateway records a Discord
/// post in its idempotency table) would wait on its own transaction until `database is
/// locked`; there the inbox is checked first and its row written last, so the transaction
/// takes the write lock only for the handler's own writes and the commit.
pub async fn process<H: EventHandler>(
    db: &DatabaseConnection,
    handler: &H,
    subject: &str,
    event: &Envelope,
) -> Result<Processed, HandlerError> {
    if db.get_database_backend() == sea_orm::DbBackend::Sqlite {
        if already_handled(db, handler.name(), &event.id).await? {
            return Ok(Processed::Duplicate);
        }
        let txn = db.begin().await?;
        handler.handle(&txn, event).await?;
        return match record_inbox(&txn, handler.name(), subject, event).await? {
            Processed::Handled => {
                txn.commit().await?;
                Ok(Processed::Handled)
            }
            Processed::Duplicate => {
                txn.rollback().await?;
                Ok(Processed::Duplicate)
            }
        };
    }
    let txn = db.begin().await?;
    if record_inbox(&txn, handler.name(), subject, event).await? == Processed::Duplicate {
        txn.rollback().await?;
        return Ok(Processed::Duplicate);
    }
    handler.handle(&txn, event).await?;
    txn.commit().await?;
    Ok(Processed::Handled)
}

async fn already_handled(
    db: &DatabaseConnection,
    consumer: &str,
    event_id: &str,
) -> Result<bool, sea_orm::DbErr> {
    Ok(db
        .query_one_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "SELECT 1 FROM inbox WHERE consumer = ? AND event_id = ?",
            [
                Value::from(consumer.to_owned()),
                Value::from(event_id.to_owned()),
            ],
        ))
        .await?
        .is_some())
}

/// Inserts the inbox row; `Duplicate` when this consumer already has the event.
async fn record_inbox(
    txn: &DatabaseTransaction,
    consumer: &str,
    subject: &str,
    event: &Envelope,
) -> Result<Processed, sea_orm::DbErr> {
    let inserted = txn
        .execute_raw(Statement::from_sql_and_values(
            txn.get_database_backend(),
            "INSERT INTO inbox (consumer, event_id, subject, processed_at) VALUES (?, ?, ?, ?)",
            [
                Value::from(consumer.to_owned()),
                Value::from(event.id.clone()),
                Value::from(subject.to_owned()),
                Value::from(Utc::now()),
            ],
        ))
        .await;
    match inserted {
        Ok(_) => Ok(Processed::Handled),
        Err(error) if crate::db::is_unique_violation(&error) => Ok(Processed::Duplicate),
        Err(error) => Err(error),
    }
}

/// A durable consumer bound to one handler.
#[derive(Debug)]
pub struct Consumer<H> {
    service: &'static str,
    handler: Arc<H>,
    db: DatabaseConnection,
    jetstream: jetstream::Context,
    settings: EventSettings,
    metrics: Arc<Metrics>,
}

/// How often consumer lag is read from the server.
const LAG_EVERY: Duration = Duration::from_secs(5);

impl<H: EventHandler> Consumer<H> {
    /// A consumer of `service` running `handler`, configured by `settings`.
    pub fn new(
        service: &'static str,
        handler: H,
        db: DatabaseConnection,
        jetstream: jetstream::Context,
        settings: &EventSettings,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            service,
            handler: Arc::new(handler),
            db,
            jetstream,
            settings: settings.clone(),
            metrics,
        }
    }

    /// The durable consumer's configuration on the server.
    pub fn config(&self) -> pull::Config {
        pull::Config {
            durable_name: Some(self.handler.name().to_owned()),
            filter_subject: full_subject(&self.settings.subject_prefix, self.handler.filter()),
            ack_policy: jetstream::consumer::AckPolicy::Explicit,
            ack_wait: self.ack_wait(),
            // We count deliveries ourselves and park the message; the server never drops it.
            max_deliver: -1,
            max_ack_pending: 1_000,
            ..Default::default()
        }
    }

    /// Consumes until `shutdown`. The message in hand is finished first (handled and acked, or
    /// left for redelivery); nothing more is taken after the token fires. Connection trouble
    /// recreates the subscription with backoff.
    pub async fn run(self, shutdown: CancellationToken) {
        let name = self.handler.name().to_owned();
        let mut failures: u32 = 0;
        while !shutdown.is_cancelled() {
            match self.consume(&shutdown).await {
                Ok(()) => failures = 0,
                Err(error) => {
                    failures = failures.saturating_add(1);
                    let backoff =
                        Duration::from_millis(250u64.saturating_mul(1 << failures.min(5)));
                    tracing::warn!(consumer = %name, error = %error, retry_in_ms = backoff.as_millis() as u64, "consumer: subscription failed");
                    tokio::select! {
                        () = shutdown.cancelled() => break,
                        () = tokio::time::sleep(backoff) => {}
                    }
                }
            }
        }
        tracing::debug!(consumer = %name, "consumer stopped");
    }

    async fn consume(&self, shutdown: &CancellationToken) -> Result<(), EventError> {
        let stream = self
            .jetstream
            .get_stream(&self.settings.stream)
            .await
            .map_err(|error| EventError::Subscribe(error.to_string()))?;
        let mut consumer = stream
            .get_or_create_consumer(self.handler.name(), self.config())
            .await
            .map_err(|error| EventError::Subscribe(error.to_string()))?;
        let mut messages = consumer
            .stream()
            .max_messages_per_batch(self.settings.consumer_batch.max(1) as usize)
            .heartbeat(Duration::from_secs(5))
            .expires(Duration::from_secs(30))
            .messages()
            .await
            .map_err(|error| EventError::Subscribe(error.to_string()))?;
        let mut lag_tick = tokio::time::interval(LAG_EVERY);
        loop {
            tokio::select! {
                biased;
                () = shutdown.cancelled() => return Ok(()),
                _ = lag_tick.tick() => self.record_lag(&mut consumer).await,
                next = messages.next() => match next {
                    Some(Ok(message)) => self.on_message(message).await,
                    Some(Err(error)) => return Err(EventError::Subscribe(error.to_string())),
                    None => return Err(EventError::Subscribe("message stream ended".to_owned())),
                },
            }
        }
    }

    async fn record_lag(&self, consumer: &mut jetstream::consumer::Consumer<pull::Config>) {
        if let Ok(info) = consumer.info().await {
            let labels = ConsumerLabels {
                consumer: self.handler.name().to_owned(),
            };
            self.metrics
                .consumer_lag
                .get_or_create(&labels)
                .set(i64::try_from(info.num_pending).unwrap_or(i64::MAX));
            self.metrics
                .consumer_ack_pending
                .get_or_create(&labels)
                .set(i64::try_from(info.num_ack_pending).unwrap_or(i64::MAX));
        }
    }

    async fn on_message(&self, message: jetstream::Message) {
        let name = self.handler.name();
        let delivered = message
            .info()
            .map(|info| info.delivered)
            .unwrap_or(1)
            .max(1);
        let subject = message.subject.to_string();
        let envelope = match Envelope::decode(message.payload.clone()) {
            Ok(envelope) if !envelope.id.is_empty() => envelope,
            Ok(_) | Err(_) => {
                self.metrics.consumed(name, "undecodable");
                self.dead_letter(
                    &message,
                    "",
                    "payload is not an events.v1.Envelope with an id",
                    delivered,
                )
                .await;
                return;
            }
        };
        let span = tracing::info_span!("event.handle", consumer = %name, subject = %subject, event_id = %envelope.id, delivered);
        if let Some(headers) = message.headers.as_ref() {
            telemetry::set_parent_from(&span, &telemetry::NatsHeaderExtractor(headers));
        } else if let Some(trace) = envelope.trace.as_ref() {
            telemetry::set_parent_from(
                &span,
                &telemetry::StoredTrace {
                    traceparent: &trace.traceparent,
                    tracestate: &trace.tracestate,
                },
            );
        }
        async {
            // A hung handler must not hold the consumer: past three quarters of the ack wait
            // (before the server would redeliver anyway) its transaction is dropped (rolled
            // back) and the message retried like any transient failure.
            let limit = self.handler_timeout();
            let outcome = match tokio::time::timeout(
                limit,
                process(&self.db, self.handler.as_ref(), &subject, &envelope),
            )
            .await
            {
                Ok(outcome) => outcome,
                Err(_) => Err(HandlerError::Transient(anyhow::anyhow!(
                    "the handler took longer than {} ms",
                    limit.as_millis()
                ))),
            };
            match outcome {
                Ok(processed) => {
                    self.metrics.consumed(
                        name,
                        match processed {
                            Processed::Handled => "handled",
                            Processed::Duplicate => "duplicate",
                        },
                    );
                    // Wait for the server to confirm the ack; if it is lost anyway, the
                    // redelivery meets the inbox row and is dropped.
                    if let Err(error) = message.double_ack().await {
                        tracing::warn!(error = %error, "consumer: ack not confirmed; a redelivery will be dropped as duplicate");
                    }
                }
                Err(HandlerError::Transient(error)) if delivered < i64::from(self.settings.max_deliveries) => {
                    let delay = self.retry_delay(delivered);
                    self.metrics.consumed(name, "retried");
                    tracing::warn!(error = %format!("{error:#}"), retry_in_ms = delay.as_millis() as u64, "consumer: handler failed; will retry");
                    if let Err(error) = message.ack_with(AckKind::Nak(Some(delay))).await {
                        tracing::warn!(error = %error, "consumer: nak failed; redelivery after ack_wait");
                    }
                }
                Err(error) => {
                    self.metrics.consumed(name, "dead_lettered");
                    tracing::error!(error = %error, "consumer: parking message on the dead-letter subject");
                    self.dead_letter(&message, &envelope.id, &error.to_string(), delivered).await;
                }
            }
        }
        .instrument(span)
        .await;
    }

    /// Delay before delivery number `delivered + 1`: `retry_backoff_ms · 2^(delivered-1)`, capped.
    pub fn retry_delay(&self, delivered: i64) -> Duration {
        let exponent = u32::try_from(delivered.saturating_sub(1))
            .unwrap_or(0)
            .min(20);
        let millis = self
            .settings
            .retry_backoff_ms
            .saturating_mul(1u64 << exponent)
            .min(self.settings.retry_backoff_max_ms);
        Duration::from_millis(millis)
    }

    /// The server's ack wait: `ack_wait_ms`, or 4/3 of the handler's own timeout when that is
    /// longer.
    pub fn ack_wait(&self) -> Duration {
        let configured = Duration::from_millis(self.settings.ack_wait_ms);
        match self.handler.handler_timeout() {
            Some(limit) => configured.max(limit * 4 / 3),
            None => configured,
        }
    }

    /// How long one handler run may take: the handler's own timeout, or three quarters of
    /// `ack_wait_ms`.
    pub fn handler_timeout(&self) -> Duration {
        self.handler.handler_timeout().unwrap_or_else(|| {
            Duration::from_millis(self.settings.ack_wait_ms.saturating_mul(3) / 4)
        })
    }

    /// The subject dead letters of this consumer are parked on.
    pub fn dead_letter_subject(&self) -> String {
        dead_letter_subject(
            &self.settings.subject_prefix,
            self.service,
            self.handler.name(),
        )
    }

    async fn dead_letter(
        &self,
        message: &jetstream::Message,
        event_id: &str,
        error: &str,
        delivered: i64,
    ) {
        let mut headers = async_nats::HeaderMap::new();
        let dedupe_id = if event_id.is_empty() {
            format!("dlq:{}:{}", self.handler.name(), uuid::Uuid::now_v7())
        } else {
            format!("dlq:{}:{event_id}", self.handler.name())
        };
        headers.insert(async_nats::header::NATS_MESSAGE_ID, dedupe_id.as_str());
        headers.insert("Sahasrahbot-Original-Subject", message.subject.as_str());
        headers.insert(
            "Sahasrahbot-Error",
            error.replace(['\r', '\n'], " ").as_str(),
        );
        headers.insert("Sahasrahbot-Deliveries", delivered.to_string().as_str());
        let published = match self
            .jetstream
            .publish_with_headers(self.dead_letter_subject(), headers, message.payload.clone())
            .await
        {
            Ok(ack) => ack.await.map(|_| ()).map_err(|error| error.to_string()),
            Err(error) => Err(error.to_string()),
        };
        match published {
            // Parked: stop redelivering the original.
            Ok(()) => {
                if let Err(error) = message.double_ack_with(AckKind::Term).await {
                    tracing::warn!(error = %error, "consumer: terminating a parked message failed");
                }
            }
            // Could not park it: keep it in the stream and try again later.
            Err(error) => {
                tracing::warn!(error = %error, "consumer: dead-letter publish failed; message stays for redelivery");
                let _ = message
                    .ack_with(AckKind::Nak(Some(Duration::from_millis(
                        self.settings.retry_backoff_max_ms,
                    ))))
                    .await;
            }
        }
    }
}

/// `<prefix>.deadletter.<service>.<consumer>`
pub fn dead_letter_subject(prefix: &str, service: &str, consumer: &str) -> String {
    format!("{prefix}.deadletter.{service}.{consumer}")
}
