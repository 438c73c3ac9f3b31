//! alttpr.com customizer save file → preset (spec `seedgen.md` §3.2, pyz3r
//! `convert2settings`): start from the customizer defaults and overlay the save file's flat,
//! dotted keys (`randomizer.goal`, `vt.custom.items`, ...). A key that is absent or null keeps
//! the default.
//!
//! Fixed upstream QUIRK: `vt.custom.drops` went to a top-level `drop` the defaults lack, so
//! custom drop counts were silently lost; here they land in `custom.drop.count`.

use serde_json::{Map, Value as Json};

use crate::constants;

/// Why a save file could not be converted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConvertError {
    /// The file is not JSON.
    #[error("the customizer file is not valid JSON: {0}")]
    Json(String),
    /// The JSON is not an object.
    #[error("the customizer file must be a JSON object of settings, like alttpr.com saves it")]
    NotAnObject,
    /// A setting has the wrong shape.
    #[error("`{key}` must be {expected}")]
    Shape {
        /// The setting.
        key: String,
        /// What it should be.
        expected: &'static str,
    },
}

/// `(save file key, path in the settings)` for the plain values.
const PLAIN: [(&str, &[&str]); 15] = [
    ("randomizer.glitches_required", &["glitches"]),
    ("randomizer.accessibility", &["accessibility"]),
    ("randomizer.goal", &["goal"]),
    ("randomizer.tower_open", &["crystals", "tower"]),
    ("randomizer.ganon_open", &["crystals", "ganon"]),
    ("randomizer.dungeon_items", &["dungeon_items"]),
    ("randomizer.item_placement", &["item_placement"]),
    ("randomizer.world_state", &["mode"]),
    ("randomizer.hints", &["hints"]),
    ("randomizer.weapons", &["weapons"]),
    ("randomizer.item_pool", &["item", "pool"]),
    ("randomizer.item_functionality", &["item", "functionality"]),
    ("randomizer.boss_shuffle", &["enemizer", "boss_shuffle"]),
    ("randomizer.enemy_shuffle", &["enemizer", "enemy_shuffle"]),
    ("randomizer.enemy_damage", &["enemizer", "enemy_damage"]),
];

/// More plain values (split for the array length above).
const PLAIN_MORE: [(&str, &[&str]); 8] = [
    ("randomizer.enemy_health", &["enemizer", "enemy_health"]),
    ("randomizer.pot_shuffle", &["enemizer", "pot_shuffle"]),
    ("vt.custom.prizepacks", &["drops"]),
    ("vt.custom.drops", &["custom", "drop", "count"]),
    ("vt.custom.items", &["custom", "item", "count"]),
    ("vt.custom.locations", &["l"]),
    ("vt.custom.notes", &["notes"]),
    ("vt.custom.name", &["name"]),
];

fn set(target: &mut Json, path: &[&str], value: Json) {
    let mut node = target;
    for key in &path[..path.len() - 1] {
        if !node.get(*key).is_some_and(Json::is_object) {
            node[*key] = Json::Object(Map::new());
        }
        node = &mut node[*key];
    }
    node[path[path.len() - 1]] = value;
}

/// The preset settings for a save file.
///
/// Errors: not JSON, not an object, or an entry of the wrong shape (named).
pub fn customizer_settings(save_json: &str) -> Result<Json, ConvertError> {
    let save: Json =
        serde_json::from_str(save_json).map_err(|e| ConvertError::Json(e.to_string()))?;
    let save = save.as_object().ok_or(ConvertError::NotAnObject)?;
    let mut settings = constants::base_customizer_payload().clone();
    let present = |key: &str| save.get(key).filter(|v| !v.is_null());
    for (key, path) in PLAIN.iter().chain(PLAIN_MORE.iter()) {
        if let Some(value) = present(key) {
            set(&mut settings, path, value.clone());
        }
    }
    for key in ["vt.custom.settings", "vt.custom.glitches"] {
        if let Some(value) = present(key) {
            let entries = value.as_object().ok_or_else(|| ConvertError::Shape {
                key: key.to_owned(),
                expected: "an object",
            })?;
            for (name, v) in entries {
                settings["custom"][name.as_str()] = v.clone();
            }
        }
    }
    if let Some(value) = present("vt.custom.equipment") {
        let entries = value.as_object().ok_or_else(|| ConvertError::Shape {
            key: "vt.custom.equipment".to_owned(),
            expected: "an object",
        })?;
        let mut equipment = Vec::new();
        for (key, v) in entries {
            equipment.extend(crate::alttpr::equipment::starting_equipment(key, v));
        }
        settings["eq"] = Json::from(equipment);
    }
    Ok(settings)
}

/// The preset file for a save file: `customizer: true`, `randomizer: alttpr`, `settings`.
///
/// Errors: as [`customizer_settings`].
pub fn customizer_preset_yaml(save_json: &str) -> Result<String, ConvertError> {
    let settings = customizer_settings(save_json)?;
    let mut preset = Map::new();
    preset.insert("customizer".into(), Json::Bool(true));
    preset.insert("randomizer".into(), Json::from("alttpr"));
    preset.insert("settings".into(), settings);
    serde_yaml::to_string(&Json::Object(preset)).map_err(|e| ConvertError::Json(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_save_file_overlays_the_customizer_defaults() {
        let save = json!({
            "randomizer.goal": "fast_ganon",
            "randomizer.tower_open": "4",
            "randomizer.world_state": "inverted",
            "randomizer.item_pool": "hard",
            "randomizer.hints": null,
            "vt.custom.settings": {"rom.genericKeys": true},
            "vt.custom.glitches": {"canBombJump": true},
            "vt.custom.drops": {"Bee": 2},
            "vt.custom.locations": {"TGluayBIb3VzZTox": "Bow:1"},
            "vt.custom.equipment": {"Bottle1": 7, "ProgressiveBow": 3, "Rupees": 375, "PegasusBoots": true, "Boomerang": 3},
            "vt.custom.name": "My Seed",
        });
        let s = customizer_settings(&save.to_string()).unwrap();
        assert_eq!(s["goal"], "fast_ganon");
        assert_eq!(s["crystals"]["tower"], "4");
        assert_eq!(s["crystals"]["ganon"], "7", "untouched defaults stay");
        assert_eq!(s["mode"], "inverted");
        assert_eq!(s["item"]["pool"], "hard");
        assert_eq!(
            s["hints"],
            constants::base_customizer_payload()["hints"],
            "null keeps the default"
        );
        assert_eq!(s["custom"]["rom.genericKeys"], true);
        assert_eq!(s["custom"]["canBombJump"], true);
        assert_eq!(
            s["custom"]["drop"]["count"]["Bee"], 2,
            "custom drops are kept (upstream lost them)"
        );
        assert_eq!(s["l"]["TGluayBIb3VzZTox"], "Bow:1");
        assert_eq!(s["name"], "My Seed");
        assert_eq!(
            s["eq"],
            json!([
                "BottleWithFairy",
                "BowAndSilverArrows",
                "ThreeHundredRupees",
                "FiftyRupees",
                "TwentyRupees",
                "FiveRupees",
                "PegasusBoots",
                "Boomerang",
                "RedBoomerang"
            ])
        );
    }

    #[test]
    fn bad_files_are_named() {
        assert!(matches!(
            customizer_settings("{nope"),
            Err(ConvertError::Json(_))
        ));
        assert_eq!(customizer_settings("[1]"), Err(ConvertError::NotAnObject));
        assert_eq!(
            customizer_settings(&json!({"vt.custom.settings": 3}).to_string()),
            Err(ConvertError::Shape {
                key: "vt.custom.settings".into(),
                expected: "an object"
            })
        );
        let yaml = customizer_preset_yaml("{}").unwrap();
        assert!(
            yaml.starts_with("customizer: true\nrandomizer: alttpr\nsettings:\n"),
            "{yaml}"
        );
    }
}
