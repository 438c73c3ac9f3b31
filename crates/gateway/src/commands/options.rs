//! Options several commands share: their names (typed once, read by both the definition and
//! the handler) and their builders.

use twilight_model::application::command::CommandOption;
use twilight_util::builder::command::{AttachmentBuilder, StringBuilder};

use crate::context::{Call, CommandError};

/// `preset`: a preset name, autocompleted from seedgen.
pub const PRESET: &str = "preset";
/// `race`: a yes/no choice.
pub const RACE: &str = "race";
/// `branch`: the randomizer branch.
pub const BRANCH: &str = "branch";
/// `yamlfile`: an uploaded preset.
pub const YAML_FILE: &str = "yamlfile";

const YES_NO: [(&str, &str); 2] = [("Yes", "yes"), ("No", "no")];
const BRANCHES: [(&str, &str); 3] = [
    ("Live", "live"),
    ("Tournament", "tournament"),
    ("Beeta", "beeta"),
];

/// A "yes"/"no" string option (upstream's choice, read with [`Call::yes`]).
pub fn yes_no(name: &str, description: &str) -> CommandOption {
    StringBuilder::new(name, description)
        .choices(YES_NO)
        .build()
}

/// The `branch` option.
pub fn branch() -> CommandOption {
    StringBuilder::new(BRANCH, "Which branch of the randomizer to use.")
        .choices(BRANCHES)
        .build()
}

/// A required, autocompleted `preset` option.
pub fn preset(description: &str) -> CommandOption {
    StringBuilder::new(PRESET, description)
        .required(true)
        .autocomplete(true)
        .build()
}

/// The required `yamlfile` attachment option.
pub fn yaml_file(description: &str) -> CommandOption {
    AttachmentBuilder::new(YAML_FILE, description)
        .required(true)
        .build()
}

/// A required string option's value.
///
/// Errors (user-facing): the option is missing or blank.
pub fn required<'a>(call: &'a Call, name: &str) -> Result<&'a str, CommandError> {
    call.string(name)
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| CommandError::user(format!("Please give the `{name}` option.")))
}
