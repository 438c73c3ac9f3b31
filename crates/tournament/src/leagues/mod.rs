//! League car numbers (issue: racing leagues): members claim a car number in Discord, admins
//! keep the roster honest, and the roster is checked against the league's iRacing roster
//! (read-only). [`rules`] holds the rules and writes, [`sync`] the iRacing check and its job,
//! [`iracing`] the Data API client, [`grpc`] the `leagues.v1.Leagues` service.

pub mod db;
pub mod grpc;
pub mod iracing;
pub mod rules;
pub mod sync;

/// The wire name of a closed-set value (its serde name: `force_released`, `trade_closed`).
pub fn wire_name<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}
