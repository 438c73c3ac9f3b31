//! The item randomizer path of a mystery roll (pyz3r `generate_random_settings`, spec §4.4).

use serde_json::{Map, Value as Json, json};

use super::weights::{randval, truthy};
use super::{MysteryError, MysteryRng, Options, SHARED_OPTIONS, View, assured_and_rules};
use crate::alttpr::equipment::starting_equipment;
use crate::constants;

const WILD_KEYS: [&str; 4] = [
    "region.wildKeys",
    "region.wildBigKeys",
    "region.wildCompasses",
    "region.wildMaps",
];

const BOTTLES: [&str; 7] = [
    "Bottle",
    "BottleWithRedPotion",
    "BottleWithGreenPotion",
    "BottleWithBluePotion",
    "BottleWithBee",
    "BottleWithGoldBee",
    "BottleWithFairy",
];

/// Rolls alttpr.com settings; returns them and whether they go to the customizer.
pub(crate) fn settings(
    view: &View<'_>,
    spoilers: &str,
    rng: &mut MysteryRng,
) -> Result<(Json, bool), MysteryError> {
    let mut o = Options::default();
    o.set("glitches", view.roll_required("glitches_required", rng)?);
    o.set("item_placement", view.roll_required("item_placement", rng)?);
    for key in SHARED_OPTIONS {
        o.set(key, view.roll_required(key, rng)?);
    }
    o.set(
        "pot_shuffle",
        view.roll_or("pot_shuffle", json!("off"), rng),
    );
    // Rolled and discarded upstream (then rolled again at the end); kept for draw parity.
    let _ = view.roll_or("allow_quickswap", json!(false), rng);
    o.set(
        "pseudoboots",
        view.roll_or("pseudoboots", json!(false), rng),
    );
    o.set(
        "entrance_shuffle",
        view.roll_required("entrance_shuffle", rng)?,
    );

    let mut customizer = false;
    // Keys borrow from the weightset; values are the rolls, moved into the settings later.
    let mut custom: Vec<(&str, Json)> = Vec::new();
    let mut eq: Vec<String> = Vec::new();
    let mut pool: Vec<(&str, Json)> = Vec::new();
    let weight_customizer = view.customizer().filter(|c| !c.is_empty());
    if o.str("entrance_shuffle") == "none"
        && let Some(c) = weight_customizer
    {
        for (key, spec) in &c.eq {
            let value = spec.roll(rng);
            if truthy(&value) {
                eq.extend(starting_equipment(key, &value));
                customizer = true;
            }
        }
        for (key, spec) in &c.custom {
            let value = spec.roll(rng);
            if !value.is_null() {
                custom.push((key.as_str(), value));
                customizer = true;
            }
        }
        for (key, spec) in &c.pool {
            let value = spec.roll(rng);
            if !value.is_null() {
                pool.push((key.as_str(), value));
                customizer = true;
            }
        }
    }

    let mut settings = if customizer {
        constants::base_customizer_payload().clone()
    } else {
        constants::base_randomizer_payload().clone()
    };
    if customizer {
        apply_customizer(
            view,
            &mut settings,
            &mut o,
            Customized { custom, pool, eq },
            rng,
        );
    }

    assured_and_rules(view, &mut o, rng)?;

    let s = settings
        .as_object_mut()
        .ok_or_else(|| bad("settings", "", "is not a mapping"))?;
    s.insert("glitches".into(), o.value("glitches"));
    s.insert("item_placement".into(), o.value("item_placement"));
    s.insert("dungeon_items".into(), o.value("dungeon_items"));
    s.insert("accessibility".into(), o.value("accessibility"));
    s.insert("goal".into(), o.value("goals"));
    s.insert(
        "crystals".into(),
        json!({"ganon": o.value("ganon_open"), "tower": o.value("tower_open")}),
    );
    s.insert("mode".into(), o.value("world_state"));
    s.insert("hints".into(), o.value("hints"));
    s.insert("weapons".into(), o.value("weapons"));
    s.insert(
        "item".into(),
        json!({"pool": o.value("item_pool"), "functionality": o.value("item_functionality")}),
    );
    s.insert("tournament".into(), Json::Bool(true));
    s.insert("spoilers".into(), Json::from(spoilers));
    s.insert(
        "enemizer".into(),
        json!({
            "boss_shuffle": o.value("boss_shuffle"),
            "enemy_shuffle": o.value("enemy_shuffle"),
            "enemy_damage": o.value("enemy_damage"),
            "enemy_health": o.value("enemy_health"),
            "pot_shuffle": o.value("pot_shuffle"),
        }),
    );
    s.insert("entrances".into(), o.value("entrance_shuffle"));
    s.insert("pseudoboots".into(), o.value("pseudoboots"));
    let quickswap = view.roll_or("allow_quickswap", json!(false), rng);
    s.insert("allow_quickswap".into(), quickswap.into_owned());
    Ok((settings, customizer))
}

fn bad(key: &str, value: &str, problem: &'static str) -> MysteryError {
    MysteryError::BadValue {
        key: key.to_string(),
        value: value.to_string(),
        problem,
    }
}

struct Customized<'a> {
    custom: Vec<(&'a str, Json)>,
    pool: Vec<(&'a str, Json)>,
    eq: Vec<String>,
}

/// Sets `map[key]`, reusing the existing entry's key (most rolled keys are in the base
/// payload already, so no key is allocated and the entry keeps its place).
fn set_entry(map: &mut Map<String, Json>, key: &str, value: Json) {
    match map.get_mut(key) {
        Some(slot) => *slot = value,
        None => {
            map.insert(key.to_owned(), value);
        }
    }
}

fn count_of(counts: &Map<String, Json>, item: &str) -> i64 {
    counts.get(item).and_then(Json::as_i64).unwrap_or(0)
}

fn apply_customizer(
    view: &View<'_>,
    settings: &mut Json,
    o: &mut Options,
    rolled: Customized<'_>,
    rng: &mut MysteryRng,
) {
    let weight_customizer = view.customizer();
    let mut eq = rolled.eq;
    let wild_rolled = rolled.custom.iter().any(|(k, _)| WILD_KEYS.contains(k));
    let custom = &mut settings["custom"];
    custom["customPrizePacks"] = Json::Bool(false);
    if let Some(map) = custom.as_object_mut() {
        for (key, value) in rolled.custom {
            set_entry(map, key, value);
        }
    }
    {
        let counts = item_counts(custom);
        for (key, value) in rolled.pool {
            set_entry(counts, key, value);
        }
        if !eq.is_empty() {
            for item in &eq {
                let mut it = if item == "OcarinaActive" {
                    "OcarinaInactive"
                } else {
                    item.as_str()
                };
                if BOTTLES.contains(&it) {
                    it = "BottleWithRandom";
                }
                let current = count_of(counts, it);
                set_entry(counts, it, Json::from((current - 1).max(0)));
            }
        }
    }
    if !eq.is_empty() {
        eq.extend(std::iter::repeat_n("BossHeartContainer".to_string(), 3));
        settings["eq"] = json!(eq);
    }
    let custom = &mut settings["custom"];
    if truthy(&custom["item.require.Lamp"]) {
        o.set("enemy_shuffle", json!("none"));
        o.set("enemy_damage", json!("default"));
        o.set("pot_shuffle", json!("off"));
    }
    if wild_rolled {
        o.set("dungeon_items", json!("standard"));
    }
    if WILD_KEYS.iter().any(|k| truthy(&custom[*k])) {
        custom["rom.freeItemMenu"] = Json::Bool(true);
        custom["rom.freeItemText"] = Json::Bool(true);
    }
    let mentioned =
        |key: &str| weight_customizer.is_some_and(|c| c.custom.iter().any(|(k, _)| k == key));
    if truthy(&custom["region.wildMaps"]) && !mentioned("rom.mapOnPickup") {
        custom["rom.mapOnPickup"] = Json::Bool(true);
    }
    if truthy(&custom["region.wildCompasses"]) && !mentioned("rom.dungeonCount") {
        custom["rom.dungeonCount"] = json!("pickup");
    }
    if o.str("goals") == "triforce-hunt" {
        let (goal, pool_n) = match weight_customizer.and_then(|c| c.triforce_hunt.as_ref()) {
            Some(th) => {
                let min_difference = th
                    .min_difference
                    .as_ref()
                    .map(|s| s.roll(rng))
                    .and_then(|v| v.as_i64())
                    .unwrap_or(0);
                let goal = th
                    .goal
                    .as_ref()
                    .map(|g| randval(g, rng))
                    .and_then(|v| v.as_i64())
                    .unwrap_or(20);
                let pool_n = match &th.pool {
                    Some(pool) => {
                        // Upstream raises the range's floor to goal + min_difference.
                        let mut pool = pool.clone();
                        if let Some(lo) = pool.get(0).and_then(Json::as_i64)
                            && pool.is_array()
                            && lo + min_difference < goal
                        {
                            pool[0] = Json::from(goal + min_difference);
                        }
                        randval(&pool, rng)
                            .as_i64()
                            .unwrap_or(0)
                            .max(goal + min_difference)
                    }
                    None => 30,
                };
                (goal, pool_n)
            }
            None => (20, 30),
        };
        custom["item.Goal.Required"] = Json::from(goal);
        item_counts(custom).insert("TriforcePiece".into(), Json::from(pool_n));
    }
    let timer_mode = custom
        .get("rom.timerMode")
        .and_then(Json::as_str)
        .unwrap_or("off")
        .to_string();
    if timer_mode == "countdown-ohko"
        && let Some(ohko) = weight_customizer.and_then(|c| c.timed_ohko.as_ref())
    {
        for clock in &ohko.clocks {
            custom[format!("item.value.{}", clock.name).as_str()] = randval(&clock.value, rng);
            let pool = randval(&clock.pool, rng);
            item_counts(custom).insert(clock.name.clone(), pool);
        }
        custom["rom.timerStart"] = ohko
            .timer_start
            .as_ref()
            .map(|t| randval(t, rng))
            .unwrap_or(Json::from(0));
    }
    let filler = view
        .options()
        .and_then(|o| o.fill_item_pool_with.clone())
        .unwrap_or_else(|| "Nothing".to_string());
    {
        let counts = item_counts(custom);
        let total: i64 = counts.values().filter_map(Json::as_i64).sum();
        let current = count_of(counts, &filler);
        set_entry(counts, &filler, Json::from(current + (216 - total).max(0)));
    }
    if o.str("world_state") == "standard"
        && let Some(list) = settings["eq"].as_array_mut()
    {
        for item in list {
            if item == "OcarinaActive" {
                *item = json!("OcarinaInactive");
            }
        }
    }
    if matches!(o.str("goals"), "pedestal" | "dungeons") {
        settings["custom"]["prize.crossWorld"] = Json::Bool(true);
    }
}

/// `custom.item.count`, created when absent.
fn item_counts(custom: &mut Json) -> &mut Map<String, Json> {
    if !custom["item"]["count"].is_object() {
        custom["item"]["count"] = json!({});
    }
    custom["item"]["count"]
        .as_object_mut()
        .unwrap_or_else(|| unreachable!("just made an object"))
}
