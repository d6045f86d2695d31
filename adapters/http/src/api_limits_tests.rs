//! The abuse limits at the edge, in process: a refused request is 429 `M_LIMIT_EXCEEDED` with
//! `retry_after_ms` and `Retry-After`, and never reaches its use case (the mocked use cases have
//! no expectations: a call would fail the test).
use std::sync::Arc;
use std::time::Duration;

use poem::http::StatusCode;
use serde_json::{Value, json};
use verity_application::ports::driving::{Caller, LimitExceeded, MockAccounts, MockLimits};
use verity_domain::{LimitedRequest, RetryAfter, UserId};

use crate::HttpDeps;
use crate::test_support::{self, mocked_deps};

fn refusing(wait: Duration) -> MockLimits {
    let mut limits = MockLimits::new();
    limits
        .expect_admit()
        .returning(move |_, _| Err(LimitExceeded(RetryAfter::new(wait))));
    limits
}

fn alice() -> UserId {
    UserId::parse("@alice:example.org").unwrap()
}

fn signed_in() -> MockAccounts {
    let mut accounts = MockAccounts::new();
    accounts.expect_authenticate().returning(|_, _| Ok(alice()));
    accounts
}

async fn refused(resp: poem::test::TestResponse, wait_secs: &str) -> Value {
    resp.assert_status(StatusCode::TOO_MANY_REQUESTS);
    resp.assert_header("retry-after", wait_secs);
    resp.0.into_body().into_json().await.unwrap()
}

#[tokio::test]
async fn a_refused_v2_request_token_is_429_and_never_reaches_the_validation_use_case() {
    let deps = HttpDeps {
        limits: Arc::new(refusing(Duration::from_millis(1500))),
        accounts: Arc::new(signed_in()),
        ..mocked_deps()
    };
    let cli = test_support::client(&deps, true);
    let resp = cli
        .post("/_matrix/identity/v2/validate/email/requestToken")
        .header("authorization", "Bearer token")
        .body_json(
            &json!({"email": "bob@example.org", "client_secret": "secret", "send_attempt": 1}),
        )
        .send()
        .await;
    let body = refused(resp, "2").await;
    assert_eq!(
        body,
        json!({
            "errcode": "M_LIMIT_EXCEEDED",
            "error": "Too many requests: retry later",
            "retry_after_ms": 1500
        })
    );
}

#[tokio::test]
async fn every_limited_v1_endpoint_answers_429_before_its_use_case() {
    let deps = HttpDeps {
        limits: Arc::new(refusing(Duration::from_secs(60))),
        ..mocked_deps()
    };
    let cli = test_support::client(&deps, true);
    let v1 = "/_matrix/identity/api/v1";
    let posts = [
        (
            "validate/email/requestToken",
            json!({"email": "b@example.org", "client_secret": "s", "send_attempt": 1}),
        ),
        (
            "validate/msisdn/requestToken",
            json!({"country": "GB", "phone_number": "7911123456", "client_secret": "s", "send_attempt": 1}),
        ),
        (
            "validate/email/submitToken",
            json!({"sid": "sid", "client_secret": "s", "token": "t"}),
        ),
        (
            "3pid/bind",
            json!({"sid": "sid", "client_secret": "s", "mxid": "@a:example.org"}),
        ),
        (
            "store-invite",
            json!({"medium": "email", "address": "b@example.org", "room_id": "!r:example.org", "sender": "@a:example.org"}),
        ),
        (
            "bulk_lookup",
            json!({"threepids": [["email", "b@example.org"]]}),
        ),
    ];
    for (path, body) in posts {
        let resp = cli
            .post(format!("{v1}/{path}"))
            .body_json(&body)
            .send()
            .await;
        let body = refused(resp, "60").await;
        assert_eq!(body["errcode"], "M_LIMIT_EXCEEDED", "{path}");
        assert_eq!(body["retry_after_ms"], 60000, "{path}");
    }
    let lookup = cli
        .get(format!("{v1}/lookup?medium=email&address=b%40example.org"))
        .send()
        .await;
    refused(lookup, "60").await;
    let register = cli
        .post("/_matrix/identity/v2/account/register")
        .body_json(&json!({"access_token": "t", "matrix_server_name": "example.org", "token_type": "Bearer", "expires_in": 3600}))
        .send()
        .await;
    refused(register, "60").await;
}

#[tokio::test]
async fn the_emailed_link_page_is_429_with_retry_after_when_refused() {
    let deps = HttpDeps {
        limits: Arc::new(refusing(Duration::from_secs(3))),
        ..mocked_deps()
    };
    let cli = test_support::client(&deps, true);
    let resp = cli
        .get("/_matrix/identity/v2/validate/email/submitToken?sid=sid&client_secret=s&token=t")
        .send()
        .await;
    resp.assert_status(StatusCode::TOO_MANY_REQUESTS);
    resp.assert_header("retry-after", "3");
}

#[tokio::test]
async fn a_v2_lookup_is_counted_for_its_account_by_its_number_of_addresses() {
    let mut limits = MockLimits::new();
    limits
        .expect_admit()
        .withf(|caller, request| {
            caller == &Caller::Account(alice()) && request == &LimitedRequest::Lookup(3)
        })
        .times(1)
        .returning(|_, _| Err(LimitExceeded(RetryAfter::new(Duration::from_secs(1)))));
    let deps = HttpDeps {
        limits: Arc::new(limits),
        accounts: Arc::new(signed_in()),
        ..mocked_deps()
    };
    let cli = test_support::client(&deps, false);
    let resp = cli
        .post("/_matrix/identity/v2/lookup")
        .header("authorization", "Bearer token")
        .body_json(&json!({"algorithm": "sha256", "pepper": "p", "addresses": ["a", "b", "c"]}))
        .send()
        .await;
    refused(resp, "1").await;
}

#[tokio::test]
async fn a_v2_invite_as_another_sender_spends_no_allowance() {
    // No admit expectation: counting would fail the test; the use case refuses the sender.
    let mut invites = verity_application::ports::driving::MockInvites::new();
    invites
        .expect_store_invite()
        .times(1)
        .returning(|_| Err(verity_application::ports::driving::InviteError::NotTheSender));
    let deps = HttpDeps {
        limits: Arc::new(MockLimits::new()),
        accounts: Arc::new(signed_in()),
        invites: Arc::new(invites),
        ..mocked_deps()
    };
    let cli = test_support::client(&deps, false);
    let resp = cli
        .post("/_matrix/identity/v2/store-invite")
        .header("authorization", "Bearer token")
        .body_json(&json!({"medium": "email", "address": "b@example.org", "room_id": "!r:example.org", "sender": "@mallory:example.org"}))
        .send()
        .await;
    resp.assert_status(StatusCode::FORBIDDEN);
}
