//! The daily challenge announcer and `/sgdaily`.

use super::*;

#[tokio::test]
async fn the_daily_is_announced_once_per_channel_with_a_thread_and_sgdaily_reads_the_schedule() {
    let w = world().await;
    // The community commands went to the community guild only.
    let guild: Vec<String> = w
        .fake
        .registered_commands(Some(1))
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(guild, ["welcome", "rom", "sgdaily"]);
    assert!(
        !w.fake
            .registered_commands(None)
            .iter()
            .any(|c| c["name"] == "sgdaily")
    );

    let admin = Invoker::admin(1, "owner");
    let sent = w.fake.slash_command(
        &admin,
        &["config", "set"],
        &[
            ("key", json!("DailyAnnouncerChannel")),
            ("value", json!("<#777>, <#778>")),
        ],
        &[],
    );
    assert_eq!(
        text_reply(&w, &sent).await["content"],
        "DailyAnnouncerChannel is now `777,778`."
    );
    // The daily appears on alttpr.com only now.
    Mock::given(method("GET"))
        .and(path("/api/daily"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"hash": "DaIlYhAsH", "daily": "2026-11-21"})),
        )
        .mount(&w.alttpr)
        .await;
    Mock::given(method("GET"))
        .and(path("/hash/DaIlYhAsH"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "logic": "NoGlitches", "hash": "DaIlYhAsH", "generated": "2026-11-21T00:00:00+00:00", "size": 2,
            "patch": [{"1573397": [0, 1, 2, 3, 4]}],
            "spoiler": {"meta": {"name": "Daily Challenge: Nov 21", "spoilers": "off", "mode": "open", "logic": "NoGlitches"}}
        })))
        .mount(&w.alttpr)
        .await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while w.fake.channel_messages(777).is_empty()
        || w.fake.channel_messages(778).is_empty()
        || w.fake.threads().len() < 2
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no daily announcement: {:?}",
            w.fake.threads()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Later checks see the same daily and post nothing more.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    for channel in [777, 778] {
        let posts = w.fake.channel_messages(channel);
        assert_eq!(posts.len(), 1, "{posts:?}");
        assert_eq!(
            field(&posts[0]["embeds"][0], "Permalink"),
            Some(format!("{}/h/DaIlYhAsH", w.alttpr.uri()).as_str())
        );
    }
    let threads = w.fake.threads();
    assert_eq!(threads.len(), 2);
    assert!(
        threads
            .values()
            .all(|t| t["name"] == "Daily Challenge: Nov 21"
                && t["thread_metadata"]["auto_archive_duration"] == 1440)
    );

    // /dailygame shows the same daily.
    let racer = Invoker::member(42, "racer");
    let sent = w.fake.slash_command(&racer, &["dailygame"], &[], &[]);
    let reply = embed_reply(&w, &sent).await;
    assert_eq!(reply["embeds"][0]["title"], "Daily Challenge: Nov 21");
    assert!(
        reply["embeds"][0]["description"]
            .as_str()
            .unwrap()
            .starts_with("This is today's daily challenge.")
    );
    // The community texts.
    let sent = w
        .fake
        .slash_command(&racer, &["welcome"], &[("language", json!("german"))], &[]);
    assert!(
        text_reply(&w, &sent).await["content"]
            .as_str()
            .unwrap()
            .starts_with("Willkommen!")
    );
    let sent = w.fake.slash_command(&racer, &["rom"], &[], &[]);
    assert!(
        text_reply(&w, &sent).await["content"]
            .as_str()
            .unwrap()
            .contains("http://alttp.mymm1.com/game/checkcrc/")
    );

    // /sgdaily: the next race, then three days of them (SpeedGaming answers JSON as text/html).
    let soon = chrono::Utc::now() + chrono::Duration::hours(5);
    let later = chrono::Utc::now() + chrono::Duration::hours(50);
    let episode = |when: chrono::DateTime<chrono::Utc>, title: &str| {
        json!({
            "id": 1, "when": when.to_rfc3339(), "whenCountdown": when.to_rfc3339(),
            "event": {"name": "ALTTPR Daily", "slug": "alttprdaily"},
            "match1": {"title": title, "players": []},
            "channels": [{"name": "SpeedGaming"}, {"name": "No Restream"}]
        })
    };
    Mock::given(method("GET"))
        .and(path("/sg/schedule"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            json!([episode(later, "Open"), episode(soon, "")]).to_string(),
            "text/html",
        ))
        .mount(&w.alttpr)
        .await;
    let sent = w.fake.slash_command(&racer, &["sgdaily"], &[], &[]);
    let reply = embed_reply(&w, &sent).await;
    let embed = &reply["embeds"][0];
    assert_eq!(embed["title"], "ALTTPR Daily");
    assert!(
        embed["description"]
            .as_str()
            .unwrap()
            .starts_with("**Mode:** *TBD*")
    );
    assert_eq!(
        field(embed, "Time"),
        Some(format!("<t:{0}:f> (<t:{0}:R>)", soon.timestamp()).as_str())
    );
    assert_eq!(
        field(embed, "Twitch Channels"),
        Some("[SpeedGaming](https://twitch.tv/SpeedGaming)")
    );
    let sent = w
        .fake
        .slash_command(&racer, &["sgdaily"], &[("number_of_days", json!(3))], &[]);
    let reply = embed_reply(&w, &sent).await;
    let names: Vec<&str> = reply["embeds"][0]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["TBD", "Open"]);
}
