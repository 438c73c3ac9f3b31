//! The Discord REST client (twilight-http, with its in-memory rate limiter so route and global
//! buckets are respected) and the interaction reply helpers every handler uses.

use std::sync::Arc;
use std::time::Duration;

use secrecy::ExposeSecret;
use twilight_http::Client;
use twilight_model::application::command::CommandOptionChoice;
use twilight_model::channel::message::{AllowedMentions, Component, Embed, MessageFlags};
use twilight_model::http::attachment::Attachment;
use twilight_model::http::interaction::{
    InteractionResponse, InteractionResponseData, InteractionResponseType,
};
use twilight_model::id::Id;
use twilight_model::id::marker::{ApplicationMarker, InteractionMarker};

use crate::DiscordSettings;

/// What a handler answers with: text and/or embeds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Reply {
    /// The text.
    pub content: Option<String>,
    /// The embeds.
    pub embeds: Vec<Embed>,
    /// Files to attach: `(file name, bytes)`.
    pub files: Vec<(String, Vec<u8>)>,
    /// Action rows of buttons and select menus (their `custom_id`s follow
    /// [`crate::custom_id::CustomId`]).
    pub components: Vec<Component>,
    /// Who the message may ping; `None`: Discord's default (everyone mentioned). An empty
    /// [`AllowedMentions`] pings nobody.
    pub allowed_mentions: Option<AllowedMentions>,
}

impl Reply {
    /// A text-only reply.
    pub fn text(content: impl Into<String>) -> Self {
        Self {
            content: Some(content.into()),
            ..Self::default()
        }
    }

    /// A reply with one embed.
    pub fn embed(embed: Embed) -> Self {
        Self {
            embeds: vec![embed],
            ..Self::default()
        }
    }
}

/// The REST client and the application id; cheap to clone.
#[derive(Clone, Debug)]
pub struct Discord {
    /// twilight's HTTP client.
    pub http: Arc<Client>,
    /// The bot's application.
    pub application_id: Id<ApplicationMarker>,
}

impl Discord {
    /// A client for the configured API base URL, or `None` without a token.
    ///
    /// A base URL other than `https://discord.com` is used through twilight's proxy setting
    /// (requests go to `{base}/api/v10/...`), which is how tests reach the fake Discord.
    ///
    /// Errors: the base URL has no host.
    pub fn from_settings(settings: &DiscordSettings) -> anyhow::Result<Option<Self>> {
        let (Some(token), Some(application_id)) = (&settings.token, settings.application_id) else {
            return Ok(None);
        };
        let Some(application_id) = Id::new_checked(application_id) else {
            anyhow::bail!("discord.application_id must not be 0");
        };
        let mut builder = Client::builder()
            .token(token.expose_secret().to_owned())
            .timeout(Duration::from_millis(settings.request_timeout_ms));
        let base = url::Url::parse(&settings.api_base_url)?;
        if base.host_str() != Some("discord.com") {
            let Some(host) = base.host_str() else {
                anyhow::bail!("discord.api_base_url has no host");
            };
            let authority = match base.port() {
                Some(port) => format!("{host}:{port}"),
                None => host.to_owned(),
            };
            builder = builder.proxy(authority, base.scheme() == "http");
        }
        Ok(Some(Self {
            http: Arc::new(builder.build()),
            application_id,
        }))
    }

    /// `(user id, username, is a bot)` of the members of `guild` holding `role`
    /// (`GET /guilds/{id}/members`, 1,000 a page, at most 100 pages; needs the Server Members
    /// intent).
    ///
    /// Errors: Discord refused or is unreachable.
    pub async fn role_members(
        &self,
        guild: u64,
        role: u64,
    ) -> anyhow::Result<Vec<(u64, String, bool)>> {
        let Some(guild) = Id::new_checked(guild) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        let mut after = None;
        for _ in 0..100 {
            let mut request = self.http.guild_members(guild).limit(1000);
            if let Some(after) = after {
                request = request.after(after);
            }
            let page = request.await?.models().await?;
            let full = page.len() == 1000;
            after = page.last().map(|m| m.user.id);
            out.extend(
                page.into_iter()
                    .filter(|m| m.roles.iter().any(|r| r.get() == role))
                    .map(|m| (m.user.id.get(), m.user.name, m.user.bot)),
            );
            if !full {
                break;
            }
        }
        Ok(out)
    }

    /// Sends the interaction's first response.
    pub async fn respond(
        &self,
        interaction_id: Id<InteractionMarker>,
        token: &str,
        response: &InteractionResponse,
    ) -> Result<(), twilight_http::Error> {
        self.http
            .interaction(self.application_id)
            .create_response(interaction_id, token, response)
            .await
            .map(drop)
    }

    /// Acknowledges now ("SahasrahBot is thinking…"); the answer comes by [`Self::edit`].
    pub async fn defer(
        &self,
        interaction_id: Id<InteractionMarker>,
        token: &str,
        ephemeral: bool,
    ) -> Result<(), twilight_http::Error> {
        let response = InteractionResponse {
            kind: InteractionResponseType::DeferredChannelMessageWithSource,
            data: ephemeral.then(|| InteractionResponseData {
                flags: Some(MessageFlags::EPHEMERAL),
                ..Default::default()
            }),
        };
        self.respond(interaction_id, token, &response).await
    }

    /// Answers with a message straight away.
    pub async fn reply_now(
        &self,
        interaction_id: Id<InteractionMarker>,
        token: &str,
        reply: &Reply,
        ephemeral: bool,
    ) -> Result<(), twilight_http::Error> {
        let response = InteractionResponse {
            kind: InteractionResponseType::ChannelMessageWithSource,
            data: Some(InteractionResponseData {
                content: reply.content.clone(),
                embeds: Some(reply.embeds.clone()),
                components: Some(reply.components.clone()),
                flags: ephemeral.then_some(MessageFlags::EPHEMERAL),
                allowed_mentions: reply.allowed_mentions.clone(),
                ..Default::default()
            }),
        };
        self.respond(interaction_id, token, &response).await
    }

    /// Answers a component click by replacing the message the component is on.
    pub async fn update_message(
        &self,
        interaction_id: Id<InteractionMarker>,
        token: &str,
        reply: &Reply,
    ) -> Result<(), twilight_http::Error> {
        let response = InteractionResponse {
            kind: InteractionResponseType::UpdateMessage,
            data: Some(InteractionResponseData {
                content: reply.content.clone(),
                embeds: Some(reply.embeds.clone()),
                components: Some(reply.components.clone()),
                ..Default::default()
            }),
        };
        self.respond(interaction_id, token, &response).await
    }

    /// Answers with a modal (only as the first response).
    pub async fn open_modal(
        &self,
        interaction_id: Id<InteractionMarker>,
        token: &str,
        custom_id: String,
        title: String,
        components: Vec<Component>,
    ) -> Result<(), twilight_http::Error> {
        let response = InteractionResponse {
            kind: InteractionResponseType::Modal,
            data: Some(InteractionResponseData {
                custom_id: Some(custom_id),
                title: Some(title),
                components: Some(components),
                ..Default::default()
            }),
        };
        self.respond(interaction_id, token, &response).await
    }

    /// Replaces the deferred response with the answer.
    pub async fn edit(&self, token: &str, reply: &Reply) -> Result<(), twilight_http::Error> {
        let files: Vec<Attachment> = reply
            .files
            .iter()
            .zip(0u64..)
            .map(|((name, bytes), id)| Attachment::from_bytes(name.clone(), bytes.clone(), id))
            .collect();
        self.http
            .interaction(self.application_id)
            .update_response(token)
            .content(reply.content.as_deref())
            .embeds(Some(&reply.embeds))
            .components(Some(&reply.components))
            .attachments(&files)
            .allowed_mentions(reply.allowed_mentions.as_ref())
            .await
            .map(drop)
    }

    /// Removes a public deferred response and tells only the caller what went wrong, so an
    /// error never lands in the channel (upstream made errors public after a public defer).
    pub async fn fail_privately(
        &self,
        token: &str,
        message: &str,
    ) -> Result<(), twilight_http::Error> {
        let client = self.http.interaction(self.application_id);
        client.delete_response(token).await?;
        client
            .create_followup(token)
            .content(message)
            .flags(MessageFlags::EPHEMERAL)
            .await
            .map(drop)
    }

    /// Answers an autocomplete interaction.
    pub async fn choices(
        &self,
        interaction_id: Id<InteractionMarker>,
        token: &str,
        choices: Vec<CommandOptionChoice>,
    ) -> Result<(), twilight_http::Error> {
        let response = InteractionResponse {
            kind: InteractionResponseType::ApplicationCommandAutocompleteResult,
            data: Some(InteractionResponseData {
                choices: Some(choices),
                ..Default::default()
            }),
        };
        self.respond(interaction_id, token, &response).await
    }
}
