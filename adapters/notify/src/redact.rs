//! What logs may say about a recipient.

use verity_application::ports::driven::Notification;

/// The medium of a notification, for log lines and file names.
pub(crate) fn medium(notification: &Notification) -> &'static str {
    match notification {
        Notification::Email(_) => "email",
        Notification::Sms(_) => "msisdn",
    }
}

/// The recipient with most of it hidden: `…@example.org` for an email, `447…` for a phone number.
/// Enough to tell deliveries apart in logs, not enough to identify the person.
pub(crate) fn recipient(notification: &Notification) -> String {
    match notification {
        Notification::Email(email) => format!("…@{}", email.to.domain()),
        Notification::Sms(sms) => {
            let shown: String = sms.to.as_str().chars().take(3).collect();
            format!("{shown}…")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use verity_application::ports::driven::{EmailMessage, SmsMessage};
    use verity_domain::{EmailAddress, Msisdn};

    #[test]
    fn recipients_are_shown_by_domain_or_first_digits_only() {
        let email = Notification::Email(EmailMessage {
            to: EmailAddress::parse("secret.person@example.org").unwrap(),
            subject: String::new(),
            text: String::new(),
            html: None,
        });
        let sms = Notification::Sms(SmsMessage {
            to: Msisdn::parse("447911123456").unwrap(),
            text: String::new(),
        });
        assert_eq!(recipient(&email), "…@example.org");
        assert_eq!(recipient(&sms), "447…");
    }
}
