//! The fake's HTTP routes: OAuth2 tokens, category and race data, startrace and edit with
//! the server's form rules.

use std::collections::HashMap;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Response, StatusCode, header};
use serde_json::{Map, Value as Json, json};
use tokio::time::Instant;

use super::state::*;

/// A Django `CheckboxInput` value: `"false"` (any case) or empty is false, anything else
/// (even `"0"`) is true; an absent field takes the model default.
pub(super) fn form_bool(form: &Map<String, Json>, key: &str, default: bool) -> bool {
    form.get(key).and_then(Json::as_str).map_or(default, |v| {
        !v.is_empty() && !v.eq_ignore_ascii_case("false")
    })
}

pub(super) fn create_race(
    inner: &mut Inner,
    category: &str,
    opened_by: Option<String>,
    goal: &str,
    custom: bool,
    form: &Map<String, Json>,
    unlisted: bool,
) -> String {
    inner.counter += 1;
    let n = inner.counter as usize;
    let slug = format!(
        "{}-{}-{:04}",
        ADJECTIVES[n % ADJECTIVES.len()],
        NOUNS[(n / ADJECTIVES.len()) % NOUNS.len()],
        1000 + n
    );
    let get_bool = |k: &str, default: bool| form_bool(form, k, default);
    let get_num = |k: &str, default: u64| {
        form.get(k)
            .and_then(Json::as_str)
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let mut settings = Map::new();
    settings.insert("team_race".into(), json!(get_bool("team_race", false)));
    settings.insert("ranked".into(), json!(get_bool("ranked", true)));
    settings.insert(
        "unlisted".into(),
        json!(unlisted || get_bool("unlisted", false)),
    );
    settings.insert("hide_entrants".into(), json!(false));
    settings.insert(
        "require_even_teams".into(),
        json!(get_bool("require_even_teams", false)),
    );
    settings.insert(
        "start_delay".into(),
        json!(duration_string(Duration::from_secs(get_num(
            "start_delay",
            15
        )))),
    );
    settings.insert(
        "time_limit".into(),
        json!(duration_string(Duration::from_secs(
            get_num("time_limit", 24) * 3600
        ))),
    );
    settings.insert(
        "time_limit_auto_complete".into(),
        json!(get_bool("time_limit_auto_complete", false)),
    );
    settings.insert(
        "streaming_required".into(),
        json!(get_bool("streaming_required", true)),
    );
    settings.insert("auto_start".into(), json!(get_bool("auto_start", true)));
    settings.insert(
        "allow_comments".into(),
        json!(get_bool("allow_comments", true)),
    );
    settings.insert(
        "hide_comments".into(),
        json!(get_bool("hide_comments", false)),
    );
    settings.insert(
        "allow_prerace_chat".into(),
        json!(get_bool("allow_prerace_chat", true)),
    );
    settings.insert(
        "allow_midrace_chat".into(),
        json!(get_bool("allow_midrace_chat", true)),
    );
    settings.insert(
        "allow_non_entrant_chat".into(),
        json!(get_bool("allow_non_entrant_chat", true)),
    );
    settings.insert(
        "chat_message_delay".into(),
        json!(duration_string(Duration::from_secs(get_num(
            "chat_message_delay",
            0
        )))),
    );
    let race = Race {
        category: category.to_string(),
        slug: slug.clone(),
        version: 1,
        status: if get_bool("invitational", false) {
            "invitational"
        } else {
            "open"
        }
        .into(),
        goal: goal.to_string(),
        goal_custom: custom,
        info_user: form
            .get("info_user")
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_string(),
        info_bot: form
            .get("info_bot")
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_string(),
        settings,
        entrants: Vec::new(),
        monitors: Vec::new(),
        opened_by_bot: opened_by.is_none(),
        opened_by,
        started_at: None,
        ended_at: None,
        recorded: false,
        bot_meta: Map::new(),
        messages: Vec::new(),
        guids: HashMap::new(),
        sockets: Vec::new(),
    };
    let name = format!("{category}/{slug}");
    inner.races.insert(name.clone(), race);
    name
}

pub(super) type Resp = Response<Body>;

pub(super) fn respond(status: StatusCode, body: Json) -> Resp {
    let mut response = Response::new(Body::from(if body.is_null() {
        String::new()
    } else {
        body.to_string()
    }));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        "application/json".parse().expect("header"),
    );
    response
}

pub(super) fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::to_string)
}

pub(super) fn form_map(body: &str) -> Map<String, Json> {
    url::form_urlencoded::parse(body.as_bytes())
        .map(|(k, v)| (k.into_owned(), json!(v.into_owned())))
        .collect()
}

pub(super) async fn token(State(fake): State<FakeRacetime>, body: String) -> Resp {
    let form = form_map(&body);
    let mut inner = fake.lock();
    inner.token_calls += 1;
    if form.get("grant_type").and_then(Json::as_str) != Some("client_credentials") {
        return respond(
            StatusCode::BAD_REQUEST,
            json!({"error": "unsupported_grant_type"}),
        );
    }
    let id = form
        .get("client_id")
        .and_then(Json::as_str)
        .unwrap_or_default();
    let secret = form
        .get("client_secret")
        .and_then(Json::as_str)
        .unwrap_or_default();
    let Some(category) = inner
        .categories
        .iter()
        .find(|c| c.client_id == id && c.client_secret == secret)
        .map(|c| c.slug.clone())
    else {
        return respond(StatusCode::UNAUTHORIZED, json!({"error": "invalid_client"}));
    };
    let access = inner.next_id("t");
    let lifetime = inner.token_lifetime;
    inner
        .tokens
        .insert(access.clone(), (category, Instant::now() + lifetime));
    respond(
        StatusCode::OK,
        json!({"access_token": access, "expires_in": lifetime.as_secs(), "token_type": "Bearer", "scope": "read chat_message race_action create_race"}),
    )
}

pub(super) fn category_json(inner: &Inner, slug: &str, include_unlisted: bool) -> Option<Json> {
    let category = inner.categories.iter().find(|c| c.slug == slug)?;
    let mut races: Vec<&Race> = inner
        .races
        .values()
        .filter(|r| r.category == slug && !is_done(&r.status))
        .filter(|r| include_unlisted || r.settings.get("unlisted") != Some(&json!(true)))
        .collect();
    races.sort_by(|a, b| a.slug.cmp(&b.slug));
    Some(json!({
        "name": slug, "short_name": slug, "slug": slug, "url": format!("/{slug}"), "data_url": format!("/{slug}/data"),
        "image": null, "info": null, "streaming_required": true, "owners": [], "moderators": [],
        "goals": category.goals, "current_races": races.iter().map(|r| inner.summary_json(r)).collect::<Vec<_>>(), "emotes": {},
    }))
}

pub(super) async fn bot_category_data(
    State(fake): State<FakeRacetime>,
    Path(category): Path<String>,
    headers: HeaderMap,
) -> Resp {
    let mut inner = fake.lock();
    if !inner.categories.iter().any(|c| c.slug == category) {
        return respond(StatusCode::NOT_FOUND, Json::Null);
    }
    let Some(token_category) = bearer(&headers).and_then(|t| inner.token_category(&t)) else {
        return respond(StatusCode::FORBIDDEN, Json::Null);
    };
    // Like racetime.gg: a warm cache is served to any valid token, without the permission
    // check, and is not invalidated when races change.
    let ttl = inner.bot_category_ttl;
    if let Some((at, body)) = inner.bot_category_cache.get(&category)
        && at.elapsed() < ttl
    {
        return respond(StatusCode::OK, body.clone());
    }
    if token_category != category {
        return respond(StatusCode::FORBIDDEN, Json::Null);
    }
    let body = category_json(&inner, &category, true).unwrap_or_default();
    inner
        .bot_category_cache
        .insert(category, (Instant::now(), body.clone()));
    respond(StatusCode::OK, body)
}

pub(super) async fn public_category_data(
    State(fake): State<FakeRacetime>,
    Path(category): Path<String>,
) -> Resp {
    let inner = fake.lock();
    match category_json(&inner, &category, false) {
        Some(json) => respond(StatusCode::OK, json),
        None => respond(StatusCode::NOT_FOUND, Json::Null),
    }
}

pub(super) async fn race_data(
    State(fake): State<FakeRacetime>,
    Path((category, race)): Path<(String, String)>,
) -> Resp {
    let inner = fake.lock();
    match inner.races.get(&format!("{category}/{race}")) {
        Some(r) => respond(StatusCode::OK, inner.race_json(r)),
        None => respond(StatusCode::NOT_FOUND, Json::Null),
    }
}

pub(super) async fn user_data(State(fake): State<FakeRacetime>, Path(id): Path<String>) -> Resp {
    let inner = fake.lock();
    match inner.users.get(&id) {
        Some(u) => {
            let mut json = inner.user_json(&id, "");
            json["stats"] = json!({"joined": u.joined_races, "first": 0, "second": 0, "third": 0, "forfeits": 0});
            respond(StatusCode::OK, json)
        }
        None => respond(StatusCode::NOT_FOUND, Json::Null),
    }
}

/// `GET /user/{id}/races/data?page=N&per_page=M`: `{count, num_pages, races: [race summary +
/// category]}`, newest first (spec racetime.md, endpoints); `per_page` at most 100 (default 10).
pub(super) async fn user_races(
    State(fake): State<FakeRacetime>,
    Path(id): Path<String>,
    axum::extract::Query(query): axum::extract::Query<HashMap<String, String>>,
) -> Resp {
    let mut inner = fake.lock();
    if !inner.users.contains_key(&id) {
        return respond(StatusCode::NOT_FOUND, Json::Null);
    }
    inner.race_pages_served += 1;
    let races = inner.past_races.get(&id).cloned().unwrap_or_default();
    let per_page: usize = query
        .get("per_page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(10)
        .clamp(1, 100);
    let page: usize = query
        .get("page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .max(1);
    let num_pages = races.len().div_ceil(per_page).max(1);
    let listed: Vec<Json> = races
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(|(name, status, opened)| {
            let category = name.split('/').next().unwrap_or_default();
            json!({"name": name, "status": {"value": status, "verbose_value": status, "help_text": ""},
                   "url": format!("/{name}"), "data_url": format!("/{name}/data"),
                   "goal": {"name": "Beat the game", "custom": false}, "info": "",
                   "entrants_count": 2, "entrants_count_finished": 2, "entrants_count_inactive": 0,
                   "opened_at": opened.to_rfc3339(), "started_at": opened.to_rfc3339(),
                   "ended_at": opened.to_rfc3339(), "cancelled_at": null, "time_limit": "P1DT00H00M00S",
                   "opened_by_bot": null, "recordable": true, "recorded": true,
                   "category": {"name": category, "short_name": category, "slug": category,
                                "url": format!("/{category}"), "data_url": format!("/{category}/data"),
                                "image": null}})
        })
        .collect();
    respond(
        StatusCode::OK,
        json!({"count": races.len(), "num_pages": num_pages, "races": listed}),
    )
}

/// `GET /team/{slug}/data`: `{name, slug, formal, url, data_url, avatar, profile,
/// categories, members: [{owner, ...user summary}]}` (spec racetime.md, endpoints).
pub(super) async fn team_data(State(fake): State<FakeRacetime>, Path(slug): Path<String>) -> Resp {
    let inner = fake.lock();
    let Some(members) = inner.teams.get(&slug) else {
        return respond(StatusCode::NOT_FOUND, Json::Null);
    };
    let members: Vec<Json> = members
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let mut user = inner.user_json(id, "");
            user["owner"] = json!(i == 0);
            user
        })
        .collect();
    respond(
        StatusCode::OK,
        json!({"name": slug, "slug": slug, "formal": true, "url": format!("/team/{slug}"),
               "data_url": format!("/team/{slug}/data"), "avatar": null, "profile": null,
               "categories": [], "members": members}),
    )
}

pub(super) fn goal_of(
    inner: &Inner,
    category: &str,
    form: &Map<String, Json>,
) -> Result<(String, bool), Json> {
    let goal = form.get("goal").and_then(Json::as_str).unwrap_or_default();
    let custom = form
        .get("custom_goal")
        .and_then(Json::as_str)
        .unwrap_or_default();
    let known = inner
        .categories
        .iter()
        .find(|c| c.slug == category)
        .is_some_and(|c| c.goals.iter().any(|g| g.eq_ignore_ascii_case(goal)));
    let goal = if known { goal } else { "" };
    match (goal.is_empty(), custom.is_empty()) {
        (true, true) => {
            Err(json!({"errors": {"__all__": ["You need to set a goal for this race."]}}))
        }
        (false, false) => {
            Err(json!({"errors": {"__all__": ["The race must only have one goal."]}}))
        }
        (false, true) => Ok((goal.to_string(), false)),
        (true, false) => Ok((custom.to_string(), true)),
    }
}

pub(super) fn form_range_errors(form: &Map<String, Json>) -> Option<Json> {
    let num = |k: &str| {
        form.get(k)
            .and_then(Json::as_str)
            .and_then(|v| v.parse::<i64>().ok())
    };
    let mut errors = Map::new();
    if let Some(v) = num("start_delay").filter(|v| !(10..=60).contains(v)) {
        errors.insert(
            "start_delay".into(),
            json!([format!(
                "Ensure this value is {} {}.",
                if v < 10 {
                    "greater than or equal to"
                } else {
                    "less than or equal to"
                },
                if v < 10 { 10 } else { 60 }
            )]),
        );
    }
    if let Some(v) = num("time_limit").filter(|v| !(1..=72).contains(v)) {
        errors.insert(
            "time_limit".into(),
            json!([format!(
                "Ensure this value is {} {}.",
                if v < 1 {
                    "greater than or equal to"
                } else {
                    "less than or equal to"
                },
                if v < 1 { 1 } else { 72 }
            )]),
        );
    }
    (!errors.is_empty()).then(|| json!({"errors": errors}))
}

pub(super) async fn startrace(
    State(fake): State<FakeRacetime>,
    Path(category): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Resp {
    let form = form_map(&body);
    let (fault, name) = {
        let mut inner = fake.lock();
        inner.startrace_calls += 1;
        inner.requests.push(format!("startrace {category}"));
        if !inner.categories.iter().any(|c| c.slug == category) {
            return respond(StatusCode::NOT_FOUND, Json::Null);
        }
        match bearer(&headers).and_then(|t| inner.token_category(&t)) {
            Some(c) if c == category => {}
            _ => return respond(StatusCode::FORBIDDEN, Json::Null),
        }
        let fault = inner.startrace_fault.take();
        if fault == Some(StartraceFault::Unavailable) {
            return respond(StatusCode::SERVICE_UNAVAILABLE, Json::Null);
        }
        let (goal, custom) = match goal_of(&inner, &category, &form) {
            Ok(goal) => goal,
            Err(errors) => return respond(StatusCode::UNPROCESSABLE_ENTITY, errors),
        };
        if let Some(errors) = form_range_errors(&form) {
            return respond(StatusCode::UNPROCESSABLE_ENTITY, errors);
        }
        let name = create_race(&mut inner, &category, None, &goal, custom, &form, false);
        inner.system(&name, &format!("Race opened automatically by {BOT_NAME}"));
        (fault, name)
    };
    match fault {
        Some(StartraceFault::CreateThenBadGateway) => respond(StatusCode::BAD_GATEWAY, Json::Null),
        Some(StartraceFault::CreateThenHang(d)) => {
            tokio::time::sleep(d).await;
            respond(StatusCode::GATEWAY_TIMEOUT, Json::Null)
        }
        _ => {
            let mut response = respond(StatusCode::CREATED, Json::Null);
            response.headers_mut().insert(
                header::LOCATION,
                format!("/{name}").parse().expect("location"),
            );
            response
        }
    }
}

pub(super) async fn edit(
    State(fake): State<FakeRacetime>,
    Path((category, race)): Path<(String, String)>,
    headers: HeaderMap,
    body: String,
) -> Resp {
    let form = form_map(&body);
    let mut inner = fake.lock();
    let name = format!("{category}/{race}");
    match bearer(&headers).and_then(|t| inner.token_category(&t)) {
        Some(c) if c == category => {}
        _ => return respond(StatusCode::FORBIDDEN, Json::Null),
    }
    let Some(status) = inner.races.get(&name).map(|r| r.status.clone()) else {
        return respond(StatusCode::NOT_FOUND, Json::Null);
    };
    if is_done(&status) {
        return respond(StatusCode::FORBIDDEN, Json::Null);
    }
    let preparing = status == "open" || status == "invitational";
    let goal = if preparing {
        match goal_of(&inner, &category, &form) {
            Ok(goal) => Some(goal),
            Err(errors) => return respond(StatusCode::UNPROCESSABLE_ENTITY, errors),
        }
    } else {
        None
    };
    let get_bool = |k: &str, default: bool| form_bool(&form, k, default);
    // Omitted fields are reset to model defaults, exactly like the server.
    let Some(r) = inner.races.get_mut(&name) else {
        return respond(StatusCode::NOT_FOUND, Json::Null);
    };
    r.info_user = form
        .get("info_user")
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_string();
    for (key, default) in [
        ("allow_comments", true),
        ("hide_comments", false),
        ("allow_midrace_chat", true),
        ("allow_non_entrant_chat", true),
        ("unlisted", false),
    ] {
        r.settings.insert(key.into(), json!(get_bool(key, default)));
    }
    if preparing {
        r.info_bot = form
            .get("info_bot")
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_string();
        for (key, default) in [
            ("ranked", true),
            ("streaming_required", true),
            ("auto_start", true),
            ("allow_prerace_chat", true),
            ("time_limit_auto_complete", false),
        ] {
            r.settings.insert(key.into(), json!(get_bool(key, default)));
        }
        if let Some((goal, custom)) = goal {
            r.goal = goal;
            r.goal_custom = custom;
        }
    }
    inner.bump(&name);
    respond(StatusCode::OK, Json::Null)
}
