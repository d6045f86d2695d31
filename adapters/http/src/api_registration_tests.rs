//! The homeserver's registration requestToken behind `register.policy`: the 3PID is read from the
//! body the homeserver will read, the homeserver's answer comes back as it was, and a refusal is
//! the client-server API's 403 `M_THREEPID_DENIED`.
use std::sync::{Arc, Mutex};

use poem::http::StatusCode;
use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use verity_application::ports::driven::{HomeserverAsUserError, RelayedAnswer, RelayedRequest};
use verity_application::ports::driving::{MockRegistrationGate, RegistrationGateError};
use verity_domain::{Medium, ThreePid};

use crate::HttpDeps;
use crate::test_support::{client, mocked_deps};

type Seen = Arc<Mutex<Vec<(ThreePid, RelayedRequest)>>>;

fn gate(
    answer: fn() -> Result<RelayedAnswer, RegistrationGateError>,
) -> (MockRegistrationGate, Seen) {
    let seen: Seen = Arc::default();
    let mut gate = MockRegistrationGate::new();
    let record = seen.clone();
    gate.expect_request_token()
        .returning(move |_, threepid, request| {
            record
                .lock()
                .unwrap()
                .push((threepid.clone(), request.clone()));
            answer()
        });
    (gate, seen)
}

fn deps(gate: Option<MockRegistrationGate>) -> HttpDeps {
    HttpDeps {
        registration: gate.map(|gate| Arc::new(gate) as _),
        room_invites: None,
        ..mocked_deps()
    }
}

async fn post(deps: &HttpDeps, path: &str, body: &str) -> (StatusCode, Value) {
    let response = client(deps, true)
        .post(path)
        .header("content-type", "application/json")
        .header("x-forwarded-for", "198.51.100.9")
        .body(body.to_owned())
        .send()
        .await;
    let status = response.0.status();
    let body = response
        .0
        .into_body()
        .into_json()
        .await
        .unwrap_or(Value::Null);
    (status, body)
}

fn created() -> Result<RelayedAnswer, RegistrationGateError> {
    Ok(RelayedAnswer {
        status: 200,
        body: br#"{"sid":"hs-session"}"#.to_vec(),
    })
}

#[tokio::test]
async fn an_allowed_email_is_passed_on_with_its_body_and_the_homeservers_answer_returned() {
    let (gate, seen) = gate(created);
    let deps = deps(Some(gate));
    let body = r#"{"client_secret":"cs","email":"Alice@Example.org","send_attempt":1,"next_link":"https://app.example.org"}"#;
    let (status, answer) = post(
        &deps,
        "/_matrix/client/v3/register/email/requestToken",
        body,
    )
    .await;
    assert_eq!(
        (status, answer),
        (StatusCode::OK, json!({"sid": "hs-session"}))
    );
    let seen = seen.lock().unwrap();
    let (threepid, request) = &seen[0];
    assert_eq!(threepid.address(), "alice@example.org");
    let passed: Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(passed, serde_json::from_str::<Value>(body).unwrap());
    let chain: Vec<String> = request
        .requester
        .forwarded_chain()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(chain.first().map(String::as_str), Some("198.51.100.9"));
}

#[tokio::test]
async fn a_phone_number_is_read_from_country_and_number_as_the_homeserver_reads_it() {
    let (gate, seen) = gate(created);
    let deps = deps(Some(gate));
    let body =
        r#"{"client_secret":"cs","country":"GB","phone_number":"07911 123456","send_attempt":1}"#;
    let (status, _) = post(
        &deps,
        "/_matrix/client/r0/register/msisdn/requestToken",
        body,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let seen = seen.lock().unwrap();
    assert_eq!(seen[0].0.medium(), Medium::Msisdn);
    assert_eq!(seen[0].0.address(), "447911123456");
}

#[tokio::test]
async fn the_homeservers_error_comes_back_with_its_own_status_and_body() {
    let (gate, _) = gate(|| {
        Ok(RelayedAnswer {
            status: 400,
            body: br#"{"errcode":"M_THREEPID_IN_USE","error":"Email is already in use"}"#.to_vec(),
        })
    });
    let (status, body) = post(
        &deps(Some(gate)),
        "/_matrix/client/v3/register/email/requestToken",
        r#"{"client_secret":"cs","email":"a@example.org","send_attempt":1}"#,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errcode"], "M_THREEPID_IN_USE");
}

#[tokio::test]
async fn a_refused_address_gets_the_client_server_apis_threepid_denied() {
    let (gate, _) = gate(|| Err(RegistrationGateError::Refused(Medium::Email)));
    let (status, body) = post(
        &deps(Some(gate)),
        "/_matrix/client/v3/register/email/requestToken",
        r#"{"client_secret":"cs","email":"a@example.com","send_attempt":1}"#,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        body,
        json!({"errcode": "M_THREEPID_DENIED", "error": "Your email address cannot be used for registration"})
    );
}

#[tokio::test]
async fn a_homeserver_that_cannot_be_reached_is_a_bad_gateway() {
    let (gate, _) = gate(|| Err(HomeserverAsUserError::Unavailable("refused".into()).into()));
    let (status, body) = post(
        &deps(Some(gate)),
        "/_matrix/client/v3/register/email/requestToken",
        r#"{"client_secret":"cs","email":"a@example.com","send_attempt":1}"#,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert_eq!(body["errcode"], "M_UNKNOWN");
}

#[tokio::test]
async fn bad_requests_get_a_matrix_error_and_never_reach_the_gate() {
    let mut never = MockRegistrationGate::new();
    never.expect_request_token().never();
    let deps = deps(Some(never));
    let cases = [
        (
            "/_matrix/client/v3/register/email/requestToken",
            r#"{"client_secret":"cs"}"#,
            StatusCode::BAD_REQUEST,
            "M_MISSING_PARAMS",
        ),
        (
            "/_matrix/client/v3/register/email/requestToken",
            r#"{"email":42}"#,
            StatusCode::BAD_REQUEST,
            "M_BAD_JSON",
        ),
        (
            "/_matrix/client/v3/register/email/requestToken",
            r#"["email"]"#,
            StatusCode::BAD_REQUEST,
            "M_BAD_JSON",
        ),
        (
            "/_matrix/client/v3/register/email/requestToken",
            r#"{"email":"not an address"}"#,
            StatusCode::BAD_REQUEST,
            "M_INVALID_EMAIL",
        ),
        (
            "/_matrix/client/v3/register/msisdn/requestToken",
            r#"{"country":"ZZ","phone_number":"1"}"#,
            StatusCode::BAD_REQUEST,
            "M_INVALID_ADDRESS",
        ),
        (
            "/_matrix/client/v3/register/fax/requestToken",
            r#"{"email":"a@example.org"}"#,
            StatusCode::NOT_FOUND,
            "M_UNRECOGNIZED",
        ),
        (
            "/_matrix/client/v4/register/email/requestToken",
            r#"{"email":"a@example.org"}"#,
            StatusCode::NOT_FOUND,
            "M_UNRECOGNIZED",
        ),
        (
            "/_matrix/client/v3/register/email/requestToken",
            "{not json",
            StatusCode::BAD_REQUEST,
            "M_NOT_JSON",
        ),
    ];
    for (path, body, expected_status, errcode) in cases {
        let (status, answer) = post(&deps, path, body).await;
        assert_eq!(
            (status, answer["errcode"].as_str()),
            (expected_status, Some(errcode)),
            "{path} {body}"
        );
    }
}

#[tokio::test]
async fn without_registration_control_the_path_is_not_served() {
    let (status, body) = post(
        &deps(None),
        "/_matrix/client/v3/register/email/requestToken",
        r#"{"client_secret":"cs","email":"a@example.org","send_attempt":1}"#,
    )
    .await;
    assert_eq!(
        (status, body["errcode"].as_str()),
        (StatusCode::NOT_FOUND, Some("M_UNRECOGNIZED"))
    );
}
