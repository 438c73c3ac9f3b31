//! The room's outbound actions: saving its state with the events it causes, posting to the
//! chat with replay-safe guids, setting the bot info.

use platform::events::Event;
use racetime_client::Action;
use racetime_client::action::{OutgoingMessage, split_message};

use racetime_client::RaceStatus;

use super::actor::RoomActor;
use super::host::RoomRecord;
use super::render::*;

impl RoomActor {
    /// The current status: the live race's, else the stored one (`open` before either).
    pub(super) fn current_status(&self) -> RaceStatus {
        self.race.as_ref().map_or_else(
            || self.status.clone().unwrap_or(RaceStatus::Open),
            |r| r.status(),
        )
    }

    pub(super) async fn persist(&self, events: Vec<Event>) {
        let status = self.current_status();
        let version = self.race.as_ref().map_or(0, |r| r.version);
        let saved = &self.data_saved_version;
        let data = self
            .race
            .as_deref()
            .filter(|_| saved.load(std::sync::atomic::Ordering::Relaxed) != u64::from(version));
        let record = RoomRecord {
            name: &self.name,
            category: &self.category.slug,
            status: &status,
            version,
            state: &self.state,
            data,
        };
        match self.host.save_room(record, events).await {
            Ok(()) if data.is_some() => {
                saved.store(u64::from(version), std::sync::atomic::Ordering::Relaxed)
            }
            Ok(()) => {}
            Err(error) => tracing::error!(room = %self.name, %error, "could not save room state"),
        }
    }

    /// Posts lines with guids derived from `key`, so a replay posts nothing twice.
    pub(super) async fn say(&self, key: &str, lines: &[String]) {
        let mut index = 0;
        for line in lines {
            for part in split_message(line, 1000) {
                self.post(OutgoingMessage {
                    message: part,
                    guid: guid(&self.name, key, index),
                    ..Default::default()
                })
                .await;
                index += 1;
            }
        }
    }

    pub(super) async fn post(&self, message: OutgoingMessage) {
        if let Err(error) = self.socket.call(Action::Message(message)).await {
            tracing::warn!(room = %self.name, %error, "could not post to the room");
        }
    }

    pub(super) async fn set_info(&self, info: &str) {
        let info: String = info.chars().take(1000).collect();
        if let Err(error) = self
            .socket
            .call(Action::SetInfo {
                info_bot: Some(info),
                info_user: None,
            })
            .await
        {
            tracing::warn!(room = %self.name, %error, "could not set the room info");
        }
    }
}
