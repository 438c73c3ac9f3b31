//! The `tournament` service: tournaments, matches, results, async tournaments and ranked-choice
//! elections. Serves `tournament.v1.Tournaments` (port 50053); the bodies arrive with the
//! tournament issues.

#![warn(missing_docs)]

use platform::config::{CommonSettings, ConfigError, ServiceSettings, Settings};
use platform::{Service, ServiceContext};
use proto::tournament::v1::tournaments_server::{Tournaments, TournamentsServer};
use serde::{Deserialize, Serialize};

/// The tournament service.
#[derive(Debug)]
pub struct TournamentService;

/// tournament's own settings (environment prefix `TOURNAMENT_`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TournamentSettings {
    /// Base URL of the SpeedGaming schedule API (`TOURNAMENT_SPEEDGAMING_URL`).
    pub speedgaming_url: String,
    /// How often SpeedGaming schedules are polled, in seconds
    /// (`TOURNAMENT_SCHEDULE_POLL_SECS`).
    pub schedule_poll_secs: u64,
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
        Ok(())
    }
}

#[derive(Debug)]
struct TournamentsApi;

impl Tournaments for TournamentsApi {}

impl Service for TournamentService {
    const NAME: &'static str = "tournament";
    const ENV_PREFIX: &'static str = "TOURNAMENT_";
    type Settings = TournamentSettings;
    type Migrator = tournament_migration::Migrator;

    fn default_settings() -> Settings<TournamentSettings> {
        Settings {
            common: CommonSettings::defaults(
                Self::NAME,
                &["racetime", "seedgen", "gateway", "api"],
            ),
            service: TournamentSettings {
                speedgaming_url: "https://speedgaming.org/api".to_owned(),
                schedule_poll_secs: 60,
            },
        }
    }

    async fn start(
        _ctx: &ServiceContext,
        _settings: &TournamentSettings,
        routes: &mut tonic::service::RoutesBuilder,
    ) -> anyhow::Result<()> {
        routes.add_service(TournamentsServer::new(TournamentsApi));
        Ok(())
    }
}
