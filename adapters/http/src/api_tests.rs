//! The identity API operations in process, with the use cases mocked: parsing at the edge, auth
//! extraction, and the errcode/status of every use-case error.
use std::sync::Arc;

use poem::http::StatusCode;
use poem::test::TestClient;
use serde_json::{Value, json};
use verity_application::ports::driving::{
    AuthError, MockAccounts, MockAssociation, MockKeys, MockLookup, MockStatus, MockValidation,
    TokenAccepted, TokenRequested, ValidationError,
};
use verity_domain::{
    AccessToken, EmailAddress, Medium, RefusalReason, ServerLabel, SessionId, SessionMode,
    ThreePid, UserId,
};

use crate::{AppEndpoint, HttpConfig, HttpDeps, app};

/// A use-case error, the status it must get, and a word of its errcode or page.
type ErrorCase = (fn() -> ValidationError, StatusCode, &'static str);

const CONFIG: HttpConfig = HttpConfig {
    max_body_bytes: 65536,
    v1: true,
    v2: true,
};

fn client(
    accounts: MockAccounts,
    validation: MockValidation,
    allowed: &[&str],
) -> TestClient<AppEndpoint> {
    let deps = HttpDeps {
        status: Arc::new(MockStatus::new()),
        accounts: Arc::new(accounts),
        validation: Arc::new(validation),
        keys: Arc::new(MockKeys::new()),
        association: Arc::new(MockAssociation::new()),
        lookup: Arc::new(MockLookup::new()),
        limits: crate::test_support::admit_all(),
        invites: Arc::new(verity_application::ports::driving::MockInvites::new()),
        user_directory: Arc::new(verity_application::ports::driving::MockUserDirectory::new()),
        remote_sessions: None,
        registration: None,
        room_invites: None,
        next_link_allowed: allowed
            .iter()
            .map(|s| (*s).to_owned())
            .collect::<Vec<_>>()
            .into(),
        views: Arc::default(),
        public_url: Arc::from(""),
    };
    TestClient::new(app(&deps, CONFIG))
}

/// Accounts that accept exactly the token `good` as @alice:example.org.
fn accounts() -> MockAccounts {
    let mut accounts = MockAccounts::new();
    accounts
        .expect_authenticate()
        .returning(|token, _| match token.as_deref() {
            Some("good") => Ok(UserId::parse("@alice:example.org").unwrap()),
            _ => Err(AuthError::Unauthorized),
        });
    accounts
}

async fn body(resp: poem::test::TestResponse) -> Value {
    resp.0.into_body().into_json().await.unwrap()
}

fn email_request() -> Value {
    json!({"client_secret": "s3cret", "email": "Alice@Example.org", "send_attempt": 1})
}

fn requested() -> TokenRequested {
    TokenRequested {
        sid: SessionId::parse("sid1").unwrap(),
        threepid: ThreePid::Email(EmailAddress::parse("alice@example.org").unwrap()),
    }
}

#[tokio::test]
async fn request_token_accepts_a_bearer_header_or_the_query_token() {
    let mut validation = MockValidation::new();
    validation
        .expect_request_token()
        .withf(|r| r.threepid.address() == "alice@example.org" && r.send_attempt.value() == 1)
        .times(2)
        .returning(|_| Ok(requested()));
    let cli = client(accounts(), validation, &[]);
    let by_header = cli
        .post("/_matrix/identity/v2/validate/email/requestToken")
        .header("Authorization", "Bearer good")
        .body_json(&email_request())
        .send()
        .await;
    by_header.assert_status_is_ok();
    assert_eq!(body(by_header).await, json!({"sid": "sid1"}));
    cli.post("/_matrix/identity/v2/validate/email/requestToken?access_token=good")
        .body_json(&email_request())
        .send()
        .await
        .assert_status_is_ok();
}

#[tokio::test]
async fn v2_endpoints_without_a_valid_token_are_401_m_unauthorized() {
    let mut validation = MockValidation::new();
    validation.expect_request_token().never();
    let cli = client(accounts(), validation, &[]);
    for auth in [None, Some("Bearer bad")] {
        let mut req = cli
            .post("/_matrix/identity/v2/validate/email/requestToken")
            .body_json(&email_request());
        if let Some(header) = auth {
            req = req.header("Authorization", header);
        }
        let resp = req.send().await;
        resp.assert_status(StatusCode::UNAUTHORIZED);
        assert_eq!(body(resp).await["errcode"], "M_UNAUTHORIZED");
    }
}

#[tokio::test]
async fn unsigned_terms_are_403_m_terms_not_signed() {
    let mut accounts = MockAccounts::new();
    accounts
        .expect_authenticate()
        .returning(|_, require_terms| {
            assert!(require_terms, "requestToken must be terms gated");
            Err(AuthError::TermsNotSigned)
        });
    let cli = client(accounts, MockValidation::new(), &[]);
    let resp = cli
        .post("/_matrix/identity/v2/validate/email/requestToken")
        .header("Authorization", "Bearer good")
        .body_json(&email_request())
        .send()
        .await;
    resp.assert_status(StatusCode::FORBIDDEN);
    assert_eq!(body(resp).await["errcode"], "M_TERMS_NOT_SIGNED");
}

#[tokio::test]
async fn bad_inputs_get_their_spec_errcodes_before_reaching_the_use_case() {
    let mut validation = MockValidation::new();
    validation.expect_request_token().never();
    let cli = client(accounts(), validation, &[]);
    let cases = [
        (
            json!({"client_secret": "s3cret", "email": "a@b@c.org", "send_attempt": 1}),
            "M_INVALID_EMAIL",
        ),
        (
            json!({"client_secret": "bad secret", "email": "a@b.org", "send_attempt": 1}),
            "M_INVALID_PARAM",
        ),
        (
            json!({"client_secret": "s3cret", "email": "a@b.org", "send_attempt": "one"}),
            "M_INVALID_PARAM",
        ),
        (
            json!({"client_secret": "s3cret", "email": "a@b.org", "send_attempt": 1, "next_link": "file:///etc/passwd"}),
            "M_INVALID_PARAM",
        ),
        (
            json!({"client_secret": "s3cret", "send_attempt": 1}),
            "M_BAD_JSON",
        ),
    ];
    for (request, errcode) in cases {
        let resp = cli
            .post("/_matrix/identity/v2/validate/email/requestToken")
            .header("Authorization", "Bearer good")
            .body_json(&request)
            .send()
            .await;
        assert_eq!(resp.0.status(), StatusCode::BAD_REQUEST, "{request}");
        assert_eq!(body(resp).await["errcode"], errcode, "{request}");
    }
    let phone = cli
        .post("/_matrix/identity/v2/validate/msisdn/requestToken")
        .header("Authorization", "Bearer good")
        .body_json(&json!({"client_secret": "s3cret", "country": "GB", "phone_number": "123", "send_attempt": "1"}))
        .send()
        .await;
    phone.assert_status(StatusCode::BAD_REQUEST);
    assert_eq!(body(phone).await["errcode"], "M_INVALID_ADDRESS");
}

#[tokio::test]
async fn msisdn_sessions_echo_the_canonical_number() {
    let mut validation = MockValidation::new();
    validation.expect_request_token().returning(|r| {
        Ok(TokenRequested {
            sid: SessionId::parse("s").unwrap(),
            threepid: r.threepid,
        })
    });
    let cli = client(MockAccounts::new(), validation, &[]);
    // v1: no access token, as Synapse's SMS delegation calls it.
    let resp = cli
        .post("/_matrix/identity/api/v1/validate/msisdn/requestToken")
        .body_json(&json!({"client_secret": "s3cret", "country": "GB", "phone_number": "07911 123456", "send_attempt": 1}))
        .send()
        .await;
    resp.assert_status_is_ok();
    assert_eq!(
        body(resp).await,
        json!({"sid": "s", "msisdn": "447911123456", "intl_fmt": "+44 7911 123456"})
    );
}

#[tokio::test]
async fn every_validation_error_has_its_errcode_and_status() {
    let cases: Vec<ErrorCase> = vec![
        (
            || ValidationError::Refused(RefusalReason::Disabled),
            StatusCode::FORBIDDEN,
            "M_FORBIDDEN",
        ),
        (
            || ValidationError::NoValidSession,
            StatusCode::NOT_FOUND,
            "M_NO_VALID_SESSION",
        ),
        (
            || ValidationError::SessionExpired,
            StatusCode::BAD_REQUEST,
            "M_SESSION_EXPIRED",
        ),
        (
            || ValidationError::TokenIncorrect,
            StatusCode::BAD_REQUEST,
            "M_TOKEN_INCORRECT",
        ),
        (
            || ValidationError::TooManyAttempts,
            StatusCode::BAD_REQUEST,
            "M_TOKEN_INCORRECT",
        ),
        (
            || ValidationError::NotValidated,
            StatusCode::BAD_REQUEST,
            "M_SESSION_NOT_VALIDATED",
        ),
        (
            || ValidationError::SendFailed {
                medium: Medium::Email,
                rejected: false,
            },
            StatusCode::BAD_REQUEST,
            "M_EMAIL_SEND_ERROR",
        ),
        (
            || ValidationError::SendFailed {
                medium: Medium::Msisdn,
                rejected: false,
            },
            StatusCode::BAD_REQUEST,
            "M_SEND_ERROR",
        ),
        (
            || ValidationError::SendFailed {
                medium: Medium::Msisdn,
                rejected: true,
            },
            StatusCode::BAD_REQUEST,
            "M_INVALID_ADDRESS",
        ),
        (
            || ValidationError::UnsupportedMedium(Medium::Msisdn),
            StatusCode::BAD_REQUEST,
            "M_UNRECOGNIZED",
        ),
        (
            || {
                ValidationError::Internal(
                    verity_application::ports::driven::StoreError::Unavailable("db".into()),
                )
            },
            StatusCode::INTERNAL_SERVER_ERROR,
            "M_UNKNOWN",
        ),
    ];
    for (error, status, errcode) in cases {
        let mut validation = MockValidation::new();
        validation
            .expect_submit_token()
            .returning(move |_| Err(error()));
        let cli = client(accounts(), validation, &[]);
        let resp = cli
            .post("/_matrix/identity/v2/validate/email/submitToken")
            .header("Authorization", "Bearer good")
            .body_json(&json!({"sid": "s", "client_secret": "c", "token": "t"}))
            .send()
            .await;
        assert_eq!(resp.0.status(), status, "{errcode}");
        let got = body(resp).await;
        assert_eq!(got["errcode"], errcode);
        assert!(
            !got["error"].as_str().unwrap().contains("db"),
            "internal details leaked: {got}"
        );
    }
}

#[tokio::test]
async fn submit_token_accepts_a_form_body_as_mxisd_did() {
    let mut validation = MockValidation::new();
    validation
        .expect_submit_token()
        .withf(|s| s.token.expose() == "123456")
        .returning(|_| {
            Ok(TokenAccepted {
                threepid: requested().threepid,
                mode: SessionMode::Local,
                next_link: None,
                remote_code_from: None,
            })
        });
    let cli = client(MockAccounts::new(), validation, &[]);
    let resp = cli
        .post("/_matrix/identity/api/v1/validate/msisdn/submitToken")
        .content_type("application/x-www-form-urlencoded")
        .body("sid=s&client_secret=c&token=123456")
        .send()
        .await;
    resp.assert_status_is_ok();
    assert_eq!(body(resp).await, json!({"success": true}));
}

/// Synapse proxies a delegated SMS code to v1 and shows "Error contacting the identity server"
/// for any non-2xx answer; a 200 with `success: false` reaches the user with its reason.
#[tokio::test]
async fn a_refused_code_on_v1_is_a_200_with_success_false_and_the_reason_as_sydent_answers() {
    let cases: [ErrorCase; 4] = [
        (
            || ValidationError::TokenIncorrect,
            StatusCode::OK,
            "M_TOKEN_INCORRECT",
        ),
        (
            || ValidationError::TooManyAttempts,
            StatusCode::OK,
            "M_TOKEN_INCORRECT",
        ),
        (
            || ValidationError::SessionExpired,
            StatusCode::OK,
            "M_SESSION_EXPIRED",
        ),
        (
            || ValidationError::NoValidSession,
            StatusCode::OK,
            "M_NO_VALID_SESSION",
        ),
    ];
    for (error, status, errcode) in cases {
        for medium in ["email", "msisdn"] {
            let mut validation = MockValidation::new();
            validation
                .expect_submit_token()
                .returning(move |_| Err(error()));
            let resp = client(MockAccounts::new(), validation, &[])
                .post(format!(
                    "/_matrix/identity/api/v1/validate/{medium}/submitToken"
                ))
                .body_json(&json!({"sid": "s", "client_secret": "c", "token": "000000"}))
                .send()
                .await;
            resp.assert_status(status);
            let answer = body(resp).await;
            assert_eq!(answer["success"], json!(false), "{medium}: {answer}");
            assert_eq!(answer["errcode"], json!(errcode), "{medium}: {answer}");
            assert!(answer["error"].as_str().is_some_and(|e| !e.is_empty()));
        }
    }
}

#[tokio::test]
async fn a_wrong_code_on_v2_stays_a_400_m_token_incorrect_as_the_specification_says() {
    let mut validation = MockValidation::new();
    validation
        .expect_submit_token()
        .returning(|_| Err(ValidationError::TokenIncorrect));
    let resp = client(accounts(), validation, &[])
        .post("/_matrix/identity/v2/validate/msisdn/submitToken")
        .header("Authorization", "Bearer good")
        .body_json(&json!({"sid": "s", "client_secret": "c", "token": "000000"}))
        .send()
        .await;
    resp.assert_status(StatusCode::BAD_REQUEST);
    assert_eq!(body(resp).await["errcode"], "M_TOKEN_INCORRECT");
}

#[tokio::test]
async fn an_internal_failure_on_v1_submit_keeps_its_500() {
    let mut validation = MockValidation::new();
    validation.expect_submit_token().returning(|_| {
        Err(ValidationError::Internal(
            verity_application::ports::driven::StoreError::Corrupt("db down".into()),
        ))
    });
    let resp = client(MockAccounts::new(), validation, &[])
        .post("/_matrix/identity/api/v1/validate/email/submitToken")
        .body_json(&json!({"sid": "s", "client_secret": "c", "token": "000000"}))
        .send()
        .await;
    resp.assert_status(StatusCode::INTERNAL_SERVER_ERROR);
}

#[path = "api_pages_tests.rs"]
mod pages;
