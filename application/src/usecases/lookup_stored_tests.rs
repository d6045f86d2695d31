//! The v1 lookup of a binding imported with the signed association its first server made
//! (sydent's `sgAssoc`): handed out verbatim, countersigned when this server did not sign it.
use pretty_assertions::assert_eq;
use serde_json::Value;
use verity_domain::{KeyId, SignedAssociation, SignedJson, SigningKey};

use super::*;

const SYDENT: &str = r#"{"address":"alice@example.org","medium":"email","mxid":"@alice:example.org","not_after":4920825600000,"not_before":1767225600000,"signatures":{"old.example.org":{"ed25519:0":"c2ln"}},"ts":1767225600000}"#;

/// Keys signing as `name` with a real key, keeping the signatures already there.
fn keys_named(name: &'static str) -> MockSigner {
    let mut keys = MockSigner::new();
    keys.expect_sign().returning(move |object| {
        let key = SigningKey::from_seed(KeyId::parse("ed25519:0").unwrap(), &[9; 32]);
        SignedJson::sign(object, name, &key)
    });
    keys
}

/// A bindings backend that knows alice with `published`.
fn backend(published: Published) -> Arc<dyn IdentityBackend> {
    let mut backend = MockIdentityBackend::new();
    backend.expect_name().return_const("bindings");
    backend
        .expect_lookup_published()
        .returning(move |_| Ok(Some(published.clone())));
    Arc::new(backend)
}

async fn signed_answer(published: Published, keys: MockSigner) -> Value {
    let index = index(&[], true).await;
    let mut clock = MockClock::new();
    clock.expect_now().returning(|| Timestamp::from_millis(NOW));
    let service = LookupService::new(
        index,
        Backends::new(vec![backend(published)]),
        Arc::new(keys),
        Arc::new(clock),
        settings(10, both()),
    );
    service
        .lookup_signed(&email("alice@example.org"), &nobody())
        .await
        .unwrap()
        .unwrap()
        .to_value()
}

fn alice() -> UserId {
    UserId::parse("@alice:example.org").unwrap()
}

#[tokio::test]
async fn a_stored_signed_association_this_server_signed_is_handed_out_verbatim() {
    let mut published = Published::new(alice(), Some(Timestamp::from_millis(1)));
    published.signed = Some(SignedAssociation::parse(SYDENT).unwrap());
    let answer = signed_answer(published, keys_named("old.example.org")).await;
    assert_eq!(answer, serde_json::from_str::<Value>(SYDENT).unwrap());
}

#[tokio::test]
async fn a_stored_signed_association_by_another_name_gets_this_servers_signature_beside() {
    let mut published = Published::new(alice(), None);
    published.signed = Some(SignedAssociation::parse(SYDENT).unwrap());
    let answer = signed_answer(published, keys_named("id.example.org")).await;
    assert_eq!(
        answer["signatures"]["old.example.org"]["ed25519:0"], "c2ln",
        "the stored signature is kept"
    );
    assert!(answer["signatures"]["id.example.org"]["ed25519:0"].is_string());
    let mut without = answer.clone();
    without["signatures"]
        .as_object_mut()
        .unwrap()
        .remove("id.example.org");
    assert_eq!(without, serde_json::from_str::<Value>(SYDENT).unwrap());
}

#[tokio::test]
async fn a_stored_signed_association_for_another_user_is_never_handed_out() {
    // Rebound here to bob since: the stored association vouches for alice.
    let mut published = Published::new(
        UserId::parse("@bob:example.org").unwrap(),
        Some(Timestamp::from_millis(NOW)),
    );
    published.signed = Some(SignedAssociation::parse(SYDENT).unwrap());
    let answer = signed_answer(published, keys_named("id.example.org")).await;
    assert_eq!(answer["mxid"], "@bob:example.org");
    assert_eq!(answer["ts"], NOW);
    assert!(answer["signatures"].get("old.example.org").is_none());
}

#[tokio::test]
async fn a_stored_validity_window_is_the_one_signed() {
    let mut published = Published::new(alice(), Some(Timestamp::from_millis(1_000)));
    published.window = Some((Timestamp::from_millis(1_000), Timestamp::from_millis(9_000)));
    let answer = signed_answer(published, keys_named("id.example.org")).await;
    assert_eq!(answer["ts"], 1_000);
    assert_eq!(answer["not_before"], 1_000);
    assert_eq!(answer["not_after"], 9_000);
}

/// sydent 2.6.1 signed a stale `invites` list (another user's invite token, sender and room)
/// into associations made after an invite was delivered, and handed it out to anyone. The
/// association alone is signed again, with its times, by this server's (imported) key.
#[tokio::test]
async fn a_stored_association_with_sydents_stale_invites_is_handed_out_without_them() {
    let with_invites = SYDENT.replacen(
        '{',
        r#"{"invites":[{"mxid":"@carol:example.org","token":"secretInviteToken","sender":"@dave:example.org","room_id":"!r:example.org","signed":{}}],"#,
        1,
    );
    let mut published = Published::new(alice(), Some(Timestamp::from_millis(1)));
    published.signed = Some(SignedAssociation::parse(&with_invites).unwrap());
    let answer = signed_answer(published, keys_named("old.example.org")).await;
    assert!(
        !answer.to_string().contains("secretInviteToken"),
        "{answer}"
    );
    assert!(answer.get("invites").is_none(), "{answer}");
    let mut expected: Value = serde_json::from_str(SYDENT).unwrap();
    expected["signatures"] = answer["signatures"].clone();
    assert_eq!(answer, expected, "the same association, times included");
    assert!(answer["signatures"]["old.example.org"]["ed25519:0"].is_string());
    assert_ne!(answer["signatures"]["old.example.org"]["ed25519:0"], "c2ln");
}
