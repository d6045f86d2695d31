//! The session rules a client relies on: send_attempt, the attempt cap, persistence, the link.
use pretty_assertions::assert_eq;
use verity_tests::client::types;
use verity_tests::{Backend, Peers, TestApp, spawn_app_with};

const WAIT: std::time::Duration = std::time::Duration::from_secs(10);

async fn app_on(backend: Backend, yaml: &str) -> (TestApp, Peers) {
    let peers = Peers::start().await;
    let app = spawn_app_with(backend, &format!("{}{}", peers.yaml(), yaml)).await;
    (app, peers)
}

/// Phone numbers validated here: by default they are published on the `root` identity server
/// (remote_sessions.rs covers that flow).
const PHONES_HERE: &str = "
session:
  policy:
    validation:
      forRemote:
        toLocal: true
        toRemote:
          enabled: false
";

fn email_request(attempt: &str) -> types::EmailTokenRequest {
    types::EmailTokenRequest {
        client_secret: "ruleSecret".into(),
        email: "carol@example.org".into(),
        send_attempt: attempt.into(),
        next_link: Some("https://app.element.io/#/validated".into()),
    }
}

async fn sms(app: &TestApp, attempt: &str) -> types::MsisdnSessionCreated {
    app.client
        .msisdn_request_token_v1(&types::MsisdnTokenRequest {
            client_secret: "ruleSecret".into(),
            country: "GB".into(),
            phone_number: "07911123456".into(),
            send_attempt: attempt.into(),
            next_link: None,
        })
        .await
        .expect("requestToken")
        .into_inner()
}

async fn submit_sms(app: &TestApp, sid: &str, token: &str) -> Result<(), String> {
    let body = types::TokenSubmission {
        sid: sid.into(),
        client_secret: "ruleSecret".into(),
        token: token.into(),
    };
    // v1 answers a refused code with 200 `success: false`, as sydent (Synapse passes it on).
    match app.client.msisdn_submit_token_post_v1(&body).await {
        Ok(result) if result.success => Ok(()),
        Ok(result) => Err(result
            .into_inner()
            .errcode
            .expect("a refusal names its errcode")),
        Err(verity_tests::client::Error::ErrorResponse(e)) => Err(e.into_inner().errcode),
        Err(other) => panic!("{other}"),
    }
}

fn code_of(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

#[tokio::test]
async fn the_same_send_attempt_returns_the_same_sid_and_sends_nothing_more() {
    let (app, peers) = app_on(Backend::Sqlite, "").await;
    let first = app
        .client
        .email_request_token_v1(&email_request("1"))
        .await
        .unwrap()
        .into_inner()
        .sid;
    peers.smtp.wait_for_mail(WAIT).await.expect("first email");
    let again = app
        .client
        .email_request_token_v1(&email_request("1"))
        .await
        .unwrap()
        .into_inner()
        .sid;
    assert_eq!(first, again);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        peers.smtp.received().len(),
        1,
        "a same send_attempt must not send again"
    );
}

#[tokio::test]
async fn a_higher_send_attempt_sends_the_same_token_again_to_the_same_session() {
    let (app, peers) = app_on(Backend::Sqlite, "").await;
    let first = sms(&app, "1").await;
    let second = sms(&app, "2").await;
    assert_eq!(first.sid, second.sid);
    let messages = peers.twilio.messages();
    assert_eq!(messages.len(), 2);
    assert_eq!(code_of(&messages[0].body), code_of(&messages[1].body));
}

#[tokio::test]
async fn wrong_codes_lock_the_session_and_a_new_request_starts_a_fresh_one() {
    let (app, peers) = app_on(
        Backend::Sqlite,
        &format!("{PHONES_HERE}  maxFailedAttempts: 3\n"),
    )
    .await;
    let created = sms(&app, "1").await;
    let code = code_of(&peers.twilio.messages()[0].body);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..3 {
        assert_eq!(
            submit_sms(&app, &created.sid, wrong).await,
            Err("M_TOKEN_INCORRECT".into())
        );
    }
    // Locked: even the right code is refused now.
    assert_eq!(
        submit_sms(&app, &created.sid, &code).await,
        Err("M_TOKEN_INCORRECT".into())
    );
    let fresh = sms(&app, "2").await;
    assert_ne!(fresh.sid, created.sid, "a locked session is not resumed");
    let new_code = code_of(&peers.twilio.messages().last().unwrap().body);
    submit_sms(&app, &fresh.sid, &new_code)
        .await
        .expect("the fresh session validates");
}

#[tokio::test]
async fn a_session_survives_a_restart_of_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("verity.db");
    let peers = Peers::start().await;
    let first = spawn_app_with(
        Backend::SqliteAt(db.clone()),
        &format!("{}{PHONES_HERE}", peers.yaml()),
    )
    .await;
    let created = sms(&first, "1").await;
    first.stop().await.unwrap();

    let code = code_of(&peers.twilio.messages()[0].body);
    let second = spawn_app_with(
        Backend::SqliteAt(db),
        &format!("{}{PHONES_HERE}", peers.yaml()),
    )
    .await;
    submit_sms(&second, &created.sid, &code)
        .await
        .expect("validated after the restart");
}

#[tokio::test]
async fn the_link_redirects_only_to_an_allowed_next_link() {
    let allowed = "session: {nextLink: {allowed: ['https://app.element.io/']}}";
    for (yaml, redirects) in [(allowed, true), ("", false)] {
        let (app, peers) = app_on(Backend::Sqlite, yaml).await;
        app.client
            .email_request_token_v1(&email_request("1"))
            .await
            .unwrap();
        let mail = peers.smtp.wait_for_mail(WAIT).await.unwrap();
        let link = verity_tests::first_link(&mail.parse().text.unwrap()).unwrap();
        let no_redirects = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let resp = no_redirects
            .get(app.url(link.trim_start_matches("http://localhost")))
            .send()
            .await
            .unwrap();
        if redirects {
            assert_eq!(resp.status().as_u16(), 302);
            assert_eq!(
                resp.headers()["location"],
                "https://app.element.io/#/validated"
            );
        } else {
            assert_eq!(resp.status().as_u16(), 200);
        }
    }
}

#[tokio::test]
async fn the_terms_must_be_accepted_before_requesting_a_token() {
    let peers = Peers::start().await;
    let yaml = "
policy:
  policies:
    tos:
      version: '2.0'
      terms:
        en:
          name: Terms
          url: 'https://example.org/tos-2.0.html'
";
    let app = spawn_app_with(Backend::Sqlite, &format!("{}{}", peers.yaml(), yaml)).await;
    let dave = peers.register(&app, "dave").await;
    let refused = dave
        .email_request_token_v2(&email_request("1"))
        .await
        .unwrap_err();
    let verity_tests::client::Error::ErrorResponse(refused) = refused else {
        panic!("not a Matrix error")
    };
    assert_eq!(
        (
            refused.status().as_u16(),
            refused.into_inner().errcode.as_str()
        ),
        (403, "M_TERMS_NOT_SIGNED")
    );
    let gated = dave.get_account().await.unwrap_err();
    assert_eq!(
        gated.status().map(|s| s.as_u16()),
        Some(403),
        "GET /account is terms gated"
    );
    dave.agree_to_terms(&types::AcceptTerms {
        user_accepts: vec!["https://example.org/tos-2.0.html".into()],
    })
    .await
    .unwrap();
    dave.email_request_token_v2(&email_request("1"))
        .await
        .expect("allowed once accepted");
    dave.logout().await.expect("logout");
    let gone = dave.get_account().await.unwrap_err();
    assert_eq!(gone.status().map(|s| s.as_u16()), Some(401));
}

/// Races on one session (its own file: this one is near its size limit).
#[path = "session_races.rs"]
mod races;
