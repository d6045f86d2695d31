use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use pretty_assertions::assert_eq;
use serde_json::json;
use verity_domain::{
    EmailAddress, InviteBlocklist, InviteToken, KeyId, Medium, SigningKey, ThreePid, Timestamp,
};

use super::*;
use crate::ports::driven::MockSigner;
use crate::ports::driven::{
    EmailMessage, HomeserverError, IdentityBackend, MockHomeserverClient,
    MockNotificationConnector, MockNotificationGenerator, MockSecretGenerator, Notification,
};
use crate::ports::driving::InviteDetails;
use crate::usecases::invites_test_support::FakeInviteStore;
use crate::usecases::test_support::{FakeBackend, FakeClock, binding, email, user};
use crate::usecases::{Backends, MediumHandler, Notifier};

const NOW: u64 = 1_700_000_000_000;
const SEED: [u8; 32] = [5; 32];

fn token() -> InviteToken {
    InviteToken::parse(&"t".repeat(128)).unwrap()
}

fn ephemeral() -> SigningKey {
    SigningKey::from_seed(KeyId::ephemeral(), &SEED)
}

fn server_key() -> SigningKey {
    SigningKey::from_seed(KeyId::parse("ed25519:0").unwrap(), &[1; 32])
}

fn settings() -> InviteSettings {
    InviteSettings {
        server_name: "id.example.org".into(),
        key_validity_base: "https://id.example.org/_matrix/identity/v2".into(),
        sign_url: "https://id.example.org/_matrix/identity/api/v1/sign-ed25519".into(),
        full_display_name: false,
        expiry: Some(Duration::from_secs(3600)),
        blocklist: InviteBlocklist::default(),
    }
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

fn secrets() -> MockSecretGenerator {
    let mut secrets = MockSecretGenerator::new();
    secrets.expect_invite_token().returning(token);
    secrets.expect_key_seed().returning(|| SEED);
    secrets
}

/// What a test can change before building the service.
struct World {
    store: Arc<FakeInviteStore>,
    backend: Arc<FakeBackend>,
    clock: Arc<FakeClock>,
    generator: MockNotificationGenerator,
    connector: MockNotificationConnector,
    homeserver: MockHomeserverClient,
    signer: MockSigner,
    blocklist: InviteBlocklist,
    email: bool,
    wakes: Arc<AtomicUsize>,
}

impl World {
    fn new() -> Self {
        Self {
            store: Arc::new(FakeInviteStore::default()),
            backend: FakeBackend::new("bindings", &[]),
            clock: FakeClock::at(NOW),
            generator: MockNotificationGenerator::new(),
            connector: MockNotificationConnector::new(),
            homeserver: MockHomeserverClient::new(),
            signer: keys(),
            blocklist: InviteBlocklist::default(),
            email: true,
            wakes: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// The generator renders an email from the notice; the connector accepts it.
    fn sending(mut self) -> Self {
        self.generator.expect_invite().returning(|notice| {
            Ok(Notification::Email(EmailMessage {
                to: EmailAddress::parse(notice.threepid.address()).unwrap(),
                subject: "invite".into(),
                text: notice.sign_url.clone(),
                html: None,
            }))
        });
        self.connector.expect_send().returning(|_| Ok(()));
        self
    }

    fn service(
        self,
    ) -> (
        InviteService,
        Arc<FakeInviteStore>,
        Arc<FakeClock>,
        Arc<AtomicUsize>,
    ) {
        let mut notifier = Notifier::new();
        if self.email {
            notifier = notifier.with(
                Medium::Email,
                MediumHandler {
                    generator: Arc::new(self.generator),
                    connector: Arc::new(self.connector),
                },
            );
        }
        let wakes = self.wakes.clone();
        let deps = InviteDeps {
            store: self.store.clone(),
            backends: Backends::new(vec![self.backend as Arc<dyn IdentityBackend>]),
            notifier,
            signer: Arc::new(self.signer),
            homeserver: Arc::new(self.homeserver),
            clock: self.clock.clone(),
            secrets: Arc::new(secrets()),
            server_key: server_key().public_key(),
        };
        let settings = InviteSettings {
            blocklist: self.blocklist,
            ..settings()
        };
        let service = InviteService::new(deps, settings).with_wake(Arc::new(move || {
            wakes.fetch_add(1, Ordering::SeqCst);
        }));
        (service, self.store, self.clock, self.wakes)
    }
}

fn request(address: &str) -> StoreInvite {
    StoreInvite {
        threepid: email(address),
        room_id: "!room:example.org".into(),
        sender: user("@inviter:example.org"),
        requester: Some(user("@inviter:example.org")),
        details: InviteDetails {
            room_name: Some("A room with a very long name indeed, longer".into()),
            sender_display_name: Some("Inviter with a long display name".into()),
            ..InviteDetails::default()
        },
    }
}

#[tokio::test]
async fn store_invite_stores_the_invite_and_answers_both_keys_with_their_validity_urls() {
    let (service, store, _, _) = World::new().sending().service();
    let stored = service
        .store_invite(request("Ginger@Example.com"))
        .await
        .unwrap();
    assert_eq!(stored.token, token());
    assert_eq!(stored.display_name, "gin...@exa...");
    assert_eq!(stored.server_key, server_key().public_key());
    assert_eq!(stored.ephemeral_key, ephemeral().public_key());
    assert_eq!(
        stored.server_key_validity_url,
        "https://id.example.org/_matrix/identity/v2/pubkey/isvalid"
    );
    assert_eq!(
        stored.ephemeral_key_validity_url,
        "https://id.example.org/_matrix/identity/v2/pubkey/ephemeral/isvalid"
    );
    let invite = store.get(&token()).unwrap();
    assert_eq!(invite.threepid, email("ginger@example.com"));
    assert_eq!(invite.room_id, "!room:example.org");
    assert_eq!(invite.ephemeral_key, Some(ephemeral().public_key()));
    assert_eq!(
        invite.expires_at,
        Some(Timestamp::from_millis(NOW + 3_600_000))
    );
    assert_eq!(invite.delivery, None);
}

#[tokio::test]
async fn the_message_carries_the_private_key_that_matches_the_stored_public_key_and_cut_names() {
    let mut world = World::new();
    world.generator.expect_invite().returning(|notice| {
        let key = SigningKey::from_base64_seed(KeyId::ephemeral(), &notice.ephemeral_private_key)
            .unwrap();
        assert_eq!(key.public_key(), ephemeral().public_key());
        assert!(!notice.ephemeral_private_key.contains(['+', '/', '=']));
        assert_eq!(
            notice.sign_url,
            format!(
                "https://id.example.org/_matrix/identity/api/v1/sign-ed25519?token={}&private_key={}",
                token().as_str(),
                notice.ephemeral_private_key
            )
        );
        assert_eq!(notice.details.sender_display_name.as_deref(), Some("Inviter with a long ..."));
        assert_eq!(
            notice.details.room_name.as_deref(),
            Some("A room with a very long name i...")
        );
        assert!(!format!("{notice:?}").contains(&notice.ephemeral_private_key));
        Err(NotifyError::Template("checked".into()))
    });
    let (service, _, _, _) = world.service();
    let error = service
        .store_invite(request("a@example.com"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, InviteError::SendFailed { rejected: false }),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_message_that_cannot_be_sent_leaves_no_invite_behind() {
    let mut world = World::new();
    world.generator.expect_invite().returning(|notice| {
        Ok(Notification::Email(EmailMessage {
            to: EmailAddress::parse(notice.threepid.address()).unwrap(),
            subject: "s".into(),
            text: "t".into(),
            html: None,
        }))
    });
    world
        .connector
        .expect_send()
        .returning(|_| Err(NotifyError::Rejected("no such mailbox".into())));
    let (service, store, _, _) = world.service();
    let error = service
        .store_invite(request("a@example.com"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, InviteError::SendFailed { rejected: true }),
        "{error:?}"
    );
    assert!(store.all().is_empty());
}

#[tokio::test]
async fn a_v2_token_may_only_invite_as_its_own_user() {
    let (service, store, _, _) = World::new().service();
    let mut other = request("a@example.com");
    other.requester = Some(user("@mallory:example.org"));
    let error = service.store_invite(other).await.unwrap_err();
    assert!(matches!(error, InviteError::NotTheSender), "{error:?}");
    assert!(store.all().is_empty());
}

#[tokio::test]
async fn v1_has_no_token_and_invites_as_any_sender() {
    let (service, _, _, _) = World::new().sending().service();
    let mut v1 = request("a@example.com");
    v1.requester = None;
    service.store_invite(v1).await.unwrap();
}

#[tokio::test]
async fn only_email_is_invited_and_only_when_email_is_configured() {
    let (service, _, _, _) = World::new().service();
    let mut sms = request("a@example.com");
    sms.threepid = ThreePid::parse(Medium::Msisdn, "447700900000").unwrap();
    assert!(matches!(
        service.store_invite(sms).await.unwrap_err(),
        InviteError::UnsupportedMedium(Medium::Msisdn)
    ));
    let mut world = World::new();
    world.email = false;
    let (service, _, _, _) = world.service();
    assert!(matches!(
        service
            .store_invite(request("a@example.com"))
            .await
            .unwrap_err(),
        InviteError::UnsupportedMedium(Medium::Email)
    ));
}

#[tokio::test]
async fn a_bound_address_is_refused_with_the_user_it_is_bound_to() {
    let world = World::new();
    world
        .backend
        .set(&binding("bound@example.com", "@bound:example.org"));
    let (service, store, _, _) = world.service();
    let error = service
        .store_invite(request("Bound@example.com"))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, InviteError::AlreadyBound(mxid) if mxid == &user("@bound:example.org")),
        "{error:?}"
    );
    assert!(store.all().is_empty());
}

#[tokio::test]
async fn full_display_name_shows_the_whole_address() {
    let world = World::new().sending();
    let (service, _, _, _) = {
        let (mut service, store, clock, wakes) = world.service();
        service.settings.full_display_name = true;
        (service, store, clock, wakes)
    };
    let stored = service
        .store_invite(request("Ginger@Example.com"))
        .await
        .unwrap();
    assert_eq!(stored.display_name, "ginger@example.com");
}

async fn stored_invite(service: &InviteService) {
    service
        .store_invite(request("ginger@example.com"))
        .await
        .unwrap();
}

/// `/sign-ed25519` and the ephemeral keys' validity.
#[path = "invites_sign_tests.rs"]
mod sign;

/// The bind hook and the onbind delivery.
#[path = "invites_delivery_tests.rs"]
mod delivery;

/// Queueing the invites of addresses bound already, at start.
#[path = "invites_recover_tests.rs"]
mod recover;

/// The operator's blocklists (`invite.blocklist.*`).
#[path = "invites_blocklist_tests.rs"]
mod blocklist;

#[path = "invites_sender_roles_tests.rs"]
mod sender_roles;
