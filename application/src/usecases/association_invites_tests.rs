//! A bind picks up the pending room invites of the bound 3PID (sydent's `invites`).
use std::sync::Arc;
use std::time::Duration;

use mockall::predicate::eq;
use pretty_assertions::assert_eq;
use serde_json::json;
use verity_domain::{
    ClientSecret, DeliveryState, Invite, InviteToken, KeyId, SendAttempt, SessionId, SessionParts,
    SessionRules, SigningKey, Timestamp, ValidationSession, ValidationToken,
};

use super::*;
use crate::ports::driven::MockSigner;
use crate::ports::driven::{
    InviteStore, MockClock, MockHomeserverClient, MockSecretGenerator, MockSessionStore,
};
use crate::ports::driving::Association as _;
use crate::usecases::hash_index::{HashingSettings, RotationPolicy};
use crate::usecases::invites_test_support::FakeInviteStore;
use crate::usecases::test_support::{CountingPeppers, FakeClock, FakeHashStore, email, user};
use crate::usecases::{Backends, HashIndex, InviteDeps, InviteService, InviteSettings, Notifier};
use verity_domain::SessionMode;

const NOW: u64 = 1_700_000_000_000;

fn sid() -> SessionId {
    SessionId::parse("sid1").unwrap()
}

fn secret() -> ClientSecret {
    ClientSecret::parse("s3cret").unwrap()
}

fn sessions() -> MockSessionStore {
    let session = ValidationSession::from_parts(SessionParts {
        id: sid(),
        client_secret: secret(),
        threepid: email("ginger@example.com"),
        token: ValidationToken::parse("token").unwrap(),
        send_attempt: SendAttempt::new(1),
        next_link: None,
        mode: SessionMode::Local,
        created_at: Timestamp::from_millis(NOW - 1_000),
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

/// Signs by adding a marker that names what was signed, so nesting shows.
fn keys() -> Arc<MockSigner> {
    let mut keys = MockSigner::new();
    keys.expect_sign().returning(|object| {
        let signed = object.with_member(
            "signatures",
            json!({"id.example.org": {"ed25519:0": "sig"}}),
        );
        Ok(verity_domain::SignedJson::parse(signed.as_str()).unwrap())
    });
    Arc::new(keys)
}

fn invite(token: &str, address: &str) -> Invite {
    Invite {
        token: InviteToken::parse(token).unwrap(),
        threepid: email(address),
        room_id: "!room:example.org".into(),
        sender: user("@inviter:example.org"),
        ephemeral_key: Some(SigningKey::from_seed(KeyId::ephemeral(), &[3; 32]).public_key()),
        created_at: Timestamp::from_millis(NOW - 10_000),
        expires_at: None,
        delivery: None,
    }
}

async fn service(store: Arc<FakeInviteStore>) -> AssociationService {
    let index = Arc::new(HashIndex::new(
        Arc::new(FakeHashStore::default()),
        Backends::new(vec![]),
        Arc::new(CountingPeppers::default()),
        FakeClock::at(NOW),
        HashingSettings {
            enabled: false,
            pepper_length: 20,
            rotation: RotationPolicy::Never,
            page_size: 100,
        },
    ));
    index.start().await.unwrap();
    let mut clock = MockClock::new();
    clock.expect_now().returning(|| Timestamp::from_millis(NOW));
    let clock = Arc::new(clock);
    let deps = InviteDeps {
        store,
        backends: Backends::new(vec![]),
        notifier: Notifier::new(),
        signer: keys(),
        homeserver: Arc::new(MockHomeserverClient::new()),
        clock: clock.clone(),
        secrets: Arc::new(MockSecretGenerator::new()),
    };
    let invites = InviteService::new(
        deps,
        InviteSettings {
            server_name: "id.example.org".into(),
            server_key: SigningKey::from_seed(KeyId::ephemeral(), &[1; 32]).public_key(),
            key_validity_base: "https://id.example.org/_matrix/identity/v2".into(),
            sign_url: "https://id.example.org/_matrix/identity/api/v1/sign-ed25519".into(),
            full_display_name: false,
            expiry: Some(Duration::from_secs(60)),
        },
    );
    AssociationService::new(
        Arc::new(sessions()),
        None,
        index,
        keys(),
        clock,
        AssociationSettings {
            rules: SessionRules::default(),
            unbind_enabled: true,
        },
    )
    .with_invites(Arc::new(invites))
}

fn bind() -> Bind {
    Bind {
        sid: sid(),
        client_secret: secret(),
        user_id: user("@ginger:example.com"),
        requester: Some(user("@ginger:example.com")),
    }
}

#[tokio::test]
async fn a_bind_returns_the_signed_pending_invites_inside_the_signed_association() {
    let store = Arc::new(FakeInviteStore::default());
    store
        .insert(&invite("tok1", "ginger@example.com"))
        .await
        .unwrap();
    store
        .insert(&invite("other", "someone@example.com"))
        .await
        .unwrap();
    let association = service(store.clone())
        .await
        .bind(bind())
        .await
        .unwrap()
        .to_value();
    let signed = json!({
        "mxid": "@ginger:example.com",
        "token": "tok1",
        "signatures": {"id.example.org": {"ed25519:0": "sig"}},
    });
    assert_eq!(
        association["invites"],
        json!([{
            "medium": "email",
            "address": "ginger@example.com",
            "mxid": "@ginger:example.com",
            "room_id": "!room:example.org",
            "sender": "@inviter:example.org",
            "signed": signed,
        }])
    );
    assert_eq!(association["mxid"], "@ginger:example.com");
    assert!(association.get("signatures").is_some());
    let queued = store
        .get(&InviteToken::parse("tok1").unwrap())
        .unwrap()
        .delivery
        .unwrap();
    assert_eq!(queued.state, DeliveryState::Due);
    assert_eq!(queued.mxid, user("@ginger:example.com"));
    // The other address's invite is untouched.
    let other = store.get(&InviteToken::parse("other").unwrap()).unwrap();
    assert_eq!(other.delivery, None);
}

#[tokio::test]
async fn a_bind_without_pending_invites_has_no_invites_field() {
    let association = service(Arc::new(FakeInviteStore::default()))
        .await
        .bind(bind())
        .await
        .unwrap()
        .to_value();
    assert_eq!(association.get("invites"), None);
    assert_eq!(association["address"], "ginger@example.com");
}
