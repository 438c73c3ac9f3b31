//! Login, logout, racetime.gg linking (with the merge of spec W14), unlink, display names and
//! purge, end to end over HTTP: the real api and seedgen services, the fake Discord and
//! racetime.gg OAuth2 servers, a cookie-keeping client as the browser.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use api::identity::{self, NewUser};
use common::Site;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::Value as Json;

const ALICE: u64 = 185_198_185_990_324_225;

async fn count(db: &sea_orm::DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

/// The last event published on `subject` (without prefix), decoded, if any.
async fn last_event<M: prost::Message + Default>(site: &Site, subject: &str) -> Option<M> {
    let js = site.nats.jetstream().await.unwrap();
    let stream = js.get_stream(&site.nats.stream).await.ok()?;
    let message = stream
        .get_last_raw_message_by_subject(&format!("{}.{subject}", site.nats.subject_prefix))
        .await
        .ok()?;
    let envelope = <proto::events::v1::Envelope as prost::Message>::decode(message.payload).ok()?;
    M::decode(envelope.payload?.value.as_slice()).ok()
}

async fn wait_event<M: prost::Message + Default>(site: &Site, subject: &str) -> M {
    for _ in 0..100 {
        if let Some(event) = last_event(site, subject).await {
            return event;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no {subject} event");
}

#[tokio::test]
async fn login_creates_the_user_and_returns_to_the_page_they_came_from() {
    let site = Site::start().await;
    let browser = Site::browser();
    site.discord.sign_in_as(&ALICE.to_string(), "Alice");
    let response = browser
        .get(site.url("/login/?next=/presets%3Frandomizer%3Dsmz3"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.url().path(), "/presets");
    assert_eq!(response.url().query(), Some("randomizer=smz3"));
    let user = identity::by_discord(&site.api.db, ALICE)
        .await
        .unwrap()
        .expect("a user for the Discord account");
    assert_eq!(user.display_name.as_deref(), Some("Alice"));
    let me: Json = browser
        .get(site.url("/api/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["data"]["id"], user.id.to_string());
    assert_eq!(
        me["data"]["linked_accounts"]["discord"]["id"],
        ALICE.to_string()
    );
    assert_eq!(me["data"]["linked_accounts"]["racetime"]["linked"], false);

    // A second login finds the same user.
    site.login(&Site::browser(), ALICE, "Alice").await;
    assert_eq!(count(&site.api.db, "SELECT COUNT(*) FROM users").await, 1);
}

#[tokio::test]
async fn an_off_site_next_is_ignored() {
    let site = Site::start().await;
    let browser = Site::browser();
    site.discord.sign_in_as("42", "Bob");
    for next in ["https://evil.example/", "//evil.example/x"] {
        let response = browser
            .get(site.url(&format!("/login/?next={}", urlencode(next))))
            .send()
            .await
            .unwrap();
        assert_eq!(response.url().path(), "/me", "{next}");
        assert!(response.url().as_str().starts_with(&site.api.http));
    }
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn a_forged_state_or_a_refusal_does_not_log_anyone_in() {
    let site = Site::start().await;
    let browser = Site::browser();
    // No flow was started: any state is refused.
    let response = browser
        .get(site.url("/callback/discord/?code=abc&state=forged"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Invalid or missing OAuth state")
    );

    // A flow was started, but the state coming back is another one.
    let no_redirects = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    site.discord.sign_in_as("42", "Bob");
    let start = no_redirects.get(site.url("/login/")).send().await.unwrap();
    assert_eq!(start.status(), 303);
    let authorize = start.headers()["location"].to_str().unwrap().to_owned();
    assert!(authorize.contains("scope=identify"), "{authorize}");
    assert!(authorize.contains("response_type=code"), "{authorize}");
    let back = no_redirects.get(&authorize).send().await.unwrap();
    let callback = back.headers()["location"].to_str().unwrap().to_owned();
    let forged = callback.replace("state=", "state=x");
    let response = no_redirects.get(&forged).send().await.unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(count(&site.api.db, "SELECT COUNT(*) FROM users").await, 0);
    assert_eq!(
        site.discord.token_calls(),
        0,
        "the code was never exchanged"
    );

    // The person cancels on Discord's consent screen.
    site.discord.deny();
    let response = browser.get(site.url("/login/")).send().await.unwrap();
    assert_eq!(response.status(), 403);
    assert!(response.text().await.unwrap().contains("declined"));
    assert_eq!(count(&site.api.db, "SELECT COUNT(*) FROM users").await, 0);
}

#[tokio::test]
async fn the_session_cookie_is_httponly_samesite_lax_and_logout_ends_it_on_the_server() {
    let site = Site::start().await;
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // Walk the flow by hand to see the cookie.
    site.discord.sign_in_as(&ALICE.to_string(), "Alice");
    let start = no_redirects.get(site.url("/login/")).send().await.unwrap();
    let set_cookie = start.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(set_cookie.starts_with("sb_session="), "{set_cookie}");
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Lax"), "{set_cookie}");
    assert!(
        !set_cookie.contains("Secure"),
        "local http: no Secure ({set_cookie})"
    );
    let pre_login = set_cookie.split(';').next().unwrap().to_owned();
    let authorize = start.headers()["location"].to_str().unwrap().to_owned();
    let back = no_redirects.get(&authorize).send().await.unwrap();
    let callback = back.headers()["location"].to_str().unwrap().to_owned();
    let done = no_redirects
        .get(&callback)
        .header("cookie", &pre_login)
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 303);
    let cookie = done.headers()["set-cookie"].to_str().unwrap().to_owned();
    let session = cookie.split(';').next().unwrap().to_owned();
    assert_ne!(session, pre_login, "login gives the session a new id");
    let me = |cookie: String| {
        let client = no_redirects.clone();
        let url = site.url("/api/me");
        async move {
            client
                .get(url)
                .header("cookie", cookie)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(me(session.clone()).await, 200);
    assert_eq!(
        me(pre_login.clone()).await,
        401,
        "the pre-login id is worthless"
    );
    // The table holds a hash, never the id in the cookie.
    let id = session.trim_start_matches("sb_session=");
    let stored = count(
        &site.api.db,
        &format!("SELECT COUNT(*) FROM web_sessions WHERE id_hash = '{id}'"),
    )
    .await;
    assert_eq!(stored, 0);
    assert_eq!(
        count(
            &site.api.db,
            "SELECT COUNT(*) FROM web_sessions WHERE user_id IS NOT NULL"
        )
        .await,
        1
    );

    // Logout needs the form's token.
    let page = no_redirects
        .get(site.url("/me"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = Site::csrf(&page);
    let refused = no_redirects
        .post(site.url("/logout/"))
        .header("cookie", &session)
        .form(&[("csrf", "wrong")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    assert_eq!(me(session.clone()).await, 200);
    let out = no_redirects
        .post(site.url("/logout/"))
        .header("cookie", &session)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 303);
    assert_eq!(me(session.clone()).await, 401, "a replayed cookie is dead");
    assert_eq!(
        count(
            &site.api.db,
            "SELECT COUNT(*) FROM web_sessions WHERE user_id IS NOT NULL"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn linking_racetime_sets_the_account_and_announces_it() {
    let site = Site::start().await;
    let browser = Site::browser();
    site.login(&browser, ALICE, "Alice").await;
    let page = site.link(&browser, "vOgN1DmZRxL3kA2b", "AliceRT").await;
    assert!(
        page.contains("Linked racetime.gg account AliceRT"),
        "{page}"
    );
    assert!(
        page.contains("/user/vOgN1DmZRxL3kA2b/"),
        "the profile links to racetime.gg"
    );
    let user = identity::by_discord(&site.api.db, ALICE)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.racetime_user_id.as_deref(), Some("vOgN1DmZRxL3kA2b"));
    assert_eq!(user.racetime_name.as_deref(), Some("AliceRT#1234"));
    let event: proto::events::v1::UserLinked = wait_event(&site, "api.user.linked").await;
    assert_eq!(event.discord_user_id, ALICE);
    assert_eq!(event.racetime_user_id, "vOgN1DmZRxL3kA2b");

    // Linking needs a login first.
    let anonymous = Site::browser()
        .get(site.url("/racetime/verification/initiate"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.url().path(), "/me", "login, then back");

    // Unlink.
    let csrf = site.csrf_of(&browser).await;
    let page = site
        .post_form(&browser, "/me/racetime/unlink", &[("csrf", csrf.as_str())])
        .await;
    assert!(page.contains("unlinked"), "{page}");
    let user = identity::get(&site.api.db, user.id).await.unwrap().unwrap();
    assert_eq!(user.racetime_user_id, None);
    let event: proto::events::v1::UserLinked = wait_event(&site, "api.user.linked").await;
    assert_eq!(event.racetime_user_id, "");
    assert_eq!(event.previous_racetime_user_id, "vOgN1DmZRxL3kA2b");
    // Twice: says so.
    let page = site
        .post_form(&browser, "/me/racetime/unlink", &[("csrf", csrf.as_str())])
        .await;
    assert!(page.contains("No racetime.gg account is linked."), "{page}");
}

#[tokio::test]
async fn linking_a_racetime_account_that_already_has_a_user_merges_the_two() {
    let site = Site::start().await;
    // A user known only by racetime.gg (an async qualifier's live race created it).
    let rt_user = identity::create(
        &site.api.db,
        NewUser {
            racetime_user_id: Some("xYz123".into()),
            racetime_name: Some("Racer".into()),
            ..NewUser::default()
        },
    )
    .await
    .unwrap();
    let browser = Site::browser();
    site.login(&browser, ALICE, "Alice").await;
    let discord_user = identity::by_discord(&site.api.db, ALICE)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(discord_user.id, rt_user.id);
    site.link(&browser, "xYz123", "Racer").await;

    assert!(
        identity::get(&site.api.db, discord_user.id)
            .await
            .unwrap()
            .is_none()
    );
    let merged = identity::get(&site.api.db, rt_user.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        merged.discord_user_id.map(platform::db::u64_from_db),
        Some(ALICE)
    );
    assert_eq!(
        merged.display_name.as_deref(),
        Some("Alice"),
        "an empty name is filled"
    );
    let me: Json = browser
        .get(site.url("/api/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        me["data"]["id"],
        rt_user.id.to_string(),
        "the session follows the survivor"
    );
    let event: proto::events::v1::UserMerged = wait_event(&site, "api.user.merged").await;
    assert_eq!(event.from_user_id, u64::try_from(discord_user.id).unwrap());
    assert_eq!(event.into_user_id, u64::try_from(rt_user.id).unwrap());
    assert_eq!(count(&site.api.db, "SELECT COUNT(*) FROM users").await, 1);
}

#[tokio::test]
async fn display_names_are_one_to_thirty_two_characters_and_unique() {
    let site = Site::start().await;
    identity::create(
        &site.api.db,
        NewUser {
            discord_user_id: Some(7),
            display_name: Some("Taken".into()),
            ..NewUser::default()
        },
    )
    .await
    .unwrap();
    let browser = Site::browser();
    site.login(&browser, ALICE, "Alice").await;
    let csrf = site.csrf_of(&browser).await;
    for (name, expect) in [
        ("   ", "between 1 and 32"),
        (&"x".repeat(33)[..], "between 1 and 32"),
        ("Taken", "already taken"),
        (
            "  Alice the Great ",
            "Your display name is now Alice the Great.",
        ),
    ] {
        let page = site
            .post_form(
                &browser,
                "/me/display-name",
                &[("csrf", csrf.as_str()), ("display_name", name)],
            )
            .await;
        assert!(page.contains(expect), "{name:?}: {page}");
    }
    // The JSON route (upstream W11) answers 400 with upstream's message.
    let response = browser
        .post(site.url("/api/me/display-name"))
        .json(&serde_json::json!({"display_name": "Taken"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Json = response.json().await.unwrap();
    assert_eq!(
        body["error"]["message"],
        "That display name is already taken."
    );
}

#[tokio::test]
async fn purge_deletes_the_person_in_api_and_their_presets_in_seedgen() {
    let site = Site::start().await;
    let browser = Site::browser();
    site.login(&browser, ALICE, "Alice").await;
    // A namespace with a preset.
    let ns_page = browser.get(site.url("/presets/me")).send().await.unwrap();
    let namespace = ns_page.url().path().rsplit('/').next().unwrap().to_owned();
    let saved = browser
        .put(site.url(&format!(
            "/api/v1/namespaces/{namespace}/presets/alttpr/mine"
        )))
        .body(
            std::fs::read_to_string(common::repo_root().join("presets/alttpr/casualboots.yaml"))
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), 200, "{}", saved.text().await.unwrap());
    let namespaces = |db: sea_orm::DatabaseConnection| async move {
        count(&db, "SELECT COUNT(*) FROM preset_namespaces").await
    };
    assert_eq!(namespaces(site.seedgen_db.clone()).await, 1);
    let user = identity::by_discord(&site.api.db, ALICE)
        .await
        .unwrap()
        .unwrap();
    api::keys::create(
        &site.api.db,
        "mine",
        Some(user.id),
        &["presets:write".into()],
        None,
    )
    .await
    .unwrap();

    // A seed Alice rolled in Discord.
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};
    seedgen::db::audit::ActiveModel {
        randomizer: Set("alttpr".into()),
        hash_id: Set(Some("abc".into())),
        permalink: Set("https://alttpr.com/h/abc".into()),
        settings: Set(None),
        gentype: Set("preset".into()),
        genoption: Set("open".into()),
        namespace: Set(None),
        provider: Set("alttpr".into()),
        surface: Set("discord".into()),
        requested_by: Set(format!("discord:{ALICE}")),
        customizer: Set(false),
        doors: Set(false),
        avianart: Set(false),
        rng_seed: Set(None),
        spoiler_url: Set(None),
        attempt_count: Set(1),
        latency_ms: Set(10),
        created_at: Set(chrono::Utc::now()),
        ..Default::default()
    }
    .insert(&site.seedgen_db)
    .await
    .unwrap();
    let csrf = site.csrf_of(&browser).await;
    // Without the confirmation nothing happens.
    browser
        .post(site.url("/me/purge"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert!(
        identity::get(&site.api.db, user.id)
            .await
            .unwrap()
            .is_some()
    );
    let page = site
        .post_form(
            &browser,
            "/me/purge",
            &[("csrf", csrf.as_str()), ("confirm", "yes")],
        )
        .await;
    assert!(page.contains("being deleted"), "{page}");
    assert!(
        identity::get(&site.api.db, user.id)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        count(&site.api.db, "SELECT COUNT(*) FROM api_keys").await,
        0
    );
    assert_eq!(
        count(
            &site.api.db,
            "SELECT COUNT(*) FROM web_sessions WHERE user_id IS NOT NULL"
        )
        .await,
        0
    );
    let me = browser.get(site.url("/api/me")).send().await.unwrap();
    assert_eq!(me.status(), 401);
    // seedgen hears api.user.purged and deletes the namespace and its presets.
    for _ in 0..100 {
        if namespaces(site.seedgen_db.clone()).await == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(namespaces(site.seedgen_db.clone()).await, 0);
    assert_eq!(
        count(&site.seedgen_db, "SELECT COUNT(*) FROM presets").await,
        0
    );
}
