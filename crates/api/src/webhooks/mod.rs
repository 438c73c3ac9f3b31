//! Signed outbound webhooks. An operator registers a URL and the event types it wants; api
//! consumes those events from JetStream ([`intake`]) and writes one delivery row per
//! (webhook, event) in the consumer's transaction — a redelivered event adds nothing — and a
//! worker ([`deliver`]) posts each row's stored body until the receiver answers 2xx, with
//! growing delays, leasing rows so that two replicas never post the same row at once. A
//! restart loses nothing (rows are in the database) and a receiver that sees a delivery twice
//! (a crash between its 2xx and our write) recognises it by the delivery id.
//!
//! Each request: `POST <url>` with the JSON body
//! `{"id": <delivery id>, "type": "<event type>", "occurred_at": <RFC 3339>, "data": {...}}`
//! and headers `X-SahasrahBot-Delivery: <delivery id>`, `X-SahasrahBot-Event: <event type>`,
//! `X-SahasrahBot-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.

pub mod deliver;
pub mod intake;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::StringLen;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a webhook can subscribe to: each is one event contract.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    ToSchema,
    sea_orm::EnumIter,
    sea_orm::DeriveActiveEnum,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(100))")]
pub enum EventType {
    /// A seed was generated (`seedgen.seed.generated`).
    #[serde(rename = "seed.generated")]
    #[sea_orm(string_value = "seed.generated")]
    SeedGenerated,
    /// The bot opened a race room (`racetime.room.opened`).
    #[serde(rename = "room.opened")]
    #[sea_orm(string_value = "room.opened")]
    RoomOpened,
    /// A race finished (`racetime.race.finished`).
    #[serde(rename = "race.finished")]
    #[sea_orm(string_value = "race.finished")]
    RaceFinished,
    /// A tournament match got its room (`tournament.room.opened`).
    #[serde(rename = "match.room_opened")]
    #[sea_orm(string_value = "match.room_opened")]
    MatchRoomOpened,
}

impl EventType {
    /// Every event type.
    pub const ALL: [Self; 4] = [
        Self::SeedGenerated,
        Self::RoomOpened,
        Self::RaceFinished,
        Self::MatchRoomOpened,
    ];

    /// The name receivers see.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SeedGenerated => "seed.generated",
            Self::RoomOpened => "room.opened",
            Self::RaceFinished => "race.finished",
            Self::MatchRoomOpened => "match.room_opened",
        }
    }

    /// The type called `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name.trim())
    }
}

/// Where a delivery stands.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Serialize,
    ToSchema,
    sea_orm::EnumIter,
    sea_orm::DeriveActiveEnum,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Waiting for its (next) attempt.
    #[sea_orm(string_value = "pending")]
    Pending,
    /// The receiver answered 2xx.
    #[sea_orm(string_value = "delivered")]
    Delivered,
    /// Given up after the last attempt.
    #[sea_orm(string_value = "failed")]
    Failed,
}

/// The `webhooks` entity.
pub mod webhook {
    use sea_orm::entity::prelude::*;

    /// A registered receiver.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "webhooks")]
    pub struct Model {
        /// The webhook id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// Where deliveries go.
        pub url: String,
        /// The HMAC key (kept to sign; shown once at registration).
        pub secret: String,
        /// Space-separated [`super::EventType`] names.
        #[sea_orm(column_type = "Text")]
        pub event_types: String,
        /// What it is for.
        pub description: String,
        /// The user who registered it; none for an operator.
        pub owner_user_id: Option<i64>,
        /// Deliveries are made only while active.
        pub active: bool,
        /// When it was registered.
        pub created_at: ChronoDateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The `webhook_deliveries` entity (the delivery log).
pub mod delivery {
    use sea_orm::entity::prelude::*;

    /// One event for one webhook.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "webhook_deliveries")]
    pub struct Model {
        /// Row id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The delivery id receivers dedupe by (UUIDv7).
        #[sea_orm(unique)]
        pub delivery_id: String,
        /// The webhook.
        pub webhook_id: i64,
        /// The event's id (envelope id).
        pub event_id: String,
        /// The event type.
        pub event_type: super::EventType,
        /// The exact body posted on every attempt.
        #[sea_orm(column_type = "Text")]
        pub payload: String,
        /// Where it stands.
        pub state: super::DeliveryState,
        /// Attempts made.
        pub attempts: i32,
        /// When the next attempt is due.
        pub next_attempt_at: ChronoDateTimeUtc,
        /// A worker holds the row until then.
        pub leased_until: Option<ChronoDateTimeUtc>,
        /// The last HTTP status, if the receiver answered.
        pub last_status: Option<i32>,
        /// The last failure.
        #[sea_orm(column_type = "Text", nullable)]
        pub last_error: Option<String>,
        /// When the event arrived.
        pub created_at: ChronoDateTimeUtc,
        /// When the receiver accepted it.
        pub delivered_at: Option<ChronoDateTimeUtc>,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Why a registration was refused.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    /// The URL is not an http(s) URL, or points at a private address when those are refused.
    #[error("{0}")]
    BadUrl(String),
    /// An unknown or missing event type.
    #[error("{0}")]
    BadEvents(String),
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] DbErr),
}

/// Checks a receiver URL: http or https, a host, and — unless `allow_private` — not a
/// loopback, private or link-local address literal or `localhost` (the server must not be
/// turned against its own network).
///
/// Errors: [`RegisterError::BadUrl`] saying what is wrong.
pub fn check_url(raw: &str, allow_private: bool) -> Result<url::Url, RegisterError> {
    let parsed = url::Url::parse(raw.trim())
        .map_err(|e| RegisterError::BadUrl(format!("`{raw}` is not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(RegisterError::BadUrl(
            "the URL must be http or https".into(),
        ));
    }
    let private = match parsed.host() {
        None => return Err(RegisterError::BadUrl("the URL has no host".into())),
        Some(url::Host::Domain(d)) => {
            d.eq_ignore_ascii_case("localhost") || d.ends_with(".localhost")
        }
        Some(url::Host::Ipv4(ip)) => {
            ip.is_loopback() || ip.is_private() || ip.is_link_local() || ip.is_unspecified()
        }
        Some(url::Host::Ipv6(ip)) => {
            ip.is_loopback() || ip.is_unspecified() || (ip.segments()[0] & 0xfe00) == 0xfc00
        }
    };
    if private && !allow_private {
        return Err(RegisterError::BadUrl(
            "the URL points at a private or loopback address".into(),
        ));
    }
    Ok(parsed)
}

/// The event types named in `names`, deduplicated.
///
/// Errors: none given, or an unknown name (the message lists the known ones).
pub fn parse_event_types(names: &[String]) -> Result<Vec<EventType>, RegisterError> {
    if names.is_empty() {
        return Err(RegisterError::BadEvents(
            "give at least one event type".into(),
        ));
    }
    let mut types = Vec::new();
    for name in names {
        let Some(t) = EventType::parse(name) else {
            let known: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
            return Err(RegisterError::BadEvents(format!(
                "`{name}` is not an event type (known: {})",
                known.join(", ")
            )));
        };
        if !types.contains(&t) {
            types.push(t);
        }
    }
    Ok(types)
}

/// Registers a webhook; returns the row (its secret is the HMAC key, to show once).
///
/// Errors: bad URL or event types, or the database failed.
pub async fn register<C: ConnectionTrait>(
    conn: &C,
    url: &str,
    event_types: &[String],
    description: &str,
    owner_user_id: Option<i64>,
    allow_private: bool,
) -> Result<webhook::Model, RegisterError> {
    let url = check_url(url, allow_private)?;
    let types = parse_event_types(event_types)?;
    let names: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
    Ok(webhook::ActiveModel {
        url: Set(url.to_string()),
        secret: Set(format!("whsec_{}", crate::keys::random_alphanumeric(40))),
        event_types: Set(names.join(" ")),
        description: Set(description.trim().chars().take(200).collect()),
        owner_user_id: Set(owner_user_id),
        active: Set(true),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(conn)
    .await?)
}

/// Every webhook, newest first.
///
/// Errors: the database failed.
pub async fn list<C: ConnectionTrait>(conn: &C) -> Result<Vec<webhook::Model>, DbErr> {
    webhook::Entity::find()
        .order_by_desc(webhook::Column::Id)
        .all(conn)
        .await
}

/// Deactivates webhook `id` (its delivery log stays; pending deliveries are not made).
/// Returns whether it existed.
///
/// Errors: the database failed.
pub async fn deactivate<C: ConnectionTrait>(conn: &C, id: i64) -> Result<bool, DbErr> {
    let result = webhook::Entity::update_many()
        .col_expr(
            webhook::Column::Active,
            sea_orm::sea_query::Expr::value(false),
        )
        .filter(webhook::Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(result.rows_affected > 0)
}

/// The newest `limit` deliveries of webhook `id`.
///
/// Errors: the database failed.
pub async fn deliveries<C: ConnectionTrait>(
    conn: &C,
    id: i64,
    limit: u64,
) -> Result<Vec<delivery::Model>, DbErr> {
    delivery::Entity::find()
        .filter(delivery::Column::WebhookId.eq(id))
        .order_by_desc(delivery::Column::Id)
        .limit(limit)
        .all(conn)
        .await
}

/// The active webhooks that want `event_type`.
///
/// Errors: the database failed.
pub async fn subscribed<C: ConnectionTrait>(
    conn: &C,
    event_type: EventType,
) -> Result<Vec<webhook::Model>, DbErr> {
    Ok(webhook::Entity::find()
        .filter(webhook::Column::Active.eq(true))
        .all(conn)
        .await?
        .into_iter()
        .filter(|w| {
            w.event_types
                .split_whitespace()
                .any(|t| t == event_type.as_str())
        })
        .collect())
}

/// `t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`: the signature header of a body
/// sent at `timestamp`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// When the event occurred (from its envelope), or now.
pub(crate) fn occurred_at(envelope: &proto::events::v1::Envelope) -> DateTime<Utc> {
    platform::grpc::datetime(envelope.occurred_at.as_ref()).unwrap_or_else(Utc::now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_of_timestamp_dot_body() {
        // Computed independently: `printf '1.{}' | openssl dgst -sha256 -hmac Jefe`.
        assert_eq!(
            signature("Jefe", 1, b"{}"),
            "t=1,v1=dc7943cccf20f64327d263db5e2aca27c2b8175e8e6e7ea04f482091bf456b0f"
        );
        assert_ne!(signature("Jefe", 1, b"{}"), signature("Jefe", 2, b"{}"));
        assert_ne!(signature("Jefe", 1, b"{}"), signature("Jeff", 1, b"{}"));
    }

    #[test]
    fn private_targets_are_refused_unless_allowed() {
        for bad in [
            "http://127.0.0.1/hook",
            "http://localhost:8080/",
            "http://10.1.2.3/",
            "http://192.168.0.1/",
            "http://[::1]/",
            "ftp://example.com/",
            "not a url",
        ] {
            assert!(check_url(bad, false).is_err(), "{bad}");
        }
        assert!(check_url("https://example.com/hook", false).is_ok());
        assert!(check_url("http://127.0.0.1:9/hook", true).is_ok());
    }

    #[test]
    fn event_types_are_a_closed_set() {
        assert_eq!(
            parse_event_types(&["seed.generated".into(), "seed.generated".into()]).unwrap(),
            vec![EventType::SeedGenerated]
        );
        let error = parse_event_types(&["seed.rolled".into()])
            .unwrap_err()
            .to_string();
        assert!(error.contains("known: seed.generated"), "{error}");
        assert!(parse_event_types(&[]).is_err());
    }
}
