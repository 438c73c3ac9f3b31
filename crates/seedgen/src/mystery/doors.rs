//! The Door Randomizer path of a mystery roll (upstream `mysterydoors.py`, spec §4.3, §4.5).

use rand::seq::SliceRandom;
use serde_json::{Value as Json, json};

use super::{MysteryError, MysteryRng, Options, SHARED_OPTIONS, View, assured_and_rules};
use crate::constants;

/// The options that decide whether a roll goes to the Door Randomizer.
pub(crate) struct Triggers<'a> {
    pub(crate) o: Options<'a>,
}

impl<'a> Triggers<'a> {
    pub(crate) fn roll(view: &View<'a>, rng: &mut MysteryRng) -> Self {
        let mut o = Options::default();
        for (key, default) in [
            ("door_shuffle", json!("vanilla")),
            ("keydropshuffle", json!(false)),
            ("dropshuffle", json!(false)),
            ("pottery", json!("none")),
            ("shopsanity", json!(false)),
            ("collection_rate", json!(false)),
            ("bombbag", json!(false)),
        ] {
            o.set(key, view.roll_or(key, default, rng));
        }
        Self { o }
    }

    pub(crate) fn want_doors(&self) -> bool {
        let o = &self.o;
        o.get("door_shuffle") != Some(&json!("vanilla"))
            || o.is_on("keydropshuffle")
            || o.is_on("dropshuffle")
            || o.get("pottery") != Some(&json!("none"))
            || o.is_on("shopsanity")
            || o.is_on("collection_rate")
            || o.is_on("bombbag")
    }
}

/// A Door Randomizer boolean from a rolled `on`/`off` (or real boolean) value.
fn flag(value: &Json) -> Json {
    match value {
        Json::String(s) if s == "on" => Json::Bool(true),
        Json::String(s) if s == "off" => Json::Bool(false),
        other => other.clone(),
    }
}

/// Rolls the Door Randomizer settings.
pub(crate) fn settings<'a>(
    view: &View<'a>,
    triggers: &mut Triggers<'a>,
    branch: &str,
    rng: &mut MysteryRng,
) -> Result<Json, MysteryError> {
    let o = &mut triggers.o;
    // Rolled for draw order; door logic is always noglitches.
    let _ = view.roll_required("glitches_required", rng)?;
    for key in SHARED_OPTIONS {
        o.set(key, view.roll_required(key, rng)?);
    }
    o.set(
        "pot_shuffle",
        view.roll_or("pot_shuffle", json!("off"), rng),
    );
    o.set(
        "algorithm",
        view.roll_or("algorithm", json!("balanced"), rng),
    );
    o.set(
        "entrance_shuffle",
        view.roll_required("entrance_shuffle", rng)?,
    );
    for (key, default) in [
        ("colorizepots", json!(false)),
        ("mapshuffle", json!(false)),
        ("compassshuffle", json!(false)),
        ("keyshuffle", json!(false)),
        ("bigkeyshuffle", json!(false)),
        ("keysanity", json!(false)),
        ("timer", json!("none")),
        ("experimental", json!(false)),
        ("dungeon_counters", json!("default")),
        ("triforce_pool", json!(0)),
        ("triforce_goal", json!(0)),
        ("restrict_boss_items", json!("none")),
        ("shufflelinks", json!(false)),
        ("overworld_map", json!("default")),
        ("pseudoboots", json!(false)),
        ("intensity", json!(2)),
        ("beemizer", json!(0)),
    ] {
        o.set(key, view.roll_or(key, default, rng));
    }
    if branch == "volatile" {
        o.set("keyshuffle", view.roll_or("keyshuffle", json!("none"), rng));
        o.set(
            "dropshuffle",
            view.roll_or("dropshuffle", json!("none"), rng),
        );
    }
    let limit = view
        .roll_or("startinventorylimit", Json::Null, rng)
        .as_u64();
    let mut start_items: Vec<String> = Vec::new();
    for (item, spec) in view.startinventory() {
        let n = spec.roll(rng).as_i64().unwrap_or(0);
        for _ in 0..n.max(0) {
            start_items.push(item.clone());
        }
    }
    if let Some(limit) = limit.and_then(|l| usize::try_from(l).ok())
        && start_items.len() > limit
    {
        start_items.shuffle(rng);
        start_items.truncate(limit);
    }

    assured_and_rules(view, o, rng)?;

    let mut settings = constants::base_doors_payload().clone();
    let s = &mut settings;
    let world_state = o.str("world_state").to_string();
    let retro = world_state == "retro";
    s["retro"] = Json::Bool(retro);
    s["mode"] = if retro {
        json!("open")
    } else {
        o.value("world_state")
    };
    s["logic"] = json!("noglitches");
    let goal = match o.str("goals") {
        "fast_ganon" => json!("crystals"),
        "triforce-hunt" => json!("triforcehunt"),
        _ => o.value("goals"),
    };
    s["goal"] = goal.clone();
    s["crystals_gt"] = o.value("tower_open");
    s["crystals_ganon"] = o.value("ganon_open");
    s["swords"] = match o.str("weapons") {
        "randomized" => json!("random"),
        "assured" | "vanilla" | "swordless" => o.value("weapons"),
        other => {
            return Err(MysteryError::BadValue {
                key: "weapons".into(),
                value: other.into(),
                problem: "is not randomized, assured, vanilla or swordless",
            });
        }
    };
    s["difficulty"] = o.value("item_pool");
    s["item_functionality"] = o.value("item_functionality");
    s["accessibility"] = o.value("accessibility");
    s["shopsanity"] = Json::Bool(o.is_on("shopsanity"));
    s["algorithm"] = o.value("algorithm");
    s["shuffleganon"] = Json::Bool(true);
    let shuffle = match o.str("entrance_shuffle") {
        "none" => json!("vanilla"),
        _ => o.value("entrance_shuffle"),
    };
    s["openpyramid"] = Json::Bool(
        matches!(
            shuffle.as_str(),
            Some("vanilla" | "dungeonsfull" | "dungeonssimple")
        ) && matches!(goal.as_str(), Some("crystals" | "trinity")),
    );
    s["shuffle"] = shuffle;
    s["shufflepots"] = Json::Bool(o.is_on("pot_shuffle"));
    s["shuffleenemies"] = o.value("enemy_shuffle");
    s["shufflebosses"] = o.value("boss_shuffle");
    s["enemy_damage"] = o.value("enemy_damage");
    s["enemy_health"] = o.value("enemy_health");
    s["keydropshuffle"] = Json::Bool(o.is_on("keydropshuffle"));
    s["dropshuffle"] = Json::Bool(o.is_on("dropshuffle"));
    s["pottery"] = o.value("pottery");
    s["colorizepots"] = Json::Bool(o.is_on("colorizepots"));
    let dungeon_items = o.str("dungeon_items").to_string();
    let derived = |key: &str, from: &[&str]| {
        if view.has(key) {
            Json::Bool(o.is_on(key))
        } else {
            Json::Bool(from.contains(&dungeon_items.as_str()))
        }
    };
    s["mapshuffle"] = derived("mapshuffle", &["mc", "mcs", "full"]);
    s["compassshuffle"] = derived("compassshuffle", &["mc", "mcs", "full"]);
    s["keyshuffle"] = derived("keyshuffle", &["mcs", "full"]);
    s["bigkeyshuffle"] = derived("bigkeyshuffle", &["full"]);
    s["keysanity"] = derived("keysanity", &["full"]);
    s["timer"] = o.value("timer");
    s["experimental"] = Json::Bool(o.is_on("experimental"));
    s["dungeon_counters"] = o.value("dungeon_counters");
    s["collection_rate"] = flag(&o.value("collection_rate"));
    s["bombbag"] = flag(&o.value("bombbag"));
    s["triforce_pool"] = o.value("triforce_pool");
    s["triforce_goal"] = o.value("triforce_goal");
    s["restrict_boss_items"] = o.value("restrict_boss_items");
    s["shufflelinks"] = flag(&o.value("shufflelinks"));
    s["overworld_map"] = o.value("overworld_map");
    s["pseudoboots"] = flag(&o.value("pseudoboots"));
    s["door_shuffle"] = o.value("door_shuffle");
    s["intensity"] = o.value("intensity");
    s["hints"] = Json::Bool(o.is_on("hints"));
    s["beemizer"] = o.value("beemizer");
    s["usestartinventory"] = Json::Bool(!start_items.is_empty());
    s["startinventory"] = Json::from(start_items.join(","));
    if branch == "volatile" {
        s["keyshuffle"] = o.value("keyshuffle");
        s["dropshuffle"] = o.value("dropshuffle");
    }
    Ok(settings)
}
