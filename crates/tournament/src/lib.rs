//! The `tournament` service: the tournament registry, matches from SpeedGaming or organizers,
//! and race rooms opened on time, once (spec `tournament.md` §1). Serves
//! `tournament.v1.Tournaments` and `tournament.v1.TournamentAdmin` (port 50053); runs the
//! SpeedGaming importer and the room opener; delivers tournament seeds on `!tournamentrace`
//! and records and announces results. Also serves async tournaments (`asynctournament.v1`,
//! with their run timers and hourly scores), elections, leagues and racer verification.

#![warn(missing_docs)]

pub mod asyncs;
pub mod cli;
pub mod config;
pub mod db;
pub mod dryrun;
pub mod elections;
pub mod gatekeeping;
pub mod grpc;
pub mod import;
pub mod ladder;
pub mod leagues;
pub mod livetest;
pub mod matches;
pub mod needs;
pub mod notify;
pub mod opener;
pub mod player_checks;
pub mod registry;
pub mod results;
pub mod scheduled_events;
pub mod seeds;
pub mod speedgaming;
pub mod submissions;
pub mod verification;

use std::time::Duration;

use chrono::Utc;
use platform::config::{CommonSettings, ConfigError, ServiceSettings, Settings};
use platform::{Service, ServiceContext};
use proto::asynctournament::v1::async_tournaments_server::AsyncTournamentsServer;
use proto::elections::v1::elections_server::ElectionsServer;
use proto::leagues::v1::leagues_server::LeaguesServer;
use proto::tournament::v1::tournament_admin_server::TournamentAdminServer;
use proto::tournament::v1::tournaments_server::TournamentsServer;
use proto::verification::v1::racer_verification_server::RacerVerificationServer;
use serde::{Deserialize, Serialize};

use crate::db::ScheduleSource;

/// How often verified racers past their reverify period are re-checked.
const REVERIFY_POLL: Duration = Duration::from_secs(3600);

/// How often async run timers are swept (spec §3.3: upstream's loops ran every 60 s).
const ASYNC_SWEEP: Duration = Duration::from_secs(60);
/// How often async scores are recalculated.
const ASYNC_SCORES: Duration = Duration::from_secs(3600);

/// How often leagues due for an iRacing roster check are looked for.
const LEAGUE_SYNC_POLL: Duration = Duration::from_secs(300);

/// The job leases (migration `tournament_job_leases`).
const JOB_LEASES: platform::lease::LeaseTable = platform::lease::LeaseTable {
    table: "tournament_job_leases",
    key_column: "name",
};

/// The tournament service.
#[derive(Debug)]
pub struct TournamentService;

/// tournament's own settings (environment prefix `TOURNAMENT_`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct TournamentSettings {
    /// Base URL of the SpeedGaming schedule API (`TOURNAMENT_SPEEDGAMING_URL`).
    pub speedgaming_url: String,
    /// How often SpeedGaming schedules are imported, in seconds
    /// (`TOURNAMENT_SCHEDULE_POLL_SECS`).
    pub schedule_poll_secs: u64,
    /// How often due rooms are opened, in seconds (`TOURNAMENT_OPENER_POLL_SECS`).
    pub opener_poll_secs: u64,
    /// How often the week ahead is synced to Discord (scheduled events, the scheduling-needs
    /// embed), in seconds (`TOURNAMENT_WEEK_POLL_SECS`; upstream: 15 minutes).
    pub week_poll_secs: u64,
    /// How often upcoming matches' players are checked, in seconds
    /// (`TOURNAMENT_PLAYER_CHECK_POLL_SECS`; upstream: 4 hours).
    pub player_check_poll_secs: u64,
    /// iRacing Data API credentials for league roster checks (`TOURNAMENT_IRACING__…`;
    /// optional: without them sync is off).
    pub iracing: leagues::iracing::IracingSettings,
    /// The ALTTPR Ladder for racer verification (`TOURNAMENT_ALTTPR_LADDER__URL`, optional:
    /// off when empty).
    pub alttpr_ladder: ladder::LadderSettings,
    /// The website's public URL, for links in DMs such as the settings form
    /// (`TOURNAMENT_WEBSITE_URL`; api's `API_HTTP__PUBLIC_URL`).
    pub website_url: String,
    /// How often async runs' timers are swept, in seconds (`TOURNAMENT_ASYNC_SWEEP_SECS`;
    /// upstream: 60).
    pub async_sweep_secs: u64,
}

impl Default for TournamentSettings {
    fn default() -> Self {
        Self {
            speedgaming_url: "https://speedgaming.org/api".to_owned(),
            schedule_poll_secs: 60,
            opener_poll_secs: 20,
            week_poll_secs: 900,
            player_check_poll_secs: 4 * 3600,
            iracing: leagues::iracing::IracingSettings::default(),
            alttpr_ladder: ladder::LadderSettings::default(),
            website_url: "http://localhost:8080".to_owned(),
            async_sweep_secs: ASYNC_SWEEP.as_secs(),
        }
    }
}

impl ServiceSettings for TournamentSettings {
    fn validate(&self) -> Result<(), ConfigError> {
        url::Url::parse(&self.speedgaming_url)
            .map_err(|error| ConfigError::invalid("speedgaming_url", error.to_string()))?;
        if self.schedule_poll_secs == 0 {
            return Err(ConfigError::invalid(
                "schedule_poll_secs",
                "must be at least 1",
            ));
        }
        if self.iracing.configured() {
            for (name, value) in [
                ("iracing.oauth_url", &self.iracing.oauth_url),
                ("iracing.data_url", &self.iracing.data_url),
            ] {
                url::Url::parse(value)
                    .map_err(|error| ConfigError::invalid(name, error.to_string()))?;
            }
        }
        if self.week_poll_secs == 0 || self.player_check_poll_secs == 0 {
            return Err(ConfigError::invalid(
                "week_poll_secs",
                "week_poll_secs and player_check_poll_secs must be at least 1",
            ));
        }
        if self.async_sweep_secs == 0 {
            return Err(ConfigError::invalid(
                "async_sweep_secs",
                "must be at least 1",
            ));
        }
        if self.opener_poll_secs == 0 {
            return Err(ConfigError::invalid(
                "opener_poll_secs",
                "must be at least 1",
            ));
        }
        Ok(())
    }
}

impl Service for TournamentService {
    const NAME: &'static str = "tournament";
    const ENV_PREFIX: &'static str = "TOURNAMENT_";
    type Settings = TournamentSettings;
    type Migrator = tournament_migration::Migrator;

    fn default_settings() -> Settings<TournamentSettings> {
        let mut common =
            CommonSettings::defaults(Self::NAME, &["racetime", "seedgen", "gateway", "api"]);
        // A tournament seed may take a provider a minute or more; the seed consumer allows
        // seeds::SEED_HANDLER_TIMEOUT for the whole delivery.
        if let Some(seedgen) = common.peers.get_mut("seedgen") {
            seedgen.timeout_ms = 120_000;
        }
        Settings {
            common,
            service: TournamentSettings::default(),
        }
    }

    async fn start(
        ctx: &ServiceContext,
        settings: &TournamentSettings,
        routes: &mut tonic::service::RoutesBuilder,
    ) -> anyhow::Result<()> {
        let lateness =
            prometheus_client::metrics::histogram::Histogram::new(opener::LATENESS_BUCKETS);
        ctx.metrics.register(
            "tournament_room_open_lateness_seconds",
            "Seconds from a match room's window opening to the room being open",
            lateness.clone(),
        );
        let opener = opener::Opener::new(ctx.db.clone(), ctx.peers.clone(), ctx.outbox.clone())
            .with_lateness(lateness)
            .with_website(&settings.website_url);
        let seeds = seeds::OnTournamentRace::new(
            ctx.db.clone(),
            ctx.peers.clone(),
            ctx.outbox.clone(),
            opener.clone(),
        );
        let gatekeeper = gatekeeping::Gatekeeper::new(ctx.db.clone(), ctx.peers.clone());
        let api = grpc::Api::new(
            ctx.db.clone(),
            opener.clone(),
            seeds.clone(),
            gatekeeper.clone(),
        )
        .with_speedgaming(speedgaming::SpeedGaming::new(&settings.speedgaming_url)?);
        routes.add_service(TournamentsServer::new(api.clone()));
        routes.add_service(TournamentAdminServer::new(api));

        // League car numbers, and their iRacing roster check when credentials are set.
        let iracing = match leagues::iracing::Iracing::new(&settings.iracing) {
            Ok(client) => Some(client),
            Err(leagues::iracing::IracingError::Unconfigured) => {
                tracing::info!("no iRacing credentials: league roster checks are off");
                None
            }
            Err(error) => return Err(error.into()),
        };
        let ladder = ladder::Ladder::new(&settings.alttpr_ladder)?;
        if ladder.is_none() {
            tracing::info!(
                "no ALTTPR Ladder configured: racer verification counts racetime.gg races only"
            );
        }
        let verifier =
            verification::Verifier::new(ctx.db.clone(), ctx.peers.clone()).with_ladder(ladder);
        routes.add_service(RacerVerificationServer::new(verifier.clone()));
        // The re-check of verified racers, hourly on one replica: only the members past their
        // verification's reverify period are re-checked, so each is re-checked once a period.
        let instance = format!("tournament-{}", uuid::Uuid::now_v7().simple());
        every_leased(
            ctx,
            &instance,
            "racer-reverify",
            REVERIFY_POLL,
            REVERIFY_POLL * 3,
            move || {
                let verifier = verifier.clone();
                async move { verifier.reverify_all().await }
            },
        );
        routes.add_service(ElectionsServer::new(elections::grpc::ElectionsApi(
            elections::Elections::new(ctx.db.clone(), ctx.outbox.clone(), ctx.peers.clone()),
        )));
        routes.add_service(LeaguesServer::new(leagues::grpc::LeaguesApi::new(
            ctx.db.clone(),
            ctx.outbox.clone(),
            iracing.clone(),
        )));
        if let Some(iracing) = iracing {
            // One replica syncs; the lease outlives a slow round.
            let db = ctx.db.clone();
            every_leased(
                ctx,
                &instance,
                "league-sync",
                LEAGUE_SYNC_POLL,
                LEAGUE_SYNC_POLL * 3,
                move || {
                    let (db, iracing) = (db.clone(), iracing.clone());
                    async move { leagues::sync::sync_due(&db, &iracing).await }
                },
            );
        }

        // Async tournaments: the RPCs, the live races' room events, and the run timers and
        // hourly scores on one replica (each change is conditional, so a second replica that
        // slips in between leases changes nothing twice).
        let asyncs = asyncs::Asyncs::new(ctx.db.clone(), ctx.peers.clone(), &settings.website_url);
        routes.add_service(AsyncTournamentsServer::new(asyncs::grpc::AsyncApi(
            asyncs.clone(),
        )));
        ctx.subscribe(asyncs::live::OnLiveRaceStarted(asyncs.clone()));
        ctx.subscribe(asyncs::live::OnLiveRaceFinished(asyncs.clone()));
        ctx.subscribe(asyncs::users::OnUserMerged);
        ctx.subscribe(asyncs::users::OnUserPurged);
        let sweep = Duration::from_secs(settings.async_sweep_secs);
        let sweeper = asyncs.clone();
        every_leased(
            ctx,
            &instance,
            "async-timers",
            sweep,
            sweep * 3,
            move || {
                let asyncs = sweeper.clone();
                async move {
                    match asyncs.sweep(Utc::now()).await {
                        Ok(swept) if swept != asyncs::timers::Swept::default() => {
                            tracing::info!(?swept, "async run timers swept")
                        }
                        Ok(_) => {}
                        Err(error) => tracing::warn!(%error, "async run timer sweep failed"),
                    }
                }
            },
        );
        every_leased(
            ctx,
            &instance,
            "async-scores",
            ASYNC_SCORES,
            ASYNC_SCORES * 2,
            move || {
                let asyncs = asyncs.clone();
                async move { asyncs.score_active().await }
            },
        );

        let sg = speedgaming::SpeedGaming::new(&settings.speedgaming_url)?;
        // The week ahead on Discord (scheduled events, the needs embed), and the players of the
        // next two days, each on one replica.
        let week_poll = Duration::from_secs(settings.week_poll_secs);
        let (db, peers, week_sg) = (ctx.db.clone(), ctx.peers.clone(), sg.clone());
        let website = settings.website_url.clone();
        every_leased(
            ctx,
            &instance,
            "week-ahead",
            week_poll,
            week_poll * 3,
            move || {
                let (db, peers, sg, website) =
                    (db.clone(), peers.clone(), week_sg.clone(), website.clone());
                async move { week_ahead(&db, &peers, &sg, &website).await }
            },
        );
        let check_poll = Duration::from_secs(settings.player_check_poll_secs);
        let (db, checker) = (ctx.db.clone(), opener.clone());
        every_leased(
            ctx,
            &instance,
            "player-checks",
            check_poll,
            check_poll * 3,
            move || {
                let (db, opener) = (db.clone(), checker.clone());
                async move { check_players(&db, &opener).await }
            },
        );
        let db = ctx.db.clone();
        let importer_opener = opener.clone();
        ctx.tasks().every(
            Duration::from_secs(settings.schedule_poll_secs),
            move || {
                let (db, sg, opener) = (db.clone(), sg.clone(), importer_opener.clone());
                async move { import_all(&db, &sg, &opener).await }
            },
        );
        ctx.subscribe(seeds);
        ctx.subscribe(opener::OnRoomOpened(opener.clone()));
        ctx.subscribe(gatekeeping::OnJoinRequest(gatekeeper.clone()));
        ctx.subscribe(gatekeeping::OnPromote(gatekeeper));
        ctx.subscribe(results::OnRaceFinished::new(ctx.db.clone()));
        ctx.subscribe(results::OnRoomCancelled);
        let (db, outbox, publisher) = (ctx.db.clone(), ctx.outbox.clone(), opener.clone());
        ctx.tasks()
            .every(Duration::from_secs(settings.opener_poll_secs), move || {
                let (db, outbox, opener) = (db.clone(), outbox.clone(), publisher.clone());
                async move {
                    if let Err(error) =
                        results::publish_due(&db, &outbox, &opener, Utc::now()).await
                    {
                        tracing::warn!(%error, "result announcement round failed");
                    }
                }
            });
        // One replica at a time opens rooms (the binding rows already make a second room
        // impossible; the lease keeps two replicas from doing the same work). The lease lasts two
        // rounds, 10–30 s: a killed holder is replaced within the lease plus one round (50 s at
        // the default 20 s round), inside the one-minute room-open target. (With rounds longer
        // than 30 s the lease lapses between rounds and replicas may alternate — still once.)
        let poll = Duration::from_secs(settings.opener_poll_secs);
        let ttl = (poll * 2).clamp(Duration::from_secs(10), Duration::from_secs(30));
        let (db, shutdown, holder) = (ctx.db.clone(), ctx.shutdown.clone(), instance.clone());
        // Handed over at a clean stop, so the other replica need not wait for it to lapse.
        ctx.spawn(async move {
            shutdown.cancelled().await;
            if let Err(error) =
                platform::lease::release(&db, JOB_LEASES, "room-opener", &holder).await
            {
                tracing::warn!(%error, "could not release the room opener lease");
            }
        });
        every_leased(ctx, &instance, "room-opener", poll, ttl, move || {
            let opener = opener.clone();
            async move {
                if let Err(error) = opener.open_due(Utc::now()).await {
                    tracing::warn!(%error, "room opener round failed");
                }
            }
        });
        Ok(())
    }
}

/// Runs `job` every `poll` on the one replica holding lease `name` (taken for `ttl`, renewed
/// each round by its holder) in `tournament_job_leases`; `instance` names this process.
fn every_leased<F, Fut>(
    ctx: &ServiceContext,
    instance: &str,
    name: &'static str,
    poll: Duration,
    ttl: Duration,
    mut job: F,
) where
    F: FnMut() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (db, instance) = (ctx.db.clone(), instance.to_owned());
    ctx.tasks().every(poll, move || {
        let (db, instance) = (db.clone(), instance.clone());
        let run = job();
        async move {
            match platform::lease::acquire(&db, JOB_LEASES, name, &instance, ttl).await {
                Ok(true) => run.await,
                Ok(false) => tracing::trace!(job = name, "another replica holds this job"),
                Err(error) => tracing::warn!(job = name, %error, "could not take the job's lease"),
            }
        }
    });
}

/// One round of the week ahead over every live tournament: settings reminders, Discord
/// scheduled events and the scheduling-needs embed; failures are logged per tournament and retried next round.
async fn week_ahead(
    db: &sea_orm::DatabaseConnection,
    peers: &platform::grpc::Peers,
    sg: &speedgaming::SpeedGaming,
    website: &str,
) {
    let now = Utc::now();
    let Ok(tournaments) = registry::list(db, true).await else {
        return;
    };
    for t in tournaments.iter().filter(|t| t.live_at(now)) {
        match submissions::remind(db, peers, t, website, now).await {
            Ok(0) => {}
            Ok(sent) => tracing::info!(tournament = %t.row.slug, sent, "settings reminders sent"),
            Err(error) => {
                tracing::warn!(tournament = %t.row.slug, %error, "settings reminders failed")
            }
        }
        match scheduled_events::sync(db, peers, t, now).await {
            Ok((0, 0, 0)) => {}
            Ok((created, updated, deleted)) => {
                tracing::info!(tournament = %t.row.slug, created, updated, deleted, "scheduled events synced")
            }
            Err(error) => {
                tracing::warn!(tournament = %t.row.slug, %error, "scheduled events not synced")
            }
        }
        if let Err(error) = needs::refresh(db, peers, sg, t, now).await {
            tracing::warn!(tournament = %t.row.slug, error = %format!("{error:#}"), "scheduling needs not refreshed");
        }
    }
}

/// One round of player checks over every live tournament's next two days.
async fn check_players(db: &sea_orm::DatabaseConnection, opener: &opener::Opener) {
    let now = Utc::now();
    let Ok(tournaments) = registry::list(db, true).await else {
        return;
    };
    for t in tournaments.iter().filter(|t| t.live_at(now)) {
        if let Err(error) = player_checks::check_upcoming(db, opener, t, now).await {
            tracing::warn!(tournament = %t.row.slug, %error, "player check failed; next round retries");
        }
    }
}

/// One import round over every live SpeedGaming tournament; failures are logged per
/// tournament, and a match deleted after its room opened is reported to the audit channel.
async fn import_all(
    db: &sea_orm::DatabaseConnection,
    sg: &speedgaming::SpeedGaming,
    opener: &opener::Opener,
) {
    let now = Utc::now();
    let tournaments = match registry::list(db, true).await {
        Ok(list) => list,
        Err(error) => {
            tracing::warn!(%error, "could not list tournaments to import");
            return;
        }
    };
    for t in tournaments {
        if t.row.schedule_source != ScheduleSource::Speedgaming || !t.live_at(now) {
            continue;
        }
        match import::import(db, sg, opener, &t, now).await {
            Ok(report) => {
                if report.created + report.updated.len() + report.deleted.len() > 0 {
                    tracing::info!(tournament = %t.row.slug, created = report.created, updated = report.updated.len(), deleted = report.deleted.len(), "schedule imported");
                }
                for id in &report.deleted {
                    opener
                        .audit(
                            &t,
                            &format!("deleted:{}:{id}", t.row.slug),
                            &format!("SpeedGaming episode `{id}` was deleted; its match is gone. Close its race room if one was opened."),
                        )
                        .await;
                }
            }
            Err(error) => {
                tracing::warn!(tournament = %t.row.slug, %error, "schedule import failed; next poll retries");
            }
        }
    }
}
