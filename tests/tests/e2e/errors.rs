//! What the generated client cannot send: unknown paths, wrong methods, pre-flights, bad bodies.
use pretty_assertions::assert_eq;
use serde_json::Value;
use verity_tests::spawn_app;

async fn errcode(resp: reqwest::Response) -> String {
    let body: Value = resp.json().await.expect("a JSON error body");
    assert!(body["error"].is_string(), "no `error` text in {body}");
    body["errcode"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn an_unknown_endpoint_is_404_m_unrecognized() {
    let app = spawn_app().await;
    let resp = app
        .http
        .get(app.url("/_matrix/identity/v2/does-not-exist"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 404);
    assert_eq!(errcode(resp).await, "M_UNRECOGNIZED");
}

#[tokio::test]
async fn a_wrong_method_is_405_m_unrecognized() {
    let app = spawn_app().await;
    let resp = app
        .http
        .delete(app.url("/_matrix/identity/versions"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 405);
    assert_eq!(errcode(resp).await, "M_UNRECOGNIZED");
}

#[tokio::test]
async fn a_cors_preflight_is_answered_on_any_path() {
    let app = spawn_app().await;
    let resp = app
        .http
        .request(
            reqwest::Method::OPTIONS,
            app.url("/_matrix/identity/v2/account/register"),
        )
        .header("Origin", "https://app.element.io")
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let headers = resp.headers();
    assert_eq!(headers["access-control-allow-origin"], "*");
    assert!(
        headers["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .contains("Authorization")
    );
}

#[tokio::test]
async fn every_response_carries_cors_headers_errors_included() {
    let app = spawn_app().await;
    for path in ["/_matrix/identity/v2", "/nope"] {
        let resp = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(resp.headers()["access-control-allow-origin"], "*", "{path}");
    }
}

#[tokio::test]
async fn a_body_over_the_configured_limit_is_413_m_too_large() {
    let app =
        verity_tests::spawn_app_with(verity_tests::Backend::Sqlite, "server: {maxBodySize: 1024}")
            .await;
    let body = format!("{{\"x\":\"{}\"}}", "a".repeat(2048));
    let resp = app
        .http
        .post(app.url("/_matrix/identity/v2"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 413);
    assert_eq!(errcode(resp).await, "M_TOO_LARGE");
}

#[tokio::test]
async fn malformed_json_is_rejected_before_routing_with_m_not_json() {
    let app = spawn_app().await;
    let resp = app
        .http
        .post(app.url("/_matrix/identity/v2"))
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    assert_eq!(errcode(resp).await, "M_NOT_JSON");
}

#[tokio::test]
async fn a_json_body_that_is_not_an_object_is_m_bad_json() {
    let app = spawn_app().await;
    let resp = app
        .http
        .post(app.url("/_matrix/identity/v2"))
        .body("[1, 2, 3]")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    assert_eq!(errcode(resp).await, "M_BAD_JSON");
}

#[tokio::test]
async fn the_served_openapi_document_is_the_committed_one() {
    let app = spawn_app().await;
    let served = app
        .http
        .get(app.url("/_verity/openapi.yaml"))
        .send()
        .await
        .unwrap();
    assert_eq!(served.status().as_u16(), 200);
    assert_eq!(served.text().await.unwrap(), verity_api_spec::OPENAPI_YAML);
}
