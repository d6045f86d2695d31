//! The Twilio connector against the testkit's fake Twilio.

use pretty_assertions::assert_eq;
use verity_adapter_notify::{ConfigError, TwilioConfig, TwilioConnector};
use verity_application::ports::driven::{
    EmailMessage, Notification, NotificationConnector, NotifyError, SmsMessage,
};
use verity_domain::{EmailAddress, Msisdn};
use verity_testkit::twilio::FakeTwilio;

use crate::install_crypto;

const SID: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "twilio-auth-token";

fn config(api_url: &str, token: &str) -> TwilioConfig {
    TwilioConfig {
        account_sid: SID.into(),
        auth_token: token.into(),
        number: "+15005550006".into(),
        api_url: api_url.into(),
    }
}

fn connector(api_url: &str) -> TwilioConnector {
    install_crypto();
    TwilioConnector::new(&config(api_url, TOKEN)).unwrap()
}

fn sms(digits: &str) -> Notification {
    Notification::Sms(SmsMessage {
        to: Msisdn::parse(digits).unwrap(),
        text: "Your Matrix token is 123456".into(),
    })
}

#[tokio::test]
async fn an_sms_is_posted_with_basic_auth_and_twilio_form_fields() {
    let twilio = FakeTwilio::start(SID, TOKEN).await;
    connector(&twilio.url())
        .send(&sms("447911123456"))
        .await
        .unwrap();
    let sent = twilio.messages();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].account_sid, SID);
    assert_eq!(sent[0].to, "+447911123456");
    assert_eq!(sent[0].from, "+15005550006");
    assert_eq!(sent[0].body, "Your Matrix token is 123456");
    assert_eq!(twilio.unauthorized_requests(), 0);
}

#[tokio::test]
async fn the_recipient_gets_exactly_one_plus_sign() {
    let twilio = FakeTwilio::start(SID, TOKEN).await;
    connector(&format!("{}/", twilio.url()))
        .send(&sms("33612345678"))
        .await
        .unwrap();
    let to = &twilio.messages()[0].to;
    assert_eq!(to, "+33612345678");
    assert!(!to.starts_with("++"));
}

#[tokio::test]
async fn wrong_credentials_make_twilio_unavailable() {
    let twilio = FakeTwilio::start(SID, TOKEN).await;
    install_crypto();
    let connector = TwilioConnector::new(&config(&twilio.url(), "wrong")).unwrap();
    let error = connector.send(&sms("447911123456")).await.unwrap_err();
    assert!(matches!(error, NotifyError::Unavailable(_)), "{error:?}");
    assert_eq!(twilio.unauthorized_requests(), 1);
    assert!(twilio.messages().is_empty());
}

#[tokio::test]
async fn numbers_twilio_calls_invalid_or_blocked_are_rejected() {
    let twilio = FakeTwilio::start(SID, TOKEN).await;
    let connector = connector(&twilio.url());
    for (digits, code) in [
        ("15005550001", 21211),
        ("15005550004", 21610),
        ("15005550009", 21614),
    ] {
        twilio.refuse_number(&format!("+{digits}"), code);
        let error = connector.send(&sms(digits)).await.unwrap_err();
        let NotifyError::Rejected(reason) = error else {
            panic!("{code}: {error:?}")
        };
        assert!(reason.contains(&code.to_string()), "{reason}");
        assert!(
            !reason.contains(digits),
            "the reason quotes the number: {reason}"
        );
    }
}

#[tokio::test]
async fn other_twilio_errors_make_it_unavailable() {
    let twilio = FakeTwilio::start(SID, TOKEN).await;
    twilio.refuse_number("+447911123456", 21606);
    let error = connector(&twilio.url())
        .send(&sms("447911123456"))
        .await
        .unwrap_err();
    assert!(matches!(error, NotifyError::Unavailable(_)), "{error:?}");
}

#[tokio::test]
async fn a_twilio_that_is_down_is_unavailable() {
    let twilio = FakeTwilio::start(SID, TOKEN).await;
    let url = twilio.url();
    drop(twilio);
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let error = connector(&url)
        .send(&sms("447911123456"))
        .await
        .unwrap_err();
    assert!(matches!(error, NotifyError::Unavailable(_)), "{error:?}");
}

#[test]
fn each_missing_key_is_a_construction_error_naming_it() {
    install_crypto();
    for (key, config) in [
        (
            "account_sid",
            TwilioConfig {
                account_sid: String::new(),
                ..config("http://x", TOKEN)
            },
        ),
        (
            "auth_token",
            TwilioConfig {
                auth_token: " ".into(),
                ..config("http://x", TOKEN)
            },
        ),
        (
            "number",
            TwilioConfig {
                number: String::new(),
                ..config("http://x", TOKEN)
            },
        ),
    ] {
        let error = TwilioConnector::new(&config).unwrap_err();
        assert!(matches!(error, ConfigError::Missing { .. }), "{error:?}");
        assert!(
            error
                .to_string()
                .contains(&format!("connectors.twilio.{key}")),
            "{error}"
        );
        assert!(!config.is_unset());
    }
    assert!(TwilioConfig::default().is_unset());
    let bad_url = TwilioConnector::new(&config("ftp://x", TOKEN)).unwrap_err();
    assert!(bad_url.to_string().contains("api_url"), "{bad_url}");
}

#[tokio::test]
async fn the_twilio_connector_does_not_carry_email() {
    let email = Notification::Email(EmailMessage {
        to: EmailAddress::parse("a@example.org").unwrap(),
        subject: "s".into(),
        text: "t".into(),
        html: None,
    });
    let result = connector("http://127.0.0.1:9").send(&email).await;
    assert!(
        matches!(result, Err(NotifyError::Unsupported)),
        "{result:?}"
    );
}
