use super::*;

fn ctx() -> Context {
    Context {
        sender_name: "Alice".into(),
        ..Context::default()
    }
}

fn run(kind: HandlerKind, text: &str, ctx: &Context) -> Plan {
    let inv = parse(text, "!").expect("a command");
    plan(kind, &inv, ctx, &mut |_| 0)
}

fn rolled(plan: Plan) -> RollPlan {
    match plan {
        Plan::Roll(roll) => *roll,
        other => panic!("expected a roll, got {other:?}"),
    }
}

#[test]
fn parser_splits_on_whitespace_and_reads_flags() {
    let inv = parse(
        "!NewRace  --preset=Open --no-quickswap --hints -x --countdown=60 --branch=beeta extra",
        "!",
    )
    .unwrap();
    assert_eq!(inv.name, "newrace");
    assert_eq!(inv.positional, vec!["extra".to_string()]);
    assert_eq!(inv.flags["preset"], Flag::Text("Open".into()));
    assert_eq!(inv.flags["quickswap"], Flag::Bool(false));
    assert_eq!(inv.flags["hints"], Flag::Bool(true));
    assert_eq!(inv.flags["x"], Flag::Bool(true));
    assert_eq!(inv.flags["countdown"], Flag::Text("60".into()));
    assert_eq!(parse("hello !race", "!"), None);
    assert_eq!(parse("!", "!"), None);
    assert_eq!(parse("   ", "!"), None);
    assert_eq!(parse("!race open", "?"), None);
}

#[test]
fn alttpr_race_commands() {
    let roll = rolled(run(HandlerKind::Alttpr, "!race open", &ctx()));
    assert_eq!(
        (
            roll.randomizer.as_str(),
            roll.preset.as_str(),
            roll.allow_quickswap
        ),
        ("alttpr", "open", true)
    );
    assert_eq!(
        roll.format,
        SeedFormat::Alttpr {
            label: "open".into()
        }
    );
    assert!(!rolled(run(HandlerKind::Alttpr, "!noqsrace open beeta", &ctx())).allow_quickswap);
    assert_eq!(
        rolled(run(HandlerKind::Alttpr, "!noqsrace open beeta", &ctx()))
            .branch
            .as_deref(),
        Some("beeta")
    );
    assert_eq!(
        run(HandlerKind::Alttpr, "!race", &ctx()),
        Plan::Reply(vec![NO_PRESET.into()])
    );
    // The intro button's line, quickswap unchecked (upstream could never turn it off).
    let button = rolled(run(
        HandlerKind::Alttpr,
        "!newrace --preset=standard   --spoiler_race --countdown=600 --branch=live --no-quickswap",
        &ctx(),
    ));
    assert!(!button.allow_quickswap);
    assert_eq!(
        button.spoiler,
        Some(SpoilerPlan {
            study_time: Some(600),
            progression: false
        })
    );
    let plain = rolled(run(
        HandlerKind::Alttpr,
        "!newrace --preset=standard  --countdown=900 --branch=live",
        &ctx(),
    ));
    assert_eq!(plain.spoiler, None);
    assert!(plain.allow_quickswap);
    assert_eq!(
        rolled(run(HandlerKind::Alttpr, "!newrace open --festive", &ctx())).endpoint_prefix,
        "/festive"
    );
    let spoiler = rolled(run(HandlerKind::Alttpr, "!spoiler open 1200", &ctx()));
    assert_eq!(
        spoiler.spoiler,
        Some(SpoilerPlan {
            study_time: Some(1200),
            progression: false
        })
    );
    assert_eq!(
        rolled(run(HandlerKind::Alttpr, "!spoiler open", &ctx()))
            .spoiler
            .unwrap()
            .study_time,
        None
    );
    assert!(
        matches!(run(HandlerKind::Alttpr, "!spoiler open soon", &ctx()), Plan::Reply(lines) if lines[0].contains("whole number"))
    );
    assert_eq!(
        rolled(run(HandlerKind::Alttpr, "!tournamentspoiler open", &ctx()))
            .branch
            .as_deref(),
        Some("tournament")
    );
    let progression = rolled(run(HandlerKind::Alttpr, "!progression open", &ctx()));
    assert_eq!(
        progression.spoiler,
        Some(SpoilerPlan {
            study_time: Some(0),
            progression: true
        })
    );
    let mystery = rolled(run(HandlerKind::Alttpr, "!mystery", &ctx()));
    assert_eq!(
        (mystery.randomizer.as_str(), mystery.preset.as_str()),
        ("alttprmystery", "weighted")
    );
    assert_eq!(run(HandlerKind::Alttpr, "!vt", &ctx()), Plan::Reply(vec!["You summon Veetorp, he looks around confused and curses your next game with bad (CS)PRNG.".into()]));
}

#[test]
fn locks_permissions_and_rolled_rooms() {
    let mut c = ctx();
    c.seed_rolled = true;
    assert_eq!(
        run(HandlerKind::Alttpr, "!race open", &c),
        Plan::Reply(vec![ALREADY_ROLLED.into()])
    );
    c.seed_rolled = false;
    c.locked = true;
    assert_eq!(
        run(HandlerKind::Z1r, "!race rr2024", &c),
        Plan::Reply(vec![LOCKED.into()])
    );
    c.is_monitor = true;
    assert!(matches!(
        run(HandlerKind::Z1r, "!race rr2024", &c),
        Plan::Roll(_)
    ));
    let refused = Plan::Reply(vec!["Sorry Alice, only race monitors can do that.".into()]);
    assert_eq!(run(HandlerKind::Alttpr, "!lock", &ctx()), refused);
    assert_eq!(run(HandlerKind::Alttpr, "!cancel", &ctx()), refused);
    assert_eq!(run(HandlerKind::Smz3, "!cancel", &ctx()), Plan::Cancel);
    assert_eq!(run(HandlerKind::Alttpr, "!unlock", &c), Plan::Unlock);
    // Tournament rolls: monitors or entrants only.
    assert_eq!(
        run(HandlerKind::Alttpr, "!tournamentrace", &ctx()),
        Plan::Reply(vec![
            "Only entrants or race monitors may roll a tournament seed.".into()
        ])
    );
    let mut entrant = ctx();
    entrant.entrant_status = Some(EntrantStatus::NotReady);
    assert_eq!(
        run(HandlerKind::Alttpr, "!tournamentrace", &entrant),
        Plan::TournamentRace
    );
    entrant.entrant_status = Some(EntrantStatus::Invited);
    assert!(matches!(
        run(HandlerKind::Alttpr, "!tournamentrace", &entrant),
        Plan::Reply(_)
    ));
}

#[test]
fn sgl_turns_core_commands_into_no_ops() {
    for text in [
        "!help",
        "!lock",
        "!unlock",
        "!cancel",
        "!tournamentrace",
        "!whatever",
    ] {
        assert_eq!(run(HandlerKind::Sgl, text, &ctx()), Plan::Ignore, "{text}");
    }
    assert_eq!(run(HandlerKind::Sgl, "!konot", &ctx()), Plan::Konot);
    assert_eq!(
        run(HandlerKind::Contra, "!help", &ctx()),
        Plan::Reply(vec!["I have no commands for this category.".into()])
    );
    assert_eq!(
        run(HandlerKind::Twwr, "!help", &ctx()),
        Plan::Reply(vec!["To start a KONOT race, use !konot.".into()])
    );
    assert!(
        matches!(run(HandlerKind::Alttpr, "!frobnicate", &ctx()), Plan::Reply(lines) if lines[0].starts_with("I don't know the command !frobnicate."))
    );
}

#[test]
fn other_categories() {
    let z1r = rolled(run(HandlerKind::Z1r, "!flags ABC", &ctx()));
    assert_eq!(
        (z1r.preset.as_str(), z1r.format.clone()),
        ("flags:ABC", SeedFormat::SeedFlags)
    );
    assert_eq!(
        run(HandlerKind::Z1r, "!race", &ctx()),
        Plan::Reply(vec!["No preset specified.".into()])
    );
    assert_eq!(
        rolled(run(HandlerKind::Z1r, "!ttp4", &ctx())).preset,
        "ttp4rp"
    );
    assert_eq!(
        rolled(run(HandlerKind::Z1r, "!ttp4hopla", &ctx())).preset,
        "ttp4hopla"
    );
    assert_eq!(rolled(run(HandlerKind::Z2r, "!mrb", &ctx())).preset, "mrb");
    assert_eq!(
        rolled(run(HandlerKind::Z2r, "!groups3", &ctx())).preset,
        "groups3"
    );
    assert_eq!(
        run(HandlerKind::Z2r, "!flags", &ctx()),
        Plan::Reply(vec!["You must specify a set of flags!".into()])
    );
    assert_eq!(
        rolled(run(HandlerKind::Smb3r, "!flags 17BACKWARDS", &ctx())).preset,
        "17BACKWARDS"
    );
    assert_eq!(
        rolled(run(
            HandlerKind::Ff1r,
            "!ff1url https://finalfantasyrandomizer.com/?s=00000000&f=X",
            &ctx()
        ))
        .randomizer,
        "ff1r"
    );
    assert_eq!(
        run(HandlerKind::Ff1r, "!ff1url", &ctx()),
        Plan::Reply(vec!["You must specify a FF1R URL with the flags!".into()])
    );
    assert_eq!(
        rolled(run(HandlerKind::CtJets, "!preset race", &ctx())).randomizer,
        "ctjets"
    );
    assert_eq!(
        rolled(run(HandlerKind::Smz3, "!preset normal", &ctx())).randomizer,
        "smz3"
    );
    assert_eq!(
        rolled(run(HandlerKind::Smz3, "!spoiler normal", &ctx()))
            .spoiler
            .unwrap()
            .study_time,
        Some(1500)
    );
    let varia = rolled(run(HandlerKind::Smr, "!varia default regular", &ctx()));
    assert_eq!(
        (varia.randomizer.as_str(), varia.preset.as_str()),
        ("smvaria", "regular/default")
    );
    assert_eq!(
        run(HandlerKind::Smr, "!varia default", &ctx()),
        Plan::Reply(vec!["You must specify setting and skill presets!".into()])
    );
    assert!(
        matches!(run(HandlerKind::Smr, "!dash", &ctx()), Plan::Reply(lines) if lines[0] == "Usage: !dash [--spoiler] <preset>")
    );
    assert!(
        rolled(run(HandlerKind::Smr, "!dash --spoiler classic", &ctx()))
            .spoiler
            .is_some()
    );
    assert_eq!(
        rolled(run(HandlerKind::Smr, "!total tournament_full", &ctx())).randomizer,
        "sm"
    );
    assert_eq!(run(HandlerKind::Sm, "!bingo", &ctx()), Plan::Bingo);
    assert_eq!(
        run(HandlerKind::Test, "!test 5", &ctx()),
        Plan::Test { seconds: 5 }
    );
    assert_eq!(
        run(HandlerKind::Test, "!test x", &ctx()),
        Plan::Reply(vec!["Invalid number of seconds".into()])
    );
    assert!(
        matches!(run(HandlerKind::Alttpr, "!test 5", &ctx()), Plan::Reply(lines) if lines[0].starts_with("I don't know"))
    );
}

#[test]
fn multiworld_needs_even_teams() {
    let mut c = ctx();
    assert_eq!(
        run(HandlerKind::Smz3, "!multiworld normal", &c),
        Plan::Reply(vec!["This must be a team race.".into()])
    );
    c.team_race = true;
    c.teams.insert("A".into(), vec!["a1".into(), "a2".into()]);
    c.teams.insert("B".into(), vec!["b1".into()]);
    assert_eq!(
        run(HandlerKind::Smz3, "!multiworld normal", &c),
        Plan::Reply(vec!["Teams are unequal in size.".into()])
    );
    c.teams.insert("B".into(), vec!["b1".into(), "b2".into()]);
    let roll = rolled(run(HandlerKind::Smz3, "!multiworld normal 42", &c));
    assert_eq!(roll.teams.unwrap().len(), 2);
    assert_eq!(roll.rng_seed, Some(42));
    assert_eq!(
        run(HandlerKind::Smz3, "!multiworld normal 99999999999", &c),
        Plan::Reply(vec!["Seed number must be between 0 and 2147483647".into()])
    );
    assert_eq!(
        rolled(run(HandlerKind::Smr, "!multiworld tournament", &c)).preset,
        "tournament_split"
    );
}

#[test]
fn reminders_read_like_upstream() {
    assert_eq!(reminder_text(900), "15 minute(s), 0 seconds remain!");
    assert_eq!(reminder_text(90), "1 minute(s), 30 seconds remain!");
    assert_eq!(reminder_text(10), "10 second(s) remain!");
    assert!(REMINDERS.windows(2).all(|w| w[0] > w[1]));
}

#[test]
fn operator_texts_name_no_one_and_link_nothing_by_default() {
    let texts = OperatorTexts::default();
    assert_eq!(
        texts.generating(),
        "Generating game, please wait.  If nothing happens after a minute, contact the bot's operators."
    );
    assert!(!texts.intro().contains("http"), "{}", texts.intro());
    let Plan::Reply(help) = run(HandlerKind::Z1r, "!help", &ctx()) else {
        panic!()
    };
    assert!(!help[0].contains("Check out"), "{help:?}");
}

#[test]
fn configured_operator_texts_reach_the_intro_help_and_roll_button() {
    let texts = OperatorTexts {
        contact: "@admins in #bot-help".into(),
        docs_url: Some("https://bot.example.org/rtgg.html".into()),
    };
    assert!(
        texts
            .generating()
            .ends_with("contact @admins in #bot-help.")
    );
    assert!(
        texts
            .intro()
            .ends_with("  Check out https://bot.example.org/rtgg.html for more info.")
    );
    let context = Context {
        texts: Arc::new(texts),
        ..ctx()
    };
    let Plan::Reply(help) = run(HandlerKind::Z1r, "!help", &context) else {
        panic!()
    };
    assert!(
        help[0].ends_with("Check out https://bot.example.org/rtgg.html#the-legend-of-zelda-randomizer-z1r for more info."),
        "{help:?}"
    );
}
