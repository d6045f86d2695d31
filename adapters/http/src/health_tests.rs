//! The health probes, and the route templates the request metrics are labelled with.
use std::sync::{Arc, Mutex};
use std::time::Duration;

use poem::http::StatusCode;
use poem::test::TestClient;
use serde_json::json;
use verity_application::ports::driving::{MockKeys, MockStatus, Readiness};

use crate::HttpDeps;
use crate::test_support::mocked_deps;
use crate::{HttpConfig, RequestObserver, UNMATCHED_ROUTE, app, observed};

fn deps(status: Arc<MockStatus>) -> HttpDeps {
    HttpDeps {
        status,
        ..mocked_deps()
    }
}

const CONFIG: HttpConfig = HttpConfig {
    max_body_bytes: 1024,
    v1: true,
    v2: true,
};

fn status(ready: bool) -> MockStatus {
    let mut status = MockStatus::new();
    status.expect_ready().returning(move || Readiness {
        ready,
        failing: if ready { vec![] } else { vec!["store"] },
    });
    status
}

#[tokio::test]
async fn live_answers_200_without_asking_anything() {
    // No expectation: a call to the status use case would fail the test.
    let client = TestClient::new(app(&deps(Arc::new(MockStatus::new())), CONFIG));
    let response = client.get("/_verity/health/live").send().await;
    response.assert_status_is_ok();
    response.assert_json(json!({"status": "live"})).await;
}

#[tokio::test]
async fn ready_answers_200_when_the_use_case_is_ready() {
    let client = TestClient::new(app(&deps(Arc::new(status(true))), CONFIG));
    let response = client.get("/_verity/health/ready").send().await;
    response.assert_status_is_ok();
    response.assert_json(json!({"status": "ready"})).await;
}

#[tokio::test]
async fn ready_answers_503_with_a_matrix_error_naming_what_failed() {
    let client = TestClient::new(app(&deps(Arc::new(status(false))), CONFIG));
    let response = client.get("/_verity/health/ready").send().await;
    response.assert_status(StatusCode::SERVICE_UNAVAILABLE);
    response
        .assert_json(json!({"errcode": "M_UNKNOWN", "error": "Not ready: store failed"}))
        .await;
}

#[derive(Default)]
struct Recorded(Mutex<Vec<(String, String, u16)>>);

impl RequestObserver for Recorded {
    fn observe(&self, method: &str, route: &str, status: u16, _elapsed: Duration) {
        self.0
            .lock()
            .unwrap()
            .push((method.to_owned(), route.to_owned(), status));
    }
}

#[tokio::test]
async fn requests_are_observed_by_route_template_never_by_their_path() {
    let mut keys = MockKeys::new();
    keys.expect_public_key().returning(|_| None);
    let mut deps = deps(Arc::new(MockStatus::new()));
    deps.keys = Arc::new(keys);
    let recorded = Arc::new(Recorded::default());
    let client = TestClient::new(observed(app(&deps, CONFIG), recorded.clone()));
    client
        .get("/_matrix/identity/v2/pubkey/ed25519:secret")
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    client
        .get("/no/such/alice@example.org")
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    client
        .put("/_matrix/identity/v2/pubkey/ed25519:secret")
        .send()
        .await
        .assert_status(StatusCode::METHOD_NOT_ALLOWED);
    let recorded = recorded.0.lock().unwrap().clone();
    let template = "/_matrix/identity/v2/pubkey/{keyId}".to_owned();
    assert_eq!(
        recorded,
        vec![
            ("GET".to_owned(), template.clone(), 404),
            ("GET".to_owned(), UNMATCHED_ROUTE.to_owned(), 404),
            ("PUT".to_owned(), template, 405),
        ]
    );
}
