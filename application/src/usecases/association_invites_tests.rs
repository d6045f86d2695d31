//! A bind picks up the pending room invites of the bound 3PID (sydent's `invites`); what the
//! invites use case signs and queues is tested with it (`invites_delivery_tests.rs`).
use std::sync::Arc;

use mockall::predicate::eq;
use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use verity_domain::{
    BoundInvite, ClientSecret, Invite, InviteToken, SendAttempt, SessionId, SessionParts,
    SessionRules, SignedJson, Timestamp, ValidationSession, ValidationToken,
};

use super::*;
use crate::ports::driven::{MockClock, MockIndexRefresh, MockPendingInvites, MockSessionStore};
use crate::ports::driven::{MockSigner, StoreError};
use crate::ports::driving::{Association as _, InviteError};
use crate::usecases::test_support::{email, user};
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

/// Signs by adding a marker, so the test sees exactly what was signed.
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

/// One invite as the invites use case answers a bind.
fn entry() -> BoundInvite {
    let invite = Invite {
        token: InviteToken::parse("tok1").unwrap(),
        threepid: email("ginger@example.com"),
        room_id: "!room:example.org".into(),
        sender: user("@inviter:example.org"),
        ephemeral_key: None,
        created_at: Timestamp::from_millis(NOW),
        expires_at: None,
        delivery: None,
    };
    let signed = SignedJson::parse(
        r#"{"mxid":"@ginger:example.com","token":"tok1","signatures":{"id.example.org":{"ed25519:0":"inviter-sig"}}}"#,
    )
    .unwrap();
    invite.onbind_entry(&user("@ginger:example.com"), &signed)
}

/// [`entry`] as the bind is expected to sign it.
fn entry_json() -> Value {
    json!({
        "medium": "email",
        "address": "ginger@example.com",
        "mxid": "@ginger:example.com",
        "room_id": "!room:example.org",
        "sender": "@inviter:example.org",
        "signed": {
            "mxid": "@ginger:example.com",
            "token": "tok1",
            "signatures": {"id.example.org": {"ed25519:0": "inviter-sig"}},
        },
    })
}

/// Invites that expect one bind of ginger@example.com to @ginger:example.com and answer
/// `answer` to it.
fn invites(answer: fn() -> Result<Vec<BoundInvite>, InviteError>) -> MockPendingInvites {
    let mut invites = MockPendingInvites::new();
    invites
        .expect_on_bind()
        .with(
            eq(email("ginger@example.com")),
            eq(user("@ginger:example.com")),
        )
        .times(1)
        .returning(move |_, _| answer());
    invites
}

/// The use case without a binding store (so nothing is refreshed), with `invites`.
fn service(invites: MockPendingInvites) -> AssociationService {
    let mut clock = MockClock::new();
    clock.expect_now().returning(|| Timestamp::from_millis(NOW));
    AssociationService::new(
        Arc::new(sessions()),
        None,
        Arc::new(MockIndexRefresh::new()),
        keys(),
        Arc::new(clock),
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
    let association = service(invites(|| Ok(vec![entry()])))
        .bind(bind())
        .await
        .unwrap()
        .to_value();
    // The invites are signed with the association: one signature over both.
    assert_eq!(
        association,
        json!({
            "address": "ginger@example.com",
            "medium": "email",
            "mxid": "@ginger:example.com",
            "not_before": NOW,
            "not_after": NOW + 3_153_600_000_000u64,
            "ts": NOW,
            "invites": [entry_json()],
            "signatures": {"id.example.org": {"ed25519:0": "sig"}},
        })
    );
}

#[tokio::test]
async fn a_bind_without_pending_invites_has_no_invites_field() {
    let association = service(invites(|| Ok(vec![])))
        .bind(bind())
        .await
        .unwrap()
        .to_value();
    assert_eq!(association.get("invites"), None);
    assert_eq!(association["address"], "ginger@example.com");
}

#[tokio::test]
async fn invites_that_cannot_be_queued_do_not_fail_the_bind_which_already_happened() {
    let association = service(invites(|| Err(StoreError::NotFound.into())))
        .bind(bind())
        .await
        .unwrap()
        .to_value();
    assert_eq!(association.get("invites"), None);
    assert_eq!(association["mxid"], "@ginger:example.com");
}
