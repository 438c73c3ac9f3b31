//! The application commands (spec `discord-and-web.md` §1.1, with upstream's names, options,
//! defaults and descriptions) and their registration by bulk overwrite.

use twilight_model::application::command::{Command, CommandOption, CommandType};
use twilight_model::id::Id;
use twilight_util::builder::command::{
    AttachmentBuilder, BooleanBuilder, CommandBuilder, IntegerBuilder, StringBuilder,
    SubCommandBuilder,
};

use twilight_model::application::interaction::InteractionContextType;
use twilight_model::guild::Permissions;

use crate::DiscordSettings;
use crate::discord::Discord;
use crate::guild_config::Key;

const YES_NO: [(&str, &str); 2] = [("Yes", "yes"), ("No", "no")];
const BRANCHES: [(&str, &str); 3] = [
    ("Live", "live"),
    ("Tournament", "tournament"),
    ("Beeta", "beeta"),
];

/// The `/z2r preset` choices (upstream's fixed table).
pub const Z2R_PRESETS: [&str; 9] = [
    "maxrando", "groups1", "groups2", "groups3", "groups4", "brackets", "nit", "sgl4", "sgl",
];

fn yes_no(name: &str, description: &str) -> CommandOption {
    StringBuilder::new(name, description)
        .choices(YES_NO)
        .build()
}

fn branch() -> CommandOption {
    StringBuilder::new("branch", "Which branch of the randomizer to use.")
        .choices(BRANCHES)
        .build()
}

fn preset(description: &str) -> CommandOption {
    StringBuilder::new("preset", description)
        .required(true)
        .autocomplete(true)
        .build()
}

fn yaml_file() -> CommandOption {
    AttachmentBuilder::new("yamlfile", "A preset YAML file.")
        .required(true)
        .build()
}

fn alttpr() -> Command {
    let race = || yes_no("race", "Is this a race? (default no)");
    let hints = || yes_no("hints", "Do you want hints? (default no)");
    let quickswap = || yes_no("allow_quickswap", "Allow quickswap? (default yes)");
    CommandBuilder::new(
        "alttpr",
        "A Link to the Past Randomizer games.",
        CommandType::ChatInput,
    )
    .option(
        SubCommandBuilder::new("preset", "Generates an ALTTP Randomizer game on https://alttpr.com")
            .option(preset("The preset you want to generate."))
            .option(race())
            .option(hints())
            .option(quickswap())
            .option(branch()),
    )
    .option(
        SubCommandBuilder::new(
            "custompreset",
            "Generates an ALTTP Randomizer game on https://alttpr.com using a custom yaml provided by the user",
        )
        .option(yaml_file())
        .option(race())
        .option(hints())
        .option(quickswap())
        .option(branch()),
    )
    .option(
        SubCommandBuilder::new(
            "spoiler",
            "Generates an ALTTP Randomizer Spoiler Race on https://alttpr.com",
        )
        .option(preset("The preset you want to generate."))
        .option(BooleanBuilder::new(
            "progression_spoiler",
            "Use a progression spoiler instead of a full spoiler.",
        ))
        .option(branch()),
    )
    .option(
        SubCommandBuilder::new(
            "customspoiler",
            "Generates an ALTTP Randomizer spoiler race game using a custom yaml provided by the user",
        )
        .option(yaml_file())
        .option(branch()),
    )
    .option(
        SubCommandBuilder::new(
            "mystery",
            "Generates an ALTTP Randomizer Mystery game on https://alttpr.com",
        )
        .option(
            StringBuilder::new("weightset", "The mystery weightset to roll.")
                .required(true)
                .autocomplete(true),
        )
        .option(yes_no("race", "Is this a race? (default yes)"))
        .option(yes_no("mask_settings", "Hide the rolled settings? (default yes)")),
    )
    .option(
        SubCommandBuilder::new(
            "kisspriest",
            "Create a series a \"Kiss Priest\" games.  This was created by hycutype.",
        )
        .option(
            IntegerBuilder::new("count", "How many games (default 10).")
                .min_value(1)
                .max_value(10),
        ),
    )
    .option(
        SubCommandBuilder::new(
            "custommystery",
            "Generates an ALTTP Randomizer Mystery game on https://alttpr.com using a custom yaml provided by the user",
        )
        .option(
            AttachmentBuilder::new("yamlfile", "A mystery weightset YAML file.").required(true),
        )
        .option(yes_no("race", "Is this a race? (default yes)"))
        .option(yes_no("mask_settings", "Hide the rolled settings? (default yes)")),
    )
    .build()
}

fn alttprutils() -> Command {
    CommandBuilder::new(
        "alttprutils",
        "Utilities for the ALTTP Randomizer",
        CommandType::ChatInput,
    )
    .option(
        SubCommandBuilder::new(
            "convertcustomizer",
            "Convert a customizer save file to a SahasrahBot preset file.",
        )
        .option(
            AttachmentBuilder::new(
                "customizer_json",
                "The customizer-settings.json from alttpr.com.",
            )
            .required(true),
        ),
    )
    .option(
        SubCommandBuilder::new("savepreset", "Save a preset to your namespace.")
            .option(StringBuilder::new("preset_name", "Name of the preset.").required(true))
            .option(AttachmentBuilder::new("preset_file", "The preset YAML file.").required(true)),
    )
    .option(
        SubCommandBuilder::new("verifygame", "Verify a game was generated by SahasrahBot.")
            .option(StringBuilder::new("hash_id", "The game's hash id.").required(true)),
    )
    .build()
}

fn sm_family() -> [Command; 3] {
    [
        CommandBuilder::new(
            "sm",
            "Generates an Super Metroid Randomizer game on https://sm.samus.link",
            CommandType::ChatInput,
        )
        .option(preset("The preset you want to generate."))
        .option(yes_no("race", "Is this a race? (default no)"))
        .build(),
        CommandBuilder::new(
            "smz3",
            "Generates an ALTTP Super Metroid Combo Randomizer game on https://samus.link",
            CommandType::ChatInput,
        )
        .option(preset("The preset you want to generate."))
        .option(yes_no("race", "Is this a race? (default no)"))
        .option(yes_no(
            "spoiler_race",
            "Is this a spoiler race? (default no)",
        ))
        .build(),
        CommandBuilder::new(
            "ctjets",
            "Generates a Chrono Trigger: Jets of Time randomizer game on http://ctjot.com",
            CommandType::ChatInput,
        )
        .option(preset("The preset you want to generate."))
        .build(),
    ]
}

/// `/smvaria` skills presets (upstream's static list).
pub const VARIA_SKILLS: [&str; 11] = [
    "SMRAT2021",
    "Season_Races",
    "Torneio_SGPT2",
    "casual",
    "expert",
    "master",
    "newbie",
    "regular",
    "samus",
    "solution",
    "veteran",
];

/// `/smvaria` settings presets (upstream's static list).
pub const VARIA_SETTINGS: [&str; 31] = [
    "Chozo_Speedrun",
    "SGLive2021",
    "SMRAT2021",
    "Season_Races",
    "Torneio_SGPT2",
    "VARIA_Weekly",
    "all_random",
    "default",
    "doors_long",
    "doors_short",
    "free",
    "hardway2hell",
    "haste",
    "highway2hell",
    "hud",
    "hud_hard",
    "hud_start",
    "minimizer",
    "minimizer_hardcore",
    "minimizer_maximizer",
    "quite_random",
    "scavenger_hard",
    "scavenger_random",
    "scavenger_speedrun",
    "scavenger_vanilla_but_not",
    "stupid_hard",
    "surprise",
    "vanilla",
    "way_of_chozo",
    "where_am_i",
    "where_is_morph",
];

/// `/smdash` modes offered when dashrando.net's list is not at hand.
pub const DASH_PRESETS: [&str; 6] = [
    "classic",
    "recall",
    "2017_mm",
    "chozo_bozo",
    "sgl23",
    "surprise_surprise",
];

fn sm_web_randomizers() -> [Command; 2] {
    [
        CommandBuilder::new(
            "smvaria",
            "Generates an Super Metroid Varia Randomizer game on https://varia.run",
            CommandType::ChatInput,
        )
        .option(
            StringBuilder::new("settings", "The settings preset.")
                .required(true)
                .autocomplete(true),
        )
        .option(
            StringBuilder::new("skills", "The skills preset.")
                .required(true)
                .autocomplete(true),
        )
        .option(yes_no("race", "Is this a race? (default no)"))
        .build(),
        CommandBuilder::new(
            "smdash",
            "Generates a Super Metroid Dash Randomizer game on https://dashrando.net",
            CommandType::ChatInput,
        )
        .option(
            StringBuilder::new("preset", "The Dash mode.")
                .required(true)
                .autocomplete(true),
        )
        .option(yes_no("spoiler", "Include a spoiler? (default no)"))
        .build(),
    ]
}

fn z2r() -> Command {
    CommandBuilder::new(
        "z2r",
        "Generate a seed for Zelda 2 Randomizer",
        CommandType::ChatInput,
    )
    .option(
        SubCommandBuilder::new(
            "preset",
            "Generate a Zelda 2 Randomizer game using the specified preset.",
        )
        .option(
            StringBuilder::new("preset", "The preset you want to generate.")
                .required(true)
                .choices(Z2R_PRESETS.map(|p| (p, p))),
        ),
    )
    .option(SubCommandBuilder::new(
        "mrb",
        "Generate a seed using a random flag from the 11 in MRB's pool.",
    ))
    .build()
}

fn datetime() -> Command {
    let range = |name: &str, description: &str, min: i64, max: i64| {
        IntegerBuilder::new(name, description)
            .min_value(min)
            .max_value(max)
            .build()
    };
    CommandBuilder::new(
        "datetime",
        "Get discord markdown for the date specified.",
        CommandType::ChatInput,
    )
    .option(range("year", "Year (default: now)", 1970, 9999))
    .option(range("month", "Month (default: now)", 1, 12))
    .option(range("day", "Day (default: now)", 1, 31))
    .option(range("hour", "Hour (default 0)", 0, 23))
    .option(range("minute", "Minute (default 0)", 0, 59))
    .option(range("second", "Second (default 0)", 0, 59))
    .option(
        StringBuilder::new("timezone", "IANA time zone (default US/Eastern)").autocomplete(true),
    )
    .build()
}

fn holyimage() -> Command {
    CommandBuilder::new(
        "holyimage",
        "Retrieves a holy image from http://alttp.mymm1.com/holyimage/",
        CommandType::ChatInput,
    )
    .option(
        StringBuilder::new("slug", "The holy image (slug, alias or number).")
            .required(true)
            .autocomplete(true),
    )
    .option(
        StringBuilder::new("game", "The game (default: this server's, or z3r).").autocomplete(true),
    )
    .build()
}

fn config() -> Command {
    let key = || {
        StringBuilder::new("key", "The setting.")
            .required(true)
            .choices(Key::ALL.map(|k| (k.name(), k.name())))
    };
    CommandBuilder::new(
        "config",
        "View or change this server's SahasrahBot settings.",
        CommandType::ChatInput,
    )
    .contexts([InteractionContextType::Guild])
    .default_member_permissions(Permissions::MANAGE_GUILD)
    .option(SubCommandBuilder::new("view", "Show every setting."))
    .option(
        SubCommandBuilder::new("set", "Change a setting.")
            .option(key())
            .option(StringBuilder::new("value", "The new value.").required(true)),
    )
    .option(SubCommandBuilder::new("clear", "Remove a setting.").option(key()))
    .build()
}

/// The commands registered everywhere the bot is.
pub fn global_commands() -> Vec<Command> {
    let mut commands = vec![
        alttpr(),
        alttprutils(),
        z2r(),
        datetime(),
        config(),
        holyimage(),
    ];
    commands.extend(sm_family());
    commands.extend(sm_web_randomizers());
    commands.push(
        CommandBuilder::new(
            "dailygame",
            "Returns the current daily game from alttpr.com.",
            CommandType::ChatInput,
        )
        .build(),
    );
    commands
}

/// The community commands (`/welcome`, `/rom`, `/sgdaily`), registered only in the configured
/// community guilds.
pub fn community_commands() -> Vec<Command> {
    vec![
        CommandBuilder::new(
            "welcome",
            "Welcome messages for various languages.",
            CommandType::ChatInput,
        )
        .option(
            StringBuilder::new("language", "Choose a language for the welcome message.")
                .required(true)
                .choices(crate::misc::WELCOME_LANGUAGES.map(|l| (l, l))),
        )
        .build(),
        CommandBuilder::new(
            "rom",
            "Get info about how to verify a ROM.",
            CommandType::ChatInput,
        )
        .build(),
        CommandBuilder::new(
            "sgdaily",
            "Retrieves the next SG daily race.",
            CommandType::ChatInput,
        )
        .option(
            IntegerBuilder::new("number_of_days", "How many days to show (default 1).")
                .min_value(1)
                .max_value(8),
        )
        .build(),
    ]
}

/// Registers the commands by bulk overwrite: globally, or in each `command_guilds` guild when
/// configured; community commands go to each community guild.
///
/// Errors: Discord refused a registration (a bad token or application id).
pub async fn register(discord: &Discord, settings: &DiscordSettings) -> anyhow::Result<()> {
    let client = discord.http.interaction(discord.application_id);
    let global = global_commands();
    if settings.command_guilds.is_empty() {
        client.set_global_commands(&global).await?;
    }
    let mut guilds: Vec<u64> = settings.command_guilds.clone();
    guilds.extend(&settings.community_guilds);
    guilds.sort_unstable();
    guilds.dedup();
    for guild in guilds {
        let Some(guild_id) = Id::new_checked(guild) else {
            continue;
        };
        let mut commands = Vec::new();
        if settings.command_guilds.contains(&guild) {
            commands.extend(global.iter().cloned());
        }
        if settings.community_guilds.contains(&guild) {
            commands.extend(community_commands());
        }
        client.set_guild_commands(guild_id, &commands).await?;
    }
    tracing::info!(
        global = settings.command_guilds.is_empty(),
        commands = global.len(),
        "application commands registered"
    );
    Ok(())
}
