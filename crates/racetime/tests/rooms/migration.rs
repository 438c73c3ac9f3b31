//! The move of OpenRoom intents to the shared idempotency table keeps their state.

use sea_orm::ConnectionTrait;
use sea_orm_migration::MigratorTrait;

use super::*;

#[tokio::test]
async fn open_intents_recorded_before_the_move_keep_their_state() {
    testkit::init();
    let db = TestDb::new().await.unwrap();
    let conn = Database::connect(db.url()).await.unwrap();
    racetime_migration::Migrator::up(&conn, Some(2))
        .await
        .unwrap();
    conn.execute_unprepared(
        "INSERT INTO racetime_open_requests (idempotency_key, category, marker, state, room, request, error, created_at, updated_at) VALUES \
         ('opened-key', 'alttpr', 'm1', 'opened', 'alttpr/witty-zelda-1', '{\"goal\":\"Beat the game\"}', NULL, '2026-11-29 10:00:00', '2026-11-29 10:00:05'), \
         ('pending-key', 'alttpr', 'm2', 'pending', NULL, '{}', 'timeout', '2026-11-29 10:01:00', '2026-11-29 10:01:00')",
    )
    .await
    .unwrap();
    racetime_migration::Migrator::up(&conn, None).await.unwrap();
    let opened =
        platform::idempotency::find_by_subject(&conn, "racetime.open", "alttpr/witty-zelda-1")
            .await
            .unwrap()
            .expect("the opened intent moved");
    assert_eq!(opened.idem_key, "opened-key");
    assert_eq!(opened.state, platform::idempotency::KeyState::Done);
    assert_eq!(
        opened.payload.as_deref(),
        Some("{\"goal\":\"Beat the game\"}")
    );
    let pending = platform::idempotency::get(&conn, "racetime.open", "pending-key")
        .await
        .unwrap()
        .expect("the pending intent moved");
    assert_eq!(pending.state, platform::idempotency::KeyState::Pending);
    assert_eq!(
        (pending.owner.as_deref(), pending.error.as_deref()),
        (Some("m2"), Some("timeout"))
    );
    // And back: the old table has both intents again, states included.
    racetime_migration::Migrator::down(&conn, Some(1))
        .await
        .unwrap();
    let rows = conn
        .query_all_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT idempotency_key, state, room FROM racetime_open_requests ORDER BY idempotency_key",
        ))
        .await
        .unwrap();
    let back: Vec<(String, String, Option<String>)> = rows
        .iter()
        .map(|r| {
            (
                r.try_get("", "idempotency_key").unwrap(),
                r.try_get("", "state").unwrap(),
                r.try_get("", "room").unwrap(),
            )
        })
        .collect();
    assert_eq!(
        back,
        [
            (
                "opened-key".to_owned(),
                "opened".to_owned(),
                Some("alttpr/witty-zelda-1".to_owned())
            ),
            ("pending-key".to_owned(), "pending".to_owned(), None),
        ]
    );
}
