//! Email validation sessions through the SMTP connector: new sessions (each sends a real email
//! through lettre to the loopback SMTP server), repeated requests (same email, secret and
//! attempt: no email), and the submission of the emailed tokens.
use std::collections::HashMap;
use std::sync::Arc;

use verity_testkit::homeserver::FakeHomeserver;
use verity_testkit::smtp::{CapturedMail, SmtpServer};
use verity_tests::client::{Client, types};
use verity_tests::{TestApp, first_link, spawn_app_with};

use crate::Store;
use crate::limits;
use crate::load::drive;
use crate::report::Report;

const TERMS_URL: &str = "https://example.org/terms-1.0.html";
const HOMESERVER: &str = "example.org";

/// The loopback peers of an email flow.
pub struct Peers {
    /// Captures the emails.
    pub smtp: SmtpServer,
    /// Vouches for the OpenID token of the bench's user.
    pub homeserver: FakeHomeserver,
}

/// A server on `store` configured as an operator would (mxisd key names): email through SMTP to
/// the loopback server, `example.org` resolved to the fake homeserver, one terms policy, the
/// limits on but never reached ([`limits::unrefused`]).
pub async fn app(store: Store) -> (TestApp, Peers) {
    app_with(store, &limits::yaml(&limits::unrefused())).await
}

/// [`app`] with `extra` YAML (top-level keys) appended to its configuration.
pub async fn app_with(store: Store, extra: &str) -> (TestApp, Peers) {
    let peers = Peers {
        smtp: SmtpServer::start().await,
        homeserver: FakeHomeserver::start().await,
    };
    let yaml = format!(
        "
threepid:
  medium:
    email:
      identity:
        from: verity@example.org
        name: Verity
      connector: smtp
      connectors:
        smtp:
          host: 127.0.0.1
          port: {smtp}
          tls: 0
dns:
  overwrite:
    homeserver:
      federation:
        - name: {HOMESERVER}
          value: '{homeserver}'
policy:
  policies:
    terms_of_service:
      version: '1.0'
      terms:
        en:
          name: Terms of Service
          url: '{TERMS_URL}'
",
        smtp = peers.smtp.port(),
        homeserver = peers.homeserver.base_url(),
    );
    let app = spawn_app_with(store.backend(), &format!("{yaml}{extra}")).await;
    (app, peers)
}

/// Registers `@bench:example.org` with the fake homeserver's OpenID token and accepts the terms,
/// so every request pays the account and terms checks of a real user.
async fn register(app: &TestApp, peers: &Peers) -> Client {
    app.client_as(&register_token(app, peers).await)
}

/// Registers `@bench:example.org` (as [`register`]) and returns its access token.
pub async fn register_token(app: &TestApp, peers: &Peers) -> String {
    peers
        .homeserver
        .add_user("openid-bench", &format!("@bench:{HOMESERVER}"));
    let registered = app
        .client
        .register_account(&crate::foundation::bench_openid(HOMESERVER))
        .await
        .expect("register")
        .into_inner();
    app.client_as(&registered.token)
        .agree_to_terms(&types::AcceptTerms {
            user_accepts: vec![TERMS_URL.into()],
        })
        .await
        .expect("accept the terms");
    registered.token
}

fn address(set: &str, i: usize) -> String {
    format!("bench.{set}.{i}@example.org")
}

/// `POST /validate/email/requestToken` for the `i`th address of `set`, attempt 1.
pub async fn request_token(client: Arc<Client>, set: Arc<str>, i: usize) -> Result<(), String> {
    client
        .email_request_token_v2(&types::EmailTokenRequest {
            client_secret: format!("secret.{set}.{i}"),
            email: address(&set, i),
            send_attempt: "1".into(),
            next_link: None,
        })
        .await
        .map(drop)
        .map_err(|e| format!("requestToken: {e:?}"))
}

/// `POST /validate/email/submitToken` with the `i`th submission.
async fn submit_token(
    client: Arc<Client>,
    submissions: Arc<Vec<types::TokenSubmission>>,
    i: usize,
) -> Result<(), String> {
    let answer = client
        .email_submit_token_post_v2(&submissions[i])
        .await
        .map_err(|e| format!("submitToken: {e:?}"))?;
    if answer.into_inner().success {
        Ok(())
    } else {
        Err("submitToken: success false".to_owned())
    }
}

/// The three session figures at each concurrency, `n` requests each.
pub async fn flows(
    report: &mut Report,
    store: Store,
    app: &TestApp,
    peers: &Peers,
    n: usize,
    concurrencies: &[usize],
) {
    let client = Arc::new(register(app, peers).await);
    let set = |c: usize| -> Arc<str> { format!("c{c}").into() };
    let request = |set: Arc<str>| {
        let client = client.clone();
        move |i| request_token(client.clone(), set.clone(), i)
    };
    // Opens the pooled SMTP connection(s) and the HTTP connections.
    let warm_up = n.clamp(1, 50);
    drive(
        warm_up,
        concurrencies[concurrencies.len() - 1],
        request("warm".into()),
    )
    .await;

    for &c in concurrencies {
        let run = drive(n, c, request(set(c))).await;
        report.load(
            store.name(),
            "POST email/requestToken, new (email sent)",
            run,
        );
    }
    let mails = peers.smtp.received();
    assert_eq!(
        mails.len(),
        warm_up + n * concurrencies.len(),
        "one email per new session"
    );

    for &c in concurrencies {
        let run = drive(n, c, request(set(c))).await;
        report.load(
            store.name(),
            "POST email/requestToken, repeat (no email)",
            run,
        );
    }
    assert_eq!(
        peers.smtp.received().len(),
        mails.len(),
        "a repeated request sends no email"
    );

    let mut emailed = submissions(&mails);
    for &c in concurrencies {
        let submissions: Arc<Vec<_>> = Arc::new(
            (0..n)
                .map(|i| {
                    emailed
                        .remove(&address(&set(c), i))
                        .expect("every new session was emailed")
                })
                .collect(),
        );
        let submit = {
            let client = client.clone();
            move |i| submit_token(client.clone(), submissions.clone(), i)
        };
        let run = drive(n, c, submit).await;
        report.load(store.name(), "POST email/submitToken", run);
    }
}

/// The submission each captured email's link carries, by recipient.
pub fn submissions(mails: &[CapturedMail]) -> HashMap<String, types::TokenSubmission> {
    mails
        .iter()
        .map(|mail| {
            let text = mail.parse().text.expect("a text part");
            let link = first_link(&text).expect("a link in the email");
            let link = reqwest::Url::parse(&link).expect("a valid link");
            let query: HashMap<String, String> = link.query_pairs().into_owned().collect();
            let field = |name: &str| {
                query
                    .get(name)
                    .cloned()
                    .expect("sid, client_secret and token")
            };
            let submission = types::TokenSubmission {
                sid: field("sid"),
                client_secret: field("client_secret"),
                token: field("token"),
            };
            (mail.to[0].clone(), submission)
        })
        .collect()
}
