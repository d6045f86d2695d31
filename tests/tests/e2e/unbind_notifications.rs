//! The unbind notification (ma1sd's `session.policy.unbind.notifications`, on by default): after
//! an unbind, the owner of the address gets the `session.unbind.notification` email through the
//! configured connector (here the loopback SMTP server).
use std::time::Duration;

use pretty_assertions::assert_eq;
use verity_tests::client::types;
use verity_tests::{Backend, Peers, TestApp, spawn_app_with};

const SECRET: &str = "unbindNotice";
const WAIT: Duration = Duration::from_secs(10);

/// Validates `address` by its emailed link, binds it to `mxid` (v1, as an older homeserver
/// does), then unbinds it by session; the session's sid.
async fn bind_then_unbind(app: &TestApp, peers: &Peers, address: &str, mxid: &str) -> String {
    let sid = app
        .client
        .email_request_token_v1(&types::EmailTokenRequest {
            client_secret: SECRET.into(),
            email: address.into(),
            send_attempt: "1".into(),
            next_link: None,
        })
        .await
        .expect("requestToken")
        .into_inner()
        .sid;
    assert_eq!(peers.open_emailed_link(app).await, 200);
    app.client
        .bind_v1(&types::BindRequest {
            sid: sid.clone(),
            client_secret: SECRET.into(),
            mxid: mxid.into(),
        })
        .await
        .expect("bind");
    unbind(app, address, mxid, sid.clone()).await;
    sid
}

/// Unbinds `address` from `mxid` by the session `sid` (v1).
async fn unbind(app: &TestApp, address: &str, mxid: &str, sid: String) {
    app.client
        .unbind_v1(&types::UnbindRequest {
            mxid: mxid.into(),
            threepid: types::ThreePidBody {
                medium: "email".into(),
                address: address.into(),
            },
            sid: Some(sid),
            client_secret: Some(SECRET.into()),
        })
        .await
        .expect("unbind");
}

#[tokio::test]
async fn an_unbound_address_is_told_by_email() {
    let peers = Peers::start().await;
    let app = spawn_app_with(Backend::Sqlite, &peers.yaml()).await;
    bind_then_unbind(&app, &peers, "frank@example.org", "@frank:example.org").await;
    let mail = peers.smtp.wait_for_mail(WAIT).await.expect("the notice");
    assert_eq!(mail.to, vec!["frank@example.org".to_owned()]);
    let parsed = mail.parse();
    assert_eq!(
        parsed.subject().as_deref(),
        Some("Your email address was unlinked from your Matrix account")
    );
    let text = parsed.text.unwrap_or_default();
    assert!(text.contains("(frank@example.org)"), "{text}");
}

#[tokio::test]
async fn ma1sds_key_turns_the_notification_off() {
    let peers = Peers::start().await;
    let yaml = format!(
        "{}session:\n  policy:\n    unbind:\n      notifications: false\n",
        peers.yaml()
    );
    let app = spawn_app_with(Backend::Sqlite, &yaml).await;
    bind_then_unbind(&app, &peers, "gail@example.org", "@gail:example.org").await;
    // The notice is sent before the unbind answers, so it would be there already.
    assert_eq!(peers.smtp.received().len(), 1, "only the validation email");
}

#[tokio::test]
async fn unbinds_naming_one_address_notify_it_only_within_its_allowance() {
    let peers = Peers::start().await;
    // The requestToken and the first notice spend the address's allowance.
    let yaml = format!(
        "{}ratelimit: {{email: {{destination: {{burst: 2, perSeconds: 3600}}}}}}\n",
        peers.yaml()
    );
    let app = spawn_app_with(Backend::Sqlite, &yaml).await;
    let (address, mxid) = ("hugo@example.org", "@hugo:example.org");
    let sid = bind_then_unbind(&app, &peers, address, mxid).await;
    // (The validation email was read by `open_emailed_link`.)
    peers
        .smtp
        .wait_for_mail(WAIT)
        .await
        .expect("the first notice");

    // Accepted again (as ma1sd, even with nothing bound), but not mailed again.
    unbind(&app, address, mxid, sid).await;
    assert_eq!(
        peers.smtp.received().len(),
        2,
        "the validation email and one notice"
    );
}
