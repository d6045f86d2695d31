//! The internal application in process, over a mocked authentication use case (no expectation:
//! a call fails the test): ma1sd's request and answer shapes, bad bodies, refused passwords that
//! reach no store, the limits and the shared secret.
use std::sync::Arc;
use std::time::Duration;

use poem::http::StatusCode;
use poem::test::{TestClient, TestResponse};
use serde_json::{Value, json};
use verity_application::ports::driven::BackendError;
use verity_application::ports::driving::{
    Authentication, LimitExceeded, Login, LoginError, MockAuthentication,
};
use verity_domain::{EmailAddress, Profile, RetryAfter, ThreePid};

use super::{CHECK_CREDENTIALS_PATH, InternalDeps, SharedSecret, internal_app};
use crate::AppEndpoint;

fn client(authentication: MockAuthentication, secret: Option<&str>) -> TestClient<AppEndpoint> {
    let deps = InternalDeps {
        authentication: Some(Arc::new(authentication) as Arc<dyn Authentication>),
        association: None,
        secret: secret.and_then(SharedSecret::new),
        max_body_bytes: 4096,
    };
    TestClient::new(internal_app(&deps))
}

/// A use case answering `login` once for alice with her password.
fn answering(login: Result<Login, LoginError>) -> MockAuthentication {
    let mut authentication = MockAuthentication::new();
    authentication
        .expect_check_credentials()
        .withf(|_, user, password| {
            user.as_str() == "@alice:example.org" && password.expose() == "s3cret pw"
        })
        .times(1)
        .return_once(move |_, _, _| login);
    authentication
}

fn alice(password: &str) -> Value {
    json!({"user": {"id": "@alice:example.org", "password": password}})
}

async fn json_of(response: TestResponse) -> Value {
    response.0.into_body().into_json().await.unwrap()
}

#[tokio::test]
async fn an_accepted_login_answers_ma1sds_shape_with_the_profile() {
    let mut profile = Profile::named("Alice Liddell");
    profile.add_threepid(ThreePid::Email(
        EmailAddress::parse("alice@example.org").unwrap(),
    ));
    let cli = client(answering(Ok(Login::Accepted(profile))), None);

    let response = cli
        .post(CHECK_CREDENTIALS_PATH)
        .body_json(&alice("s3cret pw"))
        .send()
        .await;

    response.assert_status_is_ok();
    assert_eq!(
        json_of(response).await,
        json!({"auth": {
            "success": true,
            "display_name": "Alice Liddell",
            "profile": {
                "display_name": "Alice Liddell",
                "three_pids": [{"medium": "email", "address": "alice@example.org"}],
            },
        }})
    );
}

#[tokio::test]
async fn a_refused_login_answers_success_false_as_ma1sd() {
    let cli = client(answering(Ok(Login::Refused)), None);
    let response = cli
        .post(CHECK_CREDENTIALS_PATH)
        .body_json(&alice("s3cret pw"))
        .send()
        .await;
    response.assert_status_is_ok();
    assert_eq!(
        json_of(response).await,
        json!({"auth": {"success": false, "profile": {"three_pids": []}}})
    );
}

#[tokio::test]
async fn an_empty_or_overlong_password_is_refused_without_asking_the_use_case() {
    // No expectation: asking the use case would fail the test.
    let cli = client(MockAuthentication::new(), None);
    for password in [String::new(), "x".repeat(513), "a\0b".to_owned()] {
        let response = cli
            .post(CHECK_CREDENTIALS_PATH)
            .body_json(&alice(&password))
            .send()
            .await;
        response.assert_status_is_ok();
        assert_eq!(json_of(response).await["auth"]["success"], json!(false));
    }
}

#[tokio::test]
async fn bodies_outside_the_protocol_are_400_and_never_quote_the_body() {
    let cli = client(MockAuthentication::new(), None);
    for (body, errcode) in [
        (json!({"user": "hunter2"}), "M_BAD_JSON"),
        (json!({"user": {"id": "@alice:example.org"}}), "M_BAD_JSON"),
        (
            json!({"user": {"id": "@alice:example.org", "password": ["hunter2"]}}),
            "M_BAD_JSON",
        ),
        (
            json!({"id": "@alice:example.org", "password": "hunter2"}),
            "M_BAD_JSON",
        ),
        (
            json!({"user": {"id": "alice", "password": "hunter2"}}),
            "M_INVALID_PARAM",
        ),
    ] {
        let response = cli
            .post(CHECK_CREDENTIALS_PATH)
            .body_json(&body)
            .send()
            .await;
        response.assert_status(StatusCode::BAD_REQUEST);
        let answer = json_of(response).await;
        assert_eq!(answer["errcode"], errcode, "{body}");
        assert!(!answer.to_string().contains("hunter2"), "{answer}");
    }
    let response = cli
        .post(CHECK_CREDENTIALS_PATH)
        .content_type("application/json")
        .body("not json")
        .send()
        .await;
    response.assert_status(StatusCode::BAD_REQUEST);
    let response = cli
        .post(CHECK_CREDENTIALS_PATH)
        .body_json(&alice(&"x".repeat(5000)))
        .send()
        .await;
    response.assert_status(StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn too_many_failures_are_429_and_a_store_outage_is_503() {
    let limited = LoginError::Limited(LimitExceeded(RetryAfter::new(Duration::from_secs(30))));
    let response = client(answering(Err(limited)), None)
        .post(CHECK_CREDENTIALS_PATH)
        .body_json(&alice("s3cret pw"))
        .send()
        .await;
    response.assert_status(StatusCode::TOO_MANY_REQUESTS);
    response.assert_header("retry-after", "30");
    assert_eq!(json_of(response).await["retry_after_ms"], json!(30_000));

    let down = LoginError::Unavailable(BackendError::Corrupt("down".into()));
    let response = client(answering(Err(down)), None)
        .post(CHECK_CREDENTIALS_PATH)
        .body_json(&alice("s3cret pw"))
        .send()
        .await;
    response.assert_status(StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(json_of(response).await["errcode"], json!("M_UNKNOWN"));
}

#[tokio::test]
async fn with_a_shared_secret_a_request_without_it_is_401_before_its_body_is_read() {
    let cli = client(answering(Ok(Login::Refused)), Some("internal-secret"));
    for authorization in [None, Some("Bearer wrong"), Some("internal-secret")] {
        let mut request = cli
            .post(CHECK_CREDENTIALS_PATH)
            .body_json(&alice("s3cret pw"));
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        let response = request.send().await;
        response.assert_status(StatusCode::UNAUTHORIZED);
        assert_eq!(json_of(response).await["errcode"], json!("M_UNAUTHORIZED"));
    }
    let response = cli
        .post(CHECK_CREDENTIALS_PATH)
        .header("authorization", "Bearer internal-secret")
        .body_json(&alice("s3cret pw"))
        .send()
        .await;
    response.assert_status_is_ok();
}

#[tokio::test]
async fn the_profile_answers_the_roles_and_other_paths_are_unrecognised() {
    let mut authentication = MockAuthentication::new();
    authentication
        .expect_profile()
        .withf(|user| user.as_str() == "@alice:example.org")
        .times(1)
        .returning(|_| {
            let mut profile = Profile::default();
            profile.add_role("staff");
            Ok(profile)
        });
    let cli = client(authentication, None);
    let response = cli
        .get("/_matrix-internal/profile/v1/%40alice%3Aexample.org")
        .send()
        .await;
    response.assert_status_is_ok();
    assert_eq!(json_of(response).await, json!({"roles": ["staff"]}));
    let response = cli.get("/_matrix-internal/profile/v1/alice").send().await;
    response.assert_status(StatusCode::BAD_REQUEST);
    for path in ["/_matrix/identity/v2", "/status"] {
        let response = cli.get(path).send().await;
        response.assert_status(StatusCode::NOT_FOUND);
        assert_eq!(json_of(response).await["errcode"], json!("M_UNRECOGNIZED"));
    }
    // No CORS on this listener: a web page must not read its answers.
    let response = cli
        .post(CHECK_CREDENTIALS_PATH)
        .header("origin", "https://evil.example")
        .body_json(&json!({}))
        .send()
        .await;
    assert!(
        response
            .0
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

#[test]
fn the_shared_secret_never_prints_and_an_empty_one_is_none() {
    let secret = SharedSecret::new("internal-secret").unwrap();
    assert!(!format!("{secret:?}").contains("internal-secret"));
    assert!(secret.matches("internal-secret"));
    assert!(!secret.matches("internal-secre"));
    assert!(SharedSecret::new("").is_none());
}
