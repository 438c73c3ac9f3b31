//! Starting equipment for customizer `eq` (pyz3r `get_starting_equipment`, spec §4.6).

use serde_json::Value as Json;

fn as_int(value: &Json) -> i64 {
    match value {
        Json::Bool(b) => i64::from(*b),
        Json::Number(n) => n
            .as_i64()
            .unwrap_or_else(|| n.as_f64().unwrap_or(0.0) as i64),
        Json::String(s) => s.trim().parse().unwrap_or(0),
        _ => 0,
    }
}

/// Most copies of one item a starting inventory gives (the whole item pool is 216 slots).
pub const MAX_ITEM_COUNT: i64 = 255;

/// Most rupees a starting inventory gives (the game's counter shows four digits).
pub const MAX_RUPEES: i64 = 9_999;

/// The customizer items that starting equipment `key` with level `value` stands for.
/// `Bottle1`..`Bottle4`, `ProgressiveBow`, `Boomerang`, `Ocarina` and `Rupees` are special;
/// any other key is that item `value` times. Counts come from uploaded files and weightsets,
/// so they are clamped ([`MAX_ITEM_COUNT`], [`MAX_RUPEES`]): a count of 3·10^39 once asked for
/// an impossible allocation (found by fuzzing), and a huge rupee count looped for ever.
pub fn starting_equipment(key: &str, value: &Json) -> Vec<String> {
    let n = as_int(value);
    let one = |item: &str| vec![item.to_string()];
    match key {
        "Bottle1" | "Bottle2" | "Bottle3" | "Bottle4" => match n {
            1 => one("Bottle"),
            2 => one("BottleWithRedPotion"),
            3 => one("BottleWithGreenPotion"),
            4 => one("BottleWithBluePotion"),
            5 => one("BottleWithBee"),
            6 => one("BottleWithGoldBee"),
            7 => one("BottleWithFairy"),
            _ => Vec::new(),
        },
        "ProgressiveBow" => match n {
            1 => one("SilverArrowUpgrade"),
            2 => one("Bow"),
            3 => one("BowAndSilverArrows"),
            _ => Vec::new(),
        },
        "Boomerang" => match n {
            1 => one("Boomerang"),
            2 => one("RedBoomerang"),
            3 => vec!["Boomerang".into(), "RedBoomerang".into()],
            _ => Vec::new(),
        },
        "Ocarina" => match n {
            1 => one("OcarinaInactive"),
            2 => one("OcarinaActive"),
            _ => Vec::new(),
        },
        "Rupees" => {
            let mut left = n.clamp(0, MAX_RUPEES);
            let mut items = Vec::new();
            for (name, worth) in [
                ("ThreeHundredRupees", 300),
                ("OneHundredRupees", 100),
                ("FiftyRupees", 50),
                ("TwentyRupees", 20),
                ("FiveRupees", 5),
                ("OneRupee", 1),
            ] {
                while left >= worth {
                    items.push(name.to_string());
                    left -= worth;
                }
            }
            items
        }
        other => std::iter::repeat_n(
            other.to_string(),
            usize::try_from(n.clamp(0, MAX_ITEM_COUNT)).unwrap_or(0),
        )
        .collect(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn special_keys_map_to_items() {
        assert_eq!(
            starting_equipment("Bottle2", &json!(6)),
            ["BottleWithGoldBee"]
        );
        assert_eq!(
            starting_equipment("ProgressiveBow", &json!(3)),
            ["BowAndSilverArrows"]
        );
        assert_eq!(
            starting_equipment("Boomerang", &json!(3)),
            ["Boomerang", "RedBoomerang"]
        );
        assert_eq!(starting_equipment("Ocarina", &json!(2)), ["OcarinaActive"]);
        assert_eq!(
            starting_equipment("Rupees", &json!(476)),
            [
                "ThreeHundredRupees",
                "OneHundredRupees",
                "FiftyRupees",
                "TwentyRupees",
                "FiveRupees",
                "OneRupee"
            ]
        );
        assert_eq!(
            starting_equipment("PegasusBoots", &json!(true)),
            ["PegasusBoots"]
        );
        assert_eq!(starting_equipment("ProgressiveSword", &json!(2)).len(), 2);
    }

    /// Found by `fuzz/run.sh customizer_file`: a save file with an absurd count.
    #[test]
    fn absurd_counts_are_clamped_not_allocated() {
        let huge: Json = serde_json::from_str("3000000000000000000000000000000000000000").unwrap();
        assert_eq!(starting_equipment("ProgresciveBow", &huge).len(), 255);
        assert_eq!(
            starting_equipment("HeartContainer", &json!(i64::MAX)).len(),
            255
        );
        assert_eq!(starting_equipment("HeartContainer", &json!(-5)).len(), 0);
        let rupees = starting_equipment("Rupees", &json!(i64::MAX));
        assert_eq!(
            rupees.iter().filter(|r| *r == "ThreeHundredRupees").count(),
            33
        );
        assert!(rupees.len() < 50);
    }
}
