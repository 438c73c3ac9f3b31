//! Presets as the website and the REST API see them, through seedgen (which owns them and
//! checks who may edit a namespace): the per-randomizer listing (cached in memory for
//! `http.preset_cache_secs`, dropped when a preset is saved or deleted through api), one
//! preset, a namespace, and the edits.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use platform::grpc::TracedChannel;
use proto::seedgen::v1 as pb;
use proto::seedgen::v1::seed_gen_client::SeedGenClient;
use serde::Serialize;
use tonic::{Response, Status};
use utoipa::ToSchema;

use crate::http::AppState;

/// The randomizers presets exist for (seedgen's `PRESET_RANDOMIZERS`, upstream P2's list).
pub const RANDOMIZERS: [&str; 5] = ["alttpr", "alttprmystery", "sm", "smz3", "ctjets"];

/// Calls seedgen with a fresh client, retrying while it is unavailable.
pub(crate) async fn seedgen<T, F, Fut>(state: &AppState, call: F) -> Result<T, Status>
where
    F: Fn(SeedGenClient<TracedChannel>) -> Fut,
    Fut: Future<Output = Result<Response<T>, Status>>,
{
    let peer = state.peers.get("seedgen")?;
    Ok(peer
        .call(|| call(SeedGenClient::new(peer.channel())))
        .await?
        .into_inner())
}

/// A global preset in a listing.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct GlobalPreset {
    /// The preset name.
    pub name: String,
    /// Its description, if the file has one.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
}

/// A namespace's presets of one randomizer in a listing.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct NamespacePresets {
    /// The namespace name.
    pub name: String,
    /// Its presets, sorted.
    pub presets: Vec<String>,
}

/// Every preset of a randomizer.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PresetList {
    /// The randomizer.
    pub randomizer: String,
    /// Global presets, sorted by name.
    pub global: Vec<GlobalPreset>,
    /// Namespaces with at least one preset of this randomizer, sorted by name.
    pub namespaces: Vec<NamespacePresets>,
}

/// The in-memory listing cache.
#[derive(Debug)]
pub struct PresetCache {
    ttl: Duration,
    entries: Mutex<HashMap<String, (Instant, Arc<PresetList>)>>,
}

impl PresetCache {
    /// A cache keeping answers for `ttl`.
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn fresh(&self, randomizer: &str) -> Option<Arc<PresetList>> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(randomizer)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, list)| list.clone())
    }

    fn put(&self, list: Arc<PresetList>) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.insert(list.randomizer.clone(), (Instant::now(), list));
        }
    }

    /// Forgets `randomizer`'s listing (after an edit).
    pub fn forget(&self, randomizer: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(randomizer);
        }
    }
}

/// The listing of `randomizer`, from the cache when fresh.
///
/// Errors: an unknown randomizer (INVALID_ARGUMENT from seedgen) or seedgen unreachable.
pub async fn list(state: &AppState, randomizer: &str) -> Result<Arc<PresetList>, Status> {
    let randomizer = randomizer.trim().to_lowercase();
    if let Some(hit) = state.preset_cache.fresh(&randomizer) {
        return Ok(hit);
    }
    let request = pb::BrowsePresetsRequest {
        randomizer: randomizer.clone(),
    };
    let reply = seedgen(state, |mut client| {
        let request = request.clone();
        async move { client.browse_presets(request).await }
    })
    .await?;
    let list = Arc::new(PresetList {
        randomizer,
        global: reply
            .global
            .into_iter()
            .map(|p| GlobalPreset {
                name: p.name,
                description: p.description,
            })
            .collect(),
        namespaces: reply
            .namespaces
            .into_iter()
            .map(|ns| NamespacePresets {
                name: ns.name,
                presets: ns.presets.into_iter().map(|p| p.name).collect(),
            })
            .collect(),
    });
    state.preset_cache.put(list.clone());
    Ok(list)
}

/// One preset: `name`, or `namespace/name`.
///
/// Errors: NOT_FOUND, INVALID_ARGUMENT (bad randomizer), or seedgen unreachable.
pub async fn get(state: &AppState, randomizer: &str, name: &str) -> Result<pb::Preset, Status> {
    let request = pb::GetPresetRequest {
        randomizer: randomizer.to_owned(),
        name: name.to_owned(),
    };
    seedgen(state, |mut client| {
        let request = request.clone();
        async move { client.get_preset(request).await }
    })
    .await
}

/// The namespace `name`.
///
/// Errors: NOT_FOUND, or seedgen unreachable.
pub async fn namespace(state: &AppState, name: &str) -> Result<pb::Namespace, Status> {
    let request = pb::GetNamespaceRequest {
        name: name.to_owned(),
        ..Default::default()
    };
    seedgen(state, |mut client| {
        let request = request.clone();
        async move { client.get_namespace(request).await }
    })
    .await
}

/// The namespace of Discord user `discord_user_id`, created on first use from `user_name`.
///
/// Errors: seedgen unreachable.
pub async fn own_namespace(
    state: &AppState,
    discord_user_id: u64,
    user_name: &str,
) -> Result<pb::Namespace, Status> {
    let request = pb::GetNamespaceRequest {
        create_for_discord_user_id: discord_user_id.to_string(),
        discord_user_name: user_name.to_owned(),
        ..Default::default()
    };
    seedgen(state, |mut client| {
        let request = request.clone();
        async move { client.get_namespace(request).await }
    })
    .await
}

/// Saves `yaml` as `namespace/name` of `randomizer`, as Discord user `editor` (seedgen refuses
/// with PERMISSION_DENIED unless they own or collaborate on the namespace, and with
/// INVALID_ARGUMENT naming the problem when the YAML is not a valid preset).
///
/// Errors: as above, or seedgen unreachable.
pub async fn save(
    state: &AppState,
    randomizer: &str,
    namespace: &str,
    name: &str,
    yaml: String,
    editor: u64,
) -> Result<pb::Preset, Status> {
    let request = pb::SavePresetRequest {
        randomizer: randomizer.to_owned(),
        namespace: namespace.to_owned(),
        name: name.to_owned(),
        yaml,
        discord_user_id: editor.to_string(),
        discord_user_name: String::new(),
    };
    let saved = seedgen(state, |mut client| {
        let request = request.clone();
        async move { client.save_preset(request).await }
    })
    .await?;
    state.preset_cache.forget(&saved.randomizer);
    Ok(saved)
}

/// Deletes `namespace/name` of `randomizer` as Discord user `editor` (PERMISSION_DENIED
/// unless owner or collaborator; NOT_FOUND when there is no such preset).
///
/// Errors: as above, or seedgen unreachable.
pub async fn delete(
    state: &AppState,
    randomizer: &str,
    namespace: &str,
    name: &str,
    editor: u64,
) -> Result<(), Status> {
    let request = pb::DeletePresetRequest {
        randomizer: randomizer.to_owned(),
        namespace: namespace.to_owned(),
        name: name.to_owned(),
        discord_user_id: editor.to_string(),
    };
    seedgen(state, |mut client| {
        let request = request.clone();
        async move { client.delete_preset(request).await }
    })
    .await?;
    state.preset_cache.forget(&randomizer.trim().to_lowercase());
    Ok(())
}

/// Adds (`add`) or removes Discord user `collaborator` on `namespace`, as `owner`
/// (PERMISSION_DENIED unless the namespace's owner).
///
/// Errors: as above, or seedgen unreachable.
pub async fn set_collaborator(
    state: &AppState,
    namespace: &str,
    owner: u64,
    collaborator: u64,
    add: bool,
) -> Result<(), Status> {
    let (ns, owner, collaborator) = (
        namespace.to_owned(),
        owner.to_string(),
        collaborator.to_string(),
    );
    if add {
        let request = pb::AddCollaboratorRequest {
            namespace: ns,
            owner_discord_user_id: owner,
            collaborator_discord_user_id: collaborator,
        };
        seedgen(state, |mut client| {
            let request = request.clone();
            async move { client.add_collaborator(request).await }
        })
        .await
        .map(|_| ())
    } else {
        let request = pb::RemoveCollaboratorRequest {
            namespace: ns,
            owner_discord_user_id: owner,
            collaborator_discord_user_id: collaborator,
        };
        seedgen(state, |mut client| {
            let request = request.clone();
            async move { client.remove_collaborator(request).await }
        })
        .await
        .map(|_| ())
    }
}
