//! Events between services over NATS JetStream: one stream for the deployment, a transactional
//! outbox per service ([`outbox`]), durable consumers with an inbox ([`consumer`]).

pub mod consumer;
pub mod contract;
pub mod outbox;
pub mod schema;

use std::time::Duration;

use async_nats::jetstream;
use secrecy::ExposeSecret;

use crate::config::{EventSettings, NatsSettings};

pub use consumer::{Consumer, EventHandler, HandlerError, Processed, payload};
pub use contract::{Contract, Subscriber, Subscription};
pub use outbox::{Event, Outbox, Relay};

/// What went wrong on the event path.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    /// The database refused the outbox or inbox write.
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    /// The subject is not one this service may publish.
    #[error("event subject `{subject}` is invalid: expected {expected}")]
    InvalidSubject {
        /// The subject given.
        subject: String,
        /// What it should look like.
        expected: String,
    },
    /// JetStream did not take a message.
    #[error("publishing to JetStream failed: {0}")]
    Publish(String),
    /// A consumer could not subscribe.
    #[error("subscribing to JetStream failed: {0}")]
    Subscribe(String),
    /// The stream could not be created or updated.
    #[error("setting up the JetStream stream failed: {0}")]
    Stream(String),
}

/// `<prefix>.<subject>`
pub fn full_subject(prefix: &str, subject: &str) -> String {
    format!("{prefix}.{subject}")
}

/// Connects to NATS. Returns at once; the client keeps (re)connecting in the background, with
/// capped backoff, and [`async_nats::Client::connection_state`] tells whether it is up.
pub async fn connect_nats(
    service: &str,
    settings: &NatsSettings,
) -> Result<async_nats::Client, async_nats::ConnectError> {
    let mut options = async_nats::ConnectOptions::new()
        .name(format!("sahasrahbot-{service}"))
        .retry_on_initial_connect()
        .connection_timeout(Duration::from_secs(5))
        .reconnect_delay_callback(|attempts| {
            Duration::from_millis((100u64 << attempts.min(6)).min(5_000))
        })
        .event_callback(|event| async move {
            match event {
                async_nats::Event::Connected => tracing::info!("NATS connected"),
                async_nats::Event::Disconnected => {
                    tracing::warn!("NATS disconnected; reconnecting")
                }
                other => tracing::debug!(event = %other, "NATS event"),
            }
        });
    if let (Some(user), Some(password)) = (&settings.user, &settings.password) {
        options = options.user_and_password(user.clone(), password.expose_secret().to_owned());
    }
    let servers: Vec<String> = settings
        .url
        .split(',')
        .map(|s| s.trim().to_owned())
        .collect();
    options.connect(servers).await
}

/// Creates the deployment's stream if it does not exist: file storage, every subject under
/// `<prefix>.>`, the configured duplicate window. An existing stream is left as it is.
pub async fn ensure_stream(
    jetstream: &jetstream::Context,
    settings: &EventSettings,
) -> Result<(), EventError> {
    jetstream
        .get_or_create_stream(jetstream::stream::Config {
            name: settings.stream.clone(),
            subjects: vec![format!("{}.>", settings.subject_prefix)],
            storage: jetstream::stream::StorageType::File,
            duplicate_window: Duration::from_secs(settings.duplicate_window_secs),
            max_age: Duration::from_secs(settings.stream_max_age_hours.max(1) * 3_600),
            ..Default::default()
        })
        .await
        .map(|_| ())
        .map_err(|error| EventError::Stream(error.to_string()))
}
