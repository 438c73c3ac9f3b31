//! The client against the fake racetime.gg: tokens, startrace, the socket's verdicts, token
//! expiry mid-session, dropped sockets with history catch-up.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use racetime_client::action::OutgoingMessage;
use racetime_client::{
    Action, ApiError, CallError, Credentials, RaceSettings, RacetimeHttp, Resume, RoomSocket,
    SocketConfig, SocketEvent, TokenManager,
};
use testkit::FakeRacetime;

fn credentials(id: &str, secret: &str) -> Credentials {
    Credentials {
        client_id: id.into(),
        client_secret: secret.to_string().into(),
    }
}

fn message(text: &str, guid: &str) -> Action {
    Action::Message(OutgoingMessage {
        message: text.into(),
        guid: guid.into(),
        ..Default::default()
    })
}

fn fast() -> SocketConfig {
    SocketConfig {
        backoff_min: Duration::from_millis(20),
        backoff_max: Duration::from_millis(200),
        call_timeout: Duration::from_secs(5),
        ..SocketConfig::default()
    }
}

/// The fake server, an HTTP client for it and the alttpr bot's token manager.
async fn connect() -> (FakeRacetime, RacetimeHttp, TokenManager) {
    testkit::init();
    let fake = FakeRacetime::start().await.unwrap();
    let http = RacetimeHttp::new(fake.url.parse().unwrap(), Duration::from_secs(5)).unwrap();
    let tokens = TokenManager::start(http.clone(), credentials("alttpr-id", "alttpr-secret"))
        .await
        .unwrap();
    (fake, http, tokens)
}

fn socket_for(
    http: &RacetimeHttp,
    path: &str,
    tokens: &TokenManager,
) -> (
    RoomSocket,
    tokio::sync::mpsc::UnboundedReceiver<SocketEvent>,
) {
    RoomSocket::spawn(
        http.clone(),
        path,
        tokens.clone(),
        fast(),
        Resume::default(),
    )
}

async fn next_matching(
    events: &mut tokio::sync::mpsc::UnboundedReceiver<SocketEvent>,
    f: impl Fn(&SocketEvent) -> bool,
) -> SocketEvent {
    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let event = events.recv().await.expect("socket task alive");
            if f(&event) {
                return event;
            }
        }
    })
    .await
    .expect("event in time")
}

#[tokio::test]
async fn startrace_socket_calls_and_server_errors() {
    let (fake, http, tokens) = connect().await;
    assert_eq!(
        http.token(&credentials("alttpr-id", "nope"))
            .await
            .unwrap_err(),
        ApiError::InvalidClient
    );

    let bad = RaceSettings {
        goal: "No such goal".into(),
        ..RaceSettings::default()
    };
    let error = http
        .start_race("alttpr", &tokens.current().access_token, &bad)
        .await
        .unwrap_err();
    assert_eq!(
        error,
        ApiError::Validation(vec!["You need to set a goal for this race.".into()])
    );
    assert_eq!(
        http.start_race("smz3", &tokens.current().access_token, &bad)
            .await
            .unwrap_err(),
        ApiError::NotFound("smz3".into())
    );

    let settings = RaceSettings {
        goal: "Beat the game".into(),
        info_user: "hello".into(),
        ..RaceSettings::default()
    };
    let name = http
        .start_race("alttpr", &tokens.current().access_token, &settings)
        .await
        .unwrap();
    let race = http.race_data(&name).await.unwrap();
    assert_eq!(race.opened_by_bot.as_deref(), Some("SahasrahBot"));
    let category = http
        .category_data("alttpr", &tokens.current().access_token)
        .await
        .unwrap();
    assert_eq!(category.current_races.len(), 1);

    let (socket, mut events) = socket_for(&http, &race.websocket_bot_url, &tokens);
    next_matching(&mut events, |e| matches!(e, SocketEvent::RaceData(_))).await;
    socket.call(message("Hello", "g-1")).await.unwrap();
    // The same guid again is dropped by the server, not an error.
    socket.call(message("Hello", "g-1")).await.unwrap();
    assert_eq!(fake.bot_messages(&name), vec!["Hello".to_string()]);
    let refused = socket
        .call(Action::Invite {
            user: "nobody".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(
        refused,
        CallError::Server(vec!["No user found matching the given ID.".into()])
    );
    assert_eq!(
        socket.call(Action::MakeOpen).await.unwrap_err(),
        CallError::Server(vec!["Race is not an invitational.".into()])
    );
    let alice = fake.add_user("Alice", &[]);
    socket
        .call(Action::Invite {
            user: alice.clone(),
        })
        .await
        .unwrap();
    assert!(
        socket
            .call(Action::Invite { user: alice })
            .await
            .unwrap_err()
            .to_string()
            .ends_with("is already an entrant.")
    );
    assert!(matches!(
        socket.call(message(&"x".repeat(1001), "g-2")).await,
        Err(CallError::Invalid(_))
    ));
}

#[tokio::test]
async fn expired_token_reconnects_and_retries_with_the_same_guid() {
    let (fake, http, tokens) = connect().await;
    let user = fake.add_user("Bob", &[]);
    let name = fake.open_room("alttpr", &user, "Beat the game", false);
    let race = http.race_data(&name).await.unwrap();
    let (socket, mut events) = socket_for(&http, &race.websocket_bot_url, &tokens);
    next_matching(&mut events, |e| {
        matches!(e, SocketEvent::Connected { reconnect: false })
    })
    .await;
    fake.expire_all_tokens();
    let calls_before = fake.token_calls();
    socket.call(message("after expiry", "g-exp")).await.unwrap();
    assert_eq!(fake.bot_messages(&name), vec!["after expiry".to_string()]);
    assert!(fake.token_calls() > calls_before, "a new token was minted");
    next_matching(&mut events, |e| {
        matches!(e, SocketEvent::Connected { reconnect: true })
    })
    .await;
}

#[tokio::test]
async fn dropped_sockets_reconnect_and_catch_up_on_chat() {
    let (fake, http, tokens) = connect().await;
    let user = fake.add_user("Carol", &[]);
    let name = fake.open_room("alttpr", &user, "Beat the game", true);
    let race = http.race_data(&name).await.unwrap();
    let (socket, mut events) = socket_for(&http, &race.websocket_bot_url, &tokens);
    next_matching(&mut events, |e| matches!(e, SocketEvent::History(_))).await;
    fake.chat(&name, &user, "before drop");
    next_matching(
        &mut events,
        |e| matches!(e, SocketEvent::Chat(m) if m.message == "before drop"),
    )
    .await;
    fake.drop_sockets(&name, 1011);
    // Said while the bot is away; history after reconnecting delivers it exactly once.
    fake.chat(&name, &user, "during the gap");
    let SocketEvent::History(missed) = next_matching(
        &mut events,
        |e| matches!(e, SocketEvent::History(m) if !m.is_empty()),
    )
    .await
    else {
        unreachable!()
    };
    let texts: Vec<&str> = missed.iter().map(|m| m.message.as_str()).collect();
    assert_eq!(texts, vec!["during the gap"]);
    assert_eq!(socket.latest().unwrap().name, name);
    assert_eq!(fake.socket_count(&name), 1);
    // Unknown room: handshake rejected.
    let (_gone, mut gone_events) = socket_for(&http, "/ws/o/bot/no-such-room-0000", &tokens);
    next_matching(&mut gone_events, |e| matches!(e, SocketEvent::NotFound)).await;
}
