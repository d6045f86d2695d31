//! The remote step's pages and the remote errors of the JSON API, with the use cases mocked.
use std::sync::Arc;

use poem::http::StatusCode;
use poem::test::TestClient;
use serde_json::json;
use verity_application::ports::driving::{
    AssociationError, MockAccounts, MockAssociation, MockKeys, MockLookup, MockRemoteSessions,
    MockStatus, MockValidation, RemoteFailure, RemoteOverview, RemoteSessionError, TokenAccepted,
    ValidationError,
};
use verity_domain::{EmailAddress, ServerLabel, SessionMode, ThreePid};

use crate::{AppEndpoint, HttpConfig, HttpDeps, app};

const CONFIG: HttpConfig = HttpConfig {
    max_body_bytes: 65536,
    v1: true,
    v2: true,
};

/// A use-case error, the status its page must get, and a word of the page.
type FailureCase = (fn() -> RemoteSessionError, StatusCode, &'static str);

const QUERY: &str = "sid=s1&client_secret=c1";

fn central() -> ServerLabel {
    ServerLabel::parse("central").unwrap()
}

fn bob() -> ThreePid {
    ThreePid::Email(EmailAddress::parse("bob@gmail.com").unwrap())
}

fn overview(forced: bool, started: bool, validated: bool) -> RemoteOverview {
    RemoteOverview {
        threepid: bob(),
        server: central(),
        host: "id.example:8090".into(),
        forced,
        started,
        validated,
        published: false,
    }
}

fn client(
    validation: MockValidation,
    association: MockAssociation,
    remote: Option<MockRemoteSessions>,
) -> TestClient<AppEndpoint> {
    let deps = HttpDeps {
        status: Arc::new(MockStatus::new()),
        accounts: Arc::new(MockAccounts::new()),
        validation: Arc::new(validation),
        keys: Arc::new(MockKeys::new()),
        association: Arc::new(association),
        lookup: Arc::new(MockLookup::new()),
        limits: crate::test_support::admit_all(),
        invites: Arc::new(verity_application::ports::driving::MockInvites::new()),
        user_directory: Arc::new(verity_application::ports::driving::MockUserDirectory::new()),
        remote_sessions: remote.map(|r| Arc::new(r) as _),
        registration: None,
        room_invites: None,
        next_link_allowed: Arc::from(vec!["https://app.example/".to_owned()]),
        views: Arc::default(),
        public_url: Arc::from(""),
    };
    TestClient::new(app(&deps, CONFIG))
}

fn pages(remote: MockRemoteSessions) -> TestClient<AppEndpoint> {
    client(MockValidation::new(), MockAssociation::new(), Some(remote))
}

async fn body(resp: poem::test::TestResponse) -> String {
    resp.0.into_body().into_string().await.unwrap()
}

fn url(page: &str) -> String {
    format!("/_matrix/identity/remote/api/v1/validate/{page}?{QUERY}")
}

#[tokio::test]
async fn the_explanation_page_changes_nothing_and_posts_to_start() {
    let mut remote = MockRemoteSessions::new();
    remote
        .expect_explain()
        .returning(|_, _| Ok(overview(true, false, false)));
    remote.expect_start().never();
    let resp = pages(remote).get(url("requestToken")).send().await;
    resp.assert_status_is_ok();
    let page = body(resp).await;
    // Users see the server itself, never the operator's label for it.
    assert!(page.contains("Publish on id.example:8090"), "{page}");
    assert!(
        page.contains("Publish your email address on id.example:8090?"),
        "{page}"
    );
    assert!(!page.contains("central"), "{page}");
    assert!(page.contains("cannot easily be removed"), "{page}");
    assert!(
        page.contains(r#"method="post" action="/_matrix/identity/remote/api/v1/validate/requestToken?sid=s1&amp;client_secret=c1""#),
        "{page}"
    );
}

#[tokio::test]
async fn posting_starts_the_remote_session_and_offers_the_check() {
    let mut remote = MockRemoteSessions::new();
    remote
        .expect_start()
        .times(1)
        .returning(|_, _| Ok(overview(false, true, false)));
    let resp = pages(remote).post(url("requestToken")).send().await;
    resp.assert_status_is_ok();
    let page = body(resp).await;
    assert!(page.contains("Check your inbox"), "{page}");
    assert!(
        page.contains("Check your messages from id.example:8090"),
        "{page}"
    );
    assert!(!page.contains("central"), "{page}");
    assert!(
        page.contains(r#"name="client_secret" value="c1""#),
        "{page}"
    );
}

#[tokio::test]
async fn a_check_shows_success_or_not_yet() {
    for (validated, expected) in [
        (true, "confirmed your email address"),
        (false, "has not confirmed"),
    ] {
        let mut remote = MockRemoteSessions::new();
        remote
            .expect_check()
            .returning(move |_, _| Ok(overview(true, true, validated)));
        let resp = pages(remote).get(url("check")).send().await;
        resp.assert_status_is_ok();
        let page = body(resp).await;
        assert!(page.contains(expected), "{page}");
        assert!(page.contains("id.example:8090"), "{page}");
        assert!(!page.contains("central"), "{page}");
    }
}

#[tokio::test]
async fn a_check_that_forwarded_the_bind_says_it_is_published_there() {
    for (published, expected, not) in [
        (
            true,
            "It is now published on <code>id.example:8090</code>",
            "Return to your Matrix client",
        ),
        (false, "Return to your Matrix client", "It is now published"),
    ] {
        let mut remote = MockRemoteSessions::new();
        remote.expect_check().returning(move |_, _| {
            Ok(RemoteOverview {
                published,
                ..overview(false, true, true)
            })
        });
        let resp = pages(remote).get(url("check")).send().await;
        resp.assert_status_is_ok();
        let page = body(resp).await;
        assert!(page.contains(expected), "{page}");
        assert!(!page.contains(not), "{page}");
    }
}

#[tokio::test]
async fn each_failure_gets_its_status_and_a_page() {
    let cases: [FailureCase; 6] = [
        (
            || RemoteSessionError::NoValidSession,
            StatusCode::NOT_FOUND,
            "does not match",
        ),
        (
            || RemoteSessionError::SessionExpired,
            StatusCode::BAD_REQUEST,
            "expired",
        ),
        (
            || RemoteSessionError::NotOffered,
            StatusCode::FORBIDDEN,
            "does not publish",
        ),
        (
            || RemoteSessionError::NotStarted,
            StatusCode::BAD_REQUEST,
            "not been started",
        ),
        (
            || RemoteSessionError::Remote(RemoteFailure::Unavailable(central())),
            StatusCode::SERVICE_UNAVAILABLE,
            "cannot be reached",
        ),
        (
            || {
                RemoteSessionError::Remote(RemoteFailure::Refused {
                    server: central(),
                    errcode: "M_FORBIDDEN".into(),
                    error: "<script>no</script>".into(),
                })
            },
            StatusCode::BAD_GATEWAY,
            "&lt;script&gt;",
        ),
    ];
    for (error, status, word) in cases {
        let mut remote = MockRemoteSessions::new();
        remote.expect_start().returning(move |_, _| Err(error()));
        let resp = pages(remote).post(url("requestToken")).send().await;
        resp.assert_status(status);
        let page = body(resp).await;
        assert!(page.contains(word), "{status}: {page}");
        assert!(!page.contains("<script>"), "{page}");
        assert!(!page.contains("central"), "the operator's label: {page}");
    }
}

#[tokio::test]
async fn an_explanation_whose_server_cannot_be_resolved_is_the_503_failure_page() {
    let mut remote = MockRemoteSessions::new();
    remote.expect_explain().returning(|_, _| {
        Err(RemoteSessionError::Remote(RemoteFailure::Unavailable(
            central(),
        )))
    });
    remote.expect_start().never();
    let resp = pages(remote).get(url("requestToken")).send().await;
    resp.assert_status(StatusCode::SERVICE_UNAVAILABLE);
    let page = body(resp).await;
    assert!(page.contains("cannot be reached"), "{page}");
    assert!(!page.contains("central"), "{page}");
    assert!(!page.contains("<form"), "{page}");
}

#[tokio::test]
async fn a_damaged_link_or_a_server_without_remote_step_gets_a_failure_page() {
    let resp = pages(MockRemoteSessions::new())
        .get("/_matrix/identity/remote/api/v1/validate/requestToken?sid=s1")
        .send()
        .await;
    resp.assert_status(StatusCode::BAD_REQUEST);
    let resp = client(MockValidation::new(), MockAssociation::new(), None)
        .get(url("requestToken"))
        .send()
        .await;
    resp.assert_status(StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn every_remote_page_answers_a_missing_remote_client_before_a_damaged_link() {
    let damaged = |page: &str| format!("/_matrix/identity/remote/api/v1/validate/{page}?sid=s1");
    for (post, page) in [
        (false, "requestToken"),
        (true, "requestToken"),
        (false, "check"),
    ] {
        for (wired, link, status) in [
            (false, damaged(page), StatusCode::FORBIDDEN),
            (false, url(page), StatusCode::FORBIDDEN),
            (true, damaged(page), StatusCode::BAD_REQUEST),
        ] {
            // A wired use case that is called would panic: none of these cases reaches it.
            let remote = wired.then(MockRemoteSessions::new);
            let client = client(MockValidation::new(), MockAssociation::new(), remote);
            let resp = if post {
                client.post(&link).send().await
            } else {
                client.get(&link).send().await
            };
            resp.assert_status(status);
            let body = body(resp).await;
            assert!(
                body.contains("<html") || body.contains("<!DOCTYPE"),
                "{post} {link}: {body}"
            );
        }
    }
}

fn accepted(mode: SessionMode, remote_code_from: Option<&str>) -> TokenAccepted {
    TokenAccepted {
        threepid: bob(),
        mode,
        next_link: Some("https://app.example/done".into()),
        remote_code_from: remote_code_from.map(str::to_owned),
    }
}

const LINK: &str =
    "/_matrix/identity/v2/validate/email/submitToken?sid=s1&client_secret=c1&token=t";

#[tokio::test]
async fn a_forced_remote_link_leads_straight_to_the_explanation_before_any_next_link() {
    let mut validation = MockValidation::new();
    validation
        .expect_submit_token()
        .returning(|_| Ok(accepted(SessionMode::RemotePending(central()), None)));
    let resp = client(
        validation,
        MockAssociation::new(),
        Some(MockRemoteSessions::new()),
    )
    .get(LINK)
    .send()
    .await;
    resp.assert_status(StatusCode::FOUND);
    resp.assert_header("Location", url("requestToken"));
}

#[tokio::test]
async fn the_local_success_page_offers_the_remote_step_when_there_is_no_next_link() {
    let mut validation = MockValidation::new();
    validation.expect_submit_token().returning(|_| {
        Ok(TokenAccepted {
            next_link: None,
            ..accepted(SessionMode::LocalOfferRemote(central()), None)
        })
    });
    let resp = client(
        validation,
        MockAssociation::new(),
        Some(MockRemoteSessions::new()),
    )
    .get(LINK)
    .send()
    .await;
    resp.assert_status_is_ok();
    let page = body(resp).await;
    assert!(page.contains("Publish it there"), "{page}");
    assert!(!page.contains("central"), "the operator's label: {page}");
    assert!(
        page.contains(&url("requestToken").replace('&', "&amp;")),
        "{page}"
    );
}

#[tokio::test]
async fn after_the_first_remote_sms_code_the_client_is_told_to_wait_for_a_new_one_from_the_servers_host()
 {
    let mut validation = MockValidation::new();
    validation.expect_submit_token().returning(|_| {
        Ok(accepted(
            SessionMode::RemotePending(central()),
            Some("id.central.example"),
        ))
    });
    let resp = client(validation, MockAssociation::new(), None)
        .post("/_matrix/identity/api/v1/validate/msisdn/submitToken")
        .body_json(&json!({"sid": "s1", "client_secret": "c1", "token": "123456"}))
        .send()
        .await;
    resp.assert_status_is_ok();
    let value: serde_json::Value = resp.0.into_body().into_json().await.unwrap();
    assert_eq!(value["success"], false);
    assert_eq!(value["errcode"], "M_MESSAGE_FOR_CLIENT");
    let message = value["error"].as_str().unwrap();
    assert!(message.contains("NEW code"), "{message}");
    assert!(
        message.contains("identity server id.central.example,"),
        "{message}"
    );
    assert!(
        !message.contains("`central`"),
        "the operator's label: {message}"
    );
}

#[tokio::test]
async fn remote_failures_of_the_api_are_m_remote_is_error_with_502_or_503() {
    let mut validation = MockValidation::new();
    validation.expect_submit_token().returning(|_| {
        Err(ValidationError::Remote(RemoteFailure::Unavailable(
            central(),
        )))
    });
    let mut association = MockAssociation::new();
    association
        .expect_bind()
        .returning(|_| Err(AssociationError::Remote(RemoteFailure::Invalid(central()))));
    let cli = client(validation, association, None);
    let resp = cli
        .post("/_matrix/identity/api/v1/validate/msisdn/submitToken")
        .body_json(&json!({"sid": "s1", "client_secret": "c1", "token": "123456"}))
        .send()
        .await;
    resp.assert_status(StatusCode::SERVICE_UNAVAILABLE);
    // The operator's label (`central`) stays in the log: users are told of the other server.
    resp.assert_json(json!({"errcode": "M_REMOTE_IS_ERROR", "error": "The other identity server cannot be reached."})).await;
    let resp = cli
        .post("/_matrix/identity/api/v1/3pid/bind")
        .body_json(&json!({"sid": "s1", "client_secret": "c1", "mxid": "@bob:example.org"}))
        .send()
        .await;
    resp.assert_status(StatusCode::BAD_GATEWAY);
}

#[tokio::test]
async fn a_bind_before_the_remote_validation_is_m_session_not_validated() {
    let mut association = MockAssociation::new();
    association
        .expect_bind()
        .returning(|_| Err(AssociationError::RemoteNotValidated(central())));
    let resp = client(MockValidation::new(), association, None)
        .post("/_matrix/identity/api/v1/3pid/bind")
        .body_json(&json!({"sid": "s1", "client_secret": "c1", "mxid": "@bob:example.org"}))
        .send()
        .await;
    resp.assert_status(StatusCode::BAD_REQUEST);
    let value: serde_json::Value = resp.0.into_body().into_json().await.unwrap();
    assert_eq!(value["errcode"], "M_SESSION_NOT_VALIDATED");
}
