//! Compiled mystery weightsets and the draw primitives of spec §4.1.
//!
//! A weightset file is compiled once into [`Weights`]: every weight map becomes a [`Choice`]
//! with cumulative sums, so a roll is a few binary searches. Errors in the file (non-numeric
//! or negative weights, a zero total, malformed rules) are found at compile time.

use std::collections::HashMap;
use std::sync::Arc;

use rand::RngExt;
use serde_json::Value as Json;
use serde_yaml::{Mapping, Value as Yaml};

use crate::yaml::{key_to_string, kind, number_to_json};

/// A weightset that does not follow the weightset schema; `path` names the key.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{path}`: {message}")]
pub struct WeightsError {
    /// Where in the weightset (dotted path).
    pub path: String,
    /// What is wrong.
    pub message: String,
}

fn err(path: &str, message: impl Into<String>) -> WeightsError {
    WeightsError {
        path: path.to_string(),
        message: message.into(),
    }
}

/// Upstream `conv`: numeric strings become integers, `"true"`/`"false"` booleans.
pub fn conv_str(s: &str) -> Json {
    let trimmed = s.trim();
    let digits = trimmed.strip_prefix(['+', '-']).unwrap_or(trimmed);
    if !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit() || c == '_')
        && !digits.starts_with('_')
        && !digits.ends_with('_')
        && !digits.contains("__")
    {
        let cleaned: String = trimmed.chars().filter(|c| *c != '_').collect();
        if let Ok(i) = cleaned.parse::<i64>() {
            return Json::from(i);
        }
    }
    if s.eq_ignore_ascii_case("true") {
        return Json::Bool(true);
    }
    if s.eq_ignore_ascii_case("false") {
        return Json::Bool(false);
    }
    Json::String(s.to_string())
}

/// A YAML scalar (or list, for `[lo, hi]` ranges) as the rolled JSON value.
pub fn conv(value: &Yaml) -> Json {
    match value {
        Yaml::String(s) => conv_str(s),
        Yaml::Number(n) => number_to_json(n),
        Yaml::Bool(b) => Json::Bool(*b),
        Yaml::Null => Json::Null,
        Yaml::Sequence(items) => Json::Array(items.iter().map(conv).collect()),
        Yaml::Mapping(_) => crate::yaml::to_json(value),
        Yaml::Tagged(tagged) => conv(&tagged.value),
    }
}

/// One weight map `{value: weight}`: the values in document order with cumulative weights.
#[derive(Clone, Debug)]
pub struct Choice {
    values: Vec<Json>,
    cumulative: Vec<f64>,
}

impl Choice {
    /// Compiles `{value: weight}`. Errors: a weight that is not a number, negative or not
    /// finite, or weights that sum to zero.
    pub fn compile(path: &str, map: &Mapping) -> Result<Self, WeightsError> {
        let mut values = Vec::with_capacity(map.len());
        let mut cumulative = Vec::with_capacity(map.len());
        let mut total = 0.0;
        for (key, weight) in map {
            let w = match weight {
                Yaml::Number(n) => n.as_f64().unwrap_or(f64::NAN),
                // YAML 1.1 read `00` or `012` as numbers; serde_yaml keeps them as text.
                Yaml::String(s) if s.trim().parse::<f64>().is_ok() => {
                    s.trim().parse::<f64>().unwrap_or(f64::NAN)
                }
                other => {
                    return Err(err(
                        &format!("{path}.{}", key_to_string(key)),
                        format!("the weight must be a number, not {}", kind(other)),
                    ));
                }
            };
            if !w.is_finite() || w < 0.0 {
                return Err(err(
                    &format!("{path}.{}", key_to_string(key)),
                    format!("the weight must be a non-negative number, not {w}"),
                ));
            }
            total += w;
            values.push(conv(key));
            cumulative.push(total);
        }
        if total <= 0.0 {
            return Err(err(path, "the weights must add up to more than zero"));
        }
        Ok(Self { values, cumulative })
    }

    /// Draws one value: exactly one uniform draw, mapped onto the cumulative weights (the
    /// first value whose running total exceeds it, so zero weights are never chosen).
    pub fn draw(&self, rng: &mut impl rand::Rng) -> &Json {
        let total = self.cumulative[self.cumulative.len() - 1];
        let x = rng.random::<f64>() * total;
        let index = self
            .cumulative
            .partition_point(|c| *c <= x)
            .min(self.values.len() - 1);
        &self.values[index]
    }

    /// The values with their probabilities (for tests and descriptions).
    pub fn probabilities(&self) -> Vec<(Json, f64)> {
        let total = self.cumulative[self.cumulative.len() - 1];
        let mut previous = 0.0;
        self.values
            .iter()
            .zip(&self.cumulative)
            .map(|(v, c)| {
                let p = (c - previous) / total;
                previous = *c;
                (v.clone(), p)
            })
            .collect()
    }
}

/// A weight spec: a fixed value, a weight map, or nothing (`~` / `{}`, which rolls to none).
#[derive(Clone, Debug)]
pub enum Spec {
    /// Always this value.
    Fixed(Json),
    /// Drawn from weights.
    Weighted(Choice),
    /// Rolls nothing (`~` or `{}`).
    Nothing,
}

impl Spec {
    /// Compiles the spec at `path`. Errors: a weight map with bad weights.
    pub fn compile(path: &str, value: &Yaml) -> Result<Self, WeightsError> {
        Ok(match value {
            Yaml::Null => Spec::Nothing,
            Yaml::Mapping(map) if map.is_empty() => Spec::Nothing,
            Yaml::Mapping(map) => Spec::Weighted(Choice::compile(path, map)?),
            other => Spec::Fixed(conv(other)),
        })
    }

    /// [`Spec::roll`] without copying the value.
    pub fn roll_ref(&self, rng: &mut impl rand::Rng) -> std::borrow::Cow<'_, Json> {
        match self {
            Spec::Fixed(v) => std::borrow::Cow::Borrowed(v),
            Spec::Weighted(choice) => std::borrow::Cow::Borrowed(choice.draw(rng)),
            Spec::Nothing => std::borrow::Cow::Owned(Json::Null),
        }
    }

    /// Upstream `get_random_option`: a map draws once, a scalar or nothing never draws.
    pub fn roll(&self, rng: &mut impl rand::Rng) -> Json {
        match self {
            Spec::Fixed(v) => v.clone(),
            Spec::Weighted(choice) => choice.draw(rng).clone(),
            Spec::Nothing => Json::Null,
        }
    }
}

/// Upstream `randval`: `[lo, hi]` draws an integer in the inclusive range, anything else is
/// itself.
pub fn randval(value: &Json, rng: &mut impl rand::Rng) -> Json {
    if let Some([lo, hi]) = value.as_array().map(Vec::as_slice)
        && let (Some(lo), Some(hi)) = (lo.as_i64(), hi.as_i64())
    {
        return Json::from(rng.random_range(lo.min(hi)..=hi.max(lo)));
    }
    value.clone()
}

/// `customizer.triforce-hunt` of a weightset.
#[derive(Clone, Debug, Default)]
pub struct TriforceHunt {
    /// `goal`: pieces needed (a value or `[lo, hi]`).
    pub goal: Option<Json>,
    /// `pool`: pieces placed (a value or `[lo, hi]`).
    pub pool: Option<Json>,
    /// `min_difference`: pool minus goal at least this.
    pub min_difference: Option<Spec>,
}

/// One clock of `customizer.timed-ohko.clock`.
#[derive(Clone, Debug)]
pub struct Clock {
    /// The clock item, e.g. `GreenClock`.
    pub name: String,
    /// Its time value (a value or `[lo, hi]`).
    pub value: Json,
    /// How many are placed (a value or `[lo, hi]`).
    pub pool: Json,
}

/// `customizer.timed-ohko` of a weightset.
#[derive(Clone, Debug, Default)]
pub struct TimedOhko {
    /// `timerStart`: starting time (a value or `[lo, hi]`).
    pub timer_start: Option<Json>,
    /// The clocks.
    pub clocks: Vec<Clock>,
}

/// The `customizer` section of a weightset.
#[derive(Clone, Debug, Default)]
pub struct Customizer {
    /// `eq`: starting equipment specs.
    pub eq: Vec<(String, Spec)>,
    /// `custom`: customizer settings specs.
    pub custom: Vec<(String, Spec)>,
    /// `pool`: item count specs.
    pub pool: Vec<(String, Spec)>,
    /// `triforce-hunt`.
    pub triforce_hunt: Option<TriforceHunt>,
    /// `timed-ohko`.
    pub timed_ohko: Option<TimedOhko>,
}

impl Customizer {
    /// Upstream treats an empty `customizer:` as absent.
    pub fn is_empty(&self) -> bool {
        self.eq.is_empty()
            && self.custom.is_empty()
            && self.pool.is_empty()
            && self.triforce_hunt.is_none()
            && self.timed_ohko.is_none()
    }
}

/// One entry of `rules`: when every exact condition holds, re-roll the actions.
#[derive(Clone, Debug)]
pub struct Rule {
    /// `(option, value)` pairs compared with `==`; other match types are ignored upstream.
    pub conditions: Vec<(String, Json)>,
    /// Options set (rolled) when the conditions hold.
    pub actions: Vec<(String, Spec)>,
}

/// The `options` section.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// `FillItemPoolWith`: the filler item (default `Nothing`).
    pub fill_item_pool_with: Option<String>,
    /// Always use the Door Randomizer.
    pub force_doors: bool,
    /// The Door Randomizer branch.
    pub branch: Option<String>,
}

/// A named subweight with its chance.
#[derive(Clone, Debug)]
pub struct Subweight {
    /// Its name.
    pub name: String,
    /// Its weight.
    pub chance: f64,
    /// Its weights, laid over the parent's.
    pub weights: Arc<Weights>,
}

/// A compiled weightset (or one subweight's partial weightset).
#[derive(Clone, Debug, Default)]
pub struct Weights {
    /// Rolled options by key. foldhash (randomly seeded per process): a roll looks keys up
    /// dozens of times, and SipHash was a tenth of its time.
    pub specs: HashMap<String, Spec, foldhash::fast::RandomState>,
    /// Subweights and the choice among them.
    pub subweights: Option<(Vec<Subweight>, Option<Choice>)>,
    /// `customizer`.
    pub customizer: Option<Arc<Customizer>>,
    /// `rules`.
    pub rules: Option<Arc<Vec<Rule>>>,
    /// `options`.
    pub options: Option<Arc<Options>>,
    /// `startinventory`.
    pub startinventory: Option<Arc<Vec<(String, Spec)>>>,
    /// `description`.
    pub description: Option<String>,
}

impl Weights {
    /// Compiles a weightset document.
    pub fn compile(map: &Mapping) -> Result<Self, WeightsError> {
        Self::compile_at("", map)
    }

    fn compile_at(prefix: &str, map: &Mapping) -> Result<Self, WeightsError> {
        let mut weights = Weights::default();
        for (key, value) in map {
            let name = key_to_string(key);
            let path = format!("{prefix}{name}");
            match name.as_str() {
                "description" => {
                    weights.description = value.as_str().map(str::to_string);
                }
                "subweights" => weights.subweights = Some(compile_subweights(&path, value)?),
                "customizer" => {
                    weights.customizer = Some(Arc::new(compile_customizer(&path, value)?));
                }
                "rules" => weights.rules = Some(Arc::new(compile_rules(&path, value)?)),
                "options" => weights.options = Some(Arc::new(compile_options(&path, value)?)),
                "startinventory" => {
                    weights.startinventory = Some(Arc::new(compile_pairs(&path, value)?));
                }
                _ => {
                    weights.specs.insert(name, Spec::compile(&path, value)?);
                }
            }
        }
        Ok(weights)
    }

    /// Whether this layer mentions `key` at all.
    pub fn has(&self, key: &str) -> bool {
        match key {
            "subweights" => self.subweights.is_some(),
            "customizer" => self.customizer.is_some(),
            "rules" => self.rules.is_some(),
            "options" => self.options.is_some(),
            "startinventory" => self.startinventory.is_some(),
            "description" => self.description.is_some(),
            _ => self.specs.contains_key(key),
        }
    }
}

fn as_mapping<'a>(path: &str, value: &'a Yaml) -> Result<&'a Mapping, WeightsError> {
    value
        .as_mapping()
        .ok_or_else(|| err(path, format!("must be a mapping, not {}", kind(value))))
}

fn compile_pairs(path: &str, value: &Yaml) -> Result<Vec<(String, Spec)>, WeightsError> {
    if value.is_null() {
        return Ok(Vec::new());
    }
    as_mapping(path, value)?
        .iter()
        .map(|(k, v)| {
            let name = key_to_string(k);
            let spec = Spec::compile(&format!("{path}.{name}"), v)?;
            Ok((name, spec))
        })
        .collect()
}

fn compile_subweights(
    path: &str,
    value: &Yaml,
) -> Result<(Vec<Subweight>, Option<Choice>), WeightsError> {
    if value.is_null() {
        return Ok((Vec::new(), None));
    }
    let map = as_mapping(path, value)?;
    let mut subweights = Vec::new();
    let mut chances = Mapping::new();
    for (key, body) in map {
        let name = key_to_string(key);
        let sub_path = format!("{path}.{name}");
        let body = as_mapping(&sub_path, body)?;
        let chance = body
            .get("chance")
            .ok_or_else(|| err(&sub_path, "needs a `chance`"))?;
        let weights = match body.get("weights") {
            Some(Yaml::Mapping(w)) => Weights::compile_at(&format!("{sub_path}.weights."), w)?,
            None | Some(Yaml::Null) => Weights::default(),
            Some(other) => {
                return Err(err(
                    &format!("{sub_path}.weights"),
                    format!("must be a mapping, not {}", kind(other)),
                ));
            }
        };
        chances.insert(Yaml::String(name.clone()), chance.clone());
        subweights.push(Subweight {
            name,
            chance: chance.as_f64().unwrap_or(0.0),
            weights: Arc::new(weights),
        });
    }
    let choice = if chances.is_empty() {
        None
    } else {
        Some(Choice::compile(&format!("{path}.*.chance"), &chances)?)
    };
    Ok((subweights, choice))
}

fn compile_customizer(path: &str, value: &Yaml) -> Result<Customizer, WeightsError> {
    let mut customizer = Customizer::default();
    if value.is_null() {
        return Ok(customizer);
    }
    for (key, body) in as_mapping(path, value)? {
        let name = key_to_string(key);
        let sub = format!("{path}.{name}");
        match name.as_str() {
            "eq" => customizer.eq = compile_pairs(&sub, body)?,
            "custom" => customizer.custom = compile_pairs(&sub, body)?,
            "pool" => customizer.pool = compile_pairs(&sub, body)?,
            "triforce-hunt" => {
                let map = as_mapping(&sub, body)?;
                customizer.triforce_hunt = Some(TriforceHunt {
                    goal: map.get("goal").map(conv),
                    pool: map.get("pool").map(conv),
                    min_difference: map
                        .get("min_difference")
                        .map(|v| Spec::compile(&format!("{sub}.min_difference"), v))
                        .transpose()?,
                });
            }
            "timed-ohko" => {
                let map = as_mapping(&sub, body)?;
                let mut ohko = TimedOhko {
                    timer_start: map.get("timerStart").map(conv),
                    clocks: Vec::new(),
                };
                if let Some(clocks) = map.get("clock") {
                    for (clock, spec) in as_mapping(&format!("{sub}.clock"), clocks)? {
                        let clock_name = key_to_string(clock);
                        let spec = as_mapping(&format!("{sub}.clock.{clock_name}"), spec)?;
                        ohko.clocks.push(Clock {
                            name: clock_name,
                            value: spec.get("value").map(conv).unwrap_or(Json::from(0)),
                            pool: spec.get("pool").map(conv).unwrap_or(Json::from(0)),
                        });
                    }
                }
                customizer.timed_ohko = Some(ohko);
            }
            // Other sections (e.g. `forced_settings`) are not read upstream either.
            _ => {}
        }
    }
    Ok(customizer)
}

fn compile_rules(path: &str, value: &Yaml) -> Result<Vec<Rule>, WeightsError> {
    let Some(list) = value.as_sequence() else {
        return Err(err(path, format!("must be a list, not {}", kind(value))));
    };
    let mut rules = Vec::new();
    for (index, rule) in list.iter().enumerate() {
        let rule_path = format!("{path}[{index}]");
        let map = as_mapping(&rule_path, rule)?;
        let mut conditions = Vec::new();
        if let Some(list) = map.get("conditions").and_then(Yaml::as_sequence) {
            for (ci, condition) in list.iter().enumerate() {
                let cpath = format!("{rule_path}.conditions[{ci}]");
                let cmap = as_mapping(&cpath, condition)?;
                let match_type = cmap
                    .get("MatchType")
                    .and_then(Yaml::as_str)
                    .unwrap_or("exact");
                if match_type != "exact" {
                    continue;
                }
                let key = cmap
                    .get("Key")
                    .and_then(Yaml::as_str)
                    .ok_or_else(|| err(&cpath, "needs a `Key` naming an option"))?;
                let value = cmap.get("Value").map(conv).unwrap_or(Json::Null);
                conditions.push((key.to_string(), value));
            }
        }
        let actions = match map.get("actions") {
            Some(actions) => compile_pairs(&format!("{rule_path}.actions"), actions)?,
            None => Vec::new(),
        };
        rules.push(Rule {
            conditions,
            actions,
        });
    }
    Ok(rules)
}

fn compile_options(path: &str, value: &Yaml) -> Result<Options, WeightsError> {
    if value.is_null() {
        return Ok(Options::default());
    }
    let map = as_mapping(path, value)?;
    Ok(Options {
        fill_item_pool_with: map
            .get("FillItemPoolWith")
            .and_then(Yaml::as_str)
            .map(str::to_string),
        force_doors: map.get("force_doors").is_some_and(truthy_yaml),
        branch: map.get("branch").and_then(Yaml::as_str).map(str::to_string),
    })
}

fn truthy_yaml(value: &Yaml) -> bool {
    truthy(&conv(value))
}

/// Python truthiness of a rolled value.
pub fn truthy(value: &Json) -> bool {
    match value {
        Json::Null => false,
        Json::Bool(b) => *b,
        Json::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Json::String(s) => !s.is_empty(),
        Json::Array(a) => !a.is_empty(),
        Json::Object(o) => !o.is_empty(),
    }
}

/// Python `==` between rolled values: numbers compare by value, `true == 1`.
pub fn loosely_equal(a: &Json, b: &Json) -> bool {
    fn as_number(v: &Json) -> Option<f64> {
        match v {
            Json::Number(n) => n.as_f64(),
            Json::Bool(b) => Some(f64::from(u8::from(*b))),
            _ => None,
        }
    }
    match (as_number(a), as_number(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    fn choice(text: &str) -> Choice {
        let map: Mapping = serde_yaml::from_str(text).unwrap();
        Choice::compile("x", &map).unwrap()
    }

    #[test]
    fn conv_follows_python_int_and_bool_rules() {
        assert_eq!(conv_str("7"), Json::from(7));
        assert_eq!(conv_str(" -3 "), Json::from(-3));
        assert_eq!(conv_str("1_000"), Json::from(1000));
        assert_eq!(conv_str("True"), Json::Bool(true));
        assert_eq!(conv_str("random"), Json::from("random"));
        assert_eq!(conv_str("7.5"), Json::from("7.5"));
        assert_eq!(conv_str("_1"), Json::from("_1"));
    }

    #[test]
    fn zero_weights_are_never_drawn() {
        let c = choice("a: 0\nb: 1\nc: 0\n");
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for _ in 0..1000 {
            assert_eq!(c.draw(&mut rng), &Json::from("b"));
        }
    }

    #[test]
    fn bad_weights_are_rejected_with_their_path() {
        let map: Mapping = serde_yaml::from_str("a: lots\n").unwrap();
        let e = Choice::compile("goals", &map).unwrap_err();
        assert_eq!(
            e.to_string(),
            "`goals.a`: the weight must be a number, not a string"
        );
        let map: Mapping = serde_yaml::from_str("a: 0\nb: 0\n").unwrap();
        let e = Choice::compile("goals", &map).unwrap_err();
        assert_eq!(
            e.to_string(),
            "`goals`: the weights must add up to more than zero"
        );
        let map: Mapping = serde_yaml::from_str("a: -1\nb: 3\n").unwrap();
        assert!(Choice::compile("goals", &map).is_err());
    }

    #[test]
    fn draws_follow_the_weights() {
        let c = choice("a: 1\nb: 3\n'7': 6\n");
        let mut rng = ChaCha8Rng::seed_from_u64(42);
        let n = 100_000;
        let mut counts = [0usize; 3];
        for _ in 0..n {
            match c.draw(&mut rng) {
                Json::String(s) if s == "a" => counts[0] += 1,
                Json::String(s) if s == "b" => counts[1] += 1,
                Json::Number(_) => counts[2] += 1,
                other => panic!("unexpected {other}"),
            }
        }
        for (count, expected) in counts.iter().zip([0.1, 0.3, 0.6]) {
            let share = *count as f64 / n as f64;
            assert!((share - expected).abs() < 0.01, "{share} vs {expected}");
        }
    }

    #[test]
    fn randval_ranges_are_inclusive() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let range = serde_json::json!([1, 2]);
        let mut seen = [false; 2];
        for _ in 0..200 {
            let v = randval(&range, &mut rng).as_i64().unwrap();
            seen[(v - 1) as usize] = true;
        }
        assert_eq!(seen, [true, true]);
        assert_eq!(randval(&Json::from(5), &mut rng), Json::from(5));
    }
}
