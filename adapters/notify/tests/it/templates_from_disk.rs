//! Operators' own templates, read from disk as mxisd read them.

use pretty_assertions::assert_eq;
use verity_adapter_notify::{ConfigError, TemplateConfig, TemplateGenerator};
use verity_domain::{Medium, SessionMode};

use crate::*;

/// Modelled on mxisd's `validate-template.eml`: its own boundaries, an HTML part nested in a
/// `multipart/related`, `From:`/`To:` lines with placeholders, and CSS with `100%%`.
const MXISD_STYLE: &str = "Subject: Validate your address on %DOMAIN%\r\n\
From: \"%FROM_NAME%\" <%FROM_EMAIL%>\r\n\
To: %RECIPIENT_ADDRESS%\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/alternative;\r\n\
\tboundary=\"7REaIwWQCioQ6NaBlAQlg8ztbUQj6PKJ\"\r\n\
\r\n\
--7REaIwWQCioQ6NaBlAQlg8ztbUQj6PKJ\r\n\
Content-Type: text/plain; charset=UTF-8\r\n\
Content-Disposition: inline\r\n\
\r\n\
Hello there!\r\n\
\r\n\
Click: %VALIDATION_LINK%\r\n\
\r\n\
%DOMAIN_PRETTY% Admins\r\n\
\r\n\
--7REaIwWQCioQ6NaBlAQlg8ztbUQj6PKJ\r\n\
Content-Type: multipart/related;\r\n\
\tboundary=\"M3yzHl5YZehm9v4bAM8sKEdcOoVnRnKR\";\r\n\
\ttype=\"text/html\"\r\n\
\r\n\
--M3yzHl5YZehm9v4bAM8sKEdcOoVnRnKR\r\n\
Content-Type: text/html; charset=UTF-8\r\n\
Content-Disposition: inline\r\n\
\r\n\
<html><head><style>#page { width: 100%%; }</style></head>\r\n\
<body><p><a href=\"%VALIDATION_LINK%\">Complete email verification</a></p>\r\n\
<p>%DOMAIN_PRETTY% Admins</p></body></html>\r\n\
--M3yzHl5YZehm9v4bAM8sKEdcOoVnRnKR--\r\n\
\r\n\
--7REaIwWQCioQ6NaBlAQlg8ztbUQj6PKJ--\r\n";

#[test]
fn an_mxisd_style_eml_template_from_disk_renders_its_subject_and_both_parts() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "validate-template.eml", MXISD_STYLE);
    let generator = generator(Medium::Email, &validation_template(&path));
    let email = render_email(&generator, &email_notice("alice@example.org", LINK));
    assert_eq!(email.subject, "Validate your address on example.org");
    assert_eq!(
        email.text,
        format!("Hello there!\n\nClick: {LINK}\n\nExample.org Admins\n")
    );
    let html = email.html.unwrap();
    assert_eq!(
        html,
        format!(
            "<html><head><style>#page {{ width: 100%%; }}</style></head>\n\
             <body><p><a href=\"{}\">Complete email verification</a></p>\n\
             <p>Example.org Admins</p></body></html>",
            LINK.replace('&', "&amp;")
        )
    );
    assert!(!email.text.contains("7REaIwWQ") && !html.contains("M3yzHl5Y"));
}

#[test]
fn a_single_part_quoted_printable_template_renders_text_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "plain.eml",
        "Subject: =?UTF-8?B?VsOpcmlmaWV6?= %DOMAIN%\nContent-Type: text/plain; charset=UTF-8\n\
         Content-Transfer-Encoding: quoted-printable\n\nBonjour, cliquez sur ce lien tr=C3=A8s =\nlong : %VALIDATION_LINK%\n",
    );
    let generator = generator(Medium::Email, &validation_template(&path));
    let email = render_email(&generator, &email_notice("alice@example.org", LINK));
    assert_eq!(email.subject, "Vérifiez example.org");
    assert_eq!(
        email.text,
        format!("Bonjour, cliquez sur ce lien très long : {LINK}\n")
    );
    assert_eq!(email.html, None);
}

#[test]
fn a_missing_template_file_is_an_error_naming_the_key_and_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.eml");
    let error = TemplateGenerator::new(
        &Medium::Email,
        &domain(),
        &identity(),
        &validation_template(&missing),
    )
    .unwrap_err();
    assert!(
        matches!(error, ConfigError::TemplateRead { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("threepid.medium.email.generators.template.session.validation"),
        "{message}"
    );
    assert!(message.contains(missing.to_str().unwrap()), "{message}");
}

#[test]
fn a_template_without_any_text_part_is_an_error_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "bad.eml",
        "Subject: x\nContent-Type: multipart/alternative\n\nx\n",
    );
    let error = TemplateGenerator::new(
        &Medium::Email,
        &domain(),
        &identity(),
        &validation_template(&path),
    )
    .unwrap_err();
    assert!(matches!(error, ConfigError::Template { .. }), "{error:?}");
    assert!(error.to_string().contains("bad.eml"), "{error}");
}

#[test]
fn an_unknown_built_in_template_is_an_error_and_mxisd_built_in_names_work() {
    let config: TemplateConfig = serde_json::from_value(serde_json::json!({
        "invite": "classpath:/threepids/email/nope.eml"
    }))
    .unwrap();
    let error =
        TemplateGenerator::new(&Medium::Email, &domain(), &identity(), &config).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("classpath:/threepids/email/nope.eml"),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .contains("`threepid.medium.email.generators.template.invite`")
    );

    let config: TemplateConfig = serde_json::from_value(serde_json::json!({
        "invite": "classpath:/threepids/email/invite-template.eml",
        "session": {"validation": "classpath:threepids/email/validate-template.eml"},
        "generic": {"matrixId": "classpath:/threepids/email/mxid-template.eml"},
    }))
    .unwrap();
    assert!(TemplateGenerator::new(&Medium::Email, &domain(), &identity(), &config).is_ok());
}

#[test]
fn mxisd_v1_2_local_and_remote_templates_are_chosen_by_the_session_mode() {
    let dir = tempfile::tempdir().unwrap();
    let local = write(&dir, "local.txt", "local %VALIDATION_TOKEN%\n");
    let remote_path = write(&dir, "remote.txt", "remote %VALIDATION_TOKEN%\n");
    let config: TemplateConfig = serde_json::from_value(serde_json::json!({
        "session": {"validation": {
            "local": local.to_str().unwrap(),
            "remote": remote_path.to_str().unwrap(),
        }}
    }))
    .unwrap();
    let generator = generator(Medium::Msisdn, &config);
    let local_sms = render_sms(&generator, &sms_notice("447911123456", SessionMode::Local));
    let remote_sms = render_sms(&generator, &sms_notice("447911123456", remote()));
    assert_eq!(local_sms.text, "local 123456");
    assert_eq!(remote_sms.text, "remote 123456");
}

#[test]
fn every_configured_template_is_checked_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("gone.eml");
    let config: TemplateConfig = serde_json::from_value(serde_json::json!({
        "session": {"unbind": {"notification": missing.to_str().unwrap()}}
    }))
    .unwrap();
    let error =
        TemplateGenerator::new(&Medium::Email, &domain(), &identity(), &config).unwrap_err();
    assert!(
        error.to_string().contains("session.unbind.notification"),
        "{error}"
    );
}
