//! The room's life: race data and status transitions (computed against the stored status),
//! the intro, gatekeeping of join requests, what each transition triggers.

use std::sync::Arc;

use platform::events::Event;
use proto::events::v1 as ev;
use racetime_client::action::OutgoingMessage;
use racetime_client::{Action, RaceData, RaceSettings, RaceStatus};
use rand::RngExt;
use tokio::time::Instant;

use racetime_client::EntrantStatus;

use super::actor::RoomActor;
use super::render::*;

impl RoomActor {
    pub(super) async fn on_race_data(&mut self, race: Arc<RaceData>) {
        let first = self.race.is_none();
        self.race = Some(race.clone());
        let new_status = race.status();
        let old = self.status.clone();
        let mut events = Vec::new();
        let changed = old.as_ref() != Some(&new_status);
        if changed && let Some(previous) = old.clone() {
            events.push(Event::of(&ev::RaceStatusChanged {
                category: self.category.slug.clone(),
                room_slug: race.slug.clone(),
                status: new_status.as_str().to_string(),
                previous_status: previous.as_str().to_string(),
                room: self.name.clone(),
                version: race.version,
                entrants: entrants(&race),
                room_url: self.host.http().url(&race.url).to_string(),
                goal: race.goal.name.clone(),
            }));
        }
        if new_status == RaceStatus::Finished && !self.state.finish_reported {
            self.state.finish_reported = true;
            events.push(Event::of(&ev::RaceFinished {
                category: self.category.slug.clone(),
                room: self.name.clone(),
                room_url: self.host.http().url(&race.url).to_string(),
                entrants: entrants(&race),
                ended_at: race.ended_at.map(platform::grpc::timestamp),
                version: race.version,
            }));
        }
        if new_status == RaceStatus::InProgress {
            // A resurrected race may finish again later.
            self.state.finish_reported = false;
        }
        let needs_save = changed || !events.is_empty() || first;
        self.status = Some(new_status.clone());
        if needs_save {
            self.persist(events).await;
        }
        self.terminal_since = if new_status.is_terminal() {
            self.terminal_since.or(Some(Instant::now()))
        } else {
            None
        };
        if race.recorded && new_status.is_terminal() {
            // Chat is closed: nothing more to do here.
            self.stop.cancel();
        }
        if first {
            self.intro(&race).await;
        }
        self.gatekeep(&race).await;
        if changed {
            self.on_transition(old.as_ref(), &new_status, &race).await;
        }
    }

    pub(super) async fn intro(&mut self, race: &RaceData) {
        if self.state.intro_sent
            || !race.status().is_preparing()
            || race.opened_by_bot.is_some()
            || self.state.opened_by_us
        {
            return;
        }
        let Some(intro) = self.category.kind.intro(self.host.texts()) else {
            return;
        };
        let mut message = OutgoingMessage {
            message: intro.text,
            guid: guid(&self.name, "intro", 0),
            ..Default::default()
        };
        if intro.with_roll_button {
            message
                .actions
                .push(("Roll a Game".into(), roll_button(self.host.texts())));
        }
        self.post(message).await;
        self.state.intro_sent = true;
        self.persist(Vec::new()).await;
    }

    /// Join requests: published once each; tournament players and gatekeepers are let in.
    pub(super) async fn gatekeep(&mut self, race: &RaceData) {
        let requested: Vec<(String, String)> = race
            .entrants
            .iter()
            .filter(|e| e.status == EntrantStatus::Requested)
            .filter_map(|e| {
                e.user_id().map(|id| {
                    (
                        id.to_string(),
                        e.user.as_ref().map(|u| u.name.clone()).unwrap_or_default(),
                    )
                })
            })
            .filter(|(id, _)| !self.state.requests_seen.contains(id))
            .collect();
        for (user, name) in requested {
            let binding = self.state.tournament.clone().unwrap_or_default();
            let player = binding.players.contains(&user);
            let gatekeeper = binding.gatekeepers.contains(&user);
            let mut accepted = false;
            if player || gatekeeper {
                match self
                    .socket
                    .call(Action::AcceptRequest { user: user.clone() })
                    .await
                {
                    Ok(()) => accepted = true,
                    Err(error) => {
                        tracing::warn!(room = %self.name, %user, %error, "could not accept a join request")
                    }
                }
                if gatekeeper
                    && accepted
                    && let Err(error) = self
                        .socket
                        .call(Action::AddMonitor { user: user.clone() })
                        .await
                {
                    tracing::warn!(room = %self.name, %user, %error, "could not promote a gatekeeper");
                }
            }
            self.state.requests_seen.push(user.clone());
            let event = Event::of(&ev::EntrantRequested {
                category: self.category.slug.clone(),
                room: self.name.clone(),
                user_id: user,
                name,
                accepted,
            });
            self.persist(vec![event]).await;
        }
    }

    pub(super) async fn on_transition(
        &mut self,
        _old: Option<&RaceStatus>,
        new: &RaceStatus,
        race: &RaceData,
    ) {
        match new {
            RaceStatus::Pending
                if self.category.kind.hides_comments_on_pending()
                    && !self.state.comments_hidden =>
            {
                let mut settings = RaceSettings::from_race(race);
                settings.hide_comments = true;
                let token = self.category.tokens.current();
                match self
                    .host
                    .http()
                    .edit_race(&self.name, &token.access_token, &settings, true)
                    .await
                {
                    Ok(()) => {
                        self.state.comments_hidden = true;
                        self.persist(Vec::new()).await;
                    }
                    Err(error) => {
                        tracing::warn!(room = %self.name, %error, "could not hide comments")
                    }
                }
            }
            RaceStatus::InProgress => {
                self.send_spoiler_log().await;
                if self.state.bingo_on_start && !self.state.bingo_sent {
                    let card = rand::rng().random_range(0..900_000u32);
                    self.say("bingo", &[
                        "-----------------------".into(),
                        format!("https://www.speedrunslive.com/tools/supermetroid-bingo/?seed={card}"),
                        "-----------------------".into(),
                    ])
                    .await;
                    self.state.bingo_sent = true;
                    self.persist(Vec::new()).await;
                }
            }
            RaceStatus::Finished => self.konot_next(race).await,
            _ => {}
        }
    }
}
