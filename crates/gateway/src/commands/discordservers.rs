//! `/discordservers` (spec `discord-and-web.md` §1.6): a guild's directory of related servers.
//! Administrators keep categories (each posted to a channel) and the servers in them (by
//! invite; the invite is resolved for the server's name); `refresh` clears the bot's own posts
//! in the directory channels and posts every category, ten servers a message. Every row belongs
//! to its guild: ids from another guild are "not found" (upstream let any admin change any
//! guild's rows).

use futures::future::BoxFuture;
use platform::db::{u64_from_db, u64_to_db};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder,
};
use twilight_model::application::command::{Command, CommandType};
use twilight_model::guild::Permissions;
use twilight_model::id::Id;
use twilight_util::builder::command::{
    ChannelBuilder, CommandBuilder, IntegerBuilder, StringBuilder, SubCommandBuilder,
};

use super::SlashCommand;
use crate::context::{Ack, App, Call, CommandError};
use crate::discord::Reply;
use crate::embeds::{blank, field};

/// `gateway_directory_categories`.
pub mod category {
    use sea_orm::entity::prelude::*;

    /// A directory category.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "gateway_directory_categories")]
    pub struct Model {
        /// Row id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// Its guild.
        pub guild_id: i64,
        /// Where it is posted.
        pub channel_id: i64,
        /// Title (≤ 200).
        pub title: String,
        /// Description (≤ 200).
        pub description: String,
        /// Order in the channel.
        pub position: i32,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `gateway_directory_servers`.
pub mod server {
    use sea_orm::entity::prelude::*;

    /// A listed server.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "gateway_directory_servers")]
    pub struct Model {
        /// Row id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The directory's guild.
        pub guild_id: i64,
        /// Its category.
        pub category_id: i64,
        /// The invite code (`https://discord.gg/{code}`).
        pub invite_code: String,
        /// The server's name when it was added.
        pub server_name: String,
        /// Description (≤ 200).
        pub description: String,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Servers per directory message.
pub const PER_MESSAGE: usize = 10;

/// `/discordservers`.
#[derive(Debug)]
pub struct DiscordServers;

impl SlashCommand for DiscordServers {
    fn definition(&self) -> Command {
        let id =
            |name: &str, what: &str| IntegerBuilder::new(name, what).required(true).min_value(1);
        let text = |name: &str, what: &str| StringBuilder::new(name, what).max_length(200);
        CommandBuilder::new(
            "discordservers",
            "This server's directory of related servers (administrators).",
            CommandType::ChatInput,
        )
        .default_member_permissions(Permissions::ADMINISTRATOR)
        .option(
            SubCommandBuilder::new("add_category", "Add a category, posted to a channel.")
                .option(ChannelBuilder::new("channel", "Where it is posted.").required(true))
                .option(text("title", "Its title.").required(true))
                .option(text("description", "Its description.").required(true))
                .option(IntegerBuilder::new("order", "Its place (lower first).")),
        )
        .option(SubCommandBuilder::new("list_category", "The categories."))
        .option(
            SubCommandBuilder::new("update_category", "Change a category.")
                .option(id("category_id", "The category."))
                .option(text("title", "Its title.").required(true))
                .option(text("description", "Its description.").required(true))
                .option(IntegerBuilder::new("order", "Its place (lower first).")),
        )
        .option(
            SubCommandBuilder::new("remove_category", "Remove a category and its servers.")
                .option(id("category_id", "The category.")),
        )
        .option(
            SubCommandBuilder::new("add_server", "List a server in a category.")
                .option(id("category_id", "The category."))
                .option(StringBuilder::new("invite_url", "An invite to the server.").required(true))
                .option(text("description", "What it is.").required(true)),
        )
        .option(
            SubCommandBuilder::new("list_servers", "The servers of a category.")
                .option(id("category_id", "The category.")),
        )
        .option(
            SubCommandBuilder::new("update_server", "Change a listed server.")
                .option(id("server_id", "The server's id in the list."))
                .option(StringBuilder::new("invite_url", "An invite to the server.").required(true))
                .option(id("category_id", "The category."))
                .option(text("description", "What it is.")),
        )
        .option(
            SubCommandBuilder::new("remove_server", "Remove a listed server.")
                .option(id("server_id", "The server's id in the list.")),
        )
        .option(SubCommandBuilder::new(
            "refresh",
            "Post the directory again.",
        ))
        .build()
    }

    fn ack(&self, call: &Call) -> Ack {
        if call.path.get(1).map(String::as_str) == Some("list_category") {
            Ack::Public
        } else {
            Ack::Private
        }
    }

    fn run<'a>(
        &'a self,
        app: &'a App,
        call: &'a Call,
    ) -> BoxFuture<'a, Result<Reply, CommandError>> {
        Box::pin(run(app, call))
    }
}

fn db(e: sea_orm::DbErr) -> CommandError {
    CommandError::Internal(anyhow::anyhow!("database: {e}"))
}

/// The invite code of `url` (`https://discord.gg/abc`, `discord.com/invite/abc` or `abc`).
pub fn invite_code(url: &str) -> Option<String> {
    let url = url.trim().trim_end_matches('/');
    let code = url.rsplit('/').next()?.split('?').next()?;
    (!code.is_empty()
        && code.len() <= 45
        && code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
    .then(|| code.to_owned())
}

async fn category_of(app: &App, guild: u64, id: i64) -> Result<category::Model, CommandError> {
    category::Entity::find_by_id(id)
        .filter(category::Column::GuildId.eq(u64_to_db(guild)))
        .one(&app.db)
        .await
        .map_err(db)?
        .ok_or_else(|| CommandError::user(format!("This server has no category {id}.")))
}

async fn server_of(app: &App, guild: u64, id: i64) -> Result<server::Model, CommandError> {
    server::Entity::find_by_id(id)
        .filter(server::Column::GuildId.eq(u64_to_db(guild)))
        .one(&app.db)
        .await
        .map_err(db)?
        .ok_or_else(|| CommandError::user(format!("This server's directory has no server {id}.")))
}

/// Resolves an invite: its code and the server's name.
async fn resolve(app: &App, url: &str) -> Result<(String, String), CommandError> {
    let code = invite_code(url).ok_or_else(|| {
        CommandError::user("That is not a Discord invite (e.g. https://discord.gg/abc123).")
    })?;
    let discord = app
        .discord
        .as_ref()
        .ok_or_else(|| CommandError::user("Discord is not connected right now."))?;
    let invite = discord
        .http
        .invite(&code)
        .await
        .map_err(|_| CommandError::user("Discord does not know that invite (expired?)."))?
        .model()
        .await
        .map_err(|e| CommandError::Internal(anyhow::anyhow!("invite: {e}")))?;
    let name = invite.guild.map(|g| g.name).unwrap_or_else(|| code.clone());
    Ok((code, name))
}

async fn run(app: &App, call: &Call) -> Result<Reply, CommandError> {
    let Some(guild) = call.guild_id else {
        return Err(CommandError::user("The directory belongs to a server."));
    };
    let administrator = call
        .member_permissions
        .is_some_and(|p| p.contains(Permissions::ADMINISTRATOR));
    if !administrator {
        return Err(CommandError::user(
            "Only administrators may manage the server directory.",
        ));
    }
    let int = |name: &str| call.integer(name).unwrap_or_default();
    let text = |name: &str| call.string(name).unwrap_or_default().trim().to_owned();
    match call.path.get(1).map(String::as_str).unwrap_or_default() {
        "add_category" => {
            let channel = call.id("channel").unwrap_or_default();
            let row = category::ActiveModel {
                guild_id: Set(u64_to_db(guild)),
                channel_id: Set(u64_to_db(channel)),
                title: Set(text("title")),
                description: Set(text("description")),
                position: Set(i32::try_from(int("order")).unwrap_or(0)),
                ..Default::default()
            }
            .insert(&app.db)
            .await
            .map_err(db)?;
            Ok(Reply::text(format!(
                "Added category {} (id {}) to <#{channel}>",
                row.title, row.id
            )))
        }
        "list_category" => {
            let rows = category::Entity::find()
                .filter(category::Column::GuildId.eq(u64_to_db(guild)))
                .order_by_asc(category::Column::Position)
                .order_by_asc(category::Column::Id)
                .all(&app.db)
                .await
                .map_err(db)?;
            if rows.is_empty() {
                return Ok(Reply::text("No categories found."));
            }
            let mut embed = blank(Some("List of categories".into()), None, Some(0x3498db));
            embed.fields = rows
                .iter()
                .take(25)
                .map(|c| {
                    field(
                        &c.title,
                        format!(
                            "_*Id:*_ {}\n_*Channel:*_ <#{}>",
                            c.id,
                            u64_from_db(c.channel_id)
                        ),
                        false,
                    )
                })
                .collect();
            Ok(Reply::embed(embed))
        }
        "update_category" => {
            let row = category_of(app, guild, int("category_id")).await?;
            let mut active = row.into_active_model();
            active.title = Set(text("title"));
            active.description = Set(text("description"));
            if let Some(order) = call.integer("order") {
                active.position = Set(i32::try_from(order).unwrap_or(0));
            }
            let row = active.update(&app.db).await.map_err(db)?;
            Ok(Reply::text(format!("Updated category {}", row.id)))
        }
        "remove_category" => {
            let row = category_of(app, guild, int("category_id")).await?;
            server::Entity::delete_many()
                .filter(server::Column::CategoryId.eq(row.id))
                .exec(&app.db)
                .await
                .map_err(db)?;
            category::Entity::delete_by_id(row.id)
                .exec(&app.db)
                .await
                .map_err(db)?;
            Ok(Reply::text(format!("Removed category {}", row.id)))
        }
        "add_server" => {
            let category = category_of(app, guild, int("category_id")).await?;
            let (code, name) = resolve(app, &text("invite_url")).await?;
            server::ActiveModel {
                guild_id: Set(u64_to_db(guild)),
                category_id: Set(category.id),
                invite_code: Set(code),
                server_name: Set(name.chars().take(100).collect()),
                description: Set(text("description")),
                ..Default::default()
            }
            .insert(&app.db)
            .await
            .map_err(db)?;
            Ok(Reply::text(format!(
                "Added server {name} to category {}",
                category.id
            )))
        }
        "list_servers" => {
            let category = category_of(app, guild, int("category_id")).await?;
            let rows = server::Entity::find()
                .filter(server::Column::CategoryId.eq(category.id))
                .order_by_asc(server::Column::Id)
                .all(&app.db)
                .await
                .map_err(db)?;
            if rows.is_empty() {
                return Ok(Reply::text(format!(
                    "No servers found for category {}",
                    category.id
                )));
            }
            let mut embed = blank(
                Some(format!("Server list for category id {}", category.id)),
                None,
                Some(0x3498db),
            );
            embed.fields = rows
                .iter()
                .take(25)
                .map(|s| field(&s.description, format!("_*Id:*_ {}", s.id), false))
                .collect();
            Ok(Reply::embed(embed))
        }
        "update_server" => {
            let row = server_of(app, guild, int("server_id")).await?;
            let category = category_of(app, guild, int("category_id")).await?;
            let (code, name) = resolve(app, &text("invite_url")).await?;
            let mut active = row.into_active_model();
            active.category_id = Set(category.id);
            active.invite_code = Set(code);
            active.server_name = Set(name.chars().take(100).collect());
            if call.string("description").is_some() {
                active.description = Set(text("description"));
            }
            let row = active.update(&app.db).await.map_err(db)?;
            Ok(Reply::text(format!("Updated server {}", row.id)))
        }
        "remove_server" => {
            let row = server_of(app, guild, int("server_id")).await?;
            server::Entity::delete_by_id(row.id)
                .exec(&app.db)
                .await
                .map_err(db)?;
            Ok(Reply::text(format!("Removed server {}", row.id)))
        }
        "refresh" => refresh(app, guild).await,
        _ => Err(CommandError::user("Unknown subcommand.")),
    }
}

/// The messages of one category: `**__{title}__**` (`- Part N` after the first), then
/// `{description}: https://discord.gg/{code}` per server, ten a message.
pub fn category_messages(title: &str, servers: &[server::Model]) -> Vec<String> {
    if servers.is_empty() {
        return vec![format!("**__{title}__**")];
    }
    servers
        .chunks(PER_MESSAGE)
        .enumerate()
        .map(|(i, chunk)| {
            let mut text = if i == 0 {
                format!("**__{title}__**")
            } else {
                format!("**__{title} - Part {}__**", i + 1)
            };
            for s in chunk {
                text.push_str(&format!(
                    "\n{}: https://discord.gg/{}",
                    s.description, s.invite_code
                ));
            }
            text
        })
        .collect()
}

async fn refresh(app: &App, guild: u64) -> Result<Reply, CommandError> {
    let discord = app
        .discord
        .as_ref()
        .ok_or_else(|| CommandError::user("Discord is not connected right now."))?;
    let categories = category::Entity::find()
        .filter(category::Column::GuildId.eq(u64_to_db(guild)))
        .order_by_asc(category::Column::Position)
        .order_by_asc(category::Column::Id)
        .all(&app.db)
        .await
        .map_err(db)?;
    let me = discord
        .http
        .current_user()
        .await
        .map_err(|e| CommandError::Internal(anyhow::anyhow!("current user: {e}")))?
        .model()
        .await
        .map_err(|e| CommandError::Internal(anyhow::anyhow!("current user: {e}")))?
        .id;
    let mut channels: Vec<i64> = categories.iter().map(|c| c.channel_id).collect();
    channels.sort_unstable();
    channels.dedup();
    // Clear the bot's own earlier posts (only its own).
    for channel in &channels {
        let Some(channel_id) = Id::new_checked(u64_from_db(*channel)) else {
            continue;
        };
        let messages = discord
            .http
            .channel_messages(channel_id)
            .limit(100)
            .await
            .map_err(|e| CommandError::Internal(anyhow::anyhow!("reading <#{channel_id}>: {e}")))?
            .models()
            .await
            .map_err(|e| CommandError::Internal(anyhow::anyhow!("reading <#{channel_id}>: {e}")))?;
        for message in messages.iter().filter(|m| m.author.id == me) {
            if let Err(error) = discord.http.delete_message(channel_id, message.id).await {
                tracing::warn!(%error, "could not delete an old directory post");
            }
        }
    }
    let api = app.discord_api();
    let stamp = chrono::Utc::now().timestamp_millis();
    for c in &categories {
        let servers = server::Entity::find()
            .filter(server::Column::CategoryId.eq(c.id))
            .order_by_asc(server::Column::Id)
            .all(&app.db)
            .await
            .map_err(db)?;
        for (i, text) in category_messages(&c.title, &servers).iter().enumerate() {
            api.send(
                &format!("directory:{guild}:{stamp}:{}:{i}", c.id),
                u64_from_db(c.channel_id),
                text,
                &[],
            )
            .await
            .map_err(|s| CommandError::from_status(&s))?;
        }
    }
    Ok(Reply::text(format!(
        "Refreshed server list for this server ({} categories).",
        categories.len()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invite_codes_are_read_from_urls() {
        assert_eq!(
            invite_code("https://discord.gg/abc123").as_deref(),
            Some("abc123")
        );
        assert_eq!(
            invite_code("https://discord.com/invite/x-Y?event=1").as_deref(),
            Some("x-Y")
        );
        assert_eq!(invite_code("abc").as_deref(), Some("abc"));
        assert_eq!(invite_code("https://example.com/a b"), None);
    }

    #[test]
    fn a_category_is_posted_ten_servers_a_message() {
        let servers: Vec<server::Model> = (0..12)
            .map(|i| server::Model {
                id: i,
                guild_id: 1,
                category_id: 1,
                invite_code: format!("code{i}"),
                server_name: String::new(),
                description: format!("Server {i}"),
            })
            .collect();
        let posts = category_messages("Races", &servers);
        assert_eq!(posts.len(), 2);
        assert!(posts[0].starts_with("**__Races__**\nServer 0: https://discord.gg/code0"));
        assert_eq!(posts[0].lines().count(), 11);
        assert!(posts[1].starts_with("**__Races - Part 2__**\nServer 10:"));
        assert_eq!(category_messages("Empty", &[]), vec!["**__Empty__**"]);
    }
}
