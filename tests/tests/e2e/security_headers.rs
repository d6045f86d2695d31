//! The security headers as the real server sends them, on the page an emailed link opens and on
//! JSON answers (the browser's view of the same pages is in `pages_in_browser.rs`).
use std::time::Duration;

use pretty_assertions::assert_eq;
use verity_tests::client::types;
use verity_tests::{Backend, Peers, spawn_app_with};

fn header<'a>(resp: &'a reqwest::Response, name: &str) -> &'a str {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no {name} header"))
}

fn assert_hardened(resp: &reqwest::Response) {
    assert_eq!(header(resp, "x-frame-options"), "DENY");
    assert_eq!(header(resp, "x-content-type-options"), "nosniff");
    assert_eq!(header(resp, "referrer-policy"), "no-referrer");
    assert_eq!(header(resp, "cache-control"), "no-store");
    let csp = header(resp, "content-security-policy");
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(
        !csp.contains("script-src") || csp.contains("script-src 'none'"),
        "{csp}"
    );
}

#[tokio::test]
async fn the_link_page_and_json_answers_are_not_framed_sniffed_cached_or_scripted() {
    let peers = Peers::start().await;
    let app = spawn_app_with(Backend::Sqlite, &peers.yaml()).await;
    let requested = app
        .http
        .post(app.url("/_matrix/identity/api/v1/validate/email/requestToken"))
        .json(&types::EmailTokenRequest {
            client_secret: "headersSecret".into(),
            email: "hilda@example.org".into(),
            send_attempt: "1".into(),
            next_link: None,
        })
        .send()
        .await
        .unwrap();
    assert_eq!(requested.status(), 200);
    // The answer carries the sid: JSON gets the same headers and the API policy.
    assert_hardened(&requested);
    assert!(header(&requested, "content-security-policy").contains("form-action 'none'"));

    let mail = peers
        .smtp
        .wait_for_mail(Duration::from_secs(10))
        .await
        .expect("a message");
    let text = mail.parse().text.unwrap_or_default();
    let link = verity_tests::first_link(&text).expect("a link").to_owned();
    let page = app.http.get(app.url(&link)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(header(&page, "content-type").starts_with("text/html"));
    assert_hardened(&page);
    let csp = header(&page, "content-security-policy");
    assert!(csp.contains("style-src 'sha256-"), "{csp}");
    assert!(csp.contains("form-action 'self'"), "{csp}");

    let missing = app
        .http
        .get(app.url("/_matrix/identity/v2/nothing"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert_hardened(&missing);
}
