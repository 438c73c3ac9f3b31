//! Provider answers shaped like the real ones, for the tests of every service that rolls seeds
//! through fake providers.

use serde_json::{Value as Json, json};

/// An alttpr.com generate response with file-select code Moon Pearl/Boots/Bombs/Bow/Boomerang.
pub fn alttpr_seed_response(hash: &str, spoilers: &str) -> Json {
    json!({
        "logic": "NoGlitches",
        "hash": hash,
        "generated": "2024-05-01T12:34:56+00:00",
        "size": 2,
        "current_rom_hash": "abc",
        "patch": [
            {"1573397": [25, 22, 3, 0, 1]}, {"982421": [14]}, {"227731": [217]},
            {"981972": [218, 219, 216]}, {"207304": [218]}, {"207300": [219]}, {"950988": [220]},
            {"227960": [216,216,216,216,217,216,216,217, 218,217,218,219,218,217,218,218,
                        224,223,223,218,224,223,216,223, 220,220,220,221,220,220,222,220,
                        225,216,225,226,225,216,225,226, 223,217,216,225,223,220,217,216,
                        216,227,224,219,222,216,219,226]}
        ],
        "spoiler": {
            "meta": {"name": "Seed Name", "notes": "", "spoilers": spoilers, "shuffle": "none", "mode": "open",
                     "logic": "NoGlitches", "enemizer.boss_shuffle": "none", "version": "31.0.7"},
            "Special": {"Misery Mire": "Ether", "Turtle Rock": "Quake"},
            "Eastern Palace": {"Eastern Palace - Prize:1": "PendantOfCourage:1", "Eastern Palace - Big Chest:1": "BowAndArrows:1"},
            "Light World": {"Link's Uncle:1": "ProgressiveSword:1"}
        }
    })
}
