//! The `seedgen` service: rolls randomizer seeds from presets and owns presets, preset
//! namespaces, mystery weightsets, spoiler-log uploads and the generated-game audit. Serves
//! `seedgen.v1.SeedGen` (port 50051); `seedgen roll …` runs a generation with no other service.

#![warn(missing_docs)]

pub mod alttpr;
pub mod cli;
pub mod constants;
pub mod convert;
pub mod db;
pub mod generate;
pub mod grpc;
pub mod mystery;
pub mod preset;
pub mod priestmode;
pub mod providers;
pub mod purge;
pub mod rollers;
pub mod service;
pub mod storage;
pub mod suggest;
pub mod triforce;
pub mod yaml;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use platform::config::{CommonSettings, ConfigError, ServiceSettings, Settings};
use platform::{Service, ServiceContext};
use proto::seedgen::v1::seed_gen_server::SeedGenServer;
use serde::{Deserialize, Serialize};

use crate::generate::Generator;
use crate::preset::files::GlobalPresets;
use crate::providers::HttpPolicy;
use crate::storage::{ObjectStore, StorageSettings};

/// The seedgen service.
#[derive(Debug)]
pub struct SeedgenService;

/// Every provider's settings (`SEEDGEN_PROVIDERS__<NAME>__<KEY>`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ProvidersSettings {
    /// Timeouts, retries and circuit breaker shared by the remote providers.
    pub http: HttpPolicy,
    /// alttpr.com and its branch sites.
    pub alttpr: providers::alttpr::AlttprSettings,
    /// samus.link.
    pub samus: providers::samus::SamusSettings,
    /// avianart.
    pub avianart: providers::avianart::AvianartSettings,
    /// dashrando.net.
    pub dash: providers::dash::DashSettings,
    /// varia.run.
    pub varia: providers::varia::VariaSettings,
    /// ctjot.com.
    pub ctjets: providers::ctjets::CtjetsSettings,
    /// ootrandomizer.com.
    pub ootr: providers::ootr::OotrSettings,
    /// The Door Randomizer (run locally).
    pub doors: providers::doors::DoorsSettings,
}

/// seedgen's own settings (environment prefix `SEEDGEN_`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SeedgenSettings {
    /// Directory of global preset YAML files, one subdirectory per randomizer
    /// (`SEEDGEN_PRESETS_DIR`). An operator moving from the Python bot can point this at
    /// the bot's `presets/` folder.
    pub presets_dir: PathBuf,
    /// The randomizer services.
    pub providers: ProvidersSettings,
    /// Spoiler-log and patch storage.
    pub storage: StorageSettings,
    /// Seconds a `Generate` waits for a concurrent call with the same idempotency key.
    pub idempotency_wait_secs: u64,
}

impl Default for SeedgenSettings {
    fn default() -> Self {
        Self {
            presets_dir: PathBuf::from("presets"),
            providers: ProvidersSettings::default(),
            storage: StorageSettings {
                region: "us-east-1".into(),
                public_acl: "public-read".into(),
                ..StorageSettings::default()
            },
            idempotency_wait_secs: 180,
        }
    }
}

impl ServiceSettings for SeedgenSettings {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.presets_dir.as_os_str().is_empty() {
            return Err(ConfigError::invalid("presets_dir", "must not be empty"));
        }
        let http = &self.providers.http;
        if http.timeout_secs.is_nan() || http.timeout_secs <= 0.0 {
            return Err(ConfigError::invalid(
                "providers.http.timeout_secs",
                "must be more than 0",
            ));
        }
        if http.attempts == 0 {
            return Err(ConfigError::invalid(
                "providers.http.attempts",
                "must be at least 1",
            ));
        }
        for (key, url) in [
            ("providers.alttpr.base_url", &self.providers.alttpr.base_url),
            ("providers.samus.smz3_url", &self.providers.samus.smz3_url),
            ("providers.samus.sm_url", &self.providers.samus.sm_url),
            (
                "providers.avianart.base_url",
                &self.providers.avianart.base_url,
            ),
            ("providers.dash.base_url", &self.providers.dash.base_url),
            ("providers.varia.base_url", &self.providers.varia.base_url),
            ("providers.ctjets.base_url", &self.providers.ctjets.base_url),
            ("providers.ootr.base_url", &self.providers.ootr.base_url),
        ] {
            if url::Url::parse(url).is_err() {
                return Err(ConfigError::invalid(key, format!("`{url}` is not a URL")));
            }
        }
        Ok(())
    }
}

/// How often the global preset directory is re-read.
const PRESET_RELOAD: Duration = Duration::from_secs(60);

/// Builds the generator from settings (also used by the CLI, with no database).
pub fn build_generator(
    settings: &SeedgenSettings,
    db: Option<sea_orm::DatabaseConnection>,
) -> anyhow::Result<Generator> {
    // reqwest and aws-sdk-s3 are built without a default rustls provider; ring is ours.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let presets = Arc::new(GlobalPresets::load(&settings.presets_dir));
    let store = ObjectStore::new(&settings.storage).map(Arc::new);
    Ok(Generator::new(presets, db, store, &settings.providers)?)
}

impl Service for SeedgenService {
    const NAME: &'static str = "seedgen";
    const ENV_PREFIX: &'static str = "SEEDGEN_";
    type Settings = SeedgenSettings;
    type Migrator = seedgen_migration::Migrator;

    fn default_settings() -> Settings<SeedgenSettings> {
        Settings {
            common: CommonSettings::defaults(Self::NAME, &[]),
            service: SeedgenSettings::default(),
        }
    }

    async fn start(
        ctx: &ServiceContext,
        settings: &SeedgenSettings,
        routes: &mut tonic::service::RoutesBuilder,
    ) -> anyhow::Result<()> {
        if !settings.presets_dir.is_dir() {
            tracing::warn!(presets_dir = %settings.presets_dir.display(), "presets directory not found; only namespaced presets will be available");
        }
        let generator = Arc::new(build_generator(settings, Some(ctx.db.clone()))?);
        let catalog = generator.presets.catalog();
        tracing::info!(
            presets = catalog.len(),
            invalid = catalog.invalid().len(),
            dir = %settings.presets_dir.display(),
            "global presets loaded"
        );
        let presets = generator.presets.clone();
        ctx.tasks().every_after(PRESET_RELOAD, move || {
            let presets = presets.clone();
            async move {
                let _ = tokio::task::spawn_blocking(move || presets.reload()).await;
            }
        });
        let core = service::SeedGenCore::new(
            generator,
            ctx.db.clone(),
            ctx.outbox.clone(),
            Duration::from_secs(settings.idempotency_wait_secs),
        );
        routes.add_service(SeedGenServer::new(grpc::SeedGenApi { core }));
        routes.add_service(
            proto::triforce::v1::triforce_texts_server::TriforceTextsServer::new(
                triforce::TriforceTextsApi { db: ctx.db.clone() },
            ),
        );
        ctx.subscribe(purge::OnUserPurged);
        Ok(())
    }
}
