use std::sync::{Arc, Mutex};

use mockall::Sequence;
use mockall::predicate::eq;
use verity_domain::{
    EmailAddress, Medium, Msisdn, SendAttempt, ServerLabel, SessionParts, ThreePid, Timestamp,
    TokenKind, ValidationToken,
};

use super::*;
use crate::ports::driven::{
    EmailMessage, MockClock, MockNotificationConnector, MockNotificationGenerator,
    MockSecretGenerator, MockSessionStore, Notification, SmsMessage,
};

const T0: u64 = 1_700_000_000_000;
const DAY: u64 = 24 * 60 * 60 * 1000;

fn root() -> ServerLabel {
    ServerLabel::parse("root").unwrap()
}

fn settings() -> ValidationSettings {
    ValidationSettings {
        domain: MatrixDomain::parse("example.org").unwrap(),
        policy: ValidationPolicy::defaults(root()),
        rules: SessionRules::default(),
        link_base: "https://id.example.org/_matrix/identity/v2".into(),
    }
}

fn email(address: &str) -> ThreePid {
    ThreePid::Email(EmailAddress::parse(address).unwrap())
}

fn secret(s: &str) -> ClientSecret {
    ClientSecret::parse(s).unwrap()
}

fn request(threepid: ThreePid, attempt: u64) -> RequestToken {
    RequestToken {
        threepid,
        client_secret: secret("s3cret"),
        send_attempt: SendAttempt::new(attempt),
        next_link: None,
    }
}

/// The mocks, configured by each test before the service is built.
struct Mocks {
    sessions: MockSessionStore,
    generator: MockNotificationGenerator,
    connector: MockNotificationConnector,
    now: u64,
    settings: ValidationSettings,
}

impl Mocks {
    fn new() -> Self {
        Self {
            sessions: MockSessionStore::new(),
            generator: MockNotificationGenerator::new(),
            connector: MockNotificationConnector::new(),
            now: T0,
            settings: settings(),
        }
    }

    /// The generator renders a plain message; the connector delivers it.
    fn delivering(mut self) -> Self {
        self.generator
            .expect_validation()
            .returning(|notice| Ok(message_for(&notice.threepid)));
        self.connector.expect_send().returning(|_| Ok(()));
        self
    }

    fn build(self) -> ValidationService {
        let mut clock = MockClock::new();
        let now = self.now;
        clock
            .expect_now()
            .returning(move || Timestamp::from_millis(now));
        let mut secrets = MockSecretGenerator::new();
        secrets
            .expect_session_id()
            .returning(|| SessionId::parse("newsid").unwrap());
        secrets.expect_validation_token().returning(|kind| {
            ValidationToken::parse(if kind == TokenKind::SMS {
                "123456"
            } else {
                "linktoken"
            })
            .unwrap()
        });
        let handler = |g: MockNotificationGenerator, c: MockNotificationConnector| MediumHandler {
            generator: Arc::new(g),
            connector: Arc::new(c),
        };
        // Both media share the one generator/connector pair of the test.
        let shared = handler(self.generator, self.connector);
        let notifier = Notifier::new()
            .with(Medium::Email, shared.clone())
            .with(Medium::Msisdn, shared);
        ValidationService::new(
            Arc::new(self.sessions),
            notifier,
            Arc::new(clock),
            Arc::new(secrets),
            self.settings,
        )
    }
}

fn message_for(threepid: &ThreePid) -> Notification {
    match threepid {
        ThreePid::Msisdn(to) => Notification::Sms(SmsMessage {
            to: to.clone(),
            text: "code".into(),
        }),
        ThreePid::Email(to) => Notification::Email(EmailMessage {
            to: to.clone(),
            subject: "s".into(),
            text: "t".into(),
            html: None,
        }),
        ThreePid::Other { .. } => unreachable!(),
    }
}

fn stored(
    threepid: ThreePid,
    attempt: u64,
    created: u64,
    validated: Option<u64>,
) -> ValidationSession {
    ValidationSession::from_parts(SessionParts {
        id: SessionId::parse("oldsid").unwrap(),
        client_secret: secret("s3cret"),
        threepid,
        token: ValidationToken::parse("oldtoken").unwrap(),
        send_attempt: SendAttempt::new(attempt),
        next_link: Some("https://app.example.org/done".into()),
        mode: SessionMode::LocalOfferRemote(root()),
        created_at: Timestamp::from_millis(created),
        validated_at: validated.map(Timestamp::from_millis),
        token_attempts: 0,
        remote: None,
        bound_to: None,
    })
}

#[path = "validation_request_tests.rs"]
mod request;
#[path = "validation_submit_tests.rs"]
mod submit;
