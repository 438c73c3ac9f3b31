//! The `seedgen` service: rolls randomizer seeds from presets and owns presets, preset
//! namespaces, the generated-game audit and daily games. Serves `seedgen.v1.SeedGen`
//! (port 50051); the RPC bodies arrive with the seedgen issue and answer UNIMPLEMENTED until then.

pub mod alttpr;
pub mod constants;
pub mod mystery;
pub mod preset;
pub mod providers;
pub mod rollers;
pub mod storage;
pub mod yaml;

use std::path::PathBuf;

use platform::config::{CommonSettings, ConfigError, ServiceSettings, Settings};
use platform::{Service, ServiceContext};
use proto::seedgen::v1::seed_gen_server::{SeedGen, SeedGenServer};
use serde::{Deserialize, Serialize};

/// The seedgen service.
#[derive(Debug)]
pub struct SeedgenService;

/// seedgen's own settings (environment prefix `SEEDGEN_`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SeedgenSettings {
    /// Directory of global preset YAML files, one subdirectory per randomizer
    /// (`SEEDGEN_PRESETS_DIR`).
    pub presets_dir: PathBuf,
}

impl ServiceSettings for SeedgenSettings {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.presets_dir.as_os_str().is_empty() {
            return Err(ConfigError::invalid("presets_dir", "must not be empty"));
        }
        Ok(())
    }
}

#[derive(Debug)]
struct SeedGenApi;

impl SeedGen for SeedGenApi {}

impl Service for SeedgenService {
    const NAME: &'static str = "seedgen";
    const ENV_PREFIX: &'static str = "SEEDGEN_";
    type Settings = SeedgenSettings;
    type Migrator = seedgen_migration::Migrator;

    fn default_settings() -> Settings<SeedgenSettings> {
        Settings {
            common: CommonSettings::defaults(Self::NAME, &[]),
            service: SeedgenSettings {
                presets_dir: PathBuf::from("presets"),
            },
        }
    }

    async fn start(
        _ctx: &ServiceContext,
        settings: &SeedgenSettings,
        routes: &mut tonic::service::RoutesBuilder,
    ) -> anyhow::Result<()> {
        if !settings.presets_dir.is_dir() {
            tracing::warn!(presets_dir = %settings.presets_dir.display(), "presets directory not found; only namespaced presets will be available");
        }
        routes.add_service(SeedGenServer::new(SeedGenApi));
        Ok(())
    }
}
