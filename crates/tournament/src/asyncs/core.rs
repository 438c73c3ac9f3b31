//! The async tournament service's shared parts: [`Asyncs`] (database and peers), its errors,
//! who the caller is ([`Who`], grants resolved through api and the gateway), the audit log,
//! and loading rows with the message a person can act on when they are missing.

use chrono::{DateTime, Utc};
use platform::grpc::Peers;
use proto::asynctournament::v1 as pb;
use proto::discord::v1 as discord;
use proto::identity::v1 as identity;
use proto::identity::v1::identity_client::IdentityClient;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter,
};
use tonic::{Code, Status};

use super::access::{Action, Role, Subject, allowed};
use super::db::{AuditAction, audit, grant, player, run, tournament};

/// The API-key scope that reads every async tournament (spec §3.11: upstream's
/// `asynctournament` permission).
pub const READ_SCOPE: &str = "asynctournament:read";

/// Async tournaments: the tables and the peers they need (api for identities, the gateway for
/// Discord roles and thread notices, seedgen for seeds, racetime for live races).
#[derive(Clone, Debug)]
pub struct Asyncs {
    pub(crate) db: DatabaseConnection,
    pub(crate) peers: Peers,
    /// The website, for links in messages.
    pub(crate) website: String,
    /// Leaderboards computed lately, by tournament (see `results::BOARD_TTL`).
    pub(crate) boards: Boards,
}

/// Leaderboards computed lately: when, and the board, by tournament.
pub(crate) type Boards = std::sync::Arc<
    tokio::sync::Mutex<
        std::collections::HashMap<i64, (std::time::Instant, std::sync::Arc<super::results::Board>)>,
    >,
>;

/// Why an async tournament action was refused.
#[derive(Debug, thiserror::Error)]
pub enum AsyncError {
    /// No such tournament, pool, run or thread.
    #[error("{0}")]
    NotFound(String),
    /// The caller may not.
    #[error("{0}")]
    Denied(String),
    /// A gate refused (the message is the player's).
    #[error("{0}")]
    Refused(String),
    /// Bad input.
    #[error("{0}")]
    Invalid(String),
    /// Already there.
    #[error("{0}")]
    Exists(String),
    /// A peer failed.
    #[error("{0}")]
    Peer(Status),
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] DbErr),
}

impl From<AsyncError> for Status {
    fn from(error: AsyncError) -> Self {
        match error {
            AsyncError::NotFound(m) => Status::not_found(m),
            AsyncError::Denied(m) => Status::permission_denied(m),
            AsyncError::Refused(m) => Status::failed_precondition(m),
            AsyncError::Invalid(m) => Status::invalid_argument(m),
            AsyncError::Exists(m) => Status::already_exists(m),
            AsyncError::Peer(status) => {
                if matches!(status.code(), Code::Unavailable | Code::DeadlineExceeded) {
                    status
                } else {
                    Status::new(status.code(), status.message().to_owned())
                }
            }
            AsyncError::Db(error) => {
                tracing::error!(%error, "async tournament database error");
                Status::internal("database error")
            }
        }
    }
}

/// The caller, resolved against one tournament.
#[derive(Clone, Debug)]
pub struct Who {
    /// Their player row (a `users` row in api), if they have one.
    pub player: Option<player::Model>,
    /// What they are here (`own` is decided per run).
    pub subject: Subject,
    /// Their Discord id, when known.
    pub discord_user_id: u64,
}

impl Who {
    /// Their api user id.
    pub fn user_id(&self) -> Option<i64> {
        self.player.as_ref().map(|p| p.user_id)
    }

    /// Whether they may do `action` in `t`, the run (or player data) being theirs or not.
    pub fn may(&self, action: Action, t: &tournament::Model, own: bool) -> bool {
        let subject = Subject {
            own,
            ..self.subject.clone()
        };
        allowed(action, &subject, t.active)
    }

    /// Refuses with `message` unless they may.
    pub fn require(
        &self,
        action: Action,
        t: &tournament::Model,
        own: bool,
        message: &str,
    ) -> Result<(), AsyncError> {
        if self.may(action, t, own) {
            Ok(())
        } else {
            Err(AsyncError::Denied(message.to_owned()))
        }
    }
}

/// What staff-only actions say when refused.
pub const STAFF_ONLY: &str = "Only this tournament's admins and mods may do that.";

impl Asyncs {
    /// Async tournaments over `db`, reaching `peers`, linking to `website`.
    pub fn new(db: DatabaseConnection, peers: Peers, website: &str) -> Self {
        Self {
            db,
            peers,
            website: website.trim_end_matches('/').to_owned(),
            boards: std::sync::Arc::default(),
        }
    }

    /// The database.
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// The tournament `r` names (by id, else by channel).
    ///
    /// Errors: NotFound with upstream's wording.
    pub async fn tournament(&self, r: &pb::TournamentRef) -> Result<tournament::Model, AsyncError> {
        let found = if r.tournament_id != 0 {
            tournament::Entity::find_by_id(r.tournament_id)
                .one(&self.db)
                .await?
        } else if r.channel_id != 0 {
            tournament::Entity::find()
                .filter(tournament::Column::ChannelId.eq(r.channel_id as i64))
                .one(&self.db)
                .await?
        } else {
            None
        };
        found.ok_or_else(|| {
            AsyncError::NotFound(
                "This channel is not configured for async tournaments.  Please create a new tournament."
                    .into(),
            )
        })
    }

    /// The api user behind `caller`, cached as a player row; `None` without one.
    ///
    /// Errors: api unreachable.
    pub async fn player(&self, caller: &pb::Caller) -> Result<Option<player::Model>, AsyncError> {
        let api = self.peers.get("api").map_err(AsyncError::Peer)?;
        let found = if caller.user_id > 0 {
            let request = identity::GetUserRequest {
                id: caller.user_id as u64,
            };
            api.call(|| {
                let mut client = IdentityClient::new(api.channel());
                async move { client.get_user(request).await }
            })
            .await
        } else if caller.discord_user_id > 0 {
            let request = identity::FindByDiscordIdRequest {
                discord_user_id: caller.discord_user_id,
            };
            api.call(|| {
                let mut client = IdentityClient::new(api.channel());
                async move { client.find_by_discord_id(request).await }
            })
            .await
        } else {
            return Ok(None);
        };
        match found {
            Ok(user) => Ok(Some(remember(&self.db, &user.into_inner()).await?)),
            Err(status) if status.code() == Code::NotFound => Ok(None),
            Err(status) => Err(AsyncError::Peer(status)),
        }
    }

    /// Who `caller` is in `t`: their player row, grants (their own, and those of their current
    /// Discord roles in the tournament's guild), ownership, API-key scopes.
    ///
    /// Errors: api unreachable.
    pub async fn who(
        &self,
        t: &tournament::Model,
        caller: Option<&pb::Caller>,
    ) -> Result<Who, AsyncError> {
        let default = pb::Caller::default();
        let caller = caller.unwrap_or(&default);
        let player = self.player(caller).await?;
        let discord_user_id = if caller.discord_user_id != 0 {
            caller.discord_user_id
        } else {
            player
                .as_ref()
                .and_then(|p| p.discord_user_id)
                .map_or(0, |id| id as u64)
        };
        let grants = grant::Entity::find()
            .filter(grant::Column::TournamentId.eq(t.id))
            .all(&self.db)
            .await?;
        let mut roles: Vec<Role> = grants
            .iter()
            .filter(|g| g.user_id.is_some() && g.user_id == player.as_ref().map(|p| p.user_id))
            .map(|g| g.role)
            .collect();
        if grants.iter().any(|g| g.discord_role_id.is_some()) && discord_user_id != 0 {
            let member_roles = if caller.roles_known {
                caller.role_ids.clone()
            } else {
                self.member_roles(t.guild_id as u64, discord_user_id).await
            };
            roles.extend(
                grants
                    .iter()
                    .filter(|g| {
                        g.discord_role_id
                            .is_some_and(|r| member_roles.contains(&(r as u64)))
                    })
                    .map(|g| g.role),
            );
        }
        roles.sort_by_key(|r| *r == Role::Mod);
        roles.dedup();
        let subject = Subject {
            operator: caller.operator,
            owner: discord_user_id != 0 && discord_user_id == t.owner_discord_id as u64,
            roles,
            linked: player.is_some(),
            own: false,
            reader: caller.scopes.iter().any(|s| s == READ_SCOPE),
        };
        Ok(Who {
            player,
            subject,
            discord_user_id,
        })
    }

    /// A member's current roles in `guild` (none when the gateway cannot say).
    async fn member_roles(&self, guild: u64, user: u64) -> Vec<u64> {
        let Ok(mut client) = crate::notify::discord_client(&self.peers) else {
            return Vec::new();
        };
        match client
            .get_member(discord::GetMemberRequest {
                guild_id: guild,
                user_id: user,
            })
            .await
        {
            Ok(member) => member.into_inner().role_ids,
            Err(status) => {
                if status.code() != Code::NotFound {
                    tracing::warn!(%status, "could not read a member's roles for async grants");
                }
                Vec::new()
            }
        }
    }

    /// The run `r` names: by id, else by its thread.
    ///
    /// Errors: NotFound ("not an async race thread").
    pub async fn run(&self, r: &pb::RunRef) -> Result<run::Model, AsyncError> {
        let found = if r.run_id != 0 {
            run::Entity::find_by_id(r.run_id).one(&self.db).await?
        } else if r.thread_id != 0 {
            run::Entity::find()
                .filter(run::Column::ThreadId.eq(r.thread_id as i64))
                .one(&self.db)
                .await?
        } else {
            None
        };
        match found {
            Some(run) if r.tournament_id == 0 || run.tournament_id == r.tournament_id => Ok(run),
            _ => Err(AsyncError::NotFound(
                "This channel/thread is not an async race room.".into(),
            )),
        }
    }

    /// The tournament of `run`.
    pub async fn tournament_of(&self, run: &run::Model) -> Result<tournament::Model, AsyncError> {
        tournament::Entity::find_by_id(run.tournament_id)
            .one(&self.db)
            .await?
            .ok_or_else(|| AsyncError::NotFound("That tournament no longer exists.".into()))
    }
}

/// Stores what api said of a user (their names for pages and the leaderboard).
///
/// Errors: the database failed.
pub async fn remember<C: ConnectionTrait>(
    conn: &C,
    user: &identity::User,
) -> Result<player::Model, DbErr> {
    let display_name = [&user.display_name, &user.racetime_name]
        .into_iter()
        .find(|n| !n.is_empty())
        .cloned()
        .unwrap_or_else(|| format!("user {}", user.id));
    let row = player::Model {
        user_id: user.id as i64,
        discord_user_id: (user.discord_user_id != 0).then_some(user.discord_user_id as i64),
        racetime_user_id: (!user.racetime_user_id.is_empty())
            .then(|| user.racetime_user_id.clone()),
        display_name,
        twitch_name: (!user.twitch_name.is_empty()).then(|| user.twitch_name.clone()),
        updated_at: Utc::now(),
    };
    player::Entity::insert(player::ActiveModel::from(row.clone()))
        .on_conflict(
            OnConflict::column(player::Column::UserId)
                .update_columns([
                    player::Column::DiscordUserId,
                    player::Column::RacetimeUserId,
                    player::Column::DisplayName,
                    player::Column::TwitchName,
                    player::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    Ok(row)
}

/// Appends a line to `tournament`'s audit log; `user` none for the system.
///
/// Errors: the database failed.
pub async fn audit<C: ConnectionTrait>(
    conn: &C,
    tournament: i64,
    user: Option<i64>,
    action: AuditAction,
    details: String,
) -> Result<(), DbErr> {
    audit::Entity::insert(audit::ActiveModel {
        tournament_id: Set(tournament),
        user_id: Set(user),
        action: Set(action),
        details: Set(details),
        created_at: Set(Utc::now()),
        ..Default::default()
    })
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// When a Discord account was created: the timestamp in its snowflake id (milliseconds since
/// 2015-01-01, the Discord epoch, in the top 42 bits).
pub fn account_created(discord_user_id: u64) -> Option<DateTime<Utc>> {
    const DISCORD_EPOCH_MS: i64 = 1_420_070_400_000;
    if discord_user_id == 0 {
        return None;
    }
    DateTime::from_timestamp_millis((discord_user_id >> 22) as i64 + DISCORD_EPOCH_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_as_old_as_its_snowflake() {
        // Discord's documented example: 175928847299117063 → 2016-04-30 11:18:25.796 UTC.
        let at = account_created(175_928_847_299_117_063).unwrap();
        assert_eq!(at.to_rfc3339(), "2016-04-30T11:18:25.796+00:00");
        assert_eq!(account_created(0), None);
    }
}
