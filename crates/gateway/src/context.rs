//! What every interaction handler shares: the service's clients ([`App`]), the parsed
//! interaction ([`Call`]), the error policy ([`CommandError`]) and how a handler
//! acknowledges ([`Ack`]). Command and component modules import this module; the router
//! imports them, never the other way round.

use std::collections::HashMap;
use std::time::Duration;

use platform::grpc::Peer;
use sea_orm::DatabaseConnection;
use twilight_model::application::interaction::application_command::{
    CommandData, CommandDataOption, CommandOptionValue,
};
use twilight_model::application::interaction::modal::ModalInteractionComponent;
use twilight_model::application::interaction::{Interaction, InteractionData};
use twilight_model::channel::Attachment;

use crate::GatewaySettings;
use crate::custom_id::CustomId;
use crate::discord::Discord;

/// Why a command produced no reply.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The caller can fix it: the message says how.
    #[error("{0}")]
    User(String),
    /// Our side failed; the caller gets the trace id to quote.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl CommandError {
    /// A user-facing error.
    pub fn user(message: impl Into<String>) -> Self {
        Self::User(message.into())
    }

    /// Maps a peer's status: refusals carry their own message; outages say to retry.
    pub fn from_status(status: &tonic::Status) -> Self {
        match platform::grpc::user_message(status) {
            Some(message) => Self::User(message),
            None => Self::Internal(anyhow::anyhow!("{}: {}", status.code(), status.message())),
        }
    }
}

/// One slash command as the handlers see it.
#[derive(Debug)]
pub struct Call {
    /// The command and its subcommand, e.g. `["alttpr", "preset"]`.
    pub path: Vec<String>,
    options: HashMap<String, CommandOptionValue>,
    attachments: HashMap<String, Attachment>,
    /// The interaction id: the idempotency key of whatever the command does.
    pub interaction_id: u64,
    /// Who invoked it.
    pub user_id: u64,
    /// Their username.
    pub user_name: String,
    /// The guild, unless in a DM.
    pub guild_id: Option<u64>,
    /// The member's permissions in the channel (guild interactions only).
    pub member_permissions: Option<twilight_model::guild::Permissions>,
    /// The member's roles in the guild (guild interactions only).
    pub member_roles: Vec<u64>,
    /// The channel it was invoked in.
    pub channel_id: Option<u64>,
    /// What the bot may do in that channel (Discord's `app_permissions`).
    pub app_permissions: Option<twilight_model::guild::Permissions>,
}

/// Whether a member with channel permissions `permissions` may manage the server (Manage Server
/// or Administrator); `None` (a DM) may not.
pub fn manages_guild(permissions: Option<twilight_model::guild::Permissions>) -> bool {
    use twilight_model::guild::Permissions;
    permissions
        .is_some_and(|p| p.intersects(Permissions::MANAGE_GUILD | Permissions::ADMINISTRATOR))
}

/// The roles of the interaction's member (none outside a guild).
fn roles(interaction: &Interaction) -> Vec<u64> {
    interaction
        .member
        .as_ref()
        .map(|m| m.roles.iter().map(|r| r.get()).collect())
        .unwrap_or_default()
}

impl Call {
    /// The call an application command (or autocomplete) interaction carries; `None` for
    /// other interactions. Subcommands and groups become the path; options keep their values.
    pub fn from_interaction(interaction: &Interaction) -> Option<Self> {
        match &interaction.data {
            Some(InteractionData::ApplicationCommand(data)) => Some(Self::new(interaction, data)),
            _ => None,
        }
    }

    /// The names of the options given (for diagnostics and fuzzing).
    pub fn option_names(&self) -> impl Iterator<Item = &str> {
        self.options.keys().map(String::as_str)
    }

    fn new(interaction: &Interaction, data: &CommandData) -> Self {
        let mut path = vec![data.name.clone()];
        let mut options = &data.options;
        // Subcommand groups and subcommands nest their options.
        while let [
            CommandDataOption {
                name,
                value:
                    CommandOptionValue::SubCommand(inner) | CommandOptionValue::SubCommandGroup(inner),
            },
        ] = options.as_slice()
        {
            path.push(name.clone());
            options = inner;
        }
        let resolved = data.resolved.as_ref();
        let mut attachments = HashMap::new();
        for option in options {
            if let CommandOptionValue::Attachment(id) = option.value
                && let Some(attachment) = resolved.and_then(|r| r.attachments.get(&id))
            {
                attachments.insert(option.name.clone(), attachment.clone());
            }
        }
        let author = interaction.author();
        Self {
            path,
            options: options
                .iter()
                .map(|o| (o.name.clone(), o.value.clone()))
                .collect(),
            attachments,
            interaction_id: interaction.id.get(),
            user_id: interaction.author_id().map_or(0, |id| id.get()),
            user_name: author.map(|u| u.name.clone()).unwrap_or_default(),
            guild_id: interaction.guild_id.map(|id| id.get()),
            member_permissions: interaction.member.as_ref().and_then(|m| m.permissions),
            member_roles: roles(interaction),
            channel_id: interaction.channel.as_ref().map(|c| c.id.get()),
            app_permissions: interaction.app_permissions,
        }
    }

    /// A call with `path` and string/integer/boolean `options` (by their JSON type), for
    /// testing option parsing without an interaction.
    #[cfg(test)]
    pub(crate) fn for_test(path: &[&str], options: &[(&str, serde_json::Value)]) -> Self {
        let options = options
            .iter()
            .map(|(name, value)| {
                let value = match value {
                    serde_json::Value::Bool(b) => CommandOptionValue::Boolean(*b),
                    serde_json::Value::Number(n) => {
                        CommandOptionValue::Integer(n.as_i64().unwrap_or_default())
                    }
                    other => CommandOptionValue::String(other.as_str().unwrap_or_default().into()),
                };
                ((*name).to_owned(), value)
            })
            .collect();
        Self {
            path: path.iter().map(|p| (*p).to_owned()).collect(),
            options,
            attachments: HashMap::new(),
            interaction_id: 1,
            user_id: 2,
            user_name: "tester".into(),
            guild_id: Some(3),
            member_permissions: None,
            member_roles: Vec::new(),
            channel_id: Some(4),
            app_permissions: None,
        }
    }

    /// The path as one string, e.g. `"alttpr preset"`.
    pub fn name(&self) -> String {
        self.path.join(" ")
    }

    /// A string option (also the typed text of a focused option).
    pub fn string(&self, name: &str) -> Option<&str> {
        match self.options.get(name)? {
            CommandOptionValue::String(value) | CommandOptionValue::Focused(value, _) => {
                Some(value)
            }
            _ => None,
        }
    }

    /// A yes/no choice option, `default` when absent.
    pub fn yes(&self, name: &str, default: bool) -> bool {
        self.string(name).map_or(default, |v| v == "yes")
    }

    /// A boolean option.
    pub fn boolean(&self, name: &str) -> Option<bool> {
        match self.options.get(name)? {
            CommandOptionValue::Boolean(value) => Some(*value),
            _ => None,
        }
    }

    /// A user option: the chosen user's id.
    pub fn user(&self, name: &str) -> Option<u64> {
        match self.options.get(name) {
            Some(CommandOptionValue::User(id)) => Some(id.get()),
            _ => None,
        }
    }

    /// A role, channel, user or mentionable option: the chosen id.
    pub fn id(&self, name: &str) -> Option<u64> {
        match self.options.get(name)? {
            CommandOptionValue::Role(id) => Some(id.get()),
            CommandOptionValue::Channel(id) => Some(id.get()),
            CommandOptionValue::User(id) => Some(id.get()),
            CommandOptionValue::Mentionable(id) => Some(id.get()),
            _ => None,
        }
    }

    /// An integer option.
    pub fn integer(&self, name: &str) -> Option<i64> {
        match self.options.get(name)? {
            CommandOptionValue::Integer(value) => Some(*value),
            _ => None,
        }
    }

    /// The focused option of an autocomplete interaction: its name and the typed text.
    pub fn focused(&self) -> Option<(&str, &str)> {
        self.options.iter().find_map(|(name, value)| match value {
            CommandOptionValue::Focused(text, _) => Some((name.as_str(), text.as_str())),
            _ => None,
        })
    }

    /// An attachment option.
    pub fn attachment(&self, name: &str) -> Option<&Attachment> {
        self.attachments.get(name)
    }
}

/// What a component (button, select menu) or a submitted modal carries.
#[derive(Debug)]
pub struct ComponentCall {
    /// The parsed `custom_id`.
    pub id: CustomId,
    /// The `custom_id` as Discord sent it.
    pub raw_id: String,
    /// The interaction id: the idempotency key of whatever the click does.
    pub interaction_id: u64,
    /// Who clicked or submitted.
    pub user_id: u64,
    /// Their username.
    pub user_name: String,
    /// The guild, unless in a DM.
    pub guild_id: Option<u64>,
    /// The channel the component sits in.
    pub channel_id: Option<u64>,
    /// The message the component sits on (none for a modal opened from a command).
    pub message_id: Option<u64>,
    /// The member's permissions in the channel (guild interactions only).
    pub member_permissions: Option<twilight_model::guild::Permissions>,
    /// The member's roles in the guild (guild interactions only).
    pub member_roles: Vec<u64>,
    /// The chosen values of a select menu.
    pub values: Vec<String>,
    /// A submitted modal's text inputs by their `custom_id`.
    pub fields: HashMap<String, String>,
    /// Whether this is a modal submission (else a component click).
    pub modal: bool,
}

impl ComponentCall {
    /// The call a component or modal-submit interaction carries: `None` for other
    /// interactions, `Some(Err(raw id))` when its `custom_id` cannot be parsed.
    pub fn from_interaction(interaction: &Interaction) -> Option<Result<Self, String>> {
        let (raw_id, values, fields, modal) = match &interaction.data {
            Some(InteractionData::MessageComponent(data)) => (
                data.custom_id.clone(),
                data.values.clone(),
                HashMap::new(),
                false,
            ),
            Some(InteractionData::ModalSubmit(data)) => {
                let mut fields = HashMap::new();
                for component in &data.components {
                    collect_inputs(component, &mut fields);
                }
                (data.custom_id.clone(), Vec::new(), fields, true)
            }
            _ => return None,
        };
        let Ok(id) = CustomId::parse(&raw_id) else {
            return Some(Err(raw_id));
        };
        Some(Ok(Self {
            id,
            raw_id,
            interaction_id: interaction.id.get(),
            user_id: interaction.author_id().map_or(0, |id| id.get()),
            user_name: interaction
                .author()
                .map(|u| u.name.clone())
                .unwrap_or_default(),
            guild_id: interaction.guild_id.map(|id| id.get()),
            channel_id: interaction.channel.as_ref().map(|c| c.id.get()),
            message_id: interaction.message.as_ref().map(|m| m.id.get()),
            member_permissions: interaction.member.as_ref().and_then(|m| m.permissions),
            member_roles: roles(interaction),
            values,
            fields,
            modal,
        }))
    }
}

/// Text inputs anywhere in a modal's layout (action rows or labels).
fn collect_inputs(component: &ModalInteractionComponent, out: &mut HashMap<String, String>) {
    match component {
        ModalInteractionComponent::ActionRow(row) => {
            for inner in &row.components {
                collect_inputs(inner, out);
            }
        }
        ModalInteractionComponent::Label(label) => collect_inputs(&label.component, out),
        ModalInteractionComponent::TextInput(input) => {
            out.insert(input.custom_id.clone(), input.value.clone());
        }
        _ => {}
    }
}

/// How a handler acknowledges its interaction (Discord allows 3 s for the first response).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ack {
    /// Deferred; the reply is public.
    Public,
    /// Deferred; the reply is only for the caller.
    Private,
    /// Answered at once, only for the caller (fast, local handlers).
    ImmediatePrivate,
}

/// Everything the handlers share.
#[derive(Debug)]
pub struct App {
    /// The Discord REST client; `None` without a token.
    pub discord: Option<Discord>,
    /// The seedgen service; `None` when not configured.
    pub seedgen: Option<Peer>,
    /// The gateway's settings.
    pub settings: GatewaySettings,
    /// The gateway's database.
    pub db: DatabaseConnection,
    /// Per-guild configuration.
    pub config: crate::guild_config::GuildConfig,
    /// For attachments and the SpeedGaming schedule: at most 3 redirects and the
    /// `attachment_timeout_ms` timeout.
    pub files: reqwest::Client,
    /// The tournament service (`/tournament`); `None` when not configured.
    pub tournament: Option<Peer>,
    /// The api service (who a Discord user is); `None` when not configured.
    pub identity: Option<Peer>,
    /// Guild roles and channel overwrites read from Discord (for permission checks).
    pub permissions: crate::permissions::PermissionCache,
}

impl App {
    /// The Discord side of the gateway's RPCs (idempotent posts and edits), for handlers that
    /// post beyond their reply.
    pub fn discord_api(&self) -> crate::grpc::DiscordApi {
        crate::grpc::DiscordApi::new(self.discord.clone(), self.db.clone())
    }

    /// Errors: the HTTP client for attachments cannot be built.
    pub fn new(
        discord: Option<Discord>,
        seedgen: Option<Peer>,
        settings: GatewaySettings,
        db: DatabaseConnection,
        config: crate::guild_config::GuildConfig,
    ) -> anyhow::Result<Self> {
        let files = reqwest::Client::builder()
            .timeout(Duration::from_millis(settings.attachment_timeout_ms))
            .redirect(reqwest::redirect::Policy::limited(3))
            .build()?;
        Ok(Self {
            tournament: None,
            identity: None,
            permissions: crate::permissions::PermissionCache::default(),
            discord,
            seedgen,
            settings,
            config,
            db,
            files,
        })
    }

    /// Downloads an attachment within the size and time limits.
    ///
    /// Errors (user-facing): too large, not reachable, not UTF-8.
    pub async fn fetch_attachment(&self, attachment: &Attachment) -> Result<String, CommandError> {
        let limit = self.settings.attachment_max_bytes;
        if attachment.size > limit {
            return Err(CommandError::user(format!(
                "`{}` is {} KiB; files up to {} KiB are accepted.",
                attachment.filename,
                attachment.size.div_ceil(1024),
                limit / 1024
            )));
        }
        let unreachable = |error: reqwest::Error| {
            CommandError::user(format!(
                "I could not download `{}` from Discord ({}). Please try again.",
                attachment.filename,
                if error.is_timeout() {
                    "it took too long".to_owned()
                } else {
                    error.to_string()
                }
            ))
        };
        let mut response = self
            .files
            .get(&attachment.url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(unreachable)?;
        // The declared size may lie; stop reading at the limit.
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
            body.extend_from_slice(&chunk);
            if body.len() as u64 > limit {
                return Err(CommandError::user(format!(
                    "`{}` is larger than {} KiB.",
                    attachment.filename,
                    limit / 1024
                )));
            }
        }
        String::from_utf8(body).map_err(|_| {
            CommandError::user(format!(
                "`{}` is not a text file; upload the preset as YAML.",
                attachment.filename
            ))
        })
    }
}
