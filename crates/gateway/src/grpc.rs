//! `discord.v1.Discord`: what other services ask of Discord.
//!
//! Each create is idempotent per key: the key → object row is checked first and written after
//! the call, and the post itself carries a nonce derived from the key with `enforce_nonce`, so
//! Discord drops a duplicate that a crash between post and row write would otherwise cause.
//! Discord's refusals come back typed: a user who blocks DMs is FAILED_PRECONDITION with
//! reason `dm_blocked`; a channel the bot cannot see is PERMISSION_DENIED.

use platform::idempotency::{self, KeyState};
use proto::discord::v1 as pb;
use proto::discord::v1::discord_server::Discord as DiscordRpc;
use sea_orm::DatabaseConnection;
use tonic::{Request, Response, Status};
use twilight_model::channel::message::Embed;
use twilight_model::channel::message::embed::EmbedField;
use twilight_model::guild::scheduled_event::PrivacyLevel;
use twilight_model::id::Id;
use twilight_model::util::Timestamp;

use crate::discord::Discord;

/// The idempotency scope of what a key created on Discord.
const SCOPE: &str = "discord";

/// What an idempotency key created on Discord (the payload of its `idempotency_keys` row).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Created {
    /// `message` or `scheduled_event`.
    pub kind: String,
    /// The channel of a message, the guild of a scheduled event.
    pub container: u64,
    /// The message or scheduled event id.
    pub object: u64,
}

/// The Discord RPC service.
#[derive(Debug, Clone)]
pub struct DiscordApi {
    discord: Option<Discord>,
    db: DatabaseConnection,
}

impl DiscordApi {
    /// The service over `discord` (`None`: FAILED_PRECONDITION) and the database.
    pub fn new(discord: Option<Discord>, db: DatabaseConnection) -> Self {
        Self { discord, db }
    }

    fn discord(&self) -> Result<&Discord, Status> {
        self.discord.as_ref().ok_or_else(|| {
            Status::failed_precondition("the gateway has no Discord bot token configured")
        })
    }

    /// What `key` already created, if anything. A key reused for another kind of object is
    /// INVALID_ARGUMENT.
    async fn created(&self, key: &str, kind: &str) -> Result<Option<Created>, Status> {
        let Some(row) = idempotency::get(&self.db, SCOPE, key)
            .await
            .map_err(db_error)?
        else {
            return Ok(None);
        };
        let found: Created = serde_json::from_str(row.payload.as_deref().unwrap_or_default())
            .map_err(|e| {
                db_error(sea_orm::DbErr::Custom(format!(
                    "idempotency key `{key}`: {e}"
                )))
            })?;
        if found.kind != kind {
            return Err(Status::invalid_argument(format!(
                "idempotency key `{key}` was already used for a {}",
                found.kind
            )));
        }
        Ok(Some(found))
    }

    async fn remember(
        &self,
        key: &str,
        kind: &str,
        container: u64,
        object: u64,
    ) -> Result<(), Status> {
        let payload = serde_json::to_string(&Created {
            kind: kind.to_owned(),
            container,
            object,
        })
        .map_err(|e| db_error(sea_orm::DbErr::Custom(e.to_string())))?;
        // A concurrent retry of the same key got there first: Discord dropped our duplicate
        // by nonce, or the event is the same one.
        idempotency::insert(
            &self.db,
            SCOPE,
            key,
            KeyState::Done,
            None,
            None,
            Some(&payload),
        )
        .await
        .map(drop)
        .map_err(db_error)
    }

    /// Posts to a channel once per key (see the module docs).
    pub(crate) async fn send(
        &self,
        key: &str,
        channel: u64,
        content: &str,
        embeds: &[Embed],
    ) -> Result<pb::SendMessageReply, Status> {
        let reply = crate::discord::Reply {
            content: Some(content.to_owned()).filter(|c| !c.is_empty()),
            embeds: embeds.to_vec(),
            ..Default::default()
        };
        self.send_reply(key, channel, &reply).await
    }

    /// Edits message `message` of `channel` to `reply` (content, embeds, components; files
    /// are not replaced).
    ///
    /// Errors: as Discord refuses (NOT_FOUND for a deleted message).
    pub async fn edit_message(
        &self,
        channel: u64,
        message: u64,
        reply: &crate::discord::Reply,
    ) -> Result<(), Status> {
        let (Some(channel), Some(message)) = (Id::new_checked(channel), Id::new_checked(message))
        else {
            return Err(Status::invalid_argument(
                "channel and message ids are required",
            ));
        };
        self.discord()?
            .http
            .update_message(channel, message)
            .content(reply.content.as_deref())
            .embeds(Some(&reply.embeds))
            .components(Some(&reply.components))
            .await
            .map_err(discord_error)?;
        Ok(())
    }

    /// Posts `reply` (text, embeds, components, files) to a channel once per key.
    ///
    /// Errors: as [`Self::send`].
    pub async fn send_reply(
        &self,
        key: &str,
        channel: u64,
        reply: &crate::discord::Reply,
    ) -> Result<pb::SendMessageReply, Status> {
        let content = reply.content.as_deref().unwrap_or_default();
        let embeds = &reply.embeds;
        let attachments: Vec<twilight_model::http::attachment::Attachment> = reply
            .files
            .iter()
            .zip(0u64..)
            .map(|((name, bytes), id)| {
                twilight_model::http::attachment::Attachment::from_bytes(
                    name.clone(),
                    bytes.clone(),
                    id,
                )
            })
            .collect();
        if key.is_empty() {
            return Err(Status::invalid_argument("idempotency_key is required"));
        }
        if let Some(done) = self.created(key, "message").await? {
            return Ok(pb::SendMessageReply {
                channel_id: done.container,
                message_id: done.object,
            });
        }
        let channel_id =
            Id::new_checked(channel).ok_or_else(|| Status::invalid_argument("channel_id is 0"))?;
        let discord = self.discord()?;
        let mut attempt = 1;
        let response = loop {
            let sent = discord
                .http
                .create_message(channel_id)
                .content(content)
                .embeds(embeds)
                .components(&reply.components)
                .attachments(&attachments)
                .allowed_mentions(reply.allowed_mentions.as_ref())
                .nonce(nonce(key))
                .await;
            match sent {
                Ok(response) => break response,
                // twilight's limiter keeps us inside the buckets it knows; a 429 it could not
                // foresee (another process on the same token) is waited out, briefly.
                Err(error) if attempt < SEND_ATTEMPTS => match retry_after(&error) {
                    Some(wait) => {
                        tracing::info!(
                            channel,
                            wait_ms = wait.as_millis() as u64,
                            "Discord rate limit; waiting"
                        );
                        tokio::time::sleep(wait).await;
                        attempt += 1;
                    }
                    None => return Err(discord_error(error)),
                },
                Err(error) => return Err(discord_error(error)),
            }
        };
        let message = response
            .model()
            .await
            .map_err(|e| Status::internal(format!("unreadable Discord answer: {e}")))?;
        self.remember(key, "message", channel, message.id.get())
            .await?;
        Ok(pb::SendMessageReply {
            channel_id: channel,
            message_id: message.id.get(),
        })
    }
}

/// Tries per send when Discord answers 429.
const SEND_ATTEMPTS: u32 = 3;

/// How long a 429 asks us to wait, when it is short enough to wait in-line (≤ 5 s).
fn retry_after(error: &twilight_http::Error) -> Option<std::time::Duration> {
    match error.kind() {
        twilight_http::error::ErrorType::Response {
            error: twilight_http::api_error::ApiError::Ratelimited(limited),
            ..
        } if limited.retry_after <= 5.0 => Some(std::time::Duration::from_secs_f64(
            limited.retry_after.max(0.0),
        )),
        _ => None,
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
/// Discord's JSON error code of a refused request, if it was one.
pub(crate) fn discord_error_code(error: &twilight_http::Error) -> Option<u64> {
    match error.kind() {
        twilight_http::error::ErrorType::Response {
            error: twilight_http::api_error::ApiError::General(general),
            ..
        } => Some(general.code),
        _ => None,
    }
}

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
            10003 | 10007 | 10013 | 10070 => Status::not_found(general.message.clone()),
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

/// A guild member as the RPC answers it.
fn member(m: &twilight_model::guild::Member) -> pb::Member {
    pb::Member {
        user_id: m.user.id.get(),
        username: m.user.name.clone(),
        global_name: m.user.global_name.clone().unwrap_or_default(),
        nick: m.nick.clone().unwrap_or_default(),
        role_ids: m.roles.iter().map(|r| r.get()).collect(),
    }
}

/// Whether Discord tag `tag` names `user`: `name` and `name#0` the (new-style) username,
/// `name#1234` a legacy username with its discriminator; case-insensitive, like usernames.
pub(crate) fn tag_matches(tag: &str, user: &twilight_model::user::User) -> bool {
    let tag = tag.trim().trim_start_matches('@');
    let (name, discriminator) = match tag.rsplit_once('#') {
        Some((name, d)) if d.chars().all(|c| c.is_ascii_digit()) && !d.is_empty() => {
            (name, d.parse::<u16>().unwrap_or(u16::MAX))
        }
        _ => (tag, 0),
    };
    user.name.eq_ignore_ascii_case(name) && user.discriminator == discriminator
}

#[tonic::async_trait]
impl DiscordRpc for DiscordApi {
    async fn send_message(
        &self,
        request: Request<pb::SendMessageRequest>,
    ) -> Result<Response<pb::SendMessageReply>, Status> {
        let r = request.into_inner();
        let embeds: Vec<Embed> = r.embeds.iter().map(embed).collect();
        self.send(&r.idempotency_key, r.channel_id, &r.content, &embeds)
            .await
            .map(Response::new)
    }

    async fn edit_message(
        &self,
        request: Request<pb::EditMessageRequest>,
    ) -> Result<Response<pb::EditMessageReply>, Status> {
        let r = request.into_inner();
        let reply = crate::discord::Reply {
            content: Some(r.content.clone()).filter(|c| !c.is_empty()),
            embeds: r.embeds.iter().map(embed).collect(),
            ..Default::default()
        };
        self.edit_message(r.channel_id, r.message_id, &reply)
            .await?;
        Ok(Response::new(pb::EditMessageReply {}))
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
        let embeds: Vec<Embed> = r.embeds.iter().map(embed).collect();
        self.send(&r.idempotency_key, channel.id.get(), &r.content, &embeds)
            .await
            .map(Response::new)
    }

    async fn get_member(
        &self,
        request: Request<pb::GetMemberRequest>,
    ) -> Result<Response<pb::Member>, Status> {
        let r = request.into_inner();
        let guild =
            Id::new_checked(r.guild_id).ok_or_else(|| Status::invalid_argument("guild_id is 0"))?;
        let user =
            Id::new_checked(r.user_id).ok_or_else(|| Status::invalid_argument("user_id is 0"))?;
        let found = self
            .discord()?
            .http
            .guild_member(guild, user)
            .await
            .map_err(discord_error)?
            .model()
            .await
            .map_err(|e| Status::internal(format!("unreadable Discord answer: {e}")))?;
        Ok(Response::new(member(&found)))
    }

    async fn set_member_role(
        &self,
        request: Request<pb::SetMemberRoleRequest>,
    ) -> Result<Response<pb::SetMemberRoleReply>, Status> {
        let r = request.into_inner();
        let (Some(guild), Some(user), Some(role)) = (
            Id::new_checked(r.guild_id),
            Id::new_checked(r.user_id),
            Id::new_checked(r.role_id),
        ) else {
            return Err(Status::invalid_argument(
                "guild_id, user_id and role_id are required",
            ));
        };
        use twilight_http::request::AuditLogReason;
        let http = &self.discord()?.http;
        let reason: String = r.reason.chars().take(400).collect();
        let result = if r.grant {
            let request = http.add_guild_member_role(guild, user, role);
            if reason.is_empty() {
                request.await
            } else {
                request.reason(&reason).await
            }
        } else {
            let request = http.remove_guild_member_role(guild, user, role);
            if reason.is_empty() {
                request.await
            } else {
                request.reason(&reason).await
            }
        };
        result.map_err(discord_error)?;
        Ok(Response::new(pb::SetMemberRoleReply {}))
    }

    async fn find_member(
        &self,
        request: Request<pb::FindMemberRequest>,
    ) -> Result<Response<pb::Member>, Status> {
        let r = request.into_inner();
        let guild =
            Id::new_checked(r.guild_id).ok_or_else(|| Status::invalid_argument("guild_id is 0"))?;
        let tag = r.tag.trim().trim_start_matches('@');
        let name = tag.rsplit_once('#').map_or(tag, |(name, _)| name);
        if name.is_empty() {
            return Err(Status::invalid_argument("tag is empty"));
        }
        // Discord's search matches the start of usernames and nicknames; the exact match is
        // picked here.
        let found = self
            .discord()?
            .http
            .search_guild_members(guild, name)
            .limit(1000)
            .await
            .map_err(discord_error)?
            .models()
            .await
            .map_err(|e| Status::internal(format!("unreadable Discord answer: {e}")))?;
        found
            .iter()
            .find(|m| tag_matches(tag, &m.user))
            .map(|m| Response::new(member(m)))
            .ok_or_else(|| Status::not_found(format!("no member of the guild is `{tag}`")))
    }

    async fn create_scheduled_event(
        &self,
        request: Request<pb::ScheduledEvent>,
    ) -> Result<Response<pb::ScheduledEvent>, Status> {
        let mut event = request.into_inner();
        if event.idempotency_key.is_empty() {
            return Err(Status::invalid_argument("idempotency_key is required"));
        }
        if let Some(done) = self
            .created(&event.idempotency_key, "scheduled_event")
            .await?
        {
            event.guild_id = done.container;
            event.event_id = done.object;
            return Ok(Response::new(event));
        }
        let guild = Id::new_checked(event.guild_id)
            .ok_or_else(|| Status::invalid_argument("guild_id is 0"))?;
        let (start, end) = event_times(&event)?;
        let mut create = self
            .discord()?
            .http
            .create_guild_scheduled_event(guild, PrivacyLevel::GuildOnly)
            .external(&event.name, &event.location, &start, &end);
        if !event.description.is_empty() {
            create = create.description(&event.description);
        }
        let created = create
            .await
            .map_err(discord_error)?
            .model()
            .await
            .map_err(|e| Status::internal(format!("unreadable Discord answer: {e}")))?;
        event.event_id = created.id.get();
        self.remember(
            &event.idempotency_key,
            "scheduled_event",
            event.guild_id,
            event.event_id,
        )
        .await?;
        Ok(Response::new(event))
    }

    async fn update_scheduled_event(
        &self,
        request: Request<pb::ScheduledEvent>,
    ) -> Result<Response<pb::ScheduledEvent>, Status> {
        let event = request.into_inner();
        let guild = Id::new_checked(event.guild_id)
            .ok_or_else(|| Status::invalid_argument("guild_id is 0"))?;
        let id = Id::new_checked(event.event_id)
            .ok_or_else(|| Status::invalid_argument("event_id is 0"))?;
        let (start, end) = event_times(&event)?;
        // Setting the same fields again is harmless, so a retry needs no record.
        self.discord()?
            .http
            .update_guild_scheduled_event(guild, id)
            .name(&event.name)
            .description((!event.description.is_empty()).then_some(event.description.as_str()))
            .location(Some(&event.location))
            .scheduled_start_time(&start)
            .scheduled_end_time(Some(&end))
            .await
            .map_err(discord_error)?;
        Ok(Response::new(event))
    }

    async fn delete_scheduled_event(
        &self,
        request: Request<pb::DeleteScheduledEventRequest>,
    ) -> Result<Response<pb::DeleteScheduledEventReply>, Status> {
        let r = request.into_inner();
        let guild =
            Id::new_checked(r.guild_id).ok_or_else(|| Status::invalid_argument("guild_id is 0"))?;
        let id =
            Id::new_checked(r.event_id).ok_or_else(|| Status::invalid_argument("event_id is 0"))?;
        match self
            .discord()?
            .http
            .delete_guild_scheduled_event(guild, id)
            .await
        {
            Ok(_) => Ok(Response::new(pb::DeleteScheduledEventReply {})),
            // Already gone: a retried delete succeeded the first time.
            Err(error) if discord_error_code(&error) == Some(10070) => {
                Ok(Response::new(pb::DeleteScheduledEventReply {}))
            }
            Err(error) => Err(discord_error(error)),
        }
    }
}

/// The start and end of an external event (Discord requires both, start in the future).
fn event_times(event: &pb::ScheduledEvent) -> Result<(Timestamp, Timestamp), Status> {
    let convert = |name: &str, t: Option<&prost_types::Timestamp>| {
        let t = t.ok_or_else(|| Status::invalid_argument(format!("{name} is required")))?;
        Timestamp::from_secs(t.seconds)
            .map_err(|_| Status::invalid_argument(format!("{name} is out of range")))
    };
    let start = convert("start_time", event.start_time.as_ref())?;
    let end = convert("end_time", event.end_time.as_ref())?;
    if end.as_secs() <= start.as_secs() {
        return Err(Status::invalid_argument(
            "end_time must be after start_time",
        ));
    }
    if event.name.trim().is_empty() || event.location.trim().is_empty() {
        return Err(Status::invalid_argument(
            "an event needs a name and a location (for a race: the room URL)",
        ));
    }
    Ok((start, end))
}
