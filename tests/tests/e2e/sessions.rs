//! Validation sessions end to end, as a homeserver and Element drive them: register with the
//! homeserver's OpenID token, accept the terms, request a token, receive it by email (a real SMTP
//! server) or SMS (a fake Twilio), submit it, read the validated 3PID.
use pretty_assertions::assert_eq;
use verity_tests::client::types;
use verity_tests::{Backend, HOMESERVER, Peers, TestApp, spawn_app_with};

const TERMS_URL: &str = "https://example.org/terms-1.0.html";
const WAIT: std::time::Duration = std::time::Duration::from_secs(10);

pub(crate) async fn app_with_peers(backend: Backend, yaml: &str) -> (TestApp, Peers) {
    let peers = Peers::start().await;
    // `version: 1.0` unquoted, as ma1sd's example writes it: it must stay "1.0".
    let terms = format!(
        "
policy:
  policies:
    terms_of_service:
      version: 1.0
      terms:
        en:
          name: Terms of Service
          url: '{TERMS_URL}'
"
    );
    let app = spawn_app_with(backend, &format!("{}{terms}{yaml}", peers.yaml())).await;
    (app, peers)
}

/// Registers `@alice:example.org` through the fake homeserver and accepts the terms; returns the
/// access token.
pub(crate) async fn register_alice(app: &TestApp, peers: &Peers) -> String {
    peers
        .homeserver
        .add_user("openid-alice", "@alice:example.org");
    let registered = app
        .client
        .register_account(&types::OpenIdCredentials {
            access_token: "openid-alice".into(),
            token_type: Some("Bearer".into()),
            matrix_server_name: HOMESERVER.into(),
            expires_in: Some(3600),
        })
        .await
        .expect("register")
        .into_inner();
    assert_eq!(registered.token, registered.access_token);
    let alice = app.client_as(&registered.token);
    let terms = app.client.get_terms().await.expect("terms").into_inner();
    let policy = &terms.policies["terms_of_service"];
    assert_eq!(policy["version"], "1.0");
    assert_eq!(policy["en"]["url"], TERMS_URL);
    alice
        .agree_to_terms(&types::AcceptTerms {
            user_accepts: vec![TERMS_URL.into()],
        })
        .await
        .expect("accept terms");
    registered.token
}

async fn email_flow(backend: Backend) {
    let (app, peers) = app_with_peers(backend, "").await;
    let token = register_alice(&app, &peers).await;
    let alice = app.client_as(&token);

    let sid = alice
        .email_request_token_v2(&types::EmailTokenRequest {
            client_secret: "secretAlice".into(),
            email: "Alice@Example.org".into(),
            send_attempt: "1".into(),
            next_link: None,
        })
        .await
        .expect("requestToken")
        .into_inner()
        .sid;

    let mail = peers
        .smtp
        .wait_for_mail(WAIT)
        .await
        .expect("the validation email arrives");
    assert_eq!(mail.to, vec!["alice@example.org".to_owned()]);
    let parsed = mail.parse();
    let text = parsed.text.clone().expect("a text part");
    let link = verity_tests::first_link(&text).expect("a link in the email");
    assert!(
        link.starts_with("http://localhost/_matrix/identity/v2/validate/email/submitToken?"),
        "{link}"
    );
    assert!(link.contains(&format!("sid={sid}")), "{link}");

    // The link points at the public URL; follow it on the test server.
    let path = link.trim_start_matches("http://localhost");
    let page = app.http.get(app.url(path)).send().await.expect("click");
    assert_eq!(page.status().as_u16(), 200);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("Verification successful")
    );

    let validated = alice
        .get_validated3pid_v2(&"secretAlice".to_owned(), &sid)
        .await
        .expect("getValidated3pid")
        .into_inner();
    assert_eq!(
        (validated.medium.as_str(), validated.address.as_str()),
        ("email", "alice@example.org")
    );
    assert!(validated.validated_at > 0);
}

#[tokio::test]
async fn an_email_is_validated_end_to_end_on_sqlite() {
    email_flow(Backend::Sqlite).await;
}

#[tokio::test]
async fn an_email_is_validated_end_to_end_on_postgresql() {
    if verity_tests::postgres_url().is_some() {
        email_flow(Backend::Postgres).await;
    }
}

/// Phone numbers validated here: by default they are published on the `root` identity server
/// (see remote_sessions.rs for that flow).
const SMS_HERE: &str = "
session:
  policy:
    validation:
      forRemote:
        toLocal: true
        toRemote:
          enabled: false
";

async fn sms_flow(backend: Backend) {
    let (app, peers) = app_with_peers(backend, SMS_HERE).await;
    let token = register_alice(&app, &peers).await;
    let alice = app.client_as(&token);
    let created = alice
        .msisdn_request_token_v2(&types::MsisdnTokenRequest {
            client_secret: "secretAlice".into(),
            country: "GB".into(),
            phone_number: "07911 123456".into(),
            send_attempt: "1".into(),
            next_link: None,
        })
        .await
        .expect("requestToken")
        .into_inner();
    assert_eq!(
        (created.msisdn.as_str(), created.intl_fmt.as_str()),
        ("447911123456", "+44 7911 123456")
    );

    let sms = peers
        .twilio
        .messages()
        .pop()
        .expect("a text message was sent");
    assert_eq!(sms.to, "+447911123456");
    let code: String = sms.body.chars().filter(char::is_ascii_digit).collect();
    assert_eq!(code.len(), 6, "{}", sms.body);

    let submitted = alice
        .msisdn_submit_token_post_v2(&types::TokenSubmission {
            sid: created.sid.clone(),
            client_secret: "secretAlice".into(),
            token: code,
        })
        .await
        .expect("submitToken")
        .into_inner();
    assert!(submitted.success);
    let validated = alice
        .get_validated3pid_v2(&"secretAlice".to_owned(), &created.sid)
        .await
        .expect("validated")
        .into_inner();
    assert_eq!(
        (validated.medium.as_str(), validated.address.as_str()),
        ("msisdn", "447911123456")
    );
}

#[tokio::test]
async fn a_phone_number_is_validated_end_to_end_on_sqlite() {
    sms_flow(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_phone_number_is_validated_end_to_end_on_postgresql() {
    if verity_tests::postgres_url().is_some() {
        sms_flow(Backend::Postgres).await;
    }
}
