//! Seed rolling in a room: roll once, resume after a restart, providers, every category's commands.

use super::*;

#[tokio::test]
async fn alttpr_room_rolls_once_and_a_restart_resumes_without_reposting() {
    let w = world().await;
    let alice = w.fake.add_user("Alice", &[]);
    // Unlisted rooms are found through the bot category endpoint (cached 60 s by racetime.gg,
    // so this one is opened before the bot's first look); the intro comes once.
    let room = w.fake.open_room("alttpr", &alice, "Beat the game", true);
    let (service, _client) = w.racetime().await;
    let lines = w
        .fake
        .wait_for_bot(&room, WAIT, |l| {
            l.iter().any(|m| m.starts_with("Hi!  I'm SahasrahBot"))
        })
        .await;
    let intro = w
        .fake
        .messages(&room)
        .into_iter()
        .find(|m| m.from_bot)
        .unwrap();
    assert!(
        intro.actions["Roll a Game"]["survey"].is_array(),
        "{:?}",
        intro.actions
    );
    assert_eq!(lines.len(), 1);

    // Two quick rolls: one seed, one refusal.
    w.fake.chat(&room, &alice, "!race open");
    w.fake.chat(&room, &alice, "!race open");
    let lines = w
        .fake
        .wait_for_bot(&room, WAIT, |l| {
            l.iter().any(|m| m.starts_with("I already rolled"))
        })
        .await;
    let url = lines
        .iter()
        .find(|l| l.contains("/h/HaShHaSh"))
        .expect("permalink posted")
        .clone();
    assert_eq!(
        count(&lines, "Seed rolling complete.  See race info for details."),
        1
    );
    assert_eq!(w.alttpr.received_requests().await.unwrap().len(), 1);
    let race = w.fake.race(&room);
    assert!(
        race["info_bot"]
            .as_str()
            .unwrap()
            .starts_with(&format!("open - {url} - (")),
        "{race}"
    );

    // Unknown commands and presets get plain messages.
    w.fake.chat(&room, &alice, "!frobnicate");
    w.fake
        .wait_for_bot(&room, WAIT, |l| {
            l.iter()
                .any(|m| m.starts_with("I don't know the command !frobnicate."))
        })
        .await;

    // Kill and restart: nothing is re-posted, the room stays rolled.
    let before = w.fake.bot_messages(&room);
    service.crash().await;
    let (_service, _client) = w.racetime().await;
    wait_handled(&w.fake, &room).await;
    w.fake.chat(&room, &alice, "!race standard");
    let after = w
        .fake
        .wait_for_bot(&room, WAIT, |l| l.len() > before.len())
        .await;
    assert_eq!(&after[..before.len()], &before[..]);
    assert_eq!(
        after[before.len()..],
        ["I already rolled a seed!  Use !cancel to clear the currently rolled game.".to_string()]
    );
    assert_eq!(w.alttpr.received_requests().await.unwrap().len(), 1);
    assert_eq!(
        w.fake
            .bot_messages(&room)
            .iter()
            .filter(|m| m.starts_with("Hi!"))
            .count(),
        1
    );
}

#[tokio::test]
async fn smz3_smr_ff1r_provider_failures_and_monitor_commands() {
    let w = world().await;
    let (_service, mut client) = w.racetime().await;
    let base = w.alttpr.uri();
    let slug = "D1sqHD1OT2qLnA0eLzpLXA";
    let alice = w.fake.add_user("Alice", &[]);
    let bob = w.fake.add_user("Bob", &[]);

    // SMZ3: a command said before the bot joined is history, not a request; a seed with the
    // four-word code; then the room is rolled.
    let room = w.fake.open_room("smz3", &alice, "Beat the game", false);
    w.fake.chat(&room, &alice, "!race hard");
    wait_handled(&w.fake, &room).await;
    said(&w, &room, &alice, "!help", "Available commands:").await;
    assert!(
        !w.fake
            .bot_messages(&room)
            .iter()
            .any(|m| m.starts_with("Generating")),
        "{:#?}",
        w.fake.bot_messages(&room)
    );
    let lines = said(&w, &room, &alice, "!race normal", "Seed rolling complete.").await;
    assert!(lines.contains(&format!("{base}/seed/{slug}")), "{lines:#?}");
    assert_eq!(
        w.fake.race(&room)["info_bot"].as_str().unwrap(),
        format!("normal - {base}/seed/{slug} - (GEEMER RIPPER ATOMIC POWAMP)")
    );
    // An SMZ3 multiworld needs a team race.
    said(&w, &room, &alice, "!cancel", "Reseting bot state").await;
    said(
        &w,
        &room,
        &alice,
        "!multiworld normal",
        "This must be a team race.",
    )
    .await;

    let opened = client
        .open_room(pb::OpenRoomRequest {
            idempotency_key: "mw-1".into(),
            category: "smz3".into(),
            settings: Some(pb::RoomSettings {
                goal: "Beat the game".into(),
                team_race: true,
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner();
    let team_room = opened.name;
    wait_handled(&w.fake, &team_room).await;
    for (user, team) in [(&alice, "red"), (&bob, "blue")] {
        w.fake.join(&team_room, user);
        w.fake.set_team(&team_room, user, team);
    }
    let lines = said(
        &w,
        &team_room,
        &alice,
        "!multiworld normal 12345",
        "Seed rolling complete.",
    )
    .await;
    // One multiworld seed per team.
    let links: Vec<&String> = lines
        .iter()
        .filter(|l| l.starts_with("Team ") && l.contains(&format!("{base}/mw/")))
        .collect();
    assert_eq!(links.len(), 2, "{lines:#?}");
    let mw_calls = w
        .alttpr
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/mw/api/randomizers/smz3/generate")
        .count();
    assert_eq!(mw_calls, 2, "one multiworld seed per team");

    // SM total with sm.samus.link down: a short message that says to retry, no error dump.
    let smr = handled_room(&w, "smr", &alice).await;
    let lines = said(
        &w,
        &smr,
        &alice,
        "!total casual_full",
        "samus.link: the server failed (HTTP 503). Please try again in a minute.",
    )
    .await;
    assert!(
        lines.iter().any(|l| l == "samus.link: the server failed (HTTP 503). Please try again in a minute."),
        "{lines:?}"
    );
    // Not rolled: a second try is a new attempt (seedgen's breaker may answer it without a
    // provider call), not "I already rolled".
    w.fake.chat(&smr, &alice, "!total casual_full");
    let lines = w
        .fake
        .wait_for_bot(&smr, WAIT, |l| {
            l.iter()
                .filter(|m| m.starts_with("samus.link: the server failed"))
                .count()
                == 2
        })
        .await;
    assert!(!lines.iter().any(|l| l.starts_with("I already rolled")));
    // An unknown preset names the preset.
    said(
        &w,
        &smr,
        &alice,
        "!total nosuchpreset",
        "Could not find preset `nosuchpreset`",
    )
    .await;

    // FF1R: the given URL comes back with a fresh seed.
    let ff1r = handled_room(&w, "ff1r", &alice).await;
    let lines = said(
        &w,
        &ff1r,
        &alice,
        "!ff1url https://4-8-5.finalfantasyrandomizer.com/?s=00000000&f=ABCDEF",
        "https://4-8-5.finalfantasyrandomizer.com/?s=",
    )
    .await;
    let url = lines
        .iter()
        .find(|l| l.starts_with("https://4-8-5"))
        .unwrap();
    assert!(url.ends_with("&f=ABCDEF"), "{url}");
    assert!(!url.contains("s=00000000"), "{url}");
    assert_eq!(w.fake.race(&ff1r)["info_bot"].as_str(), Some(url.as_str()));

    // !override: refused without a whitelist row, accepted with one.
    let z = handled_room(&w, "z1r", &alice).await;
    said(
        &w,
        &z,
        &bob,
        "!override",
        "You do not have permission to override the stream requirement",
    )
    .await;
    let db = Database::connect(w.db.url()).await.unwrap();
    db.execute_unprepared(&format!(
        "INSERT INTO racetime_override_whitelist (racetime_id, category, expires) VALUES ('{bob}', 'z1r', NULL)"
    ))
    .await
    .unwrap();
    w.fake.chat(&z, &bob, "!override");
    wait_for_action(&w, &z, "override_stream").await;

    // InjectCommand runs a command as a monitor: !lock from a caller locks the room.
    client
        .inject_command(pb::InjectCommandRequest {
            room: z.clone(),
            command: "!lock".into(),
            requested_by: "api-key:tests".into(),
        })
        .await
        .unwrap();
    w.fake
        .wait_for_bot(&z, WAIT, |l| {
            l.iter().any(|m| m.starts_with("Lock initiated."))
        })
        .await;
    said(&w, &z, &bob, "!race rr2024", "Seed rolling is locked").await;

    // A tournament binding: its player is let in, a stranger's request waits; a gatekeeper
    // may !promote themself, anyone else may not.
    let carol = w.fake.add_user("Carol", &[]);
    let stranger = w.fake.add_user("Stranger", &[]);
    let gatekeeper = w.fake.add_user("Gatekeeper", &[]);
    let bound = handled_room(&w, "z1r", &alice).await;
    client
        .bind_tournament(pb::BindTournamentRequest {
            room: bound.clone(),
            tournament: "test-cup".into(),
            episode_id: "42".into(),
            player_racetime_ids: vec![carol.clone()],
            gatekeeper_racetime_ids: vec![gatekeeper.clone()],
        })
        .await
        .unwrap();
    w.fake.request_to_join(&bound, &carol);
    w.fake.request_to_join(&bound, &stranger);
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let race = w.fake.race(&bound);
        let status = |user: &str| {
            race["entrants"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["user"]["id"] == user)
                .map(|e| {
                    e["status"]["value"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string()
                })
        };
        if status(&carol).as_deref() == Some("not_ready") {
            assert_eq!(status(&stranger).as_deref(), Some("requested"));
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{race}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    w.fake.chat(&bound, &stranger, "!promote");
    w.fake.chat(&bound, &gatekeeper, "!promote");
    wait_for_action(&w, &bound, "add_monitor").await;
    let promotions = w
        .fake
        .actions()
        .into_iter()
        .filter(|(race, action)| race == &bound && action == "add_monitor")
        .count();
    assert_eq!(promotions, 1);
    w.wait_outbox("racetime.entrant.requested", 2).await;
}

/// Every handler's commands that need no further setup, each in a room of its own: the
/// command and the start of the line the bot must answer with.
#[tokio::test]
async fn every_category_answers_its_commands() {
    let w = world().await;
    let (_service, _client) = w.racetime().await;
    let host = w.fake.add_user("Host", &[]);
    let done = "Seed rolling complete.  See race info for details.";
    let cases: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("alttpr", vec![("!noqsrace open", done)]),
        (
            "alttpr",
            vec![("!mystery weighted", "Seed rolling complete.")],
        ),
        ("alttpr", vec![("!spoiler", "You must specify a preset!")]),
        (
            "alttpr",
            vec![(
                "!spoiler open soon",
                "The study time must be a whole number of seconds, not `soon`.",
            )],
        ),
        (
            "alttpr",
            vec![("!lock", "Lock initiated."), ("!unlock", "Lock released.")],
        ),
        (
            "alttpr",
            vec![(
                "!tournamentrace",
                "This room is not associated with a tournament.",
            )],
        ),
        ("test", vec![("!test 1", "test command complete")]),
        (
            "smz3",
            vec![(
                "!help",
                "Available commands:\n\"!race <preset>, !multiworld <preset>\"",
            )],
        ),
        (
            "smr",
            vec![("!varia", "You must specify setting and skill presets!")],
        ),
        ("smr", vec![("!dash", "Usage: !dash [--spoiler] <preset>")]),
        (
            "smr",
            vec![(
                "!choozorace",
                "!choozorace needs the Choozo/league endpoints",
            )],
        ),
        (
            "sm",
            vec![("!bingo", "Bingo card will be rolled at race start!")],
        ),
        ("z1r", vec![("!ttp4rp", done)]),
        (
            "z2r",
            vec![
                ("!flags", "You must specify a set of flags!"),
                ("!maxrando", "Seed: "),
            ],
        ),
        ("z2r", vec![("!mrb", "Seed: ")]),
        ("smb3r", vec![("!flags 17BHXZ1A", "Seed: ")]),
        ("ctjets", vec![("!preset", "You must specify a preset!")]),
        (
            "twwr",
            vec![("!help", "To start a KONOT race, use !konot.")],
        ),
        (
            "contra",
            vec![("!help", "I have no commands for this category.")],
        ),
        (
            "smw-hacks",
            vec![("!help", "I have no commands for this category.")],
        ),
    ];
    let runs = cases.into_iter().map(|(category, steps)| {
        let w = &w;
        let host = host.clone();
        async move {
            let room = handled_room(w, category, &host).await;
            for (command, expect) in steps {
                let lines = said(w, &room, &host, command, expect).await;
                assert!(
                    lines.iter().any(|l| l.starts_with(expect)),
                    "{category} {command}: {lines:#?}"
                );
            }
        }
    });
    futures::future::join_all(runs).await;
    // The sgl handler answers nothing it does not know, not even !help.
    let sgl = handled_room(&w, "sgl", &host).await;
    w.fake.chat(&sgl, &host, "!help");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        !w.fake
            .bot_messages(&sgl)
            .iter()
            .any(|m| m.starts_with("Available")),
        "{:?}",
        w.fake.bot_messages(&sgl)
    );
}
