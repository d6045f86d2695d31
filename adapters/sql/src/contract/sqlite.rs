//! Checks run on SQLite only: the file across restarts and migrations, connection pragmas, the
//! in-memory pool, and its dynamic typing.
use pretty_assertions::assert_eq;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use verity_application::ports::driven::{AccountStore, SessionStore, StoreError, TermsStore};

use super::accounts::{fingerprint, user};
use super::database::{account_sql, insert_sql};
use super::harness::{Backend, TestDb, sqlite_file_url};
use super::sessions::{parts, session, sid};
use crate::{SqlError, connect};

#[tokio::test]
async fn data_survives_reopening_the_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_file_url(dir.path());
    let stored = session(parts("persisted", 1_000));
    let first = connect(&url, 2).await.unwrap();
    first.session_store().insert(&stored).await.unwrap();
    first.close().await.unwrap();

    // A restart runs the migrations again: they must find nothing to do.
    let second = connect(&url, 2).await.unwrap();
    let found = second
        .session_store()
        .find(&sid("persisted"))
        .await
        .unwrap();
    assert_eq!(found, Some(stored));
    second.close().await.unwrap();
}

async fn pragma(db: &TestDb, name: &str) -> String {
    let row = db
        .store
        .connection()
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            format!("PRAGMA {name}"),
        ))
        .await
        .unwrap()
        .unwrap();
    // journal_mode answers text, the others integers.
    row.try_get_by_index::<String>(0)
        .or_else(|_| row.try_get_by_index::<i64>(0).map(|n| n.to_string()))
        .unwrap()
}

#[tokio::test]
async fn sqlite_files_use_wal_a_busy_timeout_and_foreign_keys() {
    let db = TestDb::open(Backend::SqliteFile).await.unwrap();
    assert_eq!(pragma(&db, "journal_mode").await, "wal");
    assert_eq!(pragma(&db, "busy_timeout").await, "5000");
    assert_eq!(pragma(&db, "foreign_keys").await, "1");
    db.finish().await;
}

#[tokio::test]
async fn an_in_memory_database_is_one_database_whatever_the_pool_size_asked() {
    // With several connections each would be its own empty database, without the table the
    // migration created on the first.
    let store = connect("sqlite::memory:", 8).await.unwrap();
    let sessions = store.session_store();
    sessions
        .insert(&session(parts("in-memory", 1_000)))
        .await
        .unwrap();
    let mut finds = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let sessions = sessions.clone();
        finds.spawn(async move { sessions.find(&sid("in-memory")).await });
    }
    while let Some(found) = finds.join_next().await {
        assert!(found.unwrap().unwrap().is_some());
    }
    store.close().await.unwrap();
}

#[tokio::test]
async fn text_in_an_integer_column_is_reported_as_corrupt() {
    // SQLite stores whatever it is given; PostgreSQL would refuse this insert.
    let db = TestDb::open(Backend::SqliteFile).await.unwrap();
    db.execute(&insert_sql("text-time", "created_at", "'yesterday'"))
        .await;
    let result = db.sessions().find(&sid("text-time")).await;
    assert!(matches!(result, Err(StoreError::Corrupt(_))), "{result:?}");
    db.finish().await;
}

#[tokio::test]
async fn text_in_an_account_time_or_a_non_text_url_is_reported_as_corrupt() {
    let db = TestDb::open(Backend::SqliteFile).await.unwrap();
    db.execute(&account_sql(
        "text-expiry",
        "'@a:example.org'",
        "1000",
        "'tomorrow'",
    ))
    .await;
    let found = db.accounts().find(&fingerprint("text-expiry")).await;
    assert!(matches!(found, Err(StoreError::Corrupt(_))), "{found:?}");
    db.execute(
        "INSERT INTO verity_terms_acceptance (user_id, url, accepted_at) \
         VALUES ('@a:example.org', X'00ff', 1000)",
    )
    .await;
    let accepted = db.terms().accepted(&user("@a:example.org")).await;
    assert!(
        matches!(accepted, Err(StoreError::Corrupt(_))),
        "{accepted:?}"
    );
    db.finish().await;
}

#[tokio::test]
async fn account_lookups_and_the_purge_have_their_indexes() {
    let db = TestDb::open(Backend::SqliteFile).await.unwrap();
    let rows = db
        .store
        .connection()
        .query_all_raw(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'verity_account' \
             AND sql IS NOT NULL ORDER BY name",
        ))
        .await
        .unwrap();
    let names: Vec<String> = rows
        .iter()
        .map(|row| row.try_get_by_index(0).unwrap())
        .collect();
    assert_eq!(
        names,
        vec!["verity_account_expires_at", "verity_account_user_id"]
    );
    db.finish().await;
}

async fn raw_sqlite(url: &str, sql: &str) {
    let db = sea_orm::Database::connect(url).await.unwrap();
    db.execute_unprepared(sql).await.unwrap();
    db.close().await.unwrap();
}

#[tokio::test]
async fn an_ma1sd_store_is_left_untouched_and_verity_tables_are_added_beside_it() {
    // An ma1sd.yaml that points storage at ma1sd's own database must start Verity without
    // touching ma1sd's tables (same names Verity might otherwise have used).
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_file_url(dir.path());
    raw_sqlite(
        &url,
        "CREATE TABLE session_3pid (id INTEGER PRIMARY KEY, secret TEXT); \
         INSERT INTO session_3pid VALUES (1, 'kept');",
    )
    .await;
    let store = connect(&url, 1)
        .await
        .expect("Verity starts on an ma1sd database");
    let kept: Vec<String> = {
        use sea_orm::{ConnectionTrait, Statement};
        let rows = store
            .connection()
            .query_all_raw(Statement::from_string(
                store.connection().get_database_backend(),
                "SELECT secret FROM session_3pid",
            ))
            .await
            .unwrap();
        rows.iter()
            .map(|r| r.try_get::<String>("", "secret").unwrap())
            .collect()
    };
    assert_eq!(kept, vec!["kept".to_owned()]);
    store.close().await.unwrap();
}

#[tokio::test]
async fn a_foreign_table_with_verity_s_name_stops_start_up_instead_of_being_used() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_file_url(dir.path());
    raw_sqlite(&url, "CREATE TABLE verity_session (id INTEGER PRIMARY KEY)").await;
    let err = connect(&url, 1).await.unwrap_err();
    assert!(matches!(err, SqlError::Migrate(_)), "{err:?}");
}

#[tokio::test]
async fn a_foreign_terms_table_stops_start_up_and_the_account_table_is_rolled_back() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_file_url(dir.path());
    raw_sqlite(
        &url,
        "CREATE TABLE verity_terms_acceptance (user_id TEXT, url TEXT, accepted_at INTEGER)",
    )
    .await;
    let err = connect(&url, 1).await.unwrap_err();
    assert!(matches!(err, SqlError::Migrate(_)), "{err:?}");
    // verity_account is created by the same migration, before the clash: it must not remain.
    let db = sea_orm::Database::connect(url.as_str()).await.unwrap();
    let left = db
        .query_all_raw(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT name FROM sqlite_master WHERE name = 'verity_account'",
        ))
        .await
        .unwrap();
    assert!(
        left.is_empty(),
        "verity_account outlived its failed migration"
    );
    db.close().await.unwrap();
}

#[tokio::test]
async fn a_database_migrated_by_a_newer_verity_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_file_url(dir.path());
    connect(&url, 1).await.unwrap().close().await.unwrap();
    raw_sqlite(
        &url,
        "INSERT INTO seaql_migrations (version, applied_at) VALUES ('m29991231_000000_future', 0)",
    )
    .await;
    let err = connect(&url, 1).await.unwrap_err();
    assert!(matches!(err, SqlError::Migrate(_)), "{err:?}");
}
