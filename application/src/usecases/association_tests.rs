use std::sync::{Arc, Mutex};

use mockall::Sequence;
use mockall::predicate::eq;
use pretty_assertions::assert_eq;
use serde_json::json;
use verity_domain::{
    ClientSecret, SendAttempt, ServerLabel, SessionId, SessionParts, Timestamp, ValidationSession,
    ValidationToken,
};

use super::*;
use crate::ports::driven::MockSigner;
use crate::ports::driven::{
    BackendError, Change, MockBindingStore, MockClock, MockIndexRefresh, MockSessionStore,
};
use crate::ports::driving::Association as _;
use crate::usecases::test_support::{binding, email, user};
use verity_domain::SessionMode;

const NOW: u64 = 1_700_000_000_000;
const HOUR: u64 = 3_600_000;

fn sid() -> SessionId {
    SessionId::parse("sid1").unwrap()
}

fn secret() -> ClientSecret {
    ClientSecret::parse("s3cret").unwrap()
}

/// A session for alice@example.org created an hour ago, validated `validated` hours ago.
fn session(validated: Option<u64>, mode: SessionMode) -> ValidationSession {
    ValidationSession::from_parts(SessionParts {
        id: sid(),
        client_secret: secret(),
        threepid: email("alice@example.org"),
        token: ValidationToken::parse("token").unwrap(),
        send_attempt: SendAttempt::new(1),
        next_link: None,
        mode,
        created_at: Timestamp::from_millis(NOW - HOUR),
        validated_at: validated.map(|hours| Timestamp::from_millis(NOW - hours * HOUR)),
        token_attempts: 1,
        remote: None,
        bound_to: None,
    })
}

fn sessions(found: Option<ValidationSession>) -> MockSessionStore {
    let mut sessions = MockSessionStore::new();
    sessions
        .expect_find()
        .with(eq(sid()))
        .returning(move |_| Ok(found.clone()));
    sessions
}

/// Signs by adding a marker, so the test sees exactly what was signed.
fn keys() -> MockSigner {
    let mut keys = MockSigner::new();
    keys.expect_sign().returning(|object| {
        let signed = object.with_member(
            "signatures",
            json!({"id.example.org": {"ed25519:0": "sig"}}),
        );
        Ok(verity_domain::SignedJson::parse(signed.as_str()).unwrap())
    });
    keys
}

/// The lookup table as a bind sees it: expects exactly `addresses` refreshed, in this order, and
/// fails the test on any other refresh (none given: nothing may be refreshed).
fn refreshes(addresses: &[&str]) -> MockIndexRefresh {
    let mut index = MockIndexRefresh::new();
    let mut order = Sequence::new();
    for address in addresses {
        index
            .expect_refresh()
            .with(eq(email(address)))
            .times(1)
            .in_sequence(&mut order)
            .returning(|_| Ok(()));
    }
    index
}

/// A binding store where alice@example.org is bound to `bound`, if anyone: a bind at `NOW`
/// records its binding, an unbind removes the binding only when it names the bound user.
fn bindings(bound: Option<&str>) -> MockBindingStore {
    let bound = Arc::new(Mutex::new(bound.map(user)));
    let mut store = MockBindingStore::new();
    let on_bind = bound.clone();
    store
        .expect_bind()
        .withf(|binding, at| {
            binding.threepid == email("alice@example.org") && at.as_millis() == NOW
        })
        .returning(move |binding, _| {
            *on_bind.lock().unwrap() = Some(binding.user_id.clone());
            Ok(())
        });
    store.expect_unbind().returning(move |binding, _| {
        let mut bound = bound.lock().unwrap();
        let removed = bound.as_ref() == Some(&binding.user_id);
        if removed {
            *bound = None;
        }
        Ok(removed)
    });
    store
}

/// The use case over mocks of its ports: `index` is the lookup table it refreshes.
fn service(
    sessions: MockSessionStore,
    bindings: Option<MockBindingStore>,
    index: MockIndexRefresh,
    settings: AssociationSettings,
) -> AssociationService {
    let mut clock = MockClock::new();
    clock.expect_now().returning(|| Timestamp::from_millis(NOW));
    AssociationService::new(
        Arc::new(sessions),
        bindings.map(|b| Arc::new(b) as Arc<dyn BindingStore>),
        Arc::new(index),
        Arc::new(keys()),
        Arc::new(clock),
        settings,
    )
}

fn settings() -> AssociationSettings {
    AssociationSettings {
        rules: SessionRules::default(),
        unbind_enabled: true,
    }
}

fn bind(mxid: &str, requester: Option<&str>) -> Bind {
    Bind {
        sid: sid(),
        client_secret: secret(),
        user_id: user(mxid),
        requester: requester.map(user),
    }
}

fn unbind(proof: UnbindProof) -> Unbind {
    Unbind {
        user_id: user("@alice:example.org"),
        threepid: email("alice@example.org"),
        proof,
    }
}

fn by_session() -> UnbindProof {
    UnbindProof::Session {
        sid: sid(),
        client_secret: secret(),
    }
}

#[tokio::test]
async fn a_bind_stores_the_binding_then_refreshes_its_3pid_and_answers_the_signed_association() {
    let mut order = Sequence::new();
    let mut store = MockBindingStore::new();
    store
        .expect_bind()
        .with(
            eq(binding("alice@example.org", "@alice:example.org")),
            eq(Timestamp::from_millis(NOW)),
        )
        .times(1)
        .in_sequence(&mut order)
        .returning(|_, _| Ok(()));
    // The table reads the backends again: the binding must be stored before.
    let mut index = MockIndexRefresh::new();
    index
        .expect_refresh()
        .with(eq(email("alice@example.org")))
        .times(1)
        .in_sequence(&mut order)
        .returning(|_| Ok(()));
    let service = service(
        sessions(Some(session(Some(0), SessionMode::Local))),
        Some(store),
        index,
        settings(),
    );
    let signed = service
        .bind(bind("@alice:example.org", Some("@alice:example.org")))
        .await
        .unwrap()
        .to_value();
    assert_eq!(
        signed,
        json!({
            "address": "alice@example.org",
            "medium": "email",
            "mxid": "@alice:example.org",
            "not_before": NOW,
            "not_after": NOW + 3_153_600_000_000u64,
            "ts": NOW,
            "signatures": {"id.example.org": {"ed25519:0": "sig"}},
        })
    );
}

#[tokio::test]
async fn binding_again_stores_the_new_user_refreshes_the_3pid_and_records_it_for_the_remote_step() {
    let mut store = sessions(Some(session(
        Some(0),
        SessionMode::LocalOfferRemote(label()),
    )));
    // The remote step is offered: whom it was bound to here is recorded for it.
    store
        .expect_record_local_bind()
        .withf(|id, bound| id.as_str() == "sid1" && bound == &user("@alice:example.org"))
        .times(1)
        .returning(|_, _| Ok(Change::Applied));
    let mut recorded = MockBindingStore::new();
    recorded
        .expect_bind()
        .with(
            eq(binding("alice@example.org", "@alice:example.org")),
            eq(Timestamp::from_millis(NOW)),
        )
        .times(1)
        .returning(|_, _| Ok(()));
    let service = service(
        store,
        Some(recorded),
        refreshes(&["alice@example.org"]),
        settings(),
    );
    service
        .bind(bind("@alice:example.org", None))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_v2_token_may_bind_its_own_user_only() {
    // Neither the session, the store nor the table is touched.
    let service = service(
        MockSessionStore::new(),
        Some(MockBindingStore::new()),
        refreshes(&[]),
        settings(),
    );
    let err = service
        .bind(bind("@bob:example.org", Some("@alice:example.org")))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, AssociationError::NotTheRequester(u) if u.as_str() == "@bob:example.org"),
        "{err:?}"
    );
}

#[tokio::test]
async fn v1_binds_any_user_as_v1_had_no_token() {
    let mut store = MockBindingStore::new();
    store
        .expect_bind()
        .with(
            eq(binding("alice@example.org", "@bob:other.example")),
            eq(Timestamp::from_millis(NOW)),
        )
        .times(1)
        .returning(|_, _| Ok(()));
    let service = service(
        sessions(Some(session(Some(0), SessionMode::Local))),
        Some(store),
        refreshes(&["alice@example.org"]),
        settings(),
    );
    let signed = service
        .bind(bind("@bob:other.example", None))
        .await
        .unwrap()
        .to_value();
    assert_eq!(signed["mxid"], "@bob:other.example");
}

fn label() -> ServerLabel {
    ServerLabel::parse("root").unwrap()
}

#[tokio::test]
async fn a_remote_only_session_is_not_bound_here() {
    // Nothing is stored and the table is not refreshed.
    let service = service(
        sessions(Some(session(Some(0), SessionMode::RemotePending(label())))),
        Some(MockBindingStore::new()),
        refreshes(&[]),
        settings(),
    );
    let err = service
        .bind(bind("@alice:example.org", None))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, AssociationError::RemoteValidationRequired(l) if l.as_str() == "root"),
        "{err:?}"
    );
}

/// A stored session, another client secret to present, and the error expected.
type Case = (
    Option<ValidationSession>,
    Option<&'static str>,
    fn(&AssociationError) -> bool,
);

#[tokio::test]
async fn only_a_validated_live_session_of_this_client_binds() {
    let cases: [Case; 4] = [
        (None, None, |e| {
            matches!(e, AssociationError::NoValidSession)
        }),
        (
            Some(session(Some(0), SessionMode::Local)),
            Some("other"),
            |e| matches!(e, AssociationError::NoValidSession),
        ),
        (Some(session(None, SessionMode::Local)), None, |e| {
            matches!(e, AssociationError::NotValidated)
        }),
        // Validated 25 hours ago: past the 24 h lifetime.
        (Some(session(Some(25), SessionMode::Local)), None, |e| {
            matches!(e, AssociationError::SessionExpired)
        }),
    ];
    for (found, other_secret, expected) in cases {
        let service = service(
            sessions(found),
            Some(MockBindingStore::new()),
            refreshes(&[]),
            settings(),
        );
        let mut request = bind("@alice:example.org", None);
        if let Some(other) = other_secret {
            request.client_secret = ClientSecret::parse(other).unwrap();
        }
        let err = service.bind(request).await.unwrap_err();
        assert!(expected(&err), "{err:?}");
    }
}

#[tokio::test]
async fn with_the_binding_store_off_a_bind_is_only_signed() {
    // No store, and the table (which only Verity's store feeds) is not refreshed.
    let service = service(
        sessions(Some(session(Some(0), SessionMode::Local))),
        None,
        refreshes(&[]),
        settings(),
    );
    let signed = service
        .bind(bind("@alice:example.org", None))
        .await
        .unwrap()
        .to_value();
    assert_eq!(signed["mxid"], "@alice:example.org");
}

#[tokio::test]
async fn an_unbind_by_session_removes_the_binding_and_refreshes_its_3pid() {
    let service = service(
        sessions(Some(session(Some(0), SessionMode::Local))),
        Some(bindings(Some("@alice:example.org"))),
        // Once: the second unbind removes nothing.
        refreshes(&["alice@example.org"]),
        settings(),
    );
    service.unbind(unbind(by_session())).await.unwrap();
    // Again: nothing is bound any more, and that is not an error.
    service.unbind(unbind(by_session())).await.unwrap();
}

#[tokio::test]
async fn an_unbind_for_another_user_leaves_the_binding_and_the_table() {
    let service = service(
        sessions(Some(session(Some(0), SessionMode::Local))),
        Some(bindings(Some("@alice:example.org"))),
        refreshes(&[]),
        settings(),
    );
    let mut request = unbind(by_session());
    request.user_id = user("@mallory:example.org");
    service.unbind(request).await.unwrap();
}

#[tokio::test]
async fn an_unbind_needs_a_session_of_the_same_3pid() {
    let service = service(
        sessions(Some(session(Some(0), SessionMode::Local))),
        Some(MockBindingStore::new()),
        refreshes(&[]),
        settings(),
    );
    let mut request = unbind(by_session());
    request.threepid = email("bob@example.org");
    let err = service.unbind(request).await.unwrap_err();
    assert!(matches!(err, AssociationError::ThreePidMismatch), "{err:?}");
}

#[tokio::test]
async fn an_unproven_unbind_is_refused_and_signatures_need_a_homeserver_client() {
    let service = service(
        MockSessionStore::new(),
        Some(MockBindingStore::new()),
        refreshes(&[]),
        settings(),
    );
    let err = service.unbind(unbind(UnbindProof::None)).await.unwrap_err();
    assert!(matches!(err, AssociationError::ProofRequired), "{err:?}");
    let signed = signed::request("example.org", "id.example.org", "@alice:example.org");
    let err = service
        .unbind(unbind(UnbindProof::HomeserverSignature(signed)))
        .await
        .unwrap_err();
    assert!(
        matches!(err, AssociationError::HomeserverSignatureUnsupported),
        "{err:?}"
    );
}

#[path = "association_signed_tests.rs"]
mod signed;

#[tokio::test]
async fn unbinding_can_be_switched_off() {
    let service = service(
        MockSessionStore::new(),
        Some(MockBindingStore::new()),
        refreshes(&[]),
        AssociationSettings {
            unbind_enabled: false,
            ..settings()
        },
    );
    let err = service.unbind(unbind(by_session())).await.unwrap_err();
    assert!(matches!(err, AssociationError::UnbindDisabled), "{err:?}");
}

#[tokio::test]
async fn a_failing_store_is_an_internal_error_and_refreshes_nothing() {
    let mut store = MockBindingStore::new();
    store
        .expect_bind()
        .returning(|_, _| Err(crate::ports::driven::StoreError::NotFound));
    let service = service(
        sessions(Some(session(Some(0), SessionMode::Local))),
        Some(store),
        refreshes(&[]),
        settings(),
    );
    let err = service
        .bind(bind("@alice:example.org", None))
        .await
        .unwrap_err();
    assert!(matches!(err, AssociationError::Internal(_)), "{err:?}");
}

#[tokio::test]
async fn a_backend_failing_while_the_table_is_refreshed_fails_the_bind_as_a_backend_error() {
    let mut index = MockIndexRefresh::new();
    index
        .expect_refresh()
        .times(1)
        .returning(|_| Err(BackendError::Corrupt("down".into()).into()));
    let service = service(
        sessions(Some(session(Some(0), SessionMode::Local))),
        Some(bindings(None)),
        index,
        settings(),
    );
    let err = service
        .bind(bind("@alice:example.org", None))
        .await
        .unwrap_err();
    assert!(matches!(err, AssociationError::Backend(_)), "{err:?}");
}
