//! Who may help run a tournament room (spec §1.5.4, `can_gatekeep`): a racetime.gg user is a
//! helper of a tournament when their linked account holds a helper (or organizer) grant, when
//! their Discord account holds one of the tournament's helper roles in its guild (the
//! `helper_role_ids` plus Discord-role grants), or when they are a member of one of the
//! tournament's helper racetime.gg teams (e.g. `sg-volunteers`; team lists are cached for
//! [`TEAM_TTL`]).
//!
//! racetime lets in the players and the helpers the binding names as soon as they ask; the
//! others reach us as `racetime.entrant.requested` (not accepted) and `!promote` as
//! `racetime.command.invoked`. [`OnJoinRequest`] lets in a player who linked racetime.gg after
//! the room opened and lets in and promotes a helper; [`OnPromote`] promotes a helper.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use platform::events::{HandlerError, Subscriber};
use platform::grpc::Peers;
use proto::discord::v1 as discord;
use proto::discord::v1::discord_client::DiscordClient;
use proto::events::v1 as ev;
use proto::identity::v1 as identity;
use proto::identity::v1::identity_client::IdentityClient;
use proto::racetime::v1 as rt;
use proto::racetime::v1::race_rooms_client::RaceRoomsClient;
use sea_orm::{ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, QueryFilter};
use tonic::{Code, Status};

use crate::db::{Role, r#match, match_room, permission};
use crate::matches;
use crate::registry::{self, Actor, Tournament};

/// How long a racetime.gg team's member list is trusted.
pub const TEAM_TTL: Duration = Duration::from_secs(300);

/// Decides who is a helper; cheap to clone (the team cache is shared).
#[derive(Clone, Debug)]
pub struct Gatekeeper {
    db: DatabaseConnection,
    peers: Peers,
    teams: Arc<Mutex<HashMap<String, CachedTeam>>>,
}

/// When a team's member ids were read, and the ids.
type CachedTeam = (Instant, Vec<String>);

fn unavailable(peer: &'static str) -> impl Fn(Status) -> Status {
    move |status| Status::unavailable(format!("{peer}: {}", status.message()))
}

impl Gatekeeper {
    /// A gatekeeper over tournament's database and peers.
    pub fn new(db: DatabaseConnection, peers: Peers) -> Self {
        Self {
            db,
            peers,
            teams: Arc::default(),
        }
    }

    /// The api user with racetime.gg account `racetime_user_id`, if any.
    ///
    /// Errors: Identity failed.
    pub async fn user_of(&self, racetime_user_id: &str) -> Result<Option<identity::User>, Status> {
        let api = self.peers.get("api")?;
        let request = identity::FindByRacetimeIdRequest {
            racetime_user_id: racetime_user_id.to_owned(),
        };
        match api
            .call(|| {
                let mut client = IdentityClient::new(api.channel());
                let request = request.clone();
                async move { client.find_by_racetime_id(request).await }
            })
            .await
        {
            Ok(user) => Ok(Some(user.into_inner())),
            Err(status) if status.code() == Code::NotFound => Ok(None),
            Err(status) => Err(unavailable("api")(status)),
        }
    }

    /// Whether racetime.gg user `racetime_user_id` is a helper of `tournament` (module docs).
    ///
    /// Errors: a peer failed in a way that leaves the answer open (retry later).
    pub async fn can_gatekeep(
        &self,
        tournament: &Tournament,
        racetime_user_id: &str,
    ) -> Result<bool, Status> {
        for team in &tournament.helper_racetime_teams {
            if self
                .team_members(team)
                .await?
                .iter()
                .any(|m| m == racetime_user_id)
            {
                return Ok(true);
            }
        }
        let Some(user) = self.user_of(racetime_user_id).await? else {
            return Ok(false);
        };
        let user_id = i64::try_from(user.id).unwrap_or_default();
        if registry::holds(
            &self.db,
            tournament.row.id,
            Actor::User(user_id),
            Role::Helper,
        )
        .await
        .map_err(|e| Status::unavailable(format!("database: {e}")))?
        {
            return Ok(true);
        }
        let (Some(guild), true) = (tournament.row.guild_id, user.discord_user_id != 0) else {
            return Ok(false);
        };
        let roles = self.helper_roles(tournament).await?;
        if roles.is_empty() {
            return Ok(false);
        }
        let held = self
            .member_roles(platform::db::u64_from_db(guild), user.discord_user_id)
            .await?;
        Ok(held.iter().any(|r| roles.contains(r)))
    }

    /// The tournament's helper roles and the Discord roles granted helper or organizer.
    async fn helper_roles(&self, tournament: &Tournament) -> Result<Vec<u64>, Status> {
        let mut roles = tournament.helper_role_ids.clone();
        let grants = permission::Entity::find()
            .filter(permission::Column::TournamentId.eq(tournament.row.id))
            .all(&self.db)
            .await
            .map_err(|e| Status::unavailable(format!("database: {e}")))?;
        roles.extend(
            grants
                .iter()
                .filter_map(|g| g.discord_role_id)
                .map(platform::db::u64_from_db),
        );
        Ok(roles)
    }

    /// The roles of Discord user `user` in `guild` (none when not a member).
    async fn member_roles(&self, guild: u64, user: u64) -> Result<Vec<u64>, Status> {
        let gateway = self.peers.get("gateway")?;
        let request = discord::GetMemberRequest {
            guild_id: guild,
            user_id: user,
        };
        match gateway
            .call(|| {
                let mut client = DiscordClient::new(gateway.channel());
                async move { client.get_member(request).await }
            })
            .await
        {
            Ok(member) => Ok(member.into_inner().role_ids),
            Err(status) if status.code() == Code::NotFound => Ok(Vec::new()),
            Err(status) => Err(unavailable("gateway")(status)),
        }
    }

    /// The member ids of racetime.gg team `slug` (an unknown team has none).
    async fn team_members(&self, slug: &str) -> Result<Vec<String>, Status> {
        if let Some((at, members)) = self
            .teams
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(slug)
            && at.elapsed() < TEAM_TTL
        {
            return Ok(members.clone());
        }
        let racetime = self.peers.get("racetime")?;
        let request = rt::GetTeamRequest {
            slug: slug.to_owned(),
        };
        let members = match racetime
            .call(|| {
                let mut client = RaceRoomsClient::new(racetime.channel());
                let request = request.clone();
                async move { client.get_team(request).await }
            })
            .await
        {
            Ok(team) => team
                .into_inner()
                .members
                .into_iter()
                .map(|m| m.user_id)
                .collect(),
            Err(status) if status.code() == Code::NotFound => {
                tracing::warn!(team = %slug, "a tournament's helper team does not exist on racetime.gg");
                Vec::new()
            }
            Err(status) => return Err(unavailable("racetime")(status)),
        };
        self.teams
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(slug.to_owned(), (Instant::now(), members.clone()));
        Ok(members)
    }

    /// The tournament and match of a bound room.
    async fn bound(
        &self,
        room: &str,
    ) -> Result<Option<(Tournament, r#match::Model)>, HandlerError> {
        let Some(binding) = match_room::Entity::find()
            .filter(match_room::Column::Room.eq(room))
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        let Some(row) = crate::db::tournament::Entity::find_by_id(binding.tournament_id)
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        let Some(m) = r#match::Entity::find_by_id(binding.match_id)
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        let tournament = Tournament::from_row(row)
            .map_err(|e| HandlerError::Permanent(anyhow::anyhow!("{e}")))?;
        Ok(Some((tournament, m)))
    }

    /// Runs a room action (`accept` or `monitor`); a refusal (already done, not an entrant) is
    /// logged, an outage retried by the caller.
    async fn act(&self, room: &str, user: &str, monitor: bool) -> Result<(), HandlerError> {
        let racetime = self.peers.get("racetime").map_err(transient)?;
        let request = rt::RoomUserRequest {
            room: room.to_owned(),
            user_id: user.to_owned(),
        };
        let result = racetime
            .call(|| {
                let mut client = RaceRoomsClient::new(racetime.channel());
                let request = request.clone();
                async move {
                    if monitor {
                        client.add_monitor(request).await
                    } else {
                        client.accept_request(request).await
                    }
                }
            })
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(status) if status.code() == Code::Unavailable => Err(transient(status)),
            Err(status) => {
                tracing::warn!(%room, %user, monitor, %status, "racetime refused a gatekeeping action");
                Ok(())
            }
        }
    }
}

fn transient(status: Status) -> HandlerError {
    HandlerError::Transient(anyhow::anyhow!("{status}"))
}

/// Answers join requests racetime did not accept itself.
#[derive(Clone, Debug)]
pub struct OnJoinRequest(pub Gatekeeper);

impl Subscriber for OnJoinRequest {
    type Event = ev::EntrantRequested;

    fn name(&self) -> &str {
        "tournament-join-request"
    }

    async fn on(
        &self,
        _txn: &DatabaseTransaction,
        event: ev::EntrantRequested,
        _envelope: &ev::Envelope,
    ) -> Result<(), HandlerError> {
        if event.accepted {
            return Ok(());
        }
        let Some((tournament, m)) = self.0.bound(&event.room).await? else {
            return Ok(());
        };
        // A player who linked racetime.gg after the room opened.
        let user = self.0.user_of(&event.user_id).await.map_err(transient)?;
        let player = user.as_ref().is_some_and(|u| {
            u.discord_user_id != 0
                && matches::players(&m)
                    .iter()
                    .any(|p| p.discord_user_id == Some(u.discord_user_id))
        });
        if player {
            tracing::info!(room = %event.room, user = %event.user_id, "letting in a player linked after the room opened");
            return self.0.act(&event.room, &event.user_id, false).await;
        }
        if self
            .0
            .can_gatekeep(&tournament, &event.user_id)
            .await
            .map_err(transient)?
        {
            tracing::info!(room = %event.room, user = %event.user_id, "letting in a helper");
            self.0.act(&event.room, &event.user_id, false).await?;
            return self.0.act(&event.room, &event.user_id, true).await;
        }
        Ok(())
    }
}

/// Promotes a helper who asks with `!promote` (racetime answers those the binding names).
#[derive(Clone, Debug)]
pub struct OnPromote(pub Gatekeeper);

impl Subscriber for OnPromote {
    type Event = ev::CommandInvoked;

    fn name(&self) -> &str {
        "tournament-promote"
    }

    async fn on(
        &self,
        _txn: &DatabaseTransaction,
        event: ev::CommandInvoked,
        _envelope: &ev::Envelope,
    ) -> Result<(), HandlerError> {
        if event.command != "promote" {
            return Ok(());
        }
        let Some((tournament, _)) = self.0.bound(&event.room).await? else {
            return Ok(());
        };
        if self
            .0
            .can_gatekeep(&tournament, &event.user_id)
            .await
            .map_err(transient)?
        {
            self.0.act(&event.room, &event.user_id, true).await?;
        }
        Ok(())
    }
}
