//! The operator's commands over an in-memory invite store and mocked stores: what each reads,
//! what each changes, and what each refuses to change.
use std::sync::Arc;

use mockall::predicate::{always, eq};
use pretty_assertions::assert_eq;
use verity_domain::{
    Delivery, DeliveryState, Invite, InviteToken, KeyId, Pepper, SignedJson, SigningKey, Timestamp,
};

use super::*;
use crate::ports::driven::{
    MockBindingStore, MockHashStore, MockKeyStore, MockSecretGenerator, StoreError, StoredKey,
};
use crate::usecases::invites_test_support::FakeInviteStore;
use crate::usecases::test_support::{CountingPeppers, FakeClock, email, user};

const NOW: u64 = 1_767_225_600_000;

fn actor() -> Actor {
    Actor::new("alice")
}

fn token(raw: &str) -> InviteToken {
    InviteToken::parse(raw).unwrap()
}

fn invite(raw: &str, delivery: Option<(DeliveryState, u32)>) -> Invite {
    Invite {
        token: token(raw),
        threepid: email("bob@example.com"),
        room_id: "!room:example.org".into(),
        sender: user("@inviter:example.org"),
        ephemeral_key: None,
        created_at: Timestamp::from_millis(NOW - 10_000),
        expires_at: Some(Timestamp::from_millis(NOW + 60_000)),
        delivery: delivery.map(|(state, attempts)| Delivery {
            mxid: user("@bob:example.com"),
            signed: SignedJson::parse(
                r#"{"mxid":"@bob:example.com","token":"t","signatures":{"id.example.org":{"ed25519:0":"s"}}}"#,
            )
            .unwrap(),
            state,
            attempts,
            next_attempt: Timestamp::from_millis(NOW + 3_600_000),
        }),
    }
}

fn invites_of(list: Vec<Invite>) -> Arc<FakeInviteStore> {
    let store = FakeInviteStore::default();
    for invite in list {
        store
            .invites
            .lock()
            .unwrap()
            .insert(invite.token.clone(), invite);
    }
    Arc::new(store)
}

struct Parts {
    bindings: MockBindingStore,
    invites: Arc<FakeInviteStore>,
    hashes: MockHashStore,
    keys: MockKeyStore,
    secrets: Arc<dyn SecretGenerator>,
    hashing_enabled: bool,
}

impl Parts {
    /// No expectation anywhere: whatever a test does not set up fails it when called.
    fn new() -> Self {
        Self {
            bindings: MockBindingStore::new(),
            invites: invites_of(vec![]),
            hashes: MockHashStore::new(),
            keys: MockKeyStore::new(),
            secrets: Arc::new(MockSecretGenerator::new()),
            hashing_enabled: true,
        }
    }

    fn service(self) -> AdminService {
        AdminService::new(
            AdminDeps {
                bindings: Arc::new(self.bindings),
                invites: self.invites,
                hashes: Arc::new(self.hashes),
                keys: Arc::new(self.keys),
                secrets: self.secrets,
                clock: FakeClock::at(NOW),
            },
            AdminSettings {
                hashing_enabled: self.hashing_enabled,
                pepper_length: 20,
            },
        )
    }
}

#[tokio::test]
async fn the_bindings_of_a_user_are_read_from_the_binding_store() {
    let mut parts = Parts::new();
    let stored = StoredBinding {
        binding: crate::usecases::test_support::binding("bob@example.com", "@bob:example.com"),
        bound_at: Timestamp::from_millis(NOW),
        imported: false,
    };
    let answer = vec![stored.clone()];
    parts
        .bindings
        .expect_of_user()
        .with(eq(user("@bob:example.com")))
        .times(1)
        .return_once(move |_| Ok(answer));

    let found = parts
        .service()
        .bindings_of(&user("@bob:example.com"))
        .await
        .unwrap();

    assert_eq!(found, vec![stored]);
}

#[tokio::test]
async fn every_invite_is_listed_across_pages_with_its_status() {
    let mut all: Vec<Invite> = (0..PAGE + 2)
        .map(|i| invite(&format!("tok{i:05}"), None))
        .collect();
    all[0].expires_at = Some(Timestamp::from_millis(NOW - 1));
    all[1] = invite("tok00001", Some((DeliveryState::Due, 2)));
    all[2] = invite("tok00002", Some((DeliveryState::Delivered, 0)));
    let mut parts = Parts::new();
    parts.invites = invites_of(all);

    let listed = parts.service().invites().await.unwrap();

    assert_eq!(listed.len(), PAGE as usize + 2);
    let statuses: Vec<&str> = listed.iter().take(4).map(|v| v.status.name()).collect();
    assert_eq!(statuses, ["expired", "due", "delivered", "pending"]);
    assert_eq!(
        listed[1].status,
        InviteStatus::Due {
            attempts: 2,
            next_attempt: Timestamp::from_millis(NOW + 3_600_000)
        }
    );
}

#[tokio::test]
async fn an_expired_invite_is_expired_now_and_logged_as_such() {
    let mut parts = Parts::new();
    parts.invites = invites_of(vec![invite("tok1", None)]);
    let store = parts.invites.clone();

    let view = parts
        .service()
        .expire_invite(&token("tok1"), &actor())
        .await
        .unwrap();

    assert_eq!(view.status, InviteStatus::Expired);
    assert_eq!(
        store.get(&token("tok1")).unwrap().expires_at,
        Some(Timestamp::from_millis(NOW))
    );
}

#[tokio::test]
async fn expiring_or_retrying_an_unknown_invite_says_there_is_none() {
    let service = Parts::new().service();
    assert!(matches!(
        service.expire_invite(&token("nope"), &actor()).await,
        Err(AdminError::NoSuchInvite)
    ));
    assert!(matches!(
        service.retry_invite(&token("nope"), &actor()).await,
        Err(AdminError::NoSuchInvite)
    ));
}

#[tokio::test]
async fn a_retried_delivery_is_due_now_with_no_failed_attempt_even_when_it_was_abandoned() {
    for state in [DeliveryState::Due, DeliveryState::Abandoned] {
        let mut parts = Parts::new();
        parts.invites = invites_of(vec![invite("tok1", Some((state, 7)))]);

        let view = parts
            .service()
            .retry_invite(&token("tok1"), &actor())
            .await
            .unwrap();

        assert_eq!(
            view.status,
            InviteStatus::Due {
                attempts: 0,
                next_attempt: Timestamp::from_millis(NOW)
            }
        );
    }
}

#[tokio::test]
async fn an_invite_with_nothing_to_deliver_is_not_retried_and_left_as_it_was() {
    let mut parts = Parts::new();
    let mut expired = invite("tok3", Some((DeliveryState::Due, 1)));
    expired.expires_at = Some(Timestamp::from_millis(NOW - 1));
    let all = vec![
        invite("tok1", None),
        invite("tok2", Some((DeliveryState::Delivered, 0))),
        expired,
    ];
    parts.invites = invites_of(all.clone());
    let store = parts.invites.clone();
    let service = parts.service();

    assert!(matches!(
        service.retry_invite(&token("tok1"), &actor()).await,
        Err(AdminError::NotBound)
    ));
    assert!(matches!(
        service.retry_invite(&token("tok2"), &actor()).await,
        Err(AdminError::AlreadyDelivered)
    ));
    assert!(matches!(
        service.retry_invite(&token("tok3"), &actor()).await,
        Err(AdminError::Expired)
    ));
    assert_eq!(store.all(), all);
}

fn pepper(raw: &str) -> Pepper {
    Pepper::parse(raw).unwrap()
}

#[tokio::test]
async fn a_rotation_publishes_a_new_pepper_with_a_generation_above_the_published_one() {
    let mut parts = Parts::new();
    let published = HashTable {
        pepper: pepper("pepper1"),
        generation: NOW + 50,
    };
    parts
        .hashes
        .expect_published()
        .times(1)
        .return_once(move || Ok(Some(published)));
    parts
        .hashes
        .expect_publish()
        .with(eq(HashTable {
            pepper: pepper("pepper2"),
            generation: NOW + 51,
        }))
        .times(1)
        .returning(|_| Ok(()));
    // The generator's first pepper is the published one: another is drawn.
    parts.secrets = Arc::new(CountingPeppers::default());

    let rotation = parts.service().rotate_pepper(&actor()).await.unwrap();

    assert_eq!(
        rotation,
        PepperRotation {
            previous: Some(pepper("pepper1")),
            pepper: pepper("pepper2"),
            generation: NOW + 51,
        }
    );
}

#[tokio::test]
async fn the_first_pepper_is_numbered_by_the_time() {
    let mut parts = Parts::new();
    parts.hashes.expect_published().return_once(|| Ok(None));
    parts
        .hashes
        .expect_publish()
        .with(always())
        .times(1)
        .returning(|_| Ok(()));
    parts.secrets = Arc::new(CountingPeppers::default());

    let rotation = parts.service().rotate_pepper(&actor()).await.unwrap();

    assert_eq!(rotation.generation, NOW);
    assert_eq!(rotation.previous, None);
}

#[tokio::test]
async fn without_hashing_there_is_no_pepper_to_rotate_and_nothing_is_read() {
    let mut parts = Parts::new();
    parts.hashing_enabled = false;
    assert!(matches!(
        parts.service().rotate_pepper(&actor()).await,
        Err(AdminError::HashingOff)
    ));
}

fn stored_key(identifier: &str, seed: u8, valid: bool) -> StoredKey {
    StoredKey {
        key: SigningKey::from_seed(KeyId::from_identifier(identifier).unwrap(), &[seed; 32]),
        valid,
    }
}

#[tokio::test]
async fn the_keys_are_listed_with_their_validity_and_the_one_that_signs() {
    let mut parts = Parts::new();
    parts
        .keys
        .expect_current()
        .returning(|| Ok(Some(KeyId::from_identifier("b").unwrap())));
    parts
        .keys
        .expect_keys()
        .with(eq(KeyKind::Regular))
        .returning(|_| Ok(vec![stored_key("a", 1, false), stored_key("b", 2, true)]));

    let keys = parts.service().keys().await.unwrap();

    let summary: Vec<(String, bool, bool)> = keys
        .iter()
        .map(|k| (k.id.to_string(), k.valid, k.current))
        .collect();
    assert_eq!(
        summary,
        [
            ("ed25519:a".to_owned(), false, false),
            ("ed25519:b".to_owned(), true, true)
        ]
    );
    assert_eq!(
        keys[1].public_key,
        stored_key("b", 2, true).key.public_key()
    );
}

#[tokio::test]
async fn a_new_signing_key_is_added_valid_and_made_current_and_no_other_key_is_touched() {
    let mut parts = Parts::new();
    parts
        .keys
        .expect_current()
        .returning(|| Ok(Some(KeyId::from_identifier("old").unwrap())));
    let made = SigningKey::generate(&[9; 32], Timestamp::from_millis(NOW));
    let made_id = made.id().clone();
    parts
        .keys
        .expect_add()
        .withf(move |kind, stored| {
            *kind == KeyKind::Regular && stored.valid && stored.key.id() == made.id()
        })
        .times(1)
        .returning(|_, _| Ok(()));
    parts
        .keys
        .expect_set_current()
        .with(eq(made_id.clone()))
        .times(1)
        .returning(|_| Ok(()));
    let mut secrets = MockSecretGenerator::new();
    secrets.expect_key_seed().returning(|| [9; 32]);
    parts.secrets = Arc::new(secrets);

    let key = parts.service().new_signing_key(&actor()).await.unwrap();

    assert_eq!(key.id, made_id);
    assert!(key.valid && key.current);
}

#[tokio::test]
async fn a_key_store_that_cannot_be_written_makes_no_key_current() {
    let mut parts = Parts::new();
    parts.keys.expect_current().returning(|| Ok(None));
    parts
        .keys
        .expect_add()
        .returning(|_, _| Err(StoreError::Unavailable("read-only".into())));
    let mut secrets = MockSecretGenerator::new();
    secrets.expect_key_seed().returning(|| [9; 32]);
    parts.secrets = Arc::new(secrets);

    assert!(matches!(
        parts.service().new_signing_key(&actor()).await,
        Err(AdminError::Store(_))
    ));
}
