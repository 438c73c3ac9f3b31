//! Typed event contracts: each event payload type is tied to the one subject it travels on,
//! so a publisher ([`Event::of`]) and a subscriber ([`Subscriber`]) of a payload type cannot
//! disagree on the subject. The table below is the whole list; subjects are
//! `<owning service>.<aggregate>.<event>` without the deployment prefix.

use std::future::Future;

use proto::events::v1 as ev;
use sea_orm::DatabaseTransaction;

use super::consumer::{EventHandler, HandlerError, payload};
use super::outbox::Event;
use proto::events::v1::Envelope;

/// An event payload and the subject it is published on.
pub trait Contract: prost::Message + prost::Name + Default + Send + Sync + 'static {
    /// The subject, without the deployment prefix.
    const SUBJECT: &'static str;
}

macro_rules! contracts {
    ($($payload:ty => $subject:literal,)*) => {
        $(impl Contract for $payload {
            const SUBJECT: &'static str = $subject;
        })*

        /// Every contract's subject (for tests and documentation).
        pub const SUBJECTS: &[&str] = &[$($subject),*];
    };
}

contracts! {
    ev::SeedGenerated => "seedgen.seed.generated",
    ev::RaceStatusChanged => "racetime.race.status_changed",
    ev::RaceFinished => "racetime.race.finished",
    ev::RaceRoomOpened => "racetime.room.opened",
    ev::EntrantRequested => "racetime.entrant.requested",
    ev::CommandInvoked => "racetime.command.invoked",
    ev::TournamentRoomOpened => "tournament.room.opened",
    ev::TournamentSeedRolled => "tournament.seed.rolled",
    ev::TournamentMatchFinished => "tournament.match.finished",
    ev::NumberClaimed => "tournament.number.claimed",
    ev::NumberReleased => "tournament.number.released",
    ev::ElectionChanged => "tournament.election.changed",
    ev::UserLinked => "api.user.linked",
    ev::UserMerged => "api.user.merged",
    ev::UserPurged => "api.user.purged",
}

impl Event {
    /// The event of a contract payload, on its subject. (Only the diagnostics probe, whose
    /// subject names the emitting service, is built with [`Event::new`].)
    pub fn of<C: Contract>(payload: &C) -> Self {
        Self::new(C::SUBJECT, payload)
    }
}

/// Reacts to one contract's events; run it with [`Subscription`] (or
/// `ServiceContext::subscribe`), which filters on the contract's subject and decodes the
/// payload (an undecodable one is parked as a permanent error).
pub trait Subscriber: Send + Sync + 'static {
    /// The payload type, hence the subject.
    type Event: Contract;
    /// Durable consumer name, unique in the deployment: `<service>-<purpose>`.
    fn name(&self) -> &str;
    /// How long one run may take when it waits on slow outside work (see
    /// [`EventHandler::handler_timeout`]); `None`: the service's default.
    fn handler_timeout(&self) -> Option<std::time::Duration> {
        None
    }
    /// Applies one event; writes through `txn` commit with the inbox row or not at all.
    fn on<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        event: Self::Event,
        envelope: &'a Envelope,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send + 'a;
}

/// A [`Subscriber`] as an [`EventHandler`].
#[derive(Debug)]
pub struct Subscription<S>(pub S);

impl<S: Subscriber> EventHandler for Subscription<S> {
    fn name(&self) -> &str {
        self.0.name()
    }

    fn filter(&self) -> &str {
        S::Event::SUBJECT
    }

    fn handler_timeout(&self) -> Option<std::time::Duration> {
        self.0.handler_timeout()
    }

    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        envelope: &Envelope,
    ) -> Result<(), HandlerError> {
        let event: S::Event = payload(envelope)?;
        self.0.on(txn, event, envelope).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_subject_has_three_parts_and_is_listed_once() {
        let mut seen = std::collections::HashSet::new();
        for subject in SUBJECTS {
            assert_eq!(subject.split('.').count(), 3, "{subject}");
            assert!(seen.insert(subject), "{subject} twice");
        }
    }

    #[test]
    fn an_event_of_a_contract_carries_its_subject_and_type() {
        let event = Event::of(&ev::RaceFinished::default());
        assert_eq!(event.subject, "racetime.race.finished");
        assert_eq!(
            event.payload.type_url,
            <ev::RaceFinished as prost::Name>::type_url()
        );
    }
}
