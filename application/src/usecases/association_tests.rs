use std::sync::Arc;

use mockall::predicate::eq;
use pretty_assertions::assert_eq;
use serde_json::json;
use verity_domain::{
    ClientSecret, LookupHash, SendAttempt, ServerLabel, SessionId, SessionParts, ThreePid,
    Timestamp, UserId, ValidationSession, ValidationToken,
};

use super::*;
use crate::ports::driven::MockSigner;
use crate::ports::driven::{
    Change, IdentityBackend, MockBindingStore, MockClock, MockSessionStore,
};
use crate::ports::driving::Association as _;
use crate::usecases::hash_index::{HashingSettings, Rebuild, RotationPolicy};
use crate::usecases::test_support::{
    CountingPeppers, FakeBackend, FakeClock, FakeHashStore, binding, email, user,
};
use crate::usecases::{Backends, HashIndex};
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

struct World {
    own: Arc<FakeBackend>,
    index: Arc<HashIndex>,
}

/// An index over one backend, `own`, that the mocked binding store writes through to.
async fn world() -> World {
    let own = FakeBackend::new("bindings", &[]);
    let index = Arc::new(HashIndex::new(
        Arc::new(FakeHashStore::default()),
        Backends::new(vec![own.clone() as Arc<dyn IdentityBackend>]),
        Arc::new(CountingPeppers::default()),
        FakeClock::at(NOW),
        HashingSettings {
            enabled: true,
            pepper_length: 20,
            rotation: RotationPolicy::Never,
            page_size: 100,
        },
    ));
    index.start().await.unwrap();
    index.rebuild(Rebuild::SamePepper).await.unwrap();
    World { own, index }
}

impl World {
    /// A binding store that records into `own`.
    fn bindings(&self) -> MockBindingStore {
        let mut store = MockBindingStore::new();
        let own = self.own.clone();
        store
            .expect_bind()
            .withf(|_, at| at.as_millis() == NOW)
            .returning(move |binding, _| {
                own.set(binding);
                Ok(())
            });
        let own = self.own.clone();
        store.expect_unbind().returning(move |binding, _| {
            let bound = own.bindings.lock().unwrap().get(&binding.threepid).cloned();
            let removed = bound.as_ref() == Some(&binding.user_id);
            if removed {
                own.unset(&binding.threepid);
            }
            Ok(removed)
        });
        store
    }

    fn service(
        &self,
        sessions: MockSessionStore,
        bindings: Option<MockBindingStore>,
        settings: AssociationSettings,
    ) -> AssociationService {
        let mut clock = MockClock::new();
        clock.expect_now().returning(|| Timestamp::from_millis(NOW));
        AssociationService::new(
            Arc::new(sessions),
            bindings.map(|b| Arc::new(b) as Arc<dyn BindingStore>),
            self.index.clone(),
            Arc::new(keys()),
            Arc::new(clock),
            settings,
        )
    }

    async fn hashed(&self, threepid: &ThreePid) -> Option<UserId> {
        let table = self.index.published().unwrap();
        let hash = LookupHash::of(threepid, &table.pepper);
        self.index
            .find(table.pepper.as_str(), &[hash])
            .unwrap()
            .pop()
            .map(|(_, user_id)| user_id)
    }
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
async fn a_bind_stores_the_binding_updates_the_table_and_answers_the_signed_association() {
    let world = world().await;
    let service = world.service(
        sessions(Some(session(Some(0), SessionMode::Local))),
        Some(world.bindings()),
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
    assert_eq!(
        world.hashed(&email("alice@example.org")).await,
        Some(user("@alice:example.org"))
    );
}

#[tokio::test]
async fn binding_again_replaces_the_user_in_the_table() {
    let world = world().await;
    world
        .own
        .set(&binding("alice@example.org", "@old:example.org"));
    world
        .index
        .refresh(&email("alice@example.org"))
        .await
        .unwrap();
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
    let service = world.service(store, Some(world.bindings()), settings());
    service
        .bind(bind("@alice:example.org", None))
        .await
        .unwrap();
    assert_eq!(
        world.hashed(&email("alice@example.org")).await,
        Some(user("@alice:example.org"))
    );
}

#[tokio::test]
async fn a_v2_token_may_bind_its_own_user_only() {
    let world = world().await;
    // Neither the session nor the store is touched.
    let service = world.service(
        MockSessionStore::new(),
        Some(MockBindingStore::new()),
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
    let world = world().await;
    let service = world.service(
        sessions(Some(session(Some(0), SessionMode::Local))),
        Some(world.bindings()),
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
    let world = world().await;
    let service = world.service(
        sessions(Some(session(Some(0), SessionMode::RemotePending(label())))),
        Some(MockBindingStore::new()),
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
    assert_eq!(world.hashed(&email("alice@example.org")).await, None);
}

/// A stored session, another client secret to present, and the error expected.
type Case = (
    Option<ValidationSession>,
    Option<&'static str>,
    fn(&AssociationError) -> bool,
);

#[tokio::test]
async fn only_a_validated_live_session_of_this_client_binds() {
    let world = world().await;
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
        let service = world.service(sessions(found), Some(MockBindingStore::new()), settings());
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
    let world = world().await;
    let service = world.service(
        sessions(Some(session(Some(0), SessionMode::Local))),
        None,
        settings(),
    );
    let signed = service
        .bind(bind("@alice:example.org", None))
        .await
        .unwrap()
        .to_value();
    assert_eq!(signed["mxid"], "@alice:example.org");
    assert_eq!(world.hashed(&email("alice@example.org")).await, None);
}

#[tokio::test]
async fn an_unbind_by_session_removes_the_binding_and_its_hash() {
    let world = world().await;
    world
        .own
        .set(&binding("alice@example.org", "@alice:example.org"));
    world
        .index
        .refresh(&email("alice@example.org"))
        .await
        .unwrap();
    let service = world.service(
        sessions(Some(session(Some(0), SessionMode::Local))),
        Some(world.bindings()),
        settings(),
    );
    service.unbind(unbind(by_session())).await.unwrap();
    assert_eq!(world.hashed(&email("alice@example.org")).await, None);
    // Again: nothing is bound any more, and that is not an error.
    service.unbind(unbind(by_session())).await.unwrap();
}

#[tokio::test]
async fn an_unbind_for_another_user_leaves_the_binding() {
    let world = world().await;
    world
        .own
        .set(&binding("alice@example.org", "@alice:example.org"));
    world
        .index
        .refresh(&email("alice@example.org"))
        .await
        .unwrap();
    let service = world.service(
        sessions(Some(session(Some(0), SessionMode::Local))),
        Some(world.bindings()),
        settings(),
    );
    let mut request = unbind(by_session());
    request.user_id = user("@mallory:example.org");
    service.unbind(request).await.unwrap();
    assert_eq!(
        world.hashed(&email("alice@example.org")).await,
        Some(user("@alice:example.org"))
    );
}

#[tokio::test]
async fn an_unbind_needs_a_session_of_the_same_3pid() {
    let world = world().await;
    let service = world.service(
        sessions(Some(session(Some(0), SessionMode::Local))),
        Some(MockBindingStore::new()),
        settings(),
    );
    let mut request = unbind(by_session());
    request.threepid = email("bob@example.org");
    let err = service.unbind(request).await.unwrap_err();
    assert!(matches!(err, AssociationError::ThreePidMismatch), "{err:?}");
}

#[tokio::test]
async fn an_unproven_unbind_is_refused_and_signatures_need_a_homeserver_client() {
    let world = world().await;
    let service = world.service(
        MockSessionStore::new(),
        Some(MockBindingStore::new()),
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
    let world = world().await;
    let service = world.service(
        MockSessionStore::new(),
        Some(MockBindingStore::new()),
        AssociationSettings {
            unbind_enabled: false,
            ..settings()
        },
    );
    let err = service.unbind(unbind(by_session())).await.unwrap_err();
    assert!(matches!(err, AssociationError::UnbindDisabled), "{err:?}");
}

#[tokio::test]
async fn a_failing_store_is_an_internal_error_and_publishes_nothing() {
    let world = world().await;
    let mut store = MockBindingStore::new();
    store
        .expect_bind()
        .returning(|_, _| Err(crate::ports::driven::StoreError::NotFound));
    let service = world.service(
        sessions(Some(session(Some(0), SessionMode::Local))),
        Some(store),
        settings(),
    );
    let err = service
        .bind(bind("@alice:example.org", None))
        .await
        .unwrap_err();
    assert!(matches!(err, AssociationError::Internal(_)), "{err:?}");
}
