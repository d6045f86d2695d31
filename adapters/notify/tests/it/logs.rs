//! What the connectors log: never the token, never the whole recipient.

use std::io::Write;
use std::sync::{Arc, Mutex};

use tracing_subscriber::util::SubscriberInitExt as _;
use verity_adapter_notify::{
    FileConfig, FileConnector, SmtpConfig, SmtpConnector, TemplateConfig, TwilioConfig,
    TwilioConnector,
};
use verity_application::ports::driven::{Notification, NotificationConnector};
use verity_domain::{Medium, SessionMode};
use verity_testkit::smtp::SmtpServer;
use verity_testkit::twilio::FakeTwilio;

use crate::*;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

fn capture() -> (Captured, tracing::dispatcher::DefaultGuard) {
    let captured = Captured::default();
    let writer = captured.clone();
    let guard = tracing_subscriber::fmt()
        .with_env_filter("verity_adapter_notify=trace")
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish()
        .set_default();
    (captured, guard)
}

fn assert_private(logs: &str, shown: &str) {
    assert!(logs.contains(shown), "expected {shown:?} in:\n{logs}");
    for secret in ["tok123", "123456", "alice@", "447911123456"] {
        assert!(!logs.contains(secret), "{secret:?} was logged:\n{logs}");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn email_connectors_log_the_recipient_domain_only_and_never_the_token() {
    let (logs, _guard) = capture();
    let generator = generator(Medium::Email, &TemplateConfig::default());
    let email = Notification::Email(render_email(
        &generator,
        &email_notice("alice@example.org", LINK),
    ));

    let server = SmtpServer::builder()
        .reject_recipient("alice@example.org")
        .start()
        .await;
    let smtp = SmtpConnector::new(
        &SmtpConfig {
            host: "127.0.0.1".into(),
            port: server.port(),
            tls: 0,
            ..SmtpConfig::default()
        },
        &identity(),
    )
    .unwrap();
    assert!(smtp.send(&email).await.is_err());
    let dir = tempfile::tempdir().unwrap();
    let file = FileConnector::new(
        &FileConfig {
            directory: dir.path().to_owned(),
        },
        &identity(),
    )
    .unwrap();
    file.send(&email).await.unwrap();

    let logs = logs.text();
    assert_private(&logs, "…@example.org");
    assert!(logs.contains("message for email written to"), "{logs}");
    assert!(logs.contains("refused the recipient (550)"), "{logs}");
}

#[tokio::test(flavor = "current_thread")]
async fn a_login_with_tls_0_is_warned_about_at_start_up_naming_the_keys_never_the_password() {
    let (logs, _guard) = capture();
    let server = SmtpServer::start().await;
    let smtp = SmtpConnector::new(
        &SmtpConfig {
            host: "127.0.0.1".into(),
            port: server.port(),
            tls: 0,
            login: Some("mailer".into()),
            password: Some("smtp-password".into()),
            ..SmtpConfig::default()
        },
        &identity(),
    )
    .unwrap();
    let at_start = logs.text();
    assert!(at_start.contains("WARN"), "{at_start}");
    for key in [
        "threepid.medium.email.connectors.smtp.login",
        "threepid.medium.email.connectors.smtp.tls",
    ] {
        assert!(at_start.contains(key), "{key} not named in:\n{at_start}");
    }
    let generator = generator(Medium::Email, &TemplateConfig::default());
    let email = Notification::Email(render_email(
        &generator,
        &email_notice("alice@example.org", LINK),
    ));
    assert!(smtp.send(&email).await.is_err());
    let logs = logs.text();
    assert!(!logs.contains("smtp-password"), "{logs}");
    assert_eq!(server.auth_attempts().total, 0);
}

#[tokio::test(flavor = "current_thread")]
async fn sms_connectors_log_the_first_digits_only_and_never_the_token() {
    let (logs, _guard) = capture();
    let generator = generator(Medium::Msisdn, &TemplateConfig::default());
    let sms = Notification::Sms(render_sms(
        &generator,
        &sms_notice("447911123456", SessionMode::Local),
    ));
    let twilio = FakeTwilio::start("AC1", "twilio-token").await;
    install_crypto();
    let connector = TwilioConnector::new(&TwilioConfig {
        account_sid: "AC1".into(),
        auth_token: "twilio-token".into(),
        number: "+15005550006".into(),
        api_url: twilio.url(),
    })
    .unwrap();
    connector.send(&sms).await.unwrap();
    twilio.refuse_number("+447911123456", 21211);
    assert!(connector.send(&sms).await.is_err());

    let logs = logs.text();
    assert_private(&logs, "447…");
    assert!(!logs.contains("twilio-token"), "{logs}");
}
