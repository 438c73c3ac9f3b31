//! `discord.v1.Discord`: what other services ask of Discord.
//!
//! Each send is idempotent per key: the key → message row is checked first and written after
//! the post, and the post itself carries a nonce derived from the key with `enforce_nonce`, so
//! Discord drops a duplicate that a crash between post and row write would otherwise cause.
//! Discord's refusals come back typed: a user who blocks DMs is FAILED_PRECONDITION with
//! reason `dm_blocked`; a channel the bot cannot see is PERMISSION_DENIED.

use proto::discord::v1 as pb;
use proto::discord::v1::discord_server::Discord as DiscordRpc;
use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait, SqlErr};
use tonic::{Request, Response, Status};
use twilight_model::channel::message::Embed;
use twilight_model::channel::message::embed::EmbedField;
use twilight_model::id::Id;

use crate::discord::Discord;

/// `gateway_sent_messages`: idempotency key → the message it produced.
pub mod sent {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "gateway_sent_messages")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub idempotency_key: String,
        pub channel_id: u64,
        pub message_id: u64,
        pub created_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The Discord RPC service.
#[derive(Debug, Clone)]
pub struct DiscordApi {
    discord: Option<Discord>,
    db: DatabaseConnection,
}

impl DiscordApi {
    pub fn new(discord: Option<Discord>, db: DatabaseConnection) -> Self {
        Self { discord, db }
    }

    fn discord(&self) -> Result<&Discord, Status> {
        self.discord.as_ref().ok_or_else(|| {
            Status::failed_precondition("the gateway has no Discord bot token configured")
        })
    }

    async fn send(
        &self,
        key: &str,
        channel: u64,
        content: &str,
        embeds: &[pb::Embed],
    ) -> Result<pb::SendMessageReply, Status> {
        if key.is_empty() {
            return Err(Status::invalid_argument("idempotency_key is required"));
        }
        if let Some(done) = sent::Entity::find_by_id(key.to_owned())
            .one(&self.db)
            .await
            .map_err(db_error)?
        {
            return Ok(pb::SendMessageReply {
                channel_id: done.channel_id,
                message_id: done.message_id,
            });
        }
        let channel_id =
            Id::new_checked(channel).ok_or_else(|| Status::invalid_argument("channel_id is 0"))?;
        let embeds: Vec<Embed> = embeds.iter().map(embed).collect();
        let message = self
            .discord()?
            .http
            .create_message(channel_id)
            .content(content)
            .embeds(&embeds)
            .nonce(nonce(key))
            .await
            .map_err(discord_error)?
            .model()
            .await
            .map_err(|e| Status::internal(format!("unreadable Discord answer: {e}")))?;
        let row = sent::ActiveModel {
            idempotency_key: Set(key.to_owned()),
            channel_id: Set(channel),
            message_id: Set(message.id.get()),
            created_at: Set(chrono::Utc::now()),
        };
        if let Err(error) = sent::Entity::insert(row).exec(&self.db).await
            && !matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
        {
            return Err(db_error(error));
        }
        Ok(pb::SendMessageReply {
            channel_id: channel,
            message_id: message.id.get(),
        })
    }
}

/// A 63-bit nonce from the key (Discord nonces are integers or strings up to 25 characters).
fn nonce(key: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    key.hash(&mut hasher);
    hasher.finish() >> 1
}

fn embed(e: &pb::Embed) -> Embed {
    let some = |text: &str| (!text.is_empty()).then(|| text.to_owned());
    let mut out = crate::embeds::blank(
        some(&e.title),
        some(&e.description),
        (e.color != 0).then_some(e.color),
    );
    out.url = some(&e.url);
    out.fields = e
        .fields
        .iter()
        .map(|f| EmbedField {
            inline: f.inline,
            name: f.name.clone(),
            value: f.value.clone(),
        })
        .collect();
    out
}

fn db_error(error: sea_orm::DbErr) -> Status {
    Status::unavailable(format!("database: {error}"))
}

/// Discord's error codes as typed statuses (https://discord.com/developers/docs/topics/opcodes-and-status-codes).
fn discord_error(error: twilight_http::Error) -> Status {
    use twilight_http::api_error::ApiError;
    use twilight_http::error::ErrorType;
    match error.kind() {
        ErrorType::Response {
            error: ApiError::General(general),
            status,
            ..
        } => match general.code {
            50007 => Status::failed_precondition(format!(
                "dm_blocked: the user does not accept direct messages from the bot ({})",
                general.message
            )),
            50001 | 50013 => {
                Status::permission_denied(format!("the bot cannot post there: {}", general.message))
            }
            10003 | 10013 | 10070 => Status::not_found(general.message.clone()),
            _ if status.get() == 429 || status.is_server_error() => {
                Status::unavailable(format!("Discord: {}", general.message))
            }
            _ => Status::invalid_argument(format!("Discord refused it: {}", general.message)),
        },
        ErrorType::Response { status, .. } if status.get() == 429 || status.is_server_error() => {
            Status::unavailable(format!("Discord answered {}", status.get()))
        }
        ErrorType::Validation => Status::invalid_argument(error.to_string()),
        _ => Status::unavailable(format!("Discord: {error}")),
    }
}

#[tonic::async_trait]
impl DiscordRpc for DiscordApi {
    async fn send_message(
        &self,
        request: Request<pb::SendMessageRequest>,
    ) -> Result<Response<pb::SendMessageReply>, Status> {
        let r = request.into_inner();
        self.send(&r.idempotency_key, r.channel_id, &r.content, &r.embeds)
            .await
            .map(Response::new)
    }

    async fn send_direct_message(
        &self,
        request: Request<pb::SendDirectMessageRequest>,
    ) -> Result<Response<pb::SendMessageReply>, Status> {
        let r = request.into_inner();
        let user =
            Id::new_checked(r.user_id).ok_or_else(|| Status::invalid_argument("user_id is 0"))?;
        if r.idempotency_key.is_empty() {
            return Err(Status::invalid_argument("idempotency_key is required"));
        }
        let channel = self
            .discord()?
            .http
            .create_private_channel(user)
            .await
            .map_err(discord_error)?
            .model()
            .await
            .map_err(|e| Status::internal(format!("unreadable Discord answer: {e}")))?;
        self.send(&r.idempotency_key, channel.id.get(), &r.content, &r.embeds)
            .await
            .map(Response::new)
    }

    async fn create_scheduled_event(
        &self,
        request: Request<pb::ScheduledEvent>,
    ) -> Result<Response<pb::ScheduledEvent>, Status> {
        let _ = request;
        Err(Status::unimplemented(
            "scheduled events arrive with the tournament issue",
        ))
    }

    async fn update_scheduled_event(
        &self,
        request: Request<pb::ScheduledEvent>,
    ) -> Result<Response<pb::ScheduledEvent>, Status> {
        let _ = request;
        Err(Status::unimplemented(
            "scheduled events arrive with the tournament issue",
        ))
    }

    async fn delete_scheduled_event(
        &self,
        request: Request<pb::DeleteScheduledEventRequest>,
    ) -> Result<Response<pb::DeleteScheduledEventReply>, Status> {
        let _ = request;
        Err(Status::unimplemented(
            "scheduled events arrive with the tournament issue",
        ))
    }
}
