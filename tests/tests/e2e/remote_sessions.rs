//! Remote sessions end to end: two real Verity instances, "central" (a plain identity server that
//! validates everything itself) and the local one, whose policy publishes some 3PIDs on central
//! (label `root`, pointed at central). The user follows the emails and pages as a browser would
//! (plain HTTP); the homeserver binds through the generated client; lookups at both servers show
//! where the binding landed, and where it did not.
use serde_json::Value;
use verity_tests::client::types;
use verity_tests::{Backend, PUBLIC_URL, Peers, TestApp, spawn_app_with};

const WAIT: std::time::Duration = std::time::Duration::from_secs(10);
pub(crate) const SECRET: &str = "remoteScenario";
const CENTRAL_NAME: &str = "central.example";

/// Central validates every 3PID itself and publishes nothing elsewhere.
const CENTRAL: &str = "
server:
  name: central.example
session:
  policy:
    validation:
      forLocal:
        toLocal: true
        toRemote:
          enabled: false
      forRemote:
        toLocal: true
        toRemote:
          enabled: false
";

pub(crate) const LOCAL_ONLY: &str = "
session:
  policy:
    validation:
      forLocal:
        toLocal: true
        toRemote:
          enabled: false
      forRemote:
        toLocal: true
        toRemote:
          enabled: false
";

pub(crate) const REMOTE_ONLY: &str = "
session:
  policy:
    validation:
      forLocal:
        toLocal: false
        toRemote:
          enabled: true
      forRemote:
        toLocal: false
        toRemote:
          enabled: true
";

pub(crate) const DISABLED: &str = "
session:
  policy:
    validation:
      enabled: false
";

/// Both servers and their peers (each its own mailbox and SMS gateway).
pub(crate) struct World {
    pub(crate) central: TestApp,
    pub(crate) central_peers: Peers,
    pub(crate) local: TestApp,
    pub(crate) peers: Peers,
}

/// Central, and the local server with `policy`, its `root` label pointing at `central_url`
/// (central itself when `None`).
pub(crate) async fn world_with(policy: &str, central_url: Option<&str>) -> World {
    world_on(Backend::Sqlite, policy, central_url).await
}

/// As [`world_with`], the local server on `backend`.
pub(crate) async fn world_on(backend: Backend, policy: &str, central_url: Option<&str>) -> World {
    let central_peers = Peers::start().await;
    let central = spawn_app_with(
        Backend::Sqlite,
        &format!("{}{CENTRAL}", central_peers.yaml()),
    )
    .await;
    let peers = Peers::start().await;
    let url = central_url.map_or_else(|| central.base_url.clone(), str::to_owned);
    let local = spawn_app_with(
        backend,
        &format!(
            "{}\nmatrix:\n  identity:\n    servers:\n      root: ['{url}']\n{policy}",
            peers.yaml()
        ),
    )
    .await;
    World {
        central,
        central_peers,
        local,
        peers,
    }
}

pub(crate) async fn world(policy: &str) -> World {
    world_with(policy, None).await
}

/// requestToken at the local server over v1, as the homeserver does for its user.
pub(crate) async fn request(app: &TestApp, email: &str) -> Result<String, u16> {
    let body = types::EmailTokenRequest {
        client_secret: SECRET.into(),
        email: email.into(),
        send_attempt: "1".into(),
        next_link: None,
    };
    match app.client.email_request_token_v1(&body).await {
        Ok(ok) => Ok(ok.into_inner().sid),
        Err(verity_tests::client::Error::ErrorResponse(e)) => Err(e.status().as_u16()),
        Err(other) => panic!("{other}"),
    }
}

/// A page as a browser gets it (redirects followed): final path, status and HTML.
pub(crate) struct Page {
    pub(crate) path: String,
    pub(crate) status: u16,
    pub(crate) html: String,
}

pub(crate) async fn get(app: &TestApp, path: &str) -> Page {
    let resp = app.http.get(app.url(path)).send().await.unwrap();
    page(resp).await
}

pub(crate) async fn post(app: &TestApp, path: &str) -> Page {
    let resp = app
        .http
        .post(app.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("")
        .send()
        .await
        .unwrap();
    page(resp).await
}

async fn page(resp: reqwest::Response) -> Page {
    let path = format!(
        "{}?{}",
        resp.url().path(),
        resp.url().query().unwrap_or_default()
    );
    let status = resp.status().as_u16();
    Page {
        path,
        status,
        html: resp.text().await.unwrap(),
    }
}

/// Follows the link of the next email in `peers`' mailbox to `to`, at `app`.
pub(crate) async fn follow_mail(app: &TestApp, peers: &Peers, to: &str) -> Page {
    let mail = peers.smtp.wait_for_mail(WAIT).await.expect("a message");
    assert_eq!(mail.to, vec![to.to_owned()]);
    let text = mail.parse().text.unwrap_or_default();
    let link = verity_tests::first_link(&text).expect("a link");
    get(app, link.trim_start_matches("http://localhost")).await
}

/// The href of the first link or form action on `html` that goes to `path_part`, as a path on
/// this server when it is under `server.publicUrl` (as Verity builds its links).
pub(crate) fn link_to(html: &str, path_part: &str) -> String {
    let start = html.find(path_part).expect("the link is on the page");
    let before = &html[..start];
    let quote = before.rfind('"').expect("an attribute");
    let end = start + html[start..].find('"').expect("end of the attribute");
    let link = html[quote + 1..end].replace("&amp;", "&");
    link.strip_prefix(PUBLIC_URL)
        .map_or_else(|| link.clone(), str::to_owned)
}

pub(crate) fn explanation(sid: &str) -> String {
    format!(
        "/_matrix/identity/remote/api/v1/validate/requestToken?sid={sid}&client_secret={SECRET}"
    )
}

pub(crate) fn check(sid: &str) -> String {
    format!("/_matrix/identity/remote/api/v1/validate/check?sid={sid}&client_secret={SECRET}")
}

/// The homeserver's v1 bind at the local server: the association, or the status and errcode.
pub(crate) async fn bind(app: &TestApp, sid: &str, mxid: &str) -> Result<Value, (u16, String)> {
    let body = types::BindRequest {
        sid: sid.into(),
        client_secret: SECRET.into(),
        mxid: mxid.into(),
    };
    match app.client.bind_v1(&body).await {
        Ok(ok) => Ok(serde_json::to_value(ok.into_inner()).unwrap()),
        Err(verity_tests::client::Error::ErrorResponse(e)) => {
            Err((e.status().as_u16(), e.into_inner().errcode))
        }
        Err(other) => panic!("{other}"),
    }
}

/// Who `app` says owns the email (v1 lookup), if anyone.
pub(crate) async fn owner(app: &TestApp, medium: &str, address: &str) -> Option<String> {
    let answer = app
        .client
        .lookup_v1(address, medium)
        .await
        .expect("v1 lookup")
        .into_inner();
    serde_json::to_value(answer).unwrap()["mxid"]
        .as_str()
        .map(str::to_owned)
}

fn signed_by(association: &Value) -> Vec<String> {
    association["signatures"]
        .as_object()
        .map(|s| s.keys().cloned().collect())
        .unwrap_or_default()
}

/// Central as users see it on the remote pages: the host and port of its base URL.
pub(crate) fn central_host(w: &World) -> &str {
    w.central
        .base_url
        .strip_prefix("http://")
        .unwrap_or(&w.central.base_url)
}

/// The whole remote flow for `email` after its local link was followed and the explanation page
/// reached: start, follow central's email, check. Returns the check page.
pub(crate) async fn publish_on_central(w: &World, sid: &str, email: &str) -> Page {
    let started = post(&w.local, &explanation(sid)).await;
    assert_eq!(started.status, 200, "{}", started.html);
    assert!(
        started.html.contains("Check your inbox"),
        "{}",
        started.html
    );
    assert!(
        started
            .html
            .contains(&format!("Check your messages from {}", central_host(w))),
        "{}",
        started.html
    );
    assert!(started.html.contains(&format!(
        r#"action="{PUBLIC_URL}/_matrix/identity/remote/api/v1/validate/check""#
    )));
    let not_yet = get(&w.local, &check(sid)).await;
    assert!(
        not_yet.html.contains("has not confirmed"),
        "{}",
        not_yet.html
    );
    let at_central = follow_mail(&w.central, &w.central_peers, email).await;
    assert!(
        at_central.html.contains("is verified"),
        "{}",
        at_central.html
    );
    get(&w.local, &check(sid)).await
}

#[tokio::test]
async fn by_default_a_remote_email_is_validated_and_bound_on_central_only() {
    remote_email_bound_on_central_only(world("").await).await;
}

#[tokio::test]
async fn by_default_a_remote_email_is_validated_and_bound_on_central_only_on_postgresql() {
    if verity_tests::postgres_url().is_some() {
        remote_email_bound_on_central_only(world_on(Backend::Postgres, "", None).await).await;
    }
}

async fn remote_email_bound_on_central_only(w: World) {
    let sid = request(&w.local, "bob@gmail.com").await.expect("a session");
    // The link leads straight to the explanation, which sends nothing anywhere.
    let explained = follow_mail(&w.local, &w.peers, "bob@gmail.com").await;
    assert_eq!(explained.path, explanation(&sid));
    // Users see central itself (its host and port), never the operator's label `root`.
    let host = central_host(&w);
    assert!(
        explained
            .html
            .contains(&format!("Publish your email address on {host}?")),
        "{}",
        explained.html
    );
    assert!(
        explained.html.contains(&format!("Publish on {host}")),
        "{}",
        explained.html
    );
    assert!(!explained.html.contains("root"), "{}", explained.html);
    assert!(w.central_peers.smtp.received().is_empty());
    // Bound before the remote validation: refused, and nothing is published anywhere.
    assert_eq!(
        bind(&w.local, &sid, "@bob:example.org").await.unwrap_err(),
        (400, "M_SESSION_NOT_VALIDATED".to_owned())
    );

    let checked = publish_on_central(&w, &sid, "bob@gmail.com").await;
    assert!(
        checked.html.contains("confirmed your email address"),
        "{}",
        checked.html
    );

    let association = bind(&w.local, &sid, "@bob:example.org")
        .await
        .expect("bound");
    assert_eq!(association["mxid"], "@bob:example.org");
    assert_eq!(signed_by(&association), vec![CENTRAL_NAME.to_owned()]);
    assert_eq!(
        owner(&w.central, "email", "bob@gmail.com").await.as_deref(),
        Some("@bob:example.org")
    );
    assert_eq!(owner(&w.local, "email", "bob@gmail.com").await, None);
}

#[tokio::test]
async fn by_default_a_local_email_binds_here_and_goes_to_central_only_when_the_user_takes_the_offer()
 {
    let w = world("").await;
    // Not taken: the success page offers the remote step; the bind stays here.
    let sid = request(&w.local, "alice@example.org")
        .await
        .expect("a session");
    let done = follow_mail(&w.local, &w.peers, "alice@example.org").await;
    assert!(done.html.contains("is verified"), "{}", done.html);
    assert_eq!(link_to(&done.html, "/remote/api/v1/"), explanation(&sid));
    let association = bind(&w.local, &sid, "@alice:example.org")
        .await
        .expect("bound");
    assert_eq!(signed_by(&association), vec!["example.org".to_owned()]);
    assert_eq!(
        owner(&w.local, "email", "alice@example.org")
            .await
            .as_deref(),
        Some("@alice:example.org")
    );
    assert_eq!(owner(&w.central, "email", "alice@example.org").await, None);
    assert!(w.central_peers.smtp.received().is_empty());

    // Taken: published on central too, and still bound here.
    let sid = request(&w.local, "carol@example.org")
        .await
        .expect("a session");
    let done = follow_mail(&w.local, &w.peers, "carol@example.org").await;
    let explained = get(&w.local, &link_to(&done.html, "/remote/api/v1/")).await;
    assert!(
        explained.html.contains("This is optional"),
        "{}",
        explained.html
    );
    let checked = publish_on_central(&w, &sid, "carol@example.org").await;
    assert!(checked.html.contains("confirmed"), "{}", checked.html);
    let association = bind(&w.local, &sid, "@carol:example.org")
        .await
        .expect("bound");
    assert_eq!(signed_by(&association), vec!["example.org".to_owned()]);
    for app in [&w.local, &w.central] {
        assert_eq!(
            owner(app, "email", "carol@example.org").await.as_deref(),
            Some("@carol:example.org")
        );
    }
}

#[tokio::test]
async fn local_only_binds_every_email_here_and_never_contacts_central() {
    let w = world(LOCAL_ONLY).await;
    for (email, mxid) in [
        ("alice@example.org", "@alice:example.org"),
        ("bob@gmail.com", "@bob:example.org"),
    ] {
        let sid = request(&w.local, email).await.expect("a session");
        let done = follow_mail(&w.local, &w.peers, email).await;
        assert!(done.html.contains("is verified"), "{}", done.html);
        assert!(!done.html.contains("/remote/api/v1/"), "{}", done.html);
        let refused = get(&w.local, &explanation(&sid)).await;
        assert_eq!(refused.status, 403, "{}", refused.html);
        bind(&w.local, &sid, mxid).await.expect("bound");
        assert_eq!(owner(&w.local, "email", email).await.as_deref(), Some(mxid));
        assert_eq!(owner(&w.central, "email", email).await, None);
    }
    assert!(w.central_peers.smtp.received().is_empty());
}

#[tokio::test]
async fn remote_only_binds_every_email_on_central_and_nothing_here() {
    let w = world(REMOTE_ONLY).await;
    let sid = request(&w.local, "alice@example.org")
        .await
        .expect("a session");
    let explained = follow_mail(&w.local, &w.peers, "alice@example.org").await;
    assert_eq!(explained.path, explanation(&sid));
    publish_on_central(&w, &sid, "alice@example.org").await;
    let association = bind(&w.local, &sid, "@alice:example.org")
        .await
        .expect("bound");
    assert_eq!(signed_by(&association), vec![CENTRAL_NAME.to_owned()]);
    assert_eq!(
        owner(&w.central, "email", "alice@example.org")
            .await
            .as_deref(),
        Some("@alice:example.org")
    );
    assert_eq!(owner(&w.local, "email", "alice@example.org").await, None);
}

#[tokio::test]
async fn disabled_refuses_every_session_and_nothing_is_sent_or_published() {
    let w = world(DISABLED).await;
    for email in ["alice@example.org", "bob@gmail.com"] {
        assert_eq!(request(&w.local, email).await, Err(403));
        assert_eq!(owner(&w.local, "email", email).await, None);
        assert_eq!(owner(&w.central, "email", email).await, None);
    }
    assert!(w.peers.smtp.received().is_empty());
    assert!(w.central_peers.smtp.received().is_empty());
}

#[tokio::test]
async fn a_phone_number_takes_two_codes_and_is_bound_on_central() {
    let w = world("").await;
    let created = w
        .local
        .client
        .msisdn_request_token_v1(&types::MsisdnTokenRequest {
            client_secret: SECRET.into(),
            country: "GB".into(),
            phone_number: "07911 123456".into(),
            send_attempt: "1".into(),
            next_link: None,
        })
        .await
        .expect("requestToken")
        .into_inner();
    let code = |peers: &Peers| -> String {
        let sms = peers.twilio.messages().pop().expect("a text message");
        sms.body.chars().filter(char::is_ascii_digit).collect()
    };
    let submit = |token: String| types::TokenSubmission {
        sid: created.sid.clone(),
        client_secret: SECRET.into(),
        token,
    };
    let first = w
        .local
        .client
        .msisdn_submit_token_post_v1(&submit(code(&w.peers)))
        .await
        .expect("the first code")
        .into_inner();
    assert!(!first.success);
    assert_eq!(first.errcode.as_deref(), Some("M_MESSAGE_FOR_CLIENT"));
    let instruction = first.error.unwrap_or_default();
    let central_host = w.central.base_url.trim_start_matches("http://");
    assert!(
        instruction.contains("NEW code")
            && instruction.contains(&format!("identity server {central_host},")),
        "{instruction}"
    );
    assert!(
        !instruction.contains("root"),
        "the operator's label: {instruction}"
    );
    // Not bound before the second code.
    assert_eq!(
        bind(&w.local, &created.sid, "@dan:example.org")
            .await
            .unwrap_err()
            .1,
        "M_SESSION_NOT_VALIDATED"
    );

    let second = w
        .local
        .client
        .msisdn_submit_token_post_v1(&submit(code(&w.central_peers)))
        .await
        .expect("the second code")
        .into_inner();
    assert!(second.success);
    let association = bind(&w.local, &created.sid, "@dan:example.org")
        .await
        .expect("bound");
    assert_eq!(signed_by(&association), vec![CENTRAL_NAME.to_owned()]);
    assert_eq!(
        owner(&w.central, "msisdn", "447911123456").await.as_deref(),
        Some("@dan:example.org")
    );
    assert_eq!(owner(&w.local, "msisdn", "447911123456").await, None);
}

#[tokio::test]
async fn when_central_is_down_the_user_gets_a_clear_page_and_the_session_is_unchanged() {
    // A port nothing listens on.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let w = world_with("", Some(&closed)).await;
    let sid = request(&w.local, "bob@gmail.com").await.expect("a session");
    follow_mail(&w.local, &w.peers, "bob@gmail.com").await;
    let failed = post(&w.local, &explanation(&sid)).await;
    assert_eq!(failed.status, 503, "{}", failed.html);
    assert!(failed.html.contains("cannot be reached"), "{}", failed.html);
    assert!(
        failed.html.contains("Nothing was changed"),
        "{}",
        failed.html
    );
    // Nothing was recorded: the check finds no remote session, and the bind is refused.
    assert_eq!(get(&w.local, &check(&sid)).await.status, 400);
    assert_eq!(
        bind(&w.local, &sid, "@bob:example.org").await.unwrap_err(),
        (400, "M_SESSION_NOT_VALIDATED".to_owned())
    );
    assert_eq!(owner(&w.local, "email", "bob@gmail.com").await, None);
}
