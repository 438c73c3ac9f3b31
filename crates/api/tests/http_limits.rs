//! The HTTP layers every route shares: per-client-IP rate limits (429 with Retry-After and a
//! JSON error), closed CORS unless origins are configured, security headers, request ids.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use serde_json::Value as Json;
use testkit::TestNats;

#[tokio::test]
async fn a_client_over_its_rate_gets_429_with_retry_after() {
    let nats = TestNats::shared();
    let api = common::start_with(&nats, &[], |s| {
        s.http.rate_limit_per_second = 1;
        s.http.rate_limit_burst = 3;
    })
    .await;
    let client = reqwest::Client::new();
    let mut statuses = Vec::new();
    let mut limited = None;
    for _ in 0..5 {
        let response = client
            .get(format!("{}/api/v1/health", api.http))
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
        if response.status() == 429 {
            limited = Some(response);
        }
    }
    assert_eq!(
        &statuses[..3],
        [200, 200, 200],
        "the burst passes: {statuses:?}"
    );
    assert_eq!(statuses[4], 429, "{statuses:?}");
    let limited = limited.unwrap();
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry_after), "{retry_after}");
    assert!(limited.headers().contains_key("x-request-id"));
    let body: Json = limited.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    // The quota comes back.
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let again = client
        .get(format!("{}/api/v1/health", api.http))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 200);
}

#[tokio::test]
async fn cors_is_closed_unless_an_origin_is_configured() {
    let nats = TestNats::shared();
    let closed = common::start(&nats, &[]).await;
    let open = common::start_with(&nats, &[], |s| {
        s.http.cors_origins = vec!["https://tools.example".into()];
    })
    .await;
    let client = reqwest::Client::new();
    let preflight = |base: String, origin: &'static str| {
        client
            .request(
                reqwest::Method::OPTIONS,
                format!("{base}/api/v1/presets/alttpr"),
            )
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .send()
    };
    let refused = preflight(closed.http.clone(), "https://tools.example")
        .await
        .unwrap();
    assert!(
        !refused
            .headers()
            .contains_key("access-control-allow-origin")
    );
    let allowed = preflight(open.http.clone(), "https://tools.example")
        .await
        .unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://tools.example"
    );
    let other = preflight(open.http.clone(), "https://evil.example")
        .await
        .unwrap();
    assert!(!other.headers().contains_key("access-control-allow-origin"));
}

#[tokio::test]
async fn pages_carry_security_headers_and_unknown_paths_answer_by_kind() {
    let nats = TestNats::shared();
    let api = common::start(&nats, &[]).await;
    let page = reqwest::get(format!("{}/robots.txt", api.http))
        .await
        .unwrap();
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    assert_eq!(page.text().await.unwrap(), "User-agent: *\nDisallow: /\n");
    // An anonymous page view starts no session (no cookie, no row).
    let home = reqwest::get(format!("{}/", api.http)).await.unwrap();
    assert_eq!(home.status(), 200);
    assert!(
        !home.headers().contains_key("set-cookie"),
        "{:?}",
        home.headers()
    );
    let json = reqwest::get(format!("{}/api/v1/nothing", api.http))
        .await
        .unwrap();
    assert_eq!(json.status(), 404);
    let body: Json = json.json().await.unwrap();
    assert_eq!(body["error"]["code"], "no_route");
    let html = reqwest::get(format!("{}/nothing", api.http)).await.unwrap();
    assert_eq!(html.status(), 404);
    assert!(
        html.text()
            .await
            .unwrap()
            .contains("There is no page here.")
    );
    // A form post without the session's token is refused.
    let forged = reqwest::Client::new()
        .post(format!("{}/me/display-name", api.http))
        .form(&[("csrf", "guess"), ("display_name", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
}
