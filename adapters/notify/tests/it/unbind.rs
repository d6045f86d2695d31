//! The unbind notification (ma1sd's `session.unbind.notification`): sent to the unbound 3PID with
//! the placeholders every message has.

use pretty_assertions::assert_eq;
use verity_adapter_notify::TemplateConfig;
use verity_application::ports::driven::{Notification, NotificationGenerator};
use verity_domain::{EmailAddress, Medium, Msisdn, ThreePid};

use crate::*;

fn alice() -> ThreePid {
    ThreePid::Email(EmailAddress::parse("Alice@Example.org").unwrap())
}

#[test]
fn the_built_in_unbind_email_goes_to_the_unbound_address_and_names_it() {
    let generator = generator(Medium::Email, &TemplateConfig::default());
    let Notification::Email(email) = generator.unbind(&alice()).unwrap() else {
        panic!("expected an email");
    };
    assert_eq!(email.to.as_str(), "alice@example.org");
    assert_eq!(
        email.subject,
        "Your email address was unlinked from your Matrix account"
    );
    assert!(
        email.text.contains("(alice@example.org)") && email.text.contains("example.org"),
        "{}",
        email.text
    );
}

#[test]
fn the_built_in_unbind_sms_goes_to_the_unbound_number() {
    let generator = generator(Medium::Msisdn, &TemplateConfig::default());
    let number = ThreePid::Msisdn(Msisdn::parse("447911123456").unwrap());
    let Notification::Sms(sms) = generator.unbind(&number).unwrap() else {
        panic!("expected an SMS");
    };
    assert_eq!(sms.to.as_str(), "447911123456");
    assert_eq!(
        sms.text,
        "Your phone number was unlinked from your Matrix account on example.org."
    );
}

#[test]
fn an_operators_unbind_template_gets_the_common_placeholders_escaped_for_html() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "unbind.eml",
        "Subject: %DOMAIN_PRETTY%: %RECIPIENT_ADDRESS% unlinked\n\
         Content-Type: text/html; charset=UTF-8\n\n\
         <p>%RECIPIENT_MEDIUM% %RECIPIENT_ADDRESS% %RECIPIENT_ADDRESS_URL_ENCODED% \
         %FROM_NAME% %VALIDATION_LINK%</p>\n",
    );
    let config: TemplateConfig = serde_json::from_value(serde_json::json!({
        "session": {"unbind": {"notification": path.to_str().unwrap()}}
    }))
    .unwrap();
    let generator = generator(Medium::Email, &config);
    let odd = ThreePid::Email(EmailAddress::parse("o'brien&co@example.org").unwrap());
    let Notification::Email(email) = generator.unbind(&odd).unwrap() else {
        panic!("expected an email");
    };
    assert_eq!(
        email.subject,
        "Example.org: o'brien&co@example.org unlinked"
    );
    assert_eq!(
        email.html.as_deref(),
        Some(
            "<p>email o&#39;brien&amp;co@example.org o%27brien%26co%40example.org \
             Example Identity %VALIDATION_LINK%</p>\n"
        )
    );
}
