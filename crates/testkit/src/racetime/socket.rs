//! The fake's bot websocket: every action and error string, pings and closes.

use std::collections::HashMap;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{Request, Response, StatusCode};
use futures::{SinkExt, StreamExt};
use serde_json::{Value as Json, json};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, frame::coding::CloseCode};

use super::http::{Resp, bearer};
use super::state::*;

pub(super) async fn websocket(
    State(fake): State<FakeRacetime>,
    Path(slug): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    mut request: Request<Body>,
) -> Resp {
    let name = {
        let inner = fake.lock();
        inner
            .races
            .iter()
            .find(|(_, r)| r.slug == slug)
            .map(|(n, _)| n.clone())
    };
    let Some(name) = name else {
        // daphne's serverReject after the consumer never accepted.
        let mut response = Response::new(Body::from("Access denied"));
        *response.status_mut() = StatusCode::FORBIDDEN;
        return response;
    };
    let token = bearer(request.headers())
        .or_else(|| query.get("token").cloned())
        .unwrap_or_default();
    crate::ws::accept(&mut request, move |ws| serve_socket(fake, name, token, ws))
}

pub(super) async fn serve_socket<S>(
    fake: FakeRacetime,
    name: String,
    token: String,
    ws: WebSocketStream<S>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let (mut sink, mut stream) = ws.split();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let ping_interval = {
        let mut inner = fake.lock();
        let Some(race) = inner.races.get(&name) else {
            return;
        };
        let race_json = inner.race_json(race);
        let version = race.version;
        let _ = tx.send(Outgoing::Frame(json!({"type": "race.data", "date": now().to_rfc3339(), "race": race_json, "version": version})));
        let _ = tx.send(Outgoing::Frame(json!({"type": "race.renders", "date": now().to_rfc3339(), "renders": {}, "version": version})));
        if let Some(race) = inner.races.get_mut(&name) {
            race.sockets.push(SocketRec { tx: tx.clone() });
        }
        inner.ping_interval
    };
    let mut pinger = tokio::time::interval(ping_interval.unwrap_or(Duration::from_secs(3600)));
    pinger.tick().await;
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
            _ = pinger.tick(), if ping_interval.is_some() => {
                if sink.send(Message::Ping(Vec::new().into())).await.is_err() { break }
            }
            frame = stream.next() => match frame {
                Some(Ok(Message::Text(text))) => {
                    match handle_action(&fake, &name, &token, text.as_str()) {
                        Ok(replies) => for reply in replies {
                            let _ = tx.send(Outgoing::Frame(reply));
                        },
                        Err(()) => {
                            let _ = sink.send(Message::Close(Some(CloseFrame { code: CloseCode::Error, reason: "".into() }))).await;
                            break;
                        }
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            }
        }
    }
}

pub(super) fn error(messages: &[&str]) -> Vec<Json> {
    vec![json!({"type": "error", "date": now().to_rfc3339(), "errors": messages})]
}

/// One bot action; Ok(frames for this connection only) or Err(()) for a consumer crash (1011).
pub(super) fn handle_action(
    fake: &FakeRacetime,
    name: &str,
    token: &str,
    text: &str,
) -> Result<Vec<Json>, ()> {
    let Ok(frame) = serde_json::from_str::<Json>(text) else {
        return Ok(error(&[
            "Unable to process that message (encountered invalid or possibly corrupted data). Sorry about that.",
        ]));
    };
    let Some(frame) = frame.as_object() else {
        return Err(());
    };
    let action = frame
        .get("action")
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_string();
    let data = frame.get("data").cloned().unwrap_or(Json::Null);
    let mut inner = fake.lock();
    inner.actions.push((name.to_string(), action.clone()));
    match action.as_str() {
        "ping" => return Ok(vec![json!({"type": "pong", "date": now().to_rfc3339()})]),
        "getrace" => {
            let Some(race) = inner.races.get(name) else {
                return Ok(vec![]);
            };
            return Ok(vec![
                json!({"type": "race.data", "date": now().to_rfc3339(), "race": inner.race_json(race), "version": race.version}),
            ]);
        }
        "gethistory" => {
            if data.is_null() {
                return Err(());
            }
            let Some(race) = inner.races.get(name) else {
                return Ok(vec![]);
            };
            let public: Vec<&Json> = race
                .messages
                .iter()
                .filter(|m| m["is_dm"] != json!(true))
                .collect();
            let after = data.get("last_message").and_then(Json::as_str);
            let start = after
                .and_then(|id| {
                    public
                        .iter()
                        .position(|m| m["id"] == json!(id))
                        .map(|p| p + 1)
                })
                .unwrap_or(0);
            let mut chosen: Vec<Json> = public[start..]
                .iter()
                .rev()
                .take(100)
                .rev()
                .map(|m| (*m).clone())
                .collect();
            let pinned: Vec<Json> = public[..start]
                .iter()
                .filter(|m| m["is_pinned"] == json!(true))
                .map(|m| (*m).clone())
                .collect();
            chosen.retain(|m| m["is_pinned"] != json!(true));
            let pinned_new: Vec<Json> = public[start..]
                .iter()
                .filter(|m| m["is_pinned"] == json!(true))
                .map(|m| (*m).clone())
                .collect();
            chosen.extend(pinned);
            chosen.extend(pinned_new);
            return Ok(vec![
                json!({"type": "chat.history", "date": now().to_rfc3339(), "messages": chosen}),
            ]);
        }
        _ => {}
    }
    let known = [
        "message",
        "pin_message",
        "unpin_message",
        "setinfo",
        "setmeta",
        "make_open",
        "make_invitational",
        "begin",
        "cancel",
        "invite",
        "accept_request",
        "force_unready",
        "remove_entrant",
        "add_monitor",
        "remove_monitor",
        "override_stream",
    ];
    if !known.contains(&action.as_str()) {
        return Ok(error(&[
            "Action is missing or not recognised. Check your input and try again.",
        ]));
    }
    let category = inner
        .races
        .get(name)
        .map(|r| r.category.clone())
        .unwrap_or_default();
    if inner.token_category(token).as_deref() != Some(category.as_str()) {
        return Ok(error(&[
            "Permission denied. Check your authorization token.",
        ]));
    }
    if data.is_null() && matches!(action.as_str(), "message" | "setinfo" | "setmeta") {
        return Err(());
    }
    let user_of = |data: &Json| {
        data.get("user")
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_string()
    };
    match action.as_str() {
        "message" => {
            let guid = data.get("guid").and_then(Json::as_str).unwrap_or_default();
            if guid.is_empty()
                || !guid
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase() || b == b'-')
            {
                return Ok(error(&[
                    "Bad request, no GUID supplied. A unique string is required to prevent duplicate messaging.",
                ]));
            }
            let Some(race) = inner.races.get(name) else {
                return Ok(vec![]);
            };
            if inner.chat_closed(race) {
                return Ok(error(&[
                    "This race chat is now closed. No new messages may be added.",
                ]));
            }
            if race
                .guids
                .get(guid)
                .is_some_and(|seen| seen.elapsed() < Duration::from_secs(300))
            {
                return Ok(vec![]);
            }
            let text = data
                .get("message")
                .and_then(Json::as_str)
                .unwrap_or_default()
                .trim()
                .to_string();
            let length = text.chars().count();
            if length == 0 {
                return Ok(error(&["message: This field is required."]));
            }
            if length > 1000 {
                return Ok(vec![
                    json!({"type": "error", "errors": [format!("message: Ensure this value has at most 1000 characters (it has {length}).")]}),
                ]);
            }
            let actions = data
                .get("actions")
                .cloned()
                .filter(|a| a.is_object())
                .unwrap_or(json!({}));
            if actions.as_object().is_some_and(|a| a.len() > 4) {
                return Ok(error(&[
                    "actions: A message may only have up to 4 actions.",
                ]));
            }
            let direct_to = data
                .get("direct_to")
                .and_then(Json::as_str)
                .map(str::to_string);
            if let Some(user) = &direct_to
                && !inner.users.contains_key(user)
            {
                return Ok(error(&["direct_to: Unrecognised user"]));
            }
            let pinned = data.get("pinned").and_then(Json::as_bool).unwrap_or(false);
            if let Some(race) = inner.races.get_mut(name) {
                race.guids.insert(guid.to_string(), Instant::now());
            }
            inner.post(
                name,
                None,
                true,
                &text,
                pinned,
                actions,
                direct_to.as_deref(),
            );
        }
        "pin_message" | "unpin_message" => {
            let id = data
                .get("message")
                .and_then(Json::as_str)
                .unwrap_or_default();
            let pin = action == "pin_message";
            let Some(race) = inner.races.get_mut(name) else {
                return Ok(vec![]);
            };
            let Some(message) = race.messages.iter_mut().find(|m| m["id"] == json!(id)) else {
                return Ok(error(&["Could not find a message with that ID."]));
            };
            message["is_pinned"] = json!(pin);
            let message = message.clone();
            inner.broadcast(
                name,
                json!({"type": if pin { "chat.pin" } else { "chat.unpin" }, "message": message}),
            );
        }
        "setinfo" => {
            let Some(race) = inner.races.get_mut(name) else {
                return Ok(vec![]);
            };
            for (key, slot) in [
                ("info_bot", &mut race.info_bot),
                ("info_user", &mut race.info_user),
            ] {
                if let Some(value) = data.get(key).and_then(Json::as_str)
                    && !value.trim().is_empty()
                {
                    *slot = value.to_string();
                }
            }
            inner.system(
                name,
                &format!("##bot##{BOT_NAME}## updated the race information."),
            );
            inner.bump(name);
        }
        "setmeta" => {
            let Some(meta) = data.as_object() else {
                return Err(());
            };
            let Some(race) = inner.races.get_mut(name) else {
                return Ok(vec![]);
            };
            let mut merged = race.bot_meta.clone();
            merged.extend(meta.clone());
            if Json::Object(merged.clone()).to_string().len() > 2048 {
                return Ok(error(&["Data provided is too large to save."]));
            }
            race.bot_meta = merged;
            race.version += 1;
        }
        "make_open" | "make_invitational" => {
            let (from, to, text) = if action == "make_open" {
                (
                    "invitational",
                    "open",
                    format!("{BOT_NAME} sets the race to be open. Anyone may now join."),
                )
            } else {
                (
                    "open",
                    "invitational",
                    format!("{BOT_NAME} sets the race to be invite only."),
                )
            };
            let Some(race) = inner.races.get_mut(name) else {
                return Ok(vec![]);
            };
            if race.status != from {
                return Ok(error(&[if from == "open" {
                    "Race is not open."
                } else {
                    "Race is not an invitational."
                }]));
            }
            race.status = to.into();
            inner.system(name, &text);
            inner.bump(name);
        }
        "begin" => {
            let ready = inner.races.get(name).map_or(0, |r| {
                r.entrants.iter().filter(|e| e.status == "ready").count()
            });
            let preparing = inner
                .races
                .get(name)
                .is_some_and(|r| r.status == "open" || r.status == "invitational");
            if !preparing || ready < 2 {
                return Ok(error(&["Race cannot be started yet."]));
            }
            drop(inner);
            fake.begin(name);
            return Ok(vec![]);
        }
        "cancel" => {
            let Some(race) = inner.races.get_mut(name) else {
                return Ok(vec![]);
            };
            if is_done(&race.status) {
                let status = race.status.clone();
                return Ok(vec![
                    json!({"type": "error", "errors": [format!("Cannot cancel a race that is in {status} state.")]}),
                ]);
            }
            race.status = "cancelled".into();
            race.ended_at = Some(now());
            inner.system(
                name,
                &format!("This race has been cancelled by {BOT_NAME}."),
            );
            inner.bump(name);
        }
        "invite" => {
            let user = user_of(&data);
            if !inner.users.contains_key(&user) {
                return Ok(error(&["No user found matching the given ID."]));
            }
            let user_name = inner.user_name(&user);
            let busy_elsewhere = inner.races.iter().any(|(n, r)| {
                n != name
                    && !is_done(&r.status)
                    && r.status != "open"
                    && r.status != "invitational"
                    && r.entrants
                        .iter()
                        .any(|e| e.user == user && e.status == "in_progress")
            });
            let Some(race) = inner.races.get_mut(name) else {
                return Ok(vec![]);
            };
            if race.entrants.iter().any(|e| e.user == user) {
                return Ok(vec![
                    json!({"type": "error", "errors": [format!("{user_name} is already an entrant.")]}),
                ]);
            }
            if !(race.status == "open" || race.status == "invitational") {
                return Ok(error(&["User is not eligible to join this race."]));
            }
            if busy_elsewhere {
                return Ok(vec![
                    json!({"type": "error", "errors": [format!("{user_name} is not allowed to join this race.")]}),
                ]);
            }
            race.entrants.push(EntrantRec {
                user,
                status: "invited".into(),
                finish_time: None,
                place: None,
                team: None,
            });
            inner.system(
                name,
                &format!("{BOT_NAME} invites {user_name} to join the race."),
            );
            inner.bump(name);
        }
        "accept_request" => {
            let user = user_of(&data);
            let user_name = inner.user_name(&user);
            let Some(race) = inner.races.get_mut(name) else {
                return Ok(vec![]);
            };
            let Some(entrant) = race.entrants.iter_mut().find(|e| e.user == user) else {
                return Ok(error(&["Specified user is not a race entrant."]));
            };
            if entrant.status != "requested" {
                return Ok(error(&[
                    "This user has not requested to join this race. Refresh to continue.",
                ]));
            }
            entrant.status = "not_ready".into();
            inner.system(
                name,
                &format!("{BOT_NAME} accepts a request to join from {user_name}."),
            );
            inner.bump(name);
        }
        "add_monitor" | "remove_monitor" => {
            let user = user_of(&data);
            let user_name = inner.user_name(&user);
            let Some(race) = inner.races.get_mut(name) else {
                return Ok(vec![]);
            };
            if !race.entrants.iter().any(|e| e.user == user) {
                return Ok(error(&["Specified user is not a race entrant."]));
            }
            if action == "add_monitor" {
                if race.monitors.len() > 5 {
                    return Ok(error(&["Races cannot have more than 5 monitors."]));
                }
                if is_done(&race.status) || race.monitors.contains(&user) {
                    return Ok(vec![]);
                }
                race.monitors.push(user);
                inner.system(
                    name,
                    &format!("{BOT_NAME} promoted {user_name} to race monitor."),
                );
            } else {
                if !race.monitors.contains(&user) {
                    return Ok(vec![]);
                }
                race.monitors.retain(|m| *m != user);
                inner.system(
                    name,
                    &format!("{BOT_NAME} demoted {user_name} from race monitor."),
                );
            }
            inner.bump(name);
        }
        "override_stream" | "force_unready" | "remove_entrant" => {
            let user = user_of(&data);
            let user_name = inner.user_name(&user);
            let Some(race) = inner.races.get_mut(name) else {
                return Ok(vec![]);
            };
            let preparing = race.status == "open" || race.status == "invitational";
            let Some(index) = race
                .entrants
                .iter()
                .position(|e| e.user == user)
                .filter(|_| preparing)
            else {
                let message = match action.as_str() {
                    "override_stream" => {
                        "You cannot set a stream override for this entrant at this time. Refresh to continue."
                    }
                    "force_unready" => {
                        "You cannot force this entrant to unready at this time. Refresh to continue."
                    }
                    _ => "You cannot remove this entrant at this time. Refresh to continue.",
                };
                return Ok(error(&[message]));
            };
            let text = match action.as_str() {
                "override_stream" => format!("{BOT_NAME} sets a stream override for {user_name}."),
                "force_unready" => {
                    race.entrants[index].status = "not_ready".into();
                    format!("{BOT_NAME} unreadies {user_name}.")
                }
                _ => {
                    race.entrants.remove(index);
                    format!("{BOT_NAME} removes {user_name} from the race.")
                }
            };
            inner.system(name, &text);
            inner.bump(name);
        }
        _ => {}
    }
    Ok(vec![])
}
