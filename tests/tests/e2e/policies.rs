//! The seed's four policy scenarios, each through the real server: which 3PIDs get a session,
//! and what their message and link page say. Where the remote step then leads, and where binds
//! land, is in remote_sessions.rs.
use pretty_assertions::assert_eq;
use verity_tests::client::types;
use verity_tests::{Backend, Peers, TestApp, spawn_app_with};

const WAIT: std::time::Duration = std::time::Duration::from_secs(10);

const LOCAL_ONLY: &str = "
session:
  policy:
    validation:
      enabled: true
      forLocal:
        enabled: true
        toLocal: true
        toRemote:
          enabled: false
      forRemote:
        enabled: true
        toLocal: true
        toRemote:
          enabled: false
";

const REMOTE_ONLY: &str = "
session:
  policy:
    validation:
      enabled: true
      forLocal:
        enabled: true
        toLocal: false
        toRemote:
          enabled: true
      forRemote:
        enabled: true
        toLocal: false
        toRemote:
          enabled: true
";

const DISABLED: &str = "
session:
  policy:
    validation:
      enabled: false
";

/// The server, its peers, and the identity server its `root` label points at: the remote step's
/// explanation page names the server the label resolves to, which must never be the real
/// matrix.org in a test.
async fn scenario(yaml: &str) -> (TestApp, Peers, TestApp) {
    let peers = Peers::start().await;
    let central = spawn_app_with(Backend::Sqlite, "").await;
    let root = format!(
        "matrix:\n  identity:\n    servers:\n      root: ['{}']\n",
        central.base_url
    );
    let app = spawn_app_with(Backend::Sqlite, &format!("{}{root}{}", peers.yaml(), yaml)).await;
    (app, peers, central)
}

/// Requests a token for `email` over v1 (no account needed) and returns the answer.
async fn request(app: &TestApp, email: &str) -> Result<String, (u16, String)> {
    let body = types::EmailTokenRequest {
        client_secret: "scenarioSecret".into(),
        email: email.into(),
        send_attempt: "1".into(),
        next_link: None,
    };
    match app.client.email_request_token_v1(&body).await {
        Ok(ok) => Ok(ok.into_inner().sid),
        Err(verity_tests::client::Error::ErrorResponse(e)) => {
            Err((e.status().as_u16(), e.into_inner().errcode))
        }
        Err(other) => panic!("{other}"),
    }
}

/// What the user receives and then sees on the link page.
struct Seen {
    subject: String,
    text: String,
    page: String,
}

async fn follow(app: &TestApp, peers: &Peers, to: &str) -> Seen {
    let mail = peers.smtp.wait_for_mail(WAIT).await.expect("a message");
    assert_eq!(mail.to, vec![to.to_owned()]);
    let parsed = mail.parse();
    let text = parsed.text.clone().unwrap_or_default();
    let link = verity_tests::first_link(&text).expect("a link");
    let path = link.trim_start_matches("http://localhost");
    let page = app
        .http
        .get(app.url(path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    Seen {
        subject: parsed.subject().unwrap_or_default(),
        text,
        page,
    }
}

fn says_published_remotely(seen: &Seen) -> bool {
    seen.subject.contains("published") && seen.page.contains("another identity server")
}

#[tokio::test]
async fn by_default_local_emails_validate_here_and_remote_ones_are_marked_for_the_remote_server() {
    let (app, peers, _central) = scenario("").await;
    request(&app, "alice@example.org")
        .await
        .expect("local email: session");
    let local = follow(&app, &peers, "alice@example.org").await;
    assert!(!says_published_remotely(&local), "{}", local.text);
    assert!(local.page.contains("is verified"));

    request(&app, "bob@gmail.com")
        .await
        .expect("remote email: session, remote forced");
    let remote = follow(&app, &peers, "bob@gmail.com").await;
    assert!(
        says_published_remotely(&remote),
        "{}\n{}",
        remote.subject,
        remote.page
    );
}

#[tokio::test]
async fn local_only_validates_every_email_here_and_publishes_nothing_elsewhere() {
    let (app, peers, _central) = scenario(LOCAL_ONLY).await;
    for email in ["alice@example.org", "bob@gmail.com"] {
        request(&app, email).await.expect("session");
        let seen = follow(&app, &peers, email).await;
        assert!(!says_published_remotely(&seen), "{email}: {}", seen.text);
        assert!(seen.page.contains("is verified"), "{email}");
    }
}

#[tokio::test]
async fn remote_only_marks_every_email_for_the_remote_server() {
    let (app, peers, _central) = scenario(REMOTE_ONLY).await;
    for email in ["alice@example.org", "bob@gmail.com"] {
        request(&app, email).await.expect("session");
        let seen = follow(&app, &peers, email).await;
        assert!(says_published_remotely(&seen), "{email}: {}", seen.subject);
    }
}

#[tokio::test]
async fn disabled_refuses_every_session_and_sends_nothing() {
    let (app, peers, _central) = scenario(DISABLED).await;
    for email in ["alice@example.org", "bob@gmail.com"] {
        assert_eq!(
            request(&app, email).await,
            Err((403, "M_FORBIDDEN".to_owned()))
        );
    }
    assert!(peers.smtp.received().is_empty());
}

#[tokio::test]
async fn a_scope_with_nowhere_to_validate_is_refused_with_the_reason() {
    let yaml = "
session:
  policy:
    validation:
      forRemote:
        enabled: true
        toLocal: false
        toRemote:
          enabled: false
";
    let (app, peers, _central) = scenario(yaml).await;
    assert_eq!(
        request(&app, "bob@gmail.com").await,
        Err((403, "M_FORBIDDEN".to_owned()))
    );
    request(&app, "alice@example.org")
        .await
        .expect("local emails are still fine");
    assert_eq!(peers.smtp.received().len(), 1);
}
