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
