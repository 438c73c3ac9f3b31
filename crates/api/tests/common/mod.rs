//! Starting the real api service for the black-box tests, alone or as a whole site: api with
//! seedgen (the repository's presets), a fake Discord and a fake racetime.gg OAuth2 server.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::Duration;

use api::{ApiService, ApiSettings};
use platform::Service;
use platform::config::Settings;
use seedgen::SeedgenService;
use testkit::oauth::FakeOAuth;
use testkit::{ServiceHandle, TestDb, TestNats};

/// How long a service may take to become ready.
pub const WAIT: Duration = Duration::from_secs(30);

/// A running api service on its own fresh database.
pub struct Api {
    /// `http://127.0.0.1:<port>` of its HTTP API.
    pub http: String,
    /// Its database, for writing users and keys directly.
    pub db: sea_orm::DatabaseConnection,
    /// The service.
    pub handle: ServiceHandle,
    settings: Settings<ApiSettings>,
    test_db: TestDb,
}

/// Starts api on `nats` with `peers` (`(service, gRPC URL)`) and an HTTP port of its own.
pub async fn start(nats: &TestNats, peers: &[(&str, String)]) -> Api {
    start_with(nats, peers, |_| {}).await
}

/// Like [`start`], with `configure` applied to the settings last (the public URL is already
/// `http://127.0.0.1:<port>`).
pub async fn start_with(
    nats: &TestNats,
    peers: &[(&str, String)],
    configure: impl FnOnce(&mut ApiSettings),
) -> Api {
    testkit::init();
    let test_db = TestDb::new().await.unwrap();
    let mut settings = ApiService::default_settings();
    testkit::configure(&mut settings.common, &test_db, nats);
    for (name, url) in peers {
        settings.common.peers.get_mut(*name).unwrap().url = url.clone();
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    settings.service.http.listen = ([127, 0, 0, 1], port).into();
    settings.service.http.public_url = format!("http://127.0.0.1:{port}");
    settings.service.webhooks.allow_private_targets = true;
    settings.service.webhooks.poll_ms = 100;
    configure(&mut settings.service);
    boot(settings, test_db).await
}

async fn boot(settings: Settings<ApiSettings>, test_db: TestDb) -> Api {
    let mut handle = ServiceHandle::spawn::<ApiService>(
        settings.clone(),
        testkit::bind_ephemeral().await.unwrap(),
    )
    .unwrap();
    handle.wait_ready(WAIT).await.unwrap();
    let db = sea_orm::Database::connect(test_db.url()).await.unwrap();
    Api {
        http: settings.service.http.public_url.clone(),
        db,
        handle,
        settings,
        test_db,
    }
}

impl Api {
    /// Kills the process's tasks without a graceful stop (a crash) and starts api again on the
    /// same database and port.
    pub async fn crash_and_restart(self) -> Api {
        let Api {
            handle,
            settings,
            test_db,
            ..
        } = self;
        handle.crash().await;
        boot(settings, test_db).await
    }
}

/// The whole site: api, seedgen, and the two OAuth2 providers.
pub struct Site {
    /// api.
    pub api: Api,
    /// Discord's OAuth2.
    pub discord: FakeOAuth,
    /// racetime.gg's OAuth2.
    pub racetime: FakeOAuth,
    /// seedgen's database, to look at namespaces.
    pub seedgen_db: sea_orm::DatabaseConnection,
    /// seedgen.
    pub seedgen: ServiceHandle,
    _seedgen_test_db: TestDb,
    /// The NATS names of this test.
    pub nats: TestNats,
}

/// Starts seedgen with the repository's presets.
pub async fn seedgen(nats: &TestNats) -> (ServiceHandle, TestDb) {
    seedgen_with(nats, |_| {}).await
}

/// Like [`seedgen`], with `configure` applied to its settings last.
pub async fn seedgen_with(
    nats: &TestNats,
    configure: impl FnOnce(&mut seedgen::SeedgenSettings),
) -> (ServiceHandle, TestDb) {
    testkit::init();
    let db = TestDb::new().await.unwrap();
    let mut settings = SeedgenService::default_settings();
    testkit::configure(&mut settings.common, &db, nats);
    settings.service.presets_dir = repo_root().join("presets");
    configure(&mut settings.service);
    let mut handle =
        ServiceHandle::spawn::<SeedgenService>(settings, testkit::bind_ephemeral().await.unwrap())
            .unwrap();
    handle.wait_ready(WAIT).await.unwrap();
    (handle, db)
}

impl Site {
    /// Starts everything; `configure` adjusts api's settings last.
    pub async fn start_with(configure: impl FnOnce(&mut ApiSettings)) -> Site {
        Self::start_full(configure, |_| {}).await
    }

    /// Starts everything; `configure` adjusts api's settings last, `configure_seedgen`
    /// seedgen's.
    pub async fn start_full(
        configure: impl FnOnce(&mut ApiSettings),
        configure_seedgen: impl FnOnce(&mut seedgen::SeedgenSettings),
    ) -> Site {
        let nats = TestNats::shared();
        let (seedgen, seedgen_test_db) = seedgen_with(&nats, configure_seedgen).await;
        let discord = FakeOAuth::discord().await.unwrap();
        let racetime = FakeOAuth::racetime().await.unwrap();
        let (d, r) = (discord.clone(), racetime.clone());
        let api = start_with(&nats, &[("seedgen", seedgen.grpc_url())], move |s| {
            s.discord.client_id = d.client_id.clone();
            s.discord.client_secret = Some(d.client_secret.clone().into());
            s.discord.authorize_url = d.authorize_url();
            s.discord.token_url = d.token_url();
            s.discord.api_url = d.api_url();
            s.racetime.url = r.url.clone();
            s.racetime.client_id = r.client_id.clone();
            s.racetime.client_secret = Some(r.client_secret.clone().into());
            configure(s);
        })
        .await;
        discord.register_redirect(&format!("{}/callback/discord/", api.http));
        racetime.register_redirect(&format!("{}/racetime/verify/return", api.http));
        let seedgen_db = sea_orm::Database::connect(seedgen_test_db.url())
            .await
            .unwrap();
        Site {
            api,
            discord,
            racetime,
            seedgen_db,
            seedgen,
            _seedgen_test_db: seedgen_test_db,
            nats,
        }
    }

    /// Starts everything with the default settings.
    pub async fn start() -> Site {
        Self::start_with(|_| {}).await
    }

    /// A browser-like HTTP client: keeps cookies, follows redirects.
    pub fn browser() -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .unwrap()
    }

    /// `path` on the site.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.api.http)
    }

    /// Logs `browser` in as Discord user `id` named `name`; returns the page it lands on.
    pub async fn login(&self, browser: &reqwest::Client, id: u64, name: &str) -> String {
        self.discord.sign_in_as(&id.to_string(), name);
        let response = browser.get(self.url("/login/")).send().await.unwrap();
        assert_eq!(response.status(), 200, "login ends on a page");
        assert!(
            response.url().path() == "/me",
            "login lands on /me, not {}",
            response.url()
        );
        response.text().await.unwrap()
    }

    /// Links racetime.gg account `id` named `name` for the logged-in `browser`.
    pub async fn link(&self, browser: &reqwest::Client, id: &str, name: &str) -> String {
        self.racetime.sign_in_as(id, name);
        let response = browser
            .get(self.url("/racetime/verification/initiate"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.text().await.unwrap()
    }

    /// Posts a form as `browser` and returns the page it ends on.
    pub async fn post_form(
        &self,
        browser: &reqwest::Client,
        path: &str,
        form: &[(&str, &str)],
    ) -> String {
        browser
            .post(self.url(path))
            .form(form)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// The CSRF token in the forms of `html`.
    pub fn csrf(html: &str) -> String {
        let marker = "name=\"csrf\" value=\"";
        let start = html.find(marker).expect("a form with a CSRF token") + marker.len();
        html[start..start + 32].to_owned()
    }

    /// The CSRF token of `browser`'s session (read from its profile page).
    pub async fn csrf_of(&self, browser: &reqwest::Client) -> String {
        let page = browser
            .get(self.url("/me"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        Self::csrf(&page)
    }
}

/// The repository root (from the crate's directory at run time).
pub fn repo_root() -> PathBuf {
    PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("../..")
}
