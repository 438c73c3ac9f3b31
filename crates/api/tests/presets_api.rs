//! Presets over REST and upstream's preset paths, and the authorization matrix of namespace
//! edits and operator routes: anonymous, logged in, namespace owner, collaborator, API key
//! with and without each scope, revoked and expired key — one row per cell. The real api and
//! seedgen services with the repository's presets.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::{Duration as ChronoDuration, Utc};
use common::Site;
use serde_json::Value as Json;

const ALICE: u64 = 1001;
const BOB: u64 = 1002;
const CAROL: u64 = 1003;

fn preset_yaml() -> String {
    std::fs::read_to_string(common::repo_root().join("presets/alttpr/casualboots.yaml")).unwrap()
}

/// Who sends a request.
#[derive(Clone)]
enum Who {
    Anonymous,
    Browser(reqwest::Client),
    Key(String),
}

impl Who {
    fn client(&self) -> reqwest::Client {
        match self {
            Who::Browser(b) => b.clone(),
            _ => reqwest::Client::new(),
        }
    }

    fn apply(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self {
            Who::Key(key) => request.bearer_auth(key),
            _ => request,
        }
    }
}

struct World {
    site: Site,
    namespace: String,
    who: Vec<(&'static str, Who)>,
}

async fn user_id(site: &Site, discord: u64) -> i64 {
    api::identity::by_discord(&site.api.db, discord)
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn key(
    site: &Site,
    user: Option<i64>,
    scopes: &[&str],
    expires_in_hours: Option<i64>,
) -> String {
    let scopes: Vec<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
    api::keys::create(
        &site.api.db,
        "test",
        user,
        &scopes,
        expires_in_hours.map(|h| Utc::now() + ChronoDuration::hours(h)),
    )
    .await
    .unwrap()
    .1
}

async fn world() -> World {
    let site = Site::start().await;
    let alice = Site::browser();
    site.login(&alice, ALICE, "Alice").await;
    let page = alice.get(site.url("/presets/me")).send().await.unwrap();
    let namespace = page.url().path().rsplit('/').next().unwrap().to_owned();
    assert_eq!(namespace, "alice");
    let bob = Site::browser();
    site.login(&bob, BOB, "Bob").await;
    let carol = Site::browser();
    site.login(&carol, CAROL, "Carol").await;
    // Alice makes Bob a collaborator through the website's form.
    let csrf = site.csrf_of(&alice).await;
    let page = site
        .post_form(
            &alice,
            &format!("/presets/manage/{namespace}/collaborators"),
            &[
                ("csrf", csrf.as_str()),
                ("discord_user_id", &BOB.to_string()),
                ("action", "add"),
            ],
        )
        .await;
    assert!(page.contains("may now edit alice"), "{page}");

    let alice_id = user_id(&site, ALICE).await;
    let write = key(&site, Some(alice_id), &["presets:write"], None).await;
    let other_scope = key(&site, Some(alice_id), &["asynctournament:read"], None).await;
    let revoked = key(&site, Some(alice_id), &["presets:write"], None).await;
    let revoked_row = api::keys::verify(&site.api.db, &revoked)
        .await
        .unwrap()
        .unwrap();
    assert!(
        api::keys::revoke(&site.api.db, revoked_row.id)
            .await
            .unwrap()
    );
    let expired = key(&site, Some(alice_id), &["presets:write"], Some(-1)).await;
    let operator = key(&site, None, &["presets:write"], None).await;
    let who = vec![
        ("anonymous", Who::Anonymous),
        ("logged in, not an editor", Who::Browser(carol)),
        ("namespace owner", Who::Browser(alice)),
        ("collaborator", Who::Browser(bob)),
        ("owner's key with presets:write", Who::Key(write)),
        ("owner's key without presets:write", Who::Key(other_scope)),
        ("revoked key", Who::Key(revoked)),
        ("expired key", Who::Key(expired)),
        (
            "operator key (no user) with presets:write",
            Who::Key(operator),
        ),
        ("wrong key", Who::Key("sb_not-a-key".into())),
    ];
    World {
        site,
        namespace,
        who,
    }
}

impl World {
    fn find(&self, name: &str) -> &Who {
        &self.who.iter().find(|(n, _)| *n == name).unwrap().1
    }
}

#[tokio::test]
async fn who_may_upload_and_delete_namespace_presets() {
    let w = world().await;
    // (who, PUT status, DELETE status)
    let expected: [(&str, u16, u16); 10] = [
        ("anonymous", 401, 401),
        ("logged in, not an editor", 403, 403),
        ("namespace owner", 200, 204),
        ("collaborator", 200, 204),
        ("owner's key with presets:write", 200, 204),
        ("owner's key without presets:write", 403, 403),
        ("revoked key", 401, 401),
        ("expired key", 401, 401),
        ("operator key (no user) with presets:write", 403, 403),
        ("wrong key", 401, 401),
    ];
    for (row, (name, put, delete)) in expected.iter().enumerate() {
        let who = w.find(name);
        let path = w.site.url(&format!(
            "/api/v1/namespaces/{}/presets/alttpr/row{row}",
            w.namespace
        ));
        let response = who
            .apply(who.client().put(&path).body(preset_yaml()))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let body: Json = response.json().await.unwrap();
        assert_eq!(status, *put, "PUT as {name}: {body}");
        if status >= 400 {
            assert!(
                body["error"]["code"].is_string(),
                "{name}: JSON error {body}"
            );
            assert!(
                body["error"]["message"].is_string(),
                "{name}: JSON error {body}"
            );
        } else {
            assert_eq!(body["namespace"], w.namespace);
            assert_eq!(body["data"]["settings"]["goal"], "ganon", "{body}");
        }
        // Make sure there is something to delete, as the owner.
        if status != 200 {
            let owner = w.find("namespace owner");
            let made = owner
                .client()
                .put(&path)
                .body(preset_yaml())
                .send()
                .await
                .unwrap();
            assert_eq!(made.status(), 200);
        }
        let response = who.apply(who.client().delete(&path)).send().await.unwrap();
        assert_eq!(response.status().as_u16(), *delete, "DELETE as {name}");
    }
}

#[tokio::test]
async fn presets_are_listed_read_and_downloaded_on_v1_and_upstream_paths() {
    let w = world().await;
    let owner = w.find("namespace owner").client();
    let ns = &w.namespace;
    let put = owner
        .put(
            w.site
                .url(&format!("/api/v1/namespaces/{ns}/presets/alttpr/weekly")),
        )
        .body(preset_yaml())
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    let anon = reqwest::Client::new();
    let get = |path: String| {
        let anon = anon.clone();
        async move {
            let response = anon.get(path).send().await.unwrap();
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            (status, headers, response.text().await.unwrap())
        }
    };

    // v1 list: global and namespaced, fresh after the upload (the cache is dropped).
    let (status, _, body) = get(w.site.url("/api/v1/presets/alttpr")).await;
    assert_eq!(status, 200);
    let list: Json = serde_json::from_str(&body).unwrap();
    assert!(
        list["global"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "casualboots")
    );
    assert_eq!(list["namespaces"][0]["name"], "alice");
    assert_eq!(list["namespaces"][0]["presets"][0], "weekly");
    let (status, _, _) = get(w.site.url("/api/v1/presets/zelda9")).await;
    assert_eq!(status, 400, "unknown randomizer");

    // One preset, parsed and as a file.
    let (status, _, body) = get(w.site.url("/api/v1/presets/alttpr/casualboots")).await;
    assert_eq!(status, 200);
    let parsed: Json = serde_json::from_str(&body).unwrap();
    assert_eq!(parsed["namespace"], "");
    assert_eq!(parsed["data"]["settings"]["goal"], "ganon");
    let (status, headers, body) = get(w.site.url(&format!(
        "/api/v1/namespaces/{ns}/presets/alttpr/weekly?format=yaml"
    )))
    .await;
    assert_eq!(status, 200);
    assert_eq!(body, preset_yaml(), "the file exactly as uploaded");
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains("alice-weekly.yaml")
    );
    let (status, _, body) = get(w.site.url("/api/v1/presets/alttpr/nope")).await;
    assert_eq!(status, 404, "{body}");
    let (status, _, body) = get(w.site.url(&format!("/api/v1/namespaces/{ns}"))).await;
    assert_eq!(status, 200);
    let namespace: Json = serde_json::from_str(&body).unwrap();
    assert_eq!(namespace["owner_discord_user_id"], ALICE.to_string());
    assert_eq!(
        namespace["collaborator_discord_user_ids"][0],
        BOB.to_string()
    );

    // Upstream P1–P3.
    let (status, headers, body) =
        get(w.site.url(&format!("/presets/download/{ns}/alttpr/weekly"))).await;
    assert_eq!(status, 200);
    assert_eq!(body, preset_yaml());
    assert_eq!(headers["content-type"], "application/octet-stream");
    let (status, _, body) = get(w.site.url(&format!("/presets/download/{ns}/alttpr/gone"))).await;
    assert_eq!(status, 404);
    assert!(body.contains("Preset not found."));
    let (status, _, body) = get(w.site.url("/presets/api/alttpr/list")).await;
    assert_eq!(status, 200);
    let list: Json = serde_json::from_str(&body).unwrap();
    assert!(
        list["global"]
            .as_array()
            .unwrap()
            .contains(&Json::from("casualboots"))
    );
    assert_eq!(
        list["namespaces"][0],
        serde_json::json!({"name": "alice", "presets": ["weekly"]})
    );
    let (_, _, body) = get(w
        .site
        .url(&format!("/presets/api/alttpr?preset={ns}/weekly")))
    .await;
    let one: Json = serde_json::from_str(&body).unwrap();
    assert_eq!(one["preset"], format!("{ns}/weekly"));
    assert_eq!(one["data"]["settings"]["goal"], "ganon");
    let (_, _, body) = get(w.site.url("/presets/api/alttpr?preset=nope")).await;
    assert_eq!(body, "{}", "upstream answers an unknown preset with {{}}");

    // Upstream W17/W18: is_owner follows the session.
    let data: Json = owner
        .get(w.site.url(&format!("/presets/manage/{ns}/data.json")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(data["is_owner"], true);
    assert_eq!(data["presets"][0]["preset_name"], "weekly");
    let (_, _, body) = get(w.site.url(&format!("/presets/manage/{ns}/data.json"))).await;
    assert_eq!(
        serde_json::from_str::<Json>(&body).unwrap()["is_owner"],
        false
    );
    let (_, _, body) = get(w
        .site
        .url(&format!("/presets/manage/{ns}/alttpr/weekly/data.json")))
    .await;
    let data: Json = serde_json::from_str(&body).unwrap();
    assert_eq!(data["preset"]["content"], preset_yaml());
    assert_eq!(
        data["download_url"],
        format!("/presets/download/{ns}/alttpr/weekly")
    );
}

#[tokio::test]
async fn a_bad_preset_is_refused_with_the_reason_and_nothing_is_stored() {
    let w = world().await;
    let owner = w.find("namespace owner").client();
    let path = w.site.url(&format!(
        "/api/v1/namespaces/{}/presets/alttpr/broken",
        w.namespace
    ));
    for (body, needle) in [
        ("goal: [unclosed", "not valid YAML"),
        ("- just\n- a list\n", ""),
        ("", "A preset file is required."),
    ] {
        let response = owner.put(&path).body(body).send().await.unwrap();
        assert_eq!(response.status(), 400, "{body:?}");
        let error: Json = response.json().await.unwrap();
        let message = error["error"]["message"].as_str().unwrap().to_owned();
        println!("{body:?} -> {message}");
        assert!(
            !message.is_empty() && message.contains(needle),
            "{body:?}: {message}"
        );
    }
    let get = reqwest::get(&path).await.unwrap();
    assert_eq!(get.status(), 404, "nothing was stored");
}

#[tokio::test]
async fn operator_routes_need_the_admin_scope() {
    let w = world().await;
    let admin = key(&w.site, None, &["admin"], None).await;
    let write = key(&w.site, None, &["presets:write"], None).await;
    let client = reqwest::Client::new();
    let create = |auth: Option<String>| {
        let mut request = client
            .post(w.site.url("/api/v1/admin/keys"))
            .json(&serde_json::json!({"name": "tracker", "scopes": ["asynctournament:read"]}));
        if let Some(auth) = auth {
            request = request.bearer_auth(auth);
        }
        request.send()
    };
    assert_eq!(create(None).await.unwrap().status(), 401, "anonymous");
    assert_eq!(
        create(Some(write.clone())).await.unwrap().status(),
        403,
        "no admin scope"
    );
    let created = create(Some(admin.clone())).await.unwrap();
    assert_eq!(created.status(), 201, "admin");
    let created: Json = created.json().await.unwrap();
    let new_key = created["key"].as_str().unwrap().to_owned();
    assert!(new_key.starts_with("sb_"));
    // Listed without the key; only its hash is stored.
    let listed: Json = client
        .get(w.site.url("/api/v1/admin/keys"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!listed.to_string().contains(&new_key));
    let id = created["info"]["id"].as_i64().unwrap();
    // The new key works until it is revoked.
    let verify = api::keys::verify(&w.site.api.db, &new_key).await.unwrap();
    assert!(verify.is_ok());
    let revoke = |auth: String| {
        client
            .delete(w.site.url(&format!("/api/v1/admin/keys/{id}")))
            .bearer_auth(auth)
            .send()
    };
    assert_eq!(revoke(write).await.unwrap().status(), 403);
    assert_eq!(revoke(admin.clone()).await.unwrap().status(), 204);
    assert_eq!(
        revoke(admin).await.unwrap().status(),
        404,
        "already revoked"
    );
    assert!(
        api::keys::verify(&w.site.api.db, &new_key)
            .await
            .unwrap()
            .is_err()
    );
}
