//! `seedgen.v1.SeedGen` over gRPC, with the error mapping of the proto's header comment.

use std::collections::HashMap;

use proto::seedgen::v1 as pb;
use proto::seedgen::v1::seed_gen_server::SeedGen;
use serde_json::Value as Json;
use tonic::{Request, Response, Status};

use crate::generate::{self, GenerateError, Generated};
use crate::mystery::{self, Rolled};
use crate::preset::namespaces::{self, NamespaceError};
use crate::preset::{PRESET_RANDOMIZERS, PresetBody, PresetError, PresetRef, load};
use crate::providers::{ProviderError, ProviderErrorKind};
use crate::service::{SeedGenCore, timestamp};

/// The gRPC front of [`SeedGenCore`].
#[derive(Debug, Clone)]
pub struct SeedGenApi {
    /// The generation core the RPCs run on.
    pub core: SeedGenCore,
}

/// Maps a preset error onto a gRPC status.
pub fn preset_status(error: &PresetError) -> Status {
    let message = error.to_string();
    match error {
        PresetError::NotFound { .. }
        | PresetError::NotFoundInNamespace { .. }
        | PresetError::NamespaceNotFound(_) => Status::not_found(message),
        PresetError::NotAllowed(_) => Status::permission_denied(message),
        _ => Status::invalid_argument(message),
    }
}

fn provider_status(error: &ProviderError) -> Status {
    match error.kind {
        ProviderErrorKind::Rejected => Status::failed_precondition(error.to_string()),
        ProviderErrorKind::Timeout => Status::unavailable(format!(
            "{} did not answer in time ({})",
            error.provider, error.message
        )),
        _ => Status::unavailable(error.to_string()),
    }
}

/// Maps a generation error onto a gRPC status.
pub fn generate_status(error: &GenerateError) -> Status {
    match error {
        GenerateError::Invalid(m) => Status::invalid_argument(m.clone()),
        GenerateError::Preset(p) => preset_status(p),
        GenerateError::Mystery(_) | GenerateError::Progression(_) => {
            Status::failed_precondition(error.to_string())
        }
        GenerateError::Provider(p) => provider_status(p),
        GenerateError::Roller(_) => Status::invalid_argument(error.to_string()),
        GenerateError::Storage(_) => Status::unavailable(error.to_string()),
        GenerateError::InProgress => Status::aborted(error.to_string()),
        GenerateError::Db(e) => {
            tracing::error!(error = %e, "database error");
            Status::internal("a database error occurred; try again")
        }
    }
}

fn namespace_status(error: &NamespaceError) -> Status {
    match error {
        NamespaceError::Preset(p) => preset_status(p),
        NamespaceError::Db(e) => {
            tracing::error!(error = %e, "database error");
            Status::internal("a database error occurred; try again")
        }
    }
}

fn db_status(error: sea_orm::DbErr) -> Status {
    namespace_status(&NamespaceError::Db(error))
}

fn user_id(value: &str, field: &str) -> Result<u64, Status> {
    value.trim().parse().map_err(|_| {
        Status::invalid_argument(format!("`{field}` must be a Discord user id (a number)"))
    })
}

/// A namespace as the proto has it.
fn namespace_message(
    ns: crate::db::namespace::Model,
    presets: &[crate::db::preset::Model],
    collaborators: &[u64],
) -> pb::Namespace {
    pb::Namespace {
        presets: presets.iter().map(|p| summary(&ns.name, p)).collect(),
        owner_discord_user_id: platform::db::u64_from_db(ns.discord_user_id).to_string(),
        collaborator_discord_user_ids: collaborators.iter().map(u64::to_string).collect(),
        name: ns.name,
    }
}

/// A namespaced preset row as a listing entry.
fn summary(namespace: &str, row: &crate::db::preset::Model) -> pb::PresetSummary {
    pb::PresetSummary {
        randomizer: row.randomizer.clone(),
        name: row.preset_name.clone(),
        namespace: namespace.to_owned(),
        description: String::new(),
        reference: format!("{namespace}/{}", row.preset_name),
    }
}

fn preset_randomizer(randomizer: &str) -> Result<String, Status> {
    let r = randomizer.trim().to_lowercase();
    if PRESET_RANDOMIZERS.contains(&r.as_str()) {
        Ok(r)
    } else {
        Err(preset_status(&PresetError::UnknownRandomizer(r)))
    }
}

/// Flattens settings for the `settings` map of replies.
pub fn flat_settings(settings: &Json) -> HashMap<String, String> {
    mystery::describe(settings).into_iter().collect()
}

/// The reply of a generation.
pub fn generate_reply(generated: &Generated) -> pb::GenerateReply {
    let (settings, settings_json) = if generated.masked {
        (HashMap::new(), String::new())
    } else {
        (
            flat_settings(&generated.settings),
            generated.settings.to_string(),
        )
    };
    pb::GenerateReply {
        permalink: generated.seed.url.clone(),
        hash: generated.seed.hash.clone(),
        file_select_code: generated.seed.code.clone(),
        spoiler_url: generated.seed.spoiler_url.clone().unwrap_or_default(),
        settings,
        custom_instructions: generated.custom_instructions.clone().unwrap_or_default(),
        generated_at: Some(timestamp(generated.generated_at)),
        randomizer: generated.randomizer.clone(),
        kind: generated.kind.clone(),
        option: generated.option.clone(),
        rng_seed: generated.rng_seed,
        study_time_seconds: generated.study_time_seconds,
        version: generated.seed.version.clone().unwrap_or_default(),
        customizer: generated.customizer,
        doors: generated.doors,
        settings_json,
        notes: generated.seed.notes.clone().unwrap_or_default(),
        title: generated.seed.title.clone().unwrap_or_default(),
        description: String::new(),
        provider: generated.provider.clone(),
        flags: generated.seed.flags.clone().unwrap_or_default(),
        flags_description: generated.seed.flags_description.clone().unwrap_or_default(),
    }
}

impl SeedGenApi {
    async fn preset_reply(&self, randomizer: &str, name: &str) -> Result<pb::Preset, Status> {
        let reference = PresetRef::parse(name).map_err(|e| preset_status(&e))?;
        match &reference.namespace {
            None => {
                let preset = self
                    .core
                    .generator
                    .presets
                    .catalog()
                    .get(randomizer, &reference.name)
                    .map_err(|e| preset_status(&e))?;
                Ok(pb::Preset {
                    randomizer: randomizer.to_string(),
                    name: preset.name.clone(),
                    namespace: String::new(),
                    yaml: preset.yaml.clone(),
                    updated_at: None,
                    description: preset.description.clone().unwrap_or_default(),
                })
            }
            Some(ns) => {
                let (preset, modified) =
                    namespaces::get(&self.core.db, randomizer, ns, &reference.name)
                        .await
                        .map_err(|e| namespace_status(&e))?;
                Ok(pb::Preset {
                    randomizer: randomizer.to_string(),
                    name: preset.name.clone(),
                    namespace: ns.clone(),
                    yaml: preset.yaml.clone(),
                    updated_at: Some(timestamp(modified)),
                    description: preset.description.clone().unwrap_or_default(),
                })
            }
        }
    }
}

#[tonic::async_trait]
impl SeedGen for SeedGenApi {
    async fn generate(
        &self,
        request: Request<pb::GenerateRequest>,
    ) -> Result<Response<pb::GenerateReply>, Status> {
        let r = request.into_inner();
        let input = generate::Request {
            randomizer: r.randomizer,
            preset: r.preset,
            preset_yaml: r.preset_yaml,
            race: r.race,
            spoiler: r.spoiler,
            spoiler_type: if r.spoiler_type.is_empty() {
                "spoiler".into()
            } else {
                r.spoiler_type
            },
            hints: r.hints,
            branch: Some(r.branch).filter(|b| !b.is_empty()),
            allow_quickswap: r.allow_quickswap,
            requested_by: r.requested_by,
            surface: r.surface,
            rng_seed: r.rng_seed,
            unmasked: r.unmasked,
            players: r.players,
            endpoint_prefix: r.endpoint_prefix,
            triforce_text_pool: Some(r.triforce_text_pool).filter(|p| !p.is_empty()),
            triforce_text_uniform: r.triforce_text_uniform,
        };
        if r.validate_only {
            let planned = self
                .core
                .generator
                .plan(&input)
                .await
                .map_err(|e| generate_status(&e))?;
            return Ok(Response::new(pb::GenerateReply {
                randomizer: planned.randomizer,
                kind: planned.kind.to_owned(),
                option: planned.option,
                ..Default::default()
            }));
        }
        let generated = self
            .core
            .generate(&r.idempotency_key, &input)
            .await
            .map_err(|e| generate_status(&e))?;
        Ok(Response::new(generate_reply(&generated)))
    }

    async fn list_presets(
        &self,
        request: Request<pb::ListPresetsRequest>,
    ) -> Result<Response<pb::ListPresetsReply>, Status> {
        let r = request.into_inner();
        let randomizer = preset_randomizer(&r.randomizer)?;
        let limit = match r.limit {
            0 => 25,
            n => n.min(25),
        } as usize;
        let prefix = r.prefix.trim().to_lowercase();
        let mut presets = Vec::new();
        // The caller's own presets first: they are what people look for.
        if !r.discord_user_id.is_empty() {
            let uid = user_id(&r.discord_user_id, "discord_user_id")?;
            for ns in namespaces::editable_by(&self.core.db, uid)
                .await
                .map_err(db_status)?
            {
                for row in namespaces::list(&self.core.db, &ns, &randomizer)
                    .await
                    .map_err(db_status)?
                {
                    let reference = format!("{}/{}", ns.name, row.preset_name);
                    if row.preset_name.starts_with(&prefix) || reference.starts_with(&prefix) {
                        presets.push(pb::PresetSummary {
                            randomizer: randomizer.clone(),
                            name: row.preset_name.clone(),
                            namespace: ns.name.clone(),
                            description: String::new(),
                            reference,
                        });
                    }
                }
            }
        }
        // Sorted before truncating (upstream truncated an unsorted listing first).
        let catalog = self.core.generator.presets.catalog();
        for preset in catalog.presets(&randomizer) {
            if preset.name.starts_with(&prefix) {
                presets.push(pb::PresetSummary {
                    randomizer: randomizer.clone(),
                    name: preset.name.clone(),
                    namespace: String::new(),
                    description: preset.description.clone().unwrap_or_default(),
                    reference: preset.name.clone(),
                });
            }
        }
        presets.truncate(limit);
        Ok(Response::new(pb::ListPresetsReply { presets }))
    }

    async fn get_preset(
        &self,
        request: Request<pb::GetPresetRequest>,
    ) -> Result<Response<pb::Preset>, Status> {
        let r = request.into_inner();
        let randomizer = preset_randomizer(&r.randomizer)?;
        Ok(Response::new(
            self.preset_reply(&randomizer, &r.name).await?,
        ))
    }

    async fn save_preset(
        &self,
        request: Request<pb::SavePresetRequest>,
    ) -> Result<Response<pb::Preset>, Status> {
        let r = request.into_inner();
        let randomizer = preset_randomizer(&r.randomizer)?;
        let uid = user_id(&r.discord_user_id, "discord_user_id")?;
        let db = &self.core.db;
        let ns = if r.namespace.trim().is_empty() {
            let name = if r.discord_user_name.trim().is_empty() {
                r.discord_user_id.clone()
            } else {
                r.discord_user_name.clone()
            };
            namespaces::get_or_create(db, uid, &name).await
        } else {
            namespaces::by_name(db, r.namespace.trim()).await
        }
        .map_err(|e| namespace_status(&e))?;
        let name = r.name.trim().to_lowercase();
        let (preset, modified) = namespaces::save(db, &ns, &randomizer, &name, &r.yaml, uid)
            .await
            .map_err(|e| namespace_status(&e))?;
        Ok(Response::new(pb::Preset {
            randomizer,
            name,
            namespace: ns.name,
            yaml: preset.yaml,
            updated_at: Some(timestamp(modified)),
            description: preset.description.unwrap_or_default(),
        }))
    }

    async fn delete_preset(
        &self,
        request: Request<pb::DeletePresetRequest>,
    ) -> Result<Response<pb::DeletePresetReply>, Status> {
        let r = request.into_inner();
        let randomizer = preset_randomizer(&r.randomizer)?;
        let uid = user_id(&r.discord_user_id, "discord_user_id")?;
        let ns = namespaces::by_name(&self.core.db, r.namespace.trim())
            .await
            .map_err(|e| namespace_status(&e))?;
        namespaces::delete(
            &self.core.db,
            &ns,
            &randomizer,
            &r.name.trim().to_lowercase(),
            uid,
        )
        .await
        .map_err(|e| namespace_status(&e))?;
        Ok(Response::new(pb::DeletePresetReply {}))
    }

    async fn add_collaborator(
        &self,
        request: Request<pb::AddCollaboratorRequest>,
    ) -> Result<Response<pb::AddCollaboratorReply>, Status> {
        let r = request.into_inner();
        let owner = user_id(&r.owner_discord_user_id, "owner_discord_user_id")?;
        let collaborator = user_id(
            &r.collaborator_discord_user_id,
            "collaborator_discord_user_id",
        )?;
        let ns = namespaces::by_name(&self.core.db, r.namespace.trim())
            .await
            .map_err(|e| namespace_status(&e))?;
        namespaces::add_collaborator(&self.core.db, &ns, owner, collaborator)
            .await
            .map_err(|e| namespace_status(&e))?;
        Ok(Response::new(pb::AddCollaboratorReply {}))
    }

    async fn remove_collaborator(
        &self,
        request: Request<pb::RemoveCollaboratorRequest>,
    ) -> Result<Response<pb::RemoveCollaboratorReply>, Status> {
        let r = request.into_inner();
        let owner = user_id(&r.owner_discord_user_id, "owner_discord_user_id")?;
        let collaborator = user_id(
            &r.collaborator_discord_user_id,
            "collaborator_discord_user_id",
        )?;
        let ns = namespaces::by_name(&self.core.db, r.namespace.trim())
            .await
            .map_err(|e| namespace_status(&e))?;
        namespaces::remove_collaborator(&self.core.db, &ns, owner, collaborator)
            .await
            .map_err(|e| namespace_status(&e))?;
        Ok(Response::new(pb::RemoveCollaboratorReply {}))
    }

    async fn browse_presets(
        &self,
        request: Request<pb::BrowsePresetsRequest>,
    ) -> Result<Response<pb::BrowsePresetsReply>, Status> {
        let randomizer = preset_randomizer(&request.into_inner().randomizer)?;
        let catalog = self.core.generator.presets.catalog();
        let global = catalog
            .presets(&randomizer)
            .map(|preset| pb::PresetSummary {
                randomizer: randomizer.clone(),
                name: preset.name.clone(),
                namespace: String::new(),
                description: preset.description.clone().unwrap_or_default(),
                reference: preset.name.clone(),
            })
            .collect();
        let namespaces = namespaces::browse(&self.core.db, &randomizer)
            .await
            .map_err(db_status)?
            .into_iter()
            .map(|(ns, presets)| namespace_message(ns, &presets, &[]))
            .collect();
        Ok(Response::new(pb::BrowsePresetsReply { global, namespaces }))
    }

    async fn get_namespace(
        &self,
        request: Request<pb::GetNamespaceRequest>,
    ) -> Result<Response<pb::Namespace>, Status> {
        let r = request.into_inner();
        let db = &self.core.db;
        let ns = if r.create_for_discord_user_id.trim().is_empty() {
            namespaces::by_name(db, r.name.trim()).await
        } else {
            let uid = user_id(&r.create_for_discord_user_id, "create_for_discord_user_id")?;
            let name = if r.discord_user_name.trim().is_empty() {
                r.create_for_discord_user_id.clone()
            } else {
                r.discord_user_name.clone()
            };
            namespaces::get_or_create(db, uid, &name).await
        }
        .map_err(|e| namespace_status(&e))?;
        let collaborators = namespaces::collaborators(db, &ns)
            .await
            .map_err(db_status)?;
        let presets = namespaces::all_presets(db, &ns).await.map_err(db_status)?;
        Ok(Response::new(namespace_message(
            ns,
            &presets,
            &collaborators,
        )))
    }

    async fn roll_mystery(
        &self,
        request: Request<pb::RollMysteryRequest>,
    ) -> Result<Response<pb::RollMysteryReply>, Status> {
        let r = request.into_inner();
        let generator = &self.core.generator;
        let preset = if r.weightset_yaml.trim().is_empty() {
            generator
                .load_preset("alttprmystery", &r.weightset)
                .await
                .map_err(|e| generate_status(&e))?
        } else {
            std::sync::Arc::new(
                load("alttprmystery", None, "custom", r.weightset_yaml)
                    .map_err(|e| preset_status(&e))?,
            )
        };
        let PresetBody::Mystery(weights) = &preset.body else {
            return Err(Status::invalid_argument("not a mystery weightset"));
        };
        let seed = r.rng_seed.unwrap_or_else(rand::random);
        let roll =
            mystery::roll(weights, "mystery", seed).map_err(|e| generate_status(&e.into()))?;
        let (settings, customizer, doors, endpoint, branch) = match roll.rolled {
            Rolled::Settings(s) => {
                let endpoint = s.endpoint().unwrap_or_default().to_string();
                let (customizer, doors, branch) =
                    (s.customizer, s.doors, s.branch.clone().unwrap_or_default());
                (s.into_body(), customizer, doors, endpoint, branch)
            }
            Rolled::Preset(name) => {
                let chosen = generator
                    .load_preset("alttpr", &name)
                    .await
                    .map_err(|e| generate_status(&e))?;
                let body = match &chosen.body {
                    PresetBody::Alttpr(a) => a.settings.clone(),
                    _ => Json::Null,
                };
                (
                    serde_json::json!({"preset": name, "settings": body}),
                    false,
                    false,
                    String::new(),
                    String::new(),
                )
            }
        };
        let description = mystery::describe(&settings)
            .into_iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect();
        Ok(Response::new(pb::RollMysteryReply {
            settings: flat_settings(&settings),
            custom_instructions: roll.custom_instructions.unwrap_or_default(),
            settings_json: settings.to_string(),
            customizer,
            doors,
            endpoint,
            rng_seed: seed,
            branch,
            description,
        }))
    }

    async fn verify_game(
        &self,
        request: Request<pb::VerifyGameRequest>,
    ) -> Result<Response<pb::VerifyGameReply>, Status> {
        let hash = request.into_inner().hash;
        if hash.trim().is_empty() {
            return Err(Status::invalid_argument(
                "give the hash of the game to verify",
            ));
        }
        let row = self.core.verify(hash.trim()).await.map_err(db_status)?;
        Ok(Response::new(match row {
            None => pb::VerifyGameReply::default(),
            Some(row) => pb::VerifyGameReply {
                generated_by_us: true,
                randomizer: row.randomizer,
                kind: row.gentype,
                option: row.genoption,
                permalink: row.permalink,
                generated_at: Some(timestamp(row.created_at)),
                requested_by: row.requested_by,
            },
        }))
    }

    async fn convert_customizer(
        &self,
        request: Request<pb::ConvertCustomizerRequest>,
    ) -> Result<Response<pb::ConvertCustomizerReply>, Status> {
        let json = request.into_inner().customizer_json;
        crate::convert::customizer_preset_yaml(&json)
            .map(|preset_yaml| Response::new(pb::ConvertCustomizerReply { preset_yaml }))
            .map_err(|error| Status::invalid_argument(error.to_string()))
    }

    async fn get_daily(
        &self,
        _request: Request<pb::GetDailyRequest>,
    ) -> Result<Response<pb::GetDailyReply>, Status> {
        let alttpr = &self.core.generator.alttpr;
        let daily = alttpr.daily().await.map_err(|e| provider_status(&e))?;
        let seed = alttpr
            .retrieve(&daily.hash)
            .await
            .map_err(|e| provider_status(&e))?;
        Ok(Response::new(pb::GetDailyReply {
            hash: daily.hash,
            date: daily.date,
            permalink: seed.url,
            file_select_code: seed.code,
            title: seed.title.unwrap_or_default(),
        }))
    }
}
