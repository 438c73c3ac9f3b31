//! The OpenAPI document: generated, OpenAPI 3.1, and complete — every route of the JSON API
//! (v1 and upstream's paths) is in it, and every operation in it is served.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use serde_json::Value as Json;
use testkit::TestNats;

/// Every JSON route: (method, path as documented).
const ROUTES: &[(&str, &str)] = &[
    ("get", "/api/v1/status"),
    ("get", "/api/v1/health"),
    ("get", "/api/v1/me"),
    ("post", "/api/v1/racetime/command"),
    ("post", "/api/v1/mystery/settings"),
    ("get", "/api/v1/mystery/settings"),
    ("get", "/api/v1/mystery/settings/{weightset}"),
    ("get", "/api/v1/presets/{randomizer}"),
    ("get", "/api/v1/presets/{randomizer}/{name}"),
    ("get", "/api/v1/namespaces/{namespace}"),
    (
        "get",
        "/api/v1/namespaces/{namespace}/presets/{randomizer}/{name}",
    ),
    (
        "put",
        "/api/v1/namespaces/{namespace}/presets/{randomizer}/{name}",
    ),
    (
        "delete",
        "/api/v1/namespaces/{namespace}/presets/{randomizer}/{name}",
    ),
    ("get", "/api/v1/admin/keys"),
    ("post", "/api/v1/admin/keys"),
    ("delete", "/api/v1/admin/keys/{id}"),
    (
        "put",
        "/api/v1/admin/triforcetexts/{pool}/moderators/{discord_user_id}",
    ),
    (
        "delete",
        "/api/v1/admin/triforcetexts/{pool}/moderators/{discord_user_id}",
    ),
    ("get", "/api/v1/webhooks"),
    ("post", "/api/v1/webhooks"),
    ("delete", "/api/v1/webhooks/{id}"),
    ("get", "/api/v1/webhooks/{id}/deliveries"),
    ("get", "/api/v1/async/tournaments"),
    ("get", "/api/v1/async/tournaments/{id}"),
    ("get", "/api/v1/async/tournaments/{id}/races"),
    ("get", "/api/v1/async/tournaments/{id}/pools"),
    ("get", "/api/v1/async/tournaments/{id}/permalinks"),
    ("get", "/api/v1/async/tournaments/{id}/leaderboard"),
    ("get", "/async/api/tournaments"),
    ("get", "/async/api/tournaments/{id}"),
    ("get", "/async/api/tournaments/{id}/races"),
    ("get", "/async/api/tournaments/{id}/pools"),
    ("get", "/async/api/tournaments/{id}/permalinks"),
    ("get", "/async/api/tournaments/{id}/leaderboard"),
    ("get", "/api/v1/tournaments"),
    ("get", "/api/v1/tournaments/{slug}"),
    ("put", "/api/v1/tournaments/{slug}"),
    ("post", "/api/v1/tournaments/{slug}/roles"),
    ("get", "/api/v1/tournaments/{slug}/matches"),
    ("post", "/api/v1/tournaments/{slug}/matches"),
    ("get", "/api/v1/tournaments/{slug}/results"),
    ("get", "/api/v1/tournaments/{slug}/schedule.ics"),
    ("get", "/api/v1/matches/{id}/racetime-room"),
    ("post", "/api/v1/matches/{id}/racetime-room"),
    ("get", "/api/v1/leagues/{guild}/{league}/roster"),
    // Upstream (spec §3.1, §3.2, §3.3).
    ("post", "/api/racetime/cmd"),
    ("post", "/api/settingsgen/mystery"),
    ("get", "/api/settingsgen/mystery"),
    ("get", "/api/settingsgen/mystery/{weightset}"),
    ("get", "/presets/download/{namespace}/{randomizer}/{preset}"),
    ("get", "/presets/api/{randomizer}/list"),
    ("get", "/presets/api/{randomizer}"),
    ("get", "/presets/manage/{namespace}/data.json"),
    (
        "get",
        "/presets/manage/{namespace}/{randomizer}/{name}/data.json",
    ),
    ("get", "/api/me"),
    ("post", "/api/me/display-name"),
    ("post", "/api/me/racetime/unlink"),
    ("post", "/purgeme"),
    ("get", "/healthcheck"),
];

#[tokio::test]
async fn every_route_is_documented_and_every_documented_operation_is_served() {
    let nats = TestNats::shared();
    let api = common::start(&nats, &[]).await;
    let doc: Json = reqwest::get(format!("{}/api/openapi.json", api.http))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    let paths = doc["paths"].as_object().unwrap();
    for (method, path) in ROUTES {
        let operation = &paths
            .get(*path)
            .unwrap_or_else(|| panic!("{path} is not documented"))[method];
        assert!(operation.is_object(), "{method} {path} is not documented");
        assert!(
            operation["responses"]
                .as_object()
                .is_some_and(|r| !r.is_empty()),
            "{method} {path} documents no response"
        );
    }
    // And the other way round: the document holds nothing that is not served, and every
    // operation answers (perhaps 4xx/5xx for want of a peer or a key), but never with the
    // router's own "no route" or "method not allowed".
    let client = reqwest::Client::new();
    let mut documented = 0;
    for (path, item) in paths {
        for method in ["get", "post", "put", "delete"] {
            if !item[method].is_object() {
                continue;
            }
            documented += 1;
            assert!(
                ROUTES.contains(&(method, path.as_str())),
                "{method} {path} is documented but missing from this test's list"
            );
            let concrete = path
                .replace("{id}", "1")
                .replace("{randomizer}", "alttpr")
                .replace(['{', '}'], "");
            let request = client.request(
                method.to_uppercase().parse().unwrap(),
                format!("{}{concrete}", api.http),
            );
            let response = request
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            assert_ne!(status, 405, "{method} {path}: method not routed");
            let body = response.text().await.unwrap();
            assert!(
                !body.contains("\"no_route\""),
                "{method} {path}: not routed ({body})"
            );
        }
    }
    assert_eq!(documented, ROUTES.len());
    assert!(doc["components"]["securitySchemes"]["api_key"].is_object());
}
