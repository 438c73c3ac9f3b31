//! A Link to the Past Randomizer: presets, the alttpr.com request (exactly as pyz3r 6.1.0
//! builds it), file-select codes and spoiler logs.

pub mod code;
pub mod equipment;
pub mod spoiler;

use base64::Engine;
use rand::RngExt;
use serde_json::{Map, Value as Json};
use serde_yaml::{Mapping, Value as Yaml};

use crate::yaml::{kind, to_json};

/// Which backend an `alttpr` preset goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlttprKind {
    /// `POST /api/randomizer`.
    Randomizer,
    /// `POST /api/customizer`.
    Customizer,
    /// The local Door Randomizer pipeline.
    Doors,
    /// avianart.games.
    Avianart,
}

/// One `forced_locations` entry: place `item` in one of `locations` (base64 of
/// `"<Location>:1"`), `quantity` times, each with `chance` percent.
#[derive(Clone, Debug, PartialEq)]
pub struct ForcedLocation {
    /// The item to place.
    pub item: String,
    /// Candidate locations (base64 of `"<Location>:1"`).
    pub locations: Vec<String>,
    /// How many times.
    pub quantity: u32,
    /// Chance of each placement, in percent.
    pub chance: u32,
}

/// A parsed `alttpr` preset file.
#[derive(Clone, Debug, PartialEq)]
pub struct AlttprPreset {
    /// Randomizer or customizer preset.
    pub kind: AlttprKind,
    /// The settings (the alttpr.com body before defaults).
    pub settings: Json,
    /// The branch the preset asks for.
    pub branch: Option<String>,
    /// Spoiler races: seconds between the log's release and the start (default 900).
    pub studytime: Option<u32>,
    /// Items placed at chosen locations.
    pub forced_locations: Vec<ForcedLocation>,
    /// The triforce text pool its seeds take their end-credit text from (top-level
    /// `triforce_texts: <pool>`, or `{pool: <pool>, balanced: false}` for a uniform pick).
    pub triforce_texts: Option<TriforcePool>,
}

/// A preset's triforce text pool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TriforcePool {
    /// The pool.
    pub pool: String,
    /// A random submitter first (the default), else a uniformly random text.
    pub balanced: bool,
}

/// Why an `alttpr` preset is invalid.
pub type SchemaError = String;

fn truthy(map: &Mapping, key: &str) -> bool {
    match map.get(key) {
        Some(Yaml::Bool(b)) => *b,
        Some(Yaml::String(s)) => matches!(s.to_ascii_lowercase().as_str(), "true" | "yes" | "on"),
        Some(Yaml::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        _ => false,
    }
}

impl AlttprPreset {
    /// Checks an `alttpr` preset document against the schema of spec §1.3.1 and §1.7.
    pub fn parse(map: &Mapping) -> Result<Self, SchemaError> {
        let settings = match map.get("settings") {
            Some(Yaml::Mapping(s)) => s,
            Some(other) => {
                return Err(format!("`settings` must be a mapping, not {}", kind(other)));
            }
            None => return Err("`settings` is missing".into()),
        };
        let kind = if truthy(map, "doors") {
            AlttprKind::Doors
        } else if truthy(map, "avianart") {
            AlttprKind::Avianart
        } else if truthy(map, "customizer") {
            AlttprKind::Customizer
        } else {
            AlttprKind::Randomizer
        };
        match kind {
            AlttprKind::Avianart => {
                if !settings.get("preset").is_some_and(Yaml::is_string) {
                    return Err(
                        "an avianart preset needs `settings.preset`, the avianart preset name"
                            .into(),
                    );
                }
            }
            AlttprKind::Customizer => {
                let has_count = settings
                    .get("custom")
                    .and_then(Yaml::as_mapping)
                    .and_then(|c| c.get("item"))
                    .and_then(Yaml::as_mapping)
                    .and_then(|i| i.get("count"))
                    .is_some_and(Yaml::is_mapping);
                if !has_count {
                    return Err(
                        "a customizer preset needs `settings.custom.item.count`, the item pool"
                            .into(),
                    );
                }
            }
            AlttprKind::Randomizer | AlttprKind::Doors => {}
        }
        let branch = match map.get("branch") {
            None | Some(Yaml::Null) => None,
            Some(Yaml::String(b)) => {
                let allowed: &[&str] = if kind == AlttprKind::Doors {
                    &["stable", "volatile", "unstable"]
                } else {
                    &["live", "beeta", "tournament"]
                };
                if !allowed.contains(&b.as_str()) {
                    return Err(format!(
                        "`branch` must be one of {}, not `{b}`",
                        allowed.join(", ")
                    ));
                }
                Some(b.clone())
            }
            Some(other) => {
                return Err(format!(
                    "`branch` must be a string, not {}",
                    crate::yaml::kind(other)
                ));
            }
        };
        let studytime = match map.get("studytime") {
            None | Some(Yaml::Null) => None,
            Some(v) => Some(
                v.as_u64()
                    .and_then(|s| u32::try_from(s).ok())
                    .ok_or("`studytime` must be a whole number of seconds")?,
            ),
        };
        let forced_locations = match map.get("forced_locations") {
            None | Some(Yaml::Null) => Vec::new(),
            Some(Yaml::Sequence(list)) => list
                .iter()
                .enumerate()
                .map(|(i, entry)| forced_location(i, entry))
                .collect::<Result<_, _>>()?,
            Some(other) => {
                return Err(format!(
                    "`forced_locations` must be a list, not {}",
                    crate::yaml::kind(other)
                ));
            }
        };
        if !forced_locations.is_empty() && kind != AlttprKind::Customizer {
            return Err("`forced_locations` needs `customizer: true`".into());
        }
        let triforce_texts = match map.get("triforce_texts") {
            None | Some(Yaml::Null) => None,
            Some(Yaml::String(pool)) => Some(TriforcePool {
                pool: pool.clone(),
                balanced: true,
            }),
            Some(Yaml::Mapping(m)) => Some(TriforcePool {
                pool: m
                    .get("pool")
                    .and_then(Yaml::as_str)
                    .ok_or("`triforce_texts.pool` must name a triforce text pool")?
                    .to_owned(),
                balanced: m.get("balanced").and_then(Yaml::as_bool).unwrap_or(true),
            }),
            Some(other) => {
                return Err(format!(
                    "`triforce_texts` must be a pool name or a mapping, not {}",
                    crate::yaml::kind(other)
                ));
            }
        };
        Ok(Self {
            kind,
            settings: to_json(&Yaml::Mapping(settings.clone())),
            branch,
            studytime,
            forced_locations,
            triforce_texts,
        })
    }
}

fn forced_location(index: usize, entry: &Yaml) -> Result<ForcedLocation, SchemaError> {
    let at = format!("`forced_locations[{index}]`");
    let map = entry
        .as_mapping()
        .ok_or_else(|| format!("{at} must be a mapping"))?;
    let item = map
        .get("item")
        .and_then(Yaml::as_str)
        .ok_or_else(|| format!("{at} needs an `item`"))?
        .to_string();
    let locations: Vec<String> = map
        .get("locations")
        .and_then(Yaml::as_sequence)
        .ok_or_else(|| format!("{at} needs a list of `locations`"))?
        .iter()
        .map(|l| l.as_str().map(str::to_string))
        .collect::<Option<_>>()
        .ok_or_else(|| format!("{at}.locations must be strings"))?;
    for location in &locations {
        base64::engine::general_purpose::STANDARD
            .decode(location)
            .map_err(|_| {
                format!("{at}.locations: `{location}` is not base64 of a location name")
            })?;
    }
    let number = |key: &str, default: u32| -> Result<u32, SchemaError> {
        match map.get(key) {
            None => Ok(default),
            Some(v) => v
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| format!("{at}.{key} must be a whole number")),
        }
    };
    Ok(ForcedLocation {
        item,
        locations,
        quantity: number("quantity", 1)?,
        chance: number("chance", 100)?,
    })
}

/// How a surface asks for an ALTTPR seed (spec §3.1 table).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlttprOptions {
    /// `true` forces hints on.
    pub hints: bool,
    /// `true` forces hints off (when `hints` is false).
    pub nohints: bool,
    /// `off`, `on`, `generate` (spoiler races) or `mystery`.
    pub spoilers: String,
    /// A race seed (spoiler log hidden, `tournament: true`).
    pub tournament: bool,
    /// Used when the preset does not set `allow_quickswap` itself.
    pub allow_quickswap: bool,
    /// `""` or `"/festive"`.
    pub endpoint_prefix: String,
    /// `live`, `beeta`, `tournament`; the preset's own branch wins.
    pub branch: Option<String>,
}

impl Default for AlttprOptions {
    fn default() -> Self {
        Self {
            hints: false,
            nohints: false,
            spoilers: "off".into(),
            tournament: true,
            allow_quickswap: false,
            endpoint_prefix: String::new(),
            branch: None,
        }
    }
}

/// The request an `alttpr` preset becomes: `POST {base for branch}{endpoint}` with `body`.
#[derive(Clone, Debug, PartialEq)]
pub struct AlttprRequest {
    /// `live`, `beeta`, `tournament`, or `None` for the configured default base URL.
    pub branch: Option<String>,
    /// `/api/randomizer` or `/api/customizer`, after the endpoint prefix.
    pub endpoint: String,
    /// The request body.
    pub body: Json,
}

/// Builds the alttpr.com request for a randomizer or customizer preset, exactly as pyz3r's
/// `ALTTPRPreset.generate` does (spec §3.1). Forced locations draw from `rng`.
///
/// Deliberate fixes: a forced location with `override: false` is placed like any other (the
/// candidates are unplaced locations, so there is nothing to override; upstream crashed), and
/// an item whose candidate locations are used up is skipped instead of raising.
pub fn build_request(
    preset: &AlttprPreset,
    options: &AlttprOptions,
    rng: &mut impl rand::Rng,
) -> AlttprRequest {
    let mut settings = match &preset.settings {
        Json::Object(map) => map.clone(),
        _ => Map::new(),
    };
    let customizer = preset.kind == AlttprKind::Customizer;
    if customizer {
        let mut placed = match settings.remove("l") {
            Some(Json::Object(l)) => l,
            _ => Map::new(),
        };
        for forced in &preset.forced_locations {
            let mut remaining = forced.locations.clone();
            for _ in 0..forced.quantity {
                if rng.random_range(1..=100u32) <= forced.chance {
                    let candidates: Vec<usize> = (0..remaining.len())
                        .filter(|i| !placed.contains_key(&remaining[*i]))
                        .collect();
                    if candidates.is_empty() {
                        break;
                    }
                    let index = candidates[rng.random_range(0..candidates.len())];
                    let location = remaining.remove(index);
                    placed.insert(location, Json::from(forced.item.clone()));
                }
            }
        }
        settings.insert("l".into(), Json::Object(placed));
    }
    if options.hints {
        settings.insert("hints".into(), Json::from("on"));
    } else if options.nohints {
        settings.insert("hints".into(), Json::from("off"));
    }
    settings.insert("tournament".into(), Json::Bool(options.tournament));
    settings.insert("spoilers".into(), Json::from(options.spoilers.clone()));
    if !settings.contains_key("allow_quickswap") {
        settings.insert(
            "allow_quickswap".into(),
            Json::Bool(options.allow_quickswap),
        );
    }
    let endpoint = format!(
        "{}{}",
        options.endpoint_prefix,
        if customizer {
            "/api/customizer"
        } else {
            "/api/randomizer"
        }
    );
    AlttprRequest {
        branch: preset.branch.clone().or_else(|| options.branch.clone()),
        endpoint,
        body: Json::Object(settings),
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use serde_json::json;

    use super::*;

    fn preset(text: &str) -> AlttprPreset {
        AlttprPreset::parse(&crate::yaml::parse_mapping(text).unwrap()).unwrap()
    }

    #[test]
    fn flags_overwrite_the_file_and_the_preset_quickswap_wins() {
        let p = preset(
            "settings:\n  hints: 'off'\n  tournament: false\n  spoilers: 'on'\n  allow_quickswap: false\n",
        );
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let options = AlttprOptions {
            hints: true,
            allow_quickswap: true,
            branch: Some("beeta".into()),
            ..AlttprOptions::default()
        };
        let request = build_request(&p, &options, &mut rng);
        assert_eq!(
            request.body,
            json!({"hints": "on", "tournament": true, "spoilers": "off", "allow_quickswap": false})
        );
        assert_eq!(request.endpoint, "/api/randomizer");
        assert_eq!(request.branch.as_deref(), Some("beeta"));
    }

    #[test]
    fn schema_errors_say_what_is_wrong() {
        let parse = |t: &str| AlttprPreset::parse(&crate::yaml::parse_mapping(t).unwrap());
        assert_eq!(
            parse("goal_name: x\n").unwrap_err(),
            "`settings` is missing"
        );
        assert!(
            parse("avianart: true\nsettings: {}\n")
                .unwrap_err()
                .contains("settings.preset")
        );
        assert!(
            parse("customizer: true\nsettings: {}\n")
                .unwrap_err()
                .contains("custom.item.count")
        );
        assert!(
            parse("branch: main\nsettings: {}\n")
                .unwrap_err()
                .contains("live, beeta, tournament")
        );
        let bad_location = "customizer: true\nsettings: {custom: {item: {count: {}}}}\nforced_locations:\n  - item: KeyA2:1\n    locations: ['not base64!']\n";
        assert!(parse(bad_location).unwrap_err().contains("not base64"));
    }

    #[test]
    fn forced_locations_fill_distinct_locations() {
        let p = preset(
            "customizer: true\nsettings:\n  custom: {item: {count: {}}}\n  l: {}\nforced_locations:\n  - item: 'BigKeyA2:1'\n    quantity: 2\n    locations: [QQ==, Qg==, Qw==]\n",
        );
        for seed in 0..50 {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            let request = build_request(&p, &AlttprOptions::default(), &mut rng);
            let l = request.body["l"].as_object().unwrap();
            assert_eq!(l.len(), 2, "{l:?}");
            assert!(l.values().all(|v| v == "BigKeyA2:1"));
            assert_eq!(request.endpoint, "/api/customizer");
        }
    }
}
