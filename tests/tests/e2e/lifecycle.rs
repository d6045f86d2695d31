//! Start-up and shutdown as an operator sees them.
use verity_tests::{Backend, spawn_app, spawn_app_with};

#[tokio::test]
async fn the_server_stops_gracefully_when_told_to() {
    let app = spawn_app().await;
    app.client.get_status().await.expect("serving");
    let address = app.address;
    app.stop().await.expect("a clean stop");
    // Nothing listens any more.
    assert!(tokio::net::TcpStream::connect(address).await.is_err());
}

#[tokio::test]
async fn a_restart_on_the_same_sqlite_file_reuses_the_migrated_store() {
    let dir = tempfile::TempDir::new().unwrap();
    let db = dir.path().join("nested/dir/verity.db");
    let first = spawn_app_with(Backend::SqliteAt(db.clone()), "").await;
    assert!(
        db.exists(),
        "the SQLite file (and its directory) is created on first start"
    );
    first.stop().await.expect("a clean stop");

    let again = spawn_app_with(Backend::SqliteAt(db), "").await;
    let status = again
        .client
        .get_server_health()
        .await
        .expect("status")
        .into_inner();
    assert_eq!(status.status.health, "OK");
}
