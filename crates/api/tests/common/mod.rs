//! Starting the real api service for the black-box tests.

#![allow(dead_code, clippy::unwrap_used)]

use std::time::Duration;

use api::ApiService;
use platform::Service;
use testkit::{ServiceHandle, TestDb, TestNats};

/// A running api service on its own fresh database.
pub struct Api {
    /// `http://127.0.0.1:<port>` of its HTTP API.
    pub http: String,
    /// Its database, for writing users and keys directly.
    pub db: sea_orm::DatabaseConnection,
    /// The service.
    pub handle: ServiceHandle,
    _test_db: TestDb,
}

/// Starts api on `nats` with `peers` (`(service, gRPC URL)`) and an HTTP port of its own.
pub async fn start(nats: &TestNats, peers: &[(&str, String)]) -> Api {
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
    let mut handle =
        ServiceHandle::spawn::<ApiService>(settings, testkit::bind_ephemeral().await.unwrap())
            .unwrap();
    handle.wait_ready(Duration::from_secs(30)).await.unwrap();
    let db = sea_orm::Database::connect(test_db.url()).await.unwrap();
    Api {
        http: format!("http://127.0.0.1:{port}"),
        db,
        handle,
        _test_db: test_db,
    }
}
