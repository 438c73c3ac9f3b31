//! The shared idempotency table and helpers on the real databases (MariaDB, and SQLite with
//! `TEST_DATABASE=sqlite`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use platform::idempotency::{self, Inserted, KeyState};
use sea_orm::DatabaseConnection;
use sea_orm_migration::SchemaManager;
use testkit::TestDb;

async fn database() -> (TestDb, DatabaseConnection) {
    testkit::init();
    let db = TestDb::new().await.expect("test database");
    let conn = sea_orm::Database::connect(db.url()).await.expect("connect");
    idempotency::create_table(&SchemaManager::new(&conn))
        .await
        .expect("table");
    // Twice: a schema shared by several services meets the table again.
    idempotency::create_table(&SchemaManager::new(&conn))
        .await
        .expect("table again");
    (db, conn)
}

#[tokio::test]
async fn a_key_is_recorded_once_per_scope() {
    let (_db, conn) = database().await;
    let first = idempotency::insert(&conn, "a", "k", KeyState::Done, None, None, Some("1"))
        .await
        .unwrap();
    assert_eq!(first, Inserted::New);
    let again = idempotency::insert(&conn, "a", "k", KeyState::Done, None, None, Some("2"))
        .await
        .unwrap();
    assert_eq!(again, Inserted::Existing);
    let other_scope = idempotency::insert(&conn, "b", "k", KeyState::Done, None, None, None)
        .await
        .unwrap();
    assert_eq!(other_scope, Inserted::New, "scopes do not collide");
    let row = idempotency::get(&conn, "a", "k").await.unwrap().unwrap();
    assert_eq!(row.payload.as_deref(), Some("1"), "the first payload stays");
    assert_eq!(row.state, KeyState::Done);
}

#[tokio::test]
async fn only_one_caller_takes_over_a_pending_attempt() {
    let (_db, conn) = database().await;
    idempotency::insert(
        &conn,
        "open",
        "k",
        KeyState::Pending,
        Some("m1"),
        None,
        Some("{}"),
    )
    .await
    .unwrap();
    assert!(
        idempotency::take_over(&conn, "open", "k", Some("m1"), "m2")
            .await
            .unwrap()
    );
    assert!(
        !idempotency::take_over(&conn, "open", "k", Some("m1"), "m3")
            .await
            .unwrap(),
        "the marker moved on: the second caller loses"
    );
    idempotency::set_error(&conn, "open", "k", "timeout")
        .await
        .unwrap();
    let row = idempotency::get(&conn, "open", "k").await.unwrap().unwrap();
    assert_eq!(
        (row.owner.as_deref(), row.error.as_deref()),
        (Some("m2"), Some("timeout"))
    );
    idempotency::finish(&conn, "open", "k", Some("alttpr/witty-zelda-1"), None)
        .await
        .unwrap();
    assert!(
        !idempotency::take_over(&conn, "open", "k", Some("m2"), "m4")
            .await
            .unwrap(),
        "a finished key is not pending any more"
    );
    let found = idempotency::find_by_subject(&conn, "open", "alttpr/witty-zelda-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.idem_key, "k");
    assert_eq!(found.state, KeyState::Done);
    assert_eq!(found.payload.as_deref(), Some("{}"), "the payload is kept");
    idempotency::forget(&conn, "open", "k").await.unwrap();
    assert!(
        idempotency::get(&conn, "open", "k")
            .await
            .unwrap()
            .is_none()
    );
}

/// A lease table as a service's migration would create it.
const JOBS: platform::lease::LeaseTable = platform::lease::LeaseTable {
    table: "test_job_leases",
    key_column: "name",
};

#[tokio::test]
async fn a_lease_has_one_holder_until_it_lapses_or_is_released() {
    use platform::lease;
    use sea_orm::ConnectionTrait;
    use std::time::Duration;
    let (_db, conn) = database().await;
    conn.execute_unprepared(
        "CREATE TABLE test_job_leases (name VARCHAR(100) NOT NULL PRIMARY KEY, owner VARCHAR(100) NOT NULL, expires_at DATETIME NOT NULL)",
    )
    .await
    .unwrap();
    let long = Duration::from_secs(60);
    assert!(
        lease::acquire(&conn, JOBS, "opener", "a", long)
            .await
            .unwrap()
    );
    assert!(
        !lease::acquire(&conn, JOBS, "opener", "b", long)
            .await
            .unwrap(),
        "a second replica does not get a held lease"
    );
    assert!(
        lease::acquire(&conn, JOBS, "opener", "a", long)
            .await
            .unwrap(),
        "the holder renews it"
    );
    assert!(
        lease::acquire(&conn, JOBS, "other-job", "b", long)
            .await
            .unwrap(),
        "another key is another lease"
    );
    // Released: the other replica takes it at once.
    lease::release(&conn, JOBS, "opener", "b").await.unwrap();
    assert!(
        !lease::acquire(&conn, JOBS, "opener", "b", long)
            .await
            .unwrap(),
        "only the holder releases"
    );
    lease::release(&conn, JOBS, "opener", "a").await.unwrap();
    assert!(
        lease::acquire(&conn, JOBS, "opener", "b", Duration::from_secs(1))
            .await
            .unwrap()
    );
    // Lapsed: the holder stopped renewing.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert!(
        lease::acquire(&conn, JOBS, "opener", "a", long)
            .await
            .unwrap(),
        "a lapsed lease goes to whoever asks"
    );
    assert!(
        !lease::acquire(&conn, JOBS, "opener", "b", long)
            .await
            .unwrap()
    );
    // Racing replicas: exactly one wins.
    lease::release(&conn, JOBS, "opener", "a").await.unwrap();
    let racers = (0..8).map(|i| {
        let conn = conn.clone();
        async move {
            lease::acquire(&conn, JOBS, "opener", &format!("r{i}"), long)
                .await
                .unwrap()
        }
    });
    let won = futures::future::join_all(racers).await;
    assert_eq!(won.iter().filter(|w| **w).count(), 1, "{won:?}");
}
