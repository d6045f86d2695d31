//! `server.publicUrl` with a path (`http://localhost/identity`): Verity is reached only through a
//! reverse proxy that serves it under `/identity` and strips that prefix, as operators run it. The
//! browser goes through the proxy alone, so every link, form and redirect Verity makes (the
//! email's link, the forced remote step's redirect, the pages' forms and links) must carry the
//! path, or the proxy answers 404.
use std::time::Duration;

use pretty_assertions::assert_eq;
use verity_tests::{PathProxy, first_link};

use crate::remote_sessions::{SECRET, bind, follow_mail, owner, request, world};

const PUBLIC_URL: &str = "http://localhost/identity";
const REMOTE_PAGES: &str = "http://localhost/identity/_matrix/identity/remote/api/v1/validate";
const WAIT: Duration = Duration::from_secs(10);

/// Every `href` and `action` of `html`, unescaped.
fn targets(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for attribute in ["href=\"", "action=\""] {
        let mut rest = html;
        while let Some(at) = rest.find(attribute) {
            rest = &rest[at + attribute.len()..];
            let end = rest.find('"').expect("end of the attribute");
            found.push(rest[..end].replace("&amp;", "&"));
        }
    }
    found
}

/// The first of `html`'s targets that starts with `prefix`.
fn target(html: &str, prefix: &str) -> String {
    targets(html)
        .into_iter()
        .find(|t| t.starts_with(prefix))
        .unwrap_or_else(|| panic!("no link to {prefix} in {html}"))
}

#[tokio::test]
async fn behind_a_proxy_path_the_remote_step_runs_through_links_that_keep_the_path() {
    let w = world(&format!("server:\n  publicUrl: '{PUBLIC_URL}'\n")).await;
    let proxy = PathProxy::start("/identity", w.local.address).await;
    let browser = reqwest::Client::builder()
        .proxy(reqwest::Proxy::http(proxy.url()).unwrap())
        .build()
        .unwrap();

    // The homeserver asks for a session; the email's link carries the path.
    let sid = request(&w.local, "bob@gmail.com").await.expect("a session");
    let mail = w.peers.smtp.wait_for_mail(WAIT).await.expect("the email");
    let link = first_link(&mail.parse().text.unwrap_or_default()).expect("a link");
    assert!(
        link.starts_with(&format!(
            "{PUBLIC_URL}/_matrix/identity/v2/validate/email/submitToken?"
        )),
        "{link}"
    );

    // The link redirects to the remote step, under the path too.
    let explained = browser.get(&link).send().await.unwrap();
    assert_eq!(explained.status(), 200);
    let landed = explained.url().to_string();
    assert!(
        landed.starts_with(&format!("{REMOTE_PAGES}/requestToken?sid={sid}&")),
        "{landed}"
    );
    let html = explained.text().await.unwrap();
    assert!(html.contains("Publish on"), "{html}");
    for found in targets(&html) {
        assert!(found.starts_with(PUBLIC_URL), "{found} in {html}");
    }

    // The page's button starts the remote session; the next page's check form keeps the path.
    let start = target(&html, &format!("{REMOTE_PAGES}/requestToken"));
    let started = browser
        .post(&start)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("")
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), 200);
    let html = started.text().await.unwrap();
    assert!(html.contains("Check your inbox"), "{html}");
    // A GET form: the browser sends its hidden sid and client_secret as the query.
    let check = format!(
        "{}?sid={sid}&client_secret={SECRET}",
        target(&html, &format!("{REMOTE_PAGES}/check"))
    );
    for found in targets(&html) {
        assert!(found.starts_with(PUBLIC_URL), "{found} in {html}");
    }

    // Bob confirms on central, comes back through the proxy, and the bind lands on central.
    let at_central = follow_mail(&w.central, &w.central_peers, "bob@gmail.com").await;
    assert!(
        at_central.html.contains("is verified"),
        "{}",
        at_central.html
    );
    let checked = browser.get(&check).send().await.unwrap();
    assert_eq!(checked.status(), 200);
    let html = checked.text().await.unwrap();
    assert!(html.contains("confirmed your email address"), "{html}");
    bind(&w.local, &sid, "@bob:example.org")
        .await
        .expect("bound");
    assert_eq!(
        owner(&w.central, "email", "bob@gmail.com").await.as_deref(),
        Some("@bob:example.org")
    );

    // What is not under the path never reaches Verity.
    let outside = browser
        .get("http://localhost/_matrix/identity/v2")
        .send()
        .await
        .unwrap();
    assert_eq!(outside.status(), 404);
}
