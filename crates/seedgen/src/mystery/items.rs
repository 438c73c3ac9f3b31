//! The item randomizer path of a mystery roll (pyz3r `generate_random_settings`, spec §4.4).

use std::collections::HashMap;
use std::sync::LazyLock;

use serde_json::{Map, Value as Json, json};

use super::weights::{randval, truthy};
use super::{Change, MysteryError, MysteryRng, Options, SHARED_OPTIONS, View, assured_and_rules};
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

/// Rolls alttpr.com settings; returns what they change in the base body and whether they go
/// to the customizer.
pub(crate) fn settings(
    view: &View<'_>,
    spoilers: &str,
    rng: &mut MysteryRng,
) -> Result<(Vec<Change>, bool), MysteryError> {
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

    let mut s: Vec<Change> = Vec::with_capacity(64);
    if customizer {
        apply_customizer(view, &mut s, &mut o, Customized { custom, pool, eq }, rng);
    }

    assured_and_rules(view, &mut o, rng)?;

    let mut top = |key: &'static str, value: Json| s.push(Change::Top(key, value));
    top("glitches", o.value("glitches"));
    top("item_placement", o.value("item_placement"));
    top("dungeon_items", o.value("dungeon_items"));
    top("accessibility", o.value("accessibility"));
    top("goal", o.value("goals"));
    top(
        "crystals",
        object([
            ("ganon", o.value("ganon_open")),
            ("tower", o.value("tower_open")),
        ]),
    );
    top("mode", o.value("world_state"));
    top("hints", o.value("hints"));
    top("weapons", o.value("weapons"));
    top(
        "item",
        object([
            ("pool", o.value("item_pool")),
            ("functionality", o.value("item_functionality")),
        ]),
    );
    top("tournament", Json::Bool(true));
    top("spoilers", Json::from(spoilers));
    top(
        "enemizer",
        object([
            ("boss_shuffle", o.value("boss_shuffle")),
            ("enemy_shuffle", o.value("enemy_shuffle")),
            ("enemy_damage", o.value("enemy_damage")),
            ("enemy_health", o.value("enemy_health")),
            ("pot_shuffle", o.value("pot_shuffle")),
        ]),
    );
    top("entrances", o.value("entrance_shuffle"));
    top("pseudoboots", o.value("pseudoboots"));
    let quickswap = view.roll_or("allow_quickswap", Json::Bool(false), rng);
    top("allow_quickswap", quickswap.into_owned());
    Ok((s, customizer))
}

/// A JSON object of the given entries, in order (without `json!`, which re-serializes values).
fn object<const N: usize>(entries: [(&str, Json); N]) -> Json {
    let mut map = Map::with_capacity(N);
    for (key, value) in entries {
        map.insert(key.to_owned(), value);
    }
    Json::Object(map)
}

struct Customized<'a> {
    custom: Vec<(&'a str, Json)>,
    pool: Vec<(&'a str, Json)>,
    eq: Vec<String>,
}

/// A map of the base body, indexed once: `custom` or `custom.item.count`.
struct Base {
    values: HashMap<&'static str, &'static Json, foldhash::fast::FixedState>,
    /// The sum of the integer values.
    total: i64,
}

impl Base {
    fn index(map: &'static Json) -> Self {
        let values: HashMap<_, _, _> = map
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.as_str(), v))
            .collect();
        let total = values.values().filter_map(|v| v.as_i64()).sum();
        Self { values, total }
    }

    fn get(&self, key: &str) -> Option<&'static Json> {
        self.values.get(key).copied()
    }
}

static CUSTOM_BASE: LazyLock<Base> =
    LazyLock::new(|| Base::index(&constants::base_customizer_payload()["custom"]));
static COUNT_BASE: LazyLock<Base> =
    LazyLock::new(|| Base::index(&constants::base_customizer_payload()["custom"]["item"]["count"]));

/// A map of the base body seen through the roll's changes: reads see a change first, then
/// the base; writes go to the changes only (a few dozen, so a list beats a map). A key may
/// appear twice; the last entry is the current value.
struct Overlay {
    base: &'static Base,
    changes: Vec<(String, Json)>,
}

impl Overlay {
    fn over(base: &'static Base) -> Self {
        Self {
            base,
            changes: Vec::with_capacity(48),
        }
    }

    fn get(&self, key: &str) -> &Json {
        self.changes
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
            .or_else(|| self.base.get(key))
            .unwrap_or(&Json::Null)
    }

    fn set(&mut self, key: &str, value: Json) {
        match self.changes.iter_mut().rev().find(|(k, _)| k == key) {
            Some(entry) => entry.1 = value,
            None => self.changes.push((key.to_owned(), value)),
        }
    }

    fn count(&self, item: &str) -> i64 {
        self.get(item).as_i64().unwrap_or(0)
    }

    /// The sum of every integer value, changed or not. Only for an overlay without repeated
    /// keys (the item counts: distinct pool keys, then [`Overlay::set`]).
    fn total(&self) -> i64 {
        self.changes
            .iter()
            .map(|(k, v)| {
                let before = self.base.get(k).and_then(Json::as_i64).unwrap_or(0);
                v.as_i64().unwrap_or(0) - before
            })
            .sum::<i64>()
            + self.base.total
    }
}

fn apply_customizer(
    view: &View<'_>,
    settings: &mut Vec<Change>,
    o: &mut Options,
    rolled: Customized<'_>,
    rng: &mut MysteryRng,
) {
    let weight_customizer = view.customizer();
    let mut eq = rolled.eq;
    let wild_rolled = rolled.custom.iter().any(|(k, _)| WILD_KEYS.contains(k));
    let mut custom = Overlay::over(&CUSTOM_BASE);
    let mut counts = Overlay::over(&COUNT_BASE);
    // The rolled keys come from a YAML mapping, so they are distinct: they are appended
    // without lookups. A rolled `customPrizePacks` follows the default, and the later entry
    // wins (in reads, which search from the end, and in the body, applied in order).
    custom.set("customPrizePacks", Json::Bool(false));
    custom
        .changes
        .extend(rolled.custom.into_iter().map(|(k, v)| (k.to_owned(), v)));
    counts
        .changes
        .extend(rolled.pool.into_iter().map(|(k, v)| (k.to_owned(), v)));
    for item in &eq {
        let mut it = if item == "OcarinaActive" {
            "OcarinaInactive"
        } else {
            item.as_str()
        };
        if BOTTLES.contains(&it) {
            it = "BottleWithRandom";
        }
        let current = counts.count(it);
        counts.set(it, Json::from((current - 1).max(0)));
    }
    if !eq.is_empty() {
        eq.extend(std::iter::repeat_n("BossHeartContainer".to_string(), 3));
    }
    if truthy(custom.get("item.require.Lamp")) {
        o.set("enemy_shuffle", json!("none"));
        o.set("enemy_damage", json!("default"));
        o.set("pot_shuffle", json!("off"));
    }
    if wild_rolled {
        o.set("dungeon_items", json!("standard"));
    }
    if WILD_KEYS.iter().any(|k| truthy(custom.get(k))) {
        custom.set("rom.freeItemMenu", Json::Bool(true));
        custom.set("rom.freeItemText", Json::Bool(true));
    }
    let mentioned =
        |key: &str| weight_customizer.is_some_and(|c| c.custom.iter().any(|(k, _)| k == key));
    if truthy(custom.get("region.wildMaps")) && !mentioned("rom.mapOnPickup") {
        custom.set("rom.mapOnPickup", Json::Bool(true));
    }
    if truthy(custom.get("region.wildCompasses")) && !mentioned("rom.dungeonCount") {
        custom.set("rom.dungeonCount", json!("pickup"));
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
        custom.set("item.Goal.Required", Json::from(goal));
        counts.set("TriforcePiece", Json::from(pool_n));
    }
    let timer_mode = custom.get("rom.timerMode").as_str().unwrap_or("off");
    if timer_mode == "countdown-ohko"
        && let Some(ohko) = weight_customizer.and_then(|c| c.timed_ohko.as_ref())
    {
        for clock in &ohko.clocks {
            custom.set(
                &format!("item.value.{}", clock.name),
                randval(&clock.value, rng),
            );
            counts.set(&clock.name, randval(&clock.pool, rng));
        }
        let start = ohko
            .timer_start
            .as_ref()
            .map(|t| randval(t, rng))
            .unwrap_or(Json::from(0));
        custom.set("rom.timerStart", start);
    }
    let filler = view
        .options()
        .and_then(|o| o.fill_item_pool_with.as_deref())
        .unwrap_or("Nothing");
    let total = counts.total();
    let current = counts.count(filler);
    counts.set(filler, Json::from(current + (216 - total).max(0)));
    if o.str("world_state") == "standard" {
        for item in &mut eq {
            if item == "OcarinaActive" {
                *item = "OcarinaInactive".to_string();
            }
        }
    }
    if matches!(o.str("goals"), "pedestal" | "dungeons") {
        custom.set("prize.crossWorld", Json::Bool(true));
    }
    settings.extend(
        custom
            .changes
            .into_iter()
            .map(|(k, v)| Change::Custom(k, v)),
    );
    settings.extend(counts.changes.into_iter().map(|(k, v)| Change::Count(k, v)));
    if !eq.is_empty() {
        settings.push(Change::Top(
            "eq",
            Json::Array(eq.into_iter().map(Json::String).collect()),
        ));
    }
}
