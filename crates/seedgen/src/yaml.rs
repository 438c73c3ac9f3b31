//! YAML reading for presets and weightsets.
//!
//! Upstream reads presets with PyYAML (YAML 1.1), where unquoted `on`/`off`/`yes`/`no` are
//! booleans. We parse YAML 1.2 (serde_yaml) on purpose: in all 206 community files the only
//! difference is `alttprmystery/tournament_de.yaml`, where the 1.1 reading turned the weight keys
//! `on`/`off` into booleans and so `bombbag` could never be rolled on (a bug). Read as strings,
//! `bombbag: {on: 20, off: 80}` works as its author meant; the door mapping turns `on`/`off`
//! into the booleans the Door Randomizer expects.

use serde_json::Value as Json;
use serde_yaml::Value as Yaml;

/// Largest preset or weightset accepted from a user (bytes). The biggest community file is
/// about 40 KiB; this leaves room without letting one upload fill the database.
pub const MAX_DOCUMENT_BYTES: usize = 256 * 1024;

/// A YAML document that could not be read, with a 1-based location when the parser knows it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", location.map(|(l, c)| format!("line {l}, column {c}: ")).unwrap_or_default())]
pub struct YamlError {
    /// `(line, column)`, both 1-based.
    pub location: Option<(usize, usize)>,
    /// What is wrong, with line and column.
    pub message: String,
}

impl YamlError {
    fn plain(message: impl Into<String>) -> Self {
        Self {
            location: None,
            message: message.into(),
        }
    }
}

/// Parses one YAML document whose top level must be a mapping.
///
/// Errors: too large, not UTF-8-clean YAML, syntax errors (with line and column), or a top
/// level that is not a mapping.
pub fn parse_mapping(text: &str) -> Result<serde_yaml::Mapping, YamlError> {
    if text.len() > MAX_DOCUMENT_BYTES {
        return Err(YamlError::plain(format!(
            "the document is {} bytes; the limit is {} bytes",
            text.len(),
            MAX_DOCUMENT_BYTES
        )));
    }
    let value: Yaml = serde_yaml::from_str(text).map_err(|error| YamlError {
        location: error.location().map(|l| (l.line(), l.column())),
        message: strip_location(&error.to_string()),
    })?;
    match value {
        Yaml::Mapping(map) => Ok(map),
        Yaml::Null => Err(YamlError::plain("the document is empty")),
        other => Err(YamlError::plain(format!(
            "the top level must be a mapping of keys to values, not {}",
            kind(&other)
        ))),
    }
}

// serde_yaml appends " at line L column C"; we keep the location in its own field.
fn strip_location(message: &str) -> String {
    match message.find(" at line ") {
        Some(index) => message[..index].to_string(),
        None => message.to_string(),
    }
}

/// A short name of a YAML value's type, for error messages.
pub fn kind(value: &Yaml) -> &'static str {
    match value {
        Yaml::Null => "nothing",
        Yaml::Bool(_) => "a boolean",
        Yaml::Number(_) => "a number",
        Yaml::String(_) => "a string",
        Yaml::Sequence(_) => "a list",
        Yaml::Mapping(_) => "a mapping",
        Yaml::Tagged(_) => "a tagged value",
    }
}

/// Converts YAML to JSON for provider payloads. Mapping keys become strings (`0` → `"0"`,
/// `true` → `"true"`); order is kept where the JSON map keeps it.
pub fn to_json(value: &Yaml) -> Json {
    match value {
        Yaml::Null => Json::Null,
        Yaml::Bool(b) => Json::Bool(*b),
        Yaml::Number(n) => number_to_json(n),
        Yaml::String(s) => Json::String(s.clone()),
        Yaml::Sequence(items) => Json::Array(items.iter().map(to_json).collect()),
        Yaml::Mapping(map) => Json::Object(
            map.iter()
                .map(|(k, v)| (key_to_string(k), to_json(v)))
                .collect(),
        ),
        Yaml::Tagged(tagged) => to_json(&tagged.value),
    }
}

/// A YAML number as JSON: integers stay integers, anything else is a float.
pub fn number_to_json(n: &serde_yaml::Number) -> Json {
    if let Some(i) = n.as_i64() {
        Json::from(i)
    } else if let Some(u) = n.as_u64() {
        Json::from(u)
    } else {
        n.as_f64()
            .and_then(serde_json::Number::from_f64)
            .map(Json::Number)
            .unwrap_or(Json::Null)
    }
}

/// A mapping key as text: strings as they are, scalars in their YAML spelling.
pub fn key_to_string(key: &Yaml) -> String {
    match key {
        Yaml::String(s) => s.clone(),
        Yaml::Bool(b) => b.to_string(),
        Yaml::Number(n) => n.to_string(),
        Yaml::Null => "null".to_string(),
        other => serde_yaml::to_string(other)
            .unwrap_or_default()
            .trim()
            .to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_errors_carry_line_and_column() {
        let error = parse_mapping("settings:\n  goal: ganon\n   bad: [\n").unwrap_err();
        let (line, _) = error.location.expect("location");
        assert_eq!(line, 3, "{error}");
        assert!(error.to_string().starts_with("line 3, column"), "{error}");
    }

    #[test]
    fn top_level_must_be_a_mapping() {
        assert_eq!(
            parse_mapping("- a\n- b\n").unwrap_err().message,
            "the top level must be a mapping of keys to values, not a list"
        );
        assert_eq!(
            parse_mapping("").unwrap_err().message,
            "the document is empty"
        );
    }

    #[test]
    fn on_off_stay_strings() {
        let map = parse_mapping("bombbag: {on: 20, off: 80}\nx: yes\n").unwrap();
        let json = to_json(&Yaml::Mapping(map));
        assert_eq!(json["bombbag"]["on"], 20);
        assert_eq!(json["x"], "yes");
    }

    #[test]
    fn size_limit_is_enforced() {
        let big = format!("description: \"{}\"\n", "a".repeat(MAX_DOCUMENT_BYTES));
        assert!(parse_mapping(&big).unwrap_err().message.contains("limit"));
    }
}
