//! Guild configuration (`/config`) and the commands it drives (`/holyimage`).

use super::*;

#[tokio::test]
async fn config_is_for_server_managers_and_drives_the_seed_audit_channel() {
    let w = world().await;
    let member = Invoker::member(42, "racer");
    let admin = Invoker::admin(1, "owner");

    let reply = set_config(&w, &member, "SeedAuditChannel", "<#555>").await;
    assert!(
        reply["content"]
            .as_str()
            .unwrap()
            .starts_with("You need the Manage Server permission")
    );

    let reply = set_config(&w, &admin, "SeedAuditChannel", "general").await;
    assert_eq!(
        reply["content"],
        "`general` is not a channel; mention it (#channel) or give its id."
    );

    let sent = w.fake.slash_command(
        &admin,
        &["config", "set"],
        &[
            ("key", json!("SeedAuditChannel")),
            ("value", json!("<#555>")),
        ],
        &[],
    );
    let ack = w.fake.callback(&sent, WAIT).await;
    assert_eq!(
        ack["data"]["flags"], 64,
        "config replies are private: {ack}"
    );
    let reply = text_reply(&w, &sent).await;
    assert_eq!(reply["content"], "SeedAuditChannel is now `555`.");
    let sent = w.fake.slash_command(&admin, &["config", "view"], &[], &[]);
    let reply = text_reply(&w, &sent).await;
    assert!(
        reply["content"]
            .as_str()
            .unwrap()
            .contains("**SeedAuditChannel**: <#555>"),
        "{reply}"
    );

    // A roll is announced once in the audit channel (seedgen's event, through JetStream).
    let sent = w.fake.slash_command(
        &member,
        &["alttpr", "preset"],
        &[("preset", json!("open"))],
        &[],
    );
    embed_reply(&w, &sent).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while w.fake.channel_messages(555).is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "no audit post");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let posts = w.fake.channel_messages(555);
    assert_eq!(posts.len(), 1);
    let embed = &posts[0]["embeds"][0];
    assert_eq!(embed["title"], "Seed generated");
    assert_eq!(field(embed, "Preset"), Some("open"));
    assert_eq!(field(embed, "Requested by"), Some("discord:42"));

    let sent = w.fake.slash_command(
        &admin,
        &["config", "clear"],
        &[("key", json!("SeedAuditChannel"))],
        &[],
    );
    let reply = text_reply(&w, &sent).await;
    assert_eq!(reply["content"], "SeedAuditChannel is cleared.");
}

#[tokio::test]
async fn holy_images_by_slug_alias_and_number_with_the_guild_default_game() {
    let w = world().await;
    let base = format!("{}/holyimage/", w.alttpr.uri());
    let racer = Invoker::member(42, "racer");
    let sent = w
        .fake
        .slash_command(&racer, &["holyimage"], &[("slug", json!("fairy"))], &[]);
    let reply = embed_reply(&w, &sent).await;
    let embed = &reply["embeds"][0];
    assert_eq!(embed["title"], "Fairy Fountain");
    assert_eq!(
        embed["description"],
        "Throw the bottle in.\nProfit & enjoy."
    );
    assert_eq!(embed["thumbnail"]["url"], format!("{base}images/fairy.png"));
    assert_eq!(
        field(embed, "Source"),
        Some(format!("{base}z3r-fairy.html").as_str())
    );
    assert_eq!(embed["footer"]["text"], "Created by Synack");
    for slug in ["ff", "1"] {
        let sent = w
            .fake
            .slash_command(&racer, &["holyimage"], &[("slug", json!(slug))], &[]);
        assert_eq!(
            embed_reply(&w, &sent).await["embeds"][0]["title"],
            "Fairy Fountain"
        );
    }
    // A redirect image is a link, not a picture.
    let sent = w
        .fake
        .slash_command(&racer, &["holyimage"], &[("slug", json!("fatfairy"))], &[]);
    let reply = embed_reply(&w, &sent).await;
    assert_eq!(
        field(&reply["embeds"][0], "Link"),
        Some("https://example.org/ff")
    );
    assert!(reply["embeds"][0]["thumbnail"].is_null());
    // Unknown: only the caller is told, with where to look.
    let sent = w
        .fake
        .slash_command(&racer, &["holyimage"], &[("slug", json!("nope"))], &[]);
    let followup = w.fake.wait_for_followup(&sent, WAIT).await;
    assert_eq!(
        followup["content"],
        format!("That holy image does not exist.  Check out <{base}>")
    );
    // The guild's default game applies to the lookup and to slug autocomplete.
    let admin = Invoker::admin(1, "owner");
    set_config(&w, &admin, "HolyImageDefaultGame", "smz3").await;
    let sent = w
        .fake
        .slash_command(&racer, &["holyimage"], &[("slug", json!("ship"))], &[]);
    assert_eq!(
        embed_reply(&w, &sent).await["embeds"][0]["title"],
        "The Ship"
    );
    let sent = w
        .fake
        .autocomplete(&racer, &["holyimage"], &[], ("slug", "s"));
    let choices = w.fake.autocomplete_choices(&sent, WAIT).await;
    assert_eq!(choices, vec![json!({"name": "ship", "value": "ship"})]);
    let sent = w
        .fake
        .autocomplete(&racer, &["holyimage"], &[], ("game", ""));
    let choices = w.fake.autocomplete_choices(&sent, WAIT).await;
    assert_eq!(choices.len(), 2);
}

/// The server directory (spec §1.6): administrators only; rows of another guild are not found
/// (upstream's BUG let any admin delete them); refresh replaces the bot's own posts only.
#[tokio::test]
async fn the_server_directory_belongs_to_its_guild_and_refreshes_its_posts() {
    let w = world().await;
    let admin = Invoker::admin(1, "owner");
    let say = |who: &Invoker, sub: &str, options: &[(&str, Json)]| {
        let sent = w
            .fake
            .slash_command(who, &["discordservers", sub], options, &[]);
        let fake = w.fake.clone();
        async move {
            let reply = fake
                .wait_for_reply(&sent, WAIT, |r| {
                    r["content"].as_str().is_some_and(|c| !c.is_empty())
                        || r["embeds"].as_array().is_some_and(|e| !e.is_empty())
                })
                .await;
            reply.to_string()
        }
    };
    let refused = say(
        &Invoker::member(42, "racer"),
        "remove_category",
        &[("category_id", json!(1))],
    )
    .await;
    assert!(refused.contains("Only administrators"), "{refused}");
    let added = say(
        &admin,
        "add_category",
        &[
            ("channel", json!({"channel": "700"})),
            ("title", json!("Randomizers")),
            ("description", json!("Other randomizer communities")),
        ],
    )
    .await;
    assert!(added.contains("Added category Randomizers (id "), "{added}");
    let category: String = added
        .split("(id ")
        .nth(1)
        .and_then(|s| s.split(')').next())
        .unwrap()
        .to_owned();
    for i in 0..11 {
        w.fake
            .add_invite(&format!("inv{i}"), 5_000 + i, &format!("Community {i}"));
        let server = say(
            &admin,
            "add_server",
            &[
                ("category_id", json!(category.parse::<i64>().unwrap())),
                ("invite_url", json!(format!("https://discord.gg/inv{i}"))),
                ("description", json!(format!("Community {i}"))),
            ],
        )
        .await;
        assert!(
            server.contains(&format!("Added server Community {i} to category")),
            "{server}"
        );
    }
    let bad = say(
        &admin,
        "add_server",
        &[
            ("category_id", json!(category.parse::<i64>().unwrap())),
            ("invite_url", json!("https://discord.gg/expired")),
            ("description", json!("Gone")),
        ],
    )
    .await;
    assert!(bad.contains("does not know that invite"), "{bad}");
    // Another guild's admin cannot touch it.
    let other = Invoker {
        guild_id: Some(2),
        ..Invoker::admin(9, "other")
    };
    let foreign = say(
        &other,
        "remove_category",
        &[("category_id", json!(category.parse::<i64>().unwrap()))],
    )
    .await;
    assert!(
        foreign.contains(&format!("This server has no category {category}")),
        "{foreign}"
    );
    // Refresh: an old post of the bot goes, a member's post stays, two messages come.
    let mut client = DiscordClient::connect(w.gateway().grpc_url())
        .await
        .unwrap();
    client
        .send_message(pb::SendMessageRequest {
            idempotency_key: "old-directory".into(),
            channel_id: 700,
            content: "old directory".into(),
            embeds: vec![],
        })
        .await
        .unwrap();
    let refreshed = say(&admin, "refresh", &[]).await;
    assert!(refreshed.contains("Refreshed server list"), "{refreshed}");
    let posts: Vec<String> = w
        .fake
        .channel_messages(700)
        .iter()
        .map(|m| m["content"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(posts.len(), 2, "{posts:?}");
    assert!(
        posts[0].starts_with("**__Randomizers__**\nCommunity 0: https://discord.gg/inv0"),
        "{posts:?}"
    );
    assert!(
        posts[1]
            .starts_with("**__Randomizers - Part 2__**\nCommunity 10: https://discord.gg/inv10"),
        "{posts:?}"
    );
}
