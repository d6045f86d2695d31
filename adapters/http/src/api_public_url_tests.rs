//! `server.publicUrl` with a path (`https://example.org/identity`, behind a reverse proxy that
//! strips it): every link, form action and redirect of the pages starts with it.
use std::sync::Arc;

use poem::http::StatusCode;
use poem::test::TestClient;
use verity_application::ports::driving::{
    MockRemoteSessions, MockValidation, RemoteOverview, TokenAccepted,
};
use verity_domain::{EmailAddress, ServerLabel, SessionMode, ThreePid};

use crate::test_support::{client, mocked_deps};
use crate::{AppEndpoint, HttpDeps};

const PUBLIC_URL: &str = "https://example.org/identity";
const REMOTE: &str = "https://example.org/identity/_matrix/identity/remote/api/v1/validate";

fn central() -> ServerLabel {
    ServerLabel::parse("central").unwrap()
}

fn bob() -> ThreePid {
    ThreePid::Email(EmailAddress::parse("bob@gmail.com").unwrap())
}

fn behind_a_path(
    validation: MockValidation,
    remote: MockRemoteSessions,
) -> TestClient<AppEndpoint> {
    let deps = HttpDeps {
        validation: Arc::new(validation),
        remote_sessions: Some(Arc::new(remote)),
        public_url: Arc::from(PUBLIC_URL),
        ..mocked_deps()
    };
    client(&deps, true)
}

fn validated_as(mode: SessionMode) -> MockValidation {
    let mut validation = MockValidation::new();
    validation.expect_submit_token().returning(move |_| {
        Ok(TokenAccepted {
            threepid: bob(),
            mode: mode.clone(),
            next_link: None,
            remote_code_from: None,
        })
    });
    validation
}

fn overview(started: bool) -> RemoteOverview {
    RemoteOverview {
        threepid: bob(),
        server: central(),
        host: "central.example".into(),
        forced: true,
        started,
        validated: false,
        published: false,
    }
}

async fn body(resp: poem::test::TestResponse) -> String {
    resp.0.into_body().into_string().await.unwrap()
}

#[tokio::test]
async fn a_forced_remote_link_redirects_under_the_public_urls_path_on_v2_and_v1() {
    for api in ["v2", "api/v1"] {
        let app = behind_a_path(
            validated_as(SessionMode::RemotePending(central())),
            MockRemoteSessions::new(),
        );
        let resp = app
            .get(format!(
                "/_matrix/identity/{api}/validate/email/submitToken?sid=s1&client_secret=c1&token=t"
            ))
            .send()
            .await;
        resp.assert_status(StatusCode::FOUND);
        resp.assert_header(
            "Location",
            format!("{REMOTE}/requestToken?sid=s1&client_secret=c1"),
        );
    }
}

#[tokio::test]
async fn the_success_page_offers_the_remote_step_under_the_public_urls_path() {
    let app = behind_a_path(
        validated_as(SessionMode::LocalOfferRemote(central())),
        MockRemoteSessions::new(),
    );
    let resp = app
        .get("/_matrix/identity/v2/validate/email/submitToken?sid=s1&client_secret=c1&token=t")
        .send()
        .await;
    resp.assert_status_is_ok();
    let page = body(resp).await;
    let link = format!("href=\"{REMOTE}/requestToken?sid=s1&amp;client_secret=c1\"");
    assert!(page.contains(&link), "{page}");
}

#[tokio::test]
async fn the_remote_pages_forms_and_links_stay_under_the_public_urls_path() {
    let mut remote = MockRemoteSessions::new();
    remote.expect_explain().returning(|_, _| Ok(overview(true)));
    remote.expect_check().returning(|_, _| Ok(overview(true)));
    let app = behind_a_path(MockValidation::new(), remote);
    let explained = body(
        app.get("/_matrix/identity/remote/api/v1/validate/requestToken?sid=s1&client_secret=c1")
            .send()
            .await,
    )
    .await;
    let start = format!("action=\"{REMOTE}/requestToken?sid=s1&amp;client_secret=c1\"");
    let check = format!("href=\"{REMOTE}/check?sid=s1&amp;client_secret=c1\"");
    assert!(explained.contains(&start), "{explained}");
    assert!(explained.contains(&check), "{explained}");
    let not_yet = body(
        app.get("/_matrix/identity/remote/api/v1/validate/check?sid=s1&client_secret=c1")
            .send()
            .await,
    )
    .await;
    assert!(
        not_yet.contains(&format!("action=\"{REMOTE}/check\"")),
        "{not_yet}"
    );
    assert!(!not_yet.contains("action=\"/_matrix"), "{not_yet}");
    assert!(!explained.contains("\"/_matrix"), "{explained}");
}
