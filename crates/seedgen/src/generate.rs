//! Turning a request into a seed: resolve the preset, plan the provider call (drawing every
//! random choice from one seeded RNG), run it, and upload spoiler logs. [`crate::service`]
//! adds idempotency, the audit row and the event; the CLI uses this module directly.

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use rand::RngExt;
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};

use crate::alttpr::spoiler::{ProgressionError, filtered_spoiler, progression_spoiler};
use crate::alttpr::{AlttprKind, AlttprOptions, AlttprPreset, AlttprRequest, build_request};
use crate::mystery::{self, MysteryError, MysteryRng, Rolled};
use crate::preset::files::GlobalPresets;
use crate::preset::namespaces::{self, NamespaceError};
use crate::preset::{CtjetsPreset, LoadedPreset, PresetBody, PresetError, PresetRef, load};
use crate::providers::alttpr::AlttprClient;
use crate::providers::avianart::{AvianartClient, AvianartRequest};
use crate::providers::ctjets::CtjetsClient;
use crate::providers::dash::{DashClient, DashRequest};
use crate::providers::doors::{DoorsClient, DoorsRequest};
use crate::providers::ootr::{OotrClient, OotrRequest};
use crate::providers::samus::{SamusClient, SamusRequest};
use crate::providers::varia::{VariaClient, VariaRequest};
use crate::providers::{ProviderError, ProviderErrorKind, Seed, SeedProvider, random_alphanumeric};
use crate::rollers::{self, LocalSeed, RollerError};
use crate::storage::{ObjectStore, StorageError, spoiler_body, spoiler_key};
use crate::{ProvidersSettings, yaml};

/// Randomizers `Generate` accepts.
pub const RANDOMIZERS: [&str; 15] = [
    "alttpr",
    "kisspriest",
    "alttprmystery",
    "sm",
    "smz3",
    "ctjets",
    "z1r",
    "z2r",
    "smb3r",
    "ff1r",
    "aosr",
    "smbingo",
    "smdash",
    "smvaria",
    "ootr",
];

/// Branches a request may name: alttpr.com's sites, then the Door Randomizer's.
pub const BRANCHES: [&str; 6] = [
    "live",
    "beeta",
    "tournament",
    "stable",
    "volatile",
    "unstable",
];

/// A seed request, as every surface asks for it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Request {
    /// The randomizer, e.g. `alttpr`.
    pub randomizer: String,
    /// Preset or weightset reference; for local rollers the preset, flags or URL.
    pub preset: String,
    /// Inline preset YAML (used instead of `preset` when not empty).
    pub preset_yaml: String,
    /// A race seed (spoiler log hidden).
    pub race: bool,
    /// A spoiler race (the log is stored and linked).
    pub spoiler: bool,
    /// `spoiler` or `progression`.
    pub spoiler_type: String,
    /// Hints on (ALTTPR).
    pub hints: bool,
    /// The randomizer branch, when chosen.
    pub branch: Option<String>,
    /// Quickswap allowed (ALTTPR).
    pub allow_quickswap: bool,
    /// Who asked, e.g. `discord:<id>`.
    pub requested_by: String,
    /// Where: `discord`, `racetime`, `api`, `cli`.
    pub surface: String,
    /// A fixed RNG seed (replays a roll), else random.
    pub rng_seed: Option<u64>,
    /// Mystery only: show the rolled settings.
    pub unmasked: bool,
    /// Player names (multiworld).
    pub players: Vec<String>,
    /// alttpr.com path prefix (seasonal endpoints); empty normally.
    pub endpoint_prefix: String,
    /// ALTTPR: the triforce text pool of the seed's end-credit text (overrides the preset's).
    pub triforce_text_pool: Option<String>,
    /// Pick the triforce text uniformly instead of balanced by submitter.
    pub triforce_text_uniform: bool,
}

/// Why a seed could not be made.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// The request is not valid (the message says why).
    #[error("{0}")]
    Invalid(String),
    /// The preset cannot be found or read.
    #[error(transparent)]
    Preset(#[from] PresetError),
    /// The weightset cannot be rolled.
    #[error("the weightset cannot be rolled: {0}")]
    Mystery(#[from] MysteryError),
    /// The randomizer service failed.
    #[error(transparent)]
    Provider(#[from] ProviderError),
    /// A local roller refused the preset.
    #[error(transparent)]
    Roller(#[from] RollerError),
    /// The spoiler log could not be stored.
    #[error("{0}")]
    Storage(#[from] StorageError),
    /// The progression spoiler could not be made.
    #[error("{0}")]
    Progression(#[from] ProgressionError),
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    /// The same idempotency key is being generated right now.
    #[error("a generation with this idempotency key is still running; retry shortly")]
    InProgress,
}

impl From<NamespaceError> for GenerateError {
    fn from(error: NamespaceError) -> Self {
        match error {
            NamespaceError::Preset(p) => Self::Preset(p),
            NamespaceError::Db(d) => Self::Db(d),
        }
    }
}

/// What a finished generation reports (also stored for idempotent replays).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Generated {
    /// The randomizer.
    pub randomizer: String,
    /// `preset` or `mystery`.
    pub kind: String,
    /// Preset or weightset reference (`name` or `namespace/name`).
    pub option: String,
    /// The preset's namespace, when namespaced.
    pub namespace: Option<String>,
    /// The provider that made the seed.
    pub provider: String,
    /// The seed.
    pub seed: Seed,
    /// What was sent to the provider (empty object for local rollers).
    pub settings: Json,
    /// Mystery rolls whose settings must not be shown.
    pub masked: bool,
    /// Sent to alttpr.com's customizer.
    pub customizer: bool,
    /// A Door Randomizer seed.
    pub doors: bool,
    /// An avianart seed.
    pub avianart: bool,
    /// Mystery instructions for the racers.
    pub custom_instructions: Option<String>,
    /// Spoiler races: study time, in seconds.
    pub study_time_seconds: u32,
    /// The RNG seed of the roll.
    pub rng_seed: u64,
    /// When it was generated.
    pub generated_at: DateTime<Utc>,
    /// How long it took, in milliseconds.
    pub latency_ms: i64,
    /// The audit row, once written.
    pub audit_id: Option<i64>,
}

/// The provider call a request becomes.
#[derive(Clone, Debug, PartialEq)]
pub enum Job {
    /// alttpr.com.
    Alttpr(AlttprRequest),
    /// The Door Randomizer (run locally).
    Doors(DoorsRequest),
    /// avianart.
    Avianart(AvianartRequest),
    /// samus.link (SM, SMZ3, multiworld).
    Samus(SamusRequest),
    /// ctjot.com.
    Ctjets(CtjetsPreset),
    /// dashrando.net.
    Dash(DashRequest),
    /// varia.run.
    Varia(VariaRequest),
    /// ootrandomizer.com.
    Ootr(OotrRequest),
    /// A local roller (z1r, z2r, smb3r).
    Local(LocalSeed),
}

/// Spoiler log to produce after an ALTTPR spoiler-race seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpoilerKind {
    /// The full spoiler log.
    Full,
    /// The progression spoiler.
    Progression,
}

/// A planned generation: the job plus what the reply and audit need.
#[derive(Debug)]
pub struct Planned {
    /// The request to make.
    pub job: Job,
    /// The randomizer.
    pub randomizer: String,
    /// `preset` or `mystery`.
    pub kind: &'static str,
    /// Preset or weightset reference.
    pub option: String,
    /// The preset's namespace, when namespaced.
    pub namespace: Option<String>,
    /// Sent to alttpr.com's customizer.
    pub customizer: bool,
    /// A Door Randomizer seed.
    pub doors: bool,
    /// An avianart seed.
    pub avianart: bool,
    /// Mystery settings must not be shown.
    pub masked: bool,
    /// Mystery instructions for the racers.
    pub custom_instructions: Option<String>,
    /// Spoiler races: study time, in seconds.
    pub study_time_seconds: u32,
    /// Which spoiler log to store.
    pub spoiler: Option<SpoilerKind>,
    /// The RNG seed of the roll.
    pub rng_seed: u64,
    rng: MysteryRng,
}

/// The provider clients and the preset sources.
pub struct Generator {
    /// The bundled global presets.
    pub presets: Arc<GlobalPresets>,
    /// The database (namespaced presets); `None` for the CLI.
    pub db: Option<sea_orm::DatabaseConnection>,
    /// Spoiler and patch storage.
    pub store: Option<Arc<ObjectStore>>,
    /// alttpr.com.
    pub alttpr: AlttprClient,
    /// samus.link.
    pub samus: SamusClient,
    /// avianart.
    pub avianart: AvianartClient,
    /// dashrando.net.
    pub dash: DashClient,
    /// varia.run.
    pub varia: VariaClient,
    /// ctjot.com.
    pub ctjets: CtjetsClient,
    /// ootrandomizer.com.
    pub ootr: OotrClient,
    /// The Door Randomizer.
    pub doors: DoorsClient,
}

impl std::fmt::Debug for Generator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Generator")
            .field("presets", &self.presets.dir())
            .finish_non_exhaustive()
    }
}

fn invalid(message: impl Into<String>) -> GenerateError {
    GenerateError::Invalid(message.into())
}

impl Generator {
    /// Builds every provider client from settings.
    pub fn new(
        presets: Arc<GlobalPresets>,
        db: Option<sea_orm::DatabaseConnection>,
        store: Option<Arc<ObjectStore>>,
        settings: &ProvidersSettings,
    ) -> Result<Self, reqwest::Error> {
        let policy = settings.http.clone();
        Ok(Self {
            alttpr: AlttprClient::new(settings.alttpr.clone(), policy.clone())?,
            samus: SamusClient::new(settings.samus.clone(), policy.clone())?,
            avianart: AvianartClient::new(settings.avianart.clone(), policy.clone())?,
            dash: DashClient::new(settings.dash.clone(), policy.clone())?,
            varia: VariaClient::new(settings.varia.clone(), policy.clone())?,
            ctjets: CtjetsClient::new(settings.ctjets.clone(), policy.clone())?,
            ootr: OotrClient::new(settings.ootr.clone(), policy)?,
            doors: DoorsClient::new(settings.doors.clone(), store.clone()),
            presets,
            db,
            store,
        })
    }

    /// Loads a preset by reference: global files, or `namespace/name` from the database.
    pub async fn load_preset(
        &self,
        randomizer: &str,
        reference: &str,
    ) -> Result<Arc<LoadedPreset>, GenerateError> {
        let reference = PresetRef::parse(reference)?;
        match &reference.namespace {
            None => Ok(self.presets.catalog().get(randomizer, &reference.name)?),
            Some(ns) => {
                let db = self.db.as_ref().ok_or_else(|| {
                    invalid("namespaced presets need the database; use a global preset here")
                })?;
                let (loaded, _) = namespaces::get(db, randomizer, ns, &reference.name).await?;
                Ok(Arc::new(loaded))
            }
        }
    }

    async fn preset_for(
        &self,
        request: &Request,
        randomizer: &str,
    ) -> Result<Arc<LoadedPreset>, GenerateError> {
        if !request.preset_yaml.trim().is_empty() {
            return Ok(Arc::new(load(
                randomizer,
                None,
                "custom",
                request.preset_yaml.clone(),
            )?));
        }
        self.load_preset(randomizer, &request.preset).await
    }

    /// Plans a request without calling any provider.
    pub async fn plan(&self, request: &Request) -> Result<Planned, GenerateError> {
        let randomizer = request.randomizer.trim().to_lowercase();
        if !RANDOMIZERS.contains(&randomizer.as_str()) {
            return Err(invalid(format!(
                "unknown randomizer `{randomizer}`; choose one of {}",
                RANDOMIZERS.join(", ")
            )));
        }
        if let Some(branch) = request.branch.as_deref().filter(|b| !b.is_empty())
            && !BRANCHES.contains(&branch)
        {
            return Err(invalid(format!(
                "unknown branch `{branch}`; use live, beeta or tournament (ALTTPR) or stable, volatile or unstable (Door Randomizer)"
            )));
        }
        let rng_seed = request.rng_seed.unwrap_or_else(|| rand::rng().random());
        let mut planned = Planned {
            job: Job::Local(LocalSeed {
                seed: String::new(),
                flags: String::new(),
                url: None,
                description: None,
            }),
            randomizer: randomizer.clone(),
            kind: "preset",
            option: request.preset.trim().to_string(),
            namespace: None,
            customizer: false,
            doors: false,
            avianart: false,
            masked: false,
            custom_instructions: None,
            study_time_seconds: 0,
            spoiler: None,
            rng_seed,
            rng: mystery::rng(rng_seed),
        };
        match randomizer.as_str() {
            "alttpr" => {
                let preset = self.preset_for(request, "alttpr").await?;
                planned.option = preset.reference();
                planned.namespace = preset.namespace.clone();
                let PresetBody::Alttpr(alttpr) = &preset.body else {
                    return Err(invalid("not an alttpr preset"));
                };
                let spoilers = if request.spoiler {
                    "generate"
                } else if request.race {
                    "off"
                } else {
                    "on"
                };
                self.plan_alttpr(&mut planned, request, alttpr, spoilers)?;
                let pool = request
                    .triforce_text_pool
                    .clone()
                    .filter(|p| !p.trim().is_empty())
                    .map(|pool| crate::alttpr::TriforcePool {
                        pool,
                        balanced: !request.triforce_text_uniform,
                    })
                    .or_else(|| alttpr.triforce_texts.clone());
                if let Some(pool) = pool {
                    self.put_triforce_text(&mut planned, &pool).await?;
                }
            }
            "alttprmystery" => self.plan_mystery(&mut planned, request).await?,
            "sm" | "smz3" => {
                let preset = self.preset_for(request, &randomizer).await?;
                planned.option = preset.reference();
                planned.namespace = preset.namespace.clone();
                let PresetBody::Samus(samus) = &preset.body else {
                    return Err(invalid("not a samus.link preset"));
                };
                let spoiler_key = request
                    .spoiler
                    .then(|| random_alphanumeric(&mut planned.rng, 20));
                if request.spoiler {
                    planned.study_time_seconds = 25 * 60;
                }
                let multiworld = (!request.players.is_empty()).then(|| {
                    (
                        request.players.clone(),
                        planned.rng.random_range(0..=2_147_483_647u32),
                    )
                });
                planned.job = Job::Samus(SamusRequest {
                    randomizer: randomizer.clone(),
                    release: samus.release.clone(),
                    settings: samus.settings.clone(),
                    race: request.race,
                    spoiler_key,
                    multiworld,
                });
            }
            "ctjets" => {
                let preset = self.preset_for(request, "ctjets").await?;
                planned.option = preset.reference();
                planned.namespace = preset.namespace.clone();
                let PresetBody::Ctjets(ct) = &preset.body else {
                    return Err(invalid("not a ctjets preset"));
                };
                planned.job = Job::Ctjets(ct.clone());
            }
            "kisspriest" => {
                // `preset` is "game/count" of a batch; the batch is rolled from `rng_seed`, so
                // every game of one batch must be asked for with the same seed.
                let (game, count) = request
                    .preset
                    .trim()
                    .split_once('/')
                    .and_then(|(g, c)| Some((g.trim().parse::<usize>().ok()?, c.trim().parse::<usize>().ok()?)))
                    .filter(|(g, c)| (1..=crate::priestmode::MAX_GAMES).contains(c) && (1..=*c).contains(g))
                    .ok_or_else(|| {
                        invalid(format!(
                            "a Kiss Priest game is asked for as `game/count` with 1 ≤ game ≤ count ≤ {}, not `{}`",
                            crate::priestmode::MAX_GAMES,
                            request.preset
                        ))
                    })?;
                let settings =
                    crate::priestmode::batch(count, planned.rng_seed).swap_remove(game - 1);
                planned.option = format!("kiss priest {game}/{count}");
                planned.customizer = true;
                planned.job = Job::Alttpr(AlttprRequest {
                    branch: None,
                    endpoint: format!("{}/api/customizer", request.endpoint_prefix),
                    body: settings,
                });
            }
            "z1r" => planned.job = Job::Local(rollers::z1r(&request.preset, &mut planned.rng)?),
            "z2r" => planned.job = Job::Local(rollers::z2r(&request.preset, &mut planned.rng)?),
            "smb3r" => planned.job = Job::Local(rollers::smb3r(&request.preset, &mut planned.rng)?),
            "ff1r" => planned.job = Job::Local(rollers::ff1r(&request.preset, &mut planned.rng)?),
            "aosr" => planned.job = Job::Local(rollers::aosr(&request.preset, &mut planned.rng)?),
            "smbingo" => planned.job = Job::Local(rollers::sm_bingo(&mut planned.rng)),
            "smdash" => {
                let mode = if request.preset.trim().is_empty() {
                    "classic"
                } else {
                    request.preset.trim()
                };
                planned.option = mode.to_string();
                planned.job = Job::Dash(DashRequest {
                    mode: mode.to_string(),
                    spoiler: request.spoiler,
                });
            }
            "smvaria" => {
                let (skills, settings) = match request.preset.trim().split_once('/') {
                    Some((skills, settings)) => (skills.to_string(), settings.to_string()),
                    None if request.preset.trim().is_empty() => {
                        ("regular".into(), "default".into())
                    }
                    None => ("regular".into(), request.preset.trim().to_string()),
                };
                planned.option = format!("{skills}/{settings}");
                planned.job = Job::Varia(VariaRequest {
                    skills,
                    settings,
                    race: request.race,
                    overrides: serde_json::Map::new(),
                });
            }
            "ootr" => {
                if request.preset_yaml.trim().is_empty() {
                    return Err(invalid(
                        "OoTR seeds need the settings as YAML or JSON in preset_yaml",
                    ));
                }
                let map = crate::preset::parse_document(&request.preset_yaml)?;
                planned.option = "custom".into();
                planned.job = Job::Ootr(OotrRequest {
                    settings: yaml::to_json(&serde_yaml::Value::Mapping(map)),
                    encrypt: request.race,
                });
            }
            other => return Err(invalid(format!("unknown randomizer `{other}`"))),
        }
        Ok(planned)
    }

    /// Puts an approved text of `pool` into an alttpr.com request's end credits; without a
    /// database (the CLI) or an approved text, the seed keeps the game's own text.
    async fn put_triforce_text(
        &self,
        planned: &mut Planned,
        pool: &crate::alttpr::TriforcePool,
    ) -> Result<(), GenerateError> {
        let (Some(db), Job::Alttpr(request)) = (&self.db, &mut planned.job) else {
            return Ok(());
        };
        let picked = crate::triforce::pick(db, &pool.pool, pool.balanced, &mut planned.rng).await?;
        let Some(text) = picked else {
            tracing::info!(pool = %pool.pool, "no approved triforce text in the pool");
            return Ok(());
        };
        if !request.body["texts"].is_object() {
            request.body["texts"] = serde_json::json!({});
        }
        request.body["texts"]["end_triforce"] = Json::String(crate::triforce::end_triforce(&text));
        Ok(())
    }

    fn plan_alttpr(
        &self,
        planned: &mut Planned,
        request: &Request,
        preset: &AlttprPreset,
        spoilers: &str,
    ) -> Result<(), GenerateError> {
        match preset.kind {
            AlttprKind::Randomizer | AlttprKind::Customizer => {
                let options = AlttprOptions {
                    hints: request.hints,
                    nohints: false,
                    spoilers: spoilers.to_string(),
                    tournament: request.race || request.spoiler,
                    allow_quickswap: request.allow_quickswap || request.spoiler,
                    endpoint_prefix: request.endpoint_prefix.clone(),
                    branch: request.branch.clone(),
                };
                planned.customizer = preset.kind == AlttprKind::Customizer;
                planned.job = Job::Alttpr(build_request(preset, &options, &mut planned.rng));
                if request.spoiler && spoilers == "generate" {
                    let progression = request.spoiler_type == "progression";
                    planned.spoiler = Some(if progression {
                        SpoilerKind::Progression
                    } else {
                        SpoilerKind::Full
                    });
                    planned.study_time_seconds = if progression {
                        0
                    } else {
                        preset.studytime.unwrap_or(900)
                    };
                }
            }
            AlttprKind::Doors => {
                let mut settings = preset.settings.clone();
                if request.hints {
                    // Door Randomizer settings use booleans (upstream sent the string "on").
                    settings["hints"] = Json::Bool(true);
                }
                if request.allow_quickswap {
                    settings["quickswap"] = Json::Bool(true);
                }
                let branch = preset
                    .branch
                    .clone()
                    .or_else(|| {
                        request
                            .branch
                            .clone()
                            .filter(|b| matches!(b.as_str(), "stable" | "volatile" | "unstable"))
                    })
                    .unwrap_or_else(|| "stable".into());
                planned.doors = true;
                planned.job = Job::Doors(DoorsRequest {
                    settings,
                    spoilers: spoilers != "off" && spoilers != "mystery",
                    race: request.race || request.spoiler,
                    branch,
                    id: random_alphanumeric(&mut planned.rng, 12),
                });
            }
            AlttprKind::Avianart => {
                planned.avianart = true;
                planned.job = Job::Avianart(AvianartRequest {
                    preset: preset.settings["preset"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                    race: request.race,
                });
            }
        }
        Ok(())
    }

    async fn plan_mystery(
        &self,
        planned: &mut Planned,
        request: &Request,
    ) -> Result<(), GenerateError> {
        let preset = self.preset_for(request, "alttprmystery").await?;
        planned.kind = "mystery";
        planned.option = preset.reference();
        planned.namespace = preset.namespace.clone();
        planned.masked = !request.unmasked;
        let PresetBody::Mystery(weights) = &preset.body else {
            return Err(invalid("not a mystery weightset"));
        };
        let spoilers = if planned.masked {
            "mystery"
        } else if request.race {
            "off"
        } else {
            "on"
        };
        let roll = mystery::roll(weights, spoilers, planned.rng_seed)?;
        // Later draws (seed ids, spoiler names) continue from a stream derived from the seed.
        planned.rng = mystery::rng(planned.rng_seed.wrapping_add(0x9E37_79B9_7F4A_7C15));
        planned.custom_instructions = roll.custom_instructions;
        match roll.rolled {
            Rolled::Preset(name) => {
                let chosen = self.load_preset("alttpr", &name).await.map_err(|error| match error {
                    GenerateError::Preset(PresetError::NotFound { .. }) => invalid(format!(
                        "weightset `{}` rolled the preset `{name}`, which does not exist; fix the weightset's `preset:` weights",
                        planned.option
                    )),
                    other => other,
                })?;
                let PresetBody::Alttpr(alttpr) = &chosen.body else {
                    return Err(invalid(format!("`{name}` is not an alttpr preset")));
                };
                let mut request = request.clone();
                request.spoiler = false;
                // Upstream's mystery default; a preset that sets `allow_quickswap` keeps its own.
                request.allow_quickswap = true;
                request.race = true;
                self.plan_alttpr(planned, &request, alttpr, spoilers)?;
                // The seed page must not tell which preset was drawn (upstream drops these
                // too, spec §4.2): a customizer preset's `name` and `notes` stay home.
                if let Job::Alttpr(sent) = &mut planned.job
                    && let Some(body) = sent.body.as_object_mut()
                {
                    body.remove("name");
                    body.remove("notes");
                }
            }
            Rolled::Settings(rolled) if rolled.doors => {
                planned.doors = true;
                let branch = rolled.branch.clone();
                planned.job = Job::Doors(DoorsRequest {
                    settings: rolled.into_body(),
                    spoilers: !planned.masked,
                    // Mystery seeds are always race ROMs (upstream's `tournament=True`).
                    race: true,
                    branch: branch.unwrap_or_else(|| "stable".into()),
                    id: random_alphanumeric(&mut planned.rng, 12),
                });
            }
            Rolled::Settings(rolled) => {
                let endpoint = rolled.endpoint().unwrap_or("/api/randomizer");
                planned.customizer = rolled.customizer;
                let mut body = rolled.into_body();
                body["tournament"] = Json::Bool(request.race || planned.masked);
                // The weightset's own allow_quickswap wins; upstream always overwrote it.
                if !weights.has("allow_quickswap") {
                    body["allow_quickswap"] = Json::Bool(request.allow_quickswap);
                }
                planned.job = Job::Alttpr(AlttprRequest {
                    branch: None,
                    endpoint: format!("{}{endpoint}", request.endpoint_prefix),
                    body,
                });
            }
        }
        Ok(())
    }

    /// The HTTP request or command a job would make, for `--dry-run`.
    pub fn describe(&self, job: &Job) -> Json {
        match job {
            Job::Alttpr(r) => {
                json!({"method": "POST", "url": self.alttpr.request_url(r), "body": r.body})
            }
            Job::Samus(r) => {
                let game = if r.randomizer == "sm" { "sm" } else { "smz3" };
                json!({"method": "POST", "url": format!("{}/api/randomizers/{game}/generate", self.samus.base_url(r)), "body": SamusClient::body(r)})
            }
            Job::Doors(r) => {
                json!({"command": "python3 DungeonRandomizer.py --settingsfile settings.json", "branch": r.branch, "settings": self.doors.settings_file(r, std::path::Path::new("<tmp>"))})
            }
            Job::Avianart(r) => {
                json!({"method": "POST", "preset": r.preset, "body": [{"args": {"race": r.race}}]})
            }
            Job::Ctjets(c) => {
                json!({"method": "POST", "version": c.version, "form": c.settings.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>()})
            }
            Job::Dash(d) => json!({"method": "GET", "mode": d.mode, "spoiler": d.spoiler}),
            Job::Varia(v) => json!({"skills": v.skills, "settings": v.settings, "race": v.race}),
            Job::Ootr(o) => json!({"method": "POST", "body": o.settings, "encrypt": o.encrypt}),
            Job::Local(l) => {
                json!({"seed": l.seed, "flags": l.flags, "url": l.url, "description": l.description})
            }
        }
    }

    /// Runs a planned job and, for spoiler races, uploads the spoiler log.
    pub async fn execute(&self, mut planned: Planned) -> Result<Generated, GenerateError> {
        let started = Instant::now();
        let (provider, settings, mut seed) = match planned.job {
            Job::Alttpr(r) => {
                let body = r.body.clone();
                (self.alttpr.name(), body, self.alttpr.generate(r).await?)
            }
            Job::Doors(r) => {
                let settings = r.settings.clone();
                (self.doors.name(), settings, self.doors.generate(r).await?)
            }
            Job::Avianart(r) => {
                let settings = json!({"preset": r.preset});
                (
                    self.avianart.name(),
                    settings,
                    self.avianart.generate(r).await?,
                )
            }
            Job::Samus(r) => {
                let body = Json::Object(SamusClient::body(&r));
                (self.samus.name(), body, self.samus.generate(r).await?)
            }
            Job::Ctjets(c) => {
                let form: serde_json::Map<String, Json> = c
                    .settings
                    .iter()
                    .map(|(k, v)| (k.clone(), Json::from(v.clone())))
                    .collect();
                (
                    self.ctjets.name(),
                    Json::Object(form),
                    self.ctjets.generate(c).await?,
                )
            }
            Job::Dash(d) => {
                let settings = json!({"mode": d.mode, "spoiler": d.spoiler});
                (self.dash.name(), settings, self.dash.generate(d).await?)
            }
            Job::Varia(v) => {
                let settings = json!({"skills": v.skills, "settings": v.settings, "race": v.race});
                (self.varia.name(), settings, self.varia.generate(v).await?)
            }
            Job::Ootr(o) => {
                let settings = o.settings.clone();
                (self.ootr.name(), settings, self.ootr.generate(o).await?)
            }
            Job::Local(l) => {
                let seed = Seed {
                    url: l.url.clone().unwrap_or_default(),
                    hash: l.seed.clone(),
                    notes: Some(match &l.description {
                        Some(d) => format!("{d}: {}", l.flags),
                        None => l.flags.clone(),
                    })
                    .filter(|n| !n.is_empty()),
                    flags: Some(l.flags.clone()).filter(|f| !f.is_empty()),
                    flags_description: l.description.clone(),
                    attempts: 1,
                    ..Seed::default()
                };
                ("local", json!({"flags": l.flags, "seed": l.seed}), seed)
            }
        };
        if seed.attempts == 0 {
            seed.attempts = 1;
        }
        if let Some(kind) = planned.spoiler {
            let spoiler = match kind {
                SpoilerKind::Full => filtered_spoiler(&seed.raw, &seed.url),
                SpoilerKind::Progression => progression_spoiler(&seed.raw, &seed.url)?,
            };
            let Some(spoiler) = spoiler else {
                return Err(GenerateError::Provider(ProviderError::new(
                    provider,
                    "generate",
                    ProviderErrorKind::ResponseFormat,
                    "the seed came back without a spoiler log",
                )));
            };
            let store = self.store.as_ref().ok_or(StorageError::NotConfigured)?;
            let kind_name = if kind == SpoilerKind::Full {
                "spoiler"
            } else {
                "progression"
            };
            let key = spoiler_key(kind_name, &seed.hash, &seed.code, &mut planned.rng);
            let url = store
                .put(&key, spoiler_body(&spoiler), true, true, "text/plain")
                .await?;
            seed.spoiler_url = Some(url);
        }
        Ok(Generated {
            randomizer: planned.randomizer,
            kind: planned.kind.to_string(),
            option: planned.option,
            namespace: planned.namespace,
            provider: provider.to_string(),
            settings,
            seed,
            masked: planned.masked,
            customizer: planned.customizer,
            doors: planned.doors,
            avianart: planned.avianart,
            custom_instructions: planned.custom_instructions,
            study_time_seconds: planned.study_time_seconds,
            rng_seed: planned.rng_seed,
            generated_at: Utc::now(),
            latency_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
            audit_id: None,
        })
    }

    /// Plans and runs a request.
    pub async fn generate(&self, request: &Request) -> Result<Generated, GenerateError> {
        let planned = self.plan(request).await?;
        self.execute(planned).await
    }
}
