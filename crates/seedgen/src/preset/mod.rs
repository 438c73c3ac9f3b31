//! Presets: what a preset is for each randomizer, how a name is resolved, and the global
//! preset files (spec §1). Namespaced presets live in the database ([`namespaces`]).

pub mod files;
pub mod namespaces;

use std::sync::Arc;

use serde_json::{Map, Value as Json};
use serde_yaml::{Mapping, Value as Yaml};

use crate::alttpr::AlttprPreset;
use crate::mystery::Weights;
use crate::yaml::{YamlError, key_to_string, kind, parse_mapping, to_json};

/// Randomizers whose presets are YAML documents (files or namespaced rows).
pub const PRESET_RANDOMIZERS: [&str; 5] = ["alttpr", "alttprmystery", "sm", "smz3", "ctjets"];

/// A preset that cannot be used, with a message a user can act on.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PresetError {
    /// `hint` is " Did you mean `a` or `b`?" (closest names) or empty.
    #[error("Could not find preset `{name}` for {randomizer}.{hint}")]
    NotFound {
        /// The randomizer.
        randomizer: String,
        /// The preset asked for.
        name: String,
        /// " Did you mean …?" or empty.
        hint: String,
    },
    /// No such preset in that namespace.
    #[error("Could not find preset `{name}` in namespace `{namespace}` for {randomizer}.")]
    NotFoundInNamespace {
        /// The randomizer.
        randomizer: String,
        /// The namespace.
        namespace: String,
        /// The preset asked for.
        name: String,
    },
    /// No such namespace.
    #[error("Could not find namespace `{0}`.")]
    NamespaceNotFound(String),
    /// No preset was given.
    #[error("No preset was specified.")]
    NoPreset,
    #[error(
        "`{0}` is not a valid preset name: use 1 to 50 lower-case letters, digits or underscores"
    )]
    /// The name has characters presets cannot have.
    BadName(String),
    /// The namespace has characters namespaces cannot have.
    #[error("`{0}` is not a valid namespace: use 1 to 50 lower-case letters, digits or dashes")]
    BadNamespace(String),
    #[error(
        "`{0}` has no presets; randomizers with presets: alttpr, alttprmystery, sm, smz3, ctjets"
    )]
    /// This randomizer has no presets.
    UnknownRandomizer(String),
    /// The YAML does not parse.
    #[error("the preset is not valid YAML: {0}")]
    Yaml(YamlError),
    /// The file is larger than presets may be.
    #[error(
        "the preset is {bytes} bytes; the limit is {} bytes (the largest community file is about 40 KiB)",
        crate::yaml::MAX_DOCUMENT_BYTES
    )]
    TooLarge {
        /// The file's size.
        bytes: usize,
    },
    /// The preset does not fit its randomizer's schema.
    #[error("the {randomizer} preset is invalid: {message}")]
    Schema {
        /// The randomizer.
        randomizer: String,
        /// What is wrong.
        message: String,
    },
    #[error(
        "You may not change presets of namespace `{0}`; ask its owner to add you as a collaborator."
    )]
    /// The caller may not change this namespace.
    NotAllowed(String),
}

/// A preset reference: `name` (global) or `namespace/name`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PresetRef {
    /// The namespace, for `namespace/name`.
    pub namespace: Option<String>,
    /// The preset name.
    pub name: String,
}

impl std::fmt::Display for PresetRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{ns}/{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// Checks a preset name (`^[a-z0-9_]{1,50}$`).
pub fn valid_name(name: &str) -> bool {
    (1..=50).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Checks a namespace slug (`^[a-z0-9-]{1,50}$`).
pub fn valid_namespace(namespace: &str) -> bool {
    (1..=50).contains(&namespace.len())
        && namespace
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

impl PresetRef {
    /// Parses `name` or `namespace/name`, case-insensitively (upstream kept the case of global
    /// names, so `Open` missed `open.yaml`; every file name is lower case). Names are
    /// validated, which also rules out path traversal.
    pub fn parse(reference: &str) -> Result<Self, PresetError> {
        let lower = reference.trim().to_lowercase();
        if lower.is_empty() {
            return Err(PresetError::NoPreset);
        }
        let (namespace, name) = match lower.split_once('/') {
            Some((ns, name)) => {
                if !valid_namespace(ns) {
                    return Err(PresetError::BadNamespace(ns.to_string()));
                }
                (Some(ns.to_string()), name.to_string())
            }
            None => (None, lower),
        };
        if !valid_name(&name) {
            return Err(PresetError::BadName(name));
        }
        Ok(Self { namespace, name })
    }
}

/// samus.link SM / SMZ3 preset (spec §1.3.3, §1.3.4).
#[derive(Clone, Debug, PartialEq)]
pub struct SamusPreset {
    /// `sm` or `smz3`.
    pub randomizer: String,
    /// Optional release subdomain (`beta` → `https://beta.samus.link`).
    pub release: Option<String>,
    /// Option name → value; every value is a string on the wire.
    pub settings: Map<String, Json>,
}

/// Chrono Trigger: Jets of Time preset (spec §1.3.5).
#[derive(Clone, Debug, PartialEq)]
pub struct CtjetsPreset {
    /// ctjot.com version path segment (`3.1.0` → `3_1_0`).
    pub version: String,
    /// Form fields posted verbatim.
    pub settings: Vec<(String, String)>,
}

/// A preset's parsed content.
#[derive(Clone, Debug)]
pub enum PresetBody {
    /// An alttpr preset.
    Alttpr(AlttprPreset),
    /// A mystery weightset.
    Mystery(Arc<Weights>),
    /// An SM or SMZ3 preset.
    Samus(SamusPreset),
    /// A Jets of Time preset.
    Ctjets(CtjetsPreset),
}

/// A preset ready to generate from.
#[derive(Clone, Debug)]
pub struct LoadedPreset {
    /// The randomizer.
    pub randomizer: String,
    /// The preset name.
    pub name: String,
    /// Its namespace, when namespaced.
    pub namespace: Option<String>,
    /// Its description.
    pub description: Option<String>,
    /// What it holds.
    pub body: PresetBody,
    /// The YAML text as stored.
    pub yaml: String,
}

impl LoadedPreset {
    /// `name` or `namespace/name`.
    pub fn reference(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{ns}/{}", self.name),
            None => self.name.clone(),
        }
    }
}

fn schema(randomizer: &str, message: impl Into<String>) -> PresetError {
    PresetError::Schema {
        randomizer: randomizer.to_string(),
        message: message.into(),
    }
}

/// Parses and validates a preset document of `randomizer` (spec §1.7).
pub fn parse_body(randomizer: &str, yaml: &str) -> Result<(PresetBody, Mapping), PresetError> {
    let map = parse_document(yaml)?;
    let body = match randomizer {
        "alttpr" => {
            PresetBody::Alttpr(AlttprPreset::parse(&map).map_err(|m| schema(randomizer, m))?)
        }
        "alttprmystery" => {
            let weights = Weights::compile(&map).map_err(|e| schema(randomizer, e.to_string()))?;
            crate::mystery::check_required(&weights)
                .map_err(|e| schema(randomizer, e.to_string()))?;
            PresetBody::Mystery(Arc::new(weights))
        }
        "sm" | "smz3" => PresetBody::Samus(samus(randomizer, &map)?),
        "ctjets" => PresetBody::Ctjets(ctjets(&map)?),
        other => return Err(PresetError::UnknownRandomizer(other.to_string())),
    };
    Ok((body, map))
}

/// Loads a preset document into a [`LoadedPreset`].
/// A preset or weightset document as a mapping: too large first (its own error, not a YAML
/// one), then the YAML errors of [`parse_mapping`].
pub fn parse_document(yaml: &str) -> Result<Mapping, PresetError> {
    if yaml.len() > crate::yaml::MAX_DOCUMENT_BYTES {
        return Err(PresetError::TooLarge { bytes: yaml.len() });
    }
    parse_mapping(yaml).map_err(PresetError::Yaml)
}

/// Loads `reference` for `randomizer`: global presets, or a namespace's from the database.
pub fn load(
    randomizer: &str,
    namespace: Option<&str>,
    name: &str,
    yaml: String,
) -> Result<LoadedPreset, PresetError> {
    let (body, map) = parse_body(randomizer, &yaml)?;
    Ok(LoadedPreset {
        randomizer: randomizer.to_string(),
        name: name.to_string(),
        namespace: namespace.map(str::to_string),
        description: map
            .get("description")
            .and_then(Yaml::as_str)
            .map(str::to_string),
        body,
        yaml,
    })
}

fn samus(randomizer: &str, map: &Mapping) -> Result<SamusPreset, PresetError> {
    let settings = match map.get("settings") {
        Some(Yaml::Mapping(s)) => s,
        Some(other) => {
            return Err(schema(
                randomizer,
                format!("`settings` must be a mapping, not {}", kind(other)),
            ));
        }
        None => return Err(schema(randomizer, "`settings` is missing")),
    };
    let mut out = Map::new();
    for (key, value) in settings {
        let key = key_to_string(key);
        let value = match value {
            Yaml::String(s) => s.clone(),
            // samus.link binds a string dictionary; numbers and booleans are sent as text.
            Yaml::Number(n) => n.to_string(),
            Yaml::Bool(b) => b.to_string(),
            Yaml::Null => String::new(),
            other => {
                return Err(schema(
                    randomizer,
                    format!("`settings.{key}` must be a string, not {}", kind(other)),
                ));
            }
        };
        out.insert(key, Json::String(value));
    }
    let release = map
        .get("release")
        .and_then(Yaml::as_str)
        .map(str::to_string);
    if let Some(release) = &release
        && !release
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(schema(
            randomizer,
            format!("`release` must be a host name label, not `{release}`"),
        ));
    }
    Ok(SamusPreset {
        randomizer: randomizer.to_string(),
        release,
        settings: out,
    })
}

fn ctjets(map: &Mapping) -> Result<CtjetsPreset, PresetError> {
    let version = match map.get("version") {
        None | Some(Yaml::Null) => "3.1.0".to_string(),
        Some(Yaml::String(v)) => v.clone(),
        Some(Yaml::Number(n)) => n.to_string(),
        Some(other) => {
            return Err(schema(
                "ctjets",
                format!("`version` must be a string, not {}", kind(other)),
            ));
        }
    };
    if !version
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b'.' || b == b'_')
    {
        return Err(schema(
            "ctjets",
            format!("`version` must look like 3.1.0, not `{version}`"),
        ));
    }
    let settings = match map.get("settings") {
        Some(Yaml::Mapping(s)) => s,
        _ => {
            return Err(schema(
                "ctjets",
                "`settings` must be a mapping of form fields",
            ));
        }
    };
    let settings = settings
        .iter()
        .map(|(k, v)| {
            let value = match to_json(v) {
                Json::String(s) => s,
                other => other.to_string(),
            };
            (key_to_string(k), value)
        })
        .collect();
    Ok(CtjetsPreset { version, settings })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_parse_and_validate() {
        assert_eq!(
            PresetRef::parse("Open").unwrap(),
            PresetRef {
                namespace: None,
                name: "open".into()
            }
        );
        assert_eq!(
            PresetRef::parse("tcprescott/My_Preset").unwrap(),
            PresetRef {
                namespace: Some("tcprescott".into()),
                name: "my_preset".into()
            }
        );
        assert_eq!(PresetRef::parse("").unwrap_err(), PresetError::NoPreset);
        assert!(matches!(
            PresetRef::parse("../etc/passwd"),
            Err(PresetError::BadNamespace(_))
        ));
        assert!(matches!(
            PresetRef::parse("a/b/c"),
            Err(PresetError::BadName(_))
        ));
        assert!(matches!(
            PresetRef::parse("x".repeat(51).as_str()),
            Err(PresetError::BadName(_))
        ));
    }

    #[test]
    fn samus_values_must_be_scalars() {
        let error = parse_body("smz3", "settings:\n  goal: [a]\n").unwrap_err();
        assert_eq!(
            error.to_string(),
            "the smz3 preset is invalid: `settings.goal` must be a string, not a list"
        );
    }

    #[test]
    fn yaml_errors_have_a_location() {
        let error = parse_body("alttpr", "settings:\n  a: b\n c: [\n").unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("the preset is not valid YAML: line 3"),
            "{error}"
        );
    }
}
