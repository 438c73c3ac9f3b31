//! The fake's gateway websocket: HELLO, IDENTIFY/RESUME, heartbeats, dispatches.

use axum::body::Body;
use axum::extract::State;
use axum::http::{Request, Response};
use futures::{SinkExt, StreamExt};
use serde_json::{Value as Json, json};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::state::*;

pub(super) async fn gateway(
    State(fake): State<FakeDiscord>,
    mut request: Request<Body>,
) -> Response<Body> {
    crate::ws::accept(&mut request, move |ws| serve_gateway(fake, ws))
}

pub(super) async fn serve_gateway(fake: FakeDiscord, ws: crate::ws::ServerSocket) {
    let (mut sink, mut stream) = ws.split();
    let (tx, mut rx) = mpsc::unbounded_channel::<Outgoing>();
    let hello = json!({"op": 10, "d": {"heartbeat_interval": 41_250}});
    if sink.send(Message::text(hello.to_string())).await.is_err() {
        return;
    }
    loop {
        tokio::select! {
            out = rx.recv() => match out {
                Some(Outgoing::Frame(frame)) => {
                    if sink.send(Message::text(frame.to_string())).await.is_err() { break }
                }
                Some(Outgoing::Close(code)) => {
                    let _ = sink.send(Message::Close(Some(CloseFrame { code: CloseCode::from(code), reason: "".into() }))).await;
                    break;
                }
                None => break,
            },
            frame = stream.next() => match frame {
                Some(Ok(Message::Text(text))) => {
                    let Ok(payload) = serde_json::from_str::<Json>(text.as_str()) else {
                        let _ = sink.send(Message::Close(Some(CloseFrame { code: CloseCode::from(4002), reason: "Error while decoding payload.".into() }))).await;
                        break;
                    };
                    if let Err(code) = gateway_op(&fake, &payload, &tx) {
                        let _ = sink.send(Message::Close(Some(CloseFrame { code: CloseCode::from(code), reason: "".into() }))).await;
                        break;
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            }
        }
    }
}

/// One gateway opcode from the bot; `Err(close code)` ends the connection.
pub(super) fn gateway_op(
    fake: &FakeDiscord,
    payload: &Json,
    tx: &mpsc::UnboundedSender<Outgoing>,
) -> Result<(), u16> {
    match payload["op"].as_u64() {
        // Heartbeat → Heartbeat ACK.
        Some(1) => {
            let _ = tx.send(Outgoing::Frame(json!({"op": 11})));
            Ok(())
        }
        // Identify → READY.
        Some(2) => {
            if payload["d"]["token"].as_str() != Some(BOT_TOKEN)
                && payload["d"]["token"].as_str() != Some(&format!("Bot {BOT_TOKEN}"))
            {
                return Err(4004);
            }
            let session_id = format!("session-{}", fake.next_id());
            let shard = payload["d"]["shard"].clone();
            let mut inner = fake.lock();
            inner.identify_count += 1;
            let ready = json!({
                "v": 10,
                "user": {"id": snowflake(BOT_USER_ID), "username": "SahasrahBot", "discriminator": "0",
                         "global_name": null, "avatar": null, "bot": true, "mfa_enabled": false,
                         "verified": true, "flags": 0, "accent_color": null, "banner": null},
                "guilds": [{"id": "1", "unavailable": true}],
                "session_id": session_id,
                "resume_gateway_url": fake.gateway_url,
                "shard": if shard.is_null() { json!([0, 1]) } else { shard },
                "application": {"id": snowflake(APPLICATION_ID), "flags": 0},
            });
            let frame = json!({"op": 0, "t": "READY", "s": 1, "d": ready});
            inner.sessions.insert(
                session_id,
                Session {
                    seq: 1,
                    sent: vec![(1, frame.clone())],
                    live: Some(tx.clone()),
                },
            );
            let _ = tx.send(Outgoing::Frame(frame));
            Ok(())
        }
        // Resume: replay what the session missed, then RESUMED.
        Some(6) => {
            let session_id = payload["d"]["session_id"].as_str().unwrap_or_default();
            let seq = payload["d"]["seq"].as_u64().unwrap_or(0);
            let mut inner = fake.lock();
            inner.resume_count += 1;
            let Some(session) = inner.sessions.get_mut(session_id) else {
                // Invalid session, not resumable.
                let _ = tx.send(Outgoing::Frame(json!({"op": 9, "d": false})));
                return Ok(());
            };
            for (s, frame) in &session.sent {
                if *s > seq {
                    let _ = tx.send(Outgoing::Frame(frame.clone()));
                }
            }
            session.seq += 1;
            let resumed = json!({"op": 0, "t": "RESUMED", "s": session.seq, "d": {}});
            session.sent.push((session.seq, resumed.clone()));
            session.live = Some(tx.clone());
            let _ = tx.send(Outgoing::Frame(resumed));
            Ok(())
        }
        // Presence and voice updates, request guild members: accepted, nothing to answer.
        Some(3) | Some(4) | Some(8) => Ok(()),
        _ => Err(4001),
    }
}
