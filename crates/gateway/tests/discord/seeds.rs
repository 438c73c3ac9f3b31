//! Seed commands: defer, roll through seedgen, edit; errors stay private; a dropped gateway resumes.

use super::*;

#[tokio::test]
async fn seed_commands_defer_then_edit_and_errors_stay_private() {
    let w = world().await;
    // Commands were registered globally by bulk overwrite.
    let names: Vec<String> = w
        .fake
        .registered_commands(None)
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    for expected in [
        "alttpr",
        "alttprutils",
        "sm",
        "smz3",
        "ctjets",
        "z2r",
        "datetime",
        "dailygame",
    ] {
        assert!(names.contains(&expected.to_string()), "{names:?}");
    }
    let racer = Invoker::member(42, "racer");

    // /alttpr preset: deferred publicly, then the embed replaces the "thinking" message.
    let sent = w.fake.slash_command(
        &racer,
        &["alttpr", "preset"],
        &[("preset", json!("open")), ("race", json!("yes"))],
        &[],
    );
    let ack = w.fake.callback(&sent, WAIT).await;
    assert_eq!(ack["type"], 5, "{ack}");
    assert!(
        ack["data"].is_null() || ack["data"]["flags"].is_null(),
        "public defer: {ack}"
    );
    let reply = embed_reply(&w, &sent).await;
    let embed = &reply["embeds"][0];
    assert_eq!(field(embed, "Preset"), Some("open"));
    // A race seed is a tournament embed: no permalink, dark gold.
    assert_eq!(field(embed, "Permalink"), None, "{embed}");
    assert_eq!(embed["color"], 0xC27C0E);
    assert!(
        field(embed, "File Select Code").is_some_and(|c| !c.is_empty()),
        "{embed}"
    );
    let body: Json = serde_json::from_slice(&rolls(&w).await[0].body).unwrap();
    assert_eq!(body["tournament"], true);

    // Not a race: the permalink shows.
    let sent = w.fake.slash_command(
        &racer,
        &["alttpr", "preset"],
        &[("preset", json!("open"))],
        &[],
    );
    let reply = embed_reply(&w, &sent).await;
    assert!(
        field(&reply["embeds"][0], "Permalink").is_some_and(|p| p.ends_with("/h/HaShHaSh")),
        "{reply}"
    );

    // The same interaction delivered again rolls nothing: Discord refuses a second
    // acknowledgement, and the roll's idempotency key is the interaction id.
    w.fake.redeliver(&sent);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(rolls(&w).await.len(), 2);

    // Autocomplete lists presets starting with what was typed.
    let sent = w
        .fake
        .autocomplete(&racer, &["alttpr", "preset"], &[], ("preset", "ope"));
    let choices = w.fake.autocomplete_choices(&sent, WAIT).await;
    assert!(choices.iter().any(|c| c["value"] == "open"), "{choices:?}");
    assert!(choices.len() <= 25);
    assert!(
        choices
            .iter()
            .all(|c| c["value"].as_str().unwrap().starts_with("ope"))
    );

    // An unknown preset: the public "thinking" message goes away, the caller alone is told.
    let sent = w.fake.slash_command(
        &racer,
        &["alttpr", "preset"],
        &[("preset", json!("nosuchpreset"))],
        &[],
    );
    let followup = w.fake.wait_for_followup(&sent, WAIT).await;
    assert_eq!(followup["flags"], 64, "{followup}");
    assert!(
        followup["content"]
            .as_str()
            .unwrap()
            .contains("Could not find preset `nosuchpreset`"),
        "{followup}"
    );
    assert!(w.fake.original_deleted(&sent));

    // A custom preset that is not YAML gets the parser's message with its line.
    let url = w
        .fake
        .host_file("broken.yaml", "text/yaml", "settings:\n  goal: [unclosed\n");
    let sent = w.fake.slash_command(
        &racer,
        &["alttpr", "custompreset"],
        &[],
        &[("yamlfile", "broken.yaml", &url, 26, "text/yaml")],
    );
    let followup = w.fake.wait_for_followup(&sent, WAIT).await;
    let text = followup["content"].as_str().unwrap();
    assert!(
        text.starts_with("`broken.yaml` is not valid YAML:") && text.contains("line"),
        "{text}"
    );
    // A file over the limit is refused before it is downloaded.
    let sent = w.fake.slash_command(
        &racer,
        &["alttpr", "custompreset"],
        &[],
        &[("yamlfile", "huge.yaml", &url, 100_000, "text/yaml")],
    );
    let followup = w.fake.wait_for_followup(&sent, WAIT).await;
    assert!(
        followup["content"]
            .as_str()
            .unwrap()
            .contains("files up to 4 KiB are accepted"),
        "{followup}"
    );
    let rolls_so_far = rolls(&w).await.len();
    assert_eq!(rolls_so_far, 2, "refused files never reach the provider");

    // A good file is saved as the caller's `latest` and can be rolled again by that name.
    let open = std::fs::read_to_string(
        std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap())
            .join("../../presets/alttpr/open.yaml"),
    )
    .unwrap();
    let url = w.fake.host_file("mine.yaml", "text/yaml", open.clone());
    let sent = w.fake.slash_command(
        &racer,
        &["alttpr", "custompreset"],
        &[],
        &[(
            "yamlfile",
            "mine.yaml",
            &url,
            open.len() as u64,
            "text/yaml",
        )],
    );
    let reply = embed_reply(&w, &sent).await;
    let saved = field(&reply["embeds"][0], "Saved as preset!")
        .unwrap()
        .to_string();
    assert!(saved.contains("`racer/latest`"), "{saved}");
    let sent = w.fake.slash_command(
        &racer,
        &["alttpr", "preset"],
        &[("preset", json!("racer/latest"))],
        &[],
    );
    let reply = embed_reply(&w, &sent).await;
    assert_eq!(field(&reply["embeds"][0], "Preset"), Some("racer/latest"));

    // verifygame and savepreset answer privately.
    let sent = w.fake.slash_command(
        &racer,
        &["alttprutils", "verifygame"],
        &[("hash_id", json!("HaShHaSh"))],
        &[],
    );
    let reply = text_reply(&w, &sent).await;
    assert!(
        reply["content"]
            .as_str()
            .unwrap()
            .starts_with("HaShHaSh was generated by SahasrahBot."),
        "{reply}"
    );
    assert_eq!(w.fake.callback(&sent, WAIT).await["data"]["flags"], 64);
    let sent = w.fake.slash_command(
        &racer,
        &["alttprutils", "verifygame"],
        &[("hash_id", json!("NotOurs"))],
        &[],
    );
    assert_eq!(
        text_reply(&w, &sent).await["content"],
        "That game was not generated by SahasrahBot."
    );
    let sent = w.fake.slash_command(
        &racer,
        &["alttprutils", "savepreset"],
        &[("preset_name", json!("MyOpen"))],
        &[(
            "preset_file",
            "mine.yaml",
            &url,
            open.len() as u64,
            "text/yaml",
        )],
    );
    assert_eq!(
        text_reply(&w, &sent).await["content"],
        "Preset saved as racer/myopen"
    );

    // A customizer save file becomes a preset file, sent back privately.
    let save = json!({"randomizer.goal": "fast_ganon", "vt.custom.equipment": {"PegasusBoots": 1}})
        .to_string();
    let url = w
        .fake
        .host_file("customizer-settings.json", "application/json", save.clone());
    let sent = w.fake.slash_command(
        &racer,
        &["alttprutils", "convertcustomizer"],
        &[],
        &[(
            "customizer_json",
            "customizer-settings.json",
            &url,
            save.len() as u64,
            "application/json",
        )],
    );
    assert_eq!(w.fake.callback(&sent, WAIT).await["data"]["flags"], 64);
    let edit = w
        .fake
        .wait_for_call(WAIT, |c| {
            c.method == "PATCH" && c.path.contains(&sent.token) && !c.files.is_empty()
        })
        .await;
    let (name, bytes) = &edit.files[0];
    assert_eq!(name, "output.yaml");
    let preset: serde_yaml::Value = serde_yaml::from_slice(bytes).unwrap();
    assert_eq!(preset["customizer"], serde_yaml::Value::Bool(true));
    assert_eq!(
        preset["settings"]["goal"],
        serde_yaml::Value::from("fast_ganon")
    );
    assert_eq!(
        preset["settings"]["eq"][0],
        serde_yaml::Value::from("PegasusBoots")
    );

    // Mystery: masked by default; mask_settings "no" really shows the settings (§7.1).
    let sent = w.fake.slash_command(
        &racer,
        &["alttpr", "mystery"],
        &[("weightset", json!("weighted"))],
        &[],
    );
    let reply = embed_reply(&w, &sent).await;
    let embed = &reply["embeds"][0];
    assert_eq!(embed["title"], "Mystery Game");
    assert_eq!(field(embed, "Weightset"), Some("weighted"));
    assert!(field(embed, "Mystery Game").is_some(), "{embed}");
    let sent = w.fake.slash_command(
        &racer,
        &["alttpr", "mystery"],
        &[
            ("weightset", json!("weighted")),
            ("mask_settings", json!("no")),
        ],
        &[],
    );
    let reply = embed_reply(&w, &sent).await;
    let embed = &reply["embeds"][0];
    assert!(field(embed, "Mystery Game").is_none(), "{embed}");
    assert!(
        field(embed, "Goal").is_some_and(|g| g.contains("**Goal:**")),
        "{embed}"
    );

    // Fixed lists autocomplete with real choices (upstream answered plain strings, §7.2).
    let sent = w
        .fake
        .autocomplete(&racer, &["smvaria"], &[], ("skills", "vet"));
    let choices = w.fake.autocomplete_choices(&sent, WAIT).await;
    assert_eq!(
        choices,
        vec![json!({"name": "veteran", "value": "veteran"})]
    );

    // /sm while sm.samus.link is down: a short private message that says to retry.
    let sent = w
        .fake
        .slash_command(&racer, &["sm"], &[("preset", json!("casual_full"))], &[]);
    let followup = w.fake.wait_for_followup(&sent, WAIT).await;
    let text = followup["content"].as_str().unwrap();
    assert!(
        text == "samus.link: the server failed (HTTP 503). Please try again in a minute.",
        "{text}"
    );
    // /smz3 from samus.link: the SMZ3 embed with the four-word code.
    let sent = w.fake.slash_command(
        &racer,
        &["smz3"],
        &[("preset", json!("normal")), ("race", json!("yes"))],
        &[],
    );
    let reply = embed_reply(&w, &sent).await;
    let embed = &reply["embeds"][0];
    assert_eq!(embed["description"], "Requested SMZ3 Randomizer Game.");
    assert_eq!(
        field(embed, "File Select Code"),
        Some("GEEMER RIPPER ATOMIC POWAMP")
    );

    // A spoiler race: the log is uploaded and linked, the permalink hidden.
    let sent = w.fake.slash_command(
        &racer,
        &["alttpr", "spoiler"],
        &[
            ("preset", json!("open")),
            ("progression_spoiler", json!(true)),
        ],
        &[],
    );
    let reply = embed_reply(&w, &sent).await;
    let embed = &reply["embeds"][0];
    let log = field(embed, "Spoiler Log URL").unwrap();
    assert!(
        log.contains("/spoilers-") && log.contains("progression__"),
        "{log}"
    );
    assert_eq!(field(embed, "Permalink"), None);

    // /ctjets: the share link.
    let sent = w
        .fake
        .slash_command(&racer, &["ctjets"], &[("preset", json!("race"))], &[]);
    assert_eq!(
        text_reply(&w, &sent).await["content"],
        format!("{}/share/XYZ", w.alttpr.uri())
    );
    // /z2r mrb: seed, flags and which of MRB's flag sets.
    let sent = w.fake.slash_command(&racer, &["z2r", "mrb"], &[], &[]);
    let mrb = text_reply(&w, &sent).await["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        mrb.starts_with("**Seed**: ")
            && mrb.contains("**Flags:** ")
            && mrb.contains("**Description**: "),
        "{mrb}"
    );
    // A custom mystery weightset is saved as the caller's latest weightset.
    let weights = std::fs::read_to_string(
        std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap())
            .join("../../presets/alttprmystery/friendly.yaml"),
    )
    .unwrap();
    let url = w
        .fake
        .host_file("weights.yaml", "text/yaml", weights.clone());
    let sent = w.fake.slash_command(
        &racer,
        &["alttpr", "custommystery"],
        &[],
        &[(
            "yamlfile",
            "weights.yaml",
            &url,
            weights.len() as u64,
            "text/yaml",
        )],
    );
    let reply = embed_reply(&w, &sent).await;
    assert_eq!(
        field(&reply["embeds"][0], "Weightset"),
        Some("racer/latest")
    );
    assert!(
        field(&reply["embeds"][0], "Saved as custom weightset!").is_some(),
        "{reply}"
    );

    // A spoiler race from an uploaded preset.
    let url = w.fake.host_file("spoiler.yaml", "text/yaml", open.clone());
    let sent = w.fake.slash_command(
        &racer,
        &["alttpr", "customspoiler"],
        &[],
        &[(
            "yamlfile",
            "spoiler.yaml",
            &url,
            open.len() as u64,
            "text/yaml",
        )],
    );
    let reply = embed_reply(&w, &sent).await;
    let log = field(&reply["embeds"][0], "Spoiler Log URL").unwrap();
    assert!(log.contains("spoiler__"), "{log}");

    // Kiss Priest: one batch of three customizer games sharing a batch code.
    let sent = w.fake.slash_command(
        &racer,
        &["alttpr", "kisspriest"],
        &[("count", json!(3))],
        &[],
    );
    let reply = embed_reply(&w, &sent).await;
    let embed = &reply["embeds"][0];
    assert_eq!(embed["title"], "Kiss Priest Games");
    assert_eq!(embed["fields"].as_array().unwrap().len(), 3);
    let names: Vec<String> = w
        .alttpr
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path() == "/api/customizer")
        .filter_map(|r| serde_json::from_slice::<Json>(&r.body).ok())
        .filter(|b| b["goal"] == "triforce-hunt")
        .map(|b| b["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
    let code = &names[0][12..15];
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        (1..=3)
            .map(|i| format!("kiss-priest-{code}-{i:02}"))
            .collect::<Vec<_>>()
    );

    // /datetime answers at once, privately.
    let sent = w.fake.slash_command(
        &racer,
        &["datetime"],
        &[
            ("year", json!(2024)),
            ("month", json!(7)),
            ("day", json!(1)),
            ("hour", json!(20)),
            ("timezone", json!("Europe/Berlin")),
        ],
        &[],
    );
    let ack = w.fake.callback(&sent, WAIT).await;
    assert_eq!(ack["type"], 4);
    assert_eq!(ack["data"]["flags"], 64);
    assert_eq!(
        ack["data"]["embeds"][0]["title"],
        "Date markdown for 2024-07-01 20:00:00 Europe/Berlin"
    );
    assert!(
        ack["data"]["embeds"][0]["description"]
            .as_str()
            .unwrap()
            .contains("<t:1719856800:F>")
    );
    let sent = w.fake.slash_command(
        &racer,
        &["datetime"],
        &[("timezone", json!("Mars/Olympus"))],
        &[],
    );
    let ack = w.fake.callback(&sent, WAIT).await;
    assert_eq!(ack["data"]["content"], "Unknown timezone: Mars/Olympus");
    let sent = w
        .fake
        .autocomplete(&racer, &["datetime"], &[], ("timezone", "berl"));
    let choices = w.fake.autocomplete_choices(&sent, WAIT).await;
    assert_eq!(choices[0]["value"], "Europe/Berlin");
}

#[tokio::test]
async fn a_dropped_gateway_resumes_and_missed_interactions_are_answered() {
    let w = world().await;
    let racer = Invoker::member(7, "runner");
    w.fake.drop_gateway();
    // Sent while the bot is disconnected: replayed on RESUME.
    let sent = w.fake.slash_command(
        &racer,
        &["z2r", "preset"],
        &[("preset", json!("maxrando"))],
        &[],
    );
    let reply = text_reply(&w, &sent).await;
    let content = reply["content"].as_str().unwrap();
    assert!(content.starts_with("**Seed**: "), "{content}");
    assert!(
        content.ends_with("**Flags:** iyhqh$j9g7@$ZqTBT!BhOAdES$vA"),
        "{content}"
    );
    let (identifies, resumes) = w.fake.gateway_counts();
    assert_eq!(identifies, 1, "the session was resumed, not replaced");
    assert!(resumes >= 1);
}
