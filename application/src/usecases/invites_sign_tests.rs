//! `/sign-ed25519` with the invite's ephemeral key, and which ephemeral keys are valid.
use pretty_assertions::assert_eq;
use verity_domain::{InviteToken, KeyId, SigningKey, verify_json};

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
        .unwrap();
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
