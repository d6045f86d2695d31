//! The validation pages in headless Chromium: the emailed link, the `next_link` redirect and the
//! remote step's form, each under the Content-Security-Policy Verity sends, with no violation in
//! the browser's console. See `browser.rs` for when these run.
use std::time::Duration;

use fantoccini::Locator;
use serde_json::json;
use verity_tests::client::types;
use verity_tests::{Backend, Peers, TestApp, spawn_app_with};

use crate::browser::{self, Browser, CLIENT_HOST, VERITY_HOST};

const WAIT: Duration = Duration::from_secs(10);
const SECRET: &str = "browserSecret";

/// requestToken for `email` (v1, as a homeserver asks), optionally with a `next_link`.
async fn request(app: &TestApp, email: &str, next_link: Option<&str>) {
    app.client
        .email_request_token_v1(&types::EmailTokenRequest {
            client_secret: SECRET.into(),
            email: email.into(),
            send_attempt: "1".into(),
            next_link: next_link.map(str::to_owned),
        })
        .await
        .expect("a session");
}

/// The link of the next email to `email`, as the user's mail client shows it.
async fn mailed_link(peers: &Peers, email: &str) -> String {
    let mail = peers.smtp.wait_for_mail(WAIT).await.expect("a message");
    assert_eq!(mail.to, vec![email.to_owned()]);
    let text = mail.parse().text.unwrap_or_default();
    let link = verity_tests::first_link(&text).expect("a link").to_owned();
    assert!(
        link.starts_with(&format!("http://{VERITY_HOST}/")),
        "{link}"
    );
    link
}

async fn assert_no_violation(browser: &Browser, step: &str) {
    let violations = browser.csp_violations().await;
    assert!(violations.is_empty(), "{step}: {violations:#?}");
}

#[tokio::test]
async fn the_emailed_link_redirects_to_next_link_in_a_browser_without_a_csp_violation() {
    let peers = Peers::start().await;
    let app = spawn_app_with(
        Backend::Sqlite,
        &format!(
            "{}\nserver:\n  publicUrl: 'http://{VERITY_HOST}'\nsession:\n  nextLink:\n    allowed: ['http://{CLIENT_HOST}/']\n",
            peers.yaml()
        ),
    )
    .await;
    let Some(browser) =
        browser::start(&[(VERITY_HOST, app.address), (CLIENT_HOST, app.address)]).await
    else {
        return;
    };
    let next = format!("http://{CLIENT_HOST}/_matrix/identity/v2");
    request(&app, "nina@example.org", Some(&next)).await;
    let link = mailed_link(&peers, "nina@example.org").await;

    browser.client.goto(&link).await.expect("the link opens");
    let landed = browser.client.current_url().await.expect("a URL");
    assert_eq!(landed.as_str(), next);
    assert_no_violation(&browser, "the link and its redirect").await;
    browser.close().await;
}

#[tokio::test]
async fn the_remote_step_form_posts_in_a_browser_without_a_csp_violation() {
    let central_peers = Peers::start().await;
    let central = spawn_app_with(
        Backend::Sqlite,
        &format!(
            "{}\nserver:\n  name: central.example\n",
            central_peers.yaml()
        ),
    )
    .await;
    let peers = Peers::start().await;
    let local = spawn_app_with(
        Backend::Sqlite,
        &format!(
            "{}\nserver:\n  publicUrl: 'http://{VERITY_HOST}'\nmatrix:\n  identity:\n    servers:\n      root: ['{}']\n",
            peers.yaml(),
            central.base_url
        ),
    )
    .await;
    let Some(browser) = browser::start(&[(VERITY_HOST, local.address)]).await else {
        return;
    };
    request(&local, "otto@example.org", None).await;
    let link = mailed_link(&peers, "otto@example.org").await;

    // The built-in success page (its inline style allowed by hash), then its offer.
    browser.client.goto(&link).await.expect("the link opens");
    let source = browser.client.source().await.expect("the page");
    assert!(source.contains("is verified"), "{source}");
    browser
        .client
        .find(Locator::Css(
            "a[href*='/remote/api/v1/validate/requestToken']",
        ))
        .await
        .expect("the offer")
        .click()
        .await
        .expect("followed");
    // The explanation page's button POSTs its form (form-action 'self').
    browser
        .client
        .wait()
        .for_element(Locator::Css("form[method='post'] button"))
        .await
        .expect("the button")
        .click()
        .await
        .expect("pressed");
    browser
        .client
        .wait()
        .for_element(Locator::XPath("//*[contains(text(), 'Check your inbox')]"))
        .await
        .expect("the started page");
    assert!(
        central_peers.smtp.wait_for_mail(WAIT).await.is_some(),
        "central mailed the user: the form's POST reached Verity"
    );
    assert_no_violation(&browser, "the success, explanation and started pages").await;

    // The console does report a violation when there is one: a style the policy does not name.
    browser
        .client
        .execute(
            "const s = document.createElement('style'); s.textContent = 'p{color:red}'; \
             document.head.appendChild(s);",
            vec![json!(null)],
        )
        .await
        .expect("script run");
    let mut seen = Vec::new();
    // The report reaches the log asynchronously; polled until it is there.
    for _ in 0..50 {
        seen = browser.csp_violations().await;
        if !seen.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!seen.is_empty(), "an injected style is reported");
    browser.close().await;
}
