//! The transactional outbox: an event is a row written by the same transaction as the state
//! change it describes, so a committed change always has its event and a rolled-back one never
//! does. The [`Relay`] publishes rows to JetStream in order and marks them sent.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use prost::Message as _;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, Statement, Value};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::{EventError, full_subject};
use crate::config::EventSettings;
use crate::metrics::Metrics;
use crate::telemetry;

/// An event about to be written: its subject without the deployment prefix
/// (`<service>.<aggregate>.<event>`, past tense) and its typed payload.
#[derive(Clone, Debug)]
pub struct Event {
    /// `<service>.<aggregate>.<event>`, without the deployment prefix.
    pub subject: String,
    /// The payload, packed with its type URL.
    pub payload: prost_types::Any,
}

impl Event {
    /// Packs `message` (a type of `proto::events::v1`) under `subject`.
    pub fn new<M: prost::Name>(subject: impl Into<String>, message: &M) -> Self {
        Self {
            subject: subject.into(),
            payload: prost_types::Any {
                type_url: M::type_url(),
                value: message.encode_to_vec(),
            },
        }
    }
}

/// Writes events of one service into its `outbox` table.
#[derive(Clone, Debug)]
pub struct Outbox {
    source: &'static str,
    wake: Arc<Notify>,
}

impl Outbox {
    /// An outbox for events whose source is `source` (the service name).
    pub fn new(source: &'static str) -> Self {
        Self {
            source,
            wake: Arc::new(Notify::new()),
        }
    }

    /// Writes `event` through `conn`, which should be the transaction of the state change.
    /// Returns the new event id (UUIDv7). The relay sees the row once the transaction commits;
    /// call [`Outbox::wake`] after the commit to publish at once instead of at the next poll.
    ///
    /// Errors: [`EventError::InvalidSubject`] if the subject is not
    /// `<this service>.<aggregate>.<event>`; [`EventError::Db`] if the insert fails.
    pub async fn write<C: ConnectionTrait>(
        &self,
        conn: &C,
        event: Event,
    ) -> Result<String, EventError> {
        validate_subject(self.source, &event.subject)?;
        let id = uuid::Uuid::now_v7().to_string();
        let occurred_at = Utc::now();
        let (traceparent, tracestate) = telemetry::current_trace_headers();
        let envelope = proto::events::v1::Envelope {
            id: id.clone(),
            occurred_at: Some(crate::grpc::timestamp(occurred_at)),
            source: self.source.to_owned(),
            subject: event.subject.clone(),
            trace: Some(proto::events::v1::TraceContext {
                traceparent: traceparent.clone(),
                tracestate: tracestate.clone(),
            }),
            payload: Some(event.payload),
        };
        conn.execute_raw(Statement::from_sql_and_values(
            conn.get_database_backend(),
            "INSERT INTO outbox (event_id, source, subject, envelope, traceparent, tracestate, occurred_at, attempts) \
             VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
            [
                Value::from(id.clone()),
                Value::from(self.source.to_owned()),
                Value::from(event.subject),
                Value::from(envelope.encode_to_vec()),
                Value::from(traceparent),
                Value::from(tracestate),
                Value::from(occurred_at),
            ],
        ))
        .await?;
        Ok(id)
    }

    /// Tells the relay that committed rows are waiting.
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

fn validate_subject(source: &str, subject: &str) -> Result<(), EventError> {
    let tokens: Vec<&str> = subject.split('.').collect();
    let valid_token = |token: &&str| {
        !token.is_empty()
            && token
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    if tokens.len() != 3 || tokens[0] != source || !tokens.iter().all(valid_token) {
        return Err(EventError::InvalidSubject {
            subject: subject.to_owned(),
            expected: format!("{source}.<aggregate>.<event> in lowercase snake_case"),
        });
    }
    Ok(())
}

/// Publishes committed outbox rows to JetStream, oldest first, with `Nats-Msg-Id` = event id,
/// and marks each published once JetStream acknowledged it. A publish that fails stops the round
/// (order is kept) and is retried with backoff; the relay never gives up on a row.
#[derive(Debug)]
pub struct Relay {
    source: &'static str,
    db: DatabaseConnection,
    jetstream: async_nats::jetstream::Context,
    subject_prefix: String,
    batch: u32,
    poll: Duration,
    retention: Duration,
    wake: Arc<Notify>,
    metrics: Arc<Metrics>,
}

struct PendingRow {
    seq: i64,
    event_id: String,
    subject: String,
    envelope: Vec<u8>,
    traceparent: String,
    tracestate: String,
}

/// How long one publish waits for JetStream's acknowledgement.
const PUBLISH_ACK_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the relay keeps trying to flush at shutdown.
const SHUTDOWN_FLUSH_TIMEOUT: Duration = Duration::from_secs(5);
/// How often published rows past retention are deleted.
const PRUNE_EVERY: Duration = Duration::from_secs(600);

impl Relay {
    /// A relay for the rows `outbox` writes into `db`, configured by `settings`.
    pub fn new(
        db: DatabaseConnection,
        jetstream: async_nats::jetstream::Context,
        outbox: &Outbox,
        settings: &EventSettings,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            source: outbox.source,
            db,
            jetstream,
            subject_prefix: settings.subject_prefix.clone(),
            batch: settings.relay_batch.max(1),
            poll: Duration::from_millis(settings.relay_poll_ms),
            retention: Duration::from_secs(settings.retention_hours * 3_600),
            wake: outbox.wake.clone(),
            metrics,
        }
    }

    /// Runs until `shutdown`, then makes one last bounded attempt to flush what is pending.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut failures: u32 = 0;
        let mut last_prune = tokio::time::Instant::now();
        loop {
            let wait = match self.publish_pending().await {
                Ok(published) if published >= self.batch as usize => {
                    failures = 0;
                    continue;
                }
                Ok(_) => {
                    failures = 0;
                    self.poll
                }
                Err(error) => {
                    failures = failures.saturating_add(1);
                    let backoff =
                        Duration::from_millis(200u64.saturating_mul(1 << failures.min(6)));
                    tracing::warn!(error = %error, retry_in_ms = backoff.as_millis() as u64, "outbox relay: publish failed");
                    backoff.min(self.poll.max(Duration::from_secs(5)))
                }
            };
            if last_prune.elapsed() >= PRUNE_EVERY {
                last_prune = tokio::time::Instant::now();
                if let Err(error) = self.prune().await {
                    tracing::warn!(error = %error, "outbox relay: pruning old rows failed");
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = self.wake.notified() => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
        match tokio::time::timeout(SHUTDOWN_FLUSH_TIMEOUT, self.drain()).await {
            Ok(Ok(())) => tracing::debug!("outbox relay: flushed at shutdown"),
            Ok(Err(error)) => {
                tracing::warn!(error = %error, "outbox relay: rows left unpublished at shutdown; they go out after restart")
            }
            Err(_) => tracing::warn!(
                "outbox relay: flush timed out at shutdown; rows go out after restart"
            ),
        }
    }

    async fn drain(&self) -> Result<(), EventError> {
        while self.publish_pending().await? >= self.batch as usize {}
        Ok(())
    }

    /// Publishes up to one batch; returns how many rows were published.
    pub async fn publish_pending(&self) -> Result<usize, EventError> {
        let backend = self.db.get_database_backend();
        let rows = self
            .db
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                "SELECT seq, event_id, subject, envelope, traceparent, tracestate FROM outbox \
                 WHERE source = ? AND published_at IS NULL ORDER BY seq LIMIT ?",
                [
                    Value::from(self.source.to_owned()),
                    Value::from(i64::from(self.batch)),
                ],
            ))
            .await?;
        let pending = rows
            .iter()
            .map(|row| {
                Ok(PendingRow {
                    seq: row.try_get("", "seq")?,
                    event_id: row.try_get("", "event_id")?,
                    subject: row.try_get("", "subject")?,
                    envelope: row.try_get("", "envelope")?,
                    traceparent: row.try_get("", "traceparent")?,
                    tracestate: row.try_get("", "tracestate")?,
                })
            })
            .collect::<Result<Vec<_>, DbErr>>()?;

        // Send the whole batch before awaiting acknowledgements: one round trip, not one per row.
        let mut acks = Vec::with_capacity(pending.len());
        let mut send_error = None;
        for row in &pending {
            let mut headers = async_nats::HeaderMap::new();
            headers.insert(async_nats::header::NATS_MESSAGE_ID, row.event_id.as_str());
            if !row.traceparent.is_empty() {
                headers.insert("traceparent", row.traceparent.as_str());
            }
            if !row.tracestate.is_empty() {
                headers.insert("tracestate", row.tracestate.as_str());
            }
            let subject = full_subject(&self.subject_prefix, &row.subject);
            match self
                .jetstream
                .publish_with_headers(subject, headers, row.envelope.clone().into())
                .await
            {
                Ok(ack) => acks.push(ack),
                Err(error) => {
                    send_error = Some(EventError::Publish(error.to_string()));
                    break;
                }
            }
        }

        let mut published = 0;
        let mut first_error = None;
        for (row, ack) in pending.iter().zip(acks) {
            let outcome = match tokio::time::timeout(PUBLISH_ACK_TIMEOUT, ack).await {
                Ok(Ok(_ack)) => Ok(()),
                Ok(Err(error)) => Err(EventError::Publish(error.to_string())),
                Err(_) => Err(EventError::Publish(
                    "timed out waiting for the JetStream ack".to_owned(),
                )),
            };
            match outcome {
                Ok(()) if first_error.is_none() => {
                    self.mark_published(row.seq).await?;
                    published += 1;
                }
                // A later row acked after an earlier failure stays unpublished in our table; it
                // is sent again next round and JetStream drops the copy by its Nats-Msg-Id.
                Ok(()) => {}
                Err(error) => {
                    self.record_failure(row.seq, &error.to_string()).await?;
                    first_error.get_or_insert(error);
                }
            }
        }
        self.metrics.events_published.inc_by(published as u64);
        self.update_backlog().await?;
        match first_error.or(send_error) {
            Some(error) => Err(error),
            None => Ok(published),
        }
    }

    async fn mark_published(&self, seq: i64) -> Result<(), DbErr> {
        self.db
            .execute_raw(Statement::from_sql_and_values(
                self.db.get_database_backend(),
                "UPDATE outbox SET published_at = ?, attempts = attempts + 1, last_error = NULL WHERE seq = ?",
                [Value::from(Utc::now()), Value::from(seq)],
            ))
            .await
            .map(|_| ())
    }

    async fn record_failure(&self, seq: i64, error: &str) -> Result<(), DbErr> {
        self.db
            .execute_raw(Statement::from_sql_and_values(
                self.db.get_database_backend(),
                "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE seq = ?",
                [Value::from(error.to_owned()), Value::from(seq)],
            ))
            .await
            .map(|_| ())
    }

    async fn update_backlog(&self) -> Result<(), DbErr> {
        let backlog = outbox_backlog(&self.db, self.source).await?;
        self.metrics.outbox_backlog.set(backlog);
        Ok(())
    }

    async fn prune(&self) -> Result<(), DbErr> {
        let cutoff: DateTime<Utc> = Utc::now() - self.retention;
        let backend = self.db.get_database_backend();
        self.db
            .execute_raw(Statement::from_sql_and_values(
                backend,
                "DELETE FROM outbox WHERE source = ? AND published_at IS NOT NULL AND published_at < ?",
                [Value::from(self.source.to_owned()), Value::from(cutoff)],
            ))
            .await?;
        self.db
            .execute_raw(Statement::from_sql_and_values(
                backend,
                "DELETE FROM inbox WHERE processed_at < ?",
                [Value::from(cutoff)],
            ))
            .await?;
        Ok(())
    }
}

/// Rows of `outbox` written by `source` and not yet published.
pub async fn outbox_backlog<C: ConnectionTrait>(conn: &C, source: &str) -> Result<i64, DbErr> {
    let row = conn
        .query_one_raw(Statement::from_sql_and_values(
            conn.get_database_backend(),
            "SELECT COUNT(*) AS backlog FROM outbox WHERE source = ? AND published_at IS NULL",
            [Value::from(source.to_owned())],
        ))
        .await?;
    Ok(match row {
        Some(row) => row.try_get("", "backlog")?,
        None => 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_must_name_their_source_and_have_three_tokens() {
        assert!(validate_subject("seedgen", "seedgen.seed.generated").is_ok());
        assert!(validate_subject("seedgen", "racetime.race.status_changed").is_err());
        assert!(validate_subject("seedgen", "seedgen.seed").is_err());
        assert!(validate_subject("seedgen", "seedgen.seed.Generated").is_err());
        assert!(validate_subject("seedgen", "seedgen.*.generated").is_err());
        assert!(validate_subject("seedgen", "seedgen..generated").is_err());
    }
}
