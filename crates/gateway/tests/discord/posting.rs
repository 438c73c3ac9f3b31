//! What other services ask the gateway to post: messages, DMs, scheduled events, race watch.

use super::*;

#[tokio::test]
async fn send_message_is_idempotent_and_blocked_dms_are_typed() {
    let w = world().await;
    let mut client = DiscordClient::connect(w.gateway().grpc_url())
        .await
        .unwrap();
    let request = pb::SendMessageRequest {
        idempotency_key: "tournament:room-opened:1".into(),
        channel_id: 555,
        content: "Room opened".into(),
        embeds: vec![pb::Embed {
            title: "Match 1".into(),
            fields: vec![pb::EmbedField {
                name: "Room".into(),
                value: "https://racetime.gg/alttpr/x".into(),
                inline: false,
            }],
            ..Default::default()
        }],
    };
    let first = client
        .send_message(request.clone())
        .await
        .unwrap()
        .into_inner();
    let again = client.send_message(request).await.unwrap().into_inner();
    assert_eq!(first, again);
    let posted = w.fake.channel_messages(555);
    assert_eq!(posted.len(), 1);
    // A 429 is waited out and the message still goes out once.
    w.fake.rate_limit("/channels/557/messages", 1);
    let limited = client
        .send_message(pb::SendMessageRequest {
            idempotency_key: "k-limited".into(),
            channel_id: 557,
            content: "after the limit".into(),
            embeds: vec![],
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(w.fake.channel_messages(557).len(), 1);
    assert_eq!(w.fake.calls_to("POST", "/channels/557/messages").len(), 2);
    assert_ne!(limited.message_id, 0);
    assert_eq!(posted[0]["embeds"][0]["title"], "Match 1");

    w.fake.forbid_channel(556);
    let error = client
        .send_message(pb::SendMessageRequest {
            idempotency_key: "k2".into(),
            channel_id: 556,
            content: "x".into(),
            embeds: vec![],
        })
        .await
        .unwrap_err();
    assert_eq!(error.code(), tonic::Code::PermissionDenied, "{error:?}");

    w.fake.block_dms(99);
    let error = client
        .send_direct_message(pb::SendDirectMessageRequest {
            idempotency_key: "dm-1".into(),
            user_id: 99,
            content: "Your match starts soon".into(),
            embeds: vec![],
        })
        .await
        .unwrap_err();
    assert_eq!(error.code(), tonic::Code::FailedPrecondition);
    assert!(
        error.message().starts_with("dm_blocked"),
        "{}",
        error.message()
    );
    let ok = client
        .send_direct_message(pb::SendDirectMessageRequest {
            idempotency_key: "dm-2".into(),
            user_id: 100,
            content: "Your match starts soon".into(),
            embeds: vec![],
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(Some(ok.channel_id), w.fake.dm_channel(100));
    assert_eq!(w.fake.channel_messages(ok.channel_id).len(), 1);
}

#[tokio::test]
async fn scheduled_events_are_created_once_per_key_updated_and_deleted() {
    let w = world().await;
    let mut client = DiscordClient::connect(w.gateway().grpc_url())
        .await
        .unwrap();
    let start = chrono::Utc::now() + chrono::Duration::days(1);
    let event = pb::ScheduledEvent {
        idempotency_key: "episode:42:event".into(),
        guild_id: 1,
        event_id: 0,
        name: "Alice vs Bob".into(),
        description: "Round 1".into(),
        location: "https://racetime.gg/alttpr/x".into(),
        start_time: Some(platform::grpc::timestamp(start)),
        end_time: Some(platform::grpc::timestamp(
            start + chrono::Duration::hours(2),
        )),
    };
    let first = client
        .create_scheduled_event(event.clone())
        .await
        .unwrap()
        .into_inner();
    let again = client
        .create_scheduled_event(event.clone())
        .await
        .unwrap()
        .into_inner();
    assert_ne!(first.event_id, 0);
    assert_eq!(first.event_id, again.event_id);
    assert_eq!(w.fake.scheduled_events().len(), 1);

    let mut renamed = first.clone();
    renamed.name = "Alice vs Carol".into();
    client.update_scheduled_event(renamed).await.unwrap();
    assert_eq!(
        w.fake.scheduled_events()[&first.event_id]["name"],
        "Alice vs Carol"
    );

    // An end before the start is refused before Discord is asked.
    let mut backwards = event.clone();
    backwards.idempotency_key = "episode:43:event".into();
    backwards.end_time = Some(platform::grpc::timestamp(
        start - chrono::Duration::hours(1),
    ));
    let error = client.create_scheduled_event(backwards).await.unwrap_err();
    assert_eq!(error.code(), tonic::Code::InvalidArgument);

    let delete = pb::DeleteScheduledEventRequest {
        guild_id: 1,
        event_id: first.event_id,
    };
    client.delete_scheduled_event(delete).await.unwrap();
    // A retried delete of an event that is already gone still succeeds.
    client.delete_scheduled_event(delete).await.unwrap();
    assert!(w.fake.scheduled_events().is_empty());
}

#[tokio::test]
async fn a_watched_racer_starting_a_race_is_posted_once() {
    use prost::Message as _;
    let w = world().await;
    let admin = Invoker::admin(1, "owner");
    for (key, value) in [
        ("RaceWatchChannel", "<#880>"),
        ("RaceWatchCategories", "alttpr"),
        ("RaceWatchPlayers", "abc"),
    ] {
        set_config(&w, &admin, key, value).await;
    }
    let event = proto::events::v1::RaceStatusChanged {
        category: "alttpr".into(),
        room_slug: "cool-race-1234".into(),
        status: "in_progress".into(),
        previous_status: "pending".into(),
        room: "alttpr/cool-race-1234".into(),
        room_url: "https://racetime.gg/alttpr/cool-race-1234".into(),
        version: 7,
        entrants: vec![
            proto::events::v1::RaceEntrant {
                user_id: "abc".into(),
                name: "Watched".into(),
                ..Default::default()
            },
            proto::events::v1::RaceEntrant {
                user_id: "xyz".into(),
                name: "Other".into(),
                ..Default::default()
            },
        ],
        ..Default::default()
    };
    let id = uuid::Uuid::now_v7().to_string();
    let envelope = proto::events::v1::Envelope {
        id: id.clone(),
        occurred_at: Some(platform::grpc::timestamp(chrono::Utc::now())),
        source: "racetime".into(),
        subject: "racetime.race.status_changed".into(),
        trace: None,
        payload: Some(prost_types::Any::from_msg(&event).unwrap()),
    };
    let jetstream = w.nats.jetstream().await.unwrap();
    // Delivered twice (a redelivery): posted once.
    for _ in 0..2 {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(
            async_nats::header::NATS_MESSAGE_ID,
            format!("{id}-{}", uuid::Uuid::now_v7()).as_str(),
        );
        jetstream
            .publish_with_headers(
                format!("{}.racetime.race.status_changed", w.nats.subject_prefix),
                headers,
                envelope.encode_to_vec().into(),
            )
            .await
            .unwrap()
            .await
            .unwrap();
    }
    let deadline = tokio::time::Instant::now() + WAIT;
    while w.fake.channel_messages(880).is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "no race watch post");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let posts = w.fake.channel_messages(880);
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert_eq!(
        posts[0]["embeds"][0]["title"],
        "Watchlisted Player Detected in race"
    );
    assert_eq!(
        posts[0]["embeds"][0]["description"],
        "Watchlisted player [Watched](https://racetime.gg/user/abc) began racing in [alttpr/cool-race-1234](https://racetime.gg/alttpr/cool-race-1234)"
    );
}

#[tokio::test]
async fn members_are_found_by_id_and_by_discord_tag() {
    let w = world().await;
    let mut client = DiscordClient::connect(w.gateway().grpc_url())
        .await
        .unwrap();
    w.fake.add_member(700, 41, "carol", &[7001, 7002]);
    w.fake.add_member(700, 42, "carolina", &[]);
    w.fake.add_member(701, 43, "dave", &[]);
    let carol = client
        .get_member(pb::GetMemberRequest {
            guild_id: 700,
            user_id: 41,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(carol.username, "carol");
    assert_eq!(carol.role_ids, vec![7001, 7002]);
    let elsewhere = client
        .get_member(pb::GetMemberRequest {
            guild_id: 700,
            user_id: 43,
        })
        .await
        .unwrap_err();
    assert_eq!(elsewhere.code(), tonic::Code::NotFound, "{elsewhere:?}");
    // By tag: the exact username, new style with or without `#0`, any case; not a prefix.
    for tag in ["carol", "carol#0", "Carol", "@carol"] {
        let found = client
            .find_member(pb::FindMemberRequest {
                guild_id: 700,
                tag: tag.into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(found.user_id, 41, "{tag}");
    }
    let carolina = client
        .find_member(pb::FindMemberRequest {
            guild_id: 700,
            tag: "carolina#0".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(carolina.user_id, 42);
    for tag in ["caro", "carol#1234", "dave"] {
        let missing = client
            .find_member(pb::FindMemberRequest {
                guild_id: 700,
                tag: tag.into(),
            })
            .await
            .unwrap_err();
        assert_eq!(missing.code(), tonic::Code::NotFound, "{tag}");
    }
    let empty = client
        .find_member(pb::FindMemberRequest {
            guild_id: 700,
            tag: "#0".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(empty.code(), tonic::Code::InvalidArgument);
}
