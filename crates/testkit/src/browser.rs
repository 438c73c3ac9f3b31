//! The website in a real browser: Debian's headless Chromium driven over WebDriver
//! (chromedriver, fantoccini). `deploy/local/test.sh` installs `chromium` and
//! `chromium-driver`; `TEST_CHROMEDRIVER` and `TEST_CHROMIUM` override where they are.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

/// The phone-sized window width, in CSS pixels (an iPhone's).
pub const WIDTH: u32 = 390;

/// A running chromedriver and the profile directory of its browser; both go on drop.
#[derive(Debug)]
pub struct Driver {
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

/// Starts Debian's chromedriver (`TEST_CHROMEDRIVER` overrides where it is).
pub async fn driver() -> Driver {
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
            .join(format!("sahasrahbot-chromium-{}", crate::unique_suffix())),
    }
}

/// A headless Chromium session (`TEST_CHROMIUM`) with a phone's viewport.
pub async fn browser(driver: &Driver) -> Client {
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
pub async fn wait_path(client: &Client, path: &str) {
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

/// Clicks the button matching `css` and waits for the page it loads, even when that page has
/// the same path (a form that redirects back to itself).
pub async fn submit_and_reload(client: &Client, css: &str) {
    client
        .execute("window.__before_submit = true", vec![])
        .await
        .unwrap();
    client
        .find(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    for _ in 0..100 {
        let fresh = client
            .execute(
                "return window.__before_submit === undefined && document.readyState === 'complete'",
                vec![],
            )
            .await
            .unwrap();
        if fresh == json!(true) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("submitting {css} loaded no page");
}

/// Clicks the element with id `id`.
pub async fn click(client: &Client, id: &str) {
    client
        .find(Locator::Id(id))
        .await
        .unwrap_or_else(|e| panic!("#{id}: {e}"))
        .click()
        .await
        .unwrap();
}

/// The text of the element matching `css`.
pub async fn text(client: &Client, css: &str) -> String {
    client
        .find(Locator::Css(css))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// No horizontal scrolling at phone width, and every visible form field has a label.
pub async fn fits_a_phone_and_is_labelled(client: &Client, page: &str) {
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
