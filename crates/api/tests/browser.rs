//! The website in a real browser: headless Debian Chromium driven over WebDriver
//! (chromedriver, fantoccini), against the real api and seedgen services and the fake
//! Discord and racetime.gg OAuth2 servers. A newcomer logs in with Discord, links racetime.gg,
//! uploads a preset file, sees it listed, downloads it, deletes it and logs out — on a
//! phone-sized window, with every form field labelled.
//!
//! `deploy/local/test.sh` installs `chromium` and `chromium-driver`; `TEST_CHROMEDRIVER` and
//! `TEST_CHROMIUM` override where they are.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::Site;
use fantoccini::Locator;
use serde_json::json;
use testkit::browser::{
    browser, click, driver, fits_a_phone_and_is_labelled, submit_and_reload, text, wait_path,
};

const ALICE: u64 = 185_198_185_990_324_225;

#[tokio::test]
async fn a_newcomer_logs_in_links_racetime_and_manages_a_preset_in_the_browser() {
    let site = Site::start().await;
    let driver = driver().await;
    let client = browser(&driver).await;
    site.discord.sign_in_as(&ALICE.to_string(), "Alice");
    site.racetime.sign_in_as("vOgN1DmZRxL3kA2b", "AliceRT");

    // Home, then "Log in with Discord": through the fake Discord and back home.
    client.goto(&site.url("/")).await.unwrap();
    fits_a_phone_and_is_labelled(&client, "home").await;
    click(&client, "login").await;
    wait_path(&client, "/").await;
    assert_eq!(text(&client, "#nav-profile").await, "Alice");

    // Profile, link racetime.gg.
    click(&client, "nav-profile").await;
    wait_path(&client, "/me").await;
    assert_eq!(text(&client, "#discord-id").await, ALICE.to_string());
    assert_eq!(text(&client, "#racetime-status").await, "not linked");
    fits_a_phone_and_is_labelled(&client, "profile").await;
    click(&client, "link-racetime").await;
    wait_path(&client, "/me").await;
    assert!(
        text(&client, "#flash")
            .await
            .contains("Linked racetime.gg account AliceRT")
    );
    assert_eq!(text(&client, "#racetime-status").await, "AliceRT#1234");

    // Upload a preset file into their namespace.
    client.goto(&site.url("/presets/me")).await.unwrap();
    wait_path(&client, "/presets/manage/alice").await;
    fits_a_phone_and_is_labelled(&client, "namespace").await;
    let file = common::repo_root()
        .join("presets/alttpr/casualboots.yaml")
        .canonicalize()
        .unwrap();
    client
        .find(Locator::Id("preset_name"))
        .await
        .unwrap()
        .send_keys("weekly")
        .await
        .unwrap();
    client
        .find(Locator::Id("presetfile"))
        .await
        .unwrap()
        .send_keys(file.to_str().unwrap())
        .await
        .unwrap();
    click(&client, "upload").await;
    wait_path(&client, "/presets/manage/alice/alttpr/weekly").await;
    assert!(
        text(&client, "#flash")
            .await
            .contains("Saved alice/weekly.")
    );
    let uploaded = std::fs::read_to_string(&file).unwrap();
    assert_eq!(text(&client, "#yaml").await.trim(), uploaded.trim());

    // Listed among the alttpr presets.
    client
        .goto(&site.url("/presets?randomizer=alttpr"))
        .await
        .unwrap();
    let listed = client
        .find(Locator::LinkText("alice/weekly"))
        .await
        .expect("the preset is listed");
    fits_a_phone_and_is_labelled(&client, "preset list").await;
    listed.click().await.unwrap();
    wait_path(&client, "/presets/manage/alice/alttpr/weekly").await;

    // Download: the link serves the file as uploaded.
    let href = client
        .find(Locator::Id("download"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    let download = reqwest::get(site.url(&href)).await.unwrap();
    assert_eq!(download.status(), 200);
    assert!(
        download.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("alice-weekly.yaml")
    );
    assert_eq!(download.text().await.unwrap(), uploaded);

    // Delete it.
    click(&client, "delete").await;
    wait_path(&client, "/presets/manage/alice").await;
    assert!(
        text(&client, "#flash")
            .await
            .contains("Deleted alice/weekly.")
    );
    client
        .find(Locator::Id("no-presets"))
        .await
        .expect("no presets left");
    client
        .goto(&site.url("/presets?randomizer=alttpr"))
        .await
        .unwrap();
    assert!(
        client
            .find(Locator::LinkText("alice/weekly"))
            .await
            .is_err()
    );

    // Log out: the header offers login again and the profile needs a login.
    click(&client, "logout").await;
    wait_path(&client, "/").await;
    client.find(Locator::Id("login")).await.expect("logged out");
    assert!(
        api::identity::by_discord(&site.api.db, ALICE)
            .await
            .unwrap()
            .is_some(),
        "logging out keeps the account"
    );
    client.close().await.unwrap();
}

#[tokio::test]
async fn the_mystery_generator_rolls_a_named_weightset_in_the_browser() {
    let site = Site::start().await;
    let driver = driver().await;
    let client = browser(&driver).await;
    client.goto(&site.url("/mystery")).await.unwrap();
    fits_a_phone_and_is_labelled(&client, "mystery").await;
    let select = client.find(Locator::Id("weightset")).await.unwrap();
    select
        .select_by_value("weighted")
        .await
        .expect("the upstream weightsets are offered");
    click(&client, "roll").await;
    let settings = client
        .wait()
        .for_element(Locator::Id("settings"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let parsed: serde_json::Value = serde_json::from_str(&settings).expect("JSON settings");
    assert!(parsed.is_object(), "{settings}");
    client.close().await.unwrap();
}

/// A moderator of the `alttpr2024` triforce text pool.
const MODERATOR: u64 = 300_000_000_000_000_003;

#[tokio::test]
async fn a_triforce_text_is_submitted_in_the_browser_approved_and_put_into_a_seed() {
    use proto::seedgen::v1::seed_gen_client::SeedGenClient;
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let alttpr = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/randomizer"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(testkit::fixtures::alttpr_seed_response("TrIfOrCe", "off")),
        )
        .mount(&alttpr)
        .await;
    let alttpr_url = alttpr.uri();
    let site = Site::start_full(|_| {}, move |s| s.providers.alttpr.base_url = alttpr_url).await;
    // An operator names the pool's moderator.
    let (_, admin) = api::keys::create(&site.api.db, "ops", None, &["admin".into()], None)
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let moderators = format!("/api/v1/admin/triforcetexts/alttpr2024/moderators/{MODERATOR}");
    let added = http
        .put(site.url(&moderators))
        .header("Authorization", format!("Bearer {admin}"))
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), 204);

    // Alice writes her text in the browser; a bad character is refused with the reason.
    let driver = driver().await;
    let client = browser(&driver).await;
    site.discord.sign_in_as(&ALICE.to_string(), "Alice");
    client.goto(&site.url("/")).await.unwrap();
    click(&client, "login").await;
    wait_path(&client, "/").await;
    client
        .goto(&site.url("/triforcetexts/alttpr2024"))
        .await
        .unwrap();
    fits_a_phone_and_is_labelled(&client, "triforce text").await;
    let fill = |id: &'static str, value: &'static str| {
        let client = client.clone();
        async move {
            let field = client.find(Locator::Id(id)).await.unwrap();
            field.clear().await.unwrap();
            field.send_keys(value).await.unwrap();
        }
    };
    fill("first_line", "mail@me").await;
    submit_and_reload(&client, "#triforce-text button").await;
    assert_eq!(
        text(&client, "#flash").await,
        "Invalid characters in first_line. Max 19 characters from the allowed set."
    );
    fill("first_line", "Thanks for").await;
    fill("second_line", "playing, hero!").await;
    fill("third_line", "ありがとう →").await;
    submit_and_reload(&client, "#triforce-text button").await;
    assert!(
        text(&client, "#flash").await.starts_with("Thank you!"),
        "submitted"
    );
    // Alice does not moderate the pool.
    client
        .goto(&site.url("/triforcetexts/alttpr2024/moderation"))
        .await
        .unwrap();
    assert!(
        client.source().await.unwrap().contains("Access denied."),
        "only moderators see the queue"
    );
    client.close().await.unwrap();

    // The moderator sees it pending and approves it (a form with the session's CSRF token).
    let moderator = Site::browser();
    site.login(&moderator, MODERATOR, "Mod").await;
    let queue = moderator
        .get(site.url("/triforcetexts/alttpr2024/moderation/api"))
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(queue["pool_name"], "alttpr2024");
    assert_eq!(queue["filter"], "pending");
    let texts = queue["texts"].as_array().unwrap();
    assert_eq!(texts.len(), 1, "{queue}");
    assert_eq!(texts[0]["text"], "Thanks for\nplaying, hero!\nありがとう →");
    assert_eq!(texts[0]["author"], "Alice");
    assert_eq!(texts[0]["approved"], serde_json::Value::Null);
    let id = texts[0]["id"].as_i64().unwrap();
    let page = moderator
        .get(site.url("/triforcetexts/alttpr2024/moderation"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("playing, hero!"), "{page}");
    let forged = site
        .post_form(
            &moderator,
            &format!("/triforcetexts/alttpr2024/moderation/{id}"),
            &[
                ("csrf", "not-the-token-not-the-token-0000"),
                ("action", "approve"),
            ],
        )
        .await;
    assert!(forged.contains("Form expired"), "a forged form is refused");
    let csrf = Site::csrf(&page);
    let done = site
        .post_form(
            &moderator,
            &format!("/triforcetexts/alttpr2024/moderation/{id}"),
            &[("csrf", &csrf), ("action", "approve")],
        )
        .await;
    assert!(
        done.contains(&format!("Text {id} is now approved.")),
        "{done}"
    );
    // A text of another pool is not this moderator's to judge (upstream took any id).
    let other = site
        .post_form(
            &moderator,
            "/triforcetexts/sgl24",
            &[("csrf", &csrf), ("first_line", "Other pool")],
        )
        .await;
    assert!(other.contains("Thank you!"), "{other}");
    let foreign = moderator
        .post(site.url(&format!(
            "/triforcetexts/alttpr2024/moderation/api/{}",
            id + 1
        )))
        .json(&json!({"action": "approve"}))
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 404);
    let bad = moderator
        .post(site.url(&format!("/triforcetexts/alttpr2024/moderation/api/{id}")))
        .json(&json!({"action": "maybe"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert_eq!(
        bad.json::<serde_json::Value>().await.unwrap()["error"]["message"],
        "Invalid action."
    );

    // A seed rolled for the pool carries the text in its end credits.
    let mut seedgen = SeedGenClient::connect(site.seedgen.grpc_url())
        .await
        .unwrap();
    seedgen
        .generate(proto::seedgen::v1::GenerateRequest {
            idempotency_key: format!("triforce-{}", testkit::unique_suffix()),
            randomizer: "alttpr".into(),
            preset: "open".into(),
            race: true,
            triforce_text_pool: "alttpr2024".into(),
            requested_by: "api:test".into(),
            surface: "api".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let sent = alttpr.received_requests().await.unwrap();
    let body: serde_json::Value = serde_json::from_slice(&sent.last().unwrap().body).unwrap();
    assert_eq!(
        body["texts"]["end_triforce"],
        "{NOBORDER}\nThanks for\nplaying, hero!\nありがとう →"
    );
}
