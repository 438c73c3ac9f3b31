//! Chat commands: a pure parser and a pure planner (no I/O), per category handler, following
//! the upstream bot's command sets and strings (spec Part 2). The room actor executes the
//! [`Plan`] this module returns.
//!
//! Deliberate differences from upstream (spec BUGs/RECs): arguments are split on any
//! whitespace, command names match case-insensitively, an unknown preset or a refused command
//! gets a plain message (never `Command raised exception: …`), the alttpr intro button can turn
//! quickswap off, `ct-jets` marks the room rolled, and an unknown command says so.

use std::collections::BTreeMap;
use std::sync::Arc;

pub use racetime_client::EntrantStatus;

/// Strings shared by every seed command.
pub const DONE: &str = "Seed rolling complete.  See race info for details.";
/// `!race` without a preset.
pub const NO_PRESET: &str = "You must specify a preset!";
/// A roll in a room that already has a seed.
pub const ALREADY_ROLLED: &str =
    "I already rolled a seed!  Use !cancel to clear the currently rolled game.";
/// A roll by someone else in a locked room.
pub const LOCKED: &str = "Seed rolling is locked in this room.  Only the creator of this room, a race monitor, or a moderator can roll.";
/// `!cancel`: the room may roll again.
pub const RESET: &str = "Reseting bot state.  You may now roll a new game.";
/// Texts that name the people who run this bot and their documentation: from configuration
/// (upstream hard-coded its author and site), neutral when not configured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OperatorTexts {
    /// Who to contact when a roll hangs, e.g. `the bot's operators` or `@admin in #help`.
    pub contact: String,
    /// The racetime.gg command documentation; `None`: no link is posted.
    pub docs_url: Option<String>,
}

impl Default for OperatorTexts {
    fn default() -> Self {
        Self {
            contact: "the bot's operators".to_owned(),
            docs_url: None,
        }
    }
}

impl OperatorTexts {
    /// Said when a roll starts.
    pub fn generating(&self) -> String {
        format!(
            "Generating game, please wait.  If nothing happens after a minute, contact {}.",
            self.contact
        )
    }

    /// The room greeting.
    pub fn intro(&self) -> String {
        format!(
            "Hi!  I'm SahasrahBot, your friendly robotic elder and randomizer seed roller! Use !help to see what I can do!{}",
            self.more_info("")
        )
    }

    /// "  Check out <docs><anchor> for more info." or nothing.
    pub fn more_info(&self, anchor: &str) -> String {
        self.docs_url
            .as_deref()
            .map(|url| format!("  Check out {url}{anchor} for more info."))
            .unwrap_or_default()
    }

    /// Where the presets are listed, for the roll button's help text.
    pub fn preset_help(&self) -> String {
        match &self.docs_url {
            Some(url) => {
                format!("The preset to use for the game.  See {url} for a list of presets.")
            }
            None => "The preset to use for the game.".to_owned(),
        }
    }
}

/// Which command set a category uses (configurable per category; defaults to its slug).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandlerKind {
    /// ALTTPR: presets, mystery, spoiler races.
    Alttpr,
    /// alttpr plus `!test` (development category).
    Test,
    /// SMZ3 (samus.link), with multiworld.
    Smz3,
    /// Super Metroid Randomizer community: total, VARIA, DASH, multiworld.
    Smr,
    /// Super Metroid: bingo cards.
    Sm,
    /// The Legend of Zelda Randomizer (rolled locally).
    Z1r,
    /// Zelda II Randomizer (rolled locally).
    Z2r,
    /// Super Mario Bros. 3 Randomizer (rolled locally).
    Smb3r,
    /// Final Fantasy Randomizer (a finalfantasyrandomizer.com URL).
    Ff1r,
    /// Chrono Trigger: Jets of Time.
    CtJets,
    /// The Wind Waker Randomizer: KONOT series.
    Twwr,
    /// Contra: no commands.
    Contra,
    /// SMW hacks: no commands.
    SmwHacks,
    /// SpeedGaming Live: the core commands are no-ops.
    Sgl,
}

impl HandlerKind {
    /// The handler for a category slug or handler name; `None` if unknown.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "alttpr" => Self::Alttpr,
            "test" => Self::Test,
            "smz3" => Self::Smz3,
            "smr" => Self::Smr,
            "sm" => Self::Sm,
            "z1r" => Self::Z1r,
            "z2r" => Self::Z2r,
            "smb3r" => Self::Smb3r,
            "ff1r" => Self::Ff1r,
            "ct-jets" | "ctjets" => Self::CtJets,
            "twwr" => Self::Twwr,
            "contra" => Self::Contra,
            "smw-hacks" | "smwhacks" => Self::SmwHacks,
            "sgl" => Self::Sgl,
            _ => return None,
        })
    }

    fn is_alttpr(self) -> bool {
        matches!(self, Self::Alttpr | Self::Test)
    }

    /// The greeting for a room this bot did not open, if the category has one.
    pub fn intro(self, texts: &OperatorTexts) -> Option<Intro> {
        match self {
            Self::Alttpr | Self::Test => Some(Intro {
                text: texts.intro(),
                with_roll_button: true,
            }),
            Self::Twwr => Some(Intro {
                text: "Greetings!  To start a KONOT race, use !konot.".into(),
                with_roll_button: false,
            }),
            Self::Contra | Self::SmwHacks | Self::Sgl => None,
            _ => Some(Intro {
                text: texts.intro(),
                with_roll_button: false,
            }),
        }
    }

    /// alttpr hides comments when the countdown starts.
    pub fn hides_comments_on_pending(self) -> bool {
        self.is_alttpr()
    }
}

/// The intro message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Intro {
    /// The greeting.
    pub text: String,
    /// alttpr: the "Roll a Game" survey button.
    pub with_roll_button: bool,
}

/// A flag value from `--k=v`, `--k`, `--no-k`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Flag {
    /// `--k` (true) or `--no-k` (false).
    Bool(bool),
    /// `--k=v`.
    Text(String),
}

/// A parsed chat command.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Invocation {
    /// Lower-cased, without the prefix.
    pub name: String,
    /// Every argument after the name, case kept.
    pub args: Vec<String>,
    /// Arguments that are not flags.
    pub positional: Vec<String>,
    /// `--flags`, by lower-cased name.
    pub flags: BTreeMap<String, Flag>,
}

impl Invocation {
    fn flag_bool(&self, name: &str, default: bool) -> bool {
        match self.flags.get(name) {
            Some(Flag::Bool(b)) => *b,
            Some(Flag::Text(t)) => !matches!(
                t.to_ascii_lowercase().as_str(),
                "false" | "0" | "no" | "off"
            ),
            None => default,
        }
    }

    fn flag_text(&self, name: &str) -> Option<&str> {
        match self.flags.get(name) {
            Some(Flag::Text(t)) if !t.is_empty() => Some(t),
            _ => None,
        }
    }
}

/// Parses `!name args...`; `None` when the text is not a command.
pub fn parse(text: &str, prefix: &str) -> Option<Invocation> {
    let mut words = text.split_whitespace();
    let name = words.next()?.strip_prefix(prefix)?.to_lowercase();
    if name.is_empty() {
        return None;
    }
    let args: Vec<String> = words.map(str::to_string).collect();
    let mut invocation = Invocation {
        name,
        args: args.clone(),
        ..Invocation::default()
    };
    for arg in args {
        if let Some(flag) = arg.strip_prefix("--") {
            match flag.split_once('=') {
                Some((key, value)) => {
                    let value = match value.to_ascii_lowercase().as_str() {
                        "true" => Flag::Bool(true),
                        "false" => Flag::Bool(false),
                        _ => Flag::Text(value.to_string()),
                    };
                    invocation.flags.insert(key.to_string(), value);
                }
                None => match flag.strip_prefix("no-") {
                    Some(key) => {
                        invocation.flags.insert(key.to_string(), Flag::Bool(false));
                    }
                    None => {
                        invocation.flags.insert(flag.to_string(), Flag::Bool(true));
                    }
                },
            }
        } else if let Some(flag) = arg
            .strip_prefix('-')
            .filter(|f| !f.is_empty() && f.parse::<f64>().is_err())
        {
            invocation.flags.insert(flag.to_string(), Flag::Bool(true));
        } else {
            invocation.positional.push(arg);
        }
    }
    Some(invocation)
}

/// What the planner knows about the room and the sender.
#[derive(Clone, Debug, Default)]
pub struct Context {
    /// The sender is a race monitor (or can moderate the category).
    pub is_monitor: bool,
    /// The sender's entrant status in this room (`ready`, `in_progress`, ...), if any.
    pub entrant_status: Option<EntrantStatus>,
    /// The room already has a seed.
    pub seed_rolled: bool,
    /// Seed rolling is locked.
    pub locked: bool,
    /// The race is a team race.
    pub team_race: bool,
    /// Team name → entrant names (team races).
    pub teams: BTreeMap<String, Vec<String>>,
    /// The sender's racetime.gg name.
    pub sender_name: String,
    /// The operator's contact and documentation.
    pub texts: Arc<OperatorTexts>,
}

/// How the rolled seed is shown (info_bot and chat).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SeedFormat {
    /// `{label} - {url} - ({code joined by /})`; a spoiler race prefixes `spoiler `.
    Alttpr {
        /// The preset name shown.
        label: String,
    },
    /// Mystery: optional instructions first.
    Mystery {
        /// The weightset name.
        weightset: String,
    },
    /// `{label} - {url} - ({code joined by space})`.
    Smz3 {
        /// The preset name shown.
        label: String,
    },
    /// `SM Total Randomizer - {preset} - {url} - ({code})`.
    SmTotal {
        /// The preset.
        preset: String,
    },
    /// `{settings} / {skills} - {url}`.
    Varia {
        /// The settings preset.
        settings: String,
        /// The skills preset.
        skills: String,
    },
    /// `SM Dash Randomizer - {url}`.
    Dash,
    /// z1r `!race`: chat `{preset} - Flags: {flags} Seed: {seed}`, info `Flags: {flags} Seed: {seed}`.
    Z1rPreset {
        /// The preset.
        preset: String,
    },
    /// `Seed: {seed} - Flags: {flags}` (+ ` - {description}` for z2r mrb) to info and chat.
    SeedFlags,
    /// The permalink itself, to info and chat (ff1r, ct-jets).
    Url,
}

/// A spoiler race.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpoilerPlan {
    /// Study time in seconds; `None` = the preset's (or 900).
    pub study_time: Option<u32>,
    /// A progression spoiler (no study time).
    pub progression: bool,
}

/// A seed to roll through SeedGen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RollPlan {
    /// seedgen randomizer name, e.g. `alttpr`.
    pub randomizer: String,
    /// Preset (or flags, or URL) to roll.
    pub preset: String,
    /// Quickswap allowed.
    pub allow_quickswap: bool,
    /// Randomizer branch, when chosen.
    pub branch: Option<String>,
    /// Hints on.
    pub hints: bool,
    /// alttpr.com path prefix (e.g. a seasonal endpoint); empty normally.
    pub endpoint_prefix: String,
    /// A spoiler race, with its study time.
    pub spoiler: Option<SpoilerPlan>,
    /// How the seed is shown.
    pub format: SeedFormat,
    /// Multiworld: team name → player names; one seed per team.
    pub teams: Option<BTreeMap<String, Vec<String>>>,
    /// A fixed RNG seed (`!test` rolls), else random.
    pub rng_seed: Option<u64>,
    /// Extra lines after the seed (e.g. choozo's escape reminder).
    pub after: Vec<String>,
}

/// What a command does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Plan {
    /// Nothing (not a command of this category, or a no-op command).
    Ignore,
    /// Post these lines.
    Reply(Vec<String>),
    /// `!lock`: only monitors may roll.
    Lock,
    /// `!unlock`.
    Unlock,
    /// Clear the rolled seed (and a scheduled spoiler race).
    Cancel,
    /// Roll a seed.
    Roll(Box<RollPlan>),
    /// Published for the tournament service.
    TournamentRace,
    /// `!konot`: start a KONOT series.
    Konot,
    /// `!promote`: make the sender a monitor.
    Promote,
    /// `!override`: lift the stream requirement for the sender.
    Override,
    /// `!bingo` (sm): roll a bingo card when the race starts.
    Bingo,
    /// `!test [seconds]` (test category).
    Test {
        /// How long to wait, in seconds.
        seconds: u64,
    },
}

fn reply(line: impl Into<String>) -> Plan {
    Plan::Reply(vec![line.into()])
}

fn roll(randomizer: &str, preset: &str, format: SeedFormat) -> RollPlan {
    RollPlan {
        randomizer: randomizer.into(),
        preset: preset.into(),
        allow_quickswap: true,
        branch: None,
        hints: false,
        endpoint_prefix: String::new(),
        spoiler: None,
        format,
        teams: None,
        rng_seed: None,
        after: Vec::new(),
    }
}

/// `!spoiler` study time: a number of seconds, or a plain message.
fn study_time(arg: Option<&String>) -> Result<Option<u32>, Plan> {
    match arg {
        None => Ok(None),
        Some(text) => text.parse::<u32>().map(Some).map_err(|_| {
            reply(format!(
                "The study time must be a whole number of seconds, not `{text}`."
            ))
        }),
    }
}

fn help(kind: HandlerKind, texts: &OperatorTexts) -> Option<String> {
    Some(match kind {
        HandlerKind::Alttpr | HandlerKind::Test => {
            "Available commands:\n\"!race <preset>\" to generate a race preset.\n\"!mystery <weightset>\" to generate a mystery game.\n\"!spoiler <preset>\" to generate a spoiler race.".to_owned() + &texts.more_info("")
        }
        HandlerKind::Smz3 => {
            "Available commands:\n\"!race <preset>, !multiworld <preset>\" to generate a race preset.".to_owned() + &texts.more_info("#smz3-commands")
        }
        HandlerKind::Smr => {
            "Available commands:\n\"!total <preset>, !varia <settings> <skills>, !dash [--spoiler] <preset>, !multiworld <preset>\" to generate a seed.".to_owned() + &texts.more_info("")
        }
        HandlerKind::Z1r => {
            "Available commands:\n\"!race <preset>\" or \"!flags <flagstring>\" to generate a seed.".to_owned() + &texts.more_info("#the-legend-of-zelda-randomizer-z1r")
        }
        HandlerKind::Z2r => {
            "Available commands:\n\"!flags <flags>\" to generate a seed.".to_owned() + &texts.more_info("#zelda-2-randomizer-z2r")
        }
        HandlerKind::Smb3r => {
            "Available commands:\n\"!flags <flags>\" to generate a seed.".to_owned() + &texts.more_info("#super-mario-bros-3-randomizer-smb3r")
        }
        HandlerKind::Ff1r => {
            "Available commands:\n\"!ff1url <url>\" to generate seed.".to_owned() + &texts.more_info("#final-fantasy-randomizer-ff1r")
        }
        HandlerKind::CtJets => "Available commands:\n\"!preset <preset>\" to generate a seed.".to_owned(),
        HandlerKind::Twwr => "To start a KONOT race, use !konot.".to_owned(),
        HandlerKind::Contra | HandlerKind::SmwHacks => "I have no commands for this category.".to_owned(),
        HandlerKind::Sm => {
            "Available commands:\n\"!bingo\" to roll a bingo card when the race starts.".to_owned()
        }
        HandlerKind::Sgl => return None,
    })
}

/// Z1R presets that have their own command (`!ttp4rp` = `!race ttp4rp`).
const Z1R_SHORTCUTS: [&str; 3] = ["ttp4rp", "ttp4hopla", "ttp4consternation"];
/// Z2R presets that have their own command.
const Z2R_SHORTCUTS: [&str; 9] = [
    "maxrando", "groups1", "groups2", "groups3", "groups4", "brackets", "nit", "sgl4", "sgl",
];

/// Plans a command. `pick` chooses among equal options (e.g. `!ttp4`); tests pass a fixed one.
pub fn plan(
    kind: HandlerKind,
    inv: &Invocation,
    ctx: &Context,
    pick: &mut dyn FnMut(usize) -> usize,
) -> Plan {
    let monitor_only = |plan: Plan| {
        if ctx.is_monitor {
            plan
        } else {
            reply(format!(
                "Sorry {}, only race monitors can do that.",
                ctx.sender_name
            ))
        }
    };
    // Commands every category shares (sgl turns several into no-ops).
    let sgl = kind == HandlerKind::Sgl;
    match inv.name.as_str() {
        "help" => return help(kind, &ctx.texts).map_or(Plan::Ignore, reply),
        "lock" if !sgl => return monitor_only(Plan::Lock),
        "unlock" if !sgl => return monitor_only(Plan::Unlock),
        "cancel" if !sgl => {
            return if kind.is_alttpr() {
                monitor_only(Plan::Cancel)
            } else {
                Plan::Cancel
            };
        }
        "tournamentrace" if !sgl => {
            if let Some(refusal) = locked(ctx) {
                return refusal;
            }
            let entrant = ctx
                .entrant_status
                .as_ref()
                .is_some_and(EntrantStatus::is_racing);
            return if ctx.is_monitor || entrant {
                Plan::TournamentRace
            } else {
                reply("Only entrants or race monitors may roll a tournament seed.")
            };
        }
        "lock" | "unlock" | "cancel" | "tournamentrace" => return Plan::Ignore,
        "konot" => return Plan::Konot,
        "promote" => return Plan::Promote,
        "override" => return Plan::Override,
        _ => {}
    }
    let category_plan = match kind {
        HandlerKind::Alttpr | HandlerKind::Test => alttpr(kind, inv),
        HandlerKind::Smz3 => smz3(inv, ctx),
        HandlerKind::Smr => smr(inv, ctx, pick),
        HandlerKind::Sm => match inv.name.as_str() {
            "bingo" => Some(Plan::Bingo),
            _ => None,
        },
        HandlerKind::Z1r => z1r(inv, pick),
        HandlerKind::Z2r => z2r(inv),
        HandlerKind::Smb3r => match inv.name.as_str() {
            "flags" => Some(match inv.positional.first() {
                None => reply("You must specify a set of flags!"),
                Some(flags) => Plan::Roll(Box::new(roll("smb3r", flags, SeedFormat::SeedFlags))),
            }),
            _ => None,
        },
        HandlerKind::Ff1r => match inv.name.as_str() {
            "ff1url" => Some(match inv.positional.first() {
                None => reply("You must specify a FF1R URL with the flags!"),
                Some(url) => Plan::Roll(Box::new(roll("ff1r", url, SeedFormat::Url))),
            }),
            _ => None,
        },
        HandlerKind::CtJets => match inv.name.as_str() {
            "preset" => Some(match inv.positional.first() {
                None => reply(NO_PRESET),
                Some(preset) => Plan::Roll(Box::new(roll("ctjets", preset, SeedFormat::Url))),
            }),
            _ => None,
        },
        HandlerKind::Twwr | HandlerKind::Contra | HandlerKind::SmwHacks | HandlerKind::Sgl => None,
    };
    match category_plan {
        Some(Plan::Roll(roll)) => locked(ctx).unwrap_or(Plan::Roll(roll)),
        Some(plan) => plan,
        None if sgl => Plan::Ignore,
        None => reply(format!(
            "I don't know the command !{}.  Use !help to see what I can do.",
            inv.name
        )),
    }
}

/// The `is_locked` check of every roll.
fn locked(ctx: &Context) -> Option<Plan> {
    if ctx.seed_rolled {
        return Some(reply(ALREADY_ROLLED));
    }
    if ctx.locked && !ctx.is_monitor {
        return Some(reply(LOCKED));
    }
    None
}

fn alttpr(kind: HandlerKind, inv: &Invocation) -> Option<Plan> {
    let first = inv.positional.first();
    let alttpr_roll = |preset: &str, label: &str| {
        roll(
            "alttpr",
            preset,
            SeedFormat::Alttpr {
                label: label.into(),
            },
        )
    };
    Some(match inv.name.as_str() {
        "race" | "preset" | "noqsrace" => {
            let Some(preset) = first else {
                return Some(reply(NO_PRESET));
            };
            let mut plan = alttpr_roll(preset, preset);
            plan.allow_quickswap = inv.name != "noqsrace";
            plan.branch = inv.positional.get(1).cloned();
            Plan::Roll(Box::new(plan))
        }
        "newrace" => {
            let Some(preset) = inv
                .flag_text("preset")
                .map(str::to_string)
                .or_else(|| first.cloned())
            else {
                return Some(reply(NO_PRESET));
            };
            let mut plan = alttpr_roll(&preset, &preset);
            plan.allow_quickswap = inv.flag_bool("quickswap", true);
            plan.branch = inv
                .flag_text("branch")
                .map(str::to_string)
                .or_else(|| inv.positional.get(1).cloned());
            plan.hints = inv.flag_bool("hints", false);
            if inv.flag_bool("festive", false) {
                plan.endpoint_prefix = "/festive".into();
            }
            if inv.flag_bool("spoiler_race", false) {
                let countdown = match inv.flags.get("countdown") {
                    Some(Flag::Text(t)) => match t.parse::<u32>() {
                        Ok(s) => Some(s),
                        Err(_) => {
                            return Some(reply(format!(
                                "The countdown must be a whole number of seconds, not `{t}`."
                            )));
                        }
                    },
                    _ => Some(900),
                };
                plan.spoiler = Some(SpoilerPlan {
                    study_time: countdown,
                    progression: false,
                });
            }
            Plan::Roll(Box::new(plan))
        }
        "spoiler" | "tournamentspoiler" | "progression" => {
            let Some(preset) = first else {
                return Some(reply(NO_PRESET));
            };
            let mut plan = alttpr_roll(preset, preset);
            let progression = inv.name == "progression";
            let study = if progression {
                Some(0)
            } else {
                match study_time(inv.positional.get(1)) {
                    Ok(s) => s,
                    Err(refusal) => return Some(refusal),
                }
            };
            if inv.name == "tournamentspoiler" {
                plan.branch = Some("tournament".into());
            }
            plan.spoiler = Some(SpoilerPlan {
                study_time: study,
                progression,
            });
            Plan::Roll(Box::new(plan))
        }
        "mystery" => {
            let weightset = first.cloned().unwrap_or_else(|| "weighted".into());
            Plan::Roll(Box::new(roll(
                "alttprmystery",
                &weightset,
                SeedFormat::Mystery {
                    weightset: weightset.clone(),
                },
            )))
        }
        "register" => reply("Lazy Kid ain't got nothing compared to me."),
        "vt" => reply(
            "You summon Veetorp, he looks around confused and curses your next game with bad (CS)PRNG.",
        ),
        "synack" => reply("You need to be more creative."),
        "test" if kind == HandlerKind::Test => match first.map(|s| s.parse::<u64>()) {
            None => Plan::Test { seconds: 30 },
            Some(Ok(seconds)) => Plan::Test { seconds },
            Some(Err(_)) => reply("Invalid number of seconds"),
        },
        _ => return None,
    })
}

fn multiworld(randomizer: &str, inv: &Invocation, ctx: &Context, preset: String) -> Plan {
    let rng_seed = match inv.positional.get(1) {
        None => None,
        Some(text) => match text.parse::<u64>() {
            Ok(n) if n <= 2_147_483_647 => Some(n),
            _ => return reply("Seed number must be between 0 and 2147483647"),
        },
    };
    if !ctx.team_race {
        return reply("This must be a team race.");
    }
    if ctx.teams.is_empty() {
        return reply("Nobody has joined a team yet.");
    }
    let sizes: Vec<usize> = ctx.teams.values().map(Vec::len).collect();
    if sizes.iter().any(|s| *s != sizes[0]) {
        return reply("Teams are unequal in size.");
    }
    let mut plan = roll(
        randomizer,
        &preset,
        SeedFormat::Smz3 {
            label: preset.clone(),
        },
    );
    plan.teams = Some(ctx.teams.clone());
    plan.rng_seed = rng_seed;
    Plan::Roll(Box::new(plan))
}

fn smz3(inv: &Invocation, ctx: &Context) -> Option<Plan> {
    let first = inv.positional.first();
    Some(match inv.name.as_str() {
        "race" | "preset" => match first {
            None => reply(NO_PRESET),
            Some(p) => Plan::Roll(Box::new(roll(
                "smz3",
                p,
                SeedFormat::Smz3 { label: p.clone() },
            ))),
        },
        "spoiler" => match first {
            None => reply(NO_PRESET),
            Some(p) => {
                let mut plan = roll("smz3", p, SeedFormat::Smz3 { label: p.clone() });
                plan.spoiler = match study_time(inv.positional.get(1)) {
                    Ok(s) => Some(SpoilerPlan {
                        study_time: Some(s.unwrap_or(1500)),
                        progression: false,
                    }),
                    Err(refusal) => return Some(refusal),
                };
                Plan::Roll(Box::new(plan))
            }
        },
        "multiworld" => match first {
            None => reply(NO_PRESET),
            Some(p) => multiworld("smz3", inv, ctx, p.clone()),
        },
        _ => return None,
    })
}

fn smr(inv: &Invocation, ctx: &Context, pick: &mut dyn FnMut(usize) -> usize) -> Option<Plan> {
    let first = inv.positional.first();
    Some(match inv.name.as_str() {
        "totalrace" | "total" => match first {
            None => reply(NO_PRESET),
            Some(p) => Plan::Roll(Box::new(roll(
                "sm",
                p,
                SeedFormat::SmTotal { preset: p.clone() },
            ))),
        },
        "varia" | "smvaria" | "variarace" => {
            match (inv.positional.first(), inv.positional.get(1)) {
                (Some(settings), Some(skills)) => Plan::Roll(Box::new(roll(
                    "smvaria",
                    &format!("{skills}/{settings}"),
                    SeedFormat::Varia {
                        settings: settings.clone(),
                        skills: skills.clone(),
                    },
                ))),
                _ => reply("You must specify setting and skill presets!"),
            }
        }
        "dash" | "smdash" | "dashrace" => {
            let spoiler = inv.flag_bool("spoiler", false);
            match inv.positional.as_slice() {
                [preset] => {
                    let mut plan = roll("smdash", preset, SeedFormat::Dash);
                    if spoiler {
                        plan.spoiler = Some(SpoilerPlan {
                            study_time: Some(0),
                            progression: false,
                        });
                    }
                    Plan::Roll(Box::new(plan))
                }
                _ => Plan::Reply(vec![
                    "Usage: !dash [--spoiler] <preset>".into(),
                    "Available presets: classic, recall, standard, mm, survival, chaos".into(),
                ]),
            }
        }
        "multiworld" => match first {
            None => reply(NO_PRESET),
            Some(p) => {
                let preset = if p == "tournament" {
                    ["tournament_split", "tournament_full"][pick(2)].to_string()
                } else {
                    p.clone()
                };
                multiworld("sm", inv, ctx, preset)
            }
        },
        "choozorace" | "smleagueplayoff" => reply(format!(
            "!{} needs the Choozo/league endpoints of VARIA, which this bot does not roll yet; use !varia <settings> <skills> or !total <preset>.",
            inv.name
        )),
        _ => return None,
    })
}

fn z1r(inv: &Invocation, pick: &mut dyn FnMut(usize) -> usize) -> Option<Plan> {
    let preset_roll = |preset: &str| {
        Plan::Roll(Box::new(roll(
            "z1r",
            preset,
            SeedFormat::Z1rPreset {
                preset: preset.into(),
            },
        )))
    };
    Some(match inv.name.as_str() {
        "flags" => match inv.positional.first() {
            None => reply("You must specify a set of flags!"),
            Some(flags) => Plan::Roll(Box::new(roll(
                "z1r",
                &format!("flags:{flags}"),
                SeedFormat::SeedFlags,
            ))),
        },
        "race" => match inv.positional.first() {
            None => reply("No preset specified."),
            Some(preset) => preset_roll(preset),
        },
        "ttp4" => preset_roll(Z1R_SHORTCUTS[pick(Z1R_SHORTCUTS.len())]),
        name if Z1R_SHORTCUTS.contains(&name) => preset_roll(name),
        _ => return None,
    })
}

fn z2r(inv: &Invocation) -> Option<Plan> {
    Some(match inv.name.as_str() {
        "flags" => match inv.positional.first() {
            None => reply("You must specify a set of flags!"),
            Some(flags) => Plan::Roll(Box::new(roll(
                "z2r",
                &format!("flags:{flags}"),
                SeedFormat::SeedFlags,
            ))),
        },
        "mrb" => Plan::Roll(Box::new(roll("z2r", "mrb", SeedFormat::SeedFlags))),
        name if Z2R_SHORTCUTS.contains(&name) => {
            Plan::Roll(Box::new(roll("z2r", name, SeedFormat::SeedFlags)))
        }
        _ => return None,
    })
}

/// Spoiler study reminders, in seconds remaining.
pub const REMINDERS: [u32; 19] = [
    1800, 1500, 1200, 900, 600, 300, 120, 60, 30, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1,
];

/// The reminder text for `remaining` seconds.
pub fn reminder_text(remaining: u32) -> String {
    let (minutes, seconds) = (remaining / 60, remaining % 60);
    if minutes == 0 {
        format!("{seconds} second(s) remain!")
    } else {
        format!("{minutes} minute(s), {seconds} seconds remain!")
    }
}

#[cfg(test)]
mod tests;
