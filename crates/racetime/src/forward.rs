//! Room inputs for a room another replica handles. Every replica listens on one NATS subject
//! (`{prefix}.racetime.room_input`); a caller whose replica does not hold the room's lease
//! sends the input there as a request, the replica that holds the room applies it and
//! replies, the others stay silent. No reply within the timeout is UNAVAILABLE, as before.
//! The request carries the caller's trace context (W3C `traceparent` headers), so the
//! holder's handling shows up in the caller's trace.
//!
//! Why core request/reply and not JetStream or gRPC: the input must reach the replica that
//! holds the room *now*, and the caller must learn at once when none does. A JetStream
//! message would be kept and applied later by whichever replica picks the room up, out of the
//! context it was sent in (an `InjectCommand` running minutes late); gRPC would need each
//! replica's address and the lease table to pick one, which is what the lease-holder's
//! subscription already answers. The payload is internal to this service (JSON of
//! [`Forwarded`]); nothing is stored.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;
use tracing::Instrument;

use crate::bot::Bot;
use crate::room::RoomInput;
use crate::state::TournamentBinding;

/// How long a forwarded input waits for the holder's answer.
const TIMEOUT: Duration = Duration::from_secs(5);

/// An input that can cross replicas (a [`RoomInput`] without its reply channel).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Forwarded {
    /// `InjectCommand`: run a command as a monitor.
    Inject {
        /// The chat command.
        command: String,
        /// Who asked (for the log).
        requested_by: String,
    },
    /// `BindTournament`: the room belongs to a match.
    Bind {
        /// The match's players and gatekeepers.
        binding: TournamentBinding,
    },
    /// `ScheduleSpoilerRace`.
    ScheduleSpoiler {
        /// The spoiler log's URL.
        url: String,
        /// Study time, in seconds.
        study_time: u32,
    },
    /// `SetInfo` with `seed_rolled`.
    SeedRolled {
        /// The bot info to set.
        info_bot: String,
    },
}

impl Forwarded {
    /// The local input, with the channel its handler answers on.
    pub(crate) fn into_input(self, reply: oneshot::Sender<()>) -> RoomInput {
        match self {
            Forwarded::Inject {
                command,
                requested_by,
            } => RoomInput::Inject {
                command,
                requested_by,
                reply,
            },
            Forwarded::Bind { binding } => RoomInput::Bind { binding, reply },
            Forwarded::ScheduleSpoiler { url, study_time } => RoomInput::ScheduleSpoiler {
                url,
                study_time,
                reply,
            },
            Forwarded::SeedRolled { info_bot } => RoomInput::SeedRolled { info_bot, reply },
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Envelope {
    room: String,
    input: Forwarded,
}

/// The NATS side of forwarding.
#[derive(Clone, Debug)]
pub struct Forwarder {
    nats: async_nats::Client,
    subject: String,
}

impl Forwarder {
    /// The forwarder on `{subject_prefix}.racetime.room_input`.
    pub fn new(nats: async_nats::Client, subject_prefix: &str) -> Self {
        Self {
            nats,
            subject: platform::events::full_subject(subject_prefix, "racetime.room_input"),
        }
    }

    /// Sends `input` to the replica that handles `room`; `Ok(false)` when none answered.
    pub async fn send(&self, room: &str, input: Forwarded) -> anyhow::Result<bool> {
        let payload = serde_json::to_vec(&Envelope {
            room: room.to_owned(),
            input,
        })?;
        let mut headers = async_nats::HeaderMap::new();
        platform::telemetry::inject_current(&mut platform::telemetry::NatsHeaderCarrier(
            &mut headers,
        ));
        match tokio::time::timeout(
            TIMEOUT,
            self.nats
                .request_with_headers(self.subject.clone(), headers, payload.into()),
        )
        .await
        {
            Ok(Ok(_reply)) => Ok(true),
            // No responders, or nobody answered in time: no replica holds the room.
            Ok(Err(_)) | Err(_) => Ok(false),
        }
    }

    /// Applies inputs for rooms this replica holds until `shutdown`.
    pub async fn serve(self, bot: Arc<Bot>, tasks: platform::tasks::Tasks) {
        let shutdown = tasks.token().clone();
        let mut subscription = loop {
            match self.nats.subscribe(self.subject.clone()).await {
                Ok(subscription) => break subscription,
                Err(error) => {
                    tracing::warn!(%error, "room input forwarding: subscribe failed; retrying");
                    tokio::select! {
                        () = tokio::time::sleep(Duration::from_secs(1)) => {}
                        () = shutdown.cancelled() => return,
                    }
                }
            }
        };
        loop {
            let message = tokio::select! {
                message = subscription.next() => match message {
                    Some(message) => message,
                    None => return,
                },
                () = shutdown.cancelled() => return,
            };
            let Ok(envelope) = serde_json::from_slice::<Envelope>(&message.payload) else {
                continue;
            };
            let (Some(reply_to), Some((_, inputs))) =
                (message.reply.clone(), bot.local(&envelope.room))
            else {
                continue;
            };
            let span = tracing::info_span!("room_input.forwarded", room = %envelope.room);
            if let Some(headers) = message.headers.as_ref() {
                platform::telemetry::set_parent_from(
                    &span,
                    &platform::telemetry::NatsHeaderExtractor(headers),
                );
            }
            let nats = self.nats.clone();
            tasks.spawn(
                async move {
                    let (tx, rx) = oneshot::channel();
                    if inputs.send(envelope.input.into_input(tx)).is_ok() && rx.await.is_ok() {
                        let _ = nats.publish(reply_to, "ok".into()).await;
                    }
                }
                .instrument(span),
            );
        }
    }
}
