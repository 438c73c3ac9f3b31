//! `/inquiry role` (spec `discord-and-web.md` §1.8): a channel where members open private
//! threads with a staff role. The command checks the channel is set up for it (the invoker may
//! manage threads, the bot may create private threads, `@everyone` may post in threads but not
//! in the channel, the role can see the channel), posts the persistent 📬 button
//! (`inquiry:open`, also upstream's `sahasrahbot:open_inquiry`) and remembers which role the
//! post is for. A click asks for confirmation ("Yes!", `inquiry:confirm:<post>`), which opens
//! the "Open Inquiry" modal (`inquiry:submit:<post>`); its submission opens the private thread
//! `Inquiry {username} {0-999}`, adds the member and every member of the role, and posts the
//! summary without pinging anyone.

use futures::future::BoxFuture;
use platform::db::{u64_from_db, u64_to_db};
use sea_orm::{ActiveValue::Set, EntityTrait, sea_query::OnConflict};
use twilight_model::application::command::{Command, CommandType};
use twilight_model::channel::ChannelType;
use twilight_model::channel::message::component::{ButtonStyle, Label, TextInput, TextInputStyle};
use twilight_model::channel::message::{AllowedMentions, Component};
use twilight_model::channel::thread::AutoArchiveDuration;
use twilight_model::guild::Permissions;
use twilight_model::id::Id;
use twilight_util::builder::command::{CommandBuilder, RoleBuilder, SubCommandBuilder};

use super::SlashCommand;
use crate::components::{Answer, ComponentAck, ComponentError, ComponentHandler, button, row};
use crate::context::{Ack, App, Call, CommandError, ComponentCall};
use crate::custom_id::CustomId;
use crate::discord::Reply;

/// The `custom_id` feature of the inquiry buttons and modal.
pub const FEATURE: &str = "inquiry";

/// `gateway_inquiry_messages`: which role each 📬 post opens threads to.
pub mod post {
    use sea_orm::entity::prelude::*;

    /// One inquiry post.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "gateway_inquiry_messages")]
    pub struct Model {
        /// The post's message id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub message_id: i64,
        /// Its guild.
        pub guild_id: i64,
        /// Its channel (threads open there).
        pub channel_id: i64,
        /// The role whose members join every thread.
        pub role_id: i64,
        /// Who set it up.
        pub created_by: i64,
        /// When.
        pub created_at: ChronoDateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `/inquiry`.
#[derive(Debug)]
pub struct Inquiry;

impl SlashCommand for Inquiry {
    fn definition(&self) -> Command {
        CommandBuilder::new(
            "inquiry",
            "Private inquiry threads with a staff role.",
            CommandType::ChatInput,
        )
        .option(
            SubCommandBuilder::new(
                "role",
                "Post the button that opens private inquiry threads with a role, in this channel.",
            )
            .option(
                RoleBuilder::new("role", "The role whose members see every inquiry.")
                    .required(true),
            ),
        )
        .build()
    }

    fn ack(&self, _call: &Call) -> Ack {
        Ack::Private
    }

    fn run<'a>(
        &'a self,
        app: &'a App,
        call: &'a Call,
    ) -> BoxFuture<'a, Result<Reply, CommandError>> {
        Box::pin(setup(app, call))
    }
}

/// Why a channel is not ready for inquiries: the first failed check, in the spec's order and
/// words (§1.8). `everyone` and `role` are what the `@everyone` role and the staff role may do
/// in the channel.
pub fn channel_problem(
    invoker: Permissions,
    bot: Permissions,
    everyone: Permissions,
    role: Permissions,
    role_id: u64,
) -> Option<String> {
    if !invoker.contains(Permissions::MANAGE_THREADS) {
        return Some("You must have manage threads permission to use this feature.".into());
    }
    if !bot.contains(Permissions::CREATE_PRIVATE_THREADS) {
        return Some("This bot needs permission to create private threads in this channel.".into());
    }
    if everyone.contains(Permissions::SEND_MESSAGES) {
        return Some("`@everyone` should not be allowed to send messages in this channel.".into());
    }
    if !everyone.contains(Permissions::SEND_MESSAGES_IN_THREADS) {
        return Some("`@everyone` needs to be able to send messages in threads.".into());
    }
    if !role.contains(Permissions::VIEW_CHANNEL) {
        return Some(format!("<@&{role_id}> is not allowed to see this channel."));
    }
    None
}

fn discord_down(error: impl std::fmt::Display) -> CommandError {
    CommandError::Internal(anyhow::anyhow!("Discord: {error}"))
}

async fn setup(app: &App, call: &Call) -> Result<Reply, CommandError> {
    let (Some(guild), Some(channel)) = (call.guild_id, call.channel_id) else {
        return Err(CommandError::user(
            "Inquiries are set up in a server channel.",
        ));
    };
    let role = call
        .id("role")
        .ok_or_else(|| CommandError::user("Choose the role that answers inquiries."))?;
    let discord = app
        .discord
        .as_ref()
        .ok_or_else(|| CommandError::user("The bot is not connected to Discord."))?;
    let roles = app
        .permissions
        .guild_roles(discord, guild)
        .await
        .map_err(discord_down)?;
    let rules = app
        .permissions
        .channel(discord, channel)
        .await
        .map_err(discord_down)?;
    let everyone = crate::permissions::in_channel(guild, &roles, &rules, &[]);
    let role_can = crate::permissions::in_channel(guild, &roles, &rules, &[role]);
    if let Some(problem) = channel_problem(
        call.member_permissions.unwrap_or_else(Permissions::empty),
        call.app_permissions.unwrap_or_else(Permissions::empty),
        everyone,
        role_can,
        role,
    ) {
        return Err(CommandError::user(problem));
    }
    let post = Reply {
        content: Some(format!(
            "To **submit an inquiry**, click the 📬 button below, then click \"Yes!\" button in the next message to confirm.\n\nThis will open an inquiry visible to members of <@&{role}>\n\nThanks!"
        )),
        components: vec![row(vec![button(
            "inquiry:open",
            "Open New Inquiry",
            ButtonStyle::Primary,
            Some("📬"),
            false,
        )])],
        allowed_mentions: Some(AllowedMentions::default()),
        ..Reply::default()
    };
    let sent = app
        .discord_api()
        .send_reply(&format!("inquiry:{}", call.interaction_id), channel, &post)
        .await
        .map_err(|s| CommandError::from_status(&s))?;
    post::Entity::insert(post::ActiveModel {
        message_id: Set(u64_to_db(sent.message_id)),
        guild_id: Set(u64_to_db(guild)),
        channel_id: Set(u64_to_db(channel)),
        role_id: Set(u64_to_db(role)),
        created_by: Set(u64_to_db(call.user_id)),
        created_at: Set(chrono::Utc::now()),
    })
    .on_conflict(
        OnConflict::column(post::Column::MessageId)
            .update_column(post::Column::RoleId)
            .to_owned(),
    )
    .exec_without_returning(&app.db)
    .await
    .map_err(|e| CommandError::Internal(e.into()))?;
    Ok(Reply::text(format!(
        "Inquiries in this channel now open private threads with <@&{role}>; the button is below."
    )))
}

/// The 📬 button, the "Yes!" confirmation and the "Open Inquiry" modal.
#[derive(Debug)]
pub struct InquiryButtons;

impl ComponentHandler for InquiryButtons {
    fn feature(&self) -> &'static str {
        FEATURE
    }

    fn ack(&self, call: &ComponentCall) -> ComponentAck {
        // Opening the thread adds every member of the role: more than Discord's 3 seconds.
        if call.modal {
            ComponentAck::DeferredPrivate
        } else {
            ComponentAck::Immediate
        }
    }

    fn handle<'a>(
        &'a self,
        app: &'a App,
        call: &'a ComponentCall,
    ) -> BoxFuture<'a, Result<Answer, ComponentError>> {
        Box::pin(async move {
            match (call.id.action.as_str(), call.modal) {
                ("open", false) => {
                    let message = call.message_id.ok_or(ComponentError::Stale)?;
                    let post = find(app, message).await?;
                    Ok(Answer::Message {
                        reply: Reply {
                            content: Some(format!(
                                "This will open a private thread to <@&{}>, are you sure you want to continue?",
                                post.role_id
                            )),
                            components: vec![row(vec![button(
                                &format!("inquiry:confirm:{message}"),
                                "Yes!",
                                ButtonStyle::Danger,
                                None,
                                false,
                            )])],
                            allowed_mentions: Some(AllowedMentions::default()),
                            ..Reply::default()
                        },
                        private: true,
                    })
                }
                ("confirm", false) => {
                    let message = post_arg(call)?;
                    find(app, message).await?;
                    Ok(Answer::Modal {
                        custom_id: CustomId::new(FEATURE, "submit", &[&message.to_string()])
                            .map_err(|e| CommandError::Internal(e.into()))?,
                        title: "Open Inquiry".into(),
                        inputs: vec![Component::Label(Label {
                            component: Box::new(Component::TextInput(TextInput {
                                custom_id: "summary".into(),
                                id: None,
                                #[allow(deprecated)]
                                label: None,
                                max_length: Some(200),
                                min_length: Some(10),
                                placeholder: Some(
                                    "Please provide a brief summary of your inquiry.".into(),
                                ),
                                required: Some(true),
                                style: TextInputStyle::Paragraph,
                                value: None,
                            })),
                            description: None,
                            id: None,
                            label: "Brief Summary".into(),
                        })],
                    })
                }
                ("submit", true) => {
                    let post = find(app, post_arg(call)?).await?;
                    let summary = call
                        .fields
                        .get("summary")
                        .map(|s| s.trim().to_owned())
                        .unwrap_or_default();
                    let length = summary.chars().count();
                    if !(10..=200).contains(&length) {
                        return Err(CommandError::user(
                            "The summary must be 10 to 200 characters long.",
                        )
                        .into());
                    }
                    open_thread(app, call, &post, &summary).await
                }
                _ => Err(ComponentError::Stale),
            }
        })
    }
}

fn post_arg(call: &ComponentCall) -> Result<u64, ComponentError> {
    call.id
        .args
        .first()
        .and_then(|a| a.parse().ok())
        .ok_or(ComponentError::Stale)
}

async fn find(app: &App, message: u64) -> Result<post::Model, ComponentError> {
    post::Entity::find_by_id(u64_to_db(message))
        .one(&app.db)
        .await
        .map_err(|e| CommandError::Internal(e.into()))?
        .ok_or(ComponentError::Stale)
}

async fn open_thread(
    app: &App,
    call: &ComponentCall,
    post: &post::Model,
    summary: &str,
) -> Result<Answer, ComponentError> {
    let discord = app
        .discord
        .as_ref()
        .ok_or_else(|| CommandError::user("The bot is not connected to Discord."))?;
    let channel = Id::new(u64_from_db(post.channel_id).max(1));
    // The interaction id picks the number, so a retried submission names the same thread.
    let name = format!("Inquiry {} {}", call.user_name, call.interaction_id % 1000);
    let thread = discord
        .http
        .create_thread(channel, &name, ChannelType::PrivateThread)
        .auto_archive_duration(AutoArchiveDuration::Day)
        .invitable(false)
        .await
        .map_err(discord_down)?
        .model()
        .await
        .map_err(discord_down)?;
    discord
        .http
        .add_thread_member(thread.id, Id::new(call.user_id.max(1)))
        .await
        .map_err(discord_down)?;
    // Every member of the role joins; without the Server Members intent Discord will not list
    // them, and mentioning the role in the thread adds those who can see the channel instead.
    let role = u64_from_db(post.role_id);
    let guild = u64_from_db(post.guild_id);
    let mut added_all = true;
    match discord.role_members(guild, role).await {
        Ok(members) => {
            for member in members
                .into_iter()
                .map(|(id, _, _)| id)
                .filter(|m| *m != call.user_id)
            {
                if let Err(error) = discord
                    .http
                    .add_thread_member(thread.id, Id::new(member))
                    .await
                {
                    tracing::warn!(%error, member, "could not add a staff member to an inquiry");
                    added_all = false;
                }
            }
        }
        Err(error) => {
            tracing::warn!(%error, guild, "could not list the role's members for an inquiry");
            added_all = false;
        }
    }
    let mut mentions = AllowedMentions::default();
    let mut text = format!(
        "<@{}> has opened an inquiry.\n\n**Description:** {summary}",
        call.user_id
    );
    if !added_all {
        text.push_str(&format!("\n\n<@&{role}>"));
        mentions.roles = vec![Id::new(role.max(1))];
    }
    app.discord_api()
        .send_reply(
            &format!("inquiry-thread:{}", thread.id),
            thread.id.get(),
            &Reply {
                content: Some(text),
                allowed_mentions: Some(mentions),
                ..Reply::default()
            },
        )
        .await
        .map_err(|s| CommandError::from_status(&s))?;
    Ok(Answer::private(format!(
        "A new thread called <#{}> has been opened for this inquiry.",
        thread.id
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_come_in_the_spec_order() {
        let p = Permissions::empty;
        let ok_everyone = Permissions::VIEW_CHANNEL | Permissions::SEND_MESSAGES_IN_THREADS;
        let mt = Permissions::MANAGE_THREADS;
        let bot = Permissions::CREATE_PRIVATE_THREADS;
        let role = Permissions::VIEW_CHANNEL;
        assert_eq!(
            channel_problem(p(), bot, ok_everyone, role, 7).as_deref(),
            Some("You must have manage threads permission to use this feature.")
        );
        assert!(
            channel_problem(mt, p(), ok_everyone, role, 7)
                .unwrap()
                .contains("create private threads")
        );
        assert!(
            channel_problem(mt, bot, ok_everyone | Permissions::SEND_MESSAGES, role, 7)
                .unwrap()
                .contains("should not be allowed to send messages")
        );
        assert!(
            channel_problem(mt, bot, Permissions::VIEW_CHANNEL, role, 7)
                .unwrap()
                .contains("send messages in threads")
        );
        assert_eq!(
            channel_problem(mt, bot, ok_everyone, p(), 7).as_deref(),
            Some("<@&7> is not allowed to see this channel.")
        );
        assert_eq!(channel_problem(mt, bot, ok_everyone, role, 7), None);
    }
}
