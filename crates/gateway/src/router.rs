//! The interaction router and its error policy: every interaction gets an answer.
//!
//! Application commands and autocomplete go to the [`Registry`] by command name; components
//! and modal submissions to the [`Components`] registry by `custom_id` feature. A command
//! that may take longer than a moment is deferred first (Discord allows 3 s for the first
//! response), then its reply replaces the deferred message. Errors always reach only the
//! caller: a short ephemeral message they can act on; anything unexpected is logged with the
//! trace id, which the message quotes. (Upstream made errors public after a public defer,
//! spec §7.17, and left unknown buttons unanswered.)

use tracing::Instrument;
use twilight_model::application::interaction::{Interaction, InteractionType};

use crate::commands::Registry;
use crate::components::{
    Answer, ComponentAck, ComponentError, Components, STALE_BUTTON, STALE_FORM,
};
use crate::context::{Ack, App, Call, CommandError, ComponentCall};
use crate::discord::{Discord, Reply};

/// The router: the handlers' shared [`App`] and both registries.
#[derive(Debug)]
pub struct Router {
    app: App,
    commands: Registry,
    components: Components,
}

impl Router {
    /// A router over `commands` and `components`.
    pub fn new(app: App, commands: Registry, components: Components) -> Self {
        Self {
            app,
            commands,
            components,
        }
    }

    /// The command registry (for registration with Discord).
    pub fn commands(&self) -> &Registry {
        &self.commands
    }

    /// Handles one interaction to the end (acknowledge, run, reply). Never panics on bad
    /// input; failures to reach Discord are logged.
    pub async fn handle(&self, interaction: Interaction) {
        let Some(discord) = self.app.discord.clone() else {
            return;
        };
        match interaction.kind {
            InteractionType::ApplicationCommand
            | InteractionType::ApplicationCommandAutocomplete => {
                let Some(call) = Call::from_interaction(&interaction) else {
                    return;
                };
                let span = tracing::info_span!("interaction", command = %call.name(), id = call.interaction_id, user = call.user_id);
                if interaction.kind == InteractionType::ApplicationCommand {
                    self.command(&discord, &interaction, call)
                        .instrument(span)
                        .await;
                } else {
                    self.autocomplete(&discord, &interaction, call)
                        .instrument(span)
                        .await;
                }
            }
            InteractionType::MessageComponent | InteractionType::ModalSubmit => {
                let span = tracing::info_span!("component", id = interaction.id.get());
                self.component(&discord, &interaction)
                    .instrument(span)
                    .await;
            }
            _ => {}
        }
    }

    async fn command(&self, discord: &Discord, interaction: &Interaction, call: Call) {
        let Some(handler) = call.path.first().and_then(|name| self.commands.get(name)) else {
            let message = format!(
                "I don't know the command `/{}`. It may have been removed; Discord can take a while to update the list.",
                call.name()
            );
            if let Err(error) = discord
                .reply_now(
                    interaction.id,
                    &interaction.token,
                    &Reply::text(message),
                    true,
                )
                .await
            {
                tracing::warn!(%error, "could not answer an unknown command");
            }
            return;
        };
        let ack = handler.ack(&call);
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
        let message = match handler.run(&self.app, &call).await {
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
            Err(error) => error_text(error, call.interaction_id),
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

    async fn autocomplete(&self, discord: &Discord, interaction: &Interaction, call: Call) {
        let choices = match (
            call.path.first().and_then(|name| self.commands.get(name)),
            call.focused(),
        ) {
            (Some(handler), Some((option, typed))) => {
                handler.autocomplete(&self.app, &call, option, typed).await
            }
            _ => Vec::new(),
        };
        if let Err(error) = discord
            .choices(interaction.id, &interaction.token, choices)
            .await
        {
            tracing::warn!(%error, "autocomplete answer failed");
        }
    }

    async fn component(&self, discord: &Discord, interaction: &Interaction) {
        let modal = interaction.kind == InteractionType::ModalSubmit;
        let stale = if modal { STALE_FORM } else { STALE_BUTTON };
        let token = &interaction.token;
        let call = match ComponentCall::from_interaction(interaction) {
            Some(Ok(call)) => call,
            Some(Err(raw)) => {
                tracing::info!(custom_id = %raw, "a component with an unparsable custom_id");
                answer_privately(discord, interaction, stale).await;
                return;
            }
            None => return,
        };
        let Some(handler) = self.components.get(&call.id.feature) else {
            tracing::info!(custom_id = %call.raw_id, "a component nobody handles");
            answer_privately(discord, interaction, stale).await;
            return;
        };
        let ack = handler.ack(&call);
        if ack == ComponentAck::DeferredPrivate
            && let Err(error) = discord.defer(interaction.id, token, true).await
        {
            tracing::warn!(%error, "could not acknowledge the component");
            return;
        }
        let answer = match handler.handle(&self.app, &call).await {
            Ok(answer) => answer,
            Err(ComponentError::Stale) => Answer::private(stale),
            Err(ComponentError::Command(error)) => {
                Answer::private(error_text(error, call.interaction_id))
            }
        };
        let sent = match (ack, answer) {
            (ComponentAck::Immediate, Answer::Message { reply, private }) => {
                discord
                    .reply_now(interaction.id, token, &reply, private)
                    .await
            }
            (ComponentAck::Immediate, Answer::Update(reply)) => {
                discord.update_message(interaction.id, token, &reply).await
            }
            (
                ComponentAck::Immediate,
                Answer::Modal {
                    custom_id,
                    title,
                    inputs,
                },
            ) => {
                discord
                    .open_modal(interaction.id, token, custom_id.to_string(), title, inputs)
                    .await
            }
            (ComponentAck::DeferredPrivate, Answer::Message { reply, .. }) => {
                discord.edit(token, &reply).await
            }
            (ComponentAck::DeferredPrivate, other) => {
                tracing::error!(feature = %call.id.feature, answer = ?other, "a deferred component can only answer with a message");
                discord
                    .edit(
                        token,
                        &Reply::text(error_text(
                            CommandError::Internal(anyhow::anyhow!("bad component answer")),
                            call.interaction_id,
                        )),
                    )
                    .await
            }
        };
        if let Err(error) = sent {
            tracing::warn!(%error, "could not answer the component");
        }
    }
}

/// The caller's text for a failed command or component; our failures are logged with the
/// trace id the text quotes.
fn error_text(error: CommandError, interaction_id: u64) -> String {
    match error {
        CommandError::User(message) => message,
        CommandError::Internal(error) => {
            let trace = platform::telemetry::current_trace_id()
                .unwrap_or_else(|| interaction_id.to_string());
            tracing::error!(error = %format!("{error:#}"), %trace, "interaction failed");
            format!(
                "Something went wrong on our side. Please try again; if it keeps happening, tell the bot's operators and quote `{trace}`."
            )
        }
    }
}

async fn answer_privately(discord: &Discord, interaction: &Interaction, text: &str) {
    if let Err(error) = discord
        .reply_now(interaction.id, &interaction.token, &Reply::text(text), true)
        .await
    {
        tracing::warn!(%error, "could not answer the component");
    }
}
