//! "Kiss Priest" batches (spec `seedgen.md` §2.12, created by Hycutype; the rules follow pyz3r's
//! priest mode). Every game of a batch is an enemized Standard escape: the Triforce waits in
//! the Sanctuary chest (triforce hunt), every small key but the sewers key is placed by hand
//! (the sewers key may be in the uncle chest), prize packs are shuffled with bomb drops
//! guaranteed, the uncle holds a weighted weapon, and the last third of the batch has a harder
//! pool.
//!
//! A batch is a pure function of its size and RNG seed, so each game of it can be generated
//! (and retried) on its own: game `i` of `count` with seed `s` is always the same settings.
//!
//! Fixed upstream QUIRK: the weighted pick compared `i <= weight`, which favours the first
//! weapons and can pick one whose weight is 0; here the pick is proportional.

use base64::Engine as _;
use rand::{Rng, RngExt, seq::SliceRandom};
use serde_json::{Value as Json, json};

use crate::constants;
use crate::mystery::rng;

/// Largest batch (`/alttpr kisspriest count` is 1–10).
pub const MAX_GAMES: usize = 10;

/// The notes shown on every game's seed page.
const NOTES: &str = "The Triforce is in sanc chest. THE KEY MAY BE IN THE UNCLE CHEST\n\nBombs are guaranteed as drops in case the uncle weapon can't kill the boomerang chest guard or keyrat. Packs 4 & 7 are unmodified (8-bombs). The second prize of all others is replaced with a 4-bomb. The second crab drop is a 4-bomb";

/// Hand-placed items: the Triforce and every dungeon small key except the sewers key.
const PLACED: [(&str, &str); 29] = [
    ("Sanctuary", "Triforce"),
    ("Desert Palace - Torch", "KeyP2"),
    ("Tower of Hera - Basement Cage", "KeyP3"),
    ("Castle Tower - Room 03", "KeyA1"),
    ("Castle Tower - Dark Maze", "KeyA1"),
    ("Palace of Darkness - Shooter Room", "KeyD1"),
    ("Palace of Darkness - The Arena - Ledge", "KeyD1"),
    ("Palace of Darkness - The Arena - Bridge", "KeyD1"),
    ("Palace of Darkness - Stalfos Basement", "KeyD1"),
    ("Palace of Darkness - Dark Basement - Left", "KeyD1"),
    ("Palace of Darkness - Dark Basement - Right", "KeyD1"),
    ("Swamp Palace - Entrance", "KeyD2"),
    ("Skull Woods - Bridge Room", "KeyD3"),
    ("Skull Woods - Pot Prison", "KeyD3"),
    ("Skull Woods - Pinball Room", "KeyD3"),
    ("Thieves' Town - Ambush Chest", "KeyD4"),
    ("Ice Palace - Freezor Chest", "KeyD5"),
    ("Ice Palace - Iced T Room", "KeyD5"),
    ("Misery Mire - Main Lobby", "KeyD6"),
    ("Misery Mire - Bridge Chest", "KeyD6"),
    ("Misery Mire - Spike Chest", "KeyD6"),
    ("Turtle Rock - Chain Chomps", "KeyD7"),
    ("Turtle Rock - Roller Room - Left", "KeyD7"),
    ("Turtle Rock - Roller Room - Right", "KeyD7"),
    ("Turtle Rock - Big Chest", "KeyD7"),
    ("Ganon's Tower - Bob's Torch", "KeyA2"),
    ("Ganon's Tower - DMs Room - Top Left", "KeyA2"),
    ("Ganon's Tower - DMs Room - Top Right", "KeyA2"),
    ("Ganon's Tower - DMs Room - Bottom Left", "KeyA2"),
];

const UNCLE: &str = "Link's Uncle";

/// Prize packs 0–6 and the other drop tables before shuffling: the second prize of every
/// pack but 3 and 6 (the packs with an 8-bomb) is a 4-bomb, and so is the second crab drop.
fn drops() -> Json {
    json!({
        "0": ["Heart", "BombRefill4", "Heart", "Heart", "RupeeGreen", "Heart", "Heart", "RupeeGreen"],
        "1": ["RupeeBlue", "BombRefill4", "RupeeBlue", "RupeeRed", "RupeeBlue", "RupeeGreen", "RupeeBlue", "RupeeBlue"],
        "2": ["MagicRefillFull", "BombRefill4", "MagicRefillSmall", "RupeeBlue", "MagicRefillFull", "MagicRefillSmall", "Heart", "MagicRefillSmall"],
        "3": ["BombRefill1", "BombRefill1", "BombRefill1", "BombRefill4", "BombRefill1", "BombRefill1", "BombRefill8", "BombRefill1"],
        "4": ["ArrowRefill5", "BombRefill4", "ArrowRefill5", "ArrowRefill10", "ArrowRefill5", "Heart", "ArrowRefill5", "ArrowRefill10"],
        "5": ["MagicRefillSmall", "BombRefill4", "Heart", "ArrowRefill5", "MagicRefillSmall", "BombRefill1", "RupeeGreen", "Heart"],
        "6": ["Heart", "Fairy", "MagicRefillFull", "RupeeRed", "BombRefill8", "Heart", "RupeeRed", "ArrowRefill10"],
        "pull": ["RupeeGreen", "RupeeGreen", "RupeeGreen"],
        "crab": ["auto_fill", "BombRefill4"],
        "stun": ["auto_fill"],
        "fish": ["RupeeGreen"]
    })
}

fn location_key(name: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{name}:1"))
}

/// The settings every game starts from: the customizer defaults with priest mode's changes.
fn base_settings() -> Json {
    let mut s = constants::base_customizer_payload().clone();
    s["allow_quickswap"] = json!(true);
    s["accessibility"] = json!("none");
    s["goal"] = json!("triforce-hunt");
    s["mode"] = json!("standard");
    s["hints"] = json!("off");
    s["tournament"] = json!(true);
    s["spoilers"] = json!("off");
    s["enemizer"]["enemy_shuffle"] = json!("shuffled");
    s["notes"] = json!(NOTES);
    s["l"] = Json::Object(
        PLACED
            .iter()
            .map(|(location, item)| (location_key(location), json!(format!("{item}:1"))))
            .collect(),
    );
    s["drops"] = drops();
    s["custom"]["region.wildKeys"] = json!(true);
    s["custom"]["rom.logicMode"] = json!("NoGlitches");
    let count = &mut s["custom"]["item"]["count"];
    count["TwentyRupees"] = json!(27);
    // Every placed small key leaves the pool; the sewers key (KeyH2) stays in it.
    for key in [
        "KeyP2", "KeyA1", "KeyD2", "KeyD1", "KeyD6", "KeyD3", "KeyD5", "KeyP3", "KeyD4", "KeyD7",
        "KeyA2",
    ] {
        count[key] = json!(0);
    }
    s
}

/// A proportional pick from `(key, weight)`; `None` when every weight is 0.
fn weighted<'a, R: Rng + ?Sized>(weights: &[(&'a str, u64)], rng: &mut R) -> Option<&'a str> {
    let total: u64 = weights.iter().map(|(_, w)| w).sum();
    if total == 0 {
        return None;
    }
    let mut point = rng.random_range(0..total);
    for (key, weight) in weights {
        if point < *weight {
            return Some(key);
        }
        point -= weight;
    }
    None
}

/// The uncle's weapon for each game: every weapon starts at weight 8 (the sword at 1) and
/// halves once picked, so a batch repeats weapons rarely; the list is reversed so a sword
/// tends to come early.
fn uncle_weapons(count: usize, rng: &mut impl Rng) -> Vec<String> {
    let mut weights: Vec<(&str, u64)> = vec![
        ("ProgressiveSword", 1),
        ("ProgressiveBow", 8),
        ("FireRod", 8),
        ("Hammer", 8),
        ("CaneOfByrna", 8),
        ("CaneOfSomaria", 8),
        ("TenBombs", 8),
    ];
    let mut picks = Vec::with_capacity(count);
    for _ in 0..count {
        let pick = weighted(&weights, rng).unwrap_or("TenBombs");
        if let Some(entry) = weights.iter_mut().find(|(k, _)| *k == pick) {
            entry.1 /= 2;
        }
        picks.push(pick.to_owned());
    }
    picks.reverse();
    picks
}

/// Shuffles prize packs 0–5 and draws the first crab and stun drops from the drop pool.
fn randomize_drops<R: Rng>(settings: &mut Json, rng: &mut R) {
    let mut pool: Vec<(String, u64)> = settings["custom"]["drop"]["count"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                .collect()
        })
        .unwrap_or_default();
    let mut draw = |rng: &mut R| {
        let weights: Vec<(&str, u64)> = pool.iter().map(|(k, w)| (k.as_str(), *w)).collect();
        let item = weighted(&weights, rng).unwrap_or("Heart").to_owned();
        if let Some(entry) = pool.iter_mut().find(|(k, _)| *k == item) {
            entry.1 = entry.1.saturating_sub(1);
        }
        item
    };
    let crab = draw(rng);
    let stun = draw(rng);
    for (item, count) in &pool {
        settings["custom"]["drop"]["count"][item.as_str()] = json!(count);
    }
    settings["drops"]["crab"][0] = json!(crab);
    settings["drops"]["stun"][0] = json!(stun);
    let mut packs: Vec<Json> = (0..6)
        .map(|i| settings["drops"][i.to_string()].take())
        .collect();
    packs.shuffle(rng);
    // The keyrat's pack (the third) must drop an 8-bomb in case of two gibdos.
    if packs[2][1] == "BombRefill4" {
        packs[2][1] = json!("BombRefill8");
    }
    for (i, pack) in packs.into_iter().enumerate() {
        settings["drops"][i.to_string()] = pack;
    }
}

/// The customizer settings of every game in a batch of `count` (1–10) rolled from `seed`.
pub fn batch(count: usize, seed: u64) -> Vec<Json> {
    let count = count.clamp(1, MAX_GAMES);
    let mut rng = rng(seed);
    let code: String = (0..3)
        .map(|_| char::from(b'A' + rng.random_range(0..26u8)))
        .collect();
    let uncle = uncle_weapons(count, &mut rng);
    let mut games: Vec<Json> = (0..count)
        .map(|i| {
            let mut settings = base_settings();
            randomize_drops(&mut settings, &mut rng);
            settings["name"] = json!(format!("kiss-priest-{code}-{:02}", i + 1));
            settings["l"][location_key(UNCLE)] = json!(uncle[i]);
            let left = settings["custom"]["item"]["count"][&uncle[i]]
                .as_i64()
                .unwrap_or(0);
            settings["custom"]["item"]["count"][&uncle[i]] = json!(left - 1);
            settings
        })
        .collect();
    // The last third: fewer heart containers, armor and swords, more pieces of heart.
    for game in games.iter_mut().skip(count * 2 / 3) {
        let pool = &mut game["custom"]["item"]["count"];
        for (item, change) in [
            ("BossHeartContainer", -6),
            ("ProgressiveArmor", -1),
            ("ProgressiveSword", -2),
            ("PieceOfHeart", 9),
        ] {
            let now = pool[item].as_i64().unwrap_or(0);
            pool[item] = json!(now + change);
        }
    }
    games
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool_total(game: &Json) -> i64 {
        game["custom"]["item"]["count"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_i64().unwrap())
            .sum()
    }

    #[test]
    fn a_batch_is_reproducible_and_follows_the_rules() {
        let games = batch(10, 42);
        assert_eq!(games, batch(10, 42), "a batch is a function of its seed");
        assert_ne!(games, batch(10, 43));
        assert_eq!(games.len(), 10);
        let uncle = location_key(UNCLE);
        let code = &games[0]["name"].as_str().unwrap()[12..15];
        for (i, game) in games.iter().enumerate() {
            assert_eq!(game["name"], format!("kiss-priest-{code}-{:02}", i + 1));
            assert_eq!(game["goal"], "triforce-hunt");
            assert_eq!(game["mode"], "standard");
            assert_eq!(game["l"][location_key("Sanctuary")], "Triforce:1");
            assert_eq!(game["l"].as_object().unwrap().len(), 30);
            let weapon = game["l"][&uncle].as_str().unwrap();
            assert!(
                [
                    "ProgressiveSword",
                    "ProgressiveBow",
                    "FireRod",
                    "Hammer",
                    "CaneOfByrna",
                    "CaneOfSomaria",
                    "TenBombs"
                ]
                .contains(&weapon)
            );
            // 30 placed items (Triforce, 28 keys, the uncle's weapon) + the pool = 216, in
            // every game: the harder pool swaps items one for one.
            assert_eq!(pool_total(game) + 30, 216, "game {i}");
            // Packs 0..5 are a permutation of the fixed packs; the third has an 8-bomb second.
            assert_ne!(game["drops"]["2"][1], "BombRefill4");
            assert_eq!(game["drops"]["6"], drops()["6"]);
        }
        assert_eq!(games[9]["custom"]["item"]["count"]["PieceOfHeart"], 33);
        assert_eq!(games[0]["custom"]["item"]["count"]["PieceOfHeart"], 24);
    }

    #[test]
    fn weighted_picks_never_choose_a_zero_weight() {
        let mut r = rng(7);
        for _ in 0..1000 {
            assert_eq!(weighted(&[("a", 0), ("b", 3), ("c", 0)], &mut r), Some("b"));
        }
        assert_eq!(weighted(&[("a", 0)], &mut r), None);
    }
}
