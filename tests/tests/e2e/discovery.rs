//! Discovery, versions, status and version through the generated client.
use pretty_assertions::assert_eq;
use verity_tests::{Backend, spawn_app, spawn_app_with};

#[tokio::test]
async fn the_v2_ping_answers_an_empty_object() {
    let app = spawn_app().await;
    let ping = app.client.get_status().await.expect("ping").into_inner();
    assert_eq!(serde_json::to_value(ping).unwrap(), serde_json::json!({}));
}

#[tokio::test]
async fn versions_include_v1_1() {
    let app = spawn_app().await;
    let versions = app
        .client
        .get_versions()
        .await
        .expect("versions")
        .into_inner();
    assert!(
        versions.versions.iter().any(|v| v == "v1.1"),
        "{:?}",
        versions.versions
    );
}

#[tokio::test]
async fn the_v1_ping_follows_matrix_v1() {
    let on = spawn_app().await;
    on.client
        .get_status_v1()
        .await
        .expect("v1 ping while matrix.v1 is on");

    let off = spawn_app_with(Backend::Sqlite, "matrix: {v1: false}").await;
    let err = off.client.get_status_v1().await.expect_err("v1 is off");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
}

#[tokio::test]
async fn status_is_healthy_on_sqlite_and_names_the_store_check() {
    let app = spawn_app().await;
    let status = app
        .client
        .get_server_health()
        .await
        .expect("status")
        .into_inner();
    assert_eq!(status.status.health, "OK");
    assert_eq!(
        status.status.checks.get("store").map(String::as_str),
        Some("OK")
    );
}

#[tokio::test]
async fn status_is_healthy_on_postgresql() {
    let Some(app) = postgres_app().await else {
        return;
    };
    let status = app
        .client
        .get_server_health()
        .await
        .expect("status")
        .into_inner();
    assert_eq!(status.status.health, "OK");
}

#[tokio::test]
async fn version_names_verity_and_its_release() {
    let app = spawn_app().await;
    let version = app
        .client
        .get_server_version()
        .await
        .expect("version")
        .into_inner();
    assert_eq!(version.server.name, "verity");
    assert_eq!(version.server.version, env!("CARGO_PKG_VERSION"));
}

/// A server on PostgreSQL, or `None` when `VERITY_TEST_POSTGRES_URL` is unset outside CI.
pub(crate) async fn postgres_app() -> Option<verity_tests::TestApp> {
    verity_tests::postgres_url()?;
    Some(spawn_app_with(Backend::Postgres, "").await)
}
