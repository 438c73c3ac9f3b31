//! Tokens, sockets, replicas, hanging racetime.gg calls and stopping the service.

use super::*;

#[tokio::test]
async fn z1r_commands_token_expiry_dropped_sockets_and_a_second_replica() {
    let w = world().await;
    let (_one, client_one) = w.racetime().await;
    let (_two, client_two) = w.racetime().await;
    let bob = w.fake.add_user("Bob", &[]);
    let room = handled_room(&w, "z1r", &bob).await;
    w.fake.wait_for_bot(&room, WAIT, |l| !l.is_empty()).await;
    // Only one replica handles the room: one socket, one answer.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(w.fake.socket_count(&room), 1);
    // Either replica takes an injected command: the one without the room forwards it.
    for (mut client, command) in [
        (client_one.clone(), "!lock"),
        (client_two.clone(), "!unlock"),
        (client_one.clone(), "!unlock"),
    ] {
        client
            .inject_command(pb::InjectCommandRequest {
                room: room.clone(),
                command: command.into(),
                requested_by: "tests".into(),
            })
            .await
            .unwrap();
    }
    let lines = w
        .fake
        .wait_for_bot(&room, WAIT, |l| {
            l.iter().filter(|m| m.starts_with("Lock released.")).count() == 2
        })
        .await;
    assert_eq!(
        lines
            .iter()
            .filter(|m| m.starts_with("Lock initiated."))
            .count(),
        1
    );
    assert_eq!(
        w.fake.socket_count(&room),
        1,
        "forwarding does not take the room over"
    );

    w.fake.chat(&room, &bob, "!help");
    let lines = w
        .fake
        .wait_for_bot(&room, WAIT, |l| {
            l.iter().any(|m| m.starts_with("Available commands:"))
        })
        .await;
    assert_eq!(
        lines
            .iter()
            .filter(|m| m.starts_with("Available commands:"))
            .count(),
        1
    );

    // Tokens expire mid-session: the socket stays open, actions are refused until a reconnect.
    w.fake.expire_all_tokens();
    w.fake.chat(&room, &bob, "!race rr2024");
    let lines = w
        .fake
        .wait_for_bot(&room, WAIT, |l| {
            l.iter()
                .any(|m| m == "Seed rolling complete.  See race info for details.")
        })
        .await;
    assert!(
        lines.iter().any(|m| {
            m.starts_with("rr2024 - Flags: oIbq2JttN3ae9PzaCJOsVpXedaDD1C2B1yAt8 Seed: ")
        }),
        "{lines:#?}"
    );
    assert!(
        w.fake.race(&room)["info_bot"]
            .as_str()
            .unwrap()
            .starts_with("Flags: oIbq2JttN3ae9PzaCJOsVpXedaDD1C2B1yAt8 Seed: ")
    );

    // The socket drops; a command said during the gap is answered after the reconnect.
    w.fake.drop_sockets(&room, 1011);
    w.fake.chat(&room, &bob, "!cancel");
    w.fake
        .wait_for_bot(&room, WAIT, |l| {
            l.iter()
                .any(|m| m == "Reseting bot state.  You may now roll a new game.")
        })
        .await;
    w.fake.chat(&room, &bob, "!flags ABCDEF");
    w.fake
        .wait_for_bot(&room, WAIT, |l| {
            l.iter()
                .any(|m| m.starts_with("Seed: ") && m.ends_with(" - Flags: ABCDEF"))
        })
        .await;
    let lines = w.fake.bot_messages(&room);
    assert_eq!(
        lines
            .iter()
            .filter(|m| m.starts_with("Reseting bot state"))
            .count(),
        1,
        "{lines:#?}"
    );
    assert_eq!(w.fake.socket_count(&room), 1);
}

/// startrace that creates the room and then hangs past the client's timeout is recovered
/// without a second room; a category whose credentials are refused does not stop the others.
#[tokio::test]
async fn a_hanging_startrace_and_rejected_credentials() {
    let w = world().await;
    w.fake.add_category("badcat", &["Beat the game"]);
    let (_service, mut client) = w
        .racetime_with(|s| {
            s.http_timeout_secs = 1;
            s.categories.insert(
                "badcat".into(),
                serde_json::from_value(json!({"client_id": "badcat-id", "client_secret": "wrong"}))
                    .unwrap(),
            );
        })
        .await;
    w.fake
        .set_startrace_fault(Some(StartraceFault::CreateThenHang(Duration::from_secs(3))));
    let request = pb::OpenRoomRequest {
        idempotency_key: "hang-1".into(),
        category: "alttpr".into(),
        settings: Some(pb::RoomSettings {
            goal: "Beat the game".into(),
            info_user: "hang test".into(),
            ..Default::default()
        }),
    };
    let first = client.open_room(request.clone()).await;
    let again = client.open_room(request).await.unwrap().into_inner();
    if let Ok(first) = first {
        assert_eq!(first.into_inner().name, again.name);
    }
    assert_eq!(
        w.fake.startrace_calls(),
        1,
        "the room was found, not posted again"
    );
    assert_eq!(w.fake.race_names("alttpr").len(), 1);

    // badcat's credentials are refused: its calls fail typed, alttpr keeps working.
    let error = client
        .open_room(pb::OpenRoomRequest {
            idempotency_key: "bad-1".into(),
            category: "badcat".into(),
            settings: Some(pb::RoomSettings {
                goal: "Beat the game".into(),
                ..Default::default()
            }),
        })
        .await
        .unwrap_err();
    assert!(
        matches!(
            error.code(),
            tonic::Code::FailedPrecondition | tonic::Code::Unavailable | tonic::Code::NotFound
        ),
        "{error:?}"
    );
    let alice = w.fake.add_user("Alice", &[]);
    let room = handled_room(&w, "alttpr", &alice).await;
    said(&w, &room, &alice, "!help", "Available commands:").await;
}

async fn lease_count(w: &World) -> i64 {
    let db = Database::connect(w.db.url()).await.unwrap();
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) FROM racetime_room_leases",
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

#[tokio::test]
async fn stopping_the_service_stops_every_room_actor_before_the_database_closes() {
    let w = world().await;
    let (racetime, _client) = w.racetime().await;
    let rooms = [
        handled_room(&w, "alttpr", "racer1").await,
        handled_room(&w, "z1r", "racer2").await,
    ];
    assert_eq!(lease_count(&w).await, 2, "one lease per handled room");
    racetime.stop().await.unwrap();
    // Each actor left its room and released its lease as it stopped: both need the service's
    // connections, so both happened before the stop returned and the pool closed.
    for room in &rooms {
        assert_eq!(w.fake.socket_count(room), 0, "{room} still connected");
    }
    assert_eq!(lease_count(&w).await, 0, "a lease outlived its actor");
}
