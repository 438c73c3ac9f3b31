//! `diagnostics.v1.Diagnostics`, served by every service, and the probe consumer behind it.
//! They exercise the real plumbing (trace propagation over a peer channel; outbox → relay →
//! JetStream → durable consumer → inbox) without touching domain data, so an operator can check a
//! deployment and the end-to-end tests can prove the guarantees.

use std::time::Duration;

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, Statement, TransactionTrait, Value,
};
use tonic::{Request, Response, Status};

use crate::events::{Event, EventHandler, HandlerError, Outbox};
use crate::grpc::Peers;
use crate::telemetry;
use proto::diagnostics::v1::diagnostics_client::DiagnosticsClient;
use proto::diagnostics::v1::diagnostics_server::Diagnostics;
use proto::diagnostics::v1::{
    EmitProbeReply, EmitProbeRequest, GetProbeReceiptsReply, GetProbeReceiptsRequest, PingReply,
    PingRequest, ProbeReceipt,
};
use proto::events::v1::{Envelope, ProbeEmitted};

/// The services of the deployment, the valid probe targets.
pub const SERVICES: [&str; 5] = ["seedgen", "racetime", "tournament", "gateway", "api"];
/// Most probes one EmitProbe call may write.
pub const MAX_PROBES: u32 = 1_000;
/// Longest handling delay a probe may ask for, in milliseconds.
pub const MAX_PROBE_DELAY_MS: u32 = 60_000;

/// The gRPC side of diagnostics.
#[derive(Debug)]
pub struct DiagnosticsService {
    service: &'static str,
    db: DatabaseConnection,
    outbox: Outbox,
    peers: Peers,
}

impl DiagnosticsService {
    /// The Diagnostics service of `service`, writing probes through `outbox`.
    pub fn new(
        service: &'static str,
        db: DatabaseConnection,
        outbox: Outbox,
        peers: Peers,
    ) -> Self {
        Self {
            service,
            db,
            outbox,
            peers,
        }
    }
}

fn internal(error: impl std::fmt::Display) -> Status {
    tracing::error!(error = %error, "diagnostics: internal error");
    Status::internal(format!("internal error: {error}"))
}

#[tonic::async_trait]
impl Diagnostics for DiagnosticsService {
    async fn ping(&self, request: Request<PingRequest>) -> Result<Response<PingReply>, Status> {
        let via = request.into_inner().via;
        let upstream = if via.is_empty() {
            None
        } else {
            let peer = self.peers.get(&via)?;
            let reply = peer
                .call(|| {
                    let mut client = DiagnosticsClient::new(peer.channel());
                    async move { client.ping(PingRequest { via: String::new() }).await }
                })
                .await?;
            Some(Box::new(reply.into_inner()))
        };
        Ok(Response::new(PingReply {
            service: self.service.to_owned(),
            trace_id: telemetry::current_trace_id().unwrap_or_default(),
            upstream,
        }))
    }

    async fn emit_probe(
        &self,
        request: Request<EmitProbeRequest>,
    ) -> Result<Response<EmitProbeReply>, Status> {
        let request = request.into_inner();
        if !SERVICES.contains(&request.target.as_str()) {
            return Err(Status::invalid_argument(format!(
                "target `{}` is not a service; use one of {}",
                request.target,
                SERVICES.join(", ")
            )));
        }
        if request.count == 0 || request.count > MAX_PROBES {
            return Err(Status::invalid_argument(format!(
                "count must be 1..={MAX_PROBES}"
            )));
        }
        if request.handle_delay_ms > MAX_PROBE_DELAY_MS {
            return Err(Status::invalid_argument(format!(
                "handle_delay_ms must be at most {MAX_PROBE_DELAY_MS}"
            )));
        }
        let txn = self.db.begin().await.map_err(internal)?;
        let mut event_ids = Vec::with_capacity(request.count as usize);
        for sequence in 0..request.count {
            let probe = ProbeEmitted {
                target: request.target.clone(),
                handle_delay_ms: request.handle_delay_ms,
                sequence,
            };
            let subject = format!("{}.diagnostics.probe_emitted", self.service);
            event_ids.push(
                self.outbox
                    .write(&txn, Event::new(subject, &probe))
                    .await
                    .map_err(internal)?,
            );
        }
        txn.commit().await.map_err(internal)?;
        self.outbox.wake();
        Ok(Response::new(EmitProbeReply { event_ids }))
    }

    async fn get_probe_receipts(
        &self,
        request: Request<GetProbeReceiptsRequest>,
    ) -> Result<Response<GetProbeReceiptsReply>, Status> {
        let ids = request.into_inner().event_ids;
        if ids.len() > MAX_PROBES as usize {
            return Err(Status::invalid_argument(format!(
                "ask for at most {MAX_PROBES} event ids"
            )));
        }
        if ids.is_empty() {
            return Ok(Response::new(GetProbeReceiptsReply::default()));
        }
        let placeholders = vec!["?"; ids.len()].join(", ");
        let rows = self
            .db
            .query_all_raw(Statement::from_sql_and_values(
                self.db.get_database_backend(),
                format!(
                    "SELECT event_id, source, times_handled FROM diagnostic_probe WHERE event_id IN ({placeholders})"
                ),
                ids.into_iter().map(Value::from),
            ))
            .await
            .map_err(internal)?;
        let receipts = rows
            .iter()
            .map(|row| {
                Ok(ProbeReceipt {
                    event_id: row.try_get("", "event_id")?,
                    source: row.try_get("", "source")?,
                    times_handled: u32::try_from(row.try_get::<i32>("", "times_handled")?)
                        .unwrap_or(0),
                })
            })
            .collect::<Result<Vec<_>, sea_orm::DbErr>>()
            .map_err(internal)?;
        Ok(Response::new(GetProbeReceiptsReply { receipts }))
    }
}

/// Records probes addressed to this service in `diagnostic_probe`, counting how often each was
/// handled (the inbox keeps that at one).
#[derive(Debug)]
pub struct ProbeHandler {
    service: &'static str,
    name: String,
}

impl ProbeHandler {
    /// The probe consumer of `service`.
    pub fn new(service: &'static str) -> Self {
        Self {
            service,
            name: format!("{service}-diagnostics"),
        }
    }
}

impl EventHandler for ProbeHandler {
    fn name(&self) -> &str {
        &self.name
    }

    fn filter(&self) -> &str {
        "*.diagnostics.probe_emitted"
    }

    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &Envelope,
    ) -> Result<(), HandlerError> {
        let probe: ProbeEmitted = crate::events::payload(event)?;
        if probe.target != self.service {
            return Ok(());
        }
        if probe.handle_delay_ms > 0 {
            tokio::time::sleep(Duration::from_millis(u64::from(
                probe.handle_delay_ms.min(MAX_PROBE_DELAY_MS),
            )))
            .await;
        }
        let backend = txn.get_database_backend();
        let updated = txn
            .execute_raw(Statement::from_sql_and_values(
                backend,
                "UPDATE diagnostic_probe SET times_handled = times_handled + 1 WHERE event_id = ?",
                [Value::from(event.id.clone())],
            ))
            .await?;
        if updated.rows_affected() == 0 {
            txn.execute_raw(Statement::from_sql_and_values(
                backend,
                "INSERT INTO diagnostic_probe (event_id, source, times_handled, first_handled_at) VALUES (?, ?, 1, ?)",
                [
                    Value::from(event.id.clone()),
                    Value::from(event.source.clone()),
                    Value::from(chrono::Utc::now()),
                ],
            ))
            .await?;
        }
        Ok(())
    }
}
