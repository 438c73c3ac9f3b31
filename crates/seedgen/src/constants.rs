//! Fixed tables of the randomizers: request bases, file-select code names, local roller flag
//! sets. The data is `data/constants.json`, taken from pyz3r 6.1.0 and the upstream bot
//! (see its `source` key) and embedded at compile time.

use std::sync::LazyLock;

use serde_json::Value as Json;

static CONSTANTS: LazyLock<Json> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../data/constants.json"))
        .unwrap_or_else(|error| panic!("embedded data/constants.json is invalid: {error}"))
});

fn get(key: &str) -> &'static Json {
    CONSTANTS
        .get(key)
        .unwrap_or_else(|| panic!("embedded data/constants.json lacks `{key}`"))
}

/// alttpr.com `/api/randomizer` body defaults (pyz3r `BASE_RANDOMIZER_PAYLOAD`).
pub fn base_randomizer_payload() -> &'static Json {
    get("BASE_RANDOMIZER_PAYLOAD")
}

/// alttpr.com `/api/customizer` body defaults (pyz3r `BASE_CUSTOMIZER_PAYLOAD`).
pub fn base_customizer_payload() -> &'static Json {
    get("BASE_CUSTOMIZER_PAYLOAD")
}

/// Door Randomizer settings defaults (45 keys).
pub fn base_doors_payload() -> &'static Json {
    get("BASE_DOORS_PAYLOAD")
}

/// ALTTPR file-select icon names by byte value (0..=31).
pub static ALTTPR_CODE_NAMES: LazyLock<Vec<String>> = LazyLock::new(|| {
    let map = get("ALTTPR_CODE_MAP_by_byte");
    (0..32)
        .map(|i| {
            map.get(i.to_string())
                .and_then(Json::as_str)
                .unwrap_or("?")
                .to_string()
        })
        .collect()
});

/// Byte offset of the file-select code in an ALTTPR patch (0x180215).
pub const ALTTPR_CODE_PATCH_OFFSET: u64 = 1_573_397;

/// The code used when a patch has fewer than five bytes at the offset.
pub const ALTTPR_DEFAULT_CODE: [&str; 5] = ["Bow", "Boomerang", "Hookshot", "Bombs", "Mushroom"];

/// Door Randomizer / avianart short icon names → ALTTPR names (others are unchanged).
pub fn door_code_name(short: &str) -> String {
    get("DOOR_AVIANART_CODE_NAME_MAP")
        .get(short)
        .and_then(Json::as_str)
        .unwrap_or(short)
        .to_string()
}

/// Dungeon item id → id with dungeon name, for the filtered spoiler log.
pub fn spoiler_dungeon_item(item: &str) -> Option<&'static str> {
    get("SPOILER_DUNGEON_ITEM_TRANSLATION")
        .get(item)
        .and_then(Json::as_str)
}

/// Items listed in the progression spoiler.
pub fn progression_items() -> impl Iterator<Item = &'static str> {
    str_list("PROGRESSION_ITEMS")
}

/// Regions of the progression spoiler, in order.
pub fn progression_regions() -> impl Iterator<Item = &'static str> {
    str_list("PROGRESSION_REGIONLIST")
}

fn str_list(key: &str) -> impl Iterator<Item = &'static str> {
    get(key)
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Json::as_str)
}

/// `name → flags` of a local roller's presets (`Z1R_PRESETS`, `Z2R_PRESETS`,
/// `Z2R_MRB_FLAG_CHOICES`), in file order.
pub fn flag_presets(key: &str) -> Vec<(&'static str, &'static str)> {
    get(key)
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.as_str(), v.as_str()?)))
        .collect()
}
