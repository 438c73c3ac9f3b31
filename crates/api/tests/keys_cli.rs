//! `api keys create|list|revoke`: the real binary against a fresh database.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Output};

use testkit::TestDb;

fn api(db: &TestDb, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_api"))
        .args(args)
        .env("API_DATABASE__URL", db.url())
        .output()
        .expect("run the api binary")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn an_operator_creates_lists_and_revokes_a_key() {
    testkit::init();
    let db = TestDb::new().await.unwrap();
    let created = api(
        &db,
        &[
            "keys",
            "create",
            "--name",
            "tracker",
            "--scope",
            "presets:write",
            "--scope",
            "asynctournament:read",
        ],
    );
    assert!(created.status.success(), "{created:?}");
    let text = stdout(&created);
    let key = text.lines().last().unwrap().trim().to_owned();
    assert!(key.starts_with(api::keys::PREFIX), "{text}");
    let conn = sea_orm::Database::connect(db.url()).await.unwrap();
    let row = api::keys::verify(&conn, &key).await.unwrap().unwrap();
    assert_eq!(row.scopes, "presets:write asynctournament:read");

    let listed = stdout(&api(&db, &["keys", "list"]));
    assert!(listed.contains("tracker"), "{listed}");
    assert!(listed.contains("active"), "{listed}");
    assert!(!listed.contains(&key), "the key is never shown again");

    let revoked = api(&db, &["keys", "revoke", &row.id.to_string()]);
    assert!(revoked.status.success(), "{revoked:?}");
    assert!(api::keys::verify(&conn, &key).await.unwrap().is_err());
    let again = api(&db, &["keys", "revoke", &row.id.to_string()]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("there is no active key"),
        "{again:?}"
    );
}

#[tokio::test]
async fn a_key_without_a_scope_is_a_usage_error() {
    testkit::init();
    let db = TestDb::new().await.unwrap();
    let output = api(&db, &["keys", "create", "--name", "tracker"]);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let output = api(
        &db,
        &[
            "keys",
            "create",
            "--name",
            "tracker",
            "--scope",
            "two words",
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("is not a scope"),
        "{output:?}"
    );
}
