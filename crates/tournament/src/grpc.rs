//! `tournament.v1.Tournaments` (for racetime and gateway) and `tournament.v1.TournamentAdmin`
//! (for organizers, through api and gateway): the registry, matches and their rooms. Errors:
//! NOT_FOUND for unknown tournaments and matches, INVALID_ARGUMENT naming a bad field,
//! PERMISSION_DENIED when the actor may not change the tournament.

use chrono::{Duration, Utc};
use platform::grpc::timestamp;
use proto::tournament::v1 as pb;
use proto::tournament::v1::tournament_admin_server::TournamentAdmin;
use proto::tournament::v1::tournaments_server::Tournaments;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use tonic::{Request, Response, Status};

use crate::config::{OpenRace, RoomProfile, SeedRoller};
use crate::db::{Role, ScheduleSource, r#match, match_room};
use crate::gatekeeping::Gatekeeper;
use crate::matches::{self, NewMatch, Player};
use crate::opener::Opener;
use crate::registry::{self, Actor, RegistryError, Settings, Tournament};
use crate::seeds::OnTournamentRace;
use crate::submissions;

/// The gRPC front.
#[derive(Clone, Debug)]
pub struct Api {
    db: DatabaseConnection,
    opener: Opener,
    seeds: OnTournamentRace,
    gatekeeper: Gatekeeper,
    speedgaming: Option<crate::speedgaming::SpeedGaming>,
}

impl Api {
    /// The services over `db`, opening rooms with `opener`, rolling tournament seeds with
    /// `seeds` and answering who helps with `gatekeeper`.
    pub fn new(
        db: DatabaseConnection,
        opener: Opener,
        seeds: OnTournamentRace,
        gatekeeper: Gatekeeper,
    ) -> Self {
        Self {
            db,
            opener,
            seeds,
            gatekeeper,
            speedgaming: None,
        }
    }

    /// Dry runs also read the SpeedGaming schedule beyond the imported week.
    pub fn with_speedgaming(mut self, sg: crate::speedgaming::SpeedGaming) -> Self {
        self.speedgaming = Some(sg);
        self
    }
}

fn status(error: RegistryError) -> Status {
    match error {
        RegistryError::Forbidden => Status::permission_denied(error.to_string()),
        RegistryError::NotFound(_) => Status::not_found(error.to_string()),
        RegistryError::Invalid(_) => Status::invalid_argument(error.to_string()),
        RegistryError::Db(db) => db_status(db),
    }
}

fn db_status(error: sea_orm::DbErr) -> Status {
    tracing::error!(%error, "tournament: database error");
    Status::internal("a database error occurred; try again")
}

fn actor(actor: Option<pb::Actor>) -> Result<Actor, Status> {
    match actor {
        Some(a) if a.operator => Ok(Actor::Operator),
        Some(a) if a.user_id > 0 => Ok(Actor::User(i64::try_from(a.user_id).unwrap_or(i64::MAX))),
        _ => Err(Status::permission_denied("the request names no actor")),
    }
}

fn snowflake(v: Option<i64>) -> u64 {
    v.map_or(0, platform::db::u64_from_db)
}

fn nonzero(v: u64) -> Option<u64> {
    (v != 0).then_some(v)
}

/// A tournament as the proto has it.
pub fn config_message(t: &Tournament) -> pb::TournamentConfig {
    let row = &t.row;
    pb::TournamentConfig {
        slug: row.slug.clone(),
        name: row.name.clone(),
        active: row.active,
        starts_at: row.starts_at.map(timestamp),
        ends_at: row.ends_at.map(timestamp),
        schedule_source: match row.schedule_source {
            ScheduleSource::Speedgaming => "speedgaming",
            ScheduleSource::Internal => "internal",
        }
        .into(),
        speedgaming_event: row.speedgaming_event.clone().unwrap_or_default(),
        racetime_category: row.racetime_category.clone(),
        racetime_goal: row.racetime_goal.clone(),
        room_profile_json: row.room_profile.clone(),
        room_open_minutes_before: u32::try_from(row.room_open_minutes_before).unwrap_or(0),
        stream_delay_minutes: u32::try_from(row.stream_delay_minutes).unwrap_or(0),
        require_racetime_link: row.require_racetime_link,
        seed_roller_json: row.seed_roller.clone(),
        guild_id: snowflake(row.guild_id),
        audit_channel_id: snowflake(row.audit_channel_id),
        commentary_channel_id: snowflake(row.commentary_channel_id),
        announce_channel_id: snowflake(row.announce_channel_id),
        helper_role_ids: t.helper_role_ids.clone(),
        time_zone: row.time_zone.clone(),
        helper_racetime_teams: t.helper_racetime_teams.clone(),
        open_race_json: row.open_race.clone().unwrap_or_default(),
        audit_mention: row.audit_mention.clone().unwrap_or_default(),
        scheduled_events: row.scheduled_events,
        scheduling_needs_channel_id: snowflake(row.scheduling_needs_channel_id),
        scheduling_needs_tracker: row.scheduling_needs_tracker,
        scheduling_needs_language: row.scheduling_needs_language.clone().unwrap_or_default(),
        settings_form_json: row.settings_form.clone().unwrap_or_default(),
    }
}

/// Settings from a proto config.
///
/// Errors: INVALID_ARGUMENT naming the bad field.
pub(crate) fn settings(c: pb::TournamentConfig) -> Result<Settings, Status> {
    let bad = |m: String| Status::invalid_argument(m);
    let profile: RoomProfile = if c.room_profile_json.trim().is_empty() {
        RoomProfile::default()
    } else {
        serde_json::from_str(&c.room_profile_json)
            .map_err(|e| bad(format!("room_profile_json: {e}")))?
    };
    let roller: SeedRoller = if c.seed_roller_json.trim().is_empty() {
        SeedRoller::None
    } else {
        serde_json::from_str(&c.seed_roller_json)
            .map_err(|e| bad(format!("seed_roller_json: {e}")))?
    };
    let open_race: Option<OpenRace> = if c.open_race_json.trim().is_empty() {
        None
    } else {
        Some(
            serde_json::from_str(&c.open_race_json)
                .map_err(|e| bad(format!("open_race_json: {e}")))?,
        )
    };
    let schedule_source = match c.schedule_source.trim() {
        "speedgaming" | "" => ScheduleSource::Speedgaming,
        "internal" => ScheduleSource::Internal,
        other => {
            return Err(bad(format!(
                "schedule_source: `{other}` is not `speedgaming` or `internal`"
            )));
        }
    };
    Ok(Settings {
        slug: c.slug.trim().to_owned(),
        name: c.name,
        active: c.active,
        starts_at: platform::grpc::datetime(c.starts_at.as_ref()),
        ends_at: platform::grpc::datetime(c.ends_at.as_ref()),
        schedule_source,
        speedgaming_event: Some(c.speedgaming_event).filter(|e| !e.is_empty()),
        racetime_category: c.racetime_category,
        racetime_goal: c.racetime_goal,
        profile,
        room_open_minutes_before: if c.room_open_minutes_before == 0 {
            60
        } else {
            c.room_open_minutes_before
        },
        stream_delay_minutes: c.stream_delay_minutes,
        require_racetime_link: c.require_racetime_link,
        roller,
        guild_id: nonzero(c.guild_id),
        audit_channel_id: nonzero(c.audit_channel_id),
        commentary_channel_id: nonzero(c.commentary_channel_id),
        announce_channel_id: nonzero(c.announce_channel_id),
        helper_role_ids: c.helper_role_ids,
        open_race,
        helper_racetime_teams: c
            .helper_racetime_teams
            .iter()
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
            .collect(),
        time_zone: if c.time_zone.trim().is_empty() {
            "UTC".into()
        } else {
            c.time_zone.trim().to_owned()
        },
        audit_mention: Some(c.audit_mention.trim().to_owned()).filter(|m| !m.is_empty()),
        scheduled_events: c.scheduled_events,
        scheduling_needs_channel_id: nonzero(c.scheduling_needs_channel_id),
        scheduling_needs_tracker: c.scheduling_needs_tracker,
        scheduling_needs_language: Some(c.scheduling_needs_language.trim().to_owned())
            .filter(|l| !l.is_empty()),
        settings_form: if c.settings_form_json.trim().is_empty() {
            None
        } else {
            Some(
                serde_json::from_str(&c.settings_form_json)
                    .map_err(|e| bad(format!("settings_form_json: {e}")))?,
            )
        },
    })
}

fn room_message(room: Option<match_room::Model>) -> Option<pb::MatchRoom> {
    room.map(|r| pb::MatchRoom {
        state: serde_json::to_value(r.state)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        room: r.room.unwrap_or_default(),
        room_url: r.room_url.unwrap_or_default(),
        invited_racetime_ids: serde_json::from_str(&r.invited).unwrap_or_default(),
        opened_at: r.opened_at.map(timestamp),
        generation: u32::try_from(r.generation).unwrap_or(0),
        error: r.error.unwrap_or_default(),
        standings: r
            .results
            .as_deref()
            .and_then(|json| serde_json::from_str::<Vec<crate::results::Standing>>(json).ok())
            .unwrap_or_default()
            .into_iter()
            .map(|s| pb::Standing {
                racetime_user_id: s.racetime_user_id,
                name: s.name,
                status: s.status,
                place: s.place,
                finish_time_ms: s.finish_time_ms,
            })
            .collect(),
        finished_at: r.finished_at.map(timestamp),
        seed_permalink: r.seed_permalink.unwrap_or_default(),
    })
}

async fn latest_room(
    db: &DatabaseConnection,
    match_id: i64,
) -> Result<Option<match_room::Model>, Status> {
    match_room::Entity::find()
        .filter(match_room::Column::MatchId.eq(match_id))
        .order_by_desc(match_room::Column::Generation)
        .one(db)
        .await
        .map_err(db_status)
}

async fn match_message(
    db: &DatabaseConnection,
    slug: &str,
    m: r#match::Model,
) -> Result<pb::Match, Status> {
    let room = room_message(latest_room(db, m.id).await?);
    Ok(pb::Match {
        id: u64::try_from(m.id).unwrap_or_default(),
        tournament: slug.to_owned(),
        source: match m.source {
            ScheduleSource::Speedgaming => "speedgaming",
            ScheduleSource::Internal => "internal",
        }
        .into(),
        players: matches::players(&m)
            .into_iter()
            .map(|p| pb::MatchPlayer {
                display_name: p.display_name,
                discord_user_id: p.discord_user_id.unwrap_or(0),
                discord_tag: p.discord_tag.unwrap_or_default(),
                streaming_from: p.streaming_from,
            })
            .collect(),
        channels: matches::channels(&m),
        external_id: m.external_id,
        title: m.title,
        scheduled_at: Some(timestamp(m.scheduled_at)),
        goal_override: m.goal_override.unwrap_or_default(),
        invitational_override: m.invitational_override,
        room,
    })
}

/// Passes for the operator and the tournament's organizers.
///
/// Errors: PERMISSION_DENIED for anyone else.
async fn require_organizer(
    db: &DatabaseConnection,
    t: &Tournament,
    actor: Actor,
) -> Result<(), Status> {
    if registry::holds(db, t.row.id, actor, Role::Organizer)
        .await
        .map_err(db_status)?
    {
        Ok(())
    } else {
        Err(status(RegistryError::Forbidden))
    }
}

/// Match `id` with its tournament (`slug`, or any when empty).
async fn locate(
    db: &DatabaseConnection,
    slug: &str,
    id: u64,
) -> Result<(Tournament, r#match::Model), Status> {
    let m = r#match::Entity::find_by_id(i64::try_from(id).unwrap_or(-1))
        .one(db)
        .await
        .map_err(db_status)?
        .ok_or_else(|| Status::not_found(format!("no match {id}")))?;
    let row = crate::db::tournament::Entity::find_by_id(m.tournament_id)
        .one(db)
        .await
        .map_err(db_status)?
        .ok_or_else(|| Status::not_found(format!("no match {id}")))?;
    if !slug.trim().is_empty() && row.slug != slug.trim() {
        return Err(Status::not_found(format!(
            "no match {id} in `{}`",
            slug.trim()
        )));
    }
    Ok((Tournament::from_row(row).map_err(status)?, m))
}

#[tonic::async_trait]
impl TournamentAdmin for Api {
    async fn upsert_tournament(
        &self,
        request: Request<pb::UpsertTournamentRequest>,
    ) -> Result<Response<pb::TournamentConfig>, Status> {
        let r = request.into_inner();
        let actor = actor(r.actor)?;
        let config = r
            .config
            .ok_or_else(|| Status::invalid_argument("config is required"))?;
        let saved = registry::upsert(&self.db, actor, settings(config)?)
            .await
            .map_err(status)?;
        Ok(Response::new(config_message(&saved)))
    }

    async fn get_tournament_config(
        &self,
        request: Request<pb::GetTournamentRequest>,
    ) -> Result<Response<pb::TournamentConfig>, Status> {
        let t = registry::get(&self.db, request.get_ref().slug.trim())
            .await
            .map_err(status)?;
        Ok(Response::new(config_message(&t)))
    }

    async fn list_tournament_configs(
        &self,
        request: Request<pb::ListTournamentsRequest>,
    ) -> Result<Response<pb::ListTournamentConfigsReply>, Status> {
        let list = registry::list(&self.db, request.get_ref().active_only)
            .await
            .map_err(status)?;
        Ok(Response::new(pb::ListTournamentConfigsReply {
            tournaments: list.iter().map(config_message).collect(),
        }))
    }

    async fn grant_role(
        &self,
        request: Request<pb::GrantRoleRequest>,
    ) -> Result<Response<pb::GrantRoleReply>, Status> {
        let r = request.into_inner();
        let role = match r.role.as_str() {
            "organizer" => Role::Organizer,
            "helper" => Role::Helper,
            other => {
                return Err(Status::invalid_argument(format!(
                    "role: `{other}` is not `organizer` or `helper`"
                )));
            }
        };
        registry::grant(
            &self.db,
            actor(r.actor)?,
            r.tournament.trim(),
            role,
            (r.user_id != 0).then(|| i64::try_from(r.user_id).unwrap_or(i64::MAX)),
            nonzero(r.discord_role_id),
        )
        .await
        .map_err(status)?;
        Ok(Response::new(pb::GrantRoleReply {}))
    }

    async fn create_match(
        &self,
        request: Request<pb::CreateMatchRequest>,
    ) -> Result<Response<pb::Match>, Status> {
        let r = request.into_inner();
        let actor = actor(r.actor)?;
        let t = registry::get(&self.db, r.tournament.trim())
            .await
            .map_err(status)?;
        require_organizer(&self.db, &t, actor).await?;
        if t.row.schedule_source != ScheduleSource::Internal {
            return Err(Status::failed_precondition(format!(
                "`{}` takes its matches from SpeedGaming; create them there",
                t.row.slug
            )));
        }
        let scheduled_at = platform::grpc::datetime(r.scheduled_at.as_ref())
            .ok_or_else(|| Status::invalid_argument("scheduled_at is required"))?;
        if r.title.trim().is_empty() || r.players.is_empty() {
            return Err(Status::invalid_argument(
                "a match needs a title and players",
            ));
        }
        let new = NewMatch {
            external_id: format!("m{}", uuid::Uuid::now_v7().simple()),
            title: r.title.trim().to_owned(),
            scheduled_at,
            broadcast_at: None,
            players: r
                .players
                .into_iter()
                .map(|p| Player {
                    display_name: p.display_name,
                    discord_user_id: nonzero(p.discord_user_id),
                    discord_tag: Some(p.discord_tag).filter(|t| !t.is_empty()),
                    streaming_from: p.streaming_from,
                })
                .collect(),
            channels: Vec::new(),
            goal_override: Some(r.goal_override).filter(|g| !g.trim().is_empty()),
            invitational_override: r.invitational_override,
        };
        let (row, _) = matches::upsert(&self.db, t.row.id, ScheduleSource::Internal, &new)
            .await
            .map_err(db_status)?;
        Ok(Response::new(
            match_message(&self.db, &t.row.slug, row).await?,
        ))
    }

    async fn list_matches(
        &self,
        request: Request<pb::ListMatchesRequest>,
    ) -> Result<Response<pb::ListMatchesReply>, Status> {
        let r = request.into_inner();
        let t = registry::get(&self.db, r.tournament.trim())
            .await
            .map_err(status)?;
        let now = Utc::now();
        let from = platform::grpc::datetime(r.from.as_ref()).unwrap_or(now - Duration::days(1));
        let to = platform::grpc::datetime(r.to.as_ref()).unwrap_or(now + Duration::days(7));
        let mut out = Vec::new();
        for m in matches::between(&self.db, t.row.id, from, to)
            .await
            .map_err(db_status)?
        {
            out.push(match_message(&self.db, &t.row.slug, m).await?);
        }
        Ok(Response::new(pb::ListMatchesReply { matches: out }))
    }

    async fn get_match(
        &self,
        request: Request<pb::GetMatchRequest>,
    ) -> Result<Response<pb::Match>, Status> {
        let r = request.into_inner();
        let (t, m) = locate(&self.db, &r.tournament, r.match_id).await?;
        Ok(Response::new(
            match_message(&self.db, &t.row.slug, m).await?,
        ))
    }

    async fn dry_run(
        &self,
        request: Request<pb::DryRunRequest>,
    ) -> Result<Response<pb::DryRunReply>, Status> {
        let r = request.into_inner();
        let actor = actor(r.actor)?;
        let t = registry::get(&self.db, &r.tournament)
            .await
            .map_err(status)?;
        require_organizer(&self.db, &t, actor).await?;
        let hours = if r.hours == 0 { 24 } else { r.hours.min(336) };
        let from = platform::grpc::datetime(r.from.as_ref()).unwrap_or_else(chrono::Utc::now);
        let rehearsal = crate::dryrun::rehearse(
            &self.db,
            self.opener.peers(),
            &self.opener,
            self.speedgaming.as_ref(),
            &t,
            from,
            hours,
        )
        .await
        .map_err(|e| Status::unavailable(format!("{e:#}")))?;
        Ok(Response::new(pb::DryRunReply {
            text: rehearsal.render(&t.row.time_zone),
            steps: rehearsal
                .steps
                .into_iter()
                .map(|s| pb::DryRunStep {
                    at: Some(timestamp(s.at)),
                    what: s.what,
                })
                .collect(),
            problems: rehearsal.problems,
        }))
    }
}

#[tonic::async_trait]
impl Tournaments for Api {
    async fn list_tournaments(
        &self,
        request: Request<pb::ListTournamentsRequest>,
    ) -> Result<Response<pb::ListTournamentsReply>, Status> {
        let list = registry::list(&self.db, request.get_ref().active_only)
            .await
            .map_err(status)?;
        Ok(Response::new(pb::ListTournamentsReply {
            tournaments: list.iter().map(summary).collect(),
        }))
    }

    async fn get_tournament(
        &self,
        request: Request<pb::GetTournamentRequest>,
    ) -> Result<Response<pb::Tournament>, Status> {
        let t = registry::get(&self.db, request.get_ref().slug.trim())
            .await
            .map_err(status)?;
        Ok(Response::new(summary(&t)))
    }

    async fn open_match_room(
        &self,
        request: Request<pb::OpenMatchRoomRequest>,
    ) -> Result<Response<pb::OpenMatchRoomReply>, Status> {
        let r = request.into_inner();
        let actor = actor(r.actor)?;
        let t = registry::get(&self.db, r.tournament.trim())
            .await
            .map_err(status)?;
        require_organizer(&self.db, &t, actor).await?;
        let m = matches::by_external(&self.db, t.row.id, r.episode_id.trim())
            .await
            .map_err(db_status)?
            .ok_or_else(|| Status::not_found(format!("no match `{}`", r.episode_id)))?;
        let game = i32::try_from(r.game_number.max(1)).unwrap_or(1);
        let (room, opened) = self
            .opener
            .ensure_room(&t, &m, game)
            .await
            .map_err(|e| Status::unavailable(e.to_string()))?;
        Ok(Response::new(pb::OpenMatchRoomReply {
            room_url: room.room_url.unwrap_or_default(),
            already_open: !opened,
            opened_at: room.opened_at.map(timestamp),
        }))
    }

    /// `!tournamentrace` without the chat: rolls the room's tournament seed now, exactly as the
    /// command would (same roller, deliveries and records). `rolled` is false, with the reason,
    /// when the room already has a seed (until `!cancel`) or nothing could be rolled.
    async fn roll_tournament_seed(
        &self,
        request: Request<pb::RollTournamentSeedRequest>,
    ) -> Result<Response<pb::RollTournamentSeedReply>, Status> {
        use platform::events::{HandlerError, Subscriber};
        use sea_orm::TransactionTrait;
        let r = request.into_inner();
        let binding = match_room::Entity::find()
            .filter(match_room::Column::Room.eq(r.room.clone()))
            .one(&self.db)
            .await
            .map_err(db_status)?
            .ok_or_else(|| {
                Status::not_found(format!("room `{}` is not a tournament match room", r.room))
            })?;
        let row = crate::db::tournament::Entity::find_by_id(binding.tournament_id)
            .one(&self.db)
            .await
            .map_err(db_status)?
            .ok_or_else(|| Status::not_found("the room's tournament is gone"))?;
        let m = r#match::Entity::find_by_id(binding.match_id)
            .one(&self.db)
            .await
            .map_err(db_status)?
            .ok_or_else(|| Status::not_found("the room's match is gone"))?;
        if self.seeds.room_has_seed(&r.room).await? {
            return Ok(Response::new(pb::RollTournamentSeedReply {
                rolled: false,
                message: crate::seeds::ALREADY_ROLLED.into(),
            }));
        }
        // One roll per binding and earlier roll: a retried call gets the same seed.
        let previous = binding.seed_rolled_at.map_or(0, |at| at.timestamp_millis());
        let event = proto::events::v1::CommandInvoked {
            category: row.racetime_category.clone(),
            room: r.room.clone(),
            command: "tournamentrace".into(),
            args: r.args,
            user_id: r.requested_by_racetime_id,
            user_name: String::new(),
            is_monitor: true,
            message_id: format!("rpc:{}:{previous}", binding.id),
            tournament: row.slug.clone(),
            episode_id: m.external_id.clone(),
        };
        let txn = self.db.begin().await.map_err(db_status)?;
        match self
            .seeds
            .on(&txn, event, &proto::events::v1::Envelope::default())
            .await
        {
            Ok(()) => txn.commit().await.map_err(db_status)?,
            Err(HandlerError::Transient(e)) => return Err(Status::unavailable(e.to_string())),
            Err(e) => return Err(Status::internal(e.to_string())),
        }
        let after = match_room::Entity::find_by_id(binding.id)
            .one(&self.db)
            .await
            .map_err(db_status)?;
        Ok(Response::new(match after {
            Some(b)
                if b.seed_rolled_at.map(|at| at.timestamp_millis())
                    != binding.seed_rolled_at.map(|at| at.timestamp_millis()) =>
            {
                pb::RollTournamentSeedReply {
                    rolled: true,
                    message: b.seed_permalink.unwrap_or_default(),
                }
            }
            _ => pb::RollTournamentSeedReply {
                rolled: false,
                message: "No seed was rolled; the room says why.".into(),
            },
        }))
    }

    async fn can_gatekeep(
        &self,
        request: Request<pb::CanGatekeepRequest>,
    ) -> Result<Response<pb::CanGatekeepReply>, Status> {
        let r = request.into_inner();
        let tournament = registry::get(&self.db, &r.tournament)
            .await
            .map_err(status)?;
        let allowed = self
            .gatekeeper
            .can_gatekeep(&tournament, &r.racetime_user_id)
            .await?;
        Ok(Response::new(pb::CanGatekeepReply { allowed }))
    }
    async fn get_settings_form(
        &self,
        request: Request<pb::GetTournamentRequest>,
    ) -> Result<Response<pb::SettingsForm>, Status> {
        let r = request.into_inner();
        let t = registry::get(&self.db, &r.slug).await.map_err(status)?;
        Ok(Response::new(form_message(&t)?))
    }

    async fn get_match_settings(
        &self,
        request: Request<pb::MatchSettingsRequest>,
    ) -> Result<Response<pb::MatchSettings>, Status> {
        let r = request.into_inner();
        let (t, m) = settings_match(&self.db, &r.tournament, r.match_id, &r.external_id).await?;
        let may = may_submit(&self.db, &t, &m, r.actor, r.actor_discord_id).await?;
        Ok(Response::new(match_settings(&self.db, &t, m, may).await?))
    }

    async fn submit_settings(
        &self,
        request: Request<pb::SubmitSettingsRequest>,
    ) -> Result<Response<pb::MatchSettings>, Status> {
        let r = request.into_inner();
        let (t, m) = settings_match(&self.db, &r.tournament, r.match_id, &r.external_id).await?;
        let form = submissions::form_of(&t)
            .ok_or_else(|| Status::failed_precondition("This tournament has no settings form."))?;
        if !may_submit(&self.db, &t, &m, r.actor, r.actor_discord_id).await? {
            return Err(Status::permission_denied(
                "Only the match's players and the tournament's organizers may submit its settings.",
            ));
        }
        if latest_room(&self.db, m.id)
            .await?
            .is_some_and(|room| room.state == crate::db::RoomState::Open)
        {
            return Err(Status::failed_precondition(
                "The race room is already open; ask an organizer to change the settings.",
            ));
        }
        let values: std::collections::BTreeMap<String, String> = r.values.into_iter().collect();
        let values = form.check(&values).map_err(Status::invalid_argument)?;
        submissions::store(&self.db, t.row.id, m.id, &values, r.actor_discord_id)
            .await
            .map_err(db_status)?;
        let reply = match_settings(&self.db, &t, m.clone(), true).await?;
        // Confirmations: the audit channel and the players hear what was chosen.
        let stamp = reply.submitted_at.as_ref().map_or(0, |s| s.seconds);
        let text = format!(
            "Settings submitted for match `{}` ({}) by <@{}>:\n{}",
            m.external_id, reply.versus, r.actor_discord_id, reply.description
        );
        self.opener
            .audit(&t, &format!("settings:{}:{stamp}", m.id), &text)
            .await;
        for player in matches::players(&m)
            .iter()
            .filter_map(|p| p.discord_user_id)
        {
            let embed = proto::discord::v1::Embed {
                title: format!("Settings submitted: {}", reply.versus),
                description: reply.description.clone(),
                color: 0x2ecc71,
                ..Default::default()
            };
            if let Err(error) = crate::notify::dm(
                self.opener.peers(),
                format!("settings-dm:{}:{stamp}:{player}", m.id),
                player,
                embed,
            )
            .await
            {
                tracing::info!(player, %error, "settings confirmation not sent");
            }
        }
        Ok(Response::new(reply))
    }

    async fn list_submissions(
        &self,
        request: Request<pb::ListSubmissionsRequest>,
    ) -> Result<Response<pb::ListSubmissionsReply>, Status> {
        let r = request.into_inner();
        let t = registry::get(&self.db, &r.tournament)
            .await
            .map_err(status)?;
        let form = submissions::form_of(&t);
        let rows = submissions::submission::Entity::find()
            .filter(submissions::submission::Column::TournamentId.eq(t.row.id))
            .all(&self.db)
            .await
            .map_err(db_status)?;
        let mut out = Vec::new();
        for row in rows {
            let Some(m) = r#match::Entity::find_by_id(row.match_id)
                .one(&self.db)
                .await
                .map_err(db_status)?
            else {
                continue;
            };
            if !r.external_id.is_empty() && m.external_id != r.external_id {
                continue;
            }
            let values: std::collections::BTreeMap<String, String> =
                serde_json::from_str(&row.settings).unwrap_or_default();
            let default = t
                .roller
                .preset_for(&m.title)
                .ok()
                .flatten()
                .unwrap_or_default();
            let (randomizer, preset) = match &form {
                Some(form) => form.resolve(&values, default),
                None => default,
            };
            out.push(pb::Submission {
                tournament: t.row.slug.clone(),
                external_id: m.external_id,
                match_id: m.id,
                values: values.into_iter().collect(),
                submitted_at: Some(timestamp(row.submitted_at)),
                randomizer,
                preset,
            });
        }
        Ok(Response::new(pb::ListSubmissionsReply { submissions: out }))
    }
}

fn summary(t: &Tournament) -> pb::Tournament {
    pb::Tournament {
        slug: t.row.slug.clone(),
        name: t.row.name.clone(),
        racetime_category: t.row.racetime_category.clone(),
        racetime_goal: t.row.racetime_goal.clone(),
        active: t.row.active,
        schedule_type: match t.row.schedule_source {
            ScheduleSource::Speedgaming => "sg",
            ScheduleSource::Internal => "internal",
        }
        .into(),
    }
}

/// The tournament's form as the RPCs answer it.
///
/// Errors: FAILED_PRECONDITION when it has none.
fn form_message(t: &Tournament) -> Result<pb::SettingsForm, Status> {
    let form = submissions::form_of(t).ok_or_else(|| {
        Status::failed_precondition("There is no submission form configured for this event.")
    })?;
    Ok(pb::SettingsForm {
        tournament: t.row.slug.clone(),
        name: t.row.name.clone(),
        form_json: serde_json::to_string(&form).unwrap_or_default(),
    })
}

/// Whether the caller may submit `m`'s settings: one of its players (by Discord id), or an
/// organizer of the tournament, or the operator.
async fn may_submit(
    db: &DatabaseConnection,
    t: &Tournament,
    m: &r#match::Model,
    actor: Option<pb::Actor>,
    discord: u64,
) -> Result<bool, Status> {
    if discord != 0
        && matches::players(m)
            .iter()
            .any(|p| p.discord_user_id == Some(discord))
    {
        return Ok(true);
    }
    match self::actor(actor) {
        Ok(actor) => registry::holds(db, t.row.id, actor, Role::Organizer)
            .await
            .map_err(db_status),
        Err(_) => Ok(false),
    }
}

/// A match's settings as the RPCs answer them.
async fn match_settings(
    db: &DatabaseConnection,
    t: &Tournament,
    m: r#match::Model,
    may_submit: bool,
) -> Result<pb::MatchSettings, Status> {
    let form = form_message(t)?;
    let parsed = submissions::form_of(t).ok_or_else(|| {
        Status::failed_precondition("There is no submission form configured for this event.")
    })?;
    let row = submissions::submission::Entity::find_by_id(m.id)
        .one(db)
        .await
        .map_err(db_status)?;
    let values: std::collections::BTreeMap<String, String> = row
        .as_ref()
        .and_then(|r| serde_json::from_str(&r.settings).ok())
        .unwrap_or_default();
    let versus = matches::players(&m)
        .iter()
        .map(|p| p.display_name.as_str())
        .collect::<Vec<_>>()
        .join(" vs. ");
    Ok(pb::MatchSettings {
        description: parsed.describe(&values),
        form: Some(form),
        values: values.into_iter().collect(),
        submitted: row.is_some(),
        submitted_at: row.as_ref().map(|r| timestamp(r.submitted_at)),
        submitted_by: row
            .as_ref()
            .map_or(0, |r| platform::db::u64_from_db(r.submitted_by)),
        may_submit,
        versus,
        r#match: Some(match_message(db, &t.row.slug, m).await?),
    })
}

/// The match of a settings request: by id, or by external id within the tournament.
async fn settings_match(
    db: &DatabaseConnection,
    slug: &str,
    match_id: i64,
    external_id: &str,
) -> Result<(Tournament, r#match::Model), Status> {
    if match_id > 0 {
        return locate(db, slug, u64::try_from(match_id).unwrap_or(0)).await;
    }
    let t = registry::get(db, slug).await.map_err(status)?;
    let m = matches::by_external(db, t.row.id, external_id)
        .await
        .map_err(db_status)?
        .ok_or_else(|| Status::not_found(format!("{slug} has no match `{external_id}`")))?;
    Ok((t, m))
}
