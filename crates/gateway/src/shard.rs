//! One Discord gateway shard: twilight keeps the connection (heartbeats, RESUME after a drop,
//! re-IDENTIFY when the session is gone); this loop hands each interaction to the router on
//! its own task, so a slow command never holds up the next event.

use std::sync::Arc;

use secrecy::ExposeSecret;
use twilight_gateway::{
    CloseFrame, ConfigBuilder, Event, EventTypeFlags, Intents, Shard, ShardId, StreamExt as _,
};

use crate::DiscordSettings;
use platform::tasks::Tasks;

use crate::router::Router;

/// What one shard connects with.
#[derive(Clone, Debug)]
pub struct ShardConfig {
    token: String,
    gateway_url: Option<String>,
    id: ShardId,
}

impl ShardConfig {
    /// Shard `id` of `settings.shards`.
    pub fn new(token: &platform::config::Secret, settings: &DiscordSettings, id: u32) -> Self {
        Self {
            token: token.expose_secret().to_owned(),
            gateway_url: (!settings.gateway_url.is_empty())
                .then(|| settings.gateway_url.trim_end_matches('/').to_owned()),
            id: ShardId::new(id, settings.shards),
        }
    }
}

/// The events the bot acts on; with the audit log, message and member events too.
fn wanted(audit: bool) -> EventTypeFlags {
    let base = EventTypeFlags::INTERACTION_CREATE | EventTypeFlags::READY | EventTypeFlags::RESUMED;
    if audit {
        base | EventTypeFlags::MESSAGE_CREATE
            | EventTypeFlags::MESSAGE_UPDATE
            | EventTypeFlags::MESSAGE_DELETE
            | EventTypeFlags::MESSAGE_DELETE_BULK
            | EventTypeFlags::MEMBER_ADD
            | EventTypeFlags::MEMBER_REMOVE
            | EventTypeFlags::BAN_ADD
    } else {
        base
    }
}

/// Runs the shard until `shutdown`; then closes the session cleanly.
/// Interactions (and, with `audit`, message and member events) run as tasks of `tasks`, so
/// shutdown waits for those in flight.
pub async fn run(
    router: Arc<Router>,
    audit: Option<crate::audit::Audit>,
    config: ShardConfig,
    tasks: Tasks,
) {
    let shutdown = tasks.token().clone();
    // Slash commands, autocomplete and components arrive without any privileged intent; the
    // audit log needs message content and members (privileged: enabled in the developer
    // portal) and bans.
    let intents = if audit.is_some() {
        Intents::GUILDS
            | Intents::GUILD_MESSAGES
            | Intents::MESSAGE_CONTENT
            | Intents::GUILD_MEMBERS
            | Intents::GUILD_MODERATION
    } else {
        Intents::GUILDS
    };
    let wanted = wanted(audit.is_some());
    let mut builder = ConfigBuilder::new(config.token, intents);
    if let Some(url) = config.gateway_url {
        builder = builder.proxy_url(url);
    }
    let mut shard = Shard::with_config(config.id, builder.build());
    loop {
        let item = tokio::select! {
            item = shard.next_event(wanted) => item,
            () = shutdown.cancelled() => {
                shard.close(CloseFrame::NORMAL);
                return;
            }
        };
        let Some(item) = item else {
            tracing::warn!(shard = %config.id, "gateway stream ended");
            return;
        };
        match item {
            Ok(Event::InteractionCreate(interaction)) => {
                let router = router.clone();
                tasks.spawn(async move { router.handle(interaction.0).await });
            }
            Ok(Event::Ready(ready)) => {
                tracing::info!(shard = %config.id, user = %ready.user.name, guilds = ready.guilds.len(), "gateway session ready");
            }
            Ok(Event::Resumed) => tracing::info!(shard = %config.id, "gateway session resumed"),
            Ok(event) => {
                if let Some(audit) = &audit {
                    let audit = audit.clone();
                    tasks.spawn(async move { audit.on_event(event).await });
                }
            }
            // twilight reconnects by itself; a fatal close (bad token, bad intents) ends the
            // stream above.
            Err(error) => tracing::warn!(shard = %config.id, %error, "gateway error"),
        }
    }
}
