//! Spoiler logs of ALTTPR seeds: the filtered full spoiler (pyz3r `create_filtered_spoiler`,
//! spec §3.5) and the progression spoiler (spec §3.6).

use serde_json::{Map, Value as Json, json};

use super::code::seek_patch_data;
use crate::constants;

const ITEM_SECTIONS: [&str; 17] = [
    "Special",
    "Hyrule Castle",
    "Eastern Palace",
    "Desert Palace",
    "Tower Of Hera",
    "Castle Tower",
    "Dark Palace",
    "Swamp Palace",
    "Skull Woods",
    "Thieves Town",
    "Ice Palace",
    "Misery Mire",
    "Turtle Rock",
    "Ganons Tower",
    "Light World",
    "Death Mountain",
    "Dark World",
];

const ENTRANCE_SECTIONS: [&str; 17] = [
    "Special",
    "Hyrule Castle",
    "Eastern Palace",
    "Desert Palace",
    "Tower of Hera",
    "Agahnims Tower",
    "Palace of Darkness",
    "Swamp Palace",
    "Skull Woods",
    "Thieves Town",
    "Ice Palace",
    "Misery Mire",
    "Turtle Rock",
    "Ganons Tower",
    "Caves",
    "Light World",
    "Dark World",
];

/// `(section, prize location)` for item randomizer seeds.
const ITEM_PRIZES: [(&str, &str); 10] = [
    ("Eastern Palace", "Eastern Palace - Prize:1"),
    ("Desert Palace", "Desert Palace - Prize:1"),
    ("Tower Of Hera", "Tower of Hera - Prize:1"),
    ("Dark Palace", "Palace of Darkness - Prize:1"),
    ("Swamp Palace", "Swamp Palace - Prize:1"),
    ("Skull Woods", "Skull Woods - Prize:1"),
    ("Thieves Town", "Thieves' Town - Prize:1"),
    ("Ice Palace", "Ice Palace - Prize:1"),
    ("Misery Mire", "Misery Mire - Prize:1"),
    ("Turtle Rock", "Turtle Rock - Prize:1"),
];

const ENTRANCE_PRIZE_SECTIONS: [&str; 10] = [
    "Eastern Palace",
    "Desert Palace",
    "Tower of Hera",
    "Palace of Darkness",
    "Swamp Palace",
    "Skull Woods",
    "Thieves Town",
    "Ice Palace",
    "Misery Mire",
    "Turtle Rock",
];

const PRIZE_PACKS: [&str; 7] = [
    "HeartsGroup",
    "RupeesGroup",
    "MagicGroup",
    "BombsGroup",
    "ArrowsGroup",
    "SmallVarietyGroup",
    "LargeVarietyGroup",
];

const VANILLA_PACKS: [(&str, [u8; 8]); 7] = [
    ("HeartsPack", [216, 216, 216, 216, 217, 216, 216, 217]),
    ("RupeesPack", [218, 217, 218, 219, 218, 217, 218, 218]),
    ("MagicPack", [224, 223, 223, 218, 224, 223, 216, 223]),
    ("BombsPack", [220, 220, 220, 221, 220, 220, 222, 220]),
    ("ArrowsPack", [225, 216, 225, 226, 225, 216, 225, 226]),
    ("SmallVarietyPack", [223, 217, 216, 225, 223, 220, 217, 216]),
    ("LargeVarietyPack", [216, 227, 224, 219, 222, 216, 219, 226]),
];

/// Whether the response carries a usable spoiler (`meta.spoilers` is `on` or `generate`).
pub fn has_spoiler(response: &Json) -> bool {
    matches!(
        response["spoiler"]["meta"]["spoilers"].as_str(),
        Some("on" | "generate")
    )
}

fn strip_world(s: &str) -> String {
    s.replace(":1", "")
}

/// Removes every `:1` world suffix from the keys and string values of a map.
fn mw_filter(value: &Json) -> Json {
    match value {
        Json::Object(map) => Json::Object(
            map.iter()
                .map(|(k, v)| (strip_world(k), mw_filter(v)))
                .collect(),
        ),
        Json::String(s) => Json::String(strip_world(s)),
        other => other.clone(),
    }
}

fn sprite(id: u8) -> &'static str {
    match id {
        121 => "Bee",
        178 => "BeeGood",
        216 => "Heart",
        217 => "RupeeGreen",
        218 => "RupeeBlue",
        219 => "RupeeRed",
        220 => "BombRefill1",
        221 => "BombRefill4",
        222 => "BombRefill8",
        223 => "MagicRefillSmall",
        224 => "MagicRefillFull",
        225 => "ArrowRefill5",
        226 => "ArrowRefill10",
        227 => "Fairy",
        _ => "ERR: UNKNOWN",
    }
}

fn byte_at(patch: &Json, offset: u64, index: usize) -> Option<u8> {
    seek_patch_data(patch, offset, index + 1)?
        .get(index)
        .copied()
}

fn drops(patch: &Json) -> Json {
    let name = |offset: u64, index: usize| {
        byte_at(patch, offset, index).map_or(Json::Null, |b| json!(sprite(b)))
    };
    let packs = seek_patch_data(patch, 227_960, 56).unwrap_or_default();
    let mut prize_packs = Map::new();
    for (i, group) in PRIZE_PACKS.iter().enumerate() {
        let bytes: Vec<u8> = packs.iter().skip(i * 8).take(8).copied().collect();
        let named = VANILLA_PACKS
            .iter()
            .find(|(_, pack)| pack.as_slice() == bytes.as_slice())
            .map(|(n, _)| n.to_string())
            .unwrap_or_else(|| {
                bytes
                    .iter()
                    .map(|b| sprite(*b))
                    .collect::<Vec<_>>()
                    .join(", ")
            });
        prize_packs.insert(group.to_string(), json!(named));
    }
    json!({
        "PullTree": {"Tier1": name(981_972, 0), "Tier2": name(981_972, 1), "Tier3": name(981_972, 2)},
        "RupeeCrab": {"Main": name(207_304, 0), "Final": name(207_300, 0)},
        "Stun": name(227_731, 0),
        "FishSave": name(950_988, 0),
        "PrizePacks": prize_packs,
    })
}

/// The filtered full spoiler log of an alttpr.com response, with dungeon item ids named
/// after their dungeon; `None` when the seed has no spoiler.
pub fn filtered_spoiler(response: &Json, permalink: &str) -> Option<Json> {
    if !has_spoiler(response) {
        return None;
    }
    let spoiler = &response["spoiler"];
    let meta = &spoiler["meta"];
    let item_rando = meta["shuffle"].as_str().unwrap_or("none") == "none";
    let (sections, prizes): (&[&str], Vec<(&str, String)>) = if item_rando {
        (
            &ITEM_SECTIONS,
            ITEM_PRIZES
                .iter()
                .map(|(s, p)| (*s, p.to_string()))
                .collect(),
        )
    } else {
        (
            &ENTRANCE_SECTIONS,
            ENTRANCE_PRIZE_SECTIONS
                .iter()
                .map(|s| (*s, format!("{s} - Prize")))
                .collect(),
        )
    };
    let mut out = Map::new();
    let mut prize_map = Map::new();
    for (section, key) in &prizes {
        if let Some(prize) = spoiler[*section][key.as_str()].as_str() {
            prize_map.insert(section.to_string(), json!(strip_world(prize)));
        }
    }
    out.insert("Prizes".into(), Json::Object(prize_map));
    for section in sections {
        let Some(content) = spoiler.get(*section).filter(|v| v.is_object()) else {
            continue;
        };
        let mut filtered = mw_filter(content);
        if let Json::Object(map) = &mut filtered {
            for value in map.values_mut() {
                if let Some(named) = value.as_str().and_then(constants::spoiler_dungeon_item) {
                    *value = json!(named);
                }
            }
            if let Some((_, key)) = prizes.iter().find(|(s, _)| s == section) {
                map.shift_remove(&strip_world(key));
            }
        }
        out.insert(section.to_string(), filtered);
    }
    let patch = &response["patch"];
    if let Some(Json::Object(special)) = out.get_mut("Special")
        && let Some(digs) = byte_at(patch, 982_421, 0)
    {
        special.insert("DiggingGameDigs".into(), json!(digs));
    }
    out.insert("Drops".into(), drops(patch));
    if meta["mode"] == "retro" {
        out.insert("Shops".into(), spoiler["Shops"].clone());
    }
    if meta["enemizer.boss_shuffle"].as_str().unwrap_or("none") != "none" {
        out.insert("Bosses".into(), mw_filter(&spoiler["Bosses"]));
    }
    if !item_rando {
        out.insert("Entrances".into(), spoiler["Entrances"].clone());
    }
    out.insert("meta".into(), meta_with_links(response, permalink));
    Some(Json::Object(out))
}

fn meta_with_links(response: &Json, permalink: &str) -> Json {
    let mut meta = response["spoiler"]["meta"].clone();
    if let Json::Object(m) = &mut meta {
        m.insert("hash".into(), response["hash"].clone());
        m.insert("permalink".into(), json!(permalink));
    }
    meta
}

/// Why a progression spoiler cannot be made.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProgressionError {
    /// Entrance-shuffle seeds have no progression spoiler yet.
    #[error("Entrance randomizer is not yet supported.")]
    EntranceRandomizer,
}

/// The progression spoiler: per region (in a fixed order), the locations holding a
/// progression item, names only; then `meta`. `Ok(None)` when the seed has no spoiler.
pub fn progression_spoiler(
    response: &Json,
    permalink: &str,
) -> Result<Option<Json>, ProgressionError> {
    if !has_spoiler(response) {
        return Ok(None);
    }
    let spoiler = &response["spoiler"];
    if spoiler["meta"]["shuffle"].as_str().unwrap_or("none") != "none" {
        return Err(ProgressionError::EntranceRandomizer);
    }
    let items: Vec<&str> = constants::progression_items().collect();
    let mut out = Map::new();
    for region in constants::progression_regions() {
        let Some(Json::Object(locations)) = spoiler.get(region) else {
            continue;
        };
        let found: Vec<Json> = locations
            .iter()
            .filter(|(_, item)| {
                item.as_str()
                    .is_some_and(|i| items.contains(&strip_world(i).as_str()))
            })
            .map(|(location, _)| json!(strip_world(location)))
            .collect();
        if !found.is_empty() {
            out.insert(region.to_string(), Json::Array(found));
        }
    }
    out.insert("meta".into(), meta_with_links(response, permalink));
    Ok(Some(Json::Object(out)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(spoilers: &str, shuffle: &str) -> Json {
        json!({
            "hash": "W4xkRb2A7q",
            "patch": [
                {"1573397": [25, 22, 3, 0, 1]}, {"982421": [14]}, {"227731": [217]},
                {"981972": [218, 219, 216]}, {"207304": [218]}, {"207300": [219]}, {"950988": [220]},
                {"227960": [216,216,216,216,217,216,216,217, 218,217,218,219,218,217,218,218,
                            224,223,223,218,224,223,216,223, 220,220,220,221,220,220,222,220,
                            225,216,225,226,225,216,225,226, 223,217,216,225,223,220,217,216,
                            121,121,121,121,121,121,121,121]}
            ],
            "spoiler": {
                "meta": {"spoilers": spoilers, "shuffle": shuffle, "mode": "open", "enemizer.boss_shuffle": "none"},
                "Special": {"Misery Mire": "Ether"},
                "Eastern Palace": {"Eastern Palace - Prize:1": "PendantOfCourage:1", "Eastern Palace - Big Chest:1": "BigKeyP1:1", "Eastern Palace - Compass Chest:1": "Hookshot:1"},
                "Light World": {"Link's Uncle:1": "ProgressiveSword:1", "Sahasrahla:1": "TwentyRupees:1"}
            }
        })
    }

    #[test]
    fn filtered_spoiler_strips_worlds_names_items_and_reads_drops() {
        let s = filtered_spoiler(
            &response("generate", "none"),
            "https://alttpr.com/h/W4xkRb2A7q",
        )
        .unwrap();
        assert_eq!(s["Prizes"]["Eastern Palace"], "PendantOfCourage");
        assert_eq!(
            s["Eastern Palace"]["Eastern Palace - Big Chest"],
            "BigKeyP1-EasternPalace"
        );
        assert!(s["Eastern Palace"].get("Eastern Palace - Prize").is_none());
        assert_eq!(s["Special"]["DiggingGameDigs"], 14);
        assert_eq!(s["Drops"]["Stun"], "RupeeGreen");
        assert_eq!(s["Drops"]["PullTree"]["Tier2"], "RupeeRed");
        assert_eq!(s["Drops"]["RupeeCrab"]["Final"], "RupeeRed");
        assert_eq!(s["Drops"]["PrizePacks"]["HeartsGroup"], "HeartsPack");
        assert_eq!(
            s["Drops"]["PrizePacks"]["LargeVarietyGroup"],
            "Bee, Bee, Bee, Bee, Bee, Bee, Bee, Bee"
        );
        assert_eq!(s["meta"]["permalink"], "https://alttpr.com/h/W4xkRb2A7q");
        assert_eq!(s["meta"]["hash"], "W4xkRb2A7q");
        assert!(filtered_spoiler(&response("off", "none"), "x").is_none());
    }

    #[test]
    fn progression_lists_locations_of_progression_items_only() {
        let p = progression_spoiler(&response("on", "none"), "p")
            .unwrap()
            .unwrap();
        assert_eq!(
            p["Eastern Palace"],
            json!(["Eastern Palace - Compass Chest"])
        );
        assert_eq!(p["Light World"], json!(["Link's Uncle"]));
        assert_eq!(p["meta"]["permalink"], "p");
        assert_eq!(
            progression_spoiler(&response("on", "crossed"), "p")
                .unwrap_err()
                .to_string(),
            "Entrance randomizer is not yet supported."
        );
        assert_eq!(
            progression_spoiler(&response("mystery", "none"), "p").unwrap(),
            None
        );
    }
}
