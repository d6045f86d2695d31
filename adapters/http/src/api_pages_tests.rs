//! The link page and accounts.
use super::*;

fn accepted(next_link: Option<&str>, mode: SessionMode) -> TokenAccepted {
    TokenAccepted {
        threepid: requested().threepid,
        mode,
        next_link: next_link.map(str::to_owned),
        remote_code_from: None,
    }
}

async fn html(resp: poem::test::TestResponse) -> String {
    resp.0.into_body().into_string().await.unwrap()
}

const LINK: &str = "/_matrix/identity/v2/validate/email/submitToken?sid=s&client_secret=c&token=t";

#[tokio::test]
async fn the_link_works_without_an_access_token_and_shows_a_success_page() {
    let mut validation = MockValidation::new();
    validation
        .expect_submit_token()
        .returning(|_| Ok(accepted(None, SessionMode::Local)));
    let resp = client(MockAccounts::new(), validation, &[])
        .get(LINK)
        .send()
        .await;
    resp.assert_status_is_ok();
    resp.assert_content_type("text/html; charset=utf-8");
    let page = html(resp).await;
    assert!(
        page.contains("Verification successful") && page.contains("alice@example.org"),
        "{page}"
    );
}

#[tokio::test]
async fn an_allowed_next_link_is_followed_and_any_other_is_not() {
    for (link, allowed, redirected) in [
        (
            "https://app.element.io/#/done",
            &["https://app.element.io/"][..],
            true,
        ),
        (
            "https://evil.example/phish",
            &["https://app.element.io/"][..],
            false,
        ),
        ("https://app.element.io/#/done", &[][..], false),
    ] {
        let mut validation = MockValidation::new();
        validation
            .expect_submit_token()
            .returning(move |_| Ok(accepted(Some(link), SessionMode::Local)));
        let resp = client(MockAccounts::new(), validation, allowed)
            .get(LINK)
            .send()
            .await;
        if redirected {
            resp.assert_status(StatusCode::FOUND);
            resp.assert_header("location", link);
        } else {
            resp.assert_status_is_ok();
        }
    }
}

#[tokio::test]
async fn each_failure_has_its_own_page_and_status() {
    let cases: Vec<ErrorCase> = vec![
        (
            || ValidationError::SessionExpired,
            StatusCode::BAD_REQUEST,
            "expired",
        ),
        (
            || ValidationError::TokenIncorrect,
            StatusCode::BAD_REQUEST,
            "not valid",
        ),
        (
            || ValidationError::NoValidSession,
            StatusCode::NOT_FOUND,
            "does not match",
        ),
        (
            || ValidationError::TooManyAttempts,
            StatusCode::BAD_REQUEST,
            "Too many attempts",
        ),
        (
            || ValidationError::Refused(RefusalReason::Disabled),
            StatusCode::FORBIDDEN,
            "does not allow",
        ),
    ];
    for (error, status, words) in cases {
        let mut validation = MockValidation::new();
        validation
            .expect_submit_token()
            .returning(move |_| Err(error()));
        let resp = client(MockAccounts::new(), validation, &[])
            .get(LINK)
            .send()
            .await;
        assert_eq!(resp.0.status(), status, "{words}");
        let page = html(resp).await;
        assert!(
            page.contains("Verification failed") && page.contains(words),
            "{page}"
        );
    }
}

#[tokio::test]
async fn a_damaged_link_is_refused_without_asking_the_use_case() {
    let mut validation = MockValidation::new();
    validation.expect_submit_token().never();
    let cli = client(MockAccounts::new(), validation, &[]);
    for link in [
        "/_matrix/identity/v2/validate/email/submitToken",
        "/_matrix/identity/v2/validate/email/submitToken?sid=a%20b&client_secret=c&token=t",
    ] {
        cli.get(link)
            .send()
            .await
            .assert_status(StatusCode::BAD_REQUEST);
    }
}

#[tokio::test]
async fn a_remote_only_session_page_explains_where_the_address_goes() {
    let mut validation = MockValidation::new();
    let label = ServerLabel::parse("central").unwrap();
    validation
        .expect_submit_token()
        .returning(move |_| Ok(accepted(None, SessionMode::RemotePending(label.clone()))));
    let page = html(
        client(MockAccounts::new(), validation, &[])
            .get(LINK)
            .send()
            .await,
    )
    .await;
    assert!(
        page.contains("central") && page.contains("publicly"),
        "{page}"
    );
}

#[tokio::test]
async fn values_shown_on_the_page_are_escaped() {
    let mut validation = MockValidation::new();
    validation.expect_submit_token().returning(|_| {
        let threepid = ThreePid::parse(
            Medium::parse("custom").unwrap(),
            "<script>alert(1)</script>",
        )
        .unwrap();
        Ok(TokenAccepted {
            threepid,
            mode: SessionMode::Local,
            next_link: None,
            remote_code_from: None,
        })
    });
    let page = html(
        client(MockAccounts::new(), validation, &[])
            .get(LINK)
            .send()
            .await,
    )
    .await;
    assert!(
        !page.contains("<script>alert") && page.contains("&lt;script&gt;"),
        "{page}"
    );
}

#[tokio::test]
async fn register_returns_the_token_as_token_and_access_token() {
    let mut accounts = MockAccounts::new();
    accounts
        .expect_register()
        .withf(|r| r.matrix_server_name == "example.org" && r.access_token.expose() == "openid")
        .returning(|_| Ok(AccessToken::parse("issued").unwrap()));
    let resp = client(accounts, MockValidation::new(), &[])
        .post("/_matrix/identity/v2/account/register")
        .body_json(&json!({"access_token": "openid", "token_type": "Bearer", "matrix_server_name": "example.org", "expires_in": 3600}))
        .send()
        .await;
    resp.assert_status_is_ok();
    assert_eq!(
        body(resp).await,
        json!({"token": "issued", "access_token": "issued"})
    );
}

#[tokio::test]
async fn logout_of_an_unknown_token_is_401_m_unknown_token() {
    let mut accounts = MockAccounts::new();
    accounts
        .expect_logout()
        .returning(|_| Err(AuthError::Unauthorized));
    let resp = client(accounts, MockValidation::new(), &[])
        .post("/_matrix/identity/v2/account/logout")
        .header("Authorization", "Bearer gone")
        .send()
        .await;
    resp.assert_status(StatusCode::UNAUTHORIZED);
    assert_eq!(body(resp).await["errcode"], "M_UNKNOWN_TOKEN");
}

#[tokio::test]
async fn account_is_terms_gated_as_sydent_does() {
    let mut accounts = MockAccounts::new();
    accounts
        .expect_authenticate()
        .returning(|_, require_terms| {
            assert!(
                require_terms,
                "GET /account tells a client that terms must be accepted"
            );
            Ok(UserId::parse("@alice:example.org").unwrap())
        });
    let resp = client(accounts, MockValidation::new(), &[])
        .get("/_matrix/identity/v2/account")
        .header("Authorization", "Bearer good")
        .send()
        .await;
    assert_eq!(body(resp).await, json!({"user_id": "@alice:example.org"}));
}
