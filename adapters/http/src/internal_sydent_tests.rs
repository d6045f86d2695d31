//! Sydent's internal bind API in process, over a mocked association use case (no expectation: a
//! call fails the test): Sydent's request and answer shapes and errors, the values checked
//! before the use case is asked, and the API absent unless it is turned on.
use std::sync::Arc;

use poem::http::StatusCode;
use poem::test::{TestClient, TestResponse};
use serde_json::{Value, json};
use verity_application::ports::driven::{Binding, StoreError};
use verity_application::ports::driving::{Association, AssociationError, MockAssociation};
use verity_domain::{EmailAddress, SignedAssociation, ThreePid, UserId};

use super::{INTERNAL_BIND_PATH, INTERNAL_UNBIND_PATH, InternalDeps, internal_app};
use crate::AppEndpoint;

fn client(association: Option<MockAssociation>) -> TestClient<AppEndpoint> {
    let deps = InternalDeps {
        authentication: None,
        association: association.map(|a| Arc::new(a) as Arc<dyn Association>),
        secret: None,
        max_body_bytes: 4096,
    };
    TestClient::new(internal_app(&deps))
}

fn matthew() -> Binding {
    Binding {
        threepid: ThreePid::Email(EmailAddress::parse("matthew@arasphere.net").unwrap()),
        user_id: UserId::parse("@matthew:matrix.org").unwrap(),
    }
}

/// Sydent README's example, with the address's case as a user may type it.
fn body() -> Value {
    json!({"address": "Matthew@Arasphere.net", "medium": "email", "mxid": "@matthew:matrix.org"})
}

/// The association as signed: member order and an extra member kept exactly.
const SIGNED: &str = r#"{"address":"matthew@arasphere.net","medium":"email","mxid":"@matthew:matrix.org","not_before":1,"not_after":2,"ts":1,"signatures":{"id.example.org":{"ed25519:0":"c2ln"}}}"#;

async fn json_of(response: TestResponse) -> Value {
    response.0.into_body().into_json().await.unwrap()
}

#[tokio::test]
async fn a_bind_binds_the_canonical_3pid_and_answers_the_signed_association_as_signed() {
    let mut association = MockAssociation::new();
    association
        .expect_bind_vouched()
        .withf(|binding, actor| {
            *binding == matthew() && actor.as_str().starts_with("internal API from ")
        })
        .times(1)
        .returning(|_, _| Ok(SignedAssociation::parse(SIGNED).unwrap()));

    let response = client(Some(association))
        .post(INTERNAL_BIND_PATH)
        .body_json(&body())
        .send()
        .await;

    response.assert_status_is_ok();
    response.assert_content_type("application/json");
    response.assert_text(SIGNED).await;
}

#[tokio::test]
async fn an_unbind_answers_an_empty_object_whether_or_not_something_was_bound() {
    for removed in [true, false] {
        let mut association = MockAssociation::new();
        association
            .expect_unbind_vouched()
            .withf(|binding, _| *binding == matthew())
            .times(1)
            .returning(move |_, _| Ok(removed));

        let response = client(Some(association))
            .post(INTERNAL_UNBIND_PATH)
            .body_json(&body())
            .send()
            .await;

        response.assert_status_is_ok();
        assert_eq!(json_of(response).await, json!({}));
    }
}

#[tokio::test]
async fn missing_parameters_are_named_as_sydent_names_them() {
    let cli = client(Some(MockAssociation::new()));
    for path in [INTERNAL_BIND_PATH, INTERNAL_UNBIND_PATH] {
        let response = cli
            .post(path)
            .body_json(&json!({"mxid": "@matthew:matrix.org"}))
            .send()
            .await;
        response.assert_status(StatusCode::BAD_REQUEST);
        assert_eq!(
            json_of(response).await,
            json!({"errcode": "M_MISSING_PARAMS", "error": "Missing parameters: medium,address"})
        );
    }
}

/// Sydent answers `M_BAD_JSON` "Malformed JSON"; every listener of Verity answers a body that is
/// not JSON with the specification's `M_NOT_JSON` (docs/http.md), a 400 all the same.
#[tokio::test]
async fn a_body_that_is_not_json_is_a_400_and_binds_nothing() {
    let response = client(Some(MockAssociation::new()))
        .post(INTERNAL_BIND_PATH)
        .content_type("application/json")
        .body("{not json")
        .send()
        .await;
    response.assert_status(StatusCode::BAD_REQUEST);
    assert_eq!(json_of(response).await["errcode"], "M_NOT_JSON");
}

#[tokio::test]
async fn values_that_are_no_medium_address_or_user_id_are_refused_before_anything_is_bound() {
    let cli = client(Some(MockAssociation::new()));
    for bad in [
        json!({"medium": "email", "address": "not an address", "mxid": "@m:matrix.org"}),
        json!({"medium": "EMAIL!", "address": "m@example.org", "mxid": "@m:matrix.org"}),
        json!({"medium": "email", "address": "m@example.org", "mxid": "matthew"}),
        json!({"medium": "email", "address": 7, "mxid": "@m:matrix.org"}),
    ] {
        let response = cli.post(INTERNAL_BIND_PATH).body_json(&bad).send().await;
        response.assert_status(StatusCode::BAD_REQUEST);
        assert_eq!(
            json_of(response).await["errcode"],
            "M_INVALID_PARAM",
            "{bad}"
        );
    }
}

#[tokio::test]
async fn a_store_failure_is_a_500_that_says_nothing_of_it() {
    let mut association = MockAssociation::new();
    association.expect_bind_vouched().returning(|_, _| {
        Err(AssociationError::Internal(StoreError::Unavailable(
            "db down".into(),
        )))
    });

    let response = client(Some(association))
        .post(INTERNAL_BIND_PATH)
        .body_json(&body())
        .send()
        .await;

    response.assert_status(StatusCode::INTERNAL_SERVER_ERROR);
    let answer = json_of(response).await;
    assert_eq!(answer["errcode"], "M_UNKNOWN");
    assert!(!answer.to_string().contains("db down"));
}

#[tokio::test]
async fn the_api_is_not_served_unless_it_is_turned_on() {
    let cli = client(None);
    for path in [INTERNAL_BIND_PATH, INTERNAL_UNBIND_PATH] {
        let response = cli.post(path).body_json(&body()).send().await;
        response.assert_status(StatusCode::NOT_FOUND);
    }
}
