//! The audit log and moderation (spec `discord-and-web.md` §2), run by the gateway's own shards
//! when `moderation.enabled` says the bot has the privileged Message Content and Server Members
//! intents (upstream ran a second bot user with every intent; one connection per shard keeps
//! one rate limiter, one configuration cache and one deployment, and a guild opts in with
//! `/config`).
//!
//! * **Audit log** (`AuditLogging` true and `AuditLogChannel` set; `AuditExcludedChannels` are
//!   ignored, and so is the audit channel itself): every member message is recorded with its
//!   edits in `gateway_audit_messages` (kept `moderation.history_days`, default 30, and exported
//!   as CSV by `/audit history`); edits and deletions are posted with old and new content, and
//!   joins, leaves and bans are posted. Upstream recorded messages of every guild, gated only the
//!   member posts on `AuditLogging`, and its channel exclusion never matched.
//! * **Moderation** (`Moderation` true): members who joined less than a day ago may not post
//!   invite links or executables; links to hosts on Discord's phishing list are removed and
//!   their author timed out; ROMs are removed, also inside zip archives up to
//!   `moderation.zip_max_bytes`. Members who may manage the server or moderate members are
//!   exempt.
//!
//! Posts go through the idempotent [`DiscordApi`] with keys derived from the event (message id,
//! edit timestamp), so an event delivered twice, or replayed after a reconnect, posts once.

pub mod moderation;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use platform::db::{u64_from_db, u64_to_db};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, sea_query::Expr,
};
use serde::{Deserialize, Serialize};
use twilight_gateway::Event;
use twilight_http::request::AuditLogReason as _;
use twilight_model::channel::Message;
use twilight_model::channel::message::Embed;
use twilight_model::guild::Permissions;
use twilight_model::id::Id;
use twilight_model::user::User;
use twilight_model::util::Timestamp;

use crate::discord::Discord;
use crate::embeds::{blank, field};
use crate::grpc::DiscordApi;
use crate::guild_config::{GuildConfig, GuildSettings, Key};
use crate::permissions::PermissionCache;
use moderation::{Inspected, PhishingList, Violation};

/// `gateway_audit_messages`: every recorded version of a member's message.
pub mod record {
    use sea_orm::entity::prelude::*;

    /// One version of one message.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "gateway_audit_messages")]
    pub struct Model {
        /// Row id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The guild.
        pub guild_id: i64,
        /// The channel.
        pub channel_id: i64,
        /// The message.
        pub message_id: i64,
        /// Its author.
        pub author_id: i64,
        /// The author's username then.
        pub author_name: String,
        /// 0 as posted, then 1, 2, … per edit.
        pub version: i32,
        /// The text of this version.
        pub content: String,
        /// Attachment URLs, space-separated (≤ 1000 characters).
        pub attachment: String,
        /// When the message was posted.
        pub message_at: ChronoDateTimeUtc,
        /// When this version was recorded.
        pub recorded_at: ChronoDateTimeUtc,
        /// Whether the message was deleted.
        pub deleted: bool,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Settings of the audit log and moderation (`GATEWAY_MODERATION__…`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ModerationSettings {
    /// The bot has the Message Content and Server Members intents (enable both in the
    /// developer portal first): the shards subscribe to message and member events. Off: the
    /// audit log and moderation are disabled (logged at start).
    pub enabled: bool,
    /// Discord's phishing host list (SHA-256 digests).
    pub phishing_list_url: String,
    /// How long the phishing list is kept before it is fetched again, in seconds.
    pub phishing_refresh_secs: u64,
    /// Zip attachments larger than this are not opened, in bytes.
    pub zip_max_bytes: u64,
    /// Recorded messages are deleted after this many days.
    pub history_days: u32,
    /// How long a phishing link's author is timed out, in minutes.
    pub phishing_timeout_minutes: u32,
}

impl Default for ModerationSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            phishing_list_url: "https://cdn.discordapp.com/bad-domains/hashes.json".into(),
            phishing_refresh_secs: 3600,
            zip_max_bytes: 8 * 1024 * 1024,
            history_days: 30,
            phishing_timeout_minutes: 30,
        }
    }
}

/// Dark orange of the "Message Edited" embed.
const DARK_ORANGE: u32 = 0xA84300;
/// Green of "Member Joined".
const GREEN: u32 = 0x2ECC71;
/// Red of "Member Left" / "Member Banned".
const RED: u32 = 0xE74C3C;

/// The listener; cheap to clone.
#[derive(Clone, Debug)]
pub struct Audit {
    discord: Discord,
    api: DiscordApi,
    config: GuildConfig,
    db: DatabaseConnection,
    permissions: PermissionCache,
    files: reqwest::Client,
    settings: ModerationSettings,
    phishing: Arc<Mutex<Option<FetchedList>>>,
}

/// The phishing list and when it was fetched.
type FetchedList = (Instant, Arc<PhishingList>);

impl Audit {
    /// The listener posting through `api`.
    pub fn new(
        discord: Discord,
        api: DiscordApi,
        config: GuildConfig,
        db: DatabaseConnection,
        permissions: PermissionCache,
        files: reqwest::Client,
        settings: ModerationSettings,
    ) -> Self {
        Self {
            discord,
            api,
            config,
            db,
            permissions,
            files,
            settings,
            phishing: Arc::new(Mutex::new(None)),
        }
    }

    /// Acts on one gateway event; errors are logged (Discord will not send it again).
    pub async fn on_event(&self, event: Event) {
        let outcome = match event {
            Event::MessageCreate(m) => self.created(&m).await,
            Event::MessageUpdate(m) => self.edited(&m).await,
            Event::MessageDelete(d) => match d.guild_id {
                Some(guild) => {
                    self.deleted(guild.get(), d.channel_id.get(), d.id.get())
                        .await
                }
                None => Ok(()),
            },
            Event::MessageDeleteBulk(d) => match d.guild_id {
                Some(guild) => {
                    let mut outcome = Ok(());
                    for id in &d.ids {
                        outcome = outcome.and(
                            self.deleted(guild.get(), d.channel_id.get(), id.get())
                                .await,
                        );
                    }
                    outcome
                }
                None => Ok(()),
            },
            Event::MemberAdd(m) => {
                self.member_event(m.guild_id.get(), &m.member.user, Change::Joined)
                    .await
            }
            Event::MemberRemove(m) => {
                self.member_event(m.guild_id.get(), &m.user, Change::Left)
                    .await
            }
            Event::BanAdd(b) => {
                self.member_event(b.guild_id.get(), &b.user, Change::Banned)
                    .await
            }
            _ => Ok(()),
        };
        if let Err(error) = outcome {
            tracing::warn!(error = %format!("{error:#}"), "audit/moderation event not handled");
        }
    }

    /// The guild's settings when the audit log is on for `channel`.
    async fn audit_channel(
        &self,
        guild: u64,
        channel: u64,
    ) -> Result<Option<(Arc<GuildSettings>, u64)>, DbErr> {
        let settings = self.config.guild(guild).await?;
        let Some(audit) = settings.channel(Key::AuditLogChannel) else {
            return Ok(None);
        };
        let excluded = settings
            .list(Key::AuditExcludedChannels)
            .iter()
            .any(|c| c.parse::<u64>().ok() == Some(channel));
        if !settings.flag(Key::AuditLogging) || channel == audit || excluded {
            return Ok(None);
        }
        Ok(Some((settings, audit)))
    }

    async fn created(&self, message: &Message) -> anyhow::Result<()> {
        let Some(guild) = message.guild_id.map(Id::get) else {
            return Ok(());
        };
        if message.author.bot {
            return Ok(());
        }
        if self.moderate(guild, message).await? {
            return Ok(());
        }
        if self
            .audit_channel(guild, message.channel_id.get())
            .await?
            .is_some()
        {
            self.record(guild, message, 0).await?;
        }
        Ok(())
    }

    /// Stores a version; false when it was already stored (a redelivered event).
    async fn record(&self, guild: u64, message: &Message, version: i32) -> Result<bool, DbErr> {
        let attachment: String = message
            .attachments
            .iter()
            .map(|a| a.url.as_str())
            .collect::<Vec<_>>()
            .join(" ")
            .chars()
            .take(1000)
            .collect();
        let row = record::ActiveModel {
            guild_id: Set(u64_to_db(guild)),
            channel_id: Set(u64_to_db(message.channel_id.get())),
            message_id: Set(u64_to_db(message.id.get())),
            author_id: Set(u64_to_db(message.author.id.get())),
            author_name: Set(message.author.name.chars().take(100).collect()),
            version: Set(version),
            content: Set(message.content.clone()),
            attachment: Set(attachment),
            message_at: Set(timestamp(message.timestamp)),
            recorded_at: Set(chrono::Utc::now()),
            deleted: Set(false),
            ..Default::default()
        };
        match record::Entity::insert(row)
            .exec_without_returning(&self.db)
            .await
        {
            Ok(_) => Ok(true),
            Err(error) if platform::db::is_unique_violation(&error) => Ok(false),
            Err(error) => Err(error),
        }
    }

    async fn versions(&self, message: u64) -> Result<Vec<record::Model>, DbErr> {
        record::Entity::find()
            .filter(record::Column::MessageId.eq(u64_to_db(message)))
            .order_by_asc(record::Column::Version)
            .all(&self.db)
            .await
    }

    async fn edited(&self, message: &Message) -> anyhow::Result<()> {
        let Some(guild) = message.guild_id.map(Id::get) else {
            return Ok(());
        };
        if message.author.bot {
            return Ok(());
        }
        let Some((_, audit)) = self.audit_channel(guild, message.channel_id.get()).await? else {
            return Ok(());
        };
        let versions = self.versions(message.id.get()).await?;
        let Some(last) = versions.last() else {
            // Posted before the log was on (or before the bot saw it): the old text is
            // unknown, so this version becomes the first one.
            self.record(guild, message, 0).await?;
            return Ok(());
        };
        // Embeds unfurling also arrive as updates; only a text change is an edit.
        if last.content == message.content {
            return Ok(());
        }
        let version = last.version + 1;
        self.record(guild, message, version).await?;
        let mut embed = blank(
            Some("Message Edited".into()),
            Some(format!(
                "**A message from <@{}> was edited in <#{}>.** [Jump to Message](https://discord.com/channels/{guild}/{}/{})",
                message.author.id, message.channel_id, message.channel_id, message.id
            )),
            Some(DARK_ORANGE),
        );
        embed.fields = vec![
            field("Old Message", shown(&last.content, 1000), false),
            field("New Message", shown(&message.content, 1000), false),
        ];
        embed.timestamp = Timestamp::from_secs(chrono::Utc::now().timestamp()).ok();
        // The edit's own timestamp (or version) identifies it: a replayed update posts once.
        let key = format!("audit:edit:{}:{version}", message.id);
        self.post(&key, audit, embed).await
    }

    async fn deleted(&self, guild: u64, channel: u64, message: u64) -> anyhow::Result<()> {
        let Some((_, audit)) = self.audit_channel(guild, channel).await? else {
            return Ok(());
        };
        let versions = self.versions(message).await?;
        record::Entity::update_many()
            .col_expr(record::Column::Deleted, Expr::value(true))
            .filter(record::Column::MessageId.eq(u64_to_db(message)))
            .exec(&self.db)
            .await?;
        let last = versions.last();
        let author = last.map_or_else(
            || "`unknown`".to_owned(),
            |r| format!("<@{}>", u64_from_db(r.author_id)),
        );
        let mut embed = blank(
            Some("Message Deleted".into()),
            Some(format!(
                "**Message sent by {author} was deleted in <#{channel}>.**"
            )),
            Some(crate::embeds::DARK_RED),
        );
        if let Some(last) = last {
            embed
                .fields
                .push(field("Old Message", shown(&last.content, 1020), false));
            if !last.attachment.is_empty() {
                embed.fields.push(field(
                    "Old Attachment",
                    shown(&last.attachment, 1020),
                    false,
                ));
            }
        }
        if let Some(first) = versions.first() {
            embed.fields.push(field(
                "Message Timestamp",
                first.message_at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
                false,
            ));
        }
        embed.timestamp = Timestamp::from_secs(chrono::Utc::now().timestamp()).ok();
        self.post(&format!("audit:delete:{message}"), audit, embed)
            .await
    }

    async fn member_event(&self, guild: u64, user: &User, change: Change) -> anyhow::Result<()> {
        let settings = self.config.guild(guild).await?;
        let Some(audit) = settings.channel(Key::AuditLogChannel) else {
            return Ok(());
        };
        if !settings.flag(Key::AuditLogging) {
            return Ok(());
        }
        let (title, color, word) = match change {
            Change::Joined => ("Member Joined", GREEN, "joined"),
            Change::Left => ("Member Left", RED, "left"),
            Change::Banned => ("Member Banned", RED, "banned"),
        };
        let mut embed = blank(
            Some(title.into()),
            Some(format!("<@{}> {}", user.id, user.name)),
            Some(color),
        );
        if let Some(avatar) = user.avatar {
            embed.thumbnail = Some(twilight_model::channel::message::embed::EmbedThumbnail {
                height: None,
                proxy_url: None,
                url: format!(
                    "https://cdn.discordapp.com/avatars/{}/{avatar}.png",
                    user.id
                ),
                width: None,
            });
        }
        embed.timestamp = Timestamp::from_secs(chrono::Utc::now().timestamp()).ok();
        // Discord gives these events no id; the minute tells a replay from a second leave.
        let minute = chrono::Utc::now().timestamp() / 60;
        let key = format!("audit:{word}:{guild}:{}:{minute}", user.id);
        self.post(&key, audit, embed).await
    }

    async fn post(&self, key: &str, channel: u64, embed: Embed) -> anyhow::Result<()> {
        self.api
            .send(key, channel, "", &[embed])
            .await
            .map(drop)
            .map_err(|s| anyhow::anyhow!("posting to the audit channel {channel}: {}", s.message()))
    }

    /// Applies the moderation rules; true when the message was removed.
    async fn moderate(&self, guild: u64, message: &Message) -> anyhow::Result<bool> {
        let settings = self.config.guild(guild).await?;
        if !settings.flag(Key::Moderation) {
            return Ok(false);
        }
        let Some(member) = &message.member else {
            return Ok(false);
        };
        let roles = self.permissions.guild_roles(&self.discord, guild).await?;
        let held: Vec<u64> = member.roles.iter().map(|r| r.get()).collect();
        let exempt =
            Permissions::MANAGE_GUILD | Permissions::MODERATE_MEMBERS | Permissions::ADMINISTRATOR;
        if crate::permissions::in_guild(guild, &roles, &held).intersects(exempt) {
            return Ok(false);
        }
        let new_member = member
            .joined_at
            .is_some_and(|joined| chrono::Utc::now().timestamp() - joined.as_secs() < 24 * 3600);
        let inspected = Inspected {
            content: &message.content,
            attachments: message
                .attachments
                .iter()
                .map(|a| a.filename.as_str())
                .collect(),
            new_member,
        };
        let phishing = self.phishing_list().await;
        let mut violation = moderation::check(&inspected, &phishing);
        if violation.is_none() {
            for zip in message
                .attachments
                .iter()
                .filter(|a| moderation::is_zip(&a.filename))
            {
                if self.zip_has_rom(&zip.url, zip.size).await {
                    violation = Some(Violation::ZippedRom);
                    break;
                }
            }
        }
        let Some(violation) = violation else {
            return Ok(false);
        };
        self.remove(guild, message, violation).await?;
        Ok(true)
    }

    /// Deletes the message, says why (once per message) and times out a phisher.
    async fn remove(
        &self,
        guild: u64,
        message: &Message,
        violation: Violation,
    ) -> anyhow::Result<()> {
        let key = format!("moderation:{}", message.id);
        // Claimed before acting, so a replay arriving mid-way does nothing.
        let reason = format!("{violation:?}");
        if platform::idempotency::insert(
            &self.db,
            "moderation",
            &key,
            platform::idempotency::KeyState::Pending,
            None,
            None,
            None,
        )
        .await?
            == platform::idempotency::Inserted::Existing
        {
            return Ok(());
        }
        tracing::info!(guild, message = %message.id, ?violation, "removing a message");
        match self
            .discord
            .http
            .delete_message(message.channel_id, message.id)
            .reason(&reason)
            .await
        {
            Ok(_) => {}
            // Already gone (a moderator was quicker, or a replay).
            Err(error) if crate::grpc::discord_error_code(&error) == Some(10008) => {}
            Err(error) => return Err(error.into()),
        }
        self.api
            .send(
                &key,
                message.channel_id.get(),
                &violation.notice(message.author.id.get()),
                &[],
            )
            .await
            .map_err(|s| anyhow::anyhow!("moderation notice: {}", s.message()))?;
        if violation == Violation::Phishing {
            let until = chrono::Utc::now().timestamp()
                + i64::from(self.settings.phishing_timeout_minutes) * 60;
            self.discord
                .http
                .update_guild_member(Id::new(guild.max(1)), message.author.id)
                .communication_disabled_until(Timestamp::from_secs(until).ok())
                .reason("automated timeout for phishing")
                .await?;
        }
        platform::idempotency::finish(&self.db, "moderation", &key, None, Some(&reason)).await?;
        Ok(())
    }

    /// Discord's phishing list, fetched at most once per `phishing_refresh_secs`; an
    /// unreachable list keeps the last one (or none).
    async fn phishing_list(&self) -> Arc<PhishingList> {
        let cached = self
            .phishing
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if let Some((at, list)) = &cached
            && at.elapsed() < Duration::from_secs(self.settings.phishing_refresh_secs)
        {
            return list.clone();
        }
        let fetched = async {
            let body = self
                .files
                .get(&self.settings.phishing_list_url)
                .send()
                .await?
                .error_for_status()?
                .bytes()
                .await?;
            anyhow::Ok(PhishingList::from_json(&body)?)
        }
        .await;
        let list = match fetched {
            Ok(list) => Arc::new(list),
            Err(error) => {
                tracing::warn!(%error, "the phishing list could not be fetched; keeping the last one");
                cached.map(|(_, l)| l).unwrap_or_default()
            }
        };
        *self.phishing.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((Instant::now(), list.clone()));
        list
    }

    async fn zip_has_rom(&self, url: &str, size: u64) -> bool {
        if size > self.settings.zip_max_bytes {
            return false;
        }
        let body = async {
            let mut response = self.files.get(url).send().await?.error_for_status()?;
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await? {
                body.extend_from_slice(&chunk);
                if body.len() as u64 > self.settings.zip_max_bytes {
                    anyhow::bail!("larger than declared");
                }
            }
            anyhow::Ok(body)
        }
        .await;
        match body {
            Ok(body) => moderation::zip_has_rom(&body).unwrap_or(false),
            Err(error) => {
                tracing::warn!(%error, "a zip attachment could not be inspected");
                false
            }
        }
    }

    /// Deletes recorded messages older than `history_days`; how many went.
    ///
    /// Errors: the database.
    pub async fn clean_history(&self) -> Result<u64, DbErr> {
        let cutoff =
            chrono::Utc::now() - chrono::Duration::days(i64::from(self.settings.history_days));
        Ok(record::Entity::delete_many()
            .filter(record::Column::RecordedAt.lt(cutoff))
            .exec(&self.db)
            .await?
            .rows_affected)
    }
}

#[derive(Clone, Copy)]
enum Change {
    Joined,
    Left,
    Banned,
}

/// Text for an embed field: at most `max` characters, `*empty*` when empty.
fn shown(text: &str, max: usize) -> String {
    if text.is_empty() {
        return "*empty*".into();
    }
    let mut out: String = text.chars().take(max).collect();
    if text.chars().count() > max {
        out.push('…');
    }
    out
}

fn timestamp(t: Timestamp) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_micros(t.as_micros()).unwrap_or_default()
}

/// A member's recorded messages in a guild, newest first, as CSV (`message_date, channel_id,
/// version, content, attachment, deleted`), for `/audit history`.
///
/// Errors: the database.
pub async fn history_csv(
    db: &DatabaseConnection,
    guild: u64,
    member: u64,
    deleted_only: bool,
    limit: u64,
) -> Result<(usize, Vec<u8>), DbErr> {
    let mut query = record::Entity::find()
        .filter(record::Column::GuildId.eq(u64_to_db(guild)))
        .filter(record::Column::AuthorId.eq(u64_to_db(member)));
    if deleted_only {
        query = query.filter(record::Column::Deleted.eq(true));
    }
    let rows = query
        .order_by_desc(record::Column::MessageAt)
        .order_by_desc(record::Column::Version)
        .limit(limit)
        .all(db)
        .await?;
    let mut writer = csv::Writer::from_writer(Vec::new());
    let write = |w: &mut csv::Writer<Vec<u8>>, r: [&str; 6]| {
        w.write_record(r)
            .map_err(|e| DbErr::Custom(format!("csv: {e}")))
    };
    write(
        &mut writer,
        [
            "message_date",
            "channel_id",
            "version",
            "content",
            "attachment",
            "deleted",
        ],
    )?;
    for r in &rows {
        write(
            &mut writer,
            [
                &r.message_at.to_rfc3339(),
                &u64_from_db(r.channel_id).to_string(),
                &r.version.to_string(),
                &r.content,
                &r.attachment,
                if r.deleted { "true" } else { "false" },
            ],
        )?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| DbErr::Custom(format!("csv: {e}")))?;
    Ok((rows.len(), bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_cut_and_never_empty() {
        assert_eq!(shown("", 10), "*empty*");
        assert_eq!(shown("abcdef", 3), "abc…");
        assert_eq!(shown("abc", 3), "abc");
    }
}
