//! Community features that live in the gateway: inquiry threads (spec §1.8) and the audit
//! log and moderation (§2).

use super::*;
use testkit::discord::DEFAULT_EVERYONE;

const MANAGE_THREADS: u64 = 1 << 34;
const SEND_MESSAGES: u64 = 1 << 11;
const SEND_IN_THREADS: u64 = 1 << 38;
const STAFF: u64 = 7_700;

/// The text of a reply (original response), once there is one.
async fn said(w: &World, sent: &SentInteraction) -> String {
    text_reply(w, sent).await["content"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn an_inquiry_opens_a_private_thread_with_the_role() {
    let w = world().await;
    w.fake.set_roles(1, &[(1, DEFAULT_EVERYONE), (STAFF, 0)]);
    let organizer = Invoker {
        permissions: Invoker::member(2, "mod").permissions | MANAGE_THREADS,
        ..Invoker::member(2, "mod")
    };
    let setup = |who: &Invoker| {
        w.fake.slash_command(
            who,
            &["inquiry", "role"],
            &[("role", json!({"role": STAFF.to_string()}))],
            &[],
        )
    };
    // The checks, in the spec's order.
    let refused = said(&w, &setup(&Invoker::member(3, "racer"))).await;
    assert_eq!(
        refused,
        "You must have manage threads permission to use this feature."
    );
    let open_channel = said(&w, &setup(&organizer)).await;
    assert_eq!(
        open_channel,
        "`@everyone` should not be allowed to send messages in this channel."
    );
    w.fake
        .set_channel(10, 1, &[(1, 0, 0, SEND_MESSAGES | SEND_IN_THREADS)]);
    // Overwrites are cached for five minutes: a new channel gets the fix at once.
    let organizer = Invoker {
        channel_id: 11,
        ..organizer
    };
    w.fake
        .set_channel(11, 1, &[(1, 0, 0, SEND_MESSAGES | SEND_IN_THREADS)]);
    let no_threads = said(&w, &setup(&organizer)).await;
    assert_eq!(
        no_threads,
        "`@everyone` needs to be able to send messages in threads."
    );
    w.fake.set_channel(
        12,
        1,
        &[
            (1, 0, SEND_IN_THREADS, SEND_MESSAGES | (1 << 10)),
            (STAFF, 0, 1 << 10, 0),
        ],
    );
    let organizer = Invoker {
        channel_id: 12,
        ..organizer
    };
    let ok = said(&w, &setup(&organizer)).await;
    assert!(
        ok.contains("now open private threads with <@&7700>"),
        "{ok}"
    );
    let posts = w.fake.channel_messages(12);
    assert_eq!(posts.len(), 1, "{posts:?}");
    let post = &posts[0];
    assert!(
        post["content"]
            .as_str()
            .unwrap()
            .contains("This will open an inquiry visible to members of <@&7700>")
    );
    assert_eq!(
        post["components"][0]["components"][0]["custom_id"],
        "inquiry:open"
    );

    // Staff, and a member without the role.
    w.fake.add_member(1, 501, "staff1", &[STAFF]);
    w.fake.add_member(1, 502, "staff2", &[STAFF]);
    w.fake.add_member(1, 503, "bystander", &[]);
    let asker = Invoker {
        channel_id: 12,
        ..Invoker::member(500, "asker")
    };
    w.fake.add_member(1, 500, "asker", &[]);
    // The legacy id of upstream's posts works as well as today's.
    for id in ["inquiry:open", "sahasrahbot:open_inquiry"] {
        let click = w.fake.click_button_on(&asker, post, id);
        let confirm = text_reply(&w, &click).await;
        assert!(
            confirm["content"]
                .as_str()
                .unwrap()
                .starts_with("This will open a private thread to <@&7700>"),
            "{confirm}"
        );
        assert_eq!(confirm["flags"], 64, "the confirmation is private");
    }
    let yes = format!("inquiry:confirm:{}", post["id"].as_str().unwrap());
    let click = w.fake.click_button(&asker, &yes);
    let modal = w.fake.callback(&click, WAIT).await;
    assert_eq!(modal["type"], 9, "{modal}");
    assert_eq!(modal["data"]["title"], "Open Inquiry");
    let submit_id = modal["data"]["custom_id"].as_str().unwrap().to_owned();

    let short = w
        .fake
        .submit_modal(&asker, &submit_id, &[("summary", "help")]);
    assert_eq!(
        said(&w, &short).await,
        "The summary must be 10 to 200 characters long."
    );
    let sent = w.fake.submit_modal(
        &asker,
        &submit_id,
        &[("summary", "My seed crashed at Ganon, what now?")],
    );
    let opened = said(&w, &sent).await;
    assert!(
        opened.starts_with("A new thread called <#")
            && opened.ends_with("has been opened for this inquiry."),
        "{opened}"
    );
    let thread_id: u64 = opened
        .split("<#")
        .nth(1)
        .and_then(|s| s.split('>').next())
        .unwrap()
        .parse()
        .unwrap();
    let thread = w.fake.threads()[&thread_id].clone();
    assert_eq!(thread["type"], 12, "a private thread: {thread}");
    assert_eq!(thread["parent_id"], "12");
    assert!(
        thread["name"]
            .as_str()
            .unwrap()
            .starts_with("Inquiry asker "),
        "{thread}"
    );
    let mut members = w.fake.thread_members(thread_id);
    members.sort_unstable();
    assert_eq!(members, vec![500, 501, 502]);
    let said_in_thread = w.fake.channel_messages(thread_id);
    assert_eq!(said_in_thread.len(), 1);
    assert_eq!(
        said_in_thread[0]["content"],
        "<@500> has opened an inquiry.\n\n**Description:** My seed crashed at Ganon, what now?"
    );
    let posted = w
        .fake
        .calls_to("POST", &format!("/channels/{thread_id}/messages"));
    assert_eq!(
        posted[0].body["allowed_mentions"]["parse"],
        json!([]),
        "nobody is pinged: {}",
        posted[0].body
    );
}

const AUDIT: u64 = 900;
const EXCLUDED: u64 = 950;
const MODS: u64 = 7_800;
const GENERAL: u64 = 20;

fn joined_now() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.6f+00:00")
        .to_string()
}

const LONG_AGO: &str = "2024-01-01T00:00:00.000000+00:00";

/// The bot's posts in `channel` whose embed is titled `title`.
fn embeds_titled(w: &World, channel: u64, title: &str) -> Vec<Json> {
    w.fake
        .channel_messages(channel)
        .into_iter()
        .filter(|m| m["embeds"][0]["title"] == title)
        .collect()
}

async fn wait_until(what: &str, check: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !check() {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn zip_with(name: &str) -> Vec<u8> {
    use std::io::Write;
    let mut bytes = std::io::Cursor::new(Vec::new());
    let mut writer = zip::ZipWriter::new(&mut bytes);
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    writer.start_file(name, options).unwrap();
    writer.write_all(b"not really a rom").unwrap();
    writer.finish().unwrap();
    bytes.into_inner()
}

#[tokio::test]
async fn moderation_removes_each_violation_once_and_the_audit_log_survives_a_restart() {
    use sha2::Digest;
    let mut w = world().await;
    Mock::given(method("GET"))
        .and(path("/bad-domains/hashes.json"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!([hex::encode(sha2::Sha256::digest(b"evil.example"))])),
        )
        .mount(&w.alttpr)
        .await;
    w.fake.set_roles(
        1,
        &[(1, DEFAULT_EVERYONE), (MODS, 1 << 5 /* Manage Server */)],
    );
    let admin = Invoker::admin(1, "owner");
    for (key, value) in [
        ("AuditLogChannel", format!("<#{AUDIT}>")),
        ("AuditLogging", "true".into()),
        ("AuditExcludedChannels", format!("<#{EXCLUDED}>")),
        ("Moderation", "true".into()),
    ] {
        let reply = set_config(&w, &admin, key, &value).await;
        assert!(reply["content"].as_str().unwrap().contains(key), "{reply}");
    }
    w.fake.add_member(1, 600, "newbie", &[]);
    w.fake.add_member(1, 601, "regular", &[]);
    w.fake.add_member(1, 602, "moddy", &[MODS]);
    let newbie = (600, "newbie");
    let regular = (601, "regular");

    // Each rule, once.
    let invite = w.fake.user_message(
        1,
        GENERAL,
        newbie,
        &joined_now(),
        "join us at discord.gg/abc",
        &[],
    );
    let exe_url = w
        .fake
        .host_file("setup.exe", "application/octet-stream", b"MZ".to_vec());
    let exe = w.fake.user_message(
        1,
        GENERAL,
        newbie,
        &joined_now(),
        "",
        &[("setup.exe", &exe_url, 2)],
    );
    let phish = w.fake.user_message(
        1,
        GENERAL,
        regular,
        LONG_AGO,
        "free nitro https://login.evil.example/claim",
        &[],
    );
    let zip = zip_with("roms/Zelda no Densetsu.sfc");
    let zip_url = w.fake.host_file("roms.zip", "application/zip", zip.clone());
    let zipped = w.fake.user_message(
        1,
        GENERAL,
        regular,
        LONG_AGO,
        "",
        &[("roms.zip", &zip_url, zip.len() as u64)],
    );
    let notices = |w: &World| {
        w.fake
            .channel_messages(GENERAL)
            .into_iter()
            .filter(|m| m["author"]["bot"] == true)
            .map(|m| m["content"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    wait_until("four notices", || notices(&w).len() >= 4).await;
    // A moderator may post what others may not; an old member may post invites.
    let rom_url = w
        .fake
        .host_file("game.sfc", "application/octet-stream", b"rom".to_vec());
    w.fake.user_message(
        1,
        GENERAL,
        (602, "moddy"),
        &joined_now(),
        "discord.gg/xyz",
        &[("game.sfc", &rom_url, 3)],
    );
    let fine = w.fake.user_message(
        1,
        GENERAL,
        regular,
        LONG_AGO,
        "our server: discord.gg/abc",
        &[],
    );
    // The same event again (a replay after a reconnect) changes nothing.
    w.fake.dispatch("MESSAGE_CREATE", phish.clone());
    tokio::time::sleep(Duration::from_millis(500)).await;
    let said = notices(&w);
    assert_eq!(said.len(), 4, "{said:#?}");
    assert!(
        said.iter()
            .any(|n| n.starts_with("<@600>, you must be on this server for longer than 24 hours"))
    );
    assert!(
        said.iter()
            .any(|n| n.starts_with("<@600>, please do not upload executable files."))
    );
    assert!(
        said.iter()
            .any(|n| n.starts_with("<@601>, your message seemed a bit... phishy."))
    );
    assert!(
        said.iter()
            .any(|n| n.starts_with("<@601>, a ROM was detected in the zip archive posted"))
    );
    for removed in [&invite, &exe, &phish, &zipped] {
        let deletes = w.fake.calls_to(
            "DELETE",
            &format!(
                "/channels/{GENERAL}/messages/{}",
                removed["id"].as_str().unwrap()
            ),
        );
        assert_eq!(deletes.len(), 1, "removed once: {removed}");
    }
    let remaining: Vec<Json> = w.fake.channel_messages(GENERAL);
    assert!(remaining.iter().any(|m| m["id"] == fine["id"]));
    assert!(remaining.iter().any(|m| m["author"]["username"] == "moddy"));
    let timed_out = w.fake.member(1, 601).unwrap();
    let until = chrono::DateTime::parse_from_rfc3339(
        timed_out["communication_disabled_until"].as_str().unwrap(),
    )
    .unwrap();
    let minutes = (until.timestamp() - chrono::Utc::now().timestamp()) / 60;
    assert!((28..=30).contains(&minutes), "timed out for {minutes} min");

    // The audit log: a recorded message, edited and deleted after a restart.
    let hello = w
        .fake
        .user_message(1, GENERAL, regular, LONG_AGO, "hello world", &[]);
    let quiet = w
        .fake
        .user_message(1, EXCLUDED, regular, LONG_AGO, "off the record", &[]);
    let history = |w: &World, who: &Invoker| {
        let sent = w.fake.slash_command(
            who,
            &["audit", "history"],
            &[("member", json!({"user": "601"}))],
            &[],
        );
        let fake = w.fake.clone();
        async move {
            fake.wait_for_reply(&sent, WAIT, |r| {
                r["content"].as_str().is_some_and(|c| !c.is_empty())
            })
            .await
        }
    };
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let reply = history(&w, &admin).await;
        if reply["content"].as_str().unwrap().starts_with("2 recorded") {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never recorded: {reply}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    w.restart_gateway().await;
    let edited = w.fake.user_edit(&hello, "hello there");
    w.fake.user_edit(&quiet, "still off the record");
    wait_until("the edit is logged", || {
        !embeds_titled(&w, AUDIT, "Message Edited").is_empty()
    })
    .await;
    w.fake.dispatch("MESSAGE_UPDATE", edited.clone());
    w.fake.user_delete(&edited);
    wait_until("the deletion is logged", || {
        !embeds_titled(&w, AUDIT, "Message Deleted").is_empty()
    })
    .await;
    w.fake.dispatch(
        "MESSAGE_DELETE",
        json!({"id": edited["id"], "channel_id": edited["channel_id"], "guild_id": "1"}),
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let edits = embeds_titled(&w, AUDIT, "Message Edited");
    assert_eq!(edits.len(), 1, "{edits:#?}");
    let fields = &edits[0]["embeds"][0]["fields"];
    assert_eq!(fields[0]["value"], "hello world");
    assert_eq!(fields[1]["value"], "hello there");
    assert!(
        edits[0]["embeds"][0]["description"]
            .as_str()
            .unwrap()
            .starts_with("**A message from <@601> was edited in <#20>.**")
    );
    let deletions = embeds_titled(&w, AUDIT, "Message Deleted");
    assert_eq!(deletions.len(), 1, "{deletions:#?}");
    assert_eq!(
        deletions[0]["embeds"][0]["description"],
        "**Message sent by <@601> was deleted in <#20>.**"
    );
    assert_eq!(
        deletions[0]["embeds"][0]["fields"][0]["value"],
        "hello there"
    );

    // Members joining, leaving, banned.
    let user = json!({"id": "603", "username": "visitor", "discriminator": "0", "global_name": null, "avatar": null});
    w.fake.dispatch(
        "GUILD_MEMBER_ADD",
        json!({"guild_id": "1", "user": user, "roles": [], "joined_at": joined_now(),
               "deaf": false, "mute": false, "flags": 0, "pending": false, "nick": null, "avatar": null}),
    );
    w.fake.dispatch(
        "GUILD_MEMBER_REMOVE",
        json!({"guild_id": "1", "user": user}),
    );
    w.fake
        .dispatch("GUILD_BAN_ADD", json!({"guild_id": "1", "user": user}));
    wait_until("joins, leaves and bans are logged", || {
        ["Member Joined", "Member Left", "Member Banned"]
            .iter()
            .all(|t| embeds_titled(&w, AUDIT, t).len() == 1)
    })
    .await;
    assert_eq!(
        embeds_titled(&w, AUDIT, "Member Joined")[0]["embeds"][0]["description"],
        "<@603> visitor"
    );
    // Nothing from the excluded channel ever reached the log.
    assert!(
        w.fake
            .channel_messages(AUDIT)
            .iter()
            .all(|m| !m.to_string().contains("off the record"))
    );

    // The export: moderators only, every version, deletions marked.
    let refused = history(&w, &Invoker::member(9, "nosy")).await;
    assert_eq!(
        refused["content"],
        "Only moderators (Manage Messages) can read the audit log."
    );
    let sent = w.fake.slash_command(
        &admin,
        &["audit", "history"],
        &[
            ("member", json!({"user": "601"})),
            ("deleted_only", json!(true)),
        ],
        &[],
    );
    let call = w
        .fake
        .wait_for_call(WAIT, |c| {
            c.path.ends_with("/messages/@original")
                && c.path.contains(&sent.token)
                && !c.files.is_empty()
        })
        .await;
    let (name, csv) = &call.files[0];
    assert_eq!(name, "601_deleted.csv");
    let mut reader = csv::Reader::from_reader(csv.as_slice());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let contents: Vec<&str> = rows.iter().map(|r| &r[3]).collect();
    assert_eq!(
        contents,
        ["hello there", "hello world"],
        "newest version first"
    );
    assert!(rows.iter().all(|r| &r[5] == "true"));
}
