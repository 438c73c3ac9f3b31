//! The interaction router and its error policy.
//!
//! Every command that may take longer than a moment is deferred first (Discord allows 3 s for
//! the first response), then its reply replaces the deferred message. Errors always reach only
//! the caller: a short ephemeral message they can act on; anything unexpected is logged with
//! the trace id, which the message quotes. (Upstream made errors public after a public defer,
//! spec §7.17.)

use std::collections::HashMap;
use std::time::Duration;

use platform::grpc::Peer;
use sea_orm::DatabaseConnection;
use tracing::Instrument;
use twilight_model::application::interaction::application_command::{
    CommandData, CommandDataOption, CommandOptionValue,
};
use twilight_model::application::interaction::{Interaction, InteractionData, InteractionType};
use twilight_model::channel::Attachment;

use crate::GatewaySettings;
use crate::discord::{Discord, Reply};

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
    pub user_id: u64,
    pub user_name: String,
    pub guild_id: Option<u64>,
    /// The member's permissions in the channel (guild interactions only).
    pub member_permissions: Option<twilight_model::guild::Permissions>,
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

    pub fn boolean(&self, name: &str) -> Option<bool> {
        match self.options.get(name)? {
            CommandOptionValue::Boolean(value) => Some(*value),
            _ => None,
        }
    }

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

/// How a command acknowledges.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ack {
    /// Deferred; the reply is public.
    Public,
    /// Deferred; the reply is only for the caller.
    Private,
    /// Answered at once, only for the caller (fast, local commands).
    ImmediatePrivate,
}

fn ack_for(path: &[String]) -> Ack {
    match path
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["datetime"] => Ack::ImmediatePrivate,
        [
            "alttprutils",
            "savepreset" | "verifygame" | "convertcustomizer",
        ]
        | ["config", ..] => Ack::Private,
        _ => Ack::Public,
    }
}

/// Everything the handlers share.
#[derive(Debug)]
pub struct App {
    pub discord: Option<Discord>,
    pub seedgen: Option<Peer>,
    pub settings: GatewaySettings,
    pub db: DatabaseConnection,
    pub config: crate::guild_config::GuildConfig,
    pub holy_images: crate::holyimage::HolyImages,
    /// For attachments and the SpeedGaming schedule: at most 3 redirects and the
    /// `attachment_timeout_ms` timeout.
    pub files: reqwest::Client,
}

impl App {
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
        let holy_images = crate::holyimage::HolyImages::new(
            &settings.holyimage_url,
            reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()?,
        )?;
        Ok(Self {
            discord,
            seedgen,
            settings,
            config,
            holy_images,
            db,
            files,
        })
    }

    /// Handles one interaction to the end (acknowledge, run, reply). Never panics on bad
    /// input; failures to reach Discord are logged.
    pub async fn handle(&self, interaction: Interaction) {
        let Some(discord) = self.discord.clone() else {
            return;
        };
        let Some(call) = Call::from_interaction(&interaction) else {
            return;
        };
        let span = tracing::info_span!("interaction", command = %call.name(), id = call.interaction_id, user = call.user_id);
        match interaction.kind {
            InteractionType::ApplicationCommand => {
                self.command(&discord, &interaction, call)
                    .instrument(span)
                    .await;
            }
            InteractionType::ApplicationCommandAutocomplete => {
                let choices = self.autocomplete(&call).instrument(span.clone()).await;
                if let Err(error) = discord
                    .choices(interaction.id, &interaction.token, choices)
                    .instrument(span)
                    .await
                {
                    tracing::warn!(%error, "autocomplete answer failed");
                }
            }
            _ => {}
        }
    }

    async fn command(&self, discord: &Discord, interaction: &Interaction, call: Call) {
        let ack = ack_for(&call.path);
        let token = &interaction.token;
        if ack != Ack::ImmediatePrivate
            && let Err(error) = discord
                .defer(interaction.id, token, ack == Ack::Private)
                .await
        {
            // Past the 3-second window or a duplicate delivery: nobody can see a reply.
            tracing::warn!(%error, "could not acknowledge the interaction");
            return;
        }
        let outcome = self.run(&call).await;
        let message = match outcome {
            Ok(reply) => {
                let sent = if ack == Ack::ImmediatePrivate {
                    discord.reply_now(interaction.id, token, &reply, true).await
                } else {
                    discord.edit(token, &reply).await
                };
                if let Err(error) = sent {
                    tracing::warn!(%error, "could not send the reply");
                }
                return;
            }
            Err(CommandError::User(message)) => message,
            Err(CommandError::Internal(error)) => {
                let trace = platform::telemetry::current_trace_id()
                    .unwrap_or_else(|| call.interaction_id.to_string());
                tracing::error!(error = %format!("{error:#}"), %trace, "command failed");
                format!(
                    "Something went wrong on our side. Please try again; if it keeps happening, tell the bot's operators and quote `{trace}`."
                )
            }
        };
        let sent = match ack {
            Ack::Public => discord.fail_privately(token, &message).await,
            Ack::Private => discord.edit(token, &Reply::text(message)).await,
            Ack::ImmediatePrivate => {
                discord
                    .reply_now(interaction.id, token, &Reply::text(message), true)
                    .await
            }
        };
        if let Err(error) = sent {
            tracing::warn!(%error, "could not send the error message");
        }
    }

    async fn run(&self, call: &Call) -> Result<Reply, CommandError> {
        let path: Vec<&str> = call.path.iter().map(String::as_str).collect();
        match path.as_slice() {
            ["datetime"] => crate::misc::datetime(call),
            ["welcome"] => crate::misc::welcome(call, &self.settings.welcome_messages),
            ["rom"] => Ok(Reply::text(crate::misc::ROM_TEXT)),
            ["config", ..] => crate::config_command::run(&self.config, call).await,
            ["holyimage"] => self.holy_images.command(call, &self.config).await,
            ["sgdaily"] => {
                crate::sgdaily::command(&self.files, &self.settings.speedgaming_url, call).await
            }
            [first, ..]
                if matches!(
                    *first,
                    "alttpr"
                        | "alttprutils"
                        | "sm"
                        | "smz3"
                        | "smvaria"
                        | "smdash"
                        | "ctjets"
                        | "z2r"
                        | "dailygame"
                ) =>
            {
                crate::seeds::run(self, call).await
            }
            _ => Err(CommandError::user(format!(
                "I don't know the command `/{}`. It may have been removed; Discord can take a while to update the list.",
                call.name()
            ))),
        }
    }

    async fn autocomplete(
        &self,
        call: &Call,
    ) -> Vec<twilight_model::application::command::CommandOptionChoice> {
        match call.focused() {
            Some(("timezone", typed)) => crate::misc::timezone_choices(typed),
            Some((option, typed)) if call.path[0] == "holyimage" => {
                self.holy_images
                    .choices(call, &self.config, option, typed)
                    .await
            }
            Some((option, typed)) => crate::seeds::autocomplete(self, call, option, typed).await,
            None => Vec::new(),
        }
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
