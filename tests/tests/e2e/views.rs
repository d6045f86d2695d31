//! The operator's own pages (`view.*`), served by the real server on the emailed link and on the
//! remote step, as a browser meets them.
use pretty_assertions::assert_eq;
use tempfile::TempDir;
use verity_tests::{Backend, Peers, spawn_app_with};

use crate::remote_sessions::{
    SECRET, World, central_host, check, explanation, follow_mail, get, link_to, post, request,
    world,
};

/// Writes each `(name, html)` page into a fresh directory; `DIR` in `yaml` becomes its path.
fn pages(files: &[(&str, &str)], yaml: &str) -> (TempDir, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, html) in files {
        std::fs::write(dir.path().join(name), html).expect("page written");
    }
    let yaml = yaml.replace("DIR", &dir.path().display().to_string());
    (dir, yaml)
}

#[tokio::test]
async fn the_emailed_link_shows_the_operators_pages_with_escaped_values() {
    let (_dir, yaml) = pages(
        &[
            (
                "ok.html",
                "<!DOCTYPE html><title>ACME</title><h1>%DOMAIN_PRETTY%</h1><p id=who>%RECIPIENT_ADDRESS%</p><p>%MESSAGE%</p>",
            ),
            ("ko.html", "<p class=acme-failure>%MESSAGE%</p>"),
        ],
        "
view:
  session:
    onTokenSubmit:
      success: DIR/ok.html
      failure: DIR/ko.html
",
    );
    let peers = Peers::start().await;
    let app = spawn_app_with(Backend::Sqlite, &format!("{}{yaml}", peers.yaml())).await;
    let address = "o'hara@example.org";
    let sid = request(&app, address).await.expect("a session");

    let page = follow_mail(&app, &peers, address).await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert_eq!(
        page.html,
        "<!DOCTYPE html><title>ACME</title><h1>Example.org</h1><p id=who>o&#39;hara@example.org</p>\
         <p>Your email address o&#39;hara@example.org is verified. Return to your Matrix client \
         to finish.</p>"
    );

    // A wrong token gets the operator's failure page, with the failure's own status.
    let wrong = format!(
        "/_matrix/identity/api/v1/validate/email/submitToken?sid={sid}&client_secret={SECRET}\
         &token=wrong"
    );
    let resp = app.http.get(app.url(&wrong)).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    assert_eq!(resp.headers()["referrer-policy"], "no-referrer");
    assert_eq!(
        resp.text().await.unwrap(),
        "<p class=acme-failure>This link is not valid. Request a new verification message from \
         your Matrix client.</p>"
    );
}

#[tokio::test]
async fn a_sydent_verify_response_template_serves_both_outcomes() {
    let (_dir, yaml) = pages(
        &[(
            "verify_response_template.html",
            "<div style=\"width:100%%\">%(message)s</div>",
        )],
        "view: {verify_response_template: DIR/verify_response_template.html}\n",
    );
    let peers = Peers::start().await;
    let app = spawn_app_with(Backend::Sqlite, &format!("{}{yaml}", peers.yaml())).await;
    request(&app, "bob@example.org").await.expect("a session");
    let page = follow_mail(&app, &peers, "bob@example.org").await;
    assert_eq!(
        page.html,
        "<div style=\"width:100%\">Your email address bob@example.org is verified. Return to your \
         Matrix client to finish.</div>"
    );
    let damaged = get(
        &app,
        "/_matrix/identity/v2/validate/email/submitToken?sid=x",
    )
    .await;
    assert_eq!(damaged.status, 400);
    assert!(
        damaged
            .html
            .starts_with("<div style=\"width:100%\">This link is incomplete or damaged."),
        "{}",
        damaged.html
    );
}

const MXISD_1_2: &str = "
view:
  session:
    local:
      onTokenSubmit: {success: DIR/local.html}
    localRemote:
      onTokenSubmit: {success: DIR/offer.html}
    remote:
      onRequest: {success: DIR/requested.html}
      onCheck: {success: DIR/checked.html, failure: DIR/not-yet.html}
";

/// A link on a page, as a path: the links may be absolute, built from `server.publicUrl`
/// (`http://localhost` in the tests).
fn on_this_server(link: &str) -> String {
    link.trim_start_matches("http://localhost").to_owned()
}

/// The local server with mxisd 1.2's default page names, each page saying which it is.
async fn mxisd_world() -> (TempDir, World) {
    let (dir, yaml) = pages(
        &[
            ("local.html", "LOCAL %MESSAGE%"),
            (
                "offer.html",
                "OFFER <a href=\"${remoteSessionLink}\">make me globally discoverable</a>",
            ),
            (
                "requested.html",
                "REQUESTED at %REMOTE_SERVER% <a href=\"${checkLink}\">done</a>",
            ),
            ("checked.html", "CHECKED %MESSAGE%"),
            ("not-yet.html", "NOT YET <a href=\"%CHECK_LINK%\">again</a>"),
        ],
        MXISD_1_2,
    );
    (dir, world(&yaml).await)
}

#[tokio::test]
async fn mxisd_1_2_pages_lead_through_the_offered_remote_step() {
    let (_dir, w) = mxisd_world().await;
    let sid = request(&w.local, "carol@example.org")
        .await
        .expect("a session");

    // The link: the offer page, its link leading to the remote step.
    let offered = follow_mail(&w.local, &w.peers, "carol@example.org").await;
    assert!(offered.html.starts_with("OFFER "), "{}", offered.html);
    let start = on_this_server(&link_to(&offered.html, "/_matrix/identity/remote/api/v1/"));
    assert_eq!(start, explanation(&sid));

    // The explanation has no mxisd page; starting gets the operator's page and its check link.
    let explained = get(&w.local, &start).await;
    assert!(explained.html.contains("Publish on"), "{}", explained.html);
    let requested = post(&w.local, &start).await;
    assert_eq!(requested.status, 200, "{}", requested.html);
    assert!(
        requested
            .html
            .starts_with(&format!("REQUESTED at {} ", central_host(&w))),
        "{}",
        requested.html
    );
    let check_link = on_this_server(&link_to(
        &requested.html,
        "/_matrix/identity/remote/api/v1/",
    ));
    assert_eq!(check_link, check(&sid));

    // Not confirmed on central yet, then confirmed.
    let not_yet = get(&w.local, &check_link).await;
    assert!(not_yet.html.starts_with("NOT YET "), "{}", not_yet.html);
    follow_mail(&w.central, &w.central_peers, "carol@example.org").await;
    let checked = get(&w.local, &check_link).await;
    assert_eq!(
        checked.html,
        format!(
            "CHECKED {} confirmed your email address carol@example.org. Return to your Matrix \
             client to finish.",
            central_host(&w)
        )
    );
}
