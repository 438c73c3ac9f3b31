//! `racetime.v1.RaceRooms`: the gRPC surface other services use to open and drive rooms.
//! racetime.gg's refusals come back as typed statuses carrying the server's own message.

use std::sync::Arc;

use proto::racetime::v1 as pb;
use proto::racetime::v1::race_rooms_server::RaceRooms;
use racetime_client::action::OutgoingMessage;
use racetime_client::{Action, ActionButton, CallError, RaceData, RaceSettings};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use tokio::sync::oneshot;
use tonic::{Request, Response, Status};

use crate::bot::{Bot, RoomError};
use crate::db::room;
use crate::forward::Forwarded;
use crate::open::OpenError;
use crate::room::entrants;
use crate::state::{RoomState, TournamentBinding};

/// The RaceRooms service.
#[derive(Debug, Clone)]
pub struct RaceRoomsApi {
    pub(crate) bot: Arc<Bot>,
    pub(crate) forwarder: crate::forward::Forwarder,
}

impl From<RoomError> for Status {
    fn from(error: RoomError) -> Self {
        match error {
            RoomError::NotFound(_) | RoomError::UnknownCategory(_) => {
                Status::not_found(error.to_string())
            }
            RoomError::Call(CallError::Server(errors)) => {
                Status::failed_precondition(errors.join("; "))
            }
            RoomError::Call(CallError::Invalid(message)) => Status::invalid_argument(message),
            RoomError::Call(other) => Status::unavailable(other.to_string()),
            RoomError::Api(api) if api.is_transient() => Status::unavailable(api.to_string()),
            RoomError::Api(api) => Status::failed_precondition(api.to_string()),
            RoomError::Db(db) => Status::internal(format!("database: {db}")),
        }
    }
}

impl From<OpenError> for Status {
    fn from(error: OpenError) -> Self {
        match error {
            OpenError::Invalid(m) => Status::invalid_argument(m),
            OpenError::UnknownCategory(_) => Status::not_found(error.to_string()),
            OpenError::Refused(_) => Status::failed_precondition(error.to_string()),
            OpenError::Unconfirmed(m) => Status::unavailable(m),
            OpenError::Db(db) => Status::internal(format!("database: {db}")),
        }
    }
}

fn room_name(room: &str) -> Result<String, Status> {
    let room = room.trim().trim_start_matches('/');
    match room.split_once('/') {
        Some((c, s)) if !c.is_empty() && !s.is_empty() && !s.contains('/') => Ok(room.to_string()),
        _ => Err(Status::invalid_argument(format!(
            "room must be \"category/slug\", got `{room}`"
        ))),
    }
}

/// A Room message from race data.
pub(crate) fn room_message(bot: &Bot, race: &RaceData, seed_rolled: bool) -> pb::Room {
    pb::Room {
        category: race.category().to_string(),
        name: race.name.clone(),
        url: bot.http.url(&race.url).to_string(),
        status: race.status().as_str().to_string(),
        info_bot: race.info_bot.clone().unwrap_or_default(),
        info_user: race.info_user.clone().unwrap_or_default(),
        entrants: entrants(race)
            .into_iter()
            .map(|e| pb::Entrant {
                user_id: e.user_id,
                name: e.name,
                twitch_name: e.twitch_name,
                status: e.status,
                place: e.place,
                finish_time_ms: e.finish_time_ms,
                team: e.team,
            })
            .collect(),
        started_at: race.started_at.map(platform::grpc::timestamp),
        version: race.version,
        goal: race.goal.name.clone(),
        seed_rolled,
        unlisted: race.unlisted,
        opened_by_bot: race.opened_by_bot.is_some(),
    }
}

impl RaceRoomsApi {
    async fn snapshot(&self, name: &str) -> Result<pb::Room, Status> {
        let stored = self
            .bot
            .load_room(name)
            .await
            .map_err(|e| Status::internal(e.to_string()))?;
        let state: RoomState = stored
            .as_ref()
            .and_then(|r| serde_json::from_str(&r.state).ok())
            .unwrap_or_default();
        if let Some((socket, _)) = self.bot.local(name)
            && let Some(race) = socket.latest()
        {
            return Ok(room_message(&self.bot, &race, state.seed_rolled));
        }
        self.bot.category_of(name)?;
        match self.bot.http.race_data(name).await {
            Ok(race) => Ok(room_message(&self.bot, &race, state.seed_rolled)),
            Err(racetime_client::ApiError::NotFound(_)) => Err(Status::not_found(format!(
                "room `{name}` does not exist on racetime.gg"
            ))),
            Err(error) => Err(Status::unavailable(error.to_string())),
        }
    }

    /// Hands `input` to the room's actor: here, after taking the room if nobody holds it, or
    /// on the replica that holds it.
    async fn to_actor(&self, room: &str, input: Forwarded) -> Result<(), Status> {
        let name = room_name(room)?;
        if self.bot.local(&name).is_none() {
            let _ = self.bot.join(&name).await?;
        }
        let Some((_, inputs)) = self.bot.local(&name) else {
            return match self.forwarder.send(&name, input).await {
                Ok(true) => Ok(()),
                _ => Err(Status::unavailable(format!(
                    "room `{name}` is handled by another instance of this service, which did not answer; retry later"
                ))),
            };
        };
        let (tx, rx) = oneshot::channel();
        inputs
            .send(input.into_input(tx))
            .map_err(|_| Status::unavailable("the room handler stopped"))?;
        rx.await
            .map_err(|_| Status::unavailable("the room handler stopped"))
    }
}

#[tonic::async_trait]
impl RaceRooms for RaceRoomsApi {
    async fn open_room(
        &self,
        request: Request<pb::OpenRoomRequest>,
    ) -> Result<Response<pb::Room>, Status> {
        let request = request.into_inner();
        let s = request.settings.unwrap_or_default();
        let defaults = RaceSettings::default();
        let settings = RaceSettings {
            goal: s.goal,
            custom_goal: s.custom_goal,
            team_race: s.team_race,
            invitational: s.invitational,
            unlisted: s.unlisted,
            ranked: s.ranked.unwrap_or(defaults.ranked),
            info_user: s.info_user,
            info_bot: s.info_bot,
            start_delay: if s.start_delay_seconds == 0 {
                defaults.start_delay
            } else {
                s.start_delay_seconds
            },
            time_limit: if s.time_limit_hours == 0 {
                defaults.time_limit
            } else {
                s.time_limit_hours
            },
            streaming_required: s.streaming_required.unwrap_or(defaults.streaming_required),
            auto_start: s.auto_start.unwrap_or(defaults.auto_start),
            allow_comments: s.allow_comments.unwrap_or(defaults.allow_comments),
            hide_comments: s.hide_comments,
            allow_prerace_chat: s.allow_prerace_chat.unwrap_or(true),
            allow_midrace_chat: s.allow_midrace_chat.unwrap_or(true),
            allow_non_entrant_chat: s.allow_non_entrant_chat.unwrap_or(true),
            chat_message_delay: s.chat_message_delay_seconds,
            ..defaults
        };
        let opened = Bot::open(
            &self.bot,
            &request.category,
            settings,
            &request.idempotency_key,
            RoomState::default(),
        )
        .await?;
        Ok(Response::new(self.snapshot(&opened.name).await?))
    }

    async fn invite_user(
        &self,
        request: Request<pb::RoomUserRequest>,
    ) -> Result<Response<pb::Empty>, Status> {
        let r = request.into_inner();
        self.bot
            .room_call(&room_name(&r.room)?, Action::Invite { user: r.user_id })
            .await?;
        Ok(Response::new(pb::Empty {}))
    }

    async fn accept_request(
        &self,
        request: Request<pb::RoomUserRequest>,
    ) -> Result<Response<pb::Empty>, Status> {
        let r = request.into_inner();
        self.bot
            .room_call(
                &room_name(&r.room)?,
                Action::AcceptRequest { user: r.user_id },
            )
            .await?;
        Ok(Response::new(pb::Empty {}))
    }

    async fn add_monitor(
        &self,
        request: Request<pb::RoomUserRequest>,
    ) -> Result<Response<pb::Empty>, Status> {
        let r = request.into_inner();
        self.bot
            .room_call(&room_name(&r.room)?, Action::AddMonitor { user: r.user_id })
            .await?;
        Ok(Response::new(pb::Empty {}))
    }

    async fn send_message(
        &self,
        request: Request<pb::SendMessageRequest>,
    ) -> Result<Response<pb::Empty>, Status> {
        let r = request.into_inner();
        let name = room_name(&r.room)?;
        if r.idempotency_key.trim().is_empty() {
            return Err(Status::invalid_argument(
                "idempotency_key is required (it becomes the message guid)",
            ));
        }
        let message = OutgoingMessage {
            message: r.text,
            guid: crate::room::guid(&name, &format!("api:{}", r.idempotency_key), 0),
            pinned: r.pinned,
            actions: r
                .actions
                .into_iter()
                .map(|a| {
                    let some = |s: String| (!s.is_empty()).then_some(s);
                    (
                        a.label,
                        ActionButton {
                            message: some(a.message),
                            url: some(a.url),
                            help: some(a.help),
                            submit: some(a.submit),
                            ..ActionButton::default()
                        },
                    )
                })
                .collect(),
            direct_to: (!r.direct_to.is_empty()).then_some(r.direct_to),
        };
        self.bot.room_call(&name, Action::Message(message)).await?;
        Ok(Response::new(pb::Empty {}))
    }

    async fn set_info(
        &self,
        request: Request<pb::SetInfoRequest>,
    ) -> Result<Response<pb::Empty>, Status> {
        let r = request.into_inner();
        if r.info_bot.trim().is_empty() {
            return Err(Status::invalid_argument(
                "info_bot must not be empty: racetime.gg ignores an empty setinfo, so info cannot be cleared (use e.g. \"New Race\")",
            ));
        }
        if r.info_bot.chars().count() > 1000 {
            return Err(Status::invalid_argument(
                "info_bot: Ensure this value has at most 1000 characters.",
            ));
        }
        if r.seed_rolled {
            self.to_actor(
                &r.room,
                Forwarded::SeedRolled {
                    info_bot: r.info_bot,
                },
            )
            .await?;
            return Ok(Response::new(pb::Empty {}));
        }
        self.bot
            .room_call(
                &room_name(&r.room)?,
                Action::SetInfo {
                    info_bot: Some(r.info_bot),
                    info_user: None,
                },
            )
            .await?;
        Ok(Response::new(pb::Empty {}))
    }

    async fn get_room(
        &self,
        request: Request<pb::GetRoomRequest>,
    ) -> Result<Response<pb::Room>, Status> {
        let name = room_name(&request.into_inner().room)?;
        Ok(Response::new(self.snapshot(&name).await?))
    }

    async fn list_rooms(
        &self,
        request: Request<pb::ListRoomsRequest>,
    ) -> Result<Response<pb::ListRoomsReply>, Status> {
        let r = request.into_inner();
        let mut query = room::Entity::find();
        if !r.category.is_empty() {
            query = query.filter(room::Column::Category.eq(r.category));
        }
        if r.active_only {
            query = query.filter(room::Column::Status.is_not_in([
                "finished",
                "cancelled",
                "partitioned",
            ]));
        }
        let rows = query
            .all(&self.bot.db)
            .await
            .map_err(|e| Status::internal(e.to_string()))?;
        let rooms = rows
            .into_iter()
            .map(|row| {
                let state: RoomState = serde_json::from_str(&row.state).unwrap_or_default();
                let live = self.bot.local(&row.name).and_then(|(s, _)| s.latest());
                let race: RaceData = live
                    .map(|r| (*r).clone())
                    .or_else(|| serde_json::from_str(&row.data).ok())
                    .unwrap_or_default();
                let mut message = room_message(&self.bot, &race, state.seed_rolled);
                message.name = row.name.clone();
                message.category = row.category.clone();
                if message.status.is_empty() {
                    message.status = row.status.to_string();
                }
                message
            })
            .collect();
        Ok(Response::new(pb::ListRoomsReply { rooms }))
    }

    async fn inject_command(
        &self,
        request: Request<pb::InjectCommandRequest>,
    ) -> Result<Response<pb::Empty>, Status> {
        let r = request.into_inner();
        if crate::commands::parse(&r.command, &self.bot.settings.command_prefix).is_none() {
            return Err(Status::invalid_argument(format!(
                "`{}` is not a command (it must start with {})",
                r.command, self.bot.settings.command_prefix
            )));
        }
        let requested_by = if r.requested_by.is_empty() {
            "api".to_string()
        } else {
            r.requested_by
        };
        self.to_actor(
            &r.room,
            Forwarded::Inject {
                command: r.command,
                requested_by,
            },
        )
        .await?;
        Ok(Response::new(pb::Empty {}))
    }

    async fn bind_tournament(
        &self,
        request: Request<pb::BindTournamentRequest>,
    ) -> Result<Response<pb::Empty>, Status> {
        let r = request.into_inner();
        let binding = TournamentBinding {
            tournament: r.tournament,
            episode_id: r.episode_id,
            players: r.player_racetime_ids,
            gatekeepers: r.gatekeeper_racetime_ids,
        };
        self.to_actor(&r.room, Forwarded::Bind { binding }).await?;
        Ok(Response::new(pb::Empty {}))
    }

    async fn schedule_spoiler_race(
        &self,
        request: Request<pb::ScheduleSpoilerRaceRequest>,
    ) -> Result<Response<pb::Empty>, Status> {
        let r = request.into_inner();
        if url::Url::parse(&r.spoiler_url).is_err() {
            return Err(Status::invalid_argument(
                "spoiler_url must be an absolute URL",
            ));
        }
        self.to_actor(
            &r.room,
            Forwarded::ScheduleSpoiler {
                url: r.spoiler_url,
                study_time: r.study_time_seconds,
            },
        )
        .await?;
        Ok(Response::new(pb::Empty {}))
    }

    async fn get_team(
        &self,
        request: Request<pb::GetTeamRequest>,
    ) -> Result<Response<pb::Team>, Status> {
        let slug = request.into_inner().slug;
        if slug.is_empty()
            || !slug
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(Status::invalid_argument(
                "slug: a racetime.gg team slug such as `sg-volunteers`",
            ));
        }
        let team = match self.bot.http.team_data(&slug).await {
            Ok(team) => team,
            Err(racetime_client::ApiError::NotFound(_)) => {
                return Err(Status::not_found(format!(
                    "racetime.gg has no team `{slug}`"
                )));
            }
            Err(error) => return Err(Status::unavailable(error.to_string())),
        };
        let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
        Ok(Response::new(pb::Team {
            slug: text(&team["slug"]),
            name: text(&team["name"]),
            members: team["members"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|m| pb::TeamMember {
                    user_id: text(&m["id"]),
                    name: text(&m["name"]),
                    owner: m["owner"].as_bool().unwrap_or(false),
                })
                .collect(),
        }))
    }

    async fn count_races(
        &self,
        request: Request<pb::CountRacesRequest>,
    ) -> Result<Response<pb::CountRacesReply>, Status> {
        let r = request.into_inner();
        if r.user_id.is_empty() || !r.user_id.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(Status::invalid_argument("user_id: a racetime.gg user id"));
        }
        let since = platform::grpc::datetime(r.since.as_ref()).unwrap_or_default();
        let (mut count, mut page) = (0u32, 0u32);
        // At most 50 pages of 100: 5,000 races back.
        'pages: while page < 50 {
            page += 1;
            let data = match self.bot.http.user_races(&r.user_id, page, 100).await {
                Ok(data) => data,
                Err(racetime_client::ApiError::NotFound(_)) if page == 1 => {
                    return Err(Status::not_found(format!(
                        "racetime.gg has no user `{}`",
                        r.user_id
                    )));
                }
                Err(error) => return Err(Status::unavailable(error.to_string())),
            };
            let races = data["races"].as_array().cloned().unwrap_or_default();
            for race in &races {
                let opened = race["opened_at"]
                    .as_str()
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                    .map(|t| t.with_timezone(&chrono::Utc));
                // Newest first: once a race is older than `since`, the rest are too.
                if opened.is_some_and(|t| t < since) {
                    break 'pages;
                }
                let name = race["name"].as_str().unwrap_or_default();
                let category = race["category"]["slug"]
                    .as_str()
                    .unwrap_or_else(|| name.split('/').next().unwrap_or_default());
                if race["status"]["value"] == "finished"
                    && (r.categories.is_empty() || r.categories.iter().any(|c| c == category))
                {
                    count += 1;
                    if r.minimum > 0 && count >= r.minimum {
                        break 'pages;
                    }
                }
            }
            let pages = data["num_pages"].as_u64().unwrap_or(1);
            if races.is_empty() || u64::from(page) >= pages {
                break;
            }
        }
        Ok(Response::new(pb::CountRacesReply {
            count,
            pages_read: page,
        }))
    }
}
