//! The move of created-object keys to the shared idempotency table keeps every key.

use sea_orm::ConnectionTrait;
use sea_orm_migration::MigratorTrait;

use super::*;

#[tokio::test]
async fn keys_recorded_before_the_move_still_answer_after_it() {
    testkit::init();
    let db = TestDb::new().await.unwrap();
    let conn = sea_orm::Database::connect(db.url()).await.unwrap();
    gateway_migration::Migrator::up(&conn, Some(3))
        .await
        .unwrap();
    conn.execute_unprepared(
        "INSERT INTO gateway_idempotency (idempotency_key, kind, container_id, object_id, created_at) \
         VALUES ('notify:1:2', 'message', 123456789012345678, 876543210987654321, '2026-11-29 10:00:00')",
    )
    .await
    .unwrap();
    gateway_migration::Migrator::up(&conn, None).await.unwrap();
    let row = platform::idempotency::get(&conn, "discord", "notify:1:2")
        .await
        .unwrap()
        .expect("the key moved");
    let created: gateway::grpc::Created =
        serde_json::from_str(row.payload.as_deref().unwrap()).unwrap();
    assert_eq!(
        created,
        gateway::grpc::Created {
            kind: "message".into(),
            container: 123_456_789_012_345_678,
            object: 876_543_210_987_654_321,
        }
    );
    // And back to before the move (every later migration undone too): the old table has the
    // key again.
    let later = u32::try_from(gateway_migration::Migrator::migrations().len() - 3).unwrap();
    gateway_migration::Migrator::down(&conn, Some(later))
        .await
        .unwrap();
    let row = conn
        .query_one_raw(sea_orm::Statement::from_string(
            conn.get_database_backend(),
            "SELECT kind, container_id, object_id FROM gateway_idempotency WHERE idempotency_key = 'notify:1:2'",
        ))
        .await
        .unwrap()
        .expect("the key moved back");
    assert_eq!(row.try_get::<String>("", "kind").unwrap(), "message");
    assert_eq!(
        row.try_get::<i64>("", "object_id").unwrap(),
        876_543_210_987_654_321
    );
}
