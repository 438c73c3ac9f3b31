//! The `racetime` service: the racetime.gg bot. It follows race rooms of every configured
//! category (found by polling `/o/{category}/data`, unlisted included, or joined right after
//! opening), runs chat commands per category, keeps each room's handler state in its database
//! so a restart resumes without re-posting, holds a lease per room so two replicas never both
//! answer, and serves `racetime.v1.RaceRooms` (port 50052) for other services.

#![warn(missing_docs)]

pub mod bot;
pub mod commands;
pub mod db;
pub mod forward;
pub mod grpc;
pub mod open;
pub mod room;
pub mod settings;
pub mod state;

pub use settings::{CategoryCredentials, RacetimeSettings};

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use platform::config::{CommonSettings, Settings};
use platform::{Service, ServiceContext};
use proto::racetime::v1::race_rooms_server::RaceRoomsServer;
use racetime_client::{Credentials, RacetimeHttp, TokenManager};
use secrecy::ExposeSecret;

use crate::bot::Bot;
use crate::commands::HandlerKind;
use crate::room::CategoryBot;

/// The racetime service.
#[derive(Debug)]
pub struct RacetimeService;

impl Service for RacetimeService {
    const NAME: &'static str = "racetime";
    const ENV_PREFIX: &'static str = "RACETIME_";
    type Settings = RacetimeSettings;
    type Migrator = racetime_migration::Migrator;

    fn default_settings() -> Settings<RacetimeSettings> {
        Settings {
            common: CommonSettings::defaults(Self::NAME, &["seedgen", "tournament"]),
            service: RacetimeSettings::default(),
        }
    }

    async fn start(
        ctx: &ServiceContext,
        settings: &RacetimeSettings,
        routes: &mut tonic::service::RoutesBuilder,
    ) -> anyhow::Result<()> {
        let base = url::Url::parse(&settings.racetime_url)?;
        let http = RacetimeHttp::new(base, Duration::from_secs(settings.http_timeout_secs))?;
        let bot = Arc::new(Bot {
            db: ctx.db.clone(),
            outbox: ctx.outbox.clone(),
            http: http.clone(),
            settings: settings.clone(),
            instance: format!("racetime-{}", uuid::Uuid::now_v7().simple()),
            categories: Mutex::new(HashMap::new()),
            rooms: Mutex::new(HashMap::new()),
            seedgen: ctx.peers.get("seedgen").ok().cloned(),
            tasks: ctx.tasks(),
            texts: Arc::new(commands::OperatorTexts {
                contact: settings.contact.clone(),
                docs_url: settings.docs_url.clone(),
            }),
            open_locks: Mutex::new(HashMap::new()),
        });
        if settings.categories.is_empty() {
            tracing::warn!(
                "no racetime.gg category credentials configured (RACETIME_CATEGORIES__<SLUG>__CLIENT_ID / __CLIENT_SECRET); the racetime.gg bot is idle"
            );
        }
        for (slug, credentials) in &settings.categories {
            let kind = HandlerKind::from_name(credentials.handler_name(slug))
                .unwrap_or(HandlerKind::Contra);
            let bot = bot.clone();
            let slug = slug.clone();
            let credentials = Credentials {
                client_id: credentials.client_id.clone(),
                client_secret: credentials.client_secret.expose_secret().to_string().into(),
            };
            let http = http.clone();
            let shutdown = ctx.shutdown.clone();
            ctx.spawn(async move {
                // A category whose credentials fail is degraded alone; the others run.
                let tokens = loop {
                    match TokenManager::start(http.clone(), credentials.clone()).await {
                        Ok(tokens) => break tokens,
                        Err(error) => {
                            tracing::error!(category = %slug, %error, "racetime.gg category bot cannot authenticate; retrying in 5 minutes");
                            tokio::select! {
                                _ = tokio::time::sleep(Duration::from_secs(300)) => {}
                                _ = shutdown.cancelled() => return,
                            }
                        }
                    }
                };
                let category = Arc::new(CategoryBot { slug: slug.clone(), kind, tokens });
                bot.categories.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(slug.clone(), category.clone());
                tracing::info!(category = %slug, ?kind, "racetime.gg category bot authenticated");
                let tasks = bot.tasks.clone();
                let (all, listed) = (bot.clone(), category.clone());
                tasks.every(Duration::from_secs(bot.settings.poll_interval_secs), move || {
                    let (bot, category) = (all.clone(), listed.clone());
                    async move { bot.discover(&category).await }
                });
                let (bot, category) = (bot.clone(), category.clone());
                tasks.every(Duration::from_millis(bot.settings.listed_poll_interval_ms), move || {
                    let (bot, category) = (bot.clone(), category.clone());
                    async move { bot.discover_listed(&category).await }
                });
            });
        }
        let renewer = bot.clone();
        ctx.tasks().every(
            Duration::from_secs((bot.settings.lease_ttl_secs / 3).max(1)),
            move || {
                let renewer = renewer.clone();
                async move { renewer.renew_leases().await }
            },
        );
        // Leases are released as each room actor stops (see `Bot::join`).
        let forwarder =
            forward::Forwarder::new(ctx.nats.clone(), &ctx.common.events.subject_prefix);
        ctx.spawn(forwarder.clone().serve(bot.clone(), ctx.tasks()));
        routes.add_service(RaceRoomsServer::new(grpc::RaceRoomsApi { bot, forwarder }));
        Ok(())
    }
}
