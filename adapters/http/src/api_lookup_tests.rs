//! Bind, unbind and (in api_lookup_lookups_tests.rs) the lookups in process, with the use cases mocked: authentication (v2) or
//! none (v1), parsing at the edge, and the errcode, status and extra fields of every error.
use std::sync::Arc;

use poem::http::StatusCode;
use poem::test::TestClient;
use serde_json::{Value, json};
use verity_application::ports::driven::BackendError;
use verity_application::ports::driving::{
    AssociationError, AuthError, MockAccounts, MockAssociation, MockLookup, UnbindProof,
};
use verity_domain::{Medium, ServerLabel, SignedAssociation, ThreePid, UserId};

use crate::test_support::{self, mocked_deps};
use crate::{AppEndpoint, HttpDeps};

const V2: &str = "/_matrix/identity/v2";
const V1: &str = "/_matrix/identity/api/v1";

fn client_with(
    association: MockAssociation,
    lookup: MockLookup,
    v1: bool,
) -> TestClient<AppEndpoint> {
    let mut accounts = MockAccounts::new();
    accounts
        .expect_authenticate()
        .returning(|token, require_terms| {
            assert!(require_terms, "bind and lookups are terms gated");
            match token.as_deref() {
                Some("good") => Ok(UserId::parse("@alice:example.org").unwrap()),
                Some("unsigned") => Err(AuthError::TermsNotSigned),
                _ => Err(AuthError::Unauthorized),
            }
        });
    let deps = HttpDeps {
        accounts: Arc::new(accounts),
        association: Arc::new(association),
        lookup: Arc::new(lookup),
        ..mocked_deps()
    };
    test_support::client(&deps, v1)
}

fn client(association: MockAssociation, lookup: MockLookup) -> TestClient<AppEndpoint> {
    client_with(association, lookup, true)
}

async fn body(resp: poem::test::TestResponse) -> Value {
    resp.0.into_body().into_json().await.unwrap()
}

fn signed() -> Value {
    json!({
        "address": "alice@example.org",
        "medium": "email",
        "mxid": "@alice:example.org",
        "not_before": 1,
        "not_after": 2,
        "ts": 1,
        "signatures": {"id.example.org": {"ed25519:0": "c2ln"}},
    })
}

/// `value` as the use case returns it: its exact text.
fn as_signed(value: &Value) -> SignedAssociation {
    SignedAssociation::parse(&value.to_string()).unwrap()
}

fn bind_body(mxid: &str) -> Value {
    json!({"sid": "sid1", "client_secret": "s3cret", "mxid": mxid})
}

fn email(address: &str) -> ThreePid {
    ThreePid::parse(Medium::Email, address).unwrap()
}

#[tokio::test]
async fn a_v2_bind_passes_the_token_owner_and_answers_the_signed_association() {
    let mut association = MockAssociation::new();
    association
        .expect_bind()
        .withf(|bind| {
            bind.sid.as_str() == "sid1"
                && bind.user_id.as_str() == "@alice:example.org"
                && bind.requester.as_ref().map(UserId::as_str) == Some("@alice:example.org")
        })
        .times(1)
        .returning(|_| Ok(as_signed(&signed())));
    let cli = client(association, MockLookup::new());
    let resp = cli
        .post(format!("{V2}/3pid/bind"))
        .header("Authorization", "Bearer good")
        .body_json(&bind_body("@alice:example.org"))
        .send()
        .await;
    resp.assert_status_is_ok();
    assert_eq!(body(resp).await, signed());
}

#[tokio::test]
async fn a_v2_bind_needs_a_token_and_signed_terms() {
    let mut association = MockAssociation::new();
    association.expect_bind().never();
    let cli = client(association, MockLookup::new());
    for (auth, status, errcode) in [
        (None, StatusCode::UNAUTHORIZED, "M_UNAUTHORIZED"),
        (
            Some("Bearer unsigned"),
            StatusCode::FORBIDDEN,
            "M_TERMS_NOT_SIGNED",
        ),
    ] {
        let mut req = cli
            .post(format!("{V2}/3pid/bind"))
            .body_json(&bind_body("@alice:example.org"));
        if let Some(auth) = auth {
            req = req.header("Authorization", auth);
        }
        let resp = req.send().await;
        resp.assert_status(status);
        assert_eq!(body(resp).await["errcode"], errcode);
    }
}

#[tokio::test]
async fn a_v1_bind_needs_no_token_and_has_no_requester() {
    let mut association = MockAssociation::new();
    association
        .expect_bind()
        .withf(|bind| bind.requester.is_none() && bind.user_id.as_str() == "@bob:other.example")
        .times(1)
        .returning(|_| Ok(as_signed(&signed())));
    // mxisd accepted form-encoded bodies; they still are.
    let cli = client(association, MockLookup::new());
    cli.post(format!("{V1}/3pid/bind"))
        .content_type("application/x-www-form-urlencoded")
        .body("sid=sid1&client_secret=s3cret&mxid=%40bob%3Aother.example")
        .send()
        .await
        .assert_status_is_ok();
}

#[tokio::test]
async fn bind_inputs_are_parsed_before_the_use_case() {
    let mut association = MockAssociation::new();
    association.expect_bind().never();
    let cli = client(association, MockLookup::new());
    for bad in [
        bind_body("alice"),
        json!({"sid": "sid 1", "client_secret": "s3cret", "mxid": "@a:b.c"}),
        json!({"sid": "sid1", "client_secret": "", "mxid": "@a:b.c"}),
    ] {
        let resp = cli
            .post(format!("{V1}/3pid/bind"))
            .body_json(&bad)
            .send()
            .await;
        resp.assert_status(StatusCode::BAD_REQUEST);
        assert_eq!(body(resp).await["errcode"], "M_INVALID_PARAM", "{bad}");
    }
}

/// A use-case error, the status it must get, and its errcode.
type AssociationCase = (fn() -> AssociationError, StatusCode, &'static str);

#[tokio::test]
async fn association_errors_get_their_errcodes() {
    let cases: [AssociationCase; 7] = [
        (
            || AssociationError::NoValidSession,
            StatusCode::NOT_FOUND,
            "M_NO_VALID_SESSION",
        ),
        (
            || AssociationError::SessionExpired,
            StatusCode::BAD_REQUEST,
            "M_SESSION_EXPIRED",
        ),
        (
            || AssociationError::NotValidated,
            StatusCode::BAD_REQUEST,
            "M_SESSION_NOT_VALIDATED",
        ),
        (
            || AssociationError::NotTheRequester(UserId::parse("@bob:example.org").unwrap()),
            StatusCode::FORBIDDEN,
            "M_UNAUTHORIZED",
        ),
        (
            || AssociationError::RemoteValidationRequired(ServerLabel::parse("root").unwrap()),
            StatusCode::FORBIDDEN,
            "M_FORBIDDEN",
        ),
        (
            || AssociationError::Backend(BackendError::Corrupt("x".into())),
            StatusCode::INTERNAL_SERVER_ERROR,
            "M_UNKNOWN",
        ),
        (
            || AssociationError::UnbindDisabled,
            StatusCode::FORBIDDEN,
            "M_FORBIDDEN",
        ),
    ];
    for (error, status, errcode) in cases {
        let mut association = MockAssociation::new();
        association.expect_bind().returning(move |_| Err(error()));
        let cli = client(association, MockLookup::new());
        let resp = cli
            .post(format!("{V1}/3pid/bind"))
            .body_json(&bind_body("@alice:example.org"))
            .send()
            .await;
        resp.assert_status(status);
        let answer = body(resp).await;
        assert_eq!(answer["errcode"], errcode);
        assert!(answer.get("lookup_pepper").is_none(), "{answer}");
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            assert_eq!(
                answer["error"], "Internal server error",
                "details stay in the log"
            );
        }
    }
}

fn unbind_body(extra: Value) -> Value {
    let mut body = json!({
        "mxid": "@alice:example.org",
        "threepid": {"medium": "email", "address": "Alice@Example.org"},
    });
    for (key, value) in extra.as_object().unwrap() {
        body[key] = value.clone();
    }
    body
}

#[tokio::test]
async fn an_unbind_by_session_needs_no_token_on_either_version() {
    let mut association = MockAssociation::new();
    association
        .expect_unbind()
        .withf(|unbind| {
            unbind.threepid == email("alice@example.org")
                && matches!(&unbind.proof, UnbindProof::Session { sid, .. } if sid.as_str() == "sid1")
        })
        .times(2)
        .returning(|_| Ok(()));
    let cli = client(association, MockLookup::new());
    for prefix in [V2, V1] {
        let resp = cli
            .post(format!("{prefix}/3pid/unbind"))
            .body_json(&unbind_body(
                json!({"sid": "sid1", "client_secret": "s3cret"}),
            ))
            .send()
            .await;
        resp.assert_status_is_ok();
        assert_eq!(body(resp).await, json!({}));
    }
}

#[tokio::test]
async fn a_homeserver_signed_unbind_reaches_the_use_case_with_the_request_as_received() {
    let mut association = MockAssociation::new();
    association
        .expect_unbind()
        .withf(|unbind| match &unbind.proof {
            UnbindProof::HomeserverSignature(signed) => {
                signed.method == "POST"
                    && signed.uri == "/_matrix/identity/v2/3pid/unbind?x=1"
                    && signed.auth.origin.to_string() == "example.org"
                    && signed.auth.destination.as_deref() == Some("id.example.org")
                    // Fields the API does not declare are part of what was signed.
                    && signed.content.to_value()["extra"] == json!("kept")
            }
            _ => false,
        })
        .times(1)
        .returning(|_| Err(AssociationError::SignatureRejected("bad signature".into())));
    let cli = client(association, MockLookup::new());
    let request = unbind_body(json!({"extra": "kept"}));
    let resp = cli
        .post(format!("{V2}/3pid/unbind?x=1"))
        .header(
            "Authorization",
            "X-Matrix origin=\"example.org\",destination=\"id.example.org\",key=\"ed25519:a\",sig=\"s\"",
        )
        .body_json(&request)
        .send()
        .await;
    resp.assert_status(StatusCode::FORBIDDEN);
    assert_eq!(body(resp).await["errcode"], "M_FORBIDDEN");
}

#[tokio::test]
async fn a_malformed_x_matrix_header_is_refused_before_the_use_case() {
    let mut association = MockAssociation::new();
    association.expect_unbind().never();
    let cli = client(association, MockLookup::new());
    let resp = cli
        .post(format!("{V2}/3pid/unbind"))
        .header(
            "Authorization",
            "X-Matrix origin=\"bad/host\",key=\"ed25519:a\",sig=\"s\"",
        )
        .body_json(&unbind_body(json!({})))
        .send()
        .await;
    resp.assert_status(StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_unbind_without_proof_or_with_half_a_session_is_refused() {
    let mut association = MockAssociation::new();
    association
        .expect_unbind()
        .withf(|unbind| unbind.proof == UnbindProof::None)
        .times(1)
        .returning(|_| Err(AssociationError::ProofRequired));
    let cli = client(association, MockLookup::new());
    let resp = cli
        .post(format!("{V2}/3pid/unbind"))
        .body_json(&unbind_body(json!({})))
        .send()
        .await;
    resp.assert_status(StatusCode::FORBIDDEN);
    let resp = cli
        .post(format!("{V2}/3pid/unbind"))
        .body_json(&unbind_body(json!({"sid": "sid1"})))
        .send()
        .await;
    resp.assert_status(StatusCode::BAD_REQUEST);
    assert_eq!(body(resp).await["errcode"], "M_INVALID_PARAM");
}

/// Hash details, the v2 and v1 lookups, and what they pass on for recursion.
#[path = "api_lookup_lookups_tests.rs"]
mod lookups;
