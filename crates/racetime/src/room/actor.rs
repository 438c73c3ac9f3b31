//! The actor: one task per room, holding its state; race data, chat, API inputs and timers
//! arrive here one at a time and are handed to the module of their concern.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use racetime_client::{ChatMessage, RaceData, RaceStatus, RoomSocket, SocketEvent};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::state::{RoomState, SpoilerRace, TournamentBinding};

use super::host::{CategoryBot, RoomHost};

/// Requests from the gRPC API to a room's actor.
#[derive(Debug)]
pub(crate) enum RoomInput {
    /// Run a command as a monitor (`InjectCommand`).
    Inject {
        command: String,
        requested_by: String,
        reply: oneshot::Sender<()>,
    },
    Bind {
        binding: TournamentBinding,
        reply: oneshot::Sender<()>,
    },
    ScheduleSpoiler {
        url: String,
        study_time: u32,
        reply: oneshot::Sender<()>,
    },
    /// A seed was rolled for the room elsewhere (a tournament seed): set the info and refuse
    /// further rolls until `!cancel`.
    SeedRolled {
        info_bot: String,
        reply: oneshot::Sender<()>,
    },
}

pub(crate) struct RoomActor {
    pub(super) host: Arc<dyn RoomHost>,
    pub(super) category: Arc<CategoryBot>,
    pub(super) name: String,
    pub(super) socket: Arc<RoomSocket>,
    pub(super) state: RoomState,
    /// The status as stored (transitions are computed against it).
    pub(super) status: Option<RaceStatus>,
    pub(super) race: Option<Arc<RaceData>>,
    pub(super) terminal_since: Option<Instant>,
    pub(super) timers: Vec<(Instant, String)>,
    pub(super) stop: CancellationToken,
    /// Version of the race data last written to the room row (`u64::MAX`: none yet); the
    /// data column is rewritten only when it changed, not on every command.
    pub(super) data_saved_version: std::sync::atomic::AtomicU64,
    /// True until the first history catch-up of a room we never handled: that history was
    /// said before we joined, so it only sets the chat watermark. Commands said live after
    /// the socket connected are handled even when they arrive before that history.
    pub(super) history_is_backlog: bool,
}

impl RoomActor {
    pub(crate) fn new(
        host: Arc<dyn RoomHost>,
        category: Arc<CategoryBot>,
        name: String,
        socket: Arc<RoomSocket>,
        state: RoomState,
        status: Option<RaceStatus>,
        stop: CancellationToken,
    ) -> Self {
        Self {
            host,
            category,
            name,
            socket,
            history_is_backlog: state.last_chat_at.is_none(),
            state,
            status,
            race: None,
            terminal_since: None,
            timers: Vec::new(),
            data_saved_version: std::sync::atomic::AtomicU64::new(u64::MAX),
            stop,
        }
    }

    pub(crate) async fn run(
        mut self,
        mut events: mpsc::UnboundedReceiver<SocketEvent>,
        mut inputs: mpsc::UnboundedReceiver<RoomInput>,
    ) {
        let linger = self.host.linger();
        loop {
            let next = self.next_deadline(linger);
            tokio::select! {
                event = events.recv() => match event {
                    Some(event) => self.on_event(event).await,
                    None => return,
                },
                input = inputs.recv() => match input {
                    Some(input) => self.on_input(input).await,
                    None => return,
                },
                _ = tokio::time::sleep_until(next.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600))), if next.is_some() => {
                    if self.terminal_since.is_some_and(|t| t.elapsed() >= linger) {
                        return;
                    }
                    self.on_timer().await;
                }
                _ = self.stop.cancelled() => return,
            }
        }
    }

    pub(super) fn next_deadline(&self, linger: Duration) -> Option<Instant> {
        let mut next = self.terminal_since.map(|t| t + linger);
        for (at, _) in &self.timers {
            next = Some(next.map_or(*at, |n: Instant| n.min(*at)));
        }
        if let Some(at) = self.spoiler_due() {
            let now_utc = Utc::now();
            let wait = (at - now_utc).to_std().unwrap_or_default();
            let at = Instant::now() + wait;
            next = Some(next.map_or(at, |n: Instant| n.min(at)));
        }
        next
    }

    pub(super) async fn on_event(&mut self, event: SocketEvent) {
        match event {
            SocketEvent::RaceData(race) => self.on_race_data(race).await,
            SocketEvent::Chat(message) => self.on_chat(*message, false).await,
            SocketEvent::History(messages) if self.history_is_backlog => {
                self.history_is_backlog = false;
                let newest = messages.iter().filter_map(|m| m.posted_at).max();
                // Saved with the next state write; until then a restart skips it again.
                self.state.last_chat_at = self.state.last_chat_at.max(newest);
            }
            SocketEvent::History(messages) => {
                for message in messages {
                    self.on_chat(message, true).await;
                }
            }
            SocketEvent::ServerError(errors) => {
                tracing::warn!(room = %self.name, errors = %errors.join("; "), "racetime.gg refused an action");
            }
            SocketEvent::NotFound => {
                tracing::warn!(room = %self.name, "room no longer exists on racetime.gg");
                self.stop.cancel();
            }
            SocketEvent::Connected { .. } | SocketEvent::Disconnected { .. } => {}
        }
    }

    pub(super) async fn on_input(&mut self, input: RoomInput) {
        match input {
            RoomInput::Inject {
                command,
                requested_by,
                reply,
            } => {
                tracing::info!(room = %self.name, %command, %requested_by, "command injected through the API");
                self.say(
                    "api",
                    &[format!("Executing command from API request: {command}")],
                )
                .await;
                let message = ChatMessage {
                    id: format!("api-{}", uuid::Uuid::now_v7().simple()),
                    user: Some(racetime_client::User {
                        id: "FAKE".into(),
                        name: "API-submitted command".into(),
                        full_name: "API-submitted command".into(),
                        can_moderate: true,
                        ..Default::default()
                    }),
                    message: command,
                    is_monitor: true,
                    posted_at: None,
                    ..Default::default()
                };
                self.handle_command(&message).await;
                let _ = reply.send(());
            }
            RoomInput::Bind { binding, reply } => {
                // Players and gatekeepers who asked before the binding arrived (the room is
                // public for a moment after it opens) are looked at again.
                self.state
                    .requests_seen
                    .retain(|u| !binding.players.contains(u) && !binding.gatekeepers.contains(u));
                self.state.tournament = Some(binding);
                self.persist(Vec::new()).await;
                // Requests already waiting are handled now.
                if let Some(race) = self.race.clone() {
                    self.gatekeep(&race).await;
                }
                let _ = reply.send(());
            }
            RoomInput::ScheduleSpoiler {
                url,
                study_time,
                reply,
            } => {
                self.state.spoiler = Some(SpoilerRace {
                    spoiler_url: url,
                    study_time,
                    ..SpoilerRace::default()
                });
                self.persist(Vec::new()).await;
                let _ = reply.send(());
            }
            RoomInput::SeedRolled { info_bot, reply } => {
                self.state.seed_rolled = true;
                self.set_info(&info_bot).await;
                self.persist(Vec::new()).await;
                let _ = reply.send(());
            }
        }
    }

    pub(super) async fn on_chat(&mut self, message: ChatMessage, replayed: bool) {
        if message.is_bot || message.is_system || message.is_dm || message.user.is_none() {
            return;
        }
        // Handled before (a replay after a reconnect or a restart).
        if let (Some(at), Some(done)) = (message.posted_at, self.state.last_chat_at)
            && at <= done
        {
            return;
        }
        if replayed {
            tracing::info!(room = %self.name, id = %message.id, "catching up on a chat message sent while disconnected");
        }
        self.handle_command(&message).await;
    }
}
