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

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::Site;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

const ALICE: u64 = 185_198_185_990_324_225;
/// An iPhone-sized window.
const WIDTH: u32 = 390;

struct Driver {
    child: Child,
    url: String,
    profile: std::path::PathBuf,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

fn find(var: &str, names: &[&str]) -> String {
    if let Ok(path) = std::env::var(var) {
        return path;
    }
    for name in names {
        for dir in ["/usr/bin", "/usr/local/bin", "/usr/lib/chromium"] {
            let path = format!("{dir}/{name}");
            if std::path::Path::new(&path).exists() {
                return path;
            }
        }
    }
    panic!(
        "{} not found: run deploy/local/test.sh (it installs Debian's chromium and chromium-driver) or set {var}",
        names[0]
    );
}

async fn driver() -> Driver {
    let binary = find("TEST_CHROMEDRIVER", &["chromedriver"]);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(binary)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
        profile: std::env::temp_dir()
            .join(format!("sahasrahbot-chromium-{}", testkit::unique_suffix())),
    }
}

async fn browser(driver: &Driver) -> Client {
    let chromium = find("TEST_CHROMIUM", &["chromium", "chromium-browser"]);
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                format!("--user-data-dir={}", driver.profile.display()),
            ],
            // A phone's viewport (a headless window cannot be narrower than 500 px).
            "mobileEmulation": {"deviceMetrics": {"width": WIDTH, "height": 844, "pixelRatio": 3.0}},
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a WebDriver session")
}

/// Waits until the browser shows `path` (a form submit navigates after `click` returns).
async fn wait_path(client: &Client, path: &str) {
    let mut seen = String::new();
    for _ in 0..100 {
        seen = client.current_url().await.unwrap().path().to_owned();
        if seen == path {
            // And the new page is loaded.
            let ready = client
                .execute("return document.readyState", vec![])
                .await
                .unwrap();
            if ready == "complete" {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the browser is at {seen}, not {path}");
}

async fn click(client: &Client, id: &str) {
    client
        .find(Locator::Id(id))
        .await
        .unwrap_or_else(|e| panic!("#{id}: {e}"))
        .click()
        .await
        .unwrap();
}

async fn text(client: &Client, css: &str) -> String {
    client
        .find(Locator::Css(css))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// No horizontal scrolling at phone width, and every visible form field has a label.
async fn fits_a_phone_and_is_labelled(client: &Client, page: &str) {
    let widths = client
        .execute(
            "return [window.innerWidth, document.documentElement.scrollWidth]",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(widths[0], WIDTH, "{page}: the viewport is a phone's");
    assert!(
        widths[1].as_u64().unwrap() <= u64::from(WIDTH),
        "{page} is {} px wide on a {WIDTH} px screen",
        widths[1]
    );
    let unlabelled = client
        .execute(
            "return Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea'))\
               .filter(e => !(e.labels && e.labels.length)).map(e => e.name || e.id)",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(unlabelled, json!([]), "{page}: fields without a label");
}

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
