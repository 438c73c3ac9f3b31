//! The process-wide racetime.gg bot: one [`CategoryBot`] per configured category (its token
//! manager and handler), the registry of rooms this process handles, room leases shared with
//! other replicas, discovery, and the helpers room actors and the gRPC API share.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use platform::events::{Event, Outbox};
use platform::grpc::Peer;
use proto::seedgen::v1::seed_gen_client::SeedGenClient;
use racetime_client::{Action, CallError, RacetimeHttp, Resume, RoomSocket, SocketConfig};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, TransactionTrait,
};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::db::room;
use crate::room::{CategoryBot, RoomActor, RoomHost, RoomInput, RoomRecord};
use crate::settings::RacetimeSettings;
use crate::state::RoomState;

/// Who handles a room (migration `racetime_room_leases`).
const ROOM_LEASES: platform::lease::LeaseTable = platform::lease::LeaseTable {
    table: "racetime_room_leases",
    key_column: "room",
};

/// A room this process handles.
#[derive(Debug)]
pub(crate) struct RoomHandle {
    pub socket: Arc<RoomSocket>,
    pub inputs: mpsc::UnboundedSender<RoomInput>,
    pub stop: CancellationToken,
}

/// Shared by the discovery loops, the room actors and the gRPC API.
#[derive(Debug)]
pub struct Bot {
    pub(crate) db: DatabaseConnection,
    pub(crate) outbox: Outbox,
    pub(crate) http: RacetimeHttp,
    pub(crate) settings: RacetimeSettings,
    /// The operator's contact and documentation, for room texts.
    pub(crate) texts: Arc<crate::commands::OperatorTexts>,
    /// This process's lease owner id.
    pub(crate) instance: String,
    pub(crate) categories: Mutex<HashMap<String, Arc<CategoryBot>>>,
    pub(crate) rooms: Mutex<HashMap<String, RoomHandle>>,
    pub(crate) seedgen: Option<Peer>,
    /// Where room actors run; its token stops them.
    pub(crate) tasks: platform::tasks::Tasks,
    pub(crate) open_locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// A room-level call failed.
#[derive(Debug, thiserror::Error)]
pub enum RoomError {
    /// The room is not known to racetime.gg or not handled here.
    #[error("room `{0}` is not known to racetime.gg or not handled by this bot")]
    NotFound(String),
    /// The category has no credentials configured.
    #[error("category `{0}` is not configured")]
    UnknownCategory(String),
    /// The room's socket refused or dropped the action.
    #[error(transparent)]
    Call(#[from] CallError),
    /// racetime.gg's HTTP API failed.
    #[error(transparent)]
    Api(#[from] racetime_client::ApiError),
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Bot {
    pub(crate) fn socket_config(&self) -> SocketConfig {
        SocketConfig {
            idle_ping: Duration::from_secs(self.settings.socket_idle_ping_secs),
            backoff_max: Duration::from_secs(self.settings.reconnect_backoff_max_secs),
            ..SocketConfig::default()
        }
    }

    pub(crate) fn category(&self, slug: &str) -> Option<Arc<CategoryBot>> {
        lock(&self.categories).get(slug).cloned()
    }

    /// The category of a room name (`alttpr/clever-link-1234`).
    pub(crate) fn category_of(&self, room: &str) -> Result<Arc<CategoryBot>, RoomError> {
        let slug = room.split_once('/').map_or("", |(c, _)| c);
        self.category(slug)
            .ok_or_else(|| RoomError::UnknownCategory(slug.to_string()))
    }

    pub(crate) fn seedgen(&self) -> Option<SeedGenClient<platform::grpc::TracedChannel>> {
        self.seedgen
            .as_ref()
            .map(|p| SeedGenClient::new(p.channel()))
    }

    /// Rooms handled here.
    pub fn handled_rooms(&self) -> Vec<String> {
        let mut rooms: Vec<String> = lock(&self.rooms).keys().cloned().collect();
        rooms.sort();
        rooms
    }

    pub(crate) fn local(
        &self,
        room: &str,
    ) -> Option<(Arc<RoomSocket>, mpsc::UnboundedSender<RoomInput>)> {
        lock(&self.rooms)
            .get(room)
            .map(|h| (h.socket.clone(), h.inputs.clone()))
    }

    /// Sends an action to a room: through our own connection when we handle it, otherwise
    /// through a short-lived connection (any bot of the category may act in any of its rooms).
    pub(crate) async fn room_call(&self, room: &str, action: Action) -> Result<(), RoomError> {
        if let Some((socket, _)) = self.local(room) {
            return Ok(socket.call(action).await?);
        }
        let category = self.category_of(room)?;
        let race = match self.http.race_data(room).await {
            Ok(race) => race,
            Err(racetime_client::ApiError::NotFound(_)) => {
                return Err(RoomError::NotFound(room.to_string()));
            }
            Err(e) => return Err(e.into()),
        };
        let (socket, _events) = RoomSocket::spawn(
            self.http.clone(),
            &race.websocket_bot_url,
            category.tokens.clone(),
            self.socket_config(),
            Resume::default(),
        );
        Ok(socket.call(action).await?)
    }

    /// Writes a room row (state, status, data) and its events in one transaction.
    pub(crate) async fn save_room(
        &self,
        record: RoomRecord<'_>,
        events: Vec<Event>,
    ) -> Result<(), sea_orm::DbErr> {
        let has_events = !events.is_empty();
        let row = room::ActiveModel {
            name: Set(record.name.to_string()),
            category: Set(record.category.to_string()),
            status: Set(crate::db::StoredStatus(record.status.clone())),
            version: Set(i64::from(record.version)),
            state: Set(serde_json::to_string(record.state).unwrap_or_default()),
            data: Set(record.data.map_or_else(
                || "{}".to_string(),
                |d| serde_json::to_string(d).unwrap_or_default(),
            )),
            updated_at: Set(Utc::now()),
        };
        let mut columns = vec![
            room::Column::Status,
            room::Column::Version,
            room::Column::State,
            room::Column::UpdatedAt,
        ];
        if record.data.is_some() {
            columns.push(room::Column::Data);
        }
        let txn = self.db.begin().await?;
        room::Entity::insert(row)
            .on_conflict(
                OnConflict::column(room::Column::Name)
                    .update_columns(columns)
                    .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
        for event in events {
            self.outbox
                .write(&txn, event)
                .await
                .map_err(|e| sea_orm::DbErr::Custom(e.to_string()))?;
        }
        txn.commit().await?;
        if has_events {
            self.outbox.wake();
        }
        Ok(())
    }

    pub(crate) async fn load_room(
        &self,
        name: &str,
    ) -> Result<Option<room::Model>, sea_orm::DbErr> {
        room::Entity::find_by_id(name.to_string())
            .one(&self.db)
            .await
    }

    /// Takes or renews the lease of a room for this process.
    pub(crate) async fn acquire_lease(&self, room: &str) -> Result<bool, sea_orm::DbErr> {
        let ttl = std::time::Duration::from_secs(self.settings.lease_ttl_secs);
        platform::lease::acquire(&self.db, ROOM_LEASES, room, &self.instance, ttl).await
    }

    pub(crate) async fn release_lease(&self, room: &str) {
        if let Err(error) =
            platform::lease::release(&self.db, ROOM_LEASES, room, &self.instance).await
        {
            tracing::warn!(%room, %error, "could not release a room lease");
        }
    }

    /// Starts handling a room unless this or another process already does. Returns whether
    /// the room is handled here afterwards.
    pub async fn join(self: &Arc<Self>, room: &str) -> Result<bool, RoomError> {
        let category = self.category_of(room)?;
        {
            let rooms = lock(&self.rooms);
            if rooms.contains_key(room) {
                return Ok(true);
            }
        }
        // One join at a time per room inside this process.
        let guard = self.open_lock(&format!("join:{room}"));
        let _held = guard.lock().await;
        if lock(&self.rooms).contains_key(room) {
            return Ok(true);
        }
        if !self.acquire_lease(room).await? {
            return Ok(false);
        }
        let race = match self.http.race_data(room).await {
            Ok(race) => race,
            Err(error) => {
                self.release_lease(room).await;
                return match error {
                    racetime_client::ApiError::NotFound(_) => {
                        Err(RoomError::NotFound(room.to_string()))
                    }
                    other => Err(other.into()),
                };
            }
        };
        let stored = self.load_room(room).await?;
        // A room already over is only worth a connection if we followed it before (to see
        // the transition we missed while down).
        let stored_status = stored.as_ref().map(|r| r.status.0.clone());
        if race.status().is_terminal()
            && stored_status
                .as_ref()
                .is_none_or(racetime_client::RaceStatus::is_terminal)
        {
            self.release_lease(room).await;
            return Ok(false);
        }
        let state: RoomState = stored
            .as_ref()
            .and_then(|r| serde_json::from_str(&r.state).ok())
            .unwrap_or_default();
        let resume = Resume {
            last_message: state.last_chat_id.clone(),
        };
        let (socket, events) = RoomSocket::spawn(
            self.http.clone(),
            &race.websocket_bot_url,
            category.tokens.clone(),
            self.socket_config(),
            resume,
        );
        let socket = Arc::new(socket);
        let (inputs, input_rx) = mpsc::unbounded_channel();
        let stop = self.tasks.token().child_token();
        let actor = RoomActor::new(
            self.clone(),
            category,
            room.to_string(),
            socket.clone(),
            state,
            stored_status,
            stop.clone(),
        );
        lock(&self.rooms).insert(
            room.to_string(),
            RoomHandle {
                socket,
                inputs,
                stop,
            },
        );
        let bot = self.clone();
        let name = room.to_string();
        let started = self.tasks.spawn(async move {
            actor.run(events, input_rx).await;
            lock(&bot.rooms).remove(&name);
            bot.release_lease(&name).await;
            tracing::info!(room = %name, "stopped handling room");
        });
        if !started {
            lock(&self.rooms).remove(room);
            return Ok(false);
        }
        tracing::info!(%room, "handling room");
        Ok(true)
    }

    pub(crate) fn open_lock(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = lock(&self.open_locks);
        locks.retain(|_, l| Arc::strong_count(l) > 1);
        locks.entry(key.to_string()).or_default().clone()
    }

    /// Renews the leases of every handled room; rooms whose lease was lost stop.
    pub(crate) async fn renew_leases(&self) {
        let rooms = self.handled_rooms();
        for room in rooms {
            match self.acquire_lease(&room).await {
                Ok(true) => {}
                Ok(false) => {
                    tracing::warn!(%room, "lost the room lease to another instance; stopping here");
                    if let Some(handle) = lock(&self.rooms).remove(&room) {
                        handle.stop.cancel();
                    }
                }
                Err(error) => tracing::warn!(%room, %error, "could not renew a room lease"),
            }
        }
    }

    /// Slow discovery for one category: rooms in `/o/{category}/data` (unlisted included; the
    /// server caches it 60 s and never invalidates it) and rooms we followed before that are not
    /// over in our records.
    pub(crate) async fn discover(self: &Arc<Self>, category: &CategoryBot) {
        let token = category.tokens.current();
        let mut names = match self
            .http
            .category_data(&category.slug, &token.access_token)
            .await
        {
            Ok(data) => open_rooms(data),
            Err(error) => {
                tracing::warn!(category = %category.slug, %error, "category data unavailable; trying again at the next scan");
                Vec::new()
            }
        };
        match room::Entity::find()
            .filter(room::Column::Category.eq(category.slug.clone()))
            .filter(room::Column::Status.is_not_in(["finished", "cancelled", "partitioned"]))
            .all(&self.db)
            .await
        {
            Ok(rows) => names.extend(rows.into_iter().map(|r| r.name)),
            Err(error) => tracing::warn!(%error, "could not list followed rooms"),
        }
        self.join_new(names).await;
    }

    /// Fast discovery for one category: the listed rooms of the public `/{category}/data`,
    /// which the server does not hold stale, so a room is found within one short interval.
    pub(crate) async fn discover_listed(self: &Arc<Self>, category: &CategoryBot) {
        match self.http.public_category_data(&category.slug).await {
            Ok(data) => self.join_new(open_rooms(data)).await,
            Err(error) => {
                tracing::debug!(category = %category.slug, %error, "public category data unavailable; trying again shortly");
            }
        }
    }

    /// Joins every room of `names` not handled here yet.
    async fn join_new(self: &Arc<Self>, mut names: Vec<String>) {
        names.sort();
        names.dedup();
        for name in names {
            if lock(&self.rooms).contains_key(&name) {
                continue;
            }
            if let Err(error) = self.join(&name).await {
                tracing::warn!(room = %name, %error, "could not join room; trying again at the next scan");
            }
        }
    }
}

/// Names of the rooms of a category listing that are not over.
fn open_rooms(data: racetime_client::CategoryData) -> Vec<String> {
    data.current_races
        .into_iter()
        .filter(|r| {
            !r.status
                .as_ref()
                .is_some_and(racetime_client::RaceStatus::is_terminal)
        })
        .map(|r| r.name)
        .collect()
}

impl RoomHost for Bot {
    fn linger(&self) -> Duration {
        Duration::from_secs(self.settings.resurrection_window_secs)
    }

    fn command_prefix(&self) -> &str {
        &self.settings.command_prefix
    }

    fn texts(&self) -> &Arc<crate::commands::OperatorTexts> {
        &self.texts
    }

    fn http(&self) -> &RacetimeHttp {
        &self.http
    }

    fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    fn seedgen(&self) -> Option<SeedGenClient<platform::grpc::TracedChannel>> {
        Bot::seedgen(self)
    }

    fn save_room<'a>(
        &'a self,
        record: RoomRecord<'a>,
        events: Vec<Event>,
    ) -> futures::future::BoxFuture<'a, Result<(), sea_orm::DbErr>> {
        Box::pin(Bot::save_room(self, record, events))
    }

    fn room_call<'a>(
        &'a self,
        room: &'a str,
        action: Action,
    ) -> futures::future::BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            Bot::room_call(self, room, action)
                .await
                .map_err(|e| e.to_string())
        })
    }

    fn open_room<'a>(
        self: Arc<Self>,
        category: &'a str,
        settings: racetime_client::RaceSettings,
        key: &'a str,
        initial: RoomState,
    ) -> futures::future::BoxFuture<'a, Result<String, String>> {
        Box::pin(async move {
            Bot::open(&self, category, settings, key, initial)
                .await
                .map(|room| room.name)
                .map_err(|e| e.to_string())
        })
    }
}
