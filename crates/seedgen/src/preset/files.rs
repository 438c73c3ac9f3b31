//! Global presets: YAML files under `<presets_dir>/<randomizer>/<name>.yaml`, loaded and
//! validated all at once, so a broken file is reported when the service starts, not when a
//! racer rolls it. [`GlobalPresets::reload`] picks up edits (the service calls it every
//! minute, like upstream's 60 s listing cache).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use super::{LoadedPreset, PRESET_RANDOMIZERS, PresetError, load, valid_name};

/// Every global preset, parsed.
#[derive(Debug, Default)]
pub struct PresetCatalog {
    entries: BTreeMap<(String, String), Result<Arc<LoadedPreset>, PresetError>>,
}

impl PresetCatalog {
    /// Reads every `*.yaml` under `dir/<randomizer>/`. A missing directory is an empty
    /// catalog; files with invalid names are skipped with a warning; files that do not parse
    /// are kept as errors so using them explains why.
    pub fn load_dir(dir: &Path) -> Self {
        let mut entries = BTreeMap::new();
        for randomizer in PRESET_RANDOMIZERS {
            let sub = dir.join(randomizer);
            let Ok(read) = std::fs::read_dir(&sub) else {
                continue;
            };
            for entry in read.flatten() {
                let path = entry.path();
                let Some(name) = yaml_stem(&path) else {
                    continue;
                };
                if !valid_name(&name) {
                    tracing::warn!(path = %path.display(), "preset file name is not [a-z0-9_]{{1,50}}.yaml; skipped");
                    continue;
                }
                let loaded = std::fs::read_to_string(&path)
                    .map_err(|error| PresetError::Schema {
                        randomizer: randomizer.to_string(),
                        message: format!("cannot read {}: {error}", path.display()),
                    })
                    .and_then(|text| load(randomizer, None, &name, text))
                    .map(Arc::new);
                if let Err(error) = &loaded {
                    tracing::warn!(path = %path.display(), %error, "preset file is invalid");
                }
                entries.insert((randomizer.to_string(), name), loaded);
            }
        }
        Self { entries }
    }

    /// The preset, or NotFound / the reason it is invalid.
    pub fn get(&self, randomizer: &str, name: &str) -> Result<Arc<LoadedPreset>, PresetError> {
        match self
            .entries
            .get(&(randomizer.to_string(), name.to_string()))
        {
            Some(entry) => entry.clone(),
            None => {
                let known = self
                    .entries
                    .keys()
                    .filter(|(r, _)| r == randomizer)
                    .map(|(_, n)| n.as_str());
                let hint = crate::suggest::did_you_mean_sentence(name, known);
                Err(PresetError::NotFound {
                    randomizer: randomizer.to_string(),
                    name: name.to_string(),
                    hint: if hint.is_empty() {
                        hint
                    } else {
                        format!(" {hint}")
                    },
                })
            }
        }
    }

    /// Valid presets of `randomizer`, sorted by name.
    pub fn presets(&self, randomizer: &str) -> impl Iterator<Item = &Arc<LoadedPreset>> {
        self.entries
            .iter()
            .filter(move |((r, _), _)| r == randomizer)
            .filter_map(|(_, entry)| entry.as_ref().ok())
    }

    /// Every file that failed to load, as `(randomizer, name, error)`.
    pub fn invalid(&self) -> Vec<(&str, &str, &PresetError)> {
        self.entries
            .iter()
            .filter_map(|((r, n), e)| e.as_ref().err().map(|e| (r.as_str(), n.as_str(), e)))
            .collect()
    }

    /// Number of presets (valid or not).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no preset loaded.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

fn yaml_stem(path: &Path) -> Option<String> {
    if path.extension()? != "yaml" {
        return None;
    }
    Some(path.file_stem()?.to_str()?.to_string())
}

/// The global presets of a directory, swapped atomically on reload.
#[derive(Debug)]
pub struct GlobalPresets {
    dir: PathBuf,
    current: RwLock<Arc<PresetCatalog>>,
}

impl GlobalPresets {
    /// Loads `dir` now.
    pub fn load(dir: impl Into<PathBuf>) -> Self {
        let dir = dir.into();
        let catalog = PresetCatalog::load_dir(&dir);
        Self {
            dir,
            current: RwLock::new(Arc::new(catalog)),
        }
    }

    /// The current catalog.
    pub fn catalog(&self) -> Arc<PresetCatalog> {
        match self.current.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Re-reads the directory (blocking file I/O; call from `spawn_blocking`).
    pub fn reload(&self) {
        let catalog = Arc::new(PresetCatalog::load_dir(&self.dir));
        match self.current.write() {
            Ok(mut guard) => *guard = catalog,
            Err(poisoned) => *poisoned.into_inner() = catalog,
        }
    }

    /// The directory presets are loaded from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}
