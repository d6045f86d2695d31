//! The unbind notification: sent to the 3PID after every accepted unbind, through the medium's
//! generator and connector; never failing the unbind.
use std::sync::Arc;

use mockall::predicate::eq;
use verity_domain::{
    ClientSecret, EmailAddress, LimitKey, Medium, RetryAfter, SendAttempt, SessionId, SessionMode,
    SessionParts, ThreePid, Timestamp, ValidationSession, ValidationToken,
};

use super::*;
use crate::ports::driven::MockSigner;
use crate::ports::driven::{
    EmailMessage, MockBindingStore, MockIndexRefresh, MockNotificationConnector,
    MockNotificationGenerator, MockRateLimiter, MockSessionStore, Notification, NotifyError,
};
use crate::ports::driving::Association as _;
use crate::usecases::test_support::{FakeClock, email, user};
use crate::usecases::{MediumHandler, Notifier};

const NOW: u64 = 1_700_000_000_000;

fn alice() -> ThreePid {
    email("alice@example.org")
}

fn sid() -> SessionId {
    SessionId::parse("sid1").unwrap()
}

fn secret() -> ClientSecret {
    ClientSecret::parse("s3cret").unwrap()
}

/// A session that validated alice@example.org a moment ago.
fn sessions() -> MockSessionStore {
    let session = ValidationSession::from_parts(SessionParts {
        id: sid(),
        client_secret: secret(),
        threepid: alice(),
        token: ValidationToken::parse("token").unwrap(),
        send_attempt: SendAttempt::new(1),
        next_link: None,
        mode: SessionMode::Local,
        created_at: Timestamp::from_millis(NOW - 1000),
        validated_at: Some(Timestamp::from_millis(NOW - 500)),
        token_attempts: 1,
        remote: None,
        bound_to: None,
    });
    let mut sessions = MockSessionStore::new();
    sessions
        .expect_find()
        .with(eq(sid()))
        .returning(move |_| Ok(Some(session.clone())));
    sessions
}

/// A binding store where the unbind removes (or finds nothing to remove: `removed`).
fn bindings(removed: bool) -> MockBindingStore {
    let mut bindings = MockBindingStore::new();
    bindings.expect_unbind().returning(move |_, _| Ok(removed));
    bindings
}

/// The lookup table: refreshed after an unbind that removed something, which is not what these
/// tests are about.
fn index() -> Arc<MockIndexRefresh> {
    let mut index = MockIndexRefresh::new();
    index.expect_refresh().returning(|_| Ok(()));
    Arc::new(index)
}

async fn service(bindings: Option<MockBindingStore>) -> AssociationService {
    AssociationService::new(
        Arc::new(sessions()),
        bindings.map(|b| Arc::new(b) as Arc<dyn BindingStore>),
        index(),
        Arc::new(MockSigner::new()),
        FakeClock::at(NOW),
        AssociationSettings {
            rules: SessionRules::default(),
            unbind_enabled: true,
        },
    )
}

fn notifier(
    generator: MockNotificationGenerator,
    connector: MockNotificationConnector,
) -> Notifier {
    Notifier::new().with(
        Medium::Email,
        MediumHandler {
            generator: Arc::new(generator),
            connector: Arc::new(connector),
        },
    )
}

fn mail_to_alice() -> Notification {
    Notification::Email(EmailMessage {
        to: EmailAddress::parse("alice@example.org").unwrap(),
        subject: "Your email address was unlinked".into(),
        text: "unlinked".into(),
        html: None,
    })
}

/// A generator that renders the unbind message for alice exactly `times` times.
fn generator(times: usize) -> MockNotificationGenerator {
    let mut generator = MockNotificationGenerator::new();
    generator
        .expect_unbind()
        .with(eq(alice()))
        .times(times)
        .returning(|_| Ok(mail_to_alice()));
    generator
}

fn unbind_alice() -> Unbind {
    Unbind {
        user_id: user("@alice:example.org"),
        threepid: alice(),
        proof: UnbindProof::Session {
            sid: sid(),
            client_secret: secret(),
        },
    }
}

#[tokio::test]
async fn an_accepted_unbind_sends_the_unbind_message_to_the_unbound_3pid() {
    let mut connector = MockNotificationConnector::new();
    connector
        .expect_send()
        .with(eq(mail_to_alice()))
        .times(1)
        .returning(|_| Ok(()));
    let service = service(Some(bindings(true)))
        .await
        .with_unbind_notifications(notifier(generator(1), connector));
    service.unbind(unbind_alice()).await.unwrap();
}

#[tokio::test]
async fn an_unbind_that_removed_nothing_here_is_notified_too_as_ma1sd_does() {
    let mut connector = MockNotificationConnector::new();
    connector.expect_send().times(1).returning(|_| Ok(()));
    let service = service(None)
        .await
        .with_unbind_notifications(notifier(generator(1), connector));
    service.unbind(unbind_alice()).await.unwrap();
}

#[tokio::test]
async fn a_notification_that_cannot_be_sent_does_not_fail_the_unbind() {
    let mut connector = MockNotificationConnector::new();
    connector.expect_send().times(1).returning(|_| {
        Err(NotifyError::Unavailable(Box::new(std::io::Error::other(
            "smtp down",
        ))))
    });
    let mut store = MockBindingStore::new();
    store
        .expect_unbind()
        .withf(|binding, _| binding.threepid == alice())
        .times(1)
        .returning(|_, _| Ok(true));
    let service = service(Some(store))
        .await
        .with_unbind_notifications(notifier(generator(1), connector));
    service.unbind(unbind_alice()).await.unwrap();
}

#[tokio::test]
async fn a_template_that_cannot_be_rendered_does_not_fail_the_unbind() {
    let mut generator = MockNotificationGenerator::new();
    generator
        .expect_unbind()
        .times(1)
        .returning(|_| Err(NotifyError::Template("broken".into())));
    let mut connector = MockNotificationConnector::new();
    connector.expect_send().never();
    let service = service(Some(bindings(true)))
        .await
        .with_unbind_notifications(notifier(generator, connector));
    service.unbind(unbind_alice()).await.unwrap();
}

#[tokio::test]
async fn a_refused_unbind_notifies_nobody() {
    let mut connector = MockNotificationConnector::new();
    connector.expect_send().never();
    let service = service(Some(MockBindingStore::new()))
        .await
        .with_unbind_notifications(notifier(generator(0), connector));
    let mut request = unbind_alice();
    request.threepid = email("bob@example.org");
    let error = service.unbind(request).await.unwrap_err();
    assert!(
        matches!(error, AssociationError::ThreePidMismatch),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_3pid_whose_medium_has_no_handler_is_unbound_without_a_message() {
    let mut connector = MockNotificationConnector::new();
    connector.expect_send().never();
    let sms_only = Notifier::new().with(
        Medium::Msisdn,
        MediumHandler {
            generator: Arc::new(generator(0)),
            connector: Arc::new(connector),
        },
    );
    let service = service(Some(bindings(true)))
        .await
        .with_unbind_notifications(sms_only);
    service.unbind(unbind_alice()).await.unwrap();
}

#[tokio::test]
async fn past_the_destinations_allowance_the_unbind_stands_and_nobody_is_notified() {
    let mut connector = MockNotificationConnector::new();
    connector.expect_send().never();
    let mut limiter = MockRateLimiter::new();
    limiter
        .expect_check()
        .withf(|key, cost| *key == LimitKey::Destination(alice()) && *cost == 1)
        .times(1)
        .returning(|_, _| Err(RetryAfter::new(std::time::Duration::from_secs(60))));
    let service = service(Some(bindings(true)))
        .await
        .with_unbind_notifications(notifier(generator(0), connector))
        .with_notification_limits(Arc::new(limiter));
    service.unbind(unbind_alice()).await.unwrap();
}

#[tokio::test]
async fn within_the_destinations_allowance_the_notification_is_counted_and_sent() {
    let mut connector = MockNotificationConnector::new();
    connector.expect_send().times(1).returning(|_| Ok(()));
    let mut limiter = MockRateLimiter::new();
    limiter
        .expect_check()
        .withf(|key, _| *key == LimitKey::Destination(alice()))
        .times(1)
        .returning(|_, _| Ok(()));
    let service = service(None)
        .await
        .with_unbind_notifications(notifier(generator(1), connector))
        .with_notification_limits(Arc::new(limiter));
    service.unbind(unbind_alice()).await.unwrap();
}
