//! The `custom_id` of buttons, select menus and modals: `<feature>:<action>[:<arg>…]`
//! (spec `discord-and-web.md` §1.17).
//!
//! Persistent components (posted once, clicked for months) carry everything their handler
//! needs in the id, so they work after a restart and on any replica. The ids upstream posted
//! (`sahasrahbot:new_async_race`, `racerverify:verifystatus`, …) still sit under old
//! messages; [`CustomId::parse`] maps them onto the features that handle them now.

use std::fmt;

/// Discord's limit on a `custom_id`, in characters.
pub const MAX_LEN: usize = 100;

/// A parsed `custom_id`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomId {
    /// The feature whose handler answers, e.g. `async`.
    pub feature: String,
    /// What to do, e.g. `finish`.
    pub action: String,
    /// Arguments, e.g. a run id; `:` separates them, so they cannot contain it.
    pub args: Vec<String>,
}

/// Why a `custom_id` cannot be parsed or built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CustomIdError {
    /// Fewer than two parts.
    #[error("a custom_id needs a feature and an action (`feature:action`), got `{0}`")]
    Incomplete(String),
    /// An empty part, or one with `:`.
    #[error("a custom_id part may not be empty or contain `:` (got `{0}`)")]
    BadPart(String),
    /// Over Discord's limit.
    #[error("a custom_id is at most {MAX_LEN} characters; `{0}` is longer")]
    TooLong(String),
}

/// Ids upstream posted, and what they are now: `(old id, feature, action)`.
const LEGACY: [(&str, &str, &str); 11] = [
    ("sahasrahbot:new_async_race", "async", "new_run"),
    ("sahasrahbot:async_ready", "async", "ready"),
    ("sahasrahbot:async_forfeit", "async", "forfeit"),
    ("sahasrahbot:async_finish", "async", "finish"),
    ("sahasrahbot:async_forfeit2", "async", "forfeit"),
    ("sahasrahbot:async_get_timer", "async", "timer"),
    ("sahasrahbot:async_submit_vod", "async", "submit_vod"),
    ("sahasrahbot:open_inquiry", "inquiry", "open"),
    ("sahasrahbot:rankedchoice:end_election", "election", "end"),
    ("racerverify:verifystatus", "verify", "status"),
    ("sahabot:delete_history", "history", "delete"),
];

impl CustomId {
    /// An id for `feature` and `action` with `args`.
    ///
    /// Errors: an empty part, a part with `:`, or more than [`MAX_LEN`] characters in all.
    pub fn new(feature: &str, action: &str, args: &[&str]) -> Result<Self, CustomIdError> {
        let id = Self {
            feature: feature.to_owned(),
            action: action.to_owned(),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
        };
        for part in std::iter::once(&id.feature)
            .chain(std::iter::once(&id.action))
            .chain(&id.args)
        {
            if part.is_empty() || part.contains(':') {
                return Err(CustomIdError::BadPart(part.clone()));
            }
        }
        let text = id.to_string();
        if text.chars().count() > MAX_LEN {
            return Err(CustomIdError::TooLong(text));
        }
        Ok(id)
    }

    /// Parses a `custom_id` as Discord sends it back; upstream's ids map onto today's features.
    ///
    /// Errors: fewer than two parts, or an empty part.
    pub fn parse(text: &str) -> Result<Self, CustomIdError> {
        if let Some((_, feature, action)) = LEGACY.iter().find(|(old, _, _)| *old == text) {
            return Ok(Self {
                feature: (*feature).to_owned(),
                action: (*action).to_owned(),
                args: Vec::new(),
            });
        }
        if text.chars().count() > MAX_LEN {
            return Err(CustomIdError::TooLong(text.to_owned()));
        }
        let mut parts = text.split(':');
        let (Some(feature), Some(action)) = (parts.next(), parts.next()) else {
            return Err(CustomIdError::Incomplete(text.to_owned()));
        };
        let args: Vec<&str> = parts.collect();
        if feature.is_empty() || action.is_empty() || args.iter().any(|a| a.is_empty()) {
            return Err(CustomIdError::BadPart(text.to_owned()));
        }
        Ok(Self {
            feature: feature.to_owned(),
            action: action.to_owned(),
            args: args.into_iter().map(str::to_owned).collect(),
        })
    }

    /// The argument at `index`, if given.
    pub fn arg(&self, index: usize) -> Option<&str> {
        self.args.get(index).map(String::as_str)
    }
}

impl fmt::Display for CustomId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.feature, self.action)?;
        for arg in &self.args {
            write!(f, ":{arg}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_built_id_parses_back_to_itself() {
        let id = CustomId::new("async", "finish", &["42", "7"]).unwrap();
        assert_eq!(id.to_string(), "async:finish:42:7");
        assert_eq!(CustomId::parse("async:finish:42:7").unwrap(), id);
        assert_eq!(id.arg(1), Some("7"));
        assert_eq!(id.arg(2), None);
    }

    #[test]
    fn an_id_without_args_has_none() {
        let id = CustomId::parse("election:end").unwrap();
        assert_eq!(
            (id.feature.as_str(), id.action.as_str()),
            ("election", "end")
        );
        assert!(id.args.is_empty());
    }

    #[test]
    fn upstream_persistent_ids_map_onto_todays_features() {
        let id = CustomId::parse("sahasrahbot:new_async_race").unwrap();
        assert_eq!(
            (id.feature.as_str(), id.action.as_str()),
            ("async", "new_run")
        );
        let id = CustomId::parse("sahasrahbot:rankedchoice:end_election").unwrap();
        assert_eq!(
            (id.feature.as_str(), id.action.as_str()),
            ("election", "end")
        );
        let id = CustomId::parse("racerverify:verifystatus").unwrap();
        assert_eq!(
            (id.feature.as_str(), id.action.as_str()),
            ("verify", "status")
        );
    }

    #[test]
    fn an_id_with_one_part_is_incomplete() {
        assert_eq!(
            CustomId::parse("finish"),
            Err(CustomIdError::Incomplete("finish".into()))
        );
    }

    #[test]
    fn empty_parts_are_refused() {
        assert!(matches!(
            CustomId::parse("async::1"),
            Err(CustomIdError::BadPart(_))
        ));
        assert!(matches!(
            CustomId::parse(":finish"),
            Err(CustomIdError::BadPart(_))
        ));
        assert!(matches!(
            CustomId::parse("async:finish:"),
            Err(CustomIdError::BadPart(_))
        ));
    }

    #[test]
    fn an_argument_with_a_colon_cannot_be_built() {
        assert_eq!(
            CustomId::new("async", "finish", &["a:b"]),
            Err(CustomIdError::BadPart("a:b".into()))
        );
    }

    #[test]
    fn ids_longer_than_discord_allows_are_refused() {
        let long = "x".repeat(95);
        assert!(matches!(
            CustomId::new("async", "finish", &[&long]),
            Err(CustomIdError::TooLong(_))
        ));
        assert!(matches!(
            CustomId::parse(&format!("async:finish:{long}")),
            Err(CustomIdError::TooLong(_))
        ));
    }
}
