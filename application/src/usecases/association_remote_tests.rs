use std::sync::{Arc, Mutex};

use pretty_assertions::assert_eq;
use serde_json::json;
use verity_domain::{
    ClientSecret, RemoteSession, SendAttempt, ServerLabel, SessionId, SessionParts, SessionRules,
    SignedAssociation, Timestamp, ValidationSession, ValidationToken,
};

use crate::ports::driven::MockSigner;
use crate::ports::driven::{
    BindingStore, MockBindingStore, MockIndexRefresh, MockRemoteIdentityServers, RemoteError,
    RemoteServer,
};
use crate::ports::driving::{Association, AssociationError, Bind, RemoteFailure};
use crate::usecases::test_support::{FakeClock, email, user};
use crate::usecases::{AssociationService, AssociationSettings};
use verity_domain::SessionMode;

use crate::usecases::remote_sessions::session_store_fake::holding;

const NOW: u64 = 1_700_000_000_000;

fn sid() -> SessionId {
    SessionId::parse("sid1").unwrap()
}

fn secret() -> ClientSecret {
    ClientSecret::parse("user-secret").unwrap()
}

fn central() -> ServerLabel {
    ServerLabel::parse("central").unwrap()
}

fn remote_part(validated: bool) -> RemoteSession {
    RemoteSession {
        server: central(),
        base_url: "http://central.test".into(),
        sid: SessionId::parse("remote-sid").unwrap(),
        client_secret: ClientSecret::parse("verity-remote").unwrap(),
        send_attempt: SendAttempt::new(1),
        validated_at: validated.then(|| Timestamp::from_millis(NOW - 10)),
    }
}

/// A session for bob@gmail.com validated here a second ago.
fn session(mode: SessionMode, remote: Option<RemoteSession>) -> ValidationSession {
    ValidationSession::from_parts(SessionParts {
        id: sid(),
        client_secret: secret(),
        threepid: email("bob@gmail.com"),
        token: ValidationToken::parse("token").unwrap(),
        send_attempt: SendAttempt::new(1),
        next_link: None,
        mode,
        created_at: Timestamp::from_millis(NOW - 2000),
        validated_at: Some(Timestamp::from_millis(NOW - 1000)),
        token_attempts: 1,
        remote,
        bound_to: None,
    })
}

/// The remote server's answer, with a field of its own: handed on exactly as received.
fn remote_association() -> SignedAssociation {
    SignedAssociation::parse(
        r#"{"address": "bob@gmail.com", "medium": "email", "mxid": "@bob:example.org",
            "not_before": 1, "not_after": 2, "ts": 1, "org.example.extra": [1],
            "signatures": {"central.test": {"ed25519:0": "remote-sig"}}}"#,
    )
    .unwrap()
}

/// The service, what it stored locally and what it updated.
struct Harness {
    service: AssociationService,
    bound: Arc<Mutex<u32>>,
    updates: Arc<Mutex<Vec<ValidationSession>>>,
}

async fn harness(found: ValidationSession, remote: Option<MockRemoteIdentityServers>) -> Harness {
    let (sessions, updates) = holding(found);
    let bound = Arc::new(Mutex::new(0));
    let count = bound.clone();
    let mut bindings = MockBindingStore::new();
    bindings.expect_bind().returning(move |_, _| {
        *count.lock().unwrap() += 1;
        Ok(())
    });
    // The lookup table: refreshed after each bind here, which is not what these tests are about.
    let mut index = MockIndexRefresh::new();
    index.expect_refresh().returning(|_| Ok(()));
    let mut keys = MockSigner::new();
    keys.expect_sign().returning(|object| {
        let signed = object.with_member(
            "signatures",
            json!({"id.example.org": {"ed25519:0": "sig"}}),
        );
        Ok(verity_domain::SignedJson::parse(signed.as_str()).unwrap())
    });
    let mut service = AssociationService::new(
        Arc::new(sessions),
        Some(Arc::new(bindings) as Arc<dyn BindingStore>),
        Arc::new(index),
        Arc::new(keys),
        FakeClock::at(NOW),
        AssociationSettings {
            rules: SessionRules::default(),
            unbind_enabled: true,
        },
    );
    if let Some(remote) = remote {
        service = service.with_remote_servers(Arc::new(remote));
    }
    Harness {
        service,
        bound,
        updates,
    }
}

fn bind() -> Bind {
    Bind {
        sid: sid(),
        client_secret: secret(),
        user_id: user("@bob:example.org"),
        requester: None,
    }
}

/// A remote that expects exactly `binds` forwarded binds of the remote session, answering `answer`.
fn remote_binding(
    binds: usize,
    answer: fn() -> Result<SignedAssociation, RemoteError>,
) -> MockRemoteIdentityServers {
    let mut remote = MockRemoteIdentityServers::new();
    remote
        .expect_bind()
        .withf(|server, rsid, rsecret, mxid| {
            server
                == &RemoteServer {
                    label: central(),
                    base_url: "http://central.test".into(),
                }
                && rsid.as_str() == "remote-sid"
                && rsecret.expose() == "verity-remote"
                && mxid == &user("@bob:example.org")
        })
        .times(binds)
        .returning(move |_, _, _, _| answer());
    remote
}

#[tokio::test]
async fn a_remotely_validated_forced_session_is_bound_remotely_and_nothing_is_stored_here() {
    let h = harness(
        session(
            SessionMode::RemotePending(central()),
            Some(remote_part(true)),
        ),
        Some(remote_binding(1, || Ok(remote_association()))),
    )
    .await;
    let answer = h.service.bind(bind()).await.unwrap();
    assert_eq!(answer, remote_association());
    assert_eq!(*h.bound.lock().unwrap(), 0);
}

#[tokio::test]
async fn a_forced_session_never_started_remotely_is_not_validated() {
    let h = harness(
        session(SessionMode::RemotePending(central()), None),
        Some(remote_binding(0, || Ok(remote_association()))),
    )
    .await;
    let error = h.service.bind(bind()).await.unwrap_err();
    assert!(
        matches!(&error, AssociationError::RemoteNotValidated(l) if l == &central()),
        "{error:?}"
    );
    assert_eq!(*h.bound.lock().unwrap(), 0);
}

#[tokio::test]
async fn a_forced_session_the_user_has_not_finished_remotely_is_not_validated_and_not_forwarded() {
    let mut remote = remote_binding(0, || Ok(remote_association()));
    remote.expect_validated_3pid().returning(|_, _, _| Ok(None));
    let h = harness(
        session(
            SessionMode::RemotePending(central()),
            Some(remote_part(false)),
        ),
        Some(remote),
    )
    .await;
    let error = h.service.bind(bind()).await.unwrap_err();
    assert!(
        matches!(error, AssociationError::RemoteNotValidated(_)),
        "{error:?}"
    );
    assert!(h.updates.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_forced_session_finished_remotely_without_the_check_page_is_confirmed_then_forwarded() {
    let mut remote = remote_binding(1, || Ok(remote_association()));
    remote
        .expect_validated_3pid()
        .returning(|_, _, _| Ok(Some(email("bob@gmail.com"))));
    let h = harness(
        session(
            SessionMode::RemotePending(central()),
            Some(remote_part(false)),
        ),
        Some(remote),
    )
    .await;
    assert_eq!(h.service.bind(bind()).await.unwrap(), remote_association());
    assert!(h.updates.lock().unwrap()[0].is_remotely_validated());
    assert_eq!(*h.bound.lock().unwrap(), 0);
}

#[tokio::test]
async fn an_offered_remote_step_that_was_taken_binds_remotely_then_here() {
    let h = harness(
        session(
            SessionMode::LocalOfferRemote(central()),
            Some(remote_part(true)),
        ),
        Some(remote_binding(1, || Ok(remote_association()))),
    )
    .await;
    let answer = h.service.bind(bind()).await.unwrap().to_value();
    assert_eq!(
        answer["signatures"],
        json!({"id.example.org": {"ed25519:0": "sig"}})
    );
    assert_eq!(answer["mxid"], "@bob:example.org");
    assert_eq!(*h.bound.lock().unwrap(), 1);
}

#[tokio::test]
async fn when_the_remote_bind_fails_nothing_is_bound_here_and_the_error_names_the_server() {
    let h = harness(
        session(
            SessionMode::LocalOfferRemote(central()),
            Some(remote_part(true)),
        ),
        Some(remote_binding(1, || {
            Err(RemoteError::Unreachable("connection refused".into()))
        })),
    )
    .await;
    let error = h.service.bind(bind()).await.unwrap_err();
    assert!(
        matches!(&error, AssociationError::Remote(RemoteFailure::Unavailable(l)) if l == &central()),
        "{error:?}"
    );
    assert_eq!(*h.bound.lock().unwrap(), 0);
}

#[tokio::test]
async fn an_offer_not_taken_up_and_a_local_session_bind_here_only() {
    for found in [
        session(SessionMode::LocalOfferRemote(central()), None),
        session(
            SessionMode::LocalOfferRemote(central()),
            Some(remote_part(false)),
        ),
        session(SessionMode::Local, None),
    ] {
        let h = harness(found, Some(remote_binding(0, || Ok(remote_association())))).await;
        h.service.bind(bind()).await.unwrap();
        assert_eq!(*h.bound.lock().unwrap(), 1);
    }
}

#[tokio::test]
async fn without_a_remote_client_a_forced_session_is_refused_as_before() {
    let h = harness(
        session(
            SessionMode::RemotePending(central()),
            Some(remote_part(true)),
        ),
        None,
    )
    .await;
    let error = h.service.bind(bind()).await.unwrap_err();
    assert!(matches!(
        error,
        AssociationError::RemoteValidationRequired(_)
    ));
    assert_eq!(*h.bound.lock().unwrap(), 0);
}
