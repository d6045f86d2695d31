//! Integration tests of the notification adapters: the template generator on its own, and each
//! connector against a real peer from `verity-testkit` on a loopback port.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod config;
mod file_and_none;
mod generator;
mod invite;
mod logs;
mod smtp;
mod templates_from_disk;
mod twilio;
mod unbind;

use verity_adapter_notify::{SenderIdentity, TemplateConfig, TemplateGenerator};
use verity_application::ports::driven::{
    EmailMessage, Notification, NotificationGenerator, SmsMessage, ValidationNotice,
};
use verity_domain::{
    EmailAddress, MatrixDomain, Medium, Msisdn, ServerLabel, SessionId, SessionMode, ThreePid,
    ValidationToken,
};

pub const LINK: &str = "https://id.example.org/_matrix/identity/api/v1/validate/email/submitToken?sid=s1&client_secret=c&token=tok123";

pub fn domain() -> MatrixDomain {
    MatrixDomain::parse("example.org").unwrap()
}

pub fn identity() -> SenderIdentity {
    SenderIdentity {
        from: "identity@example.org".into(),
        name: "Example Identity".into(),
    }
}

pub fn remote() -> SessionMode {
    SessionMode::RemotePending(ServerLabel::parse("matrix-org").unwrap())
}

pub fn notice(threepid: ThreePid, link: &str, token: &str, mode: SessionMode) -> ValidationNotice {
    ValidationNotice {
        threepid,
        sid: SessionId::parse("s1").unwrap(),
        token: ValidationToken::parse(token).unwrap(),
        link: link.to_owned(),
        mode,
    }
}

pub fn email_notice(address: &str, link: &str) -> ValidationNotice {
    notice(
        ThreePid::Email(EmailAddress::parse(address).unwrap()),
        link,
        "tok123",
        SessionMode::Local,
    )
}

pub fn sms_notice(digits: &str, mode: SessionMode) -> ValidationNotice {
    notice(
        ThreePid::Msisdn(Msisdn::parse(digits).unwrap()),
        "https://id.example.org/submit",
        "123456",
        mode,
    )
}

pub fn generator(medium: Medium, config: &TemplateConfig) -> TemplateGenerator {
    TemplateGenerator::new(&medium, &domain(), &identity(), config).unwrap()
}

/// The built-in email generator's message for `notice`.
pub fn render_email(generator: &TemplateGenerator, notice: &ValidationNotice) -> EmailMessage {
    match generator.validation(notice).unwrap() {
        Notification::Email(email) => email,
        other => panic!("expected an email, got {other:?}"),
    }
}

pub fn render_sms(generator: &TemplateGenerator, notice: &ValidationNotice) -> SmsMessage {
    match generator.validation(notice).unwrap() {
        Notification::Sms(sms) => sms,
        other => panic!("expected an SMS, got {other:?}"),
    }
}

/// A config whose `session.validation` is the file `path`.
pub fn validation_template(path: &std::path::Path) -> TemplateConfig {
    serde_json::from_value(serde_json::json!({
        "session": {"validation": path.to_str().unwrap()}
    }))
    .unwrap()
}

/// Writes `content` to `name` in `dir` and returns the path.
pub fn write(dir: &tempfile::TempDir, name: &str, content: &str) -> std::path::PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, content).unwrap();
    path
}

pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
