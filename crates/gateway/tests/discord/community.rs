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
