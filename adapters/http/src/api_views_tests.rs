//! The operator's own pages (`view.*`) on the link page and the remote step's pages, with the
//! use cases mocked.
use std::sync::Arc;

use poem::http::StatusCode;
use poem::test::{TestClient, TestResponse};
use verity_application::ports::driving::{
    MockRemoteSessions, MockValidation, RemoteFailure, RemoteOverview, RemoteSessionError,
    TokenAccepted, ValidationError,
};
use verity_domain::{EmailAddress, ServerLabel, SessionMode, ThreePid};

use crate::test_support::{client, mocked_deps};
use crate::{AppEndpoint, CustomPage, HttpDeps, PageSyntax, SharedViews, Views};

const LINK: &str =
    "/_matrix/identity/v2/validate/email/submitToken?sid=s1&client_secret=c1&token=t";
const REMOTE: &str = "/_matrix/identity/remote/api/v1/validate";

fn page(text: &str) -> Option<CustomPage> {
    Some(CustomPage::new(
        "/etc/verity/page.html",
        text,
        PageSyntax::Mxisd,
    ))
}

fn threepid(address: &str) -> ThreePid {
    ThreePid::Email(EmailAddress::parse(address).unwrap())
}

fn central() -> ServerLabel {
    ServerLabel::parse("central").unwrap()
}

fn accepting(address: &'static str, mode: SessionMode) -> MockValidation {
    let mut validation = MockValidation::new();
    validation.expect_submit_token().returning(move |_| {
        Ok(TokenAccepted {
            threepid: threepid(address),
            mode: mode.clone(),
            next_link: None,
            remote_code_from: None,
        })
    });
    validation
}

fn app(
    views: Views,
    validation: MockValidation,
    remote: Option<MockRemoteSessions>,
) -> TestClient<AppEndpoint> {
    app_over(Arc::new(SharedViews::new(views)), validation, remote)
}

fn app_over(
    views: Arc<SharedViews>,
    validation: MockValidation,
    remote: Option<MockRemoteSessions>,
) -> TestClient<AppEndpoint> {
    views.replace(Views {
        domain: "example.org".into(),
        ..Views::clone(&views.current())
    });
    let deps = HttpDeps {
        validation: Arc::new(validation),
        remote_sessions: remote.map(|r| Arc::new(r) as _),
        registration: None,
        room_invites: None,
        views,
        ..mocked_deps()
    };
    client(&deps, true)
}

async fn html(resp: TestResponse) -> String {
    resp.0.into_body().into_string().await.unwrap()
}

#[tokio::test]
async fn the_operators_success_page_is_served_with_escaped_values() {
    let views = Views {
        token_success: page("<p>%DOMAIN_PRETTY%: %RECIPIENT_ADDRESS% | %MESSAGE%</p>"),
        ..Views::default()
    };
    let resp = app(
        views,
        accepting("o'hara@example.org", SessionMode::Local),
        None,
    )
    .get(LINK)
    .send()
    .await;
    resp.assert_status_is_ok();
    resp.assert_content_type("text/html; charset=utf-8");
    // The link's secret never leaves in a Referer to what the operator's page loads.
    resp.assert_header("referrer-policy", "no-referrer");
    assert_eq!(
        html(resp).await,
        "<p>Example.org: o&#39;hara@example.org | Your email address o&#39;hara@example.org is \
         verified. Return to your Matrix client to finish.</p>"
    );
}

#[tokio::test]
async fn the_operators_failure_page_is_served_with_the_status_of_the_failure() {
    let views = Views {
        token_failure: page("<p>Sorry: %MESSAGE%</p>"),
        ..Views::default()
    };
    let mut validation = MockValidation::new();
    validation
        .expect_submit_token()
        .returning(|_| Err(ValidationError::SessionExpired));
    let resp = app(views.clone(), validation, None).get(LINK).send().await;
    resp.assert_status(StatusCode::BAD_REQUEST);
    assert_eq!(
        html(resp).await,
        "<p>Sorry: This link has expired. Request a new verification message from your Matrix \
         client.</p>"
    );
    // A damaged link never reaches the use case and gets the same page.
    let resp = app(views, MockValidation::new(), None)
        .get("/_matrix/identity/api/v1/validate/email/submitToken?sid=s1")
        .send()
        .await;
    resp.assert_status(StatusCode::BAD_REQUEST);
    assert!(
        html(resp)
            .await
            .starts_with("<p>Sorry: This link is incomplete")
    );
}

#[tokio::test]
async fn pages_replaced_after_the_app_was_built_are_served_from_the_next_request_with_their_policy()
{
    let views = Arc::new(SharedViews::default());
    let mut validation = MockValidation::new();
    validation
        .expect_submit_token()
        .returning(|_| Err(ValidationError::SessionExpired));
    let app = app_over(views.clone(), validation, None);
    let resp = app.get(LINK).send().await;
    let policy = resp.0.headers()["content-security-policy"].clone();
    assert!(html(resp).await.contains("This link has expired"));

    views.replace(Views {
        domain: "example.org".into(),
        token_failure: page("<p>Reloaded: %MESSAGE%</p>"),
        ..Views::default()
    });
    let resp = app.get(LINK).send().await;
    let reloaded = resp.0.headers()["content-security-policy"].clone();
    assert!(
        html(resp)
            .await
            .starts_with("<p>Reloaded: This link has expired")
    );
    // The operator's page may load its styles and images; the built-in one could not.
    assert_ne!(policy, reloaded);
    assert!(reloaded.to_str().unwrap().contains("'unsafe-inline'"));
}

#[tokio::test]
async fn without_operator_pages_the_built_in_pages_are_served() {
    let views = Views {
        token_failure: page("custom failure"),
        ..Views::default()
    };
    let resp = app(
        views,
        accepting("alice@example.org", SessionMode::Local),
        None,
    )
    .get(LINK)
    .send()
    .await;
    resp.assert_status_is_ok();
    let body = html(resp).await;
    assert!(body.contains("Verification successful"), "{body}");
    assert!(
        body.contains("<meta name=\"referrer\" content=\"no-referrer\">"),
        "{body}"
    );
}

#[tokio::test]
async fn an_offered_remote_step_gets_the_mxisd_local_remote_page_with_its_link() {
    let offer = SessionMode::LocalOfferRemote(central());
    let views = Views {
        token_success: page("plain"),
        offer_success: page("<a href=\"${remoteSessionLink}\">publish</a>"),
        ..Views::default()
    };
    let resp = app(
        views,
        accepting("bob@gmail.com", offer.clone()),
        Some(MockRemoteSessions::new()),
    )
    .get(LINK)
    .send()
    .await;
    assert_eq!(
        html(resp).await,
        format!("<a href=\"{REMOTE}/requestToken?sid=s1&amp;client_secret=c1\">publish</a>")
    );
    // Without the mxisd 1.2 page the success page serves the offer too, with its placeholder.
    let views = Views {
        token_success: page("[%REMOTE_SESSION_LINK%]"),
        ..Views::default()
    };
    let resp = app(
        views.clone(),
        accepting("bob@gmail.com", offer),
        Some(MockRemoteSessions::new()),
    )
    .get(LINK)
    .send()
    .await;
    assert!(
        html(resp)
            .await
            .starts_with(&format!("[{REMOTE}/requestToken?"))
    );
    // No offer: the placeholder is empty.
    let resp = app(views, accepting("bob@gmail.com", SessionMode::Local), None)
        .get(LINK)
        .send()
        .await;
    assert_eq!(html(resp).await, "[]");
}

fn overview(validated: bool) -> RemoteOverview {
    RemoteOverview {
        threepid: threepid("bob@gmail.com"),
        server: central(),
        host: "id.example".into(),
        forced: false,
        started: true,
        validated,
        published: false,
    }
}

fn remote_views() -> Views {
    Views {
        request_success: page("started on %REMOTE_SERVER%: <a href=\"${checkLink}\">check</a>"),
        request_failure: page("start failed: %MESSAGE%"),
        check_success: page("confirmed: %MESSAGE%"),
        check_failure: page("not yet: <a href=\"%CHECK_LINK%\">again</a>"),
        ..Views::default()
    }
}

#[tokio::test]
async fn the_remote_steps_get_the_mxisd_remote_pages_with_their_links() {
    let query = "sid=s1&client_secret=c1";
    let mut remote = MockRemoteSessions::new();
    remote.expect_start().returning(|_, _| Ok(overview(false)));
    let resp = app(remote_views(), MockValidation::new(), Some(remote))
        .post(format!("{REMOTE}/requestToken?{query}"))
        .send()
        .await;
    resp.assert_status_is_ok();
    assert_eq!(
        html(resp).await,
        format!(
            "started on id.example: <a href=\"{REMOTE}/check?sid=s1&amp;client_secret=c1\">check</a>"
        )
    );
    for (validated, expected) in [
        (
            true,
            "confirmed: id.example confirmed your email address bob@gmail.com. Return to your \
             Matrix client to finish."
                .to_owned(),
        ),
        (
            false,
            format!("not yet: <a href=\"{REMOTE}/check?sid=s1&amp;client_secret=c1\">again</a>"),
        ),
    ] {
        let mut remote = MockRemoteSessions::new();
        remote
            .expect_check()
            .returning(move |_, _| Ok(overview(validated)));
        let resp = app(remote_views(), MockValidation::new(), Some(remote))
            .get(format!("{REMOTE}/check?{query}"))
            .send()
            .await;
        resp.assert_status_is_ok();
        assert_eq!(html(resp).await, expected);
    }
}

#[tokio::test]
async fn a_failed_remote_start_gets_the_request_failure_page_and_keeps_its_status() {
    let mut remote = MockRemoteSessions::new();
    remote.expect_start().returning(|_, _| {
        Err(RemoteSessionError::Remote(RemoteFailure::Unavailable(
            central(),
        )))
    });
    let resp = app(remote_views(), MockValidation::new(), Some(remote))
        .post(format!("{REMOTE}/requestToken?sid=s1&client_secret=c1"))
        .send()
        .await;
    resp.assert_status(StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        html(resp)
            .await
            .starts_with("start failed: The other identity server cannot be reached.")
    );
}

#[tokio::test]
async fn the_explanation_page_has_no_mxisd_key_and_stays_built_in() {
    let mut remote = MockRemoteSessions::new();
    remote
        .expect_explain()
        .returning(|_, _| Ok(overview(false)));
    let resp = app(remote_views(), MockValidation::new(), Some(remote))
        .get(format!("{REMOTE}/requestToken?sid=s1&client_secret=c1"))
        .send()
        .await;
    resp.assert_status_is_ok();
    let body = html(resp).await;
    assert!(body.contains("Publish on id.example"), "{body}");
}
