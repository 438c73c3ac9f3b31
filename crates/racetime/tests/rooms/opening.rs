//! OpenRoom and KONOT: rooms the bot opens itself.

use super::*;

#[tokio::test]
async fn open_room_never_makes_two_rooms_for_one_key() {
    let w = world().await;
    let (_service, client) = w.racetime().await;
    let request = |key: &str| pb::OpenRoomRequest {
        idempotency_key: key.into(),
        category: "alttpr".into(),
        settings: Some(pb::RoomSettings {
            goal: "Beat the game".into(),
            invitational: true,
            info_user: format!("match {key}"),
            ..Default::default()
        }),
    };
    // Concurrent identical calls.
    let calls = (0..6).map(|_| {
        let mut client = client.clone();
        let request = request("match-1");
        async move { client.open_room(request).await }
    });
    let results = futures::future::join_all(calls).await;
    let names: std::collections::BTreeSet<String> = results
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(|r| r.get_ref().name.clone())
        .collect();
    assert_eq!(names.len(), 1, "{results:?}");
    assert_eq!(w.fake.startrace_calls(), 1);
    let room = names.into_iter().next().unwrap();
    assert_eq!(w.fake.race(&room)["status"]["value"], "invitational");

    // startrace creates the room but answers 502: the retry finds it instead of posting again.
    w.fake
        .set_startrace_fault(Some(StartraceFault::CreateThenBadGateway));
    let mut c = client.clone();
    let first = c.open_room(request("match-2")).await;
    let second = c.open_room(request("match-2")).await.unwrap().into_inner();
    if let Ok(first) = first {
        assert_eq!(first.into_inner().name, second.name);
    }
    assert_eq!(w.fake.startrace_calls(), 2);
    assert_eq!(w.fake.race_names("alttpr").len(), 2);
    w.wait_outbox("racetime.room.opened", 2).await;

    // A goal the category lacks becomes a custom goal; bad settings are refused before posting.
    let mut bad = request("match-3");
    bad.settings.as_mut().unwrap().start_delay_seconds = 5;
    let error = c.open_room(bad).await.unwrap_err();
    assert_eq!(error.code(), tonic::Code::InvalidArgument);
    assert!(
        error.message().contains("start_delay"),
        "{}",
        error.message()
    );
    assert_eq!(w.fake.startrace_calls(), 2);

    // Server refusals come back typed.
    let error = c
        .invite_user(pb::RoomUserRequest {
            room: room.clone(),
            user_id: "nobody".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(error.code(), tonic::Code::FailedPrecondition);
    assert_eq!(error.message(), "No user found matching the given ID.");
    let carol = w.fake.add_user("Carol", &[]);
    c.invite_user(pb::RoomUserRequest {
        room: room.clone(),
        user_id: carol.clone(),
    })
    .await
    .unwrap();
    c.send_message(pb::SendMessageRequest {
        idempotency_key: "k1".into(),
        room: room.clone(),
        text: "Tournament Controls:".into(),
        pinned: true,
        actions: vec![pb::ActionButton {
            label: "Roll Tournament Seed".into(),
            message: "!tournamentrace".into(),
            ..Default::default()
        }],
        ..Default::default()
    })
    .await
    .unwrap();
    c.send_message(pb::SendMessageRequest {
        idempotency_key: "k1".into(),
        room: room.clone(),
        text: "Tournament Controls:".into(),
        pinned: true,
        ..Default::default()
    })
    .await
    .unwrap();
    let pinned: Vec<_> = w
        .fake
        .messages(&room)
        .into_iter()
        .filter(|m| m.pinned)
        .collect();
    assert_eq!(pinned.len(), 1);
    assert_eq!(
        pinned[0].actions["Roll Tournament Seed"]["message"],
        "!tournamentrace"
    );
    let got = c
        .get_room(pb::GetRoomRequest { room: room.clone() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.entrants.len(), 1);
    assert_eq!(got.entrants[0].status, "invited");
    let error = c
        .get_room(pb::GetRoomRequest {
            room: "alttpr/no-such-room-1".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(error.code(), tonic::Code::NotFound);
    let listed = c
        .list_rooms(pb::ListRoomsRequest {
            category: "alttpr".into(),
            active_only: true,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.rooms.len(), 2);
}

#[tokio::test]
async fn konot_opens_the_next_room_and_invites_who_advances() {
    let w = world().await;
    let (_service, _client) = w.racetime().await;
    let users: Vec<String> = ["A", "B", "C"]
        .iter()
        .map(|n| w.fake.add_user(n, &[]))
        .collect();
    let room = w
        .fake
        .open_room("alttpr", &users[0], "Beat the game", false);
    wait_handled(&w.fake, &room).await;
    w.fake.chat(&room, &users[1], "!konot");
    w.fake
        .wait_for_bot(&room, WAIT, |l| {
            l.iter()
                .any(|m| m.starts_with("Setting up new KONOT race series!"))
        })
        .await;
    w.fake.chat(&room, &users[1], "!konot");
    w.fake
        .wait_for_bot(&room, WAIT, |l| {
            l.iter()
                .any(|m| m == "This room is already segment #1 of a KONOT series.")
        })
        .await;
    for u in &users {
        w.fake.join(&room, u);
    }
    for u in &users {
        w.fake.ready(&room, u);
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
    for u in &users {
        w.fake.finish(&room, u);
    }
    let lines = w
        .fake
        .wait_for_bot(&room, WAIT, |l| {
            l.iter().any(|m| m.starts_with("Next race room at "))
        })
        .await;
    let next = lines
        .iter()
        .find_map(|m| m.strip_prefix("Next race room at "))
        .unwrap();
    let next = next
        .trim_start_matches(&w.fake.url)
        .trim_start_matches('/')
        .to_string();
    let race = w.fake.race(&next);
    assert_eq!(race["info_user"], "KONOT Series, Segment #2");
    assert_eq!(race["status"]["value"], "invitational");
    let invited: Vec<String> = race["entrants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["user"]["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(invited.len(), 2, "the last finisher is eliminated: {race}");
    assert!(!invited.contains(&users[2]));
}
