//! The ALTTPR daily challenge announcer (spec §1.3): every few minutes it asks seedgen for the
//! daily; a hash not announced before is posted to every channel of every guild's
//! `DailyAnnouncerChannel`, each post getting a public thread named after the seed (archived
//! after a day). Posts go through the idempotent send (`daily:{hash}:{channel}`) and a thread
//! that already exists counts as made, so a crash or a second replica never doubles them; the
//! hash is recorded only after every guild had its post.

use proto::seedgen::v1::GetDailyRequest;
use proto::seedgen::v1::seed_gen_client::SeedGenClient;
use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait};
use twilight_model::channel::thread::AutoArchiveDuration;
use twilight_model::id::Id;

use crate::discord::Discord;
use crate::grpc::DiscordApi;
use crate::guild_config::{GuildConfig, Key};

/// `gateway_daily_announcements`: daily hashes already announced.
pub mod announced {
    use sea_orm::entity::prelude::*;

    /// An announced daily.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "gateway_daily_announcements")]
    pub struct Model {
        /// The daily's hash.
        #[sea_orm(primary_key, auto_increment = false)]
        pub hash: String,
        /// When it was announced.
        pub announced_at: ChronoDateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// What the announcer needs.
#[derive(Debug, Clone)]
pub struct Announcer {
    /// The Discord REST client.
    pub discord: Discord,
    /// Posts once per key.
    pub api: DiscordApi,
    /// Which guilds want the daily, and where.
    pub config: GuildConfig,
    /// Where the daily comes from.
    pub seedgen: platform::grpc::Peer,
    /// Which dailies were announced.
    pub db: DatabaseConnection,
    /// Item emoji for the file-select code.
    pub emoji: std::collections::BTreeMap<String, String>,
}

/// The daily's embed, as `/dailygame` shows it.
pub fn embed(
    daily: &proto::seedgen::v1::GetDailyReply,
    emoji: &std::collections::BTreeMap<String, String>,
) -> twilight_model::channel::message::Embed {
    let reply = proto::seedgen::v1::GenerateReply {
        permalink: daily.permalink.clone(),
        hash: daily.hash.clone(),
        file_select_code: daily.file_select_code.clone(),
        title: daily.title.clone(),
        description: "This is today's daily challenge.  The latest challenge can always be found at https://alttpr.com/daily".into(),
        ..Default::default()
    };
    let mut e = crate::embeds::alttpr(&reply, emoji, false);
    // The daily has no settings to show; drop the masked-game placeholder.
    e.fields.retain(|f| f.name != "Mystery Game");
    e
}

impl Announcer {
    /// One periodic check; a failure is logged and retried at the next one.
    pub async fn tick(&self) {
        if let Err(error) = self.check().await {
            tracing::warn!(error = %format!("{error:#}"), "daily announcement deferred to the next check");
        }
    }

    /// One check: announces the daily if it is new. Returns how many channels got it.
    ///
    /// Errors: seedgen, the database or Discord failed in a way worth retrying next time.
    pub async fn check(&self) -> anyhow::Result<usize> {
        let mut seedgen = SeedGenClient::new(self.seedgen.channel());
        let daily = seedgen.get_daily(GetDailyRequest {}).await?.into_inner();
        if daily.hash.is_empty()
            || announced::Entity::find_by_id(daily.hash.clone())
                .one(&self.db)
                .await?
                .is_some()
        {
            return Ok(0);
        }
        let embed = embed(&daily, &self.emoji);
        let mut posted = 0;
        for (guild, settings) in self.config.guilds_with(Key::DailyAnnouncerChannel).await? {
            for channel in settings.list(Key::DailyAnnouncerChannel) {
                let Ok(channel) = channel.parse::<u64>() else {
                    continue;
                };
                let key = format!("daily:{}:{channel}", daily.hash);
                let sent = match self
                    .api
                    .send(&key, channel, "", std::slice::from_ref(&embed))
                    .await
                {
                    Ok(sent) => sent,
                    Err(status) if status.code() == tonic::Code::Unavailable => {
                        anyhow::bail!("posting to {channel}: {}", status.message())
                    }
                    Err(status) => {
                        tracing::warn!(guild, channel, error = %status.message(), "daily not posted; check the guild's DailyAnnouncerChannel");
                        continue;
                    }
                };
                self.thread(channel, sent.message_id, &daily.title).await;
                posted += 1;
            }
        }
        let row = announced::ActiveModel {
            hash: Set(daily.hash.clone()),
            announced_at: Set(chrono::Utc::now()),
        };
        if let Err(error) = announced::Entity::insert(row).exec(&self.db).await
            && !platform::db::is_unique_violation(&error)
        {
            return Err(error.into());
        }
        Ok(posted)
    }

    /// A public thread on the announcement; one that exists already is fine.
    async fn thread(&self, channel: u64, message: u64, title: &str) {
        let (Some(channel), Some(message)) = (Id::new_checked(channel), Id::new_checked(message))
        else {
            return;
        };
        let name: String = if title.trim().is_empty() {
            "Daily Challenge".to_owned()
        } else {
            title.chars().take(100).collect()
        };
        let made = self
            .discord
            .http
            .create_thread_from_message(channel, message, &name)
            .auto_archive_duration(AutoArchiveDuration::Day)
            .await;
        if let Err(error) = made {
            // 160004: a thread has already been created for this message.
            if crate::grpc::discord_error_code(&error) != Some(160004) {
                tracing::warn!(%error, "could not open the daily thread");
            }
        }
    }
}
