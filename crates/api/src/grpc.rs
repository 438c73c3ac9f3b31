//! `identity.v1.Identity`: users by id, Discord id (one or many) and racetime.gg id, and API
//! key verification. Unknown ids are NOT_FOUND, never a zero user; a bad key is
//! UNAUTHENTICATED.

use proto::identity::v1 as pb;
use proto::identity::v1::identity_server::Identity;
use sea_orm::DatabaseConnection;
use tonic::{Request, Response, Status};

use crate::identity::{self, user};
use crate::keys;

/// The Identity service over the api database.
#[derive(Clone, Debug)]
pub struct IdentityApi {
    db: DatabaseConnection,
}

impl IdentityApi {
    /// The service over `db`.
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

fn internal(error: sea_orm::DbErr) -> Status {
    tracing::error!(%error, "identity: database error");
    Status::internal("a database error occurred; try again")
}

fn message(user: user::Model) -> pb::User {
    pb::User {
        id: u64::try_from(user.id).unwrap_or_default(),
        discord_user_id: user.discord_user_id.map_or(0, platform::db::u64_from_db),
        racetime_linked: user.racetime_user_id.is_some(),
        racetime_user_id: user.racetime_user_id.unwrap_or_default(),
        racetime_name: user.racetime_name.unwrap_or_default(),
        display_name: user.display_name.unwrap_or_default(),
        twitch_name: user.twitch_name.unwrap_or_default(),
    }
}

fn found(
    user: Option<user::Model>,
    what: impl FnOnce() -> String,
) -> Result<Response<pb::User>, Status> {
    user.map(|u| Response::new(message(u)))
        .ok_or_else(|| Status::not_found(what()))
}

#[tonic::async_trait]
impl Identity for IdentityApi {
    async fn get_user(
        &self,
        request: Request<pb::GetUserRequest>,
    ) -> Result<Response<pb::User>, Status> {
        let id = request.into_inner().id;
        let Ok(db_id) = i64::try_from(id) else {
            return Err(Status::not_found(format!("no user {id}")));
        };
        let user = identity::get(&self.db, db_id).await.map_err(internal)?;
        found(user, || format!("no user {id}"))
    }

    async fn find_by_discord_id(
        &self,
        request: Request<pb::FindByDiscordIdRequest>,
    ) -> Result<Response<pb::User>, Status> {
        let id = request.into_inner().discord_user_id;
        if id == 0 {
            return Err(Status::invalid_argument("discord_user_id is required"));
        }
        let user = identity::by_discord(&self.db, id).await.map_err(internal)?;
        found(user, || format!("no user has Discord account {id}"))
    }

    async fn find_by_racetime_id(
        &self,
        request: Request<pb::FindByRacetimeIdRequest>,
    ) -> Result<Response<pb::User>, Status> {
        let id = request.into_inner().racetime_user_id;
        if id.trim().is_empty() {
            return Err(Status::invalid_argument("racetime_user_id is required"));
        }
        let user = identity::by_racetime(&self.db, id.trim())
            .await
            .map_err(internal)?;
        found(user, || format!("no user has racetime.gg account {id}"))
    }

    async fn ensure_racetime_user(
        &self,
        request: Request<pb::EnsureRacetimeUserRequest>,
    ) -> Result<Response<pb::User>, Status> {
        let r = request.into_inner();
        let id = r.racetime_user_id.trim();
        if id.is_empty() {
            return Err(Status::invalid_argument("racetime_user_id is required"));
        }
        let twitch = Some(r.twitch_name.trim().to_owned()).filter(|t| !t.is_empty());
        if let Some(user) = identity::by_racetime(&self.db, id)
            .await
            .map_err(internal)?
        {
            if twitch.is_none() || user.twitch_name == twitch {
                return Ok(Response::new(message(user)));
            }
            let mut active: user::ActiveModel = user.into();
            active.twitch_name = sea_orm::ActiveValue::Set(twitch);
            active.updated_at = sea_orm::ActiveValue::Set(chrono::Utc::now());
            let user = sea_orm::ActiveModelTrait::update(active, &self.db)
                .await
                .map_err(internal)?;
            return Ok(Response::new(message(user)));
        }
        let name = Some(r.racetime_name.trim().to_owned()).filter(|n| !n.is_empty());
        // The racetime.gg name becomes the display name unless someone has it already.
        let display_name = match &name {
            Some(n) => identity::by_display_name(&self.db, n)
                .await
                .map_err(internal)?
                .is_none()
                .then(|| n.clone()),
            None => None,
        };
        let new = |display_name| identity::NewUser {
            racetime_user_id: Some(id.to_owned()),
            racetime_name: name.clone(),
            twitch_name: twitch.clone(),
            display_name,
            ..Default::default()
        };
        let user = match identity::create(&self.db, new(display_name)).await {
            Ok(user) => user,
            // A concurrent call created the user (or took the name): read it back.
            Err(_) => match identity::by_racetime(&self.db, id)
                .await
                .map_err(internal)?
            {
                Some(user) => user,
                None => identity::create(&self.db, new(None))
                    .await
                    .map_err(internal)?,
            },
        };
        Ok(Response::new(message(user)))
    }

    async fn find_by_discord_ids(
        &self,
        request: Request<pb::FindByDiscordIdsRequest>,
    ) -> Result<Response<pb::FindByDiscordIdsReply>, Status> {
        let mut ids = request.into_inner().discord_user_ids;
        ids.sort_unstable();
        ids.dedup();
        if ids.len() > identity::MAX_BATCH {
            return Err(Status::invalid_argument(format!(
                "at most {} ids at once",
                identity::MAX_BATCH
            )));
        }
        let users = identity::by_discord_ids(&self.db, &ids)
            .await
            .map_err(internal)?;
        let known: std::collections::HashSet<u64> = users
            .iter()
            .filter_map(|u| u.discord_user_id.map(platform::db::u64_from_db))
            .collect();
        let missing = ids.into_iter().filter(|id| !known.contains(id)).collect();
        Ok(Response::new(pb::FindByDiscordIdsReply {
            users: users.into_iter().map(message).collect(),
            missing,
        }))
    }

    async fn verify_api_key(
        &self,
        request: Request<pb::VerifyApiKeyRequest>,
    ) -> Result<Response<pb::VerifyApiKeyReply>, Status> {
        let key = request.into_inner().key;
        let row = match keys::verify(&self.db, &key).await.map_err(internal)? {
            Ok(row) => row,
            Err(refused) => {
                tracing::info!(reason = %refused, "API key refused");
                return Err(Status::unauthenticated("invalid API key"));
            }
        };
        let owner = match row.user_id {
            Some(id) => identity::get(&self.db, id)
                .await
                .map_err(internal)?
                .map(message),
            None => None,
        };
        Ok(Response::new(pb::VerifyApiKeyReply {
            owner,
            scopes: row.scopes.split_whitespace().map(str::to_owned).collect(),
        }))
    }
}
