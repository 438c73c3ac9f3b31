//! Every service's migrations run on MariaDB and on SQLite, and each records itself in its own
//! `seaql_migrations_<service>` table, so all five can also share one schema.

use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use sea_orm_migration::MigratorTrait;
use testkit::TestDb;

async fn migrate_all(db: &DatabaseConnection) {
    seedgen_migration::Migrator::up(db, None)
        .await
        .expect("seedgen migrations");
    racetime_migration::Migrator::up(db, None)
        .await
        .expect("racetime migrations");
    tournament_migration::Migrator::up(db, None)
        .await
        .expect("tournament migrations");
    gateway_migration::Migrator::up(db, None)
        .await
        .expect("gateway migrations");
    api_migration::Migrator::up(db, None)
        .await
        .expect("api migrations");
}

async fn tables(db: &DatabaseConnection) -> Vec<String> {
    let sql = match db.get_database_backend() {
        sea_orm::DbBackend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
        }
        _ => {
            "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY table_name"
        }
    };
    db.query_all_raw(Statement::from_string(
        db.get_database_backend(),
        sql.to_owned(),
    ))
    .await
    .expect("list tables")
    .iter()
    .map(|row| row.try_get::<String>("", "name").expect("name"))
    .collect()
}

fn assert_shared_schema(tables: &[String]) {
    for expected in ["outbox", "inbox", "diagnostic_probe"] {
        assert!(
            tables.iter().any(|t| t == expected),
            "{expected} missing from {tables:?}"
        );
    }
    for service in e2e::SERVICES {
        let table = format!("seaql_migrations_{service}");
        assert!(tables.contains(&table), "{table} missing from {tables:?}");
    }
    assert!(
        !tables.iter().any(|t| t == "seaql_migrations"),
        "default migration table used"
    );
}

#[tokio::test]
async fn all_migrations_run_on_mariadb_in_one_shared_schema_and_roll_back() {
    testkit::init();
    let test_db = TestDb::new().await.expect("database");
    let db = Database::connect(test_db.url()).await.expect("connect");
    migrate_all(&db).await;
    // Running again is a no-op.
    migrate_all(&db).await;
    assert_shared_schema(&tables(&db).await);
    assert_eq!(
        seedgen_migration::Migrator::get_pending_migrations(&db)
            .await
            .expect("status")
            .len(),
        0
    );
    seedgen_migration::Migrator::down(&db, None)
        .await
        .expect("down");
    let left = tables(&db).await;
    assert!(!left.iter().any(|t| t == "outbox"), "{left:?}");
}

#[tokio::test]
async fn all_migrations_run_on_sqlite() {
    testkit::init();
    let dir = std::env::temp_dir().join(format!("sahasrahbot-sqlite-{}", testkit::unique_suffix()));
    let settings = platform::config::DatabaseSettings {
        url: format!("sqlite://{}/nested/bot.db?mode=rwc", dir.display()),
        password: None,
        max_connections: 2,
        min_connections: 1,
        connect_timeout_ms: 5_000,
        migrate_on_start: true,
    };
    // platform::db::connect creates the missing directory.
    let db = platform::db::connect(&settings)
        .await
        .expect("connect sqlite file");
    migrate_all(&db).await;
    migrate_all(&db).await;
    assert_shared_schema(&tables(&db).await);
    db.close().await.expect("close");
    assert!(dir.join("nested/bot.db").is_file());
    let _ = std::fs::remove_dir_all(dir);

    let memory = Database::connect("sqlite::memory:")
        .await
        .expect("in-memory sqlite");
    migrate_all(&memory).await;
    assert_shared_schema(&tables(&memory).await);
}
