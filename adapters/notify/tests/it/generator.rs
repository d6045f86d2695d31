//! The template generator: placeholders, escaping, built-in templates.

use pretty_assertions::assert_eq;
use verity_adapter_notify::{ConfigError, TemplateConfig, TemplateGenerator};
use verity_application::ports::driven::{NotificationGenerator, NotifyError};
use verity_domain::{Medium, Msisdn, ServerLabel, SessionMode};

use crate::*;

const EVERY_PLACEHOLDER: &str = "Subject: %DOMAIN%\n\n\
    DOMAIN=%DOMAIN%\nDOMAIN_PRETTY=%DOMAIN_PRETTY%\nRECIPIENT_MEDIUM=%RECIPIENT_MEDIUM%\n\
    RECIPIENT_MEDIUM_URL_ENCODED=%RECIPIENT_MEDIUM_URL_ENCODED%\nRECIPIENT_ADDRESS=%RECIPIENT_ADDRESS%\n\
    RECIPIENT_ADDRESS_URL_ENCODED=%RECIPIENT_ADDRESS_URL_ENCODED%\nFROM_EMAIL=%FROM_EMAIL%\n\
    FROM_NAME=%FROM_NAME%\nVALIDATION_LINK=%VALIDATION_LINK%\nVALIDATION_TOKEN=%VALIDATION_TOKEN%\n\
    NEXT_URL=%NEXT_URL%\nREGISTER_URL=%REGISTER_URL%\n";

fn from_source(medium: Medium, source: &str) -> TemplateGenerator {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "t", source);
    generator(medium, &validation_template(&path))
}

#[test]
fn every_validation_placeholder_of_an_email_is_replaced() {
    let generator = from_source(Medium::Email, EVERY_PLACEHOLDER);
    let email = render_email(&generator, &email_notice("Jo+Doe@Example.org", LINK));
    let expected = format!(
        "DOMAIN=example.org\nDOMAIN_PRETTY=Example.org\nRECIPIENT_MEDIUM=email\n\
         RECIPIENT_MEDIUM_URL_ENCODED=email\nRECIPIENT_ADDRESS=jo+doe@example.org\n\
         RECIPIENT_ADDRESS_URL_ENCODED=jo%2Bdoe%40example.org\nFROM_EMAIL=identity@example.org\n\
         FROM_NAME=Example Identity\nVALIDATION_LINK={LINK}\nVALIDATION_TOKEN=tok123\n\
         NEXT_URL={LINK}\nREGISTER_URL=https://example.org\n"
    );
    assert_eq!(email.text, expected);
    assert_eq!(email.subject, "example.org");
    assert_eq!(email.to.as_str(), "jo+doe@example.org");
}

#[test]
fn sms_messages_get_the_common_placeholders_but_not_the_sender_ones() {
    let generator = from_source(
        Medium::Msisdn,
        "%RECIPIENT_MEDIUM% %RECIPIENT_ADDRESS% %VALIDATION_TOKEN% %FROM_EMAIL% %DOMAIN_PRETTY%\n",
    );
    let sms = render_sms(&generator, &sms_notice("447911123456", SessionMode::Local));
    assert_eq!(
        sms.text,
        "msisdn 447911123456 123456 %FROM_EMAIL% Example.org"
    );
}

#[test]
fn values_are_html_escaped_in_the_html_part_and_left_alone_in_the_text_part() {
    let generator = generator(Medium::Email, &TemplateConfig::default());
    let link = "https://id.example.org/v?a=1&b=\"><script>alert(1)</script>";
    let email = render_email(&generator, &email_notice("o'brien&co@example.org", link));
    let html = email.html.unwrap();
    assert!(!html.contains("<script>"), "{html}");
    assert!(html.contains(
        "href=\"https://id.example.org/v?a=1&amp;b=&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;\""
    ));
    assert!(html.contains("(o&#39;brien&amp;co@example.org)"));
    assert!(email.text.contains(link));
    assert!(email.text.contains("o'brien&co@example.org"));
}

#[test]
fn line_breaks_in_a_value_cannot_add_a_header_through_the_subject() {
    let generator = from_source(
        Medium::Email,
        "Subject: Confirm %VALIDATION_LINK%\nContent-Type: text/plain\n\nbody\n",
    );
    let link = "https://x.example/\r\nBcc: eve@evil.example\nSubject: phish";
    let email = render_email(&generator, &email_notice("a@example.org", link));
    assert!(!email.subject.contains(['\r', '\n']), "{:?}", email.subject);
    assert_eq!(
        email.subject,
        "Confirm https://x.example/  Bcc: eve@evil.example Subject: phish"
    );
}

#[test]
fn long_values_are_cut_in_the_subject_but_not_in_the_body() {
    let generator = from_source(
        Medium::Email,
        "Subject: %VALIDATION_LINK%\n\n%VALIDATION_LINK%\n",
    );
    let link = format!("https://x.example/{}", "a".repeat(1000));
    let email = render_email(&generator, &email_notice("a@example.org", &link));
    assert_eq!(email.subject.chars().count(), 100);
    assert!(email.subject.ends_with('…'));
    assert_eq!(email.text.trim_end(), link);
}

#[test]
fn a_value_that_contains_a_placeholder_is_not_expanded_again() {
    let generator = from_source(
        Medium::Email,
        "Subject: s\n\n%RECIPIENT_ADDRESS% %VALIDATION_LINK% %DOMAIN%\n",
    );
    let email = render_email(
        &generator,
        &email_notice(
            "a%domain%b@example.org",
            "https://x.example/%VALIDATION_TOKEN%/%DOMAIN%/%RECIPIENT_ADDRESS%",
        ),
    );
    assert_eq!(
        email.text,
        "a%domain%b@example.org https://x.example/%VALIDATION_TOKEN%/%DOMAIN%/%RECIPIENT_ADDRESS% \
         example.org\n"
    );
}

#[test]
fn unknown_placeholders_and_percent_signs_are_left_as_written() {
    let generator = from_source(
        Medium::Email,
        "Subject: 100% %SENDER_NAME_OR_ID%\n\nwidth: 100%%; %NOT_A_THING% %DOMAIN%\n",
    );
    let email = render_email(&generator, &email_notice("a@example.org", LINK));
    assert_eq!(email.subject, "100% %SENDER_NAME_OR_ID%");
    assert_eq!(email.text, "width: 100%%; %NOT_A_THING% example.org\n");
}

#[test]
fn the_built_in_email_template_has_a_text_and_an_html_part_with_the_link() {
    let generator = generator(Medium::Email, &TemplateConfig::default());
    let email = render_email(&generator, &email_notice("alice@example.org", LINK));
    assert_eq!(email.subject, "Your Matrix validation token");
    assert!(email.text.contains(LINK), "{}", email.text);
    assert!(email.text.contains("Example.org Admins"));
    assert!(!email.text.contains('%'), "{}", email.text);
    let html = email.html.unwrap();
    let escaped = LINK.replace('&', "&amp;");
    assert!(html.contains(&format!("<a href=\"{escaped}\">")), "{html}");
    assert!(html.contains("<!doctype html>"));
    assert!(!html.contains('%'), "{html}");
    assert!(!html.contains("Content-Type"), "{html}");
}

#[test]
fn the_built_in_sms_template_carries_the_token() {
    let generator = generator(Medium::Msisdn, &TemplateConfig::default());
    let sms = render_sms(&generator, &sms_notice("447911123456", SessionMode::Local));
    assert_eq!(sms.text, "Your Matrix token is 123456");
    assert_eq!(sms.to, Msisdn::parse("447911123456").unwrap());
}

#[test]
fn a_remote_only_session_is_told_that_the_address_will_be_published_elsewhere() {
    let email_generator = generator(Medium::Email, &TemplateConfig::default());
    let mut notice = email_notice("alice@example.org", LINK);
    notice.mode = remote();
    let email = render_email(&email_generator, &notice);
    for part in [email.text.as_str(), email.html.as_deref().unwrap()] {
        assert!(
            part.contains("It can only be published on another, public"),
            "{part}"
        );
        assert!(
            part.contains("cannot easily be removed there again"),
            "{part}"
        );
    }
    assert!(email.text.contains(LINK));
    assert!(email.subject.contains("published"));

    let sms_generator = generator(Medium::Msisdn, &TemplateConfig::default());
    let sms = render_sms(&sms_generator, &sms_notice("447911123456", remote()));
    assert!(sms.text.contains("published on another identity server"));
    assert!(sms.text.contains("cannot easily be removed"));
    assert!(sms.text.ends_with("123456"));
}

#[test]
fn a_session_offered_a_remote_copy_gets_the_normal_validation_message() {
    let generator = generator(Medium::Email, &TemplateConfig::default());
    let mut notice = email_notice("alice@example.org", LINK);
    notice.mode = SessionMode::LocalOfferRemote(ServerLabel::parse("matrix-org").unwrap());
    let email = render_email(&generator, &notice);
    assert_eq!(email.subject, "Your Matrix validation token");
}

#[test]
fn register_url_defaults_to_the_domain_and_can_be_configured() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "t.eml", "Subject: s\n\n%REGISTER_URL%\n");
    let mut config = validation_template(&path);
    let default = generator(Medium::Email, &config);
    let notice = email_notice("a@example.org", LINK);
    assert_eq!(
        render_email(&default, &notice).text,
        "https://example.org\n"
    );
    config.placeholder.register_url = Some("https://app.example.org/#/register".into());
    let custom = generator(Medium::Email, &config);
    assert_eq!(
        render_email(&custom, &notice).text,
        "https://app.example.org/#/register\n"
    );
}

#[test]
fn a_generator_refuses_a_3pid_of_another_medium() {
    let generator = generator(Medium::Email, &TemplateConfig::default());
    let error = generator
        .validation(&sms_notice("447911123456", SessionMode::Local))
        .unwrap_err();
    assert!(matches!(error, NotifyError::Template(_)), "{error:?}");
}

#[test]
fn there_is_no_template_generator_for_other_media() {
    let error = TemplateGenerator::new(
        &Medium::parse("matrix.id").unwrap(),
        &domain(),
        &identity(),
        &TemplateConfig::default(),
    )
    .unwrap_err();
    assert!(
        matches!(error, ConfigError::UnsupportedMedium { .. }),
        "{error}"
    );
}
