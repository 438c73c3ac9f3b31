//! The fake's REST API (`/api/v10/...`): routes, bodies (JSON and multipart), errors and
//! rate limits as Discord answers them.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{Method, Request, Response, StatusCode, Uri, header};
use serde_json::{Value as Json, json};

use super::state::*;

pub(super) fn json_response(status: StatusCode, body: &Json) -> Response<Body> {
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        "application/json".parse().expect("header"),
    );
    response
}

pub(super) fn empty(status: StatusCode) -> Response<Body> {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    response
}

pub(super) fn error(status: StatusCode, code: u32, message: &str) -> Response<Body> {
    json_response(status, &json!({"message": message, "code": code}))
}

pub(super) async fn file(
    State(fake): State<FakeDiscord>,
    Path(name): Path<String>,
) -> Response<Body> {
    let found = fake.lock().files.get(&name).cloned();
    match found {
        Some((content_type, bytes)) => {
            let mut response = Response::new(Body::from(bytes));
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, content_type.parse().expect("header"));
            response
        }
        None => empty(StatusCode::NOT_FOUND),
    }
}

/// A request body: its JSON (plain, or the `payload_json` part of a multipart body) and the
/// files of a multipart body as `(file name, bytes)`.
pub(super) fn parse_body(content_type: &str, bytes: &[u8]) -> (Json, Vec<(String, Vec<u8>)>) {
    let Some(boundary) = content_type
        .strip_prefix("multipart/form-data")
        .and_then(|rest| rest.split("boundary=").nth(1))
        .map(|b| b.trim_matches('"').to_owned())
    else {
        return (
            serde_json::from_slice(bytes).unwrap_or(Json::Null),
            Vec::new(),
        );
    };
    let delimiter = format!("--{boundary}");
    let text = bytes;
    let mut json = Json::Null;
    let mut files = Vec::new();
    let positions: Vec<usize> = text
        .windows(delimiter.len())
        .enumerate()
        .filter(|(_, w)| *w == delimiter.as_bytes())
        .map(|(i, _)| i)
        .collect();
    for pair in positions.windows(2) {
        let part = &text[pair[0] + delimiter.len()..pair[1]];
        let Some(split) = part.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let headers = String::from_utf8_lossy(&part[..split]);
        let mut content = &part[split + 4..];
        if content.ends_with(b"\r\n") {
            content = &content[..content.len() - 2];
        }
        let value = |key: &str| {
            // Each header on its own line (a part may carry Content-Type after the disposition).
            headers
                .lines()
                .flat_map(|line| line.split(';'))
                .find_map(|h| h.trim().strip_prefix(&format!("{key}=")))
                .map(|v| v.trim().trim_matches('"').to_owned())
        };
        if value("name").as_deref() == Some("payload_json") {
            json = serde_json::from_slice(content).unwrap_or(Json::Null);
        } else if let Some(filename) = value("filename") {
            files.push((filename, content.to_vec()));
        }
    }
    (json, files)
}

pub(super) async fn rest(
    State(fake): State<FakeDiscord>,
    method: Method,
    uri: Uri,
    request: Request<Body>,
) -> Response<Body> {
    let path = uri
        .path()
        .strip_prefix("/api/v10")
        .unwrap_or(uri.path())
        .to_string();
    let authorized = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        == Some(&format!("Bot {BOT_TOKEN}"));
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let bytes = axum::body::to_bytes(request.into_body(), 8 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let (mut body, files) = parse_body(&content_type, &bytes);
    // A GET's query parameters stand in for its body (member search).
    if body.is_null()
        && let Some(query) = uri.query()
    {
        body = Json::Object(
            url::form_urlencoded::parse(query.as_bytes())
                .map(|(k, v)| (k.into_owned(), Json::String(v.into_owned())))
                .collect(),
        );
    }
    let call = Call {
        method: method.to_string(),
        path: path.clone(),
        body: body.clone(),
        files,
        at: std::time::Instant::now(),
    };
    {
        let mut inner = fake.lock();
        inner.calls.push(call.clone());
        if let Some(limit) = inner
            .rate_limits
            .iter_mut()
            .find(|(prefix, left)| *left > 0 && path.starts_with(prefix.as_str()))
        {
            limit.1 -= 1;
            drop(inner);
            let _ = fake.calls_tx.send(call);
            let mut response = json_response(
                StatusCode::TOO_MANY_REQUESTS,
                &json!({"message": "You are being rate limited.", "retry_after": 0.05, "global": false}),
            );
            let headers = response.headers_mut();
            headers.insert("retry-after", "1".parse().expect("header"));
            headers.insert("x-ratelimit-scope", "user".parse().expect("header"));
            return response;
        }
    }
    let _ = fake.calls_tx.send(call);
    // Interaction callbacks and webhooks are authorised by the interaction token.
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let is_webhook = matches!(segments.first(), Some(&"interactions") | Some(&"webhooks"));
    if !authorized && !is_webhook {
        return error(StatusCode::UNAUTHORIZED, 0, "401: Unauthorized");
    }
    route(&fake, &method, &segments, body)
}

pub(super) fn route(
    fake: &FakeDiscord,
    method: &Method,
    segments: &[&str],
    body: Json,
) -> Response<Body> {
    let app = APPLICATION_ID.to_string();
    let parse = |s: &str| s.parse::<u64>().ok();
    match (method.as_str(), segments) {
        ("PUT", ["applications", a, "commands"]) if *a == app => {
            let commands = with_ids(fake, &body);
            fake.lock().commands_global = commands.clone();
            json_response(StatusCode::OK, &Json::Array(commands))
        }
        ("PUT", ["applications", a, "guilds", guild, "commands"]) if *a == app => {
            let commands = with_ids(fake, &body);
            if let Some(guild) = parse(guild) {
                fake.lock().commands_guild.insert(guild, commands.clone());
            }
            json_response(StatusCode::OK, &Json::Array(commands))
        }
        ("POST", ["interactions", _id, token, "callback"]) => {
            // An interaction takes one initial response, like Discord.
            if !fake.lock().answered.insert(token.to_string()) {
                return error(
                    StatusCode::BAD_REQUEST,
                    40060,
                    "Interaction has already been acknowledged.",
                );
            }
            // 4: a message now; 7: update the component's message. 5/6 defer; 8 autocomplete.
            if matches!(body["type"].as_u64(), Some(4) | Some(7)) {
                let message = fake.message(0, &body["data"]);
                fake.lock().originals.insert(token.to_string(), message);
            }
            empty(StatusCode::NO_CONTENT)
        }
        ("PATCH", ["webhooks", a, token, "messages", "@original"]) if *a == app => {
            // A deferred response's original is the "thinking" message; editing fills it in.
            let existing = fake.lock().originals.get(*token).cloned();
            let mut message = existing.unwrap_or_else(|| fake.message(0, &json!({})));
            for key in ["content", "embeds", "components", "flags"] {
                if let Some(value) = body.get(key).filter(|v| !v.is_null()) {
                    message[key] = value.clone();
                }
            }
            message["edited_timestamp"] = json!(now());
            fake.lock()
                .originals
                .insert(token.to_string(), message.clone());
            json_response(StatusCode::OK, &message)
        }
        ("DELETE", ["webhooks", a, token, "messages", "@original"]) if *a == app => {
            let mut inner = fake.lock();
            inner.originals.remove(*token);
            inner.deleted_originals.insert(token.to_string());
            empty(StatusCode::NO_CONTENT)
        }
        ("POST", ["webhooks", a, token]) if *a == app => {
            let message = fake.message(0, &body);
            fake.lock()
                .followups
                .entry(token.to_string())
                .or_default()
                .push(message.clone());
            json_response(StatusCode::OK, &message)
        }
        ("POST", ["users", "@me", "channels"]) => {
            let Some(user) = body["recipient_id"]
                .as_str()
                .and_then(parse)
                .or_else(|| body["recipient_id"].as_u64())
            else {
                return error(StatusCode::BAD_REQUEST, 50035, "Invalid Form Body");
            };
            let existing = fake.lock().dm_channels.get(&user).copied();
            let channel = existing.unwrap_or_else(|| fake.next_id());
            fake.lock().dm_channels.insert(user, channel);
            json_response(
                StatusCode::OK,
                &json!({"id": snowflake(channel), "type": 1, "last_message_id": null, "flags": 0,
                        "recipients": [user_json(user, "someone", false)]}),
            )
        }
        ("POST", ["channels", channel, "messages"]) => {
            let Some(channel) = parse(channel) else {
                return error(StatusCode::NOT_FOUND, 10003, "Unknown Channel");
            };
            let (forbidden, blocked) = {
                let inner = fake.lock();
                let blocked = inner
                    .dm_channels
                    .iter()
                    .any(|(user, c)| *c == channel && inner.blocked_dms.contains(user));
                (inner.forbidden_channels.contains(&channel), blocked)
            };
            if blocked {
                return error(
                    StatusCode::FORBIDDEN,
                    50007,
                    "Cannot send messages to this user",
                );
            }
            if forbidden {
                return error(StatusCode::FORBIDDEN, 50001, "Missing Access");
            }
            let message = fake.message(channel, &body);
            fake.lock()
                .messages
                .entry(channel)
                .or_default()
                .push(message.clone());
            json_response(StatusCode::OK, &message)
        }
        ("PATCH", ["channels", channel, "messages", message]) => {
            let (Some(channel), Some(message)) = (parse(channel), parse(message)) else {
                return error(StatusCode::NOT_FOUND, 10008, "Unknown Message");
            };
            let mut inner = fake.lock();
            let found = inner
                .messages
                .get_mut(&channel)
                .and_then(|list| list.iter_mut().find(|m| m["id"] == snowflake(message)));
            let Some(existing) = found else {
                return error(StatusCode::NOT_FOUND, 10008, "Unknown Message");
            };
            for key in ["content", "embeds", "components"] {
                if let Some(value) = body.get(key).filter(|v| !v.is_null()) {
                    existing[key] = value.clone();
                }
            }
            existing["edited_timestamp"] = json!(now());
            let edited = existing.clone();
            json_response(StatusCode::OK, &edited)
        }
        ("POST", ["channels", channel, "messages", message, "threads"]) => {
            let (Some(channel), Some(message)) = (parse(channel), parse(message)) else {
                return error(StatusCode::NOT_FOUND, 10008, "Unknown Message");
            };
            if fake.lock().threads.contains_key(&message) {
                return error(
                    StatusCode::BAD_REQUEST,
                    160004,
                    "A thread has already been created for this message",
                );
            }
            let id = fake.next_id();
            let thread = json!({
                "id": snowflake(id), "type": 11, "parent_id": snowflake(channel), "guild_id": "1",
                "name": body["name"], "owner_id": snowflake(BOT_USER_ID), "flags": 0,
                "rate_limit_per_user": 0, "last_message_id": null, "message_count": 0, "member_count": 1,
                "thread_metadata": {"archived": false, "auto_archive_duration": body["auto_archive_duration"],
                                    "archive_timestamp": now(), "locked": false},
            });
            fake.lock().threads.insert(message, thread.clone());
            json_response(StatusCode::CREATED, &thread)
        }
        ("POST", ["channels", channel, "threads"]) => {
            let Some(channel) = parse(channel) else {
                return error(StatusCode::NOT_FOUND, 10003, "Unknown Channel");
            };
            let id = fake.next_id();
            let thread = json!({
                "id": snowflake(id), "type": body["type"].as_u64().unwrap_or(12), "parent_id": snowflake(channel),
                "guild_id": "1", "name": body["name"], "owner_id": snowflake(BOT_USER_ID), "flags": 0,
                "rate_limit_per_user": 0, "last_message_id": null, "message_count": 0, "member_count": 1,
                "invitable": body["invitable"],
                "thread_metadata": {"archived": false, "auto_archive_duration": body["auto_archive_duration"],
                                    "archive_timestamp": now(), "locked": false},
            });
            fake.lock().threads.insert(id, thread.clone());
            json_response(StatusCode::CREATED, &thread)
        }
        ("PUT", ["channels", thread, "thread-members", user]) => {
            let (Some(thread), Some(user)) = (parse(thread), parse(user)) else {
                return error(StatusCode::NOT_FOUND, 10003, "Unknown Channel");
            };
            let mut inner = fake.lock();
            if !inner.threads.values().any(|t| t["id"] == snowflake(thread)) {
                return error(StatusCode::NOT_FOUND, 10003, "Unknown Channel");
            }
            let members = inner.thread_members.entry(thread).or_default();
            if !members.contains(&user) {
                members.push(user);
            }
            empty(StatusCode::NO_CONTENT)
        }
        ("GET", ["channels", channel]) => {
            let Some(id) = parse(channel) else {
                return error(StatusCode::NOT_FOUND, 10003, "Unknown Channel");
            };
            let found = fake.lock().channels.get(&id).cloned();
            json_response(
                StatusCode::OK,
                &found.unwrap_or_else(|| {
                    json!({"id": snowflake(id), "type": 0, "guild_id": "1", "name": "channel",
                           "position": 0, "permission_overwrites": []})
                }),
            )
        }
        ("GET", ["guilds", guild, "roles"]) => {
            let Some(guild) = parse(guild) else {
                return error(StatusCode::NOT_FOUND, 10004, "Unknown Guild");
            };
            let roles = fake
                .lock()
                .roles
                .get(&guild)
                .cloned()
                .unwrap_or_else(|| vec![(guild, DEFAULT_EVERYONE)]);
            let roles: Vec<Json> = roles
                .iter()
                .zip(0..)
                .map(|((id, permissions), position)| {
                    json!({"id": snowflake(*id), "name": if *id == guild { "@everyone".to_owned() } else { format!("role {id}") },
                           "color": 0, "colors": {"primary_color": 0, "secondary_color": null, "tertiary_color": null}, "hoist": false, "icon": null, "unicode_emoji": null, "position": position,
                           "permissions": permissions.to_string(), "managed": false, "mentionable": false, "flags": 0})
                })
                .collect();
            json_response(StatusCode::OK, &Json::Array(roles))
        }
        ("PATCH", ["guilds", guild, "members", user]) => {
            let key = (
                parse(guild).unwrap_or_default(),
                parse(user).unwrap_or_default(),
            );
            let mut inner = fake.lock();
            let Some(member) = inner.members.get_mut(&key) else {
                return error(StatusCode::NOT_FOUND, 10007, "Unknown Member");
            };
            if let (Some(target), Some(patch)) = (member.as_object_mut(), body.as_object()) {
                for (k, v) in patch {
                    target.insert(k.clone(), v.clone());
                }
            }
            let member = member.clone();
            json_response(StatusCode::OK, &member)
        }
        ("POST", ["guilds", guild, "scheduled-events"]) => {
            let id = fake.next_id();
            let event = scheduled_event(id, guild, &body);
            fake.lock().scheduled_events.insert(id, event.clone());
            json_response(StatusCode::OK, &event)
        }
        ("PATCH", ["guilds", guild, "scheduled-events", id]) => {
            let Some(id) = parse(id) else {
                return error(
                    StatusCode::NOT_FOUND,
                    10070,
                    "Unknown Guild Scheduled Event",
                );
            };
            let mut inner = fake.lock();
            let Some(existing) = inner.scheduled_events.get(&id).cloned() else {
                return error(
                    StatusCode::NOT_FOUND,
                    10070,
                    "Unknown Guild Scheduled Event",
                );
            };
            let mut merged = existing;
            if let (Some(target), Some(patch)) = (merged.as_object_mut(), body.as_object()) {
                for (k, v) in patch {
                    target.insert(k.clone(), v.clone());
                }
            }
            let event = scheduled_event(id, guild, &merged);
            inner.scheduled_events.insert(id, event.clone());
            json_response(StatusCode::OK, &event)
        }
        ("DELETE", ["guilds", _guild, "scheduled-events", id]) => {
            match parse(id).and_then(|id| fake.lock().scheduled_events.remove(&id)) {
                Some(_) => empty(StatusCode::NO_CONTENT),
                None => error(
                    StatusCode::NOT_FOUND,
                    10070,
                    "Unknown Guild Scheduled Event",
                ),
            }
        }
        ("GET", ["users", "@me"]) => {
            let mut me = user_json(BOT_USER_ID, "SahasrahBot", true);
            me["mfa_enabled"] = json!(false);
            me["verified"] = json!(true);
            me["flags"] = json!(0);
            json_response(StatusCode::OK, &me)
        }
        ("GET", ["invites", code]) => match fake.lock().invites.get(*code).cloned() {
            Some((guild, name)) => json_response(
                StatusCode::OK,
                &json!({"type": 0, "code": code, "channel": {"id": "1", "type": 0, "name": "general"},
                        "guild": {"id": snowflake(guild), "name": name, "splash": null, "banner": null,
                                  "description": null, "icon": null, "features": [],
                                  "verification_level": 0, "vanity_url_code": null, "nsfw_level": 0,
                                  "premium_subscription_count": 0}}),
            ),
            None => error(StatusCode::NOT_FOUND, 10006, "Unknown Invite"),
        },
        ("GET", ["channels", channel, "messages"]) => {
            let messages = parse(channel)
                .and_then(|c| fake.lock().messages.get(&c).cloned())
                .unwrap_or_default();
            // Newest first, like Discord.
            let newest_first: Vec<Json> = messages.into_iter().rev().take(100).collect();
            json_response(StatusCode::OK, &Json::Array(newest_first))
        }
        ("DELETE", ["channels", channel, "messages", message]) => {
            let (Some(channel), Some(message)) = (parse(channel), parse(message)) else {
                return error(StatusCode::NOT_FOUND, 10008, "Unknown Message");
            };
            let mut inner = fake.lock();
            let Some(list) = inner.messages.get_mut(&channel) else {
                return error(StatusCode::NOT_FOUND, 10008, "Unknown Message");
            };
            let before = list.len();
            list.retain(|m| m["id"] != snowflake(message));
            if list.len() == before {
                return error(StatusCode::NOT_FOUND, 10008, "Unknown Message");
            }
            empty(StatusCode::NO_CONTENT)
        }
        ("GET", ["guilds", guild, "members"]) => {
            let guild = parse(guild).unwrap_or_default();
            let limit = body["limit"]
                .as_str()
                .and_then(|l| l.parse::<usize>().ok())
                .unwrap_or(1);
            let after = body["after"]
                .as_str()
                .and_then(|a| a.parse::<u64>().ok())
                .unwrap_or(0);
            let mut members: Vec<(u64, Json)> = fake
                .lock()
                .members
                .iter()
                .filter(|((g, u), _)| *g == guild && *u > after)
                .map(|((_, u), m)| (*u, m.clone()))
                .collect();
            members.sort_by_key(|(u, _)| *u);
            let page: Vec<Json> = members.into_iter().take(limit).map(|(_, m)| m).collect();
            json_response(StatusCode::OK, &Json::Array(page))
        }
        ("GET", ["guilds", guild, "members", "search"]) => {
            let guild = parse(guild).unwrap_or_default();
            let query = body["query"].as_str().unwrap_or_default().to_lowercase();
            let limit = body["limit"]
                .as_str()
                .and_then(|l| l.parse::<usize>().ok())
                .unwrap_or(1);
            // Discord matches the start of the username or the nickname.
            let found: Vec<Json> = fake
                .lock()
                .members
                .iter()
                .filter(|((g, _), _)| *g == guild)
                .map(|(_, m)| m.clone())
                .filter(|m| {
                    let starts = |v: &Json| {
                        v.as_str()
                            .is_some_and(|s| s.to_lowercase().starts_with(&query))
                    };
                    starts(&m["user"]["username"]) || starts(&m["nick"])
                })
                .take(limit)
                .collect();
            json_response(StatusCode::OK, &Json::Array(found))
        }
        ("GET", ["guilds", guild, "members", user]) => {
            let key = (
                parse(guild).unwrap_or_default(),
                parse(user).unwrap_or_default(),
            );
            match fake.lock().members.get(&key).cloned() {
                Some(member) => json_response(StatusCode::OK, &member),
                None => error(StatusCode::NOT_FOUND, 10007, "Unknown Member"),
            }
        }
        ("PUT", ["guilds", guild, "members", user, "roles", role]) => {
            let key = (
                parse(guild).unwrap_or_default(),
                parse(user).unwrap_or_default(),
            );
            let mut inner = fake.lock();
            let Some(member) = inner.members.get_mut(&key) else {
                return error(StatusCode::NOT_FOUND, 10007, "Unknown Member");
            };
            let role = Json::String(role.to_string());
            if let Some(roles) = member["roles"].as_array_mut()
                && !roles.contains(&role)
            {
                roles.push(role);
            }
            empty(StatusCode::NO_CONTENT)
        }
        ("DELETE", ["guilds", guild, "members", user, "roles", role]) => {
            let key = (
                parse(guild).unwrap_or_default(),
                parse(user).unwrap_or_default(),
            );
            let mut inner = fake.lock();
            let Some(member) = inner.members.get_mut(&key) else {
                return error(StatusCode::NOT_FOUND, 10007, "Unknown Member");
            };
            if let Some(roles) = member["roles"].as_array_mut() {
                roles.retain(|r| r.as_str() != Some(*role));
            }
            empty(StatusCode::NO_CONTENT)
        }
        _ => error(StatusCode::NOT_FOUND, 0, "404: Not Found"),
    }
}

pub(super) fn with_ids(fake: &FakeDiscord, body: &Json) -> Vec<Json> {
    body.as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|mut command| {
            command["id"] = snowflake(fake.next_id());
            command["application_id"] = snowflake(APPLICATION_ID);
            command["version"] = snowflake(1);
            command
        })
        .collect()
}

pub(super) fn scheduled_event(id: u64, guild: &str, body: &Json) -> Json {
    json!({
        "id": snowflake(id),
        "guild_id": guild,
        "channel_id": body.get("channel_id").cloned().unwrap_or(Json::Null),
        "creator_id": snowflake(BOT_USER_ID),
        "name": body["name"],
        "description": body.get("description").cloned().unwrap_or(Json::Null),
        "scheduled_start_time": body["scheduled_start_time"],
        "scheduled_end_time": body.get("scheduled_end_time").cloned().unwrap_or(Json::Null),
        "privacy_level": body.get("privacy_level").cloned().unwrap_or(json!(2)),
        "status": body.get("status").cloned().unwrap_or(json!(1)),
        "entity_type": body.get("entity_type").cloned().unwrap_or(json!(3)),
        "entity_id": null,
        "entity_metadata": body.get("entity_metadata").cloned().unwrap_or(Json::Null),
        "user_count": 0,
        "image": null,
    })
}
