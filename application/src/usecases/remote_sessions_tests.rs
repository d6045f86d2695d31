use std::sync::Arc;

use mockall::predicate::eq;
use pretty_assertions::assert_eq;
use verity_domain::{
    RemoteSession, SendAttempt, SessionParts, ThreePid, Timestamp, UserId, ValidationToken,
};

use super::*;
use crate::ports::driven::{
    MockBindingStore, MockClock, MockRemoteIdentityServers, MockSecretGenerator, MockSessionStore,
    StoreError,
};
use crate::usecases::test_support::email;

use crate::usecases::remote_sessions::session_store_fake::{Written, holding};

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

fn server() -> RemoteServer {
    RemoteServer {
        label: central(),
        base_url: "http://central.test".into(),
    }
}

fn started(validated_at: Option<u64>) -> RemoteSession {
    RemoteSession {
        server: central(),
        base_url: "http://central.test".into(),
        sid: SessionId::parse("remote-sid").unwrap(),
        client_secret: ClientSecret::parse("verity-remote").unwrap(),
        send_attempt: SendAttempt::new(1),
        validated_at: validated_at.map(Timestamp::from_millis),
    }
}

fn session(mode: SessionMode, validated: bool, remote: Option<RemoteSession>) -> ValidationSession {
    ValidationSession::from_parts(SessionParts {
        id: sid(),
        client_secret: secret(),
        threepid: email("bob@gmail.com"),
        token: ValidationToken::parse("token").unwrap(),
        send_attempt: SendAttempt::new(1),
        next_link: None,
        mode,
        created_at: Timestamp::from_millis(NOW - 1000),
        validated_at: validated.then(|| Timestamp::from_millis(NOW - 500)),
        token_attempts: 1,
        remote,
        bound_to: None,
    })
}

fn forced() -> SessionMode {
    SessionMode::RemotePending(central())
}

/// A store holding `found`, recording the session after every change into the returned cell.
fn store(found: ValidationSession) -> (MockSessionStore, Written) {
    holding(found)
}

fn service(store: MockSessionStore, remote: MockRemoteIdentityServers) -> RemoteSessionService {
    let mut clock = MockClock::new();
    clock.expect_now().returning(|| Timestamp::from_millis(NOW));
    let mut secrets = MockSecretGenerator::new();
    secrets
        .expect_session_id()
        .returning(|| SessionId::parse("fresh-remote-secret").unwrap());
    RemoteSessionService::new(
        Arc::new(store),
        Arc::new(remote),
        Arc::new(clock),
        Arc::new(secrets),
        SessionRules::default(),
    )
}

fn unreachable() -> RemoteError {
    RemoteError::Unreachable("connection refused".into())
}

#[tokio::test]
async fn explaining_changes_nothing_and_names_the_server_the_label_resolves_to() {
    let (store, updates) = store(session(forced(), true, None));
    let mut remote = MockRemoteIdentityServers::new();
    remote
        .expect_resolve()
        .with(eq(central()))
        .times(1)
        .returning(|_| {
            Ok(RemoteServer {
                label: central(),
                base_url: "https://matrix.org".into(),
            })
        });
    let service = service(store, remote);
    let overview = service.explain(&sid(), &secret()).await.unwrap();
    assert_eq!(
        overview,
        RemoteOverview {
            threepid: email("bob@gmail.com"),
            server: central(),
            host: "matrix.org".into(),
            forced: true,
            started: false,
            validated: false,
            published: false,
        }
    );
    assert!(updates.lock().unwrap().is_empty());
}

#[tokio::test]
async fn explaining_a_started_step_names_the_server_that_has_it_without_resolving() {
    let on_other_port = RemoteSession {
        base_url: "http://central.test:8090".into(),
        ..started(None)
    };
    let (store, updates) = store(session(forced(), true, Some(on_other_port)));
    let mut remote = MockRemoteIdentityServers::new();
    remote.expect_resolve().never();
    let overview = service(store, remote)
        .explain(&sid(), &secret())
        .await
        .unwrap();
    assert_eq!(overview.host, "central.test:8090");
    assert!(overview.started);
    assert!(updates.lock().unwrap().is_empty());
}

#[tokio::test]
async fn explaining_fails_when_the_label_resolves_to_no_server() {
    let (store, updates) = store(session(forced(), true, None));
    let mut remote = MockRemoteIdentityServers::new();
    remote
        .expect_resolve()
        .returning(|label| Err(RemoteError::NoUsableServer(label.clone())));
    let error = service(store, remote)
        .explain(&sid(), &secret())
        .await
        .unwrap_err();
    assert!(
        matches!(&error, RemoteSessionError::Remote(RemoteFailure::Unavailable(l)) if l == &central()),
        "{error:?}"
    );
    assert!(updates.lock().unwrap().is_empty());
}

#[tokio::test]
async fn the_remote_step_is_refused_for_local_sessions_other_secrets_and_unvalidated_sessions() {
    for (found, asked, expected) in [
        (
            session(SessionMode::Local, true, None),
            secret(),
            "NotOffered",
        ),
        (
            session(forced(), true, None),
            ClientSecret::parse("x").unwrap(),
            "NoValidSession",
        ),
        (session(forced(), false, None), secret(), "NotValidated"),
    ] {
        let (store, _) = store(found);
        let service = service(store, MockRemoteIdentityServers::new());
        let error = service.start(&sid(), &asked).await.unwrap_err();
        assert!(format!("{error:?}").starts_with(expected), "{error:?}");
    }
}

#[tokio::test]
async fn starting_opens_a_session_on_the_resolved_server_with_verity_s_own_secret() {
    let (store, updates) = store(session(
        SessionMode::LocalOfferRemote(central()),
        true,
        None,
    ));
    let mut remote = MockRemoteIdentityServers::new();
    remote
        .expect_resolve()
        .with(eq(central()))
        .returning(|_| Ok(server()));
    remote
        .expect_request_token()
        .withf(|at, request| {
            at == &server()
                && request.threepid == email("bob@gmail.com")
                && request.client_secret.expose() == "fresh-remote-secret"
                && request.send_attempt == SendAttempt::new(1)
        })
        .returning(|_, _| Ok(SessionId::parse("remote-sid").unwrap()));
    let overview = service(store, remote)
        .start(&sid(), &secret())
        .await
        .unwrap();
    assert!(overview.started && !overview.forced && !overview.validated);
    assert_eq!(overview.host, "central.test");
    let updates = updates.lock().unwrap();
    let stored = updates[0].remote().unwrap();
    assert_eq!(stored.sid.as_str(), "remote-sid");
    assert_eq!(stored.base_url, "http://central.test");
    assert_eq!(stored.client_secret.expose(), "fresh-remote-secret");
}

#[tokio::test]
async fn starting_again_asks_the_same_server_to_send_again_with_the_same_secret() {
    let (store, updates) = store(session(forced(), true, Some(started(None))));
    let mut remote = MockRemoteIdentityServers::new();
    remote.expect_resolve().never();
    remote
        .expect_request_token()
        .withf(|at, request| {
            at == &server()
                && request.client_secret.expose() == "verity-remote"
                && request.send_attempt == SendAttempt::new(2)
        })
        .returning(|_, _| Ok(SessionId::parse("remote-sid").unwrap()));
    service(store, remote)
        .start(&sid(), &secret())
        .await
        .unwrap();
    assert_eq!(
        updates.lock().unwrap()[0].remote().unwrap().send_attempt,
        SendAttempt::new(2)
    );
}

#[tokio::test]
async fn a_failing_remote_server_leaves_the_session_unchanged() {
    let (store, updates) = store(session(forced(), true, None));
    let mut remote = MockRemoteIdentityServers::new();
    remote.expect_resolve().returning(|_| Ok(server()));
    remote
        .expect_request_token()
        .returning(|_, _| Err(unreachable()));
    let error = service(store, remote)
        .start(&sid(), &secret())
        .await
        .unwrap_err();
    assert!(
        matches!(&error, RemoteSessionError::Remote(RemoteFailure::Unavailable(l)) if l == &central()),
        "{error:?}"
    );
    assert!(updates.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_label_without_a_usable_server_is_reported_unavailable() {
    let (store, updates) = store(session(forced(), true, None));
    let mut remote = MockRemoteIdentityServers::new();
    remote
        .expect_resolve()
        .returning(|label| Err(RemoteError::NoUsableServer(label.clone())));
    let error = service(store, remote)
        .start(&sid(), &secret())
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        RemoteSessionError::Remote(RemoteFailure::Unavailable(_))
    ));
    assert!(updates.lock().unwrap().is_empty());
}

#[tokio::test]
async fn checking_before_starting_is_refused() {
    let (store, _) = store(session(forced(), true, None));
    let error = service(store, MockRemoteIdentityServers::new())
        .check(&sid(), &secret())
        .await
        .unwrap_err();
    assert!(matches!(error, RemoteSessionError::NotStarted));
}

#[tokio::test]
async fn a_check_records_the_remote_validation_of_this_3pid() {
    let (store, updates) = store(session(forced(), true, Some(started(None))));
    let mut remote = MockRemoteIdentityServers::new();
    remote
        .expect_validated_3pid()
        .withf(|at, rsid, rsecret| {
            at == &server() && rsid.as_str() == "remote-sid" && rsecret.expose() == "verity-remote"
        })
        .returning(|_, _, _| Ok(Some(email("bob@gmail.com"))));
    let overview = service(store, remote)
        .check(&sid(), &secret())
        .await
        .unwrap();
    assert!(overview.validated);
    assert_eq!(
        updates.lock().unwrap()[0].remote().unwrap().validated_at,
        Some(Timestamp::from_millis(NOW))
    );
}

fn offered_bound_here_then_started() -> ValidationSession {
    let mut found = session(
        SessionMode::LocalOfferRemote(central()),
        true,
        Some(started(None)),
    );
    found.record_local_bind(bob());
    found
}

fn bob() -> UserId {
    UserId::parse("@bob:example.org").unwrap()
}

/// What the remote server's bind answers.
fn remote_association() -> verity_domain::SignedAssociation {
    verity_domain::SignedAssociation::parse(
        r#"{"address":"bob@gmail.com","medium":"email","mxid":"@bob:example.org","not_after":2,"not_before":1,"signatures":{"central.test":{"ed25519:0":"c2ln"}},"ts":1}"#,
    )
    .unwrap()
}

/// A remote server that validated bob's address and whose bind answers `bind` once.
fn validated_remote(
    bind: fn() -> Result<verity_domain::SignedAssociation, RemoteError>,
) -> MockRemoteIdentityServers {
    let mut remote = MockRemoteIdentityServers::new();
    remote
        .expect_validated_3pid()
        .returning(|_, _, _| Ok(Some(email("bob@gmail.com"))));
    remote
        .expect_bind()
        .withf(|at, rsid, rsecret, user| {
            at == &server()
                && rsid.as_str() == "remote-sid"
                && rsecret.expose() == "verity-remote"
                && user == &bob()
        })
        .times(1)
        .returning(move |_, _, _, _| bind());
    remote
}

#[tokio::test]
async fn an_offered_step_completed_after_the_bind_here_binds_the_same_user_there_before_recording()
{
    let (store, updates) = store(offered_bound_here_then_started());
    let overview = service(store, validated_remote(|| Ok(remote_association())))
        .check(&sid(), &secret())
        .await
        .unwrap();
    assert!(overview.validated && overview.published, "{overview:?}");
    let updates = updates.lock().unwrap();
    assert_eq!(updates.len(), 1);
    assert!(updates[0].is_published_remotely());
}

#[tokio::test]
async fn a_failed_remote_bind_records_nothing_and_the_next_check_binds_again() {
    let (failing, updates) = store(offered_bound_here_then_started());
    let error = service(failing, validated_remote(|| Err(unreachable())))
        .check(&sid(), &secret())
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            RemoteSessionError::Remote(RemoteFailure::Unavailable(_))
        ),
        "{error:?}"
    );
    assert!(updates.lock().unwrap().is_empty());

    // The stored session is unchanged, so the retry confirms and binds again.
    let (store, updates) = store(offered_bound_here_then_started());
    let overview = service(store, validated_remote(|| Ok(remote_association())))
        .check(&sid(), &secret())
        .await
        .unwrap();
    assert!(overview.published);
    assert_eq!(updates.lock().unwrap().len(), 1);
}

/// A binding store in which bob's address is bound to `bound`.
fn bindings(bound: Option<&'static str>) -> Arc<MockBindingStore> {
    let mut bindings = MockBindingStore::new();
    bindings
        .expect_find()
        .with(eq(email("bob@gmail.com")))
        .times(1)
        .returning(move |_| Ok(bound.map(|user| UserId::parse(user).unwrap())));
    Arc::new(bindings)
}

#[tokio::test]
async fn an_offered_step_after_the_bind_here_is_forwarded_while_the_address_is_still_bound_here() {
    let (store, updates) = store(offered_bound_here_then_started());
    let overview = service(store, validated_remote(|| Ok(remote_association())))
        .with_bindings(bindings(Some("@bob:example.org")))
        .check(&sid(), &secret())
        .await
        .unwrap();
    assert!(overview.published, "{overview:?}");
    assert!(updates.lock().unwrap()[0].is_published_remotely());
}

#[tokio::test]
async fn an_offered_step_taken_after_the_address_was_unbound_here_publishes_nothing_there() {
    for still_bound in [None, Some("@mallory:example.org")] {
        let (store, updates) = store(offered_bound_here_then_started());
        let mut remote = MockRemoteIdentityServers::new();
        remote
            .expect_validated_3pid()
            .returning(|_, _, _| Ok(Some(email("bob@gmail.com"))));
        remote.expect_bind().never();
        let overview = service(store, remote)
            .with_bindings(bindings(still_bound))
            .check(&sid(), &secret())
            .await
            .unwrap();
        assert!(overview.validated && !overview.published, "{overview:?}");
        let updates = updates.lock().unwrap();
        assert_eq!(updates[0].bound_to(), None);
        assert!(!updates[0].is_published_remotely());
    }
}

#[tokio::test]
async fn an_offered_step_completed_before_any_bind_here_leaves_the_bind_to_the_homeserver() {
    let (store, updates) = store(session(
        SessionMode::LocalOfferRemote(central()),
        true,
        Some(started(None)),
    ));
    let mut remote = MockRemoteIdentityServers::new();
    remote
        .expect_validated_3pid()
        .returning(|_, _, _| Ok(Some(email("bob@gmail.com"))));
    remote.expect_bind().never();
    let overview = service(store, remote)
        .check(&sid(), &secret())
        .await
        .unwrap();
    assert!(overview.validated && !overview.published);
    assert_eq!(updates.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_check_before_the_user_finished_stores_nothing() {
    let (store, updates) = store(session(forced(), true, Some(started(None))));
    let mut remote = MockRemoteIdentityServers::new();
    remote.expect_validated_3pid().returning(|_, _, _| Ok(None));
    let overview = service(store, remote)
        .check(&sid(), &secret())
        .await
        .unwrap();
    assert!(overview.started && !overview.validated);
    assert!(updates.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_remote_validation_of_another_3pid_is_refused_and_not_recorded() {
    let (store, updates) = store(session(forced(), true, Some(started(None))));
    let mut remote = MockRemoteIdentityServers::new();
    remote.expect_validated_3pid().returning(|_, _, _| {
        Ok(Some(
            ThreePid::parse(verity_domain::Medium::Email, "eve@gmail.com").unwrap(),
        ))
    });
    let error = service(store, remote)
        .check(&sid(), &secret())
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        RemoteSessionError::Remote(RemoteFailure::Invalid(_))
    ));
    assert!(updates.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_store_failure_is_internal() {
    let mut store = MockSessionStore::new();
    store
        .expect_find()
        .returning(|_| Err(StoreError::Corrupt("x".into())));
    let error = service(store, MockRemoteIdentityServers::new())
        .explain(&sid(), &secret())
        .await
        .unwrap_err();
    assert!(matches!(error, RemoteSessionError::Internal(_)));
}

#[test]
fn a_remote_refusal_is_repeated_bounded() {
    let failure = remote_failure(
        &central(),
        RemoteError::Refused {
            errcode: "M_FORBIDDEN".into(),
            error: "é".repeat(1000),
        },
    );
    let RemoteFailure::Refused { error, errcode, .. } = failure else {
        panic!("{failure:?}");
    };
    assert_eq!(errcode, "M_FORBIDDEN");
    assert_eq!(error.chars().count(), 201);
}

#[path = "remote_sessions_race_tests.rs"]
mod races;
