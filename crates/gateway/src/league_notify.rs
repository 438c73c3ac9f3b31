//! League announcements: `tournament.number.claimed` and `tournament.number.released` become a
//! line in the league's announcement channel, once per event (idempotency key
//! `league:{event id}`); a league without a channel says nothing.

use platform::events::{Contract, HandlerError, Subscriber};
use proto::events::v1::{Envelope, NumberClaimed, NumberReleased};
use sea_orm::DatabaseTransaction;

use crate::grpc::DiscordApi;

/// What an event says, and where.
pub trait Announcement: Contract {
    /// The channel (0: none).
    fn channel(&self) -> u64;
    /// The line.
    fn text(&self) -> String;
}

fn class(class: &str) -> String {
    if class.is_empty() {
        String::new()
    } else {
        format!(" ({class})")
    }
}

impl Announcement for NumberClaimed {
    fn channel(&self) -> u64 {
        self.announce_channel_id
    }

    fn text(&self) -> String {
        if self.by_discord_user_id == self.discord_user_id || self.by_discord_user_id == 0 {
            format!(
                "🏁 <@{}> claimed **#{}**{}.",
                self.discord_user_id,
                self.number,
                class(&self.class)
            )
        } else {
            format!(
                "🏁 <@{}> now holds **#{}**{} (by <@{}>).",
                self.discord_user_id,
                self.number,
                class(&self.class),
                self.by_discord_user_id
            )
        }
    }
}

impl Announcement for NumberReleased {
    fn channel(&self) -> u64 {
        self.announce_channel_id
    }

    fn text(&self) -> String {
        let how = match self.reason.as_str() {
            "force_released" => format!(" (taken back by <@{}>)", self.by_discord_user_id),
            "reassigned" => " (reassigned)".to_owned(),
            "traded" => " (traded)".to_owned(),
            _ => String::new(),
        };
        format!(
            "🔓 **#{}**{} is free again: <@{}> no longer holds it{how}.",
            self.number,
            class(&self.class),
            self.discord_user_id
        )
    }
}

/// Posts one kind of [`Announcement`].
#[derive(Debug)]
pub struct Announcer<E> {
    api: DiscordApi,
    name: &'static str,
    _kind: std::marker::PhantomData<fn() -> E>,
}

impl<E> Announcer<E> {
    /// The durable consumer `name` posting through `api`.
    pub fn new(api: DiscordApi, name: &'static str) -> Self {
        Self {
            api,
            name,
            _kind: std::marker::PhantomData,
        }
    }
}

impl<E: Announcement> Subscriber for Announcer<E> {
    type Event = E;

    fn name(&self) -> &str {
        self.name
    }

    async fn on(
        &self,
        _txn: &DatabaseTransaction,
        event: E,
        envelope: &Envelope,
    ) -> Result<(), HandlerError> {
        let channel = event.channel();
        if channel == 0 {
            return Ok(());
        }
        let key = format!("league:{}", envelope.id);
        match self.api.send(&key, channel, &event.text(), &[]).await {
            Ok(_) => Ok(()),
            Err(status) if status.code() == tonic::Code::Unavailable => Err(
                HandlerError::Transient(anyhow::anyhow!("announcing: {}", status.message())),
            ),
            Err(status) => {
                tracing::warn!(channel, error = %status.message(), "league announcement not posted");
                Ok(())
            }
        }
    }
}
