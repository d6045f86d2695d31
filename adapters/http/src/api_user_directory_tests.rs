//! The user directory search in process, the use case mocked: the client API's format, where
//! the token and the host come from, parsing at the edge, and the errcode and status of every
//! refusal.
use std::sync::Arc;

use poem::http::StatusCode;
use poem::test::TestClient;
use serde_json::{Value, json};
use verity_application::ports::driven::{ClientApiVersion, HomeserverRoute};
use verity_application::ports::driving::{DirectoryCaller, DirectoryError, MockUserDirectory};
use verity_domain::{
    DirectoryEntry, DirectoryResults, HomeserverAccessToken, SearchLimit, SearchTerm, ServerName,
    UserId,
};

use crate::test_support::{self, mocked_deps};
use crate::{AppEndpoint, HttpDeps};

const V3: &str = "/_matrix/client/v3/user_directory/search";
const R0: &str = "/_matrix/client/r0/user_directory/search";

fn client(directory: MockUserDirectory) -> TestClient<AppEndpoint> {
    let deps = HttpDeps {
        user_directory: Arc::new(directory),
        ..mocked_deps()
    };
    test_support::client(&deps, true)
}

fn caller(route: HomeserverRoute) -> DirectoryCaller {
    DirectoryCaller {
        user_id: UserId::parse("@me:example.org").unwrap(),
        token: HomeserverAccessToken::parse("syt_me").unwrap(),
        route,
    }
}

/// A directory that authenticates `syt_me` and finds Alice (with a display name) and Bob
/// (without), limited.
fn finding_people() -> MockUserDirectory {
    let mut directory = MockUserDirectory::new();
    directory.expect_authenticate().returning(|token, route| {
        assert_eq!(token.expose(), "syt_me");
        Ok(caller(route))
    });
    directory.expect_search().returning(|_, _, _| {
        Ok(DirectoryResults {
            entries: vec![
                DirectoryEntry {
                    avatar_url: Some("mxc://example.org/a".into()),
                    ..DirectoryEntry::new(
                        UserId::parse("@alice:example.org").unwrap(),
                        Some("Alice".into()),
                    )
                },
                DirectoryEntry::new(UserId::parse("@bob:example.org").unwrap(), None),
            ],
            limited: true,
        })
    });
    directory
}

async fn body(resp: poem::test::TestResponse) -> Value {
    resp.0.into_body().into_json().await.unwrap()
}

async fn refused(resp: poem::test::TestResponse, status: StatusCode, errcode: &str) {
    resp.assert_status(status);
    assert_eq!(body(resp).await["errcode"], errcode);
}

#[tokio::test]
async fn the_answer_is_in_the_client_apis_format() {
    let cli = client(finding_people());
    let resp = cli
        .post(V3)
        .header("Authorization", "Bearer syt_me")
        .body_json(&json!({"search_term": "a"}))
        .send()
        .await;
    resp.assert_status_is_ok();
    assert_eq!(
        body(resp).await,
        json!({
            "limited": true,
            "results": [
                {"user_id": "@alice:example.org", "display_name": "Alice", "avatar_url": "mxc://example.org/a"},
                {"user_id": "@bob:example.org"},
            ],
        })
    );
}

#[tokio::test]
async fn the_token_may_come_as_a_query_parameter_and_the_host_and_version_choose_the_homeserver() {
    let mut directory = MockUserDirectory::new();
    directory
        .expect_authenticate()
        .times(2)
        .returning(|token, route| {
            assert_eq!(token.expose(), "syt_me");
            assert_eq!(
                route.host,
                Some(ServerName::parse("matrix.example.org:8443").unwrap())
            );
            Ok(caller(route))
        });
    directory
        .expect_search()
        .times(2)
        .returning(|caller, term, limit| {
            assert_eq!(term, &SearchTerm::parse("alice").unwrap());
            assert_eq!(limit, SearchLimit::from_request(Some(50)));
            let version = caller.route.version;
            assert!(matches!(
                version,
                ClientApiVersion::R0 | ClientApiVersion::V3
            ));
            Ok(DirectoryResults::default())
        });
    let cli = client(directory);
    for path in [
        format!("{V3}?access_token=syt_me"),
        format!("{R0}?access_token=syt_me"),
    ] {
        let resp = cli
            .post(path)
            .header("Host", "matrix.example.org:8443")
            .body_json(&json!({"search_term": " @alice ", "limit": 500}))
            .send()
            .await;
        resp.assert_status_is_ok();
        assert_eq!(body(resp).await, json!({"results": [], "limited": false}));
    }
}

#[tokio::test]
async fn a_missing_token_is_m_missing_token_and_nobody_is_asked() {
    let mut directory = MockUserDirectory::new();
    directory.expect_authenticate().never();
    let cli = client(directory);
    let resp = cli
        .post(V3)
        .body_json(&json!({"search_term": "alice"}))
        .send()
        .await;
    refused(resp, StatusCode::UNAUTHORIZED, "M_MISSING_TOKEN").await;
}

#[tokio::test]
async fn a_token_that_no_homeserver_issued_is_unknown_without_asking() {
    let mut directory = MockUserDirectory::new();
    directory.expect_authenticate().never();
    let cli = client(directory);
    let resp = cli
        .post(format!("{V3}?access_token=a%20b"))
        .body_json(&json!({"search_term": "alice"}))
        .send()
        .await;
    refused(resp, StatusCode::UNAUTHORIZED, "M_UNKNOWN_TOKEN").await;
}

#[tokio::test]
async fn a_huge_term_or_one_with_a_control_character_is_refused_before_the_homeserver_is_asked() {
    let mut directory = MockUserDirectory::new();
    directory.expect_authenticate().never();
    let cli = client(directory);
    for term in ["x".repeat(257), "a\u{0}b".to_owned()] {
        let resp = cli
            .post(V3)
            .header("Authorization", "Bearer syt_me")
            .body_json(&json!({"search_term": term}))
            .send()
            .await;
        refused(resp, StatusCode::BAD_REQUEST, "M_INVALID_PARAM").await;
    }
}

#[tokio::test]
async fn filter_metacharacters_reach_the_search_as_text() {
    let mut directory = MockUserDirectory::new();
    directory
        .expect_authenticate()
        .returning(|_, route| Ok(caller(route)));
    directory.expect_search().times(1).returning(|_, term, _| {
        assert_eq!(term.as_str(), "*)(uid=*");
        Ok(DirectoryResults::default())
    });
    let cli = client(directory);
    let resp = cli
        .post(V3)
        .header("Authorization", "Bearer syt_me")
        .body_json(&json!({"search_term": "*)(uid=*"}))
        .send()
        .await;
    resp.assert_status_is_ok();
}

#[tokio::test]
async fn bodies_that_are_not_a_search_are_refused_as_the_client_api_refuses_them() {
    let mut directory = MockUserDirectory::new();
    directory.expect_authenticate().never();
    let cli = client(directory);
    for (body, errcode) in [
        ("not json".to_owned(), "M_NOT_JSON"),
        ("[]".to_owned(), "M_BAD_JSON"),
        ("{}".to_owned(), "M_BAD_JSON"),
        (json!({"search_term": 7}).to_string(), "M_BAD_JSON"),
        (
            json!({"search_term": "a", "limit": "5"}).to_string(),
            "M_BAD_JSON",
        ),
        (
            json!({"search_term": "a", "limit": 2.5}).to_string(),
            "M_BAD_JSON",
        ),
    ] {
        let resp = cli
            .post(V3)
            .header("Authorization", "Bearer syt_me")
            .content_type("application/json")
            .body(body.clone())
            .send()
            .await;
        resp.assert_status(StatusCode::BAD_REQUEST);
        assert_eq!(self::body(resp).await["errcode"], errcode, "{body}");
    }
}

#[tokio::test]
async fn every_refusal_of_the_use_case_has_its_client_api_errcode() {
    for (error, status, errcode) in [
        (
            DirectoryError::UnknownToken,
            StatusCode::UNAUTHORIZED,
            "M_UNKNOWN_TOKEN",
        ),
        (
            DirectoryError::GuestAccessForbidden,
            StatusCode::FORBIDDEN,
            "M_GUEST_ACCESS_FORBIDDEN",
        ),
        (
            DirectoryError::HomeserverUnavailable,
            StatusCode::BAD_GATEWAY,
            "M_UNKNOWN",
        ),
    ] {
        let error = std::sync::Mutex::new(Some(error));
        let mut directory = MockUserDirectory::new();
        directory
            .expect_authenticate()
            .returning(move |_, _| Err(error.lock().unwrap().take().unwrap()));
        let cli = client(directory);
        let resp = cli
            .post(V3)
            .header("Authorization", "Bearer syt_me")
            .body_json(&json!({"search_term": "a"}))
            .send()
            .await;
        refused(resp, status, errcode).await;
    }
    let mut directory = MockUserDirectory::new();
    directory
        .expect_authenticate()
        .returning(|_, route| Ok(caller(route)));
    directory
        .expect_search()
        .returning(|_, _, _| Err(DirectoryError::Unavailable));
    let resp = client(directory)
        .post(V3)
        .header("Authorization", "Bearer syt_me")
        .body_json(&json!({"search_term": "a"}))
        .send()
        .await;
    refused(resp, StatusCode::SERVICE_UNAVAILABLE, "M_UNKNOWN").await;
}
