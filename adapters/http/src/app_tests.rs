//! The middleware stack and the discovery/status routes, in process through poem's test client.
use std::sync::Arc;

use poem::test::TestClient;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use serde_json::{Value, json};
use verity_application::ports::driving::{
    CheckReport, MockAccounts, MockAssociation, MockKeys, MockLookup, MockStatus, MockValidation,
    ServerStatus, Status, VersionInfo,
};

use super::*;
use crate::deps::HttpDeps;

const CONFIG: HttpConfig = HttpConfig {
    max_body_bytes: 64,
    v1: true,
    v2: true,
};

fn status_mock(healthy: bool) -> Arc<dyn Status> {
    let mut status = MockStatus::new();
    status.expect_status().returning(move || ServerStatus {
        healthy,
        checks: vec![CheckReport {
            name: "store",
            healthy,
        }],
    });
    status.expect_version().returning(|| VersionInfo {
        name: "verity",
        version: "9.9.9",
    });
    Arc::new(status)
}

pub(crate) fn deps(status: Arc<dyn Status>) -> HttpDeps {
    HttpDeps {
        status,
        accounts: Arc::new(MockAccounts::new()),
        validation: Arc::new(MockValidation::new()),
        keys: Arc::new(MockKeys::new()),
        association: Arc::new(MockAssociation::new()),
        lookup: Arc::new(MockLookup::new()),
        limits: crate::test_support::admit_all(),
        invites: Arc::new(verity_application::ports::driving::MockInvites::new()),
        user_directory: Arc::new(verity_application::ports::driving::MockUserDirectory::new()),
        remote_sessions: None,
        registration: None,
        room_invites: None,
        next_link_allowed: Arc::from(Vec::new()),
        views: Arc::default(),
        public_url: Arc::from(""),
    }
}

fn client(config: HttpConfig) -> TestClient<BoxEndpoint<'static, Response>> {
    TestClient::new(app(&deps(status_mock(true)), config))
}

/// A stand-in POST endpoint, to exercise the body rules before the real POST endpoints exist.
#[derive(Object)]
struct Echo {
    name: String,
}

struct EchoApi;

#[OpenApi]
impl EchoApi {
    #[oai(path = "/echo", method = "post")]
    async fn echo(&self, body: Json<Echo>) -> Json<Value> {
        Json(json!({ "name": body.0.name }))
    }
}

fn echo_client() -> TestClient<BoxEndpoint<'static, Response>> {
    let service = poem_openapi::OpenApiService::new(EchoApi, "echo", "1");
    TestClient::new(with_middleware(
        Route::new().nest("/", service),
        CONFIG,
        None,
    ))
}

async fn json_of(resp: poem::test::TestResponse) -> Value {
    resp.0.into_body().into_json().await.unwrap()
}

#[tokio::test]
async fn the_v2_ping_answers_an_empty_object() {
    let resp = client(CONFIG).get("/_matrix/identity/v2").send().await;
    resp.assert_status_is_ok();
    assert_eq!(json_of(resp).await, json!({}));
}

#[tokio::test]
async fn versions_lists_v1_1_but_not_v1_20() {
    let resp = client(CONFIG)
        .get("/_matrix/identity/versions")
        .send()
        .await;
    resp.assert_status_is_ok();
    let versions = json_of(resp).await["versions"].clone();
    let versions: Vec<String> = serde_json::from_value(versions).unwrap();
    assert!(versions.contains(&"v1.1".to_owned()) && versions.contains(&"r0.3.0".to_owned()));
    assert!(!versions.contains(&"v1.20".to_owned()));
}

#[tokio::test]
async fn an_unknown_path_is_404_m_unrecognized_with_cors_headers() {
    let resp = client(CONFIG).get("/_matrix/identity/v2/nope").send().await;
    resp.assert_status(StatusCode::NOT_FOUND);
    resp.assert_header("access-control-allow-origin", "*");
    assert_eq!(json_of(resp).await["errcode"], "M_UNRECOGNIZED");
}

#[tokio::test]
async fn a_known_path_with_the_wrong_method_is_405_m_unrecognized() {
    let resp = client(CONFIG)
        .post("/_matrix/identity/v2")
        .body("{}")
        .send()
        .await;
    resp.assert_status(StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(json_of(resp).await["errcode"], "M_UNRECOGNIZED");
}

#[tokio::test]
async fn options_on_any_path_is_answered_with_cors_headers() {
    for path in ["/_matrix/identity/v2/lookup", "/anything/at/all"] {
        let resp = client(CONFIG)
            .options(path)
            .header("origin", "https://app.element.io")
            .header("access-control-request-method", "POST")
            .send()
            .await;
        resp.assert_status_is_ok();
        resp.assert_header("access-control-allow-origin", "*");
        resp.assert_header(
            "access-control-allow-methods",
            "GET, POST, PUT, DELETE, OPTIONS",
        );
        resp.assert_header(
            "access-control-allow-headers",
            "Origin, X-Requested-With, Content-Type, Accept, Authorization",
        );
    }
}

#[tokio::test]
async fn the_v1_ping_is_served_only_while_v1_is_on() {
    client(CONFIG)
        .get("/_matrix/identity/api/v1")
        .send()
        .await
        .assert_status_is_ok();
    let off = HttpConfig {
        v1: false,
        ..CONFIG
    };
    let resp = client(off).get("/_matrix/identity/api/v1").send().await;
    resp.assert_status(StatusCode::NOT_FOUND);
    assert_eq!(json_of(resp).await["errcode"], "M_UNRECOGNIZED");
}

#[tokio::test]
async fn turning_v2_off_hides_the_v2_api_but_not_versions() {
    let off = HttpConfig {
        v2: false,
        ..CONFIG
    };
    client(off)
        .get("/_matrix/identity/v2")
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    client(off)
        .get("/_matrix/identity/versions")
        .send()
        .await
        .assert_status_is_ok();
}

#[tokio::test]
async fn status_reports_each_check_and_answers_503_when_one_fails() {
    let healthy = client(CONFIG).get("/status").send().await;
    healthy.assert_status_is_ok();
    assert_eq!(
        json_of(healthy).await,
        json!({"status": {"health": "OK", "checks": {"store": "OK"}}})
    );

    let sick = TestClient::new(app(&deps(status_mock(false)), CONFIG));
    let resp = sick.get("/status").send().await;
    resp.assert_status(StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        json_of(resp).await,
        json!({"status": {"health": "UNHEALTHY", "checks": {"store": "UNHEALTHY"}}})
    );
}

#[tokio::test]
async fn version_names_the_server_and_its_release() {
    let resp = client(CONFIG).get("/version").send().await;
    assert_eq!(
        json_of(resp).await,
        json!({"server": {"name": "verity", "version": "9.9.9"}})
    );
}

#[tokio::test]
async fn the_openapi_document_is_served_as_yaml_and_json() {
    let yaml = client(CONFIG).get(OPENAPI_YAML_PATH).send().await;
    yaml.assert_status_is_ok();
    let text = yaml.0.into_body().into_string().await.unwrap();
    assert!(text.contains("operationId: getVersions"), "{text}");
    let json = client(CONFIG).get(OPENAPI_JSON_PATH).send().await;
    assert_eq!(json_of(json).await["info"]["version"], crate::SPEC_VERSION);
}

#[tokio::test]
async fn a_valid_json_body_reaches_the_handler_even_without_a_content_type() {
    let resp = echo_client()
        .post("/echo")
        .body(r#"{"name":"ok"}"#)
        .send()
        .await;
    resp.assert_status_is_ok();
    assert_eq!(json_of(resp).await, json!({"name": "ok"}));
}

#[tokio::test]
async fn a_body_that_is_not_json_is_400_m_not_json() {
    let resp = echo_client()
        .post("/echo")
        .content_type("application/json")
        .body("{nope")
        .send()
        .await;
    resp.assert_status(StatusCode::BAD_REQUEST);
    assert_eq!(json_of(resp).await["errcode"], "M_NOT_JSON");
}

#[tokio::test]
async fn a_body_with_bytes_that_are_not_utf8_inside_a_string_is_400_m_not_json() {
    let resp = echo_client()
        .post("/echo")
        .content_type("application/json")
        .body(b"{\"name\": \"\xff\xfe\"}".to_vec())
        .send()
        .await;
    resp.assert_status(StatusCode::BAD_REQUEST);
    assert_eq!(json_of(resp).await["errcode"], "M_NOT_JSON");
}

#[tokio::test]
async fn json_that_is_not_an_object_or_misses_a_key_is_400_m_bad_json() {
    for body in [
        "[1,2]",
        "\"text\"",
        r#"{"other": 1}"#,
        r#"{"name": {"x": 1}}"#,
    ] {
        let resp = echo_client()
            .post("/echo")
            .content_type("application/json")
            .body(body)
            .send()
            .await;
        assert_eq!(resp.0.status(), StatusCode::BAD_REQUEST, "body {body}");
        assert_eq!(json_of(resp).await["errcode"], "M_BAD_JSON", "body {body}");
    }
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_m_too_large_with_or_without_content_length() {
    let big = format!(r#"{{"name":"{}"}}"#, "x".repeat(100));
    let declared = echo_client().post("/echo").body(big.clone()).send().await;
    declared.assert_status(StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(json_of(declared).await["errcode"], "M_TOO_LARGE");

    // A streamed body announces no length; the limit must hold while reading.
    let reader = std::io::Cursor::new(big.into_bytes());
    let chunked = echo_client()
        .post("/echo")
        .body(poem::Body::from_async_read(reader))
        .send()
        .await;
    chunked.assert_status(StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(json_of(chunked).await["errcode"], "M_TOO_LARGE");
}
