//! `/sign-ed25519` with the invite's ephemeral key, and which ephemeral keys are valid.
use pretty_assertions::assert_eq;
use verity_domain::{InviteToken, KeyId, SigningKey, Timestamp, verify_json};

use super::*;

fn sign_request(private_key: &str) -> SignEd25519 {
    SignEd25519 {
        mxid: user("@ginger:example.com"),
        token: token(),
        private_key: private_key.into(),
    }
}

#[tokio::test]
async fn sign_ed25519_signs_mxid_sender_and_token_with_the_invite_key() {
    let (service, _, _, _) = World::new().sending().service();
    stored_invite(&service).await;
    let signed = service
        .sign_ed25519(sign_request(&ephemeral().seed_base64()))
        .await
        .unwrap()
        .signed()
        .to_value();
    assert_eq!(signed["mxid"], "@ginger:example.com");
    assert_eq!(signed["sender"], "@inviter:example.org");
    assert_eq!(signed["token"], token().as_str());
    verify_json(
        &signed,
        "id.example.org",
        &KeyId::ephemeral(),
        &ephemeral().public_key(),
    )
    .unwrap();
}

#[tokio::test]
async fn sign_ed25519_refuses_unknown_tokens_undecodable_keys_and_other_keys() {
    let (service, _, clock, _) = World::new().sending().service();
    stored_invite(&service).await;
    let other = SigningKey::from_seed(KeyId::ephemeral(), &[6; 32]).seed_base64();
    assert!(matches!(
        service
            .sign_ed25519(sign_request(&other))
            .await
            .unwrap_err(),
        InviteError::WrongPrivateKey
    ));
    assert!(matches!(
        service
            .sign_ed25519(sign_request("not a key"))
            .await
            .unwrap_err(),
        InviteError::InvalidPrivateKey
    ));
    let mut unknown = sign_request(&ephemeral().seed_base64());
    unknown.token = InviteToken::parse("other").unwrap();
    assert!(matches!(
        service.sign_ed25519(unknown).await.unwrap_err(),
        InviteError::UnknownToken
    ));
    clock.advance(3_600_000);
    assert!(matches!(
        service
            .sign_ed25519(sign_request(&ephemeral().seed_base64()))
            .await
            .unwrap_err(),
        InviteError::UnknownToken
    ));
}

#[tokio::test]
async fn an_ephemeral_key_is_valid_in_its_exact_spelling_until_the_invite_expires() {
    let (service, _, clock, _) = World::new().sending().service();
    let key = ephemeral().public_key();
    assert!(!service.is_valid_ephemeral(&key.to_base64()).await.unwrap());
    stored_invite(&service).await;
    assert!(service.is_valid_ephemeral(&key.to_base64()).await.unwrap());
    assert!(
        service
            .is_valid_ephemeral(&key.to_base64_url())
            .await
            .unwrap()
    );
    for other in [
        format!("{}=", key.to_base64()),
        "junk".into(),
        String::new(),
    ] {
        assert!(
            !service.is_valid_ephemeral(&other).await.unwrap(),
            "{other:?}"
        );
    }
    clock.advance(3_600_000);
    assert!(!service.is_valid_ephemeral(&key.to_base64()).await.unwrap());
}

/// An invite imported from Sydent: no key of its own; Sydent's ephemeral keys imported apart.
fn imported_invite(store: &FakeInviteStore, expires_at: Option<u64>) {
    store.invites.lock().unwrap().insert(
        token(),
        Invite {
            token: token(),
            threepid: email("ginger@example.com"),
            room_id: "!room:example.org".into(),
            sender: user("@inviter:example.org"),
            ephemeral_key: None,
            created_at: Timestamp::from_millis(NOW - 1_000),
            expires_at: expires_at.map(Timestamp::from_millis),
            delivery: None,
        },
    );
}

#[tokio::test]
async fn an_imported_invite_without_its_key_is_signed_by_an_imported_ephemeral_key_only() {
    let (service, store, _, _) = World::new().service();
    imported_invite(&store, None);
    let imported = SigningKey::from_seed(KeyId::ephemeral(), &[8; 32]);
    store
        .imported_keys
        .lock()
        .unwrap()
        .insert(imported.public_key());
    let signed = service
        .sign_ed25519(sign_request(&imported.seed_base64()))
        .await
        .unwrap()
        .signed()
        .to_value();
    assert_eq!(signed["token"], token().as_str());
    verify_json(
        &signed,
        "id.example.org",
        &KeyId::ephemeral(),
        &imported.public_key(),
    )
    .unwrap();
    // Sydent signed with any key; Verity only with one Sydent made.
    let other = SigningKey::from_seed(KeyId::ephemeral(), &[9; 32]).seed_base64();
    assert!(matches!(
        service
            .sign_ed25519(sign_request(&other))
            .await
            .unwrap_err(),
        InviteError::WrongPrivateKey
    ));
}

#[tokio::test]
async fn an_imported_ephemeral_key_stays_valid_as_on_sydent_and_others_do_not() {
    let (service, store, clock, _) = World::new().service();
    let imported = SigningKey::from_seed(KeyId::ephemeral(), &[8; 32]).public_key();
    assert!(
        !service
            .is_valid_ephemeral(&imported.to_base64_url())
            .await
            .unwrap()
    );
    store.imported_keys.lock().unwrap().insert(imported);
    // Sydent's spelling (URL-safe) and the standard one.
    for spelling in [imported.to_base64_url(), imported.to_base64()] {
        assert!(service.is_valid_ephemeral(&spelling).await.unwrap());
    }
    clock.advance(365 * 24 * 3_600_000);
    assert!(
        service
            .is_valid_ephemeral(&imported.to_base64_url())
            .await
            .unwrap()
    );
    let other = SigningKey::from_seed(KeyId::ephemeral(), &[9; 32]).public_key();
    assert!(
        !service
            .is_valid_ephemeral(&other.to_base64())
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn a_bind_signs_and_queues_an_imported_invite_like_one_made_here() {
    let (service, store, _, _) = World::new().service();
    imported_invite(&store, None);
    let entries = service
        .on_bind(&email("ginger@example.com"), &user("@ginger:example.com"))
        .await
        .unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].to_value()["signed"]["token"], token().as_str());
    assert_eq!(
        entries[0].to_value()["signed"]["mxid"],
        "@ginger:example.com"
    );
    let delivery = store.get(&token()).unwrap().delivery.unwrap();
    assert_eq!(delivery.state, DeliveryState::Due);
}
