//! Rooms opened on time, once (spec §1.5.2 and its edge-case matrix §1.5.15). Every poll, each
//! live tournament's matches whose window is open — from `room_open_minutes_before` plus the
//! stream delay before the race start, until 30 minutes after it (catch-up after an outage) —
//! get a room unless they have one.
//!
//! Once: a binding row (`match_rooms`, state `opening`) is written *before* the room is asked
//! for, unique per (match, game, generation), and its idempotency key goes to
//! `RaceRooms.OpenRoom`, which answers the same room for the same key. A second replica loses
//! the insert and drives the same row (the same key, so the same room); a process killed
//! between the row and the room is recovered by the next poll with the same key. A room
//! cancelled on racetime.gg lets a new generation open another.
//!
//! Then: the room is bound to the tournament (players and helpers are let in and helpers made
//! monitors by racetime), linked players are invited, the welcome and the pinned "Roll
//! Tournament Seed" button are posted, `tournament.room.opened` is written with the binding's
//! `open` state in one transaction, and each player gets a DM (idempotent keys; a refused DM is
//! reported to the audit channel).

use chrono::{DateTime, Utc};
use platform::events::{Event, Outbox};
use platform::grpc::Peers;
use prometheus_client::metrics::histogram::Histogram;
use proto::discord::v1 as discord;
use proto::discord::v1::discord_client::DiscordClient;
use proto::events::v1 as ev;
use proto::identity::v1 as identity;
use proto::identity::v1::identity_client::IdentityClient;
use proto::racetime::v1 as rt;
use proto::racetime::v1::race_rooms_client::RaceRoomsClient;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, TransactionTrait,
};
use tonic::Status;

use crate::config::OpenRace;
use crate::db::{Role, RoomState, r#match, match_room};
use crate::matches::{self, CATCH_UP, Player};
use crate::notify;
use crate::registry::{self, Tournament};
use crate::speedgaming;

/// The welcome posted in every tournament room (spec §1.5.2).
pub const WELCOME: &str = "Welcome! Use the \"Roll Tournament Seed\" pinned above about 5 minutes before your race start.  You do NOT need to wait for your setup helper to do this or start your race, they will appear later to setup the stream.";

/// Why a room could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// A peer failed.
    #[error("{peer}: {status}")]
    Peer {
        /// Which service.
        peer: &'static str,
        /// Its answer.
        status: Status,
    },
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] DbErr),
    /// The outbox refused the event.
    #[error("events: {0}")]
    Events(String),
}

fn peer(peer: &'static str) -> impl Fn(Status) -> OpenError {
    move |status| OpenError::Peer { peer, status }
}

/// A player of a match with what Identity knows of them.
#[derive(Clone, Debug)]
pub struct Resolved {
    /// As scheduled.
    pub player: Player,
    /// Their racetime.gg account, when linked.
    pub racetime_user_id: Option<String>,
}

/// The room opener.
#[derive(Clone, Debug)]
pub struct Opener {
    db: DatabaseConnection,
    peers: Peers,
    outbox: Outbox,
    lateness: Option<Histogram>,
    http: reqwest::Client,
    website: String,
}

/// Buckets of the room-open lateness histogram, in seconds.
pub const LATENESS_BUCKETS: [f64; 11] = [
    1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0,
];

/// The idempotency key of a match's room.
pub fn room_key(slug: &str, match_id: i64, game: i32, generation: i32) -> String {
    format!("tournament:{slug}:{match_id}:{game}:{generation}")
}

impl Opener {
    /// An opener over tournament's database and peers.
    pub fn new(db: DatabaseConnection, peers: Peers, outbox: Outbox) -> Self {
        Self {
            db,
            peers,
            outbox,
            lateness: None,
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
            website: "http://localhost:8080".to_owned(),
        }
    }

    /// Records each room's lateness — seconds from its window opening (`room_open_minutes_before`
    /// plus the stream delay before the start) to the room being open — in `histogram`.
    pub fn with_lateness(mut self, histogram: Histogram) -> Self {
        self.lateness = Some(histogram);
        self
    }

    /// Links in messages point at the website at `url`.
    pub fn with_website(mut self, url: &str) -> Self {
        url.trim_end_matches('/').clone_into(&mut self.website);
        self
    }

    /// The website's URL.
    pub fn website(&self) -> &str {
        &self.website
    }

    /// The services it reaches.
    pub fn peers(&self) -> &Peers {
        &self.peers
    }

    /// Opens every room that is due at `now`; returns how many rooms were opened (or found
    /// opening). One match's failure is logged and does not stop the others.
    ///
    /// Errors: the database failed before any match was looked at.
    pub async fn open_due(&self, now: DateTime<Utc>) -> Result<usize, OpenError> {
        let mut opened = 0;
        for tournament in registry::list(&self.db, true)
            .await
            .map_err(|e| OpenError::Db(DbErr::Custom(e.to_string())))?
        {
            if !tournament.live_at(now) {
                continue;
            }
            let due = matches::between(
                &self.db,
                tournament.row.id,
                now - CATCH_UP,
                now + tournament.open_lead(),
            )
            .await?;
            for m in due {
                // A tournament that needs settings first gets no room without them.
                if crate::submissions::blocks_room(&self.db, &tournament, m.id).await?
                    && self.latest(m.id, 1).await?.is_none()
                {
                    self.audit(
                        &tournament,
                        &format!("settings-missing:{}", m.id),
                        &format!(
                            "The race room for match `{}` ({}) is not opened: its settings have not been submitted. The players can submit them at {}",
                            m.external_id,
                            matches::players(&m)
                                .iter()
                                .map(|p| p.display_name.as_str())
                                .collect::<Vec<_>>()
                                .join(" vs. "),
                            crate::submissions::link(&self.website, &tournament.row.slug, m.id)
                        ),
                    )
                    .await;
                    continue;
                }
                match self.ensure_room(&tournament, &m, 1).await {
                    Ok((_, true)) => {
                        opened += 1;
                        if let Some(histogram) = &self.lateness {
                            let window = m.scheduled_at - tournament.open_lead();
                            let late = (Utc::now() - window).num_milliseconds().max(0);
                            histogram.observe(late as f64 / 1000.0);
                        }
                    }
                    Ok((_, false)) => {}
                    Err(error) => {
                        tracing::warn!(tournament = %tournament.row.slug, r#match = m.id, %error, "could not open a match room");
                        self.audit(
                            &tournament,
                            &format!("room-error:{}:{}", m.id, now.timestamp() / 300),
                            &format!(
                                "There was an error while automatically creating a race room for match `{}`.\n\n{error}",
                                m.external_id
                            ),
                        )
                        .await;
                    }
                }
            }
        }
        Ok(opened)
    }

    /// The latest binding of game `game` of match `match_id`.
    async fn latest(&self, match_id: i64, game: i32) -> Result<Option<match_room::Model>, DbErr> {
        match_room::Entity::find()
            .filter(match_room::Column::MatchId.eq(match_id))
            .filter(match_room::Column::GameNumber.eq(game))
            .order_by_desc(match_room::Column::Generation)
            .one(&self.db)
            .await
    }

    /// The room of game `game` of `m`: the open one, or a new one. The flag says whether this
    /// call opened (or finished opening) it.
    ///
    /// Errors: a peer or the database failed; the binding stays `opening` and the next call
    /// retries with the same key.
    pub async fn ensure_room(
        &self,
        tournament: &Tournament,
        m: &r#match::Model,
        game: i32,
    ) -> Result<(match_room::Model, bool), OpenError> {
        let binding = match self.latest(m.id, game).await? {
            Some(b) if matches!(b.state, RoomState::Open | RoomState::Finished) => {
                return Ok((b, false));
            }
            Some(b) if b.state == RoomState::Opening => b,
            Some(b) => self.insert(tournament, m, game, b.generation + 1).await?,
            None => self.insert(tournament, m, game, 0).await?,
        };
        Ok((self.drive(tournament, m, binding).await?, true))
    }

    async fn insert(
        &self,
        tournament: &Tournament,
        m: &r#match::Model,
        game: i32,
        generation: i32,
    ) -> Result<match_room::Model, OpenError> {
        let now = Utc::now();
        let row = match_room::ActiveModel {
            tournament_id: Set(tournament.row.id),
            match_id: Set(m.id),
            game_number: Set(game),
            generation: Set(generation),
            idempotency_key: Set(room_key(&tournament.row.slug, m.id, game, generation)),
            state: Set(RoomState::Opening),
            room: Set(None),
            room_url: Set(None),
            invited: Set("[]".into()),
            error: Set(None),
            opened_at: Set(None),
            seed_permalink: Set(None),
            seed_hash: Set(None),
            seed_rolled_at: Set(None),
            results: Set(None),
            finished_at: Set(None),
            result_publish_at: Set(None),
            result_published: Set(false),
            webhook_posted: Set(false),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        };
        match row.insert(&self.db).await {
            Ok(row) => Ok(row),
            // Another replica wrote it first: drive the same row (same key, same room).
            Err(error) if platform::db::is_unique_violation(&error) => {
                self.latest(m.id, game).await?.ok_or(OpenError::Db(error))
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Resolves the players (spec §1.5.3): a player the schedule gives only a Discord tag is
    /// looked up among the members of the tournament's guild (through the gateway), then every
    /// Discord id goes to Identity for the linked racetime.gg account.
    ///
    /// Errors: Identity or the gateway failed.
    pub async fn resolve(
        &self,
        tournament: &Tournament,
        mut players: Vec<Player>,
    ) -> Result<Vec<Resolved>, OpenError> {
        if let Some(guild) = tournament.row.guild_id {
            for player in players.iter_mut().filter(|p| p.discord_user_id.is_none()) {
                let Some(tag) = player.discord_tag.clone().filter(|t| !t.trim().is_empty()) else {
                    continue;
                };
                player.discord_user_id = self
                    .member_by_tag(platform::db::u64_from_db(guild), &tag)
                    .await?;
            }
        }
        let ids: Vec<u64> = players.iter().filter_map(|p| p.discord_user_id).collect();
        let mut users = Vec::new();
        if !ids.is_empty() {
            let api = self.peers.get("api").map_err(peer("api"))?;
            let request = identity::FindByDiscordIdsRequest {
                discord_user_ids: ids,
            };
            users = api
                .call(|| {
                    let mut client = IdentityClient::new(api.channel());
                    let request = request.clone();
                    async move { client.find_by_discord_ids(request).await }
                })
                .await
                .map_err(peer("api"))?
                .into_inner()
                .users;
        }
        Ok(players
            .into_iter()
            .map(|player| {
                let racetime_user_id = player.discord_user_id.and_then(|id| {
                    users
                        .iter()
                        .find(|u| u.discord_user_id == id && u.racetime_linked)
                        .map(|u| u.racetime_user_id.clone())
                });
                Resolved {
                    player,
                    racetime_user_id,
                }
            })
            .collect())
    }

    /// The Discord id of the guild member with tag `tag` (`None`: nobody, or no gateway).
    async fn member_by_tag(&self, guild: u64, tag: &str) -> Result<Option<u64>, OpenError> {
        let Ok(gateway) = self.peers.get("gateway") else {
            return Ok(None);
        };
        let request = discord::FindMemberRequest {
            guild_id: guild,
            tag: tag.to_owned(),
        };
        match gateway
            .call(|| {
                let mut client = DiscordClient::new(gateway.channel());
                let request = request.clone();
                async move { client.find_member(request).await }
            })
            .await
        {
            Ok(member) => Ok(Some(member.into_inner().user_id)),
            Err(status)
                if matches!(
                    status.code(),
                    tonic::Code::NotFound | tonic::Code::InvalidArgument
                ) =>
            {
                tracing::info!(%tag, "no guild member has a scheduled player's Discord tag");
                Ok(None)
            }
            Err(status) => Err(peer("gateway")(status)),
        }
    }

    /// racetime.gg ids of the tournament's helpers (user grants with a linked account).
    async fn gatekeepers(&self, tournament: &Tournament) -> Result<Vec<String>, OpenError> {
        let mut out = Vec::new();
        let api = self.peers.get("api").map_err(peer("api"))?;
        for user_id in registry::users_with(&self.db, tournament.row.id, Role::Helper).await? {
            let request = identity::GetUserRequest {
                id: u64::try_from(user_id).unwrap_or_default(),
            };
            match api
                .call(|| {
                    let mut client = IdentityClient::new(api.channel());
                    async move { client.get_user(request).await }
                })
                .await
            {
                Ok(user) if user.get_ref().racetime_linked => {
                    out.push(user.into_inner().racetime_user_id);
                }
                Ok(_) => {}
                Err(status) if status.code() == tonic::Code::NotFound => {}
                Err(status) => return Err(peer("api")(status)),
            }
        }
        Ok(out)
    }

    fn settings(tournament: &Tournament, m: &r#match::Model, names: &[String]) -> rt::RoomSettings {
        let p = &tournament.profile;
        let channels = matches::channels(m);
        // An open race: anyone may join, the info line names the start (and seed time), and a
        // title such as "co-op" makes it a team race.
        let (info_user, invitational, team_race) = match &tournament.open_race {
            Some(open) => (
                speedgaming::open_race_info(
                    open,
                    &m.title,
                    m.scheduled_at,
                    tournament.row.time_zone.parse().unwrap_or(chrono_tz::UTC),
                    &channels,
                    &m.external_id,
                ),
                m.invitational_override.unwrap_or(false),
                p.team_race || open.team_race(&m.title),
            ),
            None => (
                speedgaming::race_info(
                    &tournament.row.name,
                    names,
                    &m.title,
                    &channels,
                    &m.external_id,
                ),
                m.invitational_override.unwrap_or(p.invitational),
                p.team_race,
            ),
        };
        rt::RoomSettings {
            goal: m
                .goal_override
                .clone()
                .unwrap_or_else(|| tournament.row.racetime_goal.clone()),
            invitational,
            unlisted: p.unlisted,
            info_user,
            start_delay_seconds: p.start_delay_seconds,
            time_limit_hours: p.time_limit_hours,
            streaming_required: Some(p.streaming_required),
            auto_start: Some(p.auto_start),
            allow_comments: Some(p.allow_comments),
            hide_comments: p.hide_comments,
            allow_prerace_chat: Some(p.allow_prerace_chat),
            allow_midrace_chat: Some(p.allow_midrace_chat),
            allow_non_entrant_chat: Some(p.allow_non_entrant_chat),
            chat_message_delay_seconds: p.chat_message_delay_seconds,
            team_race,
            custom_goal: String::new(),
            info_bot: String::new(),
            ranked: None,
        }
    }

    async fn drive(
        &self,
        tournament: &Tournament,
        m: &r#match::Model,
        binding: match_room::Model,
    ) -> Result<match_room::Model, OpenError> {
        let players = self.resolve(tournament, matches::players(m)).await?;
        let names: Vec<String> = players
            .iter()
            .map(|p| p.player.display_name.clone())
            .collect();
        let racetime = self.peers.get("racetime").map_err(peer("racetime"))?;
        let request = rt::OpenRoomRequest {
            idempotency_key: binding.idempotency_key.clone(),
            category: tournament.row.racetime_category.clone(),
            settings: Some(Self::settings(tournament, m, &names)),
        };
        let room = racetime
            .call(|| {
                let mut client = RaceRoomsClient::new(racetime.channel());
                let request = request.clone();
                async move { client.open_room(request).await }
            })
            .await
            .map_err(peer("racetime"))?
            .into_inner();
        let linked: Vec<String> = players
            .iter()
            .filter_map(|p| p.racetime_user_id.clone())
            .collect();
        let bind = rt::BindTournamentRequest {
            room: room.name.clone(),
            tournament: tournament.row.slug.clone(),
            episode_id: m.external_id.clone(),
            player_racetime_ids: linked.clone(),
            gatekeeper_racetime_ids: self.gatekeepers(tournament).await?,
        };
        racetime
            .call(|| {
                let mut client = RaceRoomsClient::new(racetime.channel());
                let request = bind.clone();
                async move { client.bind_tournament(request).await }
            })
            .await
            .map_err(peer("racetime"))?;
        for user in &linked {
            let invite = rt::RoomUserRequest {
                room: room.name.clone(),
                user_id: user.clone(),
            };
            let mut client = RaceRoomsClient::new(racetime.channel());
            if let Err(status) = client.invite_user(invite).await {
                tracing::warn!(room = %room.name, %user, %status, "could not invite a player");
            }
        }
        // Open races get no welcome or seed button (spec §1.5.2: none for dailies).
        let welcome = if tournament.open_race.is_some() {
            Vec::new()
        } else {
            vec![
            ("welcome", WELCOME, false, Vec::new()),
            (
                "controls",
                "Tournament Controls:",
                true,
                vec![rt::ActionButton {
                    label: "Roll Tournament Seed".into(),
                    message: "!tournamentrace".into(),
                    help: "Create a seed for this specific tournament race.  This should only be done shortly before the race starts.".into(),
                    ..Default::default()
                }],
            ),
        ]
        };
        for (suffix, text, pinned, actions) in welcome {
            let message = rt::SendMessageRequest {
                pinned,
                actions,
                ..notify::message(
                    format!("{}:{suffix}", binding.idempotency_key),
                    &room.name,
                    text,
                )
            };
            if let Err(status) = notify::say(&self.peers, message).await {
                tracing::warn!(room = %room.name, %status, "could not post the tournament welcome");
            }
        }

        // The binding and the event, together.
        let txn = self.db.begin().await?;
        let mut active = binding.clone().into_active_model();
        active.state = Set(RoomState::Open);
        active.room = Set(Some(room.name.clone()));
        active.room_url = Set(Some(room.url.clone()));
        active.invited = Set(serde_json::to_string(&linked).unwrap_or_else(|_| "[]".into()));
        active.error = Set(None);
        active.opened_at = Set(Some(binding.opened_at.unwrap_or_else(Utc::now)));
        active.updated_at = Set(Utc::now());
        let updated = active.update(&txn).await?;
        let discord_ids: Vec<String> = players
            .iter()
            .filter_map(|p| p.player.discord_user_id.map(|id| id.to_string()))
            .collect();
        self.outbox
            .write(
                &txn,
                Event::of(&ev::TournamentRoomOpened {
                    tournament: tournament.row.slug.clone(),
                    episode_id: m.external_id.clone(),
                    room_url: room.url.clone(),
                    discord_user_ids: discord_ids,
                }),
            )
            .await
            .map_err(|e| OpenError::Events(e.to_string()))?;
        txn.commit().await?;
        self.outbox.wake();
        tracing::info!(tournament = %tournament.row.slug, r#match = m.id, room = %room.name, "match room opened");
        // The DMs and the announcement follow from the event (OnRoomOpened): retried until
        // the gateway takes them, even across a restart.
        Ok(updated)
    }

    /// What follows a room's opening: each player's DM (a refused one reported to the audit
    /// channel), the audit note about players who could not be invited, and the open-race
    /// announcement.
    ///
    /// Errors: the gateway or Identity is unavailable (the caller retries; the keys make the
    /// sends that got through no-ops).
    pub async fn room_opened(
        &self,
        tournament: &Tournament,
        m: &r#match::Model,
        binding: &match_room::Model,
    ) -> Result<(), OpenError> {
        let url = binding.room_url.clone().unwrap_or_default();
        let players = self.resolve(tournament, matches::players(m)).await?;
        let names: Vec<String> = players
            .iter()
            .map(|p| p.player.display_name.clone())
            .collect();
        // An open race is announced, not DMed (spec §1.5.2).
        if tournament.open_race.is_none() {
            self.notify_players(tournament, m, binding, &players, &names, &url)
                .await?;
        }
        self.announce(tournament, m, binding, &url).await
    }

    async fn notify_players(
        &self,
        tournament: &Tournament,
        m: &r#match::Model,
        binding: &match_room::Model,
        players: &[Resolved],
        names: &[String],
        url: &str,
    ) -> Result<(), OpenError> {
        let versus = speedgaming::versus(names);
        let mut unlinked = Vec::new();
        for p in players {
            if p.racetime_user_id.is_none() {
                unlinked.push(p.player.display_name.clone());
            }
            let Some(discord_id) = p.player.discord_user_id else {
                continue;
            };
            let embed = discord::Embed {
                title: format!("RT.gg Room Opened - {versus}"),
                description: format!(
                    "Greetings!  A RaceTime.gg race room has been automatically opened for you.\nYou may access it at {url}\n\nEnjoy!"
                ),
                url: url.to_owned(),
                ..Default::default()
            };
            let key = format!("{}:dm:{discord_id}", binding.idempotency_key);
            if let Err(status) = notify::dm(&self.peers, key, discord_id, embed).await {
                if notify::is_outage(&status) {
                    return Err(peer("gateway")(status));
                }
                tracing::info!(%status, player = %p.player.display_name, "room DM refused");
                self.audit(
                    tournament,
                    &format!("{}:dm-failed:{discord_id}", binding.idempotency_key),
                    &format!(
                        "@here could not send DM to {} (room {url}).",
                        p.player.display_name
                    ),
                )
                .await;
            }
        }
        if !unlinked.is_empty() && !m.link_alerted {
            self.audit(
                tournament,
                &format!("{}:unlinked", binding.idempotency_key),
                &format!(
                    "Match `{}` ({versus}): no linked racetime.gg account for {}; they were not invited and must request to join {url}.",
                    m.external_id,
                    unlinked.join(", ")
                ),
            )
            .await;
        }
        Ok(())
    }

    /// Open races (dailies, qualifiers — spec §1.5.5): a tournament with an announcement channel
    /// posts each room there, once: `{prefix}{series} - {title} - <t:start:f> (<t:start:R>)[ on
    /// channels][ - {seed label} <t:seed:R>] - {room url}` (the series is the tournament's name
    /// unless it is an open race series), and an open race series with a webhook also posts it
    /// there, once (a crash between the post and its record may repeat it: Discord webhooks
    /// take no idempotency key).
    async fn announce(
        &self,
        tournament: &Tournament,
        m: &r#match::Model,
        binding: &match_room::Model,
        url: &str,
    ) -> Result<(), OpenError> {
        let open = tournament.open_race.clone().unwrap_or_else(|| OpenRace {
            series: tournament.row.name.clone(),
            ..Default::default()
        });
        let text = speedgaming::open_race_announcement(
            &open,
            &m.title,
            m.scheduled_at,
            &matches::channels(m),
            url,
        );
        if let Some(channel) = tournament.row.announce_channel_id {
            let key = format!("{}:announce", binding.idempotency_key);
            let channel = platform::db::u64_from_db(channel);
            match notify::post(&self.peers, key, channel, &text, Vec::new()).await {
                Err(status) if notify::is_outage(&status) => {
                    return Err(peer("gateway")(status));
                }
                Err(status) => tracing::warn!(%status, "could not announce an open race"),
                Ok(()) => {}
            }
        }
        if let Some(webhook) = open.webhook_url.as_deref()
            && !binding.webhook_posted
        {
            self.post_webhook(webhook, &text).await?;
            let mut active = binding.clone().into_active_model();
            active.webhook_posted = Set(true);
            active.update(&self.db).await?;
        }
        Ok(())
    }

    /// `POST {webhook}` with `{"content", "username": "SahasrahBot"}` (Discord's Execute
    /// Webhook). A refusal (4xx: a deleted webhook) is logged and not retried; an outage is.
    async fn post_webhook(&self, webhook: &str, text: &str) -> Result<(), OpenError> {
        let body = serde_json::json!({"content": text, "username": "SahasrahBot"}).to_string();
        let outage = |what: String| OpenError::Peer {
            peer: "webhook",
            status: Status::unavailable(what),
        };
        let response = self
            .http
            .post(webhook)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            // The URL holds the webhook's token: never log it.
            .map_err(|e| {
                outage(format!(
                    "the announcement webhook failed: {}",
                    e.without_url()
                ))
            })?;
        let status = response.status();
        if status.is_server_error() || status.as_u16() == 429 {
            return Err(outage(format!(
                "the announcement webhook answered {status}"
            )));
        }
        if !status.is_success() {
            tracing::warn!(%status, "the announcement webhook refused the post; not retried");
        }
        Ok(())
    }

    /// A match changed after its room opened (rescheduled, retitled, players changed): the room
    /// and the audit channel are told the new start, once per change.
    pub async fn rescheduled(&self, tournament: &Tournament, m: &r#match::Model) {
        let Ok(Some(binding)) = self.latest(m.id, 1).await else {
            return;
        };
        let (RoomState::Open, Some(room)) = (binding.state, binding.room.as_deref()) else {
            return;
        };
        let key = format!(
            "{}:changed:{}",
            binding.idempotency_key,
            m.content_hash.get(..12).unwrap_or_default()
        );
        let text = format!(
            "This match was changed on the schedule: {} now starts at {}.",
            m.title,
            m.scheduled_at.format("%Y-%m-%d %H:%M UTC")
        );
        if let Err(status) =
            notify::say(&self.peers, notify::message(key.clone(), room, &text)).await
        {
            tracing::warn!(%room, %status, "could not tell the room about a schedule change");
        }
        self.audit(
            tournament,
            &key,
            &format!(
                "Match `{}`: {text} Room: {}",
                m.external_id,
                binding.room_url.unwrap_or_default()
            ),
        )
        .await;
    }

    /// Posts `text` to the tournament's audit channel once per `key` (nothing without one).
    pub async fn audit(&self, tournament: &Tournament, key: &str, text: &str) {
        let Some(channel) = tournament.row.audit_channel_id else {
            return;
        };
        let key = format!("tournament-audit:{key}");
        let channel = platform::db::u64_from_db(channel);
        if let Err(status) = notify::post(&self.peers, key, channel, text, Vec::new()).await {
            tracing::warn!(%status, "could not post to the audit channel");
        }
    }
}

/// Sends what follows a room's opening (`tournament.room.opened`, written with the binding's
/// `open` state): see [`Opener::room_opened`].
#[derive(Clone, Debug)]
pub struct OnRoomOpened(pub Opener);

impl platform::events::Subscriber for OnRoomOpened {
    type Event = ev::TournamentRoomOpened;

    fn name(&self) -> &str {
        "tournament-room-opened"
    }

    async fn on(
        &self,
        _txn: &sea_orm::DatabaseTransaction,
        event: ev::TournamentRoomOpened,
        _envelope: &ev::Envelope,
    ) -> Result<(), platform::events::HandlerError> {
        use platform::events::HandlerError;
        let opener = &self.0;
        let Ok(tournament) = registry::get(&opener.db, &event.tournament).await else {
            return Ok(());
        };
        let Some(m) =
            matches::by_external(&opener.db, tournament.row.id, &event.episode_id).await?
        else {
            return Ok(());
        };
        let Some(binding) = match_room::Entity::find()
            .filter(match_room::Column::MatchId.eq(m.id))
            .filter(match_room::Column::RoomUrl.eq(event.room_url.clone()))
            .one(&opener.db)
            .await?
        else {
            return Ok(());
        };
        match opener.room_opened(&tournament, &m, &binding).await {
            Ok(()) => Ok(()),
            Err(OpenError::Db(e)) => Err(e.into()),
            Err(error) => Err(HandlerError::Transient(anyhow::anyhow!("{error}"))),
        }
    }
}
