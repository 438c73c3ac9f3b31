//! The bot websocket of one race room (`/ws/o/bot/{slug}`), kept alive across drops.
//!
//! A [`RoomSocket`] owns one connection task. It connects with the current token, asks for
//! chat history after the last message it saw (`gethistory`), answers server pings by reading
//! continuously, sends an app-level `ping` after a quiet minute and reconnects when no `pong`
//! follows. Closes of any kind, EOF and errors reconnect with capped exponential backoff and
//! jitter; a new token (see [`crate::auth`]) reconnects too, since a socket keeps its
//! connect-time token.
//!
//! The server never acknowledges actions: success shows up as broadcasts, failure as an
//! `error` frame to the sender only. [`RoomSocket::call`] therefore sends each action followed
//! by a `ping`: the server handles one connection's frames in order, so a `pong` with no
//! `error` before it means the action was accepted. An action refused with `Permission
//! denied` (an expired token) is retried once on a fresh connection with the same frame, and a
//! message's guid makes that retry idempotent.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use rand::RngExt;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};

use crate::action::{Action, validate_message};
use crate::auth::{Token, TokenManager};
use crate::http::RacetimeHttp;
use crate::model::{ChatMessage, RaceData, ServerMessage};

/// The exact server error for a bad, expired or foreign token.
pub const PERMISSION_DENIED: &str = "Permission denied. Check your authorization token.";

/// Timing of one room connection.
#[derive(Clone, Debug)]
pub struct SocketConfig {
    /// Send an app-level `ping` after this long without any inbound frame.
    pub idle_ping: Duration,
    /// Reconnect when nothing arrives this long after that ping.
    pub pong_timeout: Duration,
    /// Handshake timeout (an unknown slug never completes the handshake).
    pub connect_timeout: Duration,
    /// First reconnect wait.
    pub backoff_min: Duration,
    /// Longest reconnect wait.
    pub backoff_max: Duration,
    /// How long [`RoomSocket::call`] waits for the server's verdict.
    pub call_timeout: Duration,
}

impl Default for SocketConfig {
    fn default() -> Self {
        Self {
            idle_ping: Duration::from_secs(60),
            pong_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            backoff_min: Duration::from_secs(1),
            backoff_max: Duration::from_secs(120),
            call_timeout: Duration::from_secs(15),
        }
    }
}

/// What the connection task reports to the room's owner, in order.
#[derive(Clone, Debug)]
pub enum SocketEvent {
    /// A connection is up; `reconnect` is false only for the first one.
    Connected {
        /// A reconnection (not the first connection).
        reconnect: bool,
    },
    /// A newer `race.data` (frames with a lower version are dropped here).
    RaceData(Arc<RaceData>),
    /// A chat line not seen before on this socket (live or from history catch-up).
    Chat(Box<ChatMessage>),
    /// Catch-up after (re)connecting: messages not seen before, oldest first.
    History(Vec<ChatMessage>),
    /// An `error` frame no pending call claimed.
    ServerError(Vec<String>),
    /// The connection dropped; the task is reconnecting.
    Disconnected {
        /// Why.
        reason: String,
    },
    /// The handshake was rejected (403/404): the room does not exist (any more).
    NotFound,
}

/// Why an action did not take effect.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum CallError {
    /// The server's `error` strings, e.g. `Specified user is not a race entrant.`.
    #[error("{}", .0.join("; "))]
    Server(Vec<String>),
    /// The server refused the action (its message).
    #[error("invalid action: {0}")]
    Invalid(String),
    /// No answer in time.
    #[error("racetime.gg did not answer in time")]
    Timeout,
    /// The socket closed.
    #[error("the room connection is closed")]
    Closed,
}

enum Command {
    Call {
        action: Action,
        reply: oneshot::Sender<Result<(), CallError>>,
    },
}

/// Handle of one room's connection task; dropping it stops the task.
#[derive(Debug)]
pub struct RoomSocket {
    commands: mpsc::UnboundedSender<Command>,
    latest: watch::Receiver<Option<Arc<RaceData>>>,
    task: tokio::task::JoinHandle<()>,
    call_timeout: Duration,
}

impl Drop for RoomSocket {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Call { action, .. } => write!(f, "Call({})", action.name()),
        }
    }
}

/// Where to resume chat from after the first connection.
#[derive(Clone, Debug, Default)]
pub struct Resume {
    /// Last chat message id already handled (sent as `gethistory.last_message`).
    pub last_message: Option<String>,
}

impl RoomSocket {
    /// Spawns the connection task for `ws_path` (`race.websocket_bot_url`).
    pub fn spawn(
        http: RacetimeHttp,
        ws_path: &str,
        tokens: TokenManager,
        config: SocketConfig,
        resume: Resume,
    ) -> (Self, mpsc::UnboundedReceiver<SocketEvent>) {
        let (commands, command_rx) = mpsc::unbounded_channel();
        let (events, event_rx) = mpsc::unbounded_channel();
        let (latest_tx, latest) = watch::channel(None);
        let call_timeout = config.call_timeout;
        let url = http.ws_url(ws_path);
        let connection = Connection {
            url,
            tokens: tokens.subscribe(),
            manager: tokens,
            config,
            events,
            latest: latest_tx,
            command_rx,
            pending: VecDeque::new(),
            seen: SeenIds::default(),
            last_message: resume.last_message,
            version: 0,
            connects: 0,
        };
        let task = tokio::spawn(connection.run());
        (
            Self {
                commands,
                latest,
                task,
                call_timeout,
            },
            event_rx,
        )
    }

    /// Sends an action and waits for the server's verdict (see the module docs).
    pub async fn call(&self, action: Action) -> Result<(), CallError> {
        if let Action::Message(message) = &action {
            validate_message(message).map_err(CallError::Invalid)?;
        }
        let (reply, rx) = oneshot::channel();
        self.commands
            .send(Command::Call { action, reply })
            .map_err(|_| CallError::Closed)?;
        match tokio::time::timeout(self.call_timeout * 2, rx).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(CallError::Closed),
            Err(_) => Err(CallError::Timeout),
        }
    }

    /// The newest race data this socket applied.
    pub fn latest(&self) -> Option<Arc<RaceData>> {
        self.latest.borrow().clone()
    }

    /// A receiver of the newest race data (updated while the owner is busy).
    pub fn watch_latest(&self) -> watch::Receiver<Option<Arc<RaceData>>> {
        self.latest.clone()
    }
}

/// Bounded set of chat ids already delivered (live and history overlap after reconnects).
#[derive(Default)]
struct SeenIds {
    order: VecDeque<String>,
    set: HashSet<String>,
}

impl SeenIds {
    const CAPACITY: usize = 512;

    /// True when `id` is new.
    fn insert(&mut self, id: &str) -> bool {
        if id.is_empty() || self.set.contains(id) {
            return id.is_empty();
        }
        self.set.insert(id.to_string());
        self.order.push_back(id.to_string());
        if self.order.len() > Self::CAPACITY
            && let Some(old) = self.order.pop_front()
        {
            self.set.remove(&old);
        }
        true
    }
}

/// One outstanding `ping` and what it closes.
enum Pending {
    /// Our keepalive ping.
    Keepalive,
    /// An action awaiting its verdict.
    Call {
        action: Action,
        reply: Option<oneshot::Sender<Result<(), CallError>>>,
        errors: Vec<String>,
        retried: bool,
        deadline: Instant,
    },
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

struct Connection {
    url: url::Url,
    manager: TokenManager,
    tokens: watch::Receiver<Arc<Token>>,
    config: SocketConfig,
    events: mpsc::UnboundedSender<SocketEvent>,
    latest: watch::Sender<Option<Arc<RaceData>>>,
    command_rx: mpsc::UnboundedReceiver<Command>,
    pending: VecDeque<Pending>,
    seen: SeenIds,
    last_message: Option<String>,
    version: u32,
    connects: u32,
}

enum Outcome {
    /// Reconnect after a backoff.
    Dropped(String),
    /// Reconnect now with the newest token.
    Refresh,
    /// The server refused our token: get a new one, then reconnect.
    Denied,
    /// The owner went away.
    Stop,
}

enum Failure {
    NotFound,
    Other(String),
}

impl Connection {
    async fn run(mut self) {
        let mut failures: u32 = 0;
        loop {
            if self.events.is_closed() {
                return;
            }
            let token = self.tokens.borrow_and_update().clone();
            match self.connect(&token).await {
                Ok(ws) => {
                    let reconnect = self.connects > 0;
                    self.connects += 1;
                    if self
                        .events
                        .send(SocketEvent::Connected { reconnect })
                        .is_err()
                    {
                        return;
                    }
                    let started = Instant::now();
                    match self.serve(ws).await {
                        Outcome::Stop => return,
                        Outcome::Refresh => {
                            failures = 0;
                            continue;
                        }
                        Outcome::Denied => {
                            self.manager.refresh_now();
                            let _ = tokio::time::timeout(
                                Duration::from_secs(10),
                                self.tokens.changed(),
                            )
                            .await;
                            continue;
                        }
                        Outcome::Dropped(reason) => {
                            tracing::info!(url = %self.url, %reason, "racetime.gg room socket dropped; reconnecting");
                            let _ = self.events.send(SocketEvent::Disconnected { reason });
                            // A connection that lived a while resets the backoff.
                            if started.elapsed() > Duration::from_secs(60) {
                                failures = 0;
                            }
                        }
                    }
                }
                Err(Failure::NotFound) => {
                    let _ = self.events.send(SocketEvent::NotFound);
                    tracing::warn!(url = %self.url, "racetime.gg rejected the room socket handshake (unknown room)");
                }
                Err(Failure::Other(reason)) => {
                    tracing::warn!(url = %self.url, %reason, "racetime.gg room socket could not connect");
                }
            }
            failures = failures.saturating_add(1);
            let delay = self.backoff(failures);
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = self.events.closed() => return,
            }
        }
    }

    fn backoff(&self, failures: u32) -> Duration {
        let exponent = failures.saturating_sub(1).min(16);
        let base = self
            .config
            .backoff_min
            .saturating_mul(1u32 << exponent)
            .min(self.config.backoff_max);
        // Full jitter in [base/2, base] so rooms dropped together do not reconnect together.
        let half = base / 2;
        let jitter = rand::rng().random_range(0..=half.as_millis() as u64);
        half + Duration::from_millis(jitter)
    }

    async fn connect(&self, token: &Token) -> Result<Ws, Failure> {
        let mut request = self
            .url
            .as_str()
            .into_client_request()
            .map_err(|e| Failure::Other(e.to_string()))?;
        let value = http::HeaderValue::from_str(&format!("Bearer {}", token.access_token))
            .map_err(|e| Failure::Other(e.to_string()))?;
        request
            .headers_mut()
            .insert(http::header::AUTHORIZATION, value);
        match tokio::time::timeout(
            self.config.connect_timeout,
            tokio_tungstenite::connect_async_with_config(request, Some(socket_buffers()), true),
        )
        .await
        {
            Ok(Ok((ws, _))) => Ok(ws),
            Ok(Err(tungstenite::Error::Http(response)))
                if matches!(response.status().as_u16(), 403 | 404) =>
            {
                Err(Failure::NotFound)
            }
            Ok(Err(error)) => Err(Failure::Other(error.to_string())),
            // An unknown slug never completes the handshake.
            Err(_) => Err(Failure::NotFound),
        }
    }

    async fn send(ws: &mut Ws, action: &Action) -> Result<(), String> {
        ws.send(Message::text(action.to_json().to_string()))
            .await
            .map_err(|e| e.to_string())
    }

    /// Serves one connection until it drops, a refresh is due, or the owner leaves.
    async fn serve(&mut self, mut ws: Ws) -> Outcome {
        // Catch up on chat missed while disconnected, then resend what was never answered.
        let history = Action::GetHistory {
            last_message: self.last_message.clone(),
        };
        if let Err(e) = Self::send(&mut ws, &history).await {
            return Outcome::Dropped(e);
        }
        let resend: Vec<Action> = self
            .pending
            .iter()
            .filter_map(|p| match p {
                Pending::Call { action, .. } => Some(action.clone()),
                Pending::Keepalive => None,
            })
            .collect();
        self.pending.retain(|p| matches!(p, Pending::Call { .. }));
        for action in &resend {
            if let Err(e) = self.send_with_ping(&mut ws, action).await {
                return Outcome::Dropped(e);
            }
        }
        let mut last_inbound = Instant::now();
        let mut keepalive_sent = false;
        let mut refresh_due = false;
        loop {
            let quiet_deadline = if keepalive_sent {
                last_inbound + self.config.idle_ping + self.config.pong_timeout
            } else {
                last_inbound + self.config.idle_ping
            };
            let call_deadline = self.pending.iter().find_map(|p| match p {
                Pending::Call { deadline, .. } => Some(*deadline),
                Pending::Keepalive => None,
            });
            let next_deadline = call_deadline.map_or(quiet_deadline, |d| d.min(quiet_deadline));
            tokio::select! {
                frame = ws.next() => {
                    last_inbound = Instant::now();
                    keepalive_sent = false;
                    match frame {
                        Some(Ok(Message::Text(text))) => {
                            match self.handle_text(text.as_str()) {
                                Ok(true) => {}
                                Ok(false) => return Outcome::Denied,
                                Err(()) => return Outcome::Stop,
                            }
                        }
                        Some(Ok(Message::Close(frame))) => {
                            let reason = frame.map_or_else(|| "closed".to_string(), |f| format!("close {} {}", u16::from(f.code), f.reason));
                            return Outcome::Dropped(reason);
                        }
                        Some(Ok(_)) => {}
                        Some(Err(error)) => return Outcome::Dropped(error.to_string()),
                        None => return Outcome::Dropped("end of stream".into()),
                    }
                }
                command = self.command_rx.recv() => {
                    let Some(Command::Call { action, reply }) = command else { return Outcome::Stop };
                    self.pending.push_back(Pending::Call {
                        action: action.clone(),
                        reply: Some(reply),
                        errors: Vec::new(),
                        retried: false,
                        deadline: Instant::now() + self.config.call_timeout,
                    });
                    // Remove the call from the queue again only via pong/timeout; on a send
                    // failure it is resent on the next connection.
                    if let Err(e) = self.send_with_ping(&mut ws, &action).await {
                        return Outcome::Dropped(e);
                    }
                }
                changed = self.tokens.changed(), if !refresh_due => {
                    if changed.is_err() {
                        return Outcome::Stop;
                    }
                    refresh_due = true;
                }
                _ = tokio::time::sleep_until(next_deadline) => {
                    let now = Instant::now();
                    self.expire_calls(now);
                    if now >= quiet_deadline {
                        if keepalive_sent {
                            return Outcome::Dropped("no pong from racetime.gg".into());
                        }
                        keepalive_sent = true;
                        self.pending.push_back(Pending::Keepalive);
                        if let Err(e) = Self::send(&mut ws, &Action::Ping).await {
                            return Outcome::Dropped(e);
                        }
                    }
                }
            }
            // Reconnect with the new token once nothing is in flight.
            if refresh_due
                && !self
                    .pending
                    .iter()
                    .any(|p| matches!(p, Pending::Call { .. }))
            {
                let _ = ws.close(None).await;
                return Outcome::Refresh;
            }
        }
    }

    async fn send_with_ping(&mut self, ws: &mut Ws, action: &Action) -> Result<(), String> {
        Self::send(ws, action).await?;
        Self::send(ws, &Action::Ping).await
    }

    fn expire_calls(&mut self, now: Instant) {
        for pending in &mut self.pending {
            if let Pending::Call {
                reply, deadline, ..
            } = pending
                && *deadline <= now
                && let Some(reply) = reply.take()
            {
                let _ = reply.send(Err(CallError::Timeout));
            }
        }
    }

    /// Ok(true): keep going; Ok(false): reconnect now; Err: owner gone.
    fn handle_text(&mut self, text: &str) -> Result<bool, ()> {
        let message = match ServerMessage::decode(text) {
            Ok(message) => message,
            Err(error) => {
                tracing::warn!(%error, "ignoring an undecodable racetime.gg frame");
                return Ok(true);
            }
        };
        let event = match message {
            ServerMessage::Pong => return Ok(self.resolve_pong()),
            ServerMessage::Error(errors) => {
                let claimed = self.pending.iter_mut().find_map(|p| match p {
                    Pending::Call { errors: e, .. } => Some(e),
                    Pending::Keepalive => None,
                });
                match claimed {
                    Some(slot) => {
                        slot.extend(errors);
                        return Ok(true);
                    }
                    None => SocketEvent::ServerError(errors),
                }
            }
            ServerMessage::RaceData(race) => {
                if race.version < self.version {
                    return Ok(true);
                }
                self.version = race.version;
                let race: Arc<RaceData> = Arc::from(race);
                self.latest.send_replace(Some(race.clone()));
                SocketEvent::RaceData(race)
            }
            ServerMessage::ChatMessage(chat) => {
                if !self.seen.insert(&chat.id) {
                    return Ok(true);
                }
                self.last_message = Some(chat.id.clone());
                SocketEvent::Chat(chat)
            }
            ServerMessage::ChatHistory(messages) => {
                let mut fresh: Vec<ChatMessage> = messages
                    .into_iter()
                    .filter(|m| self.seen.insert(&m.id))
                    .collect();
                // Unpinned first then pinned, each by time: put them in time order.
                fresh.sort_by_key(|m| m.posted_at);
                if let Some(last) = fresh.last() {
                    self.last_message = Some(last.id.clone());
                }
                SocketEvent::History(fresh)
            }
            _ => return Ok(true),
        };
        self.events.send(event).map(|_| true).map_err(|_| ())
    }

    /// Resolves the oldest outstanding ping. Returns false when the connection must be
    /// replaced first (a call was refused for its token).
    fn resolve_pong(&mut self) -> bool {
        let Some(front) = self.pending.pop_front() else {
            return true;
        };
        let Pending::Call {
            action,
            reply,
            errors,
            retried,
            ..
        } = front
        else {
            return true;
        };
        if !retried && errors.iter().any(|e| e == PERMISSION_DENIED) {
            tracing::info!(
                action = action.name(),
                "racetime.gg refused our token; reconnecting to retry the action"
            );
            self.pending.push_front(Pending::Call {
                action,
                reply,
                errors: Vec::new(),
                retried: true,
                deadline: Instant::now() + self.config.call_timeout,
            });
            return false;
        }
        if let Some(reply) = reply {
            let result = if errors.is_empty() {
                Ok(())
            } else {
                Err(CallError::Server(errors))
            };
            let _ = reply.send(result);
        }
        true
    }
}

/// Websocket buffer sizes for a chat socket. tungstenite's defaults (128 KiB to read and
/// 128 KiB to write) are sized for bulk transfer and cost ~256 KiB per room; race rooms send
/// frames of a few KiB (a large race's data message is the biggest), and the buffers still grow
/// on demand for a larger frame.
pub fn socket_buffers() -> tungstenite::protocol::WebSocketConfig {
    tungstenite::protocol::WebSocketConfig::default()
        .read_buffer_size(16 * 1024)
        .write_buffer_size(0)
}
