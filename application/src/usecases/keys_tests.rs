use mockall::predicate::eq;
use pretty_assertions::assert_eq;
use serde_json::json;
use verity_domain::{Timestamp, VerificationError, verify_json};

use super::*;
use crate::ports::driven::{MockClock, MockKeyStore, MockSecretGenerator};

const NOW: u64 = 1_767_225_600_000;
const SERVER: &str = "id.example.org";

fn stored(identifier: &str, seed: u8, valid: bool) -> StoredKey {
    StoredKey {
        key: SigningKey::from_seed(KeyId::from_identifier(identifier).unwrap(), &[seed; 32]),
        valid,
    }
}

fn id(identifier: &str) -> KeyId {
    KeyId::from_identifier(identifier).unwrap()
}

/// A store holding `regular` and `ephemeral` keys, with `current` recorded.
fn store(
    current: Option<&str>,
    regular: Vec<StoredKey>,
    ephemeral: Vec<StoredKey>,
) -> MockKeyStore {
    let mut store = MockKeyStore::new();
    let current = current.map(id);
    store
        .expect_current()
        .returning(move || Ok(current.clone()));
    store
        .expect_keys()
        .with(eq(KeyKind::Regular))
        .returning(move |_| Ok(regular.clone()));
    store
        .expect_keys()
        .with(eq(KeyKind::Ephemeral))
        .returning(move |_| Ok(ephemeral.clone()));
    store
}

/// Seeds 42, 43, ... in turn.
fn secrets() -> MockSecretGenerator {
    let mut secrets = MockSecretGenerator::new();
    let mut next = 42u8;
    secrets.expect_key_seed().returning(move || {
        next += 1;
        [next - 1; 32]
    });
    secrets
}

fn clock() -> MockClock {
    let mut clock = MockClock::new();
    clock.expect_now().returning(|| Timestamp::from_millis(NOW));
    clock
}

async fn start(store: MockKeyStore) -> Result<KeyService, KeyStartError> {
    KeyService::start(Arc::new(store), &secrets(), &clock(), SERVER.to_owned()).await
}

fn public(seed: u8) -> PublicKey {
    SigningKey::from_seed(id("x"), &[seed; 32]).public_key()
}

#[tokio::test]
async fn an_empty_store_gets_a_new_key_from_the_seed_generator_which_becomes_current() {
    let expected = SigningKey::generate(&[42; 32], Timestamp::from_millis(NOW));
    let mut store = store(None, vec![], vec![]);
    let expected_id = expected.id().clone();
    store
        .expect_add()
        .withf(move |kind, key| {
            *kind == KeyKind::Regular
                && key.valid
                && key.key.id() == &expected_id
                && key.key.seed_base64() == SigningKey::from_seed(id("x"), &[42; 32]).seed_base64()
        })
        .times(1)
        .returning(|_, _| Ok(()));
    store
        .expect_set_current()
        .with(eq(expected.id().clone()))
        .times(1)
        .returning(|_| Ok(()));

    let keys = start(store).await.unwrap();
    assert_eq!(keys.signing_key_id(), expected.id());
    assert_eq!(keys.public_key(expected.id()), Some(expected.public_key()));
    assert!(keys.is_valid(&expected.public_key().to_base64()));
}

#[tokio::test]
async fn a_taken_identifier_is_retried_with_a_fresh_seed() {
    let mut store = store(None, vec![], vec![]);
    let mut first = true;
    store.expect_add().times(2).returning(move |_, _| {
        let taken = first;
        first = false;
        if taken {
            Err(StoreError::Conflict)
        } else {
            Ok(())
        }
    });
    store.expect_set_current().times(1).returning(|_| Ok(()));
    let keys = start(store).await.unwrap();
    let second = SigningKey::generate(&[43; 32], Timestamp::from_millis(NOW));
    assert_eq!(keys.signing_key_id(), second.id());
}

#[tokio::test]
async fn the_current_key_is_used_as_stored_and_nothing_is_written() {
    let mut store = store(
        Some("cur"),
        vec![stored("abc", 1, true), stored("cur", 2, true)],
        vec![],
    );
    store.expect_add().never();
    store.expect_set_current().never();
    let keys = start(store).await.unwrap();
    assert_eq!(keys.signing_key_id(), &id("cur"));
    assert_eq!(keys.public_key(&id("cur")), Some(public(2)));
    assert_eq!(keys.public_key(&id("abc")), Some(public(1)));
    assert_eq!(keys.public_key(&id("nope")), None);
}

#[tokio::test]
async fn without_a_current_key_the_first_valid_regular_key_is_chosen_and_recorded() {
    let mut store = store(
        None,
        vec![
            stored("a", 1, false),
            stored("b", 2, true),
            stored("c", 3, true),
        ],
        vec![],
    );
    store.expect_add().never();
    store
        .expect_set_current()
        .with(eq(id("b")))
        .times(1)
        .returning(|_| Ok(()));
    let keys = start(store).await.unwrap();
    assert_eq!(keys.signing_key_id(), &id("b"));
}

#[tokio::test]
async fn a_current_key_missing_from_the_store_stops_the_start() {
    let store = store(Some("gone"), vec![stored("a", 1, true)], vec![]);
    assert!(matches!(
        start(store).await,
        Err(KeyStartError::MissingCurrent(missing)) if missing == id("gone")
    ));
}

#[tokio::test]
async fn a_failing_store_stops_the_start() {
    let mut store = MockKeyStore::new();
    store
        .expect_keys()
        .returning(|_| Err(StoreError::Corrupt("regular/ed25519/0: not JSON".into())));
    store.expect_current().returning(|| Ok(None));
    assert!(matches!(
        start(store).await,
        Err(KeyStartError::Store(StoreError::Corrupt(_)))
    ));

    let mut store = store_without_keys();
    store
        .expect_add()
        .returning(|_, _| Err(StoreError::Unavailable("read-only".into())));
    assert!(matches!(
        start(store).await,
        Err(KeyStartError::Store(StoreError::Unavailable(_)))
    ));
}

fn store_without_keys() -> MockKeyStore {
    store(None, vec![], vec![])
}

#[tokio::test]
async fn only_valid_long_term_keys_are_valid_in_either_base64_alphabet() {
    let store = store(
        Some("cur"),
        vec![stored("cur", 2, true), stored("old", 5, false)],
        vec![],
    );
    let keys = start(store).await.unwrap();
    let current = public(2);
    assert!(keys.is_valid(&current.to_base64()));
    assert!(keys.is_valid(&current.to_base64_url()));
    assert!(!keys.is_valid(&format!("{}=", current.to_base64())));
    assert!(!keys.is_valid(&public(9).to_base64()));
    assert!(!keys.is_valid(""));
    // A disabled key still has a public key, but is not valid.
    assert_eq!(keys.public_key(&id("old")), Some(public(5)));
    assert!(!keys.is_valid(&public(5).to_base64()));
    // Long-term keys are not ephemeral ones.
    assert!(!keys.is_valid_ephemeral(&current.to_base64()));
}

#[tokio::test]
async fn ephemeral_validity_comes_from_the_stored_ephemeral_keys() {
    let store = store(
        Some("cur"),
        vec![stored("cur", 2, true)],
        vec![stored("e1", 7, true), stored("e2", 8, false)],
    );
    let keys = start(store).await.unwrap();
    assert!(keys.is_valid_ephemeral(&public(7).to_base64()));
    assert!(keys.is_valid_ephemeral(&public(7).to_base64_url()));
    assert!(!keys.is_valid_ephemeral(&public(8).to_base64()));
    assert!(!keys.is_valid(&public(7).to_base64()));
}

#[tokio::test]
async fn no_ephemeral_key_is_valid_before_invites_store_some() {
    let keys = start(store(Some("cur"), vec![stored("cur", 2, true)], vec![]))
        .await
        .unwrap();
    assert!(!keys.is_valid_ephemeral(&public(2).to_base64()));
}

#[tokio::test]
async fn signing_uses_the_current_key_under_the_server_name_and_keeps_other_signatures() {
    let keys = start(store(
        Some("cur"),
        vec![stored("old", 1, true), stored("cur", 2, true)],
        vec![],
    ))
    .await
    .unwrap();
    let signed = keys
        .sign(&object(json!({
            "mxid": "@alice:example.org",
            "ts": 1,
            "signatures": {"other.example": {"ed25519:0": "c2ln"}}
        })))
        .unwrap()
        .to_value();
    assert_eq!(verify_json(&signed, SERVER, &id("cur"), &public(2)), Ok(()));
    assert_eq!(
        verify_json(&signed, SERVER, &id("old"), &public(1)),
        Err(VerificationError::Missing {
            entity: SERVER.to_owned(),
            key_id: "ed25519:old".to_owned()
        })
    );
    assert_eq!(signed["signatures"]["other.example"]["ed25519:0"], "c2ln");
}

#[tokio::test]
async fn what_cannot_be_signed_is_an_error() {
    let keys = start(store(Some("cur"), vec![stored("cur", 2, true)], vec![]))
        .await
        .unwrap();
    // Only an object can be handed to the signer at all.
    assert!(JsonObject::from_value(json!([1])).is_err());
    assert!(matches!(
        keys.sign(&object(json!({"a": 0.5}))),
        Err(SigningError::Canonical(_))
    ));
    assert_eq!(
        keys.sign(&object(json!({"a": 1, "signatures": "x"}))),
        Err(SigningError::MalformedSignatures)
    );
}

fn object(value: serde_json::Value) -> JsonObject {
    JsonObject::from_value(value).unwrap()
}
