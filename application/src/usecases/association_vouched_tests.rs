//! Binds and unbinds the operator vouches for (Sydent's internal API, `verity admin bindings
//! remove`): no session is read, and everything else a bind or unbind does happens.
use std::sync::Arc;

use mockall::predicate::eq;
use pretty_assertions::assert_eq;
use serde_json::json;
use verity_domain::{EmailAddress, Medium, SessionRules, SignedJson, Timestamp};

use super::*;
use crate::ports::driven::{
    EmailMessage, MockBindingStore, MockIndexRefresh, MockNotificationConnector,
    MockNotificationGenerator, MockPendingInvites, MockSessionStore, MockSigner, Notification,
    StoreError,
};
use crate::ports::driving::Association as _;
use crate::usecases::test_support::{FakeClock, email, user};
use crate::usecases::{MediumHandler, Notifier};

const NOW: u64 = 1_700_000_000_000;

fn ginger() -> Binding {
    Binding {
        threepid: email("ginger@example.com"),
        user_id: user("@ginger:example.com"),
    }
}

fn operator() -> Actor {
    Actor::new("root")
}

/// Signs by adding a marker, so the test sees exactly what was signed.
fn signer() -> Arc<MockSigner> {
    let mut signer = MockSigner::new();
    signer.expect_sign().returning(|object| {
        let signed = object.with_member(
            "signatures",
            json!({"id.example.org": {"ed25519:0": "sig"}}),
        );
        Ok(SignedJson::parse(signed.as_str()).unwrap())
    });
    Arc::new(signer)
}

/// A lookup table that expects `times` refreshes of ginger's address.
fn index(times: usize) -> Arc<MockIndexRefresh> {
    let mut index = MockIndexRefresh::new();
    index
        .expect_refresh()
        .with(eq(email("ginger@example.com")))
        .times(times)
        .returning(|_| Ok(()));
    Arc::new(index)
}

/// The service over `bindings`, with no session store expectation: reading a session fails the
/// test.
fn service(
    bindings: MockBindingStore,
    index: Arc<MockIndexRefresh>,
    unbind_enabled: bool,
) -> AssociationService {
    AssociationService::new(
        Arc::new(MockSessionStore::new()),
        Some(Arc::new(bindings) as Arc<dyn BindingStore>),
        index,
        signer(),
        FakeClock::at(NOW),
        AssociationSettings {
            rules: SessionRules::default(),
            unbind_enabled,
        },
    )
}

#[tokio::test]
async fn a_vouched_bind_stores_the_binding_refreshes_the_table_and_signs_the_association() {
    let mut bindings = MockBindingStore::new();
    bindings
        .expect_bind()
        .with(eq(ginger()), eq(Timestamp::from_millis(NOW)))
        .times(1)
        .returning(|_, _| Ok(()));

    let association = service(bindings, index(1), true)
        .bind_vouched(ginger(), &operator())
        .await
        .unwrap();

    assert_eq!(
        association.to_value(),
        json!({
            "address": "ginger@example.com",
            "medium": "email",
            "mxid": "@ginger:example.com",
            "not_before": NOW,
            "not_after": NOW + 3_153_600_000_000u64,
            "ts": NOW,
            "signatures": {"id.example.org": {"ed25519:0": "sig"}},
        })
    );
}

#[tokio::test]
async fn a_vouched_bind_signs_and_queues_the_pending_invites_of_the_address() {
    let mut bindings = MockBindingStore::new();
    bindings.expect_bind().times(1).returning(|_, _| Ok(()));
    let mut invites = MockPendingInvites::new();
    invites
        .expect_on_bind()
        .with(
            eq(email("ginger@example.com")),
            eq(user("@ginger:example.com")),
        )
        .times(1)
        .returning(|_, _| Ok(vec![]));

    service(bindings, index(1), true)
        .with_invites(Arc::new(invites))
        .bind_vouched(ginger(), &operator())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_vouched_bind_that_cannot_be_stored_is_an_error_and_nothing_is_signed() {
    let mut bindings = MockBindingStore::new();
    bindings
        .expect_bind()
        .returning(|_, _| Err(StoreError::Unavailable("down".into())));
    let service = AssociationService::new(
        Arc::new(MockSessionStore::new()),
        Some(Arc::new(bindings) as Arc<dyn BindingStore>),
        index(0),
        Arc::new(MockSigner::new()),
        FakeClock::at(NOW),
        AssociationSettings {
            rules: SessionRules::default(),
            unbind_enabled: true,
        },
    );

    let error = service
        .bind_vouched(ginger(), &operator())
        .await
        .unwrap_err();

    assert!(matches!(error, AssociationError::Internal(_)), "{error:?}");
}

/// Renders and sends the unbind message to ginger exactly `times` times.
fn notifier(times: usize) -> Notifier {
    let message = || {
        Notification::Email(EmailMessage {
            to: EmailAddress::parse("ginger@example.com").unwrap(),
            subject: "unlinked".into(),
            text: "unlinked".into(),
            html: None,
        })
    };
    let mut generator = MockNotificationGenerator::new();
    generator
        .expect_unbind()
        .times(times)
        .returning(move |_| Ok(message()));
    let mut connector = MockNotificationConnector::new();
    connector.expect_send().times(times).returning(|_| Ok(()));
    Notifier::new().with(
        Medium::Email,
        MediumHandler {
            generator: Arc::new(generator),
            connector: Arc::new(connector),
        },
    )
}

#[tokio::test]
async fn a_vouched_unbind_removes_the_binding_refreshes_the_table_and_tells_the_owner_even_when_users_may_not_unbind()
 {
    let mut bindings = MockBindingStore::new();
    bindings
        .expect_unbind()
        .with(eq(ginger()), eq(Timestamp::from_millis(NOW)))
        .times(1)
        .returning(|_, _| Ok(true));

    let removed = service(bindings, index(1), false)
        .with_unbind_notifications(notifier(1))
        .unbind_vouched(ginger(), &operator())
        .await
        .unwrap();

    assert!(removed);
}

#[tokio::test]
async fn a_vouched_unbind_of_what_is_not_bound_says_so_and_neither_refreshes_nor_notifies() {
    let mut bindings = MockBindingStore::new();
    bindings
        .expect_unbind()
        .times(1)
        .returning(|_, _| Ok(false));

    let removed = service(bindings, index(0), true)
        .with_unbind_notifications(notifier(0))
        .unbind_vouched(ginger(), &operator())
        .await
        .unwrap();

    assert!(!removed);
}

#[test]
fn an_actor_is_trimmed_and_never_empty() {
    assert_eq!(Actor::new("  alice ").as_str(), "alice");
    assert_eq!(Actor::new(" ").as_str(), "unknown");
}
