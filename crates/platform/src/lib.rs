//! What every SahasrahBot service shares, so no service re-invents it: typed layered
//! configuration ([`config`]), logs and traces ([`telemetry`]), the database ([`db`]), events
//! through a transactional outbox and durable consumers ([`events`]), one-replica-at-a-time
//! leases ([`lease`]), gRPC servers and clients
//! ([`grpc`]), the admin HTTP port ([`admin`], [`metrics`]), and the start/stop sequence
//! ([`runtime`], [`cli`]).

#![warn(missing_docs)]

pub mod admin;
pub mod cli;
pub mod config;
pub mod db;
pub mod diagnostics;
pub mod events;
pub mod grpc;
pub mod idempotency;
pub mod lease;
pub mod metrics;
pub mod runtime;
pub mod tasks;
pub mod telemetry;

pub use runtime::{Listeners, Service, ServiceContext, run};
