//! The homeserver's room invite behind the invite policy: the token and the body are passed on
//! as they came, a body with `medium` is a 3PID invite, bad requests are refused before the
//! homeserver is asked, and the gate's refusal is ma1sd's 403.
use std::sync::{Arc, Mutex};

use poem::http::StatusCode;
use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use verity_application::ports::driven::{HomeserverAsUserError, RelayedAnswer};
use verity_application::ports::driving::{
    InviteTarget, MockRoomInviteGate, RoomInviteGateError, RoomInviteRequest,
};

use crate::HttpDeps;
use crate::test_support::{client, mocked_deps};

/// What the mocked gate answers.
type Answer = fn() -> Result<RelayedAnswer, RoomInviteGateError>;

type Seen = Arc<Mutex<Vec<(String, RoomInviteRequest)>>>;

fn gate(answer: Answer) -> (HttpDeps, Seen) {
    let seen: Seen = Arc::default();
    let mut gate = MockRoomInviteGate::new();
    let record = seen.clone();
    gate.expect_invite().returning(move |_, token, request| {
        record
            .lock()
            .unwrap()
            .push((token.expose().to_owned(), request.clone()));
        answer()
    });
    let deps = HttpDeps {
        room_invites: Some(Arc::new(gate)),
        ..mocked_deps()
    };
    (deps, seen)
}

fn invited() -> Result<RelayedAnswer, RoomInviteGateError> {
    Ok(RelayedAnswer {
        status: 200,
        body: b"{}".to_vec(),
    })
}

async fn post(deps: &HttpDeps, path: &str, token: Option<&str>, body: &str) -> (StatusCode, Value) {
    let client = client(deps, true);
    let mut request = client
        .post(path)
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let response = request.send().await;
    let status = response.0.status();
    let body = response
        .0
        .into_body()
        .into_json()
        .await
        .unwrap_or(Value::Null);
    (status, body)
}

const THREEPID_INVITE: &str = r#"{"id_server":"id.example.org","id_access_token":"abc","medium":"email","address":"bob@example.org"}"#;

#[tokio::test]
async fn a_3pid_invite_is_passed_on_with_the_users_token_and_its_body_unchanged() {
    let (deps, seen) = gate(invited);
    let (status, answer) = post(
        &deps,
        "/_matrix/client/v3/rooms/!room:example.org/invite",
        Some("syt_alice"),
        THREEPID_INVITE,
    )
    .await;
    assert_eq!((status, answer), (StatusCode::OK, json!({})));
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    let (token, request) = &seen[0];
    assert_eq!(token, "syt_alice");
    assert_eq!(request.room_id, "!room:example.org");
    assert_eq!(request.target, InviteTarget::ThreePid);
    assert_eq!(request.relayed.body, THREEPID_INVITE.as_bytes());
}

#[tokio::test]
async fn a_user_invite_with_the_token_in_the_query_is_a_user_invite() {
    let (deps, seen) = gate(invited);
    let (status, _) = post(
        &deps,
        "/_matrix/client/r0/rooms/%21room%3Aexample.org/invite?access_token=syt_bob",
        None,
        r#"{"user_id":"@carol:example.org"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let seen = seen.lock().unwrap();
    assert_eq!(seen[0].0, "syt_bob");
    assert_eq!(seen[0].1.room_id, "!room:example.org");
    assert_eq!(seen[0].1.target, InviteTarget::User);
}

#[tokio::test]
async fn bad_requests_are_refused_before_the_homeserver_is_asked() {
    let (deps, seen) = gate(invited);
    let room = "/_matrix/client/v3/rooms/!room:example.org/invite";
    let cases = [
        (room, None, THREEPID_INVITE, 401, "M_MISSING_TOKEN"),
        (
            room,
            Some("two words"),
            THREEPID_INVITE,
            401,
            "M_UNKNOWN_TOKEN",
        ),
        (room, Some("syt_alice"), "not json", 400, "M_NOT_JSON"),
        (room, Some("syt_alice"), "[1]", 400, "M_BAD_JSON"),
        (
            "/_matrix/client/v3/rooms/%23alias:example.org/invite",
            Some("syt_alice"),
            THREEPID_INVITE,
            400,
            "M_INVALID_PARAM",
        ),
        (
            "/_matrix/client/v3/rooms/!a%0Ab:example.org/invite",
            Some("syt_alice"),
            THREEPID_INVITE,
            400,
            "M_INVALID_PARAM",
        ),
        (
            "/_matrix/client/v1/rooms/!room:example.org/invite",
            Some("syt_alice"),
            THREEPID_INVITE,
            404,
            "M_UNRECOGNIZED",
        ),
    ];
    for (path, token, body, status, errcode) in cases {
        let (got, answer) = post(&deps, path, token, body).await;
        assert_eq!(
            (got.as_u16(), answer["errcode"].as_str()),
            (status, Some(errcode)),
            "{path} {token:?} {body}: {answer}"
        );
    }
    let long = format!(
        "/_matrix/client/v3/rooms/!{}:example.org/invite",
        "r".repeat(300)
    );
    let (got, _) = post(&deps, &long, Some("syt_alice"), THREEPID_INVITE).await;
    assert_eq!(got, StatusCode::BAD_REQUEST);
    assert!(seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn the_gates_refusals_are_the_client_apis_errors() {
    let cases: [(Answer, u16, &str); 4] = [
        (|| Err(RoomInviteGateError::Refused), 403, "M_FORBIDDEN"),
        (
            || {
                Err(RoomInviteGateError::Homeserver(
                    HomeserverAsUserError::TokenRejected,
                ))
            },
            401,
            "M_UNKNOWN_TOKEN",
        ),
        (
            || {
                Err(RoomInviteGateError::Homeserver(
                    HomeserverAsUserError::InvalidResponse("x".into()),
                ))
            },
            502,
            "M_UNKNOWN",
        ),
        (
            || {
                Err(RoomInviteGateError::Profiles(
                    verity_application::ports::driven::BackendError::Corrupt("x".into()),
                ))
            },
            503,
            "M_UNKNOWN",
        ),
    ];
    for (answer, status, errcode) in cases {
        let (deps, _) = gate(answer);
        let (got, body) = post(
            &deps,
            "/_matrix/client/v3/rooms/!room:example.org/invite",
            Some("syt_alice"),
            THREEPID_INVITE,
        )
        .await;
        assert_eq!(
            (got.as_u16(), body["errcode"].as_str()),
            (status, Some(errcode)),
            "{body}"
        );
    }
    let (deps, _) = gate(|| Err(RoomInviteGateError::Refused));
    let (_, body) = post(
        &deps,
        "/_matrix/client/v3/rooms/!room:example.org/invite",
        Some("syt_alice"),
        THREEPID_INVITE,
    )
    .await;
    assert_eq!(
        body,
        json!({"errcode": "M_FORBIDDEN", "error": "Your account is not allowed to invite that address"})
    );
}

#[tokio::test]
async fn without_the_gate_the_path_is_not_served() {
    let deps = mocked_deps();
    let (status, answer) = post(
        &deps,
        "/_matrix/client/v3/rooms/!room:example.org/invite",
        Some("syt_alice"),
        THREEPID_INVITE,
    )
    .await;
    assert_eq!(
        (status.as_u16(), answer["errcode"].as_str()),
        (404, Some("M_UNRECOGNIZED"))
    );
}
