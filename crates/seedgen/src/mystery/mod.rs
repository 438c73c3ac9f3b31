//! The mystery engine: rolls ALTTPR settings from a weightset (spec §4).
//!
//! Every draw comes from one [`ChaCha8Rng`] seeded with a `u64`, so a roll is replayed exactly
//! from the seed stored in its audit row. ChaCha8 is used by name (not `StdRng`) because its
//! output is fixed across `rand` releases.
//!
//! Deliberate fixes of upstream quirks (spec §4.10): a mystery `preset:` roll is generated as
//! the preset it names (door, avianart and forced locations included) instead of sending its
//! raw settings to alttpr.com; `keysanity` in a weightset is rolled instead of raising.

mod doors;
mod items;
pub mod weights;

use std::borrow::Cow;
use std::sync::Arc;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::Value as Json;

pub use weights::{Spec, Weights, WeightsError};

/// The RNG every roll uses.
pub type MysteryRng = ChaCha8Rng;

/// Creates the RNG of one roll.
pub fn rng(seed: u64) -> MysteryRng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// A roll that cannot complete; the message says what to fix in the weightset.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MysteryError {
    /// A required option is missing.
    #[error("the weightset has no `{0}` (every mystery weightset needs it)")]
    MissingKey(String),
    /// A rule tests an option that is not rolled.
    #[error("a rule's condition tests `{0}`, which is not a rolled option")]
    UnknownRuleKey(String),
    /// A rolled value cannot be used.
    #[error("`{key}` rolled `{value}`, which {problem}")]
    BadValue {
        /// The option.
        key: String,
        /// What it rolled.
        value: String,
        /// Why it cannot be used.
        problem: &'static str,
    },
}

/// A compiled weightset with its name.
#[derive(Clone, Debug)]
pub struct Weightset {
    /// The weightset's name.
    pub name: String,
    /// Its compiled weights.
    pub weights: Arc<Weights>,
}

/// One setting a roll gave the alttpr.com request body (pyz3r's `BASE_RANDOMIZER_PAYLOAD` or
/// `BASE_CUSTOMIZER_PAYLOAD` is the rest).
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    /// A top-level key, replaced whole (`crystals` is `{"ganon": 7, "tower": 7}`).
    Top(&'static str, Json),
    /// A key of `custom`; dotted names such as `rom.timerMode` are single keys.
    Custom(String, Json),
    /// An item's count in `custom.item.count`.
    Count(String, Json),
}

/// Rolled settings, for alttpr.com or the Door Randomizer.
///
/// An alttpr.com roll keeps only what it set: building the whole 300-node customizer body
/// cost more than the roll itself, and is done once, by [`RolledSettings::body`], when the
/// request is sent.
#[derive(Clone, Debug, PartialEq)]
pub struct RolledSettings {
    /// Goes to alttpr.com's customizer.
    pub customizer: bool,
    /// Goes to the Door Randomizer.
    pub doors: bool,
    /// Door Randomizer checkout branch (doors only).
    pub branch: Option<String>,
    changes: Vec<Change>,
    doors_settings: Json,
}

impl RolledSettings {
    /// The alttpr.com endpoint these settings go to; `None` for doors.
    pub fn endpoint(&self) -> Option<&'static str> {
        match (self.doors, self.customizer) {
            (true, _) => None,
            (false, true) => Some("/api/customizer"),
            (false, false) => Some("/api/randomizer"),
        }
    }

    /// What an alttpr.com roll set, in roll order (empty for doors).
    pub fn changes(&self) -> &[Change] {
        &self.changes
    }

    /// The whole request body: the base body of [`Self::endpoint`] with the changes applied;
    /// for doors, the Door Randomizer settings.
    pub fn body(&self) -> Json {
        self.clone().into_body()
    }

    /// [`Self::body`], consuming the settings.
    pub fn into_body(self) -> Json {
        if self.doors {
            return self.doors_settings;
        }
        let mut body = if self.customizer {
            crate::constants::base_customizer_payload().clone()
        } else {
            crate::constants::base_randomizer_payload().clone()
        };
        for change in self.changes {
            match change {
                Change::Top(key, value) => body[key] = value,
                Change::Custom(key, value) => body["custom"][key.as_str()] = value,
                Change::Count(key, value) => body["custom"]["item"]["count"][key.as_str()] = value,
            }
        }
        body
    }
}

/// What a roll produced.
#[derive(Clone, Debug, PartialEq)]
pub enum Rolled {
    /// Settings rolled from the weights.
    Settings(RolledSettings),
    /// The weightset's `preset:` key chose a stored ALTTPR preset; generate that preset.
    Preset(String),
}

/// A finished roll.
#[derive(Clone, Debug, PartialEq)]
pub struct Roll {
    /// Settings, or the preset the weightset chose.
    pub rolled: Rolled,
    /// Instructions for the racers, if the weightset has them.
    pub custom_instructions: Option<String>,
    /// The RNG seed (replays the roll).
    pub rng_seed: u64,
}

/// A stack of weight layers: the weightset, then each chosen subweight on top (a shallow
/// merge, as upstream: a subweight's key replaces the parent's whole value).
pub(crate) struct View<'a> {
    layers: Vec<&'a Weights>,
}

impl<'a> View<'a> {
    pub(crate) fn spec(&self, key: &str) -> Option<&'a Spec> {
        self.layers.iter().rev().find_map(|l| l.specs.get(key))
    }

    pub(crate) fn has(&self, key: &str) -> bool {
        self.layers.iter().any(|l| l.has(key))
    }

    fn top<T>(&self, pick: impl Fn(&'a Weights) -> Option<&'a T>) -> Option<&'a T> {
        self.layers.iter().rev().find_map(|l| pick(l))
    }

    pub(crate) fn customizer(&self) -> Option<&'a weights::Customizer> {
        self.top(|l| l.customizer.as_deref())
    }

    pub(crate) fn rules(&self) -> &'a [weights::Rule] {
        self.top(|l| l.rules.as_deref())
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    pub(crate) fn options(&self) -> Option<&'a weights::Options> {
        self.top(|l| l.options.as_deref())
    }

    pub(crate) fn startinventory(&self) -> &'a [(String, Spec)] {
        self.top(|l| l.startinventory.as_deref())
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Rolls a required key.
    pub(crate) fn roll_required(
        &self,
        key: &str,
        rng: &mut MysteryRng,
    ) -> Result<Cow<'a, Json>, MysteryError> {
        self.spec(key)
            .map(|s| s.roll_ref(rng))
            .ok_or_else(|| MysteryError::MissingKey(key.to_string()))
    }

    /// Rolls a key, or uses `default` when the weightset does not have it (no draw).
    pub(crate) fn roll_or(&self, key: &str, default: Json, rng: &mut MysteryRng) -> Cow<'a, Json> {
        match self.spec(key) {
            Some(spec) => spec.roll_ref(rng),
            None => Cow::Owned(default),
        }
    }
}

/// Rolls `weightset` with the given `spoilers` value ("off", "on", "generate", "mystery").
///
/// Errors: a required key is missing, or a rule tests an option that was never rolled.
pub fn roll(weights: &Weights, spoilers: &str, seed: u64) -> Result<Roll, MysteryError> {
    let mut rng = rng(seed);
    let mut view = View {
        layers: vec![weights],
    };
    if let Some(spec) = view.spec("preset") {
        let chosen = spec.roll(&mut rng);
        if let Some(name) = chosen.as_str().filter(|n| *n != "none") {
            let custom_instructions = custom_instructions(&view, &mut rng);
            return Ok(Roll {
                rolled: Rolled::Preset(name.to_string()),
                custom_instructions,
                rng_seed: seed,
            });
        }
    }

    // Subweights: draw one, lay it on top, repeat with its own nested subweights.
    while let Some(Weights {
        subweights: Some((subweights, Some(choice))),
        ..
    }) = view.layers.last().copied()
    {
        let name = match choice.draw(&mut rng) {
            Json::String(s) => s.clone(),
            other => other.to_string(),
        };
        match subweights.iter().find(|s| s.name == name) {
            Some(sub) => view.layers.push(&sub.weights),
            None => break,
        }
    }

    let mut triggers = doors::Triggers::roll(&view, &mut rng);
    let custom_instructions = custom_instructions(&view, &mut rng);
    let force_doors = view.options().is_some_and(|o| o.force_doors);
    let rolled = if triggers.want_doors() || force_doors {
        let branch = view
            .options()
            .and_then(|o| o.branch.clone())
            .unwrap_or_else(|| "stable".to_string());
        let settings = doors::settings(&view, &mut triggers, &branch, &mut rng)?;
        RolledSettings {
            customizer: false,
            doors: true,
            branch: Some(branch),
            changes: Vec::new(),
            doors_settings: settings,
        }
    } else {
        let (changes, customizer) = items::settings(&view, spoilers, &mut rng)?;
        RolledSettings {
            customizer,
            doors: false,
            branch: None,
            changes,
            doors_settings: Json::Null,
        }
    };
    Ok(Roll {
        rolled: Rolled::Settings(rolled),
        custom_instructions,
        rng_seed: seed,
    })
}

/// Options both roll paths take from every weightset, in roll order (after
/// `glitches_required`, and on the item path `item_placement`).
pub(crate) const SHARED_OPTIONS: [&str; 14] = [
    "dungeon_items",
    "accessibility",
    "goals",
    "ganon_open",
    "tower_open",
    "world_state",
    "hints",
    "weapons",
    "item_pool",
    "item_functionality",
    "boss_shuffle",
    "enemy_shuffle",
    "enemy_damage",
    "enemy_health",
];

/// Checks, before any roll, that every required key is set by the weightset itself or by
/// every subweight that can be chosen (so `festive.yaml`, which lacks them, is refused with
/// a message instead of failing on every roll). A weightset whose `preset:` can never roll
/// `none` needs none of them.
pub fn check_required(weights: &Weights) -> Result<(), MysteryError> {
    if preset_always_chosen(weights) {
        return Ok(());
    }
    let required = ["glitches_required", "entrance_shuffle"]
        .into_iter()
        .chain(SHARED_OPTIONS);
    for key in required {
        if !provides(weights, key) {
            return Err(MysteryError::MissingKey(key.to_string()));
        }
    }
    Ok(())
}

fn preset_always_chosen(weights: &Weights) -> bool {
    match weights.specs.get("preset") {
        Some(Spec::Fixed(v)) => v.as_str().is_some_and(|s| s != "none"),
        Some(Spec::Weighted(choice)) => choice
            .probabilities()
            .iter()
            .all(|(v, p)| *p == 0.0 || v.as_str().is_some_and(|s| s != "none")),
        _ => false,
    }
}

fn provides(weights: &Weights, key: &str) -> bool {
    if weights.specs.contains_key(key) {
        return true;
    }
    match &weights.subweights {
        Some((subs, Some(_))) if !subs.is_empty() => subs
            .iter()
            .filter(|s| s.chance > 0.0)
            .all(|s| provides(&s.weights, key)),
        _ => false,
    }
}

fn custom_instructions(view: &View<'_>, rng: &mut MysteryRng) -> Option<String> {
    match view
        .roll_or("custom_instructions", Json::Null, rng)
        .into_owned()
    {
        Json::Null => None,
        Json::String(s) => Some(s),
        other => Some(other.to_string()),
    }
}

/// Applies the "assured" fix and the weightset's rules to rolled options (spec §4.4).
pub(crate) fn assured_and_rules<'a>(
    view: &View<'a>,
    o: &mut Options<'a>,
    rng: &mut MysteryRng,
) -> Result<(), MysteryError> {
    let weapons = o.str("weapons");
    if !matches!(weapons, "vanilla" | "assured")
        && o.str("world_state") == "standard"
        && (o.str("enemy_shuffle") != "none"
            || o.str("enemy_damage") != "default"
            || o.str("enemy_health") != "default")
    {
        o.set("weapons", Json::from("assured"));
    }
    for rule in view.rules() {
        let mut matched = true;
        for (key, value) in &rule.conditions {
            let current = o
                .get(key)
                .ok_or_else(|| MysteryError::UnknownRuleKey(key.clone()))?;
            if !weights::loosely_equal(current, value) {
                matched = false;
                break;
            }
        }
        if matched {
            for (key, spec) in &rule.actions {
                o.set(key, spec.roll_ref(rng));
            }
        }
    }
    Ok(())
}

/// A rolled value, owned or borrowed from the weightset.
pub(crate) trait IntoValue<'a> {
    fn into_value(self) -> Cow<'a, Json>;
}

impl<'a> IntoValue<'a> for Json {
    fn into_value(self) -> Cow<'a, Json> {
        Cow::Owned(self)
    }
}

impl<'a> IntoValue<'a> for Cow<'a, Json> {
    fn into_value(self) -> Cow<'a, Json> {
        self
    }
}

/// Rolled options by name, in roll order.
#[derive(Clone, Debug, Default)]
pub(crate) struct Options<'a> {
    // Keys and values borrow from the weightset where they can: a roll allocates little.
    entries: Vec<(&'a str, Cow<'a, Json>)>,
}

impl<'a> Options<'a> {
    pub(crate) fn set(&mut self, key: &'a str, value: impl IntoValue<'a>) {
        let value = value.into_value();
        match self.entries.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = value,
            None => self.entries.push((key, value)),
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<&Json> {
        self.entries
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_ref())
    }

    /// The value, `Null` when absent.
    pub(crate) fn value(&self, key: &str) -> Json {
        self.get(key).cloned().unwrap_or(Json::Null)
    }

    /// The value as text ("" for non-strings), for comparisons with upstream's string tests.
    pub(crate) fn str(&self, key: &str) -> &str {
        self.get(key).and_then(Json::as_str).unwrap_or("")
    }

    /// Upstream's `== 'on'` test. Booleans count too, since a YAML author writing `true`
    /// means on (PyYAML would have turned an unquoted `on` into exactly that).
    pub(crate) fn is_on(&self, key: &str) -> bool {
        matches!(self.get(key), Some(Json::String(s)) if s == "on")
            || matches!(self.get(key), Some(Json::Bool(true)))
    }
}

/// One line per setting ("crystals.ganon: 7"), nested maps flattened with dots, for
/// people reading an unmasked roll.
pub fn describe(settings: &Json) -> Vec<(String, String)> {
    let mut out = Vec::new();
    flatten("", settings, &mut out);
    out
}

fn flatten(prefix: &str, value: &Json, out: &mut Vec<(String, String)>) {
    match value {
        Json::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        Json::String(s) => out.push((prefix.to_string(), s.clone())),
        Json::Null => out.push((prefix.to_string(), String::new())),
        other => out.push((prefix.to_string(), other.to_string())),
    }
}

#[cfg(test)]
mod tests;
