use pretty_assertions::assert_eq;

use super::*;
use crate::{Medium, SessionRequest, ValidationToken};

const T0: u64 = 1_700_000_000_000;
const HOUR: u64 = 60 * 60 * 1000;

fn at(millis: u64) -> Timestamp {
    Timestamp::from_millis(millis)
}

fn secret(s: &str) -> ClientSecret {
    ClientSecret::parse(s).unwrap()
}

fn label() -> ServerLabel {
    ServerLabel::parse("central").unwrap()
}

fn alice() -> ThreePid {
    ThreePid::parse(Medium::Email, "alice@gmail.com").unwrap()
}

fn session(mode: SessionMode) -> ValidationSession {
    ValidationSession::start(
        SessionRequest {
            id: SessionId::parse("sid1").unwrap(),
            client_secret: secret("user"),
            threepid: alice(),
            token: ValidationToken::parse("tok").unwrap(),
            send_attempt: SendAttempt::new(1),
            next_link: None,
            mode,
        },
        at(T0),
    )
}

fn validated(mode: SessionMode) -> ValidationSession {
    let mut s = session(mode);
    let token = ValidationToken::parse("tok").unwrap();
    s.accept_token(&token, 1, at(T0), &SessionRules::default())
        .unwrap();
    s
}

fn start(s: &mut ValidationSession, fresh: &str) -> RemoteRequest {
    let request = s
        .next_remote_request(
            &secret("user"),
            secret(fresh),
            at(T0 + 1),
            &SessionRules::default(),
        )
        .unwrap();
    s.record_remote_start(
        request.clone(),
        "http://central".into(),
        SessionId::parse("remote1").unwrap(),
    );
    request
}

#[test]
fn only_the_two_remote_modes_name_a_remote_server() {
    assert_eq!(SessionMode::Local.remote_label(), None);
    assert_eq!(
        SessionMode::LocalOfferRemote(label()).remote_label(),
        Some(&label())
    );
    assert_eq!(
        SessionMode::RemotePending(label()).remote_label(),
        Some(&label())
    );
}

#[test]
fn a_remote_step_needs_the_secret_a_live_local_validation_and_a_remote_mode() {
    let rules = SessionRules::default();
    let pending = session(SessionMode::RemotePending(label()));
    assert_eq!(
        pending.check_remote_step(&secret("user"), at(T0), &rules),
        Err(RemoteStepError::NotValidated)
    );
    let s = validated(SessionMode::RemotePending(label()));
    assert_eq!(
        s.check_remote_step(&secret("other"), at(T0), &rules),
        Err(RemoteStepError::NoValidSession)
    );
    assert_eq!(
        s.check_remote_step(&secret("user"), at(T0 + 25 * HOUR), &rules),
        Err(RemoteStepError::Expired)
    );
    assert_eq!(
        s.check_remote_step(&secret("user"), at(T0), &rules),
        Ok(&label())
    );
    let local = validated(SessionMode::Local);
    assert_eq!(
        local.check_remote_step(&secret("user"), at(T0), &rules),
        Err(RemoteStepError::NotOffered)
    );
}

#[test]
fn the_first_remote_request_uses_the_fresh_secret_and_attempt_one() {
    let mut s = validated(SessionMode::LocalOfferRemote(label()));
    let request = start(&mut s, "fresh1");
    assert_eq!(request.client_secret.expose(), "fresh1");
    assert_eq!(request.send_attempt, SendAttempt::new(1));
    assert_eq!(request.base_url, None);
    let remote = s.remote().unwrap();
    assert_eq!(remote.sid.as_str(), "remote1");
    assert_eq!(remote.server, label());
    assert_eq!(remote.base_url, "http://central");
    assert_eq!(remote.validated_at, None);
}

#[test]
fn starting_again_keeps_the_secret_and_server_and_sends_the_next_attempt() {
    let mut s = validated(SessionMode::RemotePending(label()));
    start(&mut s, "fresh1");
    let again = start(&mut s, "fresh2");
    assert_eq!(again.client_secret.expose(), "fresh1");
    assert_eq!(again.send_attempt, SendAttempt::new(2));
    assert_eq!(again.base_url.as_deref(), Some("http://central"));
    assert_eq!(s.remote().unwrap().send_attempt, SendAttempt::new(2));
}

#[test]
fn a_remote_validation_is_recorded_once_and_only_for_this_sessions_3pid() {
    let mut s = validated(SessionMode::RemotePending(label()));
    assert_eq!(
        s.record_remote_validation(&alice(), at(T0)),
        Err(RemoteStepError::NotStarted)
    );
    start(&mut s, "fresh1");
    let bob = ThreePid::parse(Medium::Email, "bob@gmail.com").unwrap();
    assert_eq!(
        s.record_remote_validation(&bob, at(T0 + 2)),
        Err(RemoteStepError::NotValidated)
    );
    assert!(!s.is_remotely_validated());
    assert_eq!(s.record_remote_validation(&alice(), at(T0 + 2)), Ok(true));
    assert_eq!(s.record_remote_validation(&alice(), at(T0 + 3)), Ok(false));
    assert_eq!(s.remote().unwrap().validated_at, Some(at(T0 + 2)));
    // Starting again (the user asked for another message) keeps the validation.
    start(&mut s, "fresh2");
    assert!(s.is_remotely_validated());
}

#[test]
fn a_local_session_binds_here_whatever_else_it_holds() {
    assert_eq!(validated(SessionMode::Local).bind_route(), BindRoute::Local);
}

#[test]
fn an_offered_remote_step_is_forwarded_only_once_validated_remotely() {
    let mut s = validated(SessionMode::LocalOfferRemote(label()));
    assert_eq!(s.bind_route(), BindRoute::Local);
    start(&mut s, "fresh1");
    assert_eq!(s.bind_route(), BindRoute::Local);
    s.record_remote_validation(&alice(), at(T0 + 2)).unwrap();
    assert_eq!(
        s.bind_route(),
        BindRoute::RemoteThenLocal(s.remote().unwrap().clone())
    );
}

#[test]
fn a_forced_remote_session_binds_only_remotely_and_only_once_validated_there() {
    let mut s = validated(SessionMode::RemotePending(label()));
    assert_eq!(s.bind_route(), BindRoute::RemoteNotValidated(None));
    start(&mut s, "fresh1");
    assert_eq!(
        s.bind_route(),
        BindRoute::RemoteNotValidated(Some(s.remote().unwrap().clone()))
    );
    s.record_remote_validation(&alice(), at(T0 + 2)).unwrap();
    assert_eq!(
        s.bind_route(),
        BindRoute::RemoteOnly(s.remote().unwrap().clone())
    );
}

fn bob() -> UserId {
    UserId::parse("@bob:example.org").unwrap()
}

#[test]
fn an_offered_step_completed_after_a_bind_here_owes_that_user_a_remote_bind() {
    let mut s = validated(SessionMode::LocalOfferRemote(label()));
    assert_eq!(s.remote_bind_owed(), None);
    s.record_local_bind(bob());
    assert_eq!(s.bound_to(), Some(&bob()));
    assert_eq!(s.remote_bind_owed(), Some(&bob()));
    start(&mut s, "fresh1");
    assert!(!s.is_published_remotely());
    s.record_remote_validation(&alice(), at(T0 + 2)).unwrap();
    assert!(s.is_published_remotely());
}

#[test]
fn only_an_offered_step_owes_a_remote_bind_for_a_bind_here() {
    for mode in [SessionMode::Local, SessionMode::RemotePending(label())] {
        let mut s = validated(mode.clone());
        s.record_local_bind(bob());
        assert_eq!(s.remote_bind_owed(), None, "{mode:?}");
        assert!(!s.is_published_remotely(), "{mode:?}");
    }
}

#[test]
fn users_see_the_host_of_the_server_with_its_port_unless_default() {
    for (base_url, host) in [
        ("https://matrix.org", "matrix.org"),
        ("https://Matrix.ORG/", "matrix.org"),
        ("https://vector.im:443", "vector.im"),
        ("http://127.0.0.1:8090", "127.0.0.1:8090"),
        ("http://id.example:80/prefix", "id.example"),
        ("https://id.example:8443", "id.example:8443"),
        ("https://user:pw@id.example", "id.example"),
        ("https://[::1]:8443", "[::1]:8443"),
    ] {
        assert_eq!(server_host(base_url), host, "{base_url}");
    }
}

/// A forced-remote SMS session validated here with its first code (attempt 1).
fn sms_validated_here() -> ValidationSession {
    let mut s = ValidationSession::start(
        SessionRequest {
            id: SessionId::parse("sms1").unwrap(),
            client_secret: secret("user"),
            threepid: ThreePid::parse(Medium::Msisdn, "447911123456").unwrap(),
            token: ValidationToken::parse("123456").unwrap(),
            send_attempt: SendAttempt::new(1),
            next_link: None,
            mode: SessionMode::RemotePending(label()),
        },
        at(T0),
    );
    let code = ValidationToken::parse("123456").unwrap();
    s.accept_token(&code, 1, at(T0), &SessionRules::default())
        .unwrap();
    s
}

#[test]
fn only_a_started_unfinished_forced_remote_sms_session_awaits_the_remote_code() {
    let mut sms = sms_validated_here();
    assert!(!sms.awaits_remote_code(), "not started yet");
    start(&mut sms, "fresh1");
    assert!(sms.awaits_remote_code());
    sms.record_remote_validation(&sms.threepid().clone(), at(T0 + 2))
        .unwrap();
    assert!(!sms.awaits_remote_code(), "validated there");
    let mut email = validated(SessionMode::RemotePending(label()));
    start(&mut email, "fresh1");
    assert!(!email.awaits_remote_code(), "email has no second code");
    let mut offered = sms_validated_here();
    offered.parts_mut().mode = SessionMode::LocalOfferRemote(label());
    start(&mut offered, "fresh1");
    assert!(
        !offered.awaits_remote_code(),
        "only forced sessions forward"
    );
}

#[test]
fn remote_codes_count_against_the_same_cap_and_lock_the_session_beyond_it() {
    let rules = SessionRules {
        max_failed_attempts: 3,
        ..SessionRules::default()
    };
    let mut s = sms_validated_here();
    start(&mut s, "fresh1");
    // The first code was submission 1: two remote codes remain.
    assert_eq!(s.count_remote_code(2, &rules), Ok(()));
    assert!(!s.is_locked(&rules));
    assert_eq!(s.count_remote_code(3, &rules), Ok(()));
    assert!(
        s.is_locked(&rules),
        "the cap is used up before the remote code"
    );
    assert_eq!(s.count_remote_code(4, &rules), Err(SessionError::Locked));
    assert_eq!(s.parts().token_attempts, 4);
    s.record_remote_validation(&s.threepid().clone(), at(T0 + 2))
        .unwrap();
    assert!(!s.is_locked(&rules), "a finished session is not locked");
}
