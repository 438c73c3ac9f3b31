//! One room's actor: applies race data, computes status transitions against the stored status,
//! runs chat commands one at a time (two quick `!race` never roll twice), drives spoiler
//! countdowns and KONOT, and persists its state with the events it causes. The socket task
//! keeps reading while a command waits for a seed.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use platform::events::Event;
use proto::events::v1 as ev;
use racetime_client::action::{OutgoingMessage, split_message};
use racetime_client::{
    Action, ActionButton, ChatMessage, RaceData, RaceSettings, RaceStatus, RoomSocket, SocketEvent,
    SurveyQuestion,
};
use rand::RngExt;
use serde_json::json;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::bot::{Bot, CategoryBot};
use crate::commands::{self, Context, Plan, RollPlan, SeedFormat};
use crate::state::{KonotSegment, RoomState, SpoilerRace, TournamentBinding};

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
}

/// A deterministic message guid, so a retried or replayed post is dropped by the server.
pub(crate) fn guid(room: &str, key: &str, index: usize) -> String {
    uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_URL,
        format!("{room}|{key}|{index}").as_bytes(),
    )
    .to_string()
}

pub(crate) fn entrants(race: &RaceData) -> Vec<ev::RaceEntrant> {
    race.entrants
        .iter()
        .map(|e| ev::RaceEntrant {
            user_id: e.user_id().unwrap_or_default().to_string(),
            name: e.user.as_ref().map(|u| u.name.clone()).unwrap_or_default(),
            status: e.status.as_str().to_string(),
            place: e.place.unwrap_or(0),
            finish_time_ms: e.finish_duration().map_or(0, |d| d.as_millis() as u64),
            team: e.team.as_ref().map(|t| t.name.clone()).unwrap_or_default(),
            twitch_name: e
                .user
                .as_ref()
                .and_then(|u| u.twitch_name.clone())
                .unwrap_or_default(),
        })
        .collect()
}

pub(crate) struct RoomActor {
    bot: Arc<Bot>,
    category: Arc<CategoryBot>,
    name: String,
    socket: Arc<RoomSocket>,
    state: RoomState,
    /// The status as stored (transitions are computed against it).
    status: Option<String>,
    race: Option<Arc<RaceData>>,
    terminal_since: Option<Instant>,
    timers: Vec<(Instant, String)>,
    stop: CancellationToken,
    /// Version of the race data last written to the room row (`u64::MAX`: none yet); the
    /// data column is rewritten only when it changed, not on every command.
    data_saved_version: std::sync::atomic::AtomicU64,
    /// True until the first history catch-up of a room we never handled: that history was
    /// said before we joined, so it only sets the chat watermark. Commands said live after
    /// the socket connected are handled even when they arrive before that history.
    history_is_backlog: bool,
}

impl RoomActor {
    pub(crate) fn new(
        bot: Arc<Bot>,
        category: Arc<CategoryBot>,
        name: String,
        socket: Arc<RoomSocket>,
        state: RoomState,
        status: Option<String>,
        stop: CancellationToken,
    ) -> Self {
        Self {
            bot,
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
        let linger = Duration::from_secs(self.bot.settings.resurrection_window_secs);
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

    fn next_deadline(&self, linger: Duration) -> Option<Instant> {
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

    async fn on_event(&mut self, event: SocketEvent) {
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

    async fn on_input(&mut self, input: RoomInput) {
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
        }
    }

    fn status_str(&self) -> String {
        self.race.as_ref().map_or_else(
            || self.status.clone().unwrap_or_default(),
            |r| r.status().as_str().to_string(),
        )
    }

    async fn persist(&self, events: Vec<Event>) {
        let status = self.status_str();
        let version = self.race.as_ref().map_or(0, |r| r.version);
        let saved = &self.data_saved_version;
        let data = self
            .race
            .as_deref()
            .filter(|_| saved.load(std::sync::atomic::Ordering::Relaxed) != u64::from(version));
        let record = crate::bot::RoomRecord {
            name: &self.name,
            category: &self.category.slug,
            status: &status,
            version,
            state: &self.state,
            data,
        };
        match self.bot.save_room(record, events).await {
            Ok(()) if data.is_some() => {
                saved.store(u64::from(version), std::sync::atomic::Ordering::Relaxed)
            }
            Ok(()) => {}
            Err(error) => tracing::error!(room = %self.name, %error, "could not save room state"),
        }
    }

    /// Posts lines with guids derived from `key`, so a replay posts nothing twice.
    async fn say(&self, key: &str, lines: &[String]) {
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

    async fn post(&self, message: OutgoingMessage) {
        if let Err(error) = self.socket.call(Action::Message(message)).await {
            tracing::warn!(room = %self.name, %error, "could not post to the room");
        }
    }

    async fn set_info(&self, info: &str) {
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

    async fn on_race_data(&mut self, race: Arc<RaceData>) {
        let first = self.race.is_none();
        self.race = Some(race.clone());
        let new_status = race.status();
        let old = self.status.clone();
        let mut events = Vec::new();
        let changed = old.as_deref() != Some(new_status.as_str());
        if changed && let Some(previous) = old.clone() {
            events.push(Event::of(&ev::RaceStatusChanged {
                category: self.category.slug.clone(),
                room_slug: race.slug.clone(),
                status: new_status.as_str().to_string(),
                previous_status: previous,
                room: self.name.clone(),
                version: race.version,
                entrants: entrants(&race),
                room_url: self.bot.http.url(&race.url).to_string(),
                goal: race.goal.name.clone(),
            }));
        }
        if new_status == RaceStatus::Finished && !self.state.finish_reported {
            self.state.finish_reported = true;
            events.push(Event::of(&ev::RaceFinished {
                category: self.category.slug.clone(),
                room: self.name.clone(),
                room_url: self.bot.http.url(&race.url).to_string(),
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
        self.status = Some(new_status.as_str().to_string());
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
            self.on_transition(old.as_deref(), &new_status, &race).await;
        }
    }

    async fn intro(&mut self, race: &RaceData) {
        if self.state.intro_sent
            || !race.status().is_preparing()
            || race.opened_by_bot.is_some()
            || self.state.opened_by_us
        {
            return;
        }
        let Some(intro) = self.category.kind.intro(&self.bot.texts) else {
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
                .push(("Roll a Game".into(), roll_button(&self.bot.texts)));
        }
        self.post(message).await;
        self.state.intro_sent = true;
        self.persist(Vec::new()).await;
    }

    /// Join requests: published once each; tournament players and gatekeepers are let in.
    async fn gatekeep(&mut self, race: &RaceData) {
        let requested: Vec<(String, String)> = race
            .entrants
            .iter()
            .filter(|e| e.status.as_str() == "requested")
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

    async fn on_transition(&mut self, _old: Option<&str>, new: &RaceStatus, race: &RaceData) {
        match new {
            RaceStatus::Pending
                if self.category.kind.hides_comments_on_pending()
                    && !self.state.comments_hidden =>
            {
                let mut settings = RaceSettings::from_race(race);
                settings.hide_comments = true;
                let token = self.category.tokens.current();
                match self
                    .bot
                    .http
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

    async fn send_spoiler_log(&mut self) {
        let Some(spoiler) = self.state.spoiler.as_mut() else {
            return;
        };
        if spoiler.started_at.is_some() {
            return;
        }
        spoiler.started_at = Some(Utc::now());
        let url = spoiler.spoiler_url.clone();
        self.persist(Vec::new()).await;
        self.say(
            "spoiler-log",
            &[
                "Sending spoiler log...".into(),
                "---------------".into(),
                format!("This race's spoiler log: {url}"),
                "---------------".into(),
                "GLHF! :mudora:".into(),
            ],
        )
        .await;
    }

    /// The next spoiler reminder: when it is due and how many seconds it announces (0 = end).
    fn spoiler_next(&self) -> Option<(DateTime<Utc>, u32)> {
        let spoiler = self.state.spoiler.as_ref()?;
        let started = spoiler.started_at?;
        if spoiler.finished {
            return None;
        }
        let last = spoiler.last_reminder.unwrap_or(u32::MAX);
        commands::REMINDERS
            .iter()
            .copied()
            .chain([0])
            .filter(|r| *r < spoiler.study_time.max(1) && *r < last)
            .map(|r| {
                (
                    started
                        + chrono::Duration::seconds(i64::from(
                            spoiler.study_time - r.min(spoiler.study_time),
                        )),
                    r,
                )
            })
            .next()
    }

    fn spoiler_due(&self) -> Option<DateTime<Utc>> {
        self.spoiler_next().map(|(at, _)| at)
    }

    async fn on_timer(&mut self) {
        let now = Instant::now();
        let due: Vec<String> = self
            .timers
            .iter()
            .filter(|(at, _)| *at <= now)
            .map(|(_, text)| text.clone())
            .collect();
        self.timers.retain(|(at, _)| *at > now);
        for (i, text) in due.iter().enumerate() {
            self.say(
                &format!("timer-{}-{i}", uuid::Uuid::now_v7().simple()),
                std::slice::from_ref(text),
            )
            .await;
        }
        // Spoiler countdown: after a pause (restart) only the latest reminder is sent.
        let mut latest = None;
        while let Some((at, remaining)) = self.spoiler_next() {
            if at > Utc::now() {
                break;
            }
            latest = Some(remaining);
            if let Some(spoiler) = self.state.spoiler.as_mut() {
                spoiler.last_reminder = Some(remaining);
                spoiler.finished = remaining == 0;
            }
        }
        if let Some(remaining) = latest {
            self.persist(Vec::new()).await;
            let text = if remaining == 0 {
                "Log study has finished.  Begin racing!".to_string()
            } else {
                commands::reminder_text(remaining)
            };
            self.say(&format!("spoiler-{remaining}"), &[text]).await;
        }
    }

    async fn on_chat(&mut self, message: ChatMessage, replayed: bool) {
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

    async fn handle_command(&mut self, message: &ChatMessage) {
        let Some(invocation) = commands::parse(&message.message, &self.bot.settings.command_prefix)
        else {
            return;
        };
        let user = message.user.clone().unwrap_or_default();
        let race = self.race.clone().unwrap_or_default();
        let mut teams = std::collections::BTreeMap::<String, Vec<String>>::new();
        for entrant in &race.entrants {
            if let (Some(team), Some(u)) = (&entrant.team, &entrant.user)
                && !u.id.is_empty()
            {
                teams
                    .entry(team.name.clone())
                    .or_default()
                    .push(u.name.clone());
            }
        }
        let ctx = Context {
            is_monitor: message.is_monitor || user.can_moderate,
            entrant_status: race
                .entrant(&user.id)
                .map(|e| e.status.as_str().to_string()),
            seed_rolled: self.state.seed_rolled,
            locked: self.state.locked,
            team_race: race.team_race,
            teams,
            sender_name: user.name.clone(),
            texts: self.bot.texts.clone(),
        };
        let plan = commands::plan(self.category.kind, &invocation, &ctx, &mut |n| {
            rand::rng().random_range(0..n)
        });
        let key = message.id.clone();
        let mut events = Vec::new();
        match plan {
            Plan::Ignore => {}
            Plan::Reply(lines) => self.say(&key, &lines).await,
            Plan::Lock => {
                self.state.locked = true;
                self.say(
                    &key,
                    &["Lock initiated. I will now only roll seeds for race monitors.".into()],
                )
                .await;
            }
            Plan::Unlock => {
                self.state.locked = false;
                self.say(&key, &["Lock released. Anyone may now roll a seed.".into()])
                    .await;
            }
            Plan::Cancel => {
                self.state.seed_rolled = false;
                self.state.spoiler = None;
                self.set_info("New Race").await;
                self.say(&key, &[commands::RESET.into()]).await;
            }
            Plan::Roll(roll) => self.roll(&key, &user, *roll).await,
            Plan::TournamentRace => match &self.state.tournament {
                None => {
                    self.say(
                        &key,
                        &["This room is not associated with a tournament.".into()],
                    )
                    .await
                }
                Some(binding) => events.push(Event::of(&ev::CommandInvoked {
                    category: self.category.slug.clone(),
                    room: self.name.clone(),
                    command: invocation.name.clone(),
                    args: invocation.args.clone(),
                    user_id: user.id.clone(),
                    user_name: user.name.clone(),
                    is_monitor: ctx.is_monitor,
                    message_id: key.clone(),
                    tournament: binding.tournament.clone(),
                    episode_id: binding.episode_id.clone(),
                })),
            },
            Plan::Konot => self.konot_start(&key).await,
            Plan::Promote => {
                let allowed = self
                    .state
                    .tournament
                    .as_ref()
                    .is_some_and(|b| b.gatekeepers.contains(&user.id));
                if allowed
                    && let Err(error) = self
                        .socket
                        .call(Action::AddMonitor {
                            user: user.id.clone(),
                        })
                        .await
                {
                    self.say(&key, &[format!("I could not promote you: {error}")])
                        .await;
                }
            }
            Plan::Override => self.override_stream(&key, &user).await,
            Plan::Bingo => {
                self.state.bingo_on_start = true;
                self.say(&key, &["Bingo card will be rolled at race start!".into()])
                    .await;
            }
            Plan::Test { seconds } => {
                self.say(
                    &key,
                    &[format!("initated test command, waiting {seconds} seconds")],
                )
                .await;
                self.timers.push((
                    Instant::now() + Duration::from_secs(seconds),
                    "test command complete".into(),
                ));
            }
        }
        if let Some(at) = message.posted_at {
            self.state.last_chat_at = Some(at);
            self.state.last_chat_id = Some(message.id.clone());
        }
        self.persist(events).await;
    }

    async fn override_stream(&self, key: &str, user: &racetime_client::User) {
        use crate::db::override_whitelist as wl;
        use sea_orm::EntityTrait;
        let row = wl::Entity::find_by_id((user.id.clone(), self.category.slug.clone()))
            .one(&self.bot.db)
            .await;
        let reply = match row {
            Ok(None) => Some(
                "You do not have permission to override the stream requirement for this category.  Please contact a category owner if you need this to be changed.",
            ),
            Ok(Some(row)) if row.expires.is_some_and(|e| e < Utc::now()) => Some(
                "Your streaming exemption has expired.  Please contact a category owner if you need this to be renewed.",
            ),
            Ok(Some(_)) => {
                if let Err(error) = self
                    .socket
                    .call(Action::OverrideStream {
                        user: user.id.clone(),
                    })
                    .await
                {
                    self.say(
                        key,
                        &[format!("racetime.gg did not accept the override: {error}")],
                    )
                    .await;
                }
                None
            }
            Err(error) => {
                tracing::error!(%error, "override whitelist lookup failed");
                Some("I could not check the stream override list right now; please try again.")
            }
        };
        if let Some(reply) = reply {
            self.say(key, &[reply.to_string()]).await;
        }
    }

    async fn roll(&mut self, key: &str, user: &racetime_client::User, roll: RollPlan) {
        let Some(mut seedgen) = self.bot.seedgen() else {
            self.say(
                key,
                &["Seed rolling is not available: the seed generator is not configured.".into()],
            )
            .await;
            return;
        };
        let request = |suffix: &str, players: Vec<String>| proto::seedgen::v1::GenerateRequest {
            idempotency_key: format!("racetime:{}:{key}{suffix}", self.name),
            randomizer: roll.randomizer.clone(),
            preset: roll.preset.clone(),
            race: true,
            spoiler: roll.spoiler.is_some(),
            spoiler_type: match &roll.spoiler {
                Some(s) if s.progression => "progression".into(),
                Some(_) => "spoiler".into(),
                None => String::new(),
            },
            hints: roll.hints,
            branch: roll.branch.clone().unwrap_or_default(),
            allow_quickswap: roll.allow_quickswap,
            requested_by: format!("racetime:{}", user.id),
            surface: "racetime".into(),
            rng_seed: roll.rng_seed,
            players,
            endpoint_prefix: roll.endpoint_prefix.clone(),
            ..Default::default()
        };
        // An unknown preset or bad flags is refused before "Generating game…" is said.
        let check = proto::seedgen::v1::GenerateRequest {
            validate_only: true,
            ..request("", Vec::new())
        };
        if let Err(status) = seedgen.generate(check).await {
            self.say(&format!("{key}:err"), &[user_error(&status)])
                .await;
            return;
        }
        self.say(&format!("{key}:gen"), &[self.bot.texts.generating()])
            .await;
        if let Some(teams) = &roll.teams {
            let mut lines = Vec::new();
            for (team, players) in teams {
                match seedgen
                    .generate(request(&format!(":{team}"), players.clone()))
                    .await
                {
                    Ok(reply) => {
                        lines.push(format!("Team {team}: {}", reply.into_inner().permalink));
                        lines.push("------".into());
                    }
                    Err(status) => {
                        self.say(&format!("{key}:err"), &[user_error(&status)])
                            .await;
                        return;
                    }
                }
            }
            let label = match roll.randomizer.as_str() {
                "sm" => "SM",
                _ => "SMZ3",
            };
            self.set_info(&format!("{label} Multiworld - {}", roll.preset))
                .await;
            lines.push("Seed rolling complete.".into());
            self.say(&format!("{key}:seed"), &lines).await;
            self.state.seed_rolled = true;
            return;
        }
        let reply = match seedgen.generate(request("", Vec::new())).await {
            Ok(reply) => reply.into_inner(),
            Err(status) => {
                self.say(&format!("{key}:err"), &[user_error(&status)])
                    .await;
                return;
            }
        };
        let (info, mut lines) = seed_lines(&roll, &reply);
        if let Some(spoiler) = &roll.spoiler {
            let study_time = spoiler
                .study_time
                .unwrap_or(if reply.study_time_seconds > 0 {
                    reply.study_time_seconds
                } else {
                    900
                });
            let study_time = if spoiler.progression { 0 } else { study_time };
            if !reply.spoiler_url.is_empty() || roll.randomizer != "smdash" {
                self.state.spoiler = Some(SpoilerRace {
                    spoiler_url: reply.spoiler_url.clone(),
                    study_time,
                    ..SpoilerRace::default()
                });
                lines.push(if spoiler.progression {
                    "The progression spoiler for this race will be sent after the race begins in this room.".into()
                } else {
                    format!("The spoiler log for this race will be sent after the race begins in this room.  A {study_time}s countdown timer at that time will begin.")
                });
            }
        }
        lines.extend(roll.after.iter().cloned());
        self.set_info(&info).await;
        self.state.seed_rolled = true;
        // State first: if we die between here and the posts, the replayed command gets the same
        // seed (same idempotency key) and the same guids.
        self.persist(Vec::new()).await;
        self.say(&format!("{key}:seed"), &lines).await;
    }

    async fn konot_start(&mut self, key: &str) {
        if let Some(segment) = &self.state.konot {
            let text = format!(
                "This room is already segment #{} of a KONOT series.",
                segment.segment
            );
            self.say(key, &[text]).await;
            return;
        }
        use sea_orm::{ActiveModelTrait, ActiveValue::Set};
        let game = crate::db::konot_game::ActiveModel {
            category: Set(self.category.slug.clone()),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&self.bot.db)
        .await;
        let game = match game {
            Ok(game) => game,
            Err(error) => {
                tracing::error!(%error, "could not create a KONOT game");
                self.say(
                    key,
                    &["I could not start a KONOT series right now; please try again.".into()],
                )
                .await;
                return;
            }
        };
        self.state.konot = Some(KonotSegment {
            game_id: game.id,
            segment: 1,
            ..KonotSegment::default()
        });
        self.persist(Vec::new()).await;
        self.say(key, &["Setting up new KONOT race series!  The last player(s) to finish will be eliminated.  Once this race finishes, a new race will be created and the players advancing will be invited to the new room.".into()]).await;
        self.set_info("KONOT Series, Segment #1").await;
    }

    async fn konot_next(&mut self, race: &RaceData) {
        let Some(segment) = self.state.konot.clone() else {
            return;
        };
        if segment.next_room.is_some() || segment.final_announced {
            return;
        }
        if race.entrants_count <= 2 {
            if let Some(k) = self.state.konot.as_mut() {
                k.final_announced = true;
            }
            self.persist(Vec::new()).await;
            self.say("konot-final", &["This was the final race!  GG".into()])
                .await;
            return;
        }
        let next = segment.segment + 1;
        let mut settings = RaceSettings::from_race(race);
        settings.invitational = true;
        settings.unlisted = false;
        settings.info_user = format!("KONOT Series, Segment #{next}");
        settings.info_bot = String::new();
        settings.start_delay = 15;
        settings.time_limit = 24;
        settings.chat_message_delay = 0;
        settings.team_race = false;
        settings.hide_entrants = false;
        let initial = RoomState {
            konot: Some(KonotSegment {
                game_id: segment.game_id,
                segment: next,
                ..KonotSegment::default()
            }),
            ..RoomState::default()
        };
        let key = format!("konot:{}:{next}", segment.game_id);
        let room = match crate::open::open_room(
            &self.bot,
            &self.category.slug,
            settings,
            &key,
            initial,
        )
        .await
        {
            Ok(room) => room,
            Err(error) => {
                tracing::error!(room = %self.name, %error, "could not open the next KONOT room");
                self.say(
                    "konot-error",
                    &[format!("I could not open the next KONOT room: {error}")],
                )
                .await;
                return;
            }
        };
        // Everyone placed advances except the last entrant in server order.
        let count = race.entrants.len();
        let advancing: Vec<String> = race
            .entrants
            .iter()
            .take(count.saturating_sub(1))
            .filter(|e| e.place.is_some())
            .filter_map(|e| e.user_id().map(str::to_string))
            .collect();
        for user in advancing {
            if let Err(error) = self
                .bot
                .room_call(&room.name, Action::Invite { user: user.clone() })
                .await
            {
                tracing::warn!(room = %room.name, %user, %error, "could not invite a KONOT player");
            }
        }
        if let Some(k) = self.state.konot.as_mut() {
            k.next_room = Some(room.name.clone());
        }
        self.persist(Vec::new()).await;
        let url = self.bot.http.url(&format!("/{}", room.name));
        self.say("konot-next", &[format!("Next race room at {url}")])
            .await;
    }
}

/// The alttpr intro's "Roll a Game" survey. Unlike upstream, unchecking Quickswap really turns
/// it off: the checkbox substitutes `--quickswap` or nothing, and the line starts with
/// `--no-quickswap`, which a later `--quickswap` overrides.
fn roll_button(texts: &commands::OperatorTexts) -> ActionButton {
    let input = |name: &str, label: &str, help: &str| SurveyQuestion {
        name: name.into(),
        label: label.into(),
        kind: "input".into(),
        help: Some(help.into()),
        ..Default::default()
    };
    let mut branch_options = serde_json::Map::new();
    for (value, label) in [
        ("live", "Live"),
        ("tournament", "Tournament"),
        ("beeta", "Beeta"),
    ] {
        branch_options.insert(value.into(), json!(label));
    }
    ActionButton {
        message: Some("!newrace --no-quickswap --preset=${preset} ${--quickswap} ${--spoiler_race} --countdown=${countdown} --branch=${branch}".into()),
        submit: Some("Roll Game".into()),
        survey: vec![
            SurveyQuestion { placeholder: Some("eg. standard".into()), ..input("preset", "Preset", &texts.preset_help()) },
            SurveyQuestion { name: "--quickswap".into(), label: "Quickswap".into(), kind: "bool".into(), default: Some(json!(true)), help: Some("Whether or not to allow quickswap.  Defaults to true.".into()), ..Default::default() },
            SurveyQuestion { name: "--spoiler_race".into(), label: "Spoiler Race".into(), kind: "bool".into(), help: Some("Is this a spoiler race? Default is false.".into()), ..Default::default() },
            SurveyQuestion { placeholder: Some("eg. 900 (ignored if not spoiler race)".into()), default: Some(json!("900")), ..input("countdown", "Spoiler Countdown (seconds)", "How long to wait before sending the spoiler log.  Defaults to 900 seconds.  Ignored if not a spoiler race.") },
            SurveyQuestion { name: "branch".into(), label: "Branch".into(), kind: "select".into(), default: Some(json!("live")), options: Some(branch_options), help: Some("Which branch to use for the game.  Defaults to live.".into()), ..Default::default() },
        ],
        ..ActionButton::default()
    }
}

/// A SeedGen error as a short message a racer can act on (never a stack of exception text);
/// the wording is [`platform::grpc::user_message`]'s, shared with Discord.
pub(crate) fn user_error(status: &tonic::Status) -> String {
    platform::grpc::user_message(status).unwrap_or_else(|| {
        format!(
            "Something went wrong generating that seed: {}",
            status.message()
        )
    })
}

fn local_seed(reply: &proto::seedgen::v1::GenerateReply) -> (String, String, Option<String>) {
    let settings: serde_json::Value =
        serde_json::from_str(&reply.settings_json).unwrap_or_default();
    let flags = settings["flags"].as_str().unwrap_or_default().to_string();
    let description = reply
        .notes
        .split_once(": ")
        .map(|(d, _)| d.to_string())
        .filter(|d| !d.is_empty() && reply.notes != flags);
    (reply.hash.clone(), flags, description)
}

/// The room info and chat lines for a rolled seed.
pub(crate) fn seed_lines(
    roll: &RollPlan,
    reply: &proto::seedgen::v1::GenerateReply,
) -> (String, Vec<String>) {
    let url = reply.permalink.clone();
    let code = reply.file_select_code.join("/");
    let spoiler_prefix = if roll.spoiler.is_some() {
        "spoiler "
    } else {
        ""
    };
    let done = commands::DONE.to_string();
    match &roll.format {
        SeedFormat::Alttpr { label } => (
            format!("{spoiler_prefix}{label} - {url} - ({code})"),
            if roll.spoiler.is_some() {
                vec![url]
            } else {
                vec![url, done]
            },
        ),
        SeedFormat::Mystery { weightset } => {
            let ci = reply.custom_instructions.trim();
            if ci.is_empty() {
                (
                    format!("mystery {weightset} - {url} - ({code})"),
                    vec![url, done],
                )
            } else {
                (
                    format!("Instructions: {ci} - mystery {weightset} - {url} - ({code})"),
                    vec![format!("Instructions: {ci}"), url, done],
                )
            }
        }
        SeedFormat::Smz3 { label } => {
            let code = reply.file_select_code.join(" ");
            (
                format!("{spoiler_prefix}{label} - {url} - ({code})"),
                if roll.spoiler.is_some() {
                    vec![url]
                } else {
                    vec![url, done]
                },
            )
        }
        SeedFormat::SmTotal { preset } => (
            format!(
                "SM Total Randomizer - {preset} - {url} - ({})",
                reply.file_select_code.join(" ")
            ),
            vec![url, done],
        ),
        SeedFormat::Varia { settings, skills } => {
            (format!("{settings} / {skills} - {url}"), vec![url, done])
        }
        SeedFormat::Dash => (format!("SM Dash Randomizer - {url}"), vec![url, done]),
        SeedFormat::Z1rPreset { preset } => {
            let (seed, flags, _) = local_seed(reply);
            (
                format!("Flags: {flags} Seed: {seed}"),
                vec![format!("{preset} - Flags: {flags} Seed: {seed}"), done],
            )
        }
        SeedFormat::SeedFlags => {
            let (seed, flags, description) = local_seed(reply);
            let text = match description {
                Some(d) => format!("Seed: {seed} - Flags: {flags} - {d}"),
                None => format!("Seed: {seed} - Flags: {flags}"),
            };
            (text.clone(), vec![text, done])
        }
        SeedFormat::Url => (url.clone(), vec![url, done]),
    }
}
