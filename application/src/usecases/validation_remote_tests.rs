use std::sync::{Arc, Mutex};

use pretty_assertions::assert_eq;
use verity_domain::{
    ClientSecret, MatrixDomain, Msisdn, RemoteSession, SendAttempt, SessionId, SessionParts,
    SessionRules, ThreePid, Timestamp, ValidationPolicy,
};

use super::*;
use crate::ports::driven::{
    Counted, MockClock, MockRemoteIdentityServers, MockSecretGenerator, MockSessionStore,
    RemoteServer,
};
use crate::ports::driving::{RemoteFailure, SubmitToken, Validation};
use crate::usecases::{Notifier, ValidationSettings};

const NOW: u64 = 1_700_000_000_000;

fn root() -> ServerLabel {
    ServerLabel::parse("root").unwrap()
}

fn phone() -> ThreePid {
    ThreePid::Msisdn(Msisdn::parse("447911123456").unwrap())
}

fn server() -> RemoteServer {
    RemoteServer {
        label: root(),
        base_url: "http://central.test".into(),
    }
}

fn remote_part(validated: bool) -> RemoteSession {
    RemoteSession {
        server: root(),
        base_url: "http://central.test".into(),
        sid: SessionId::parse("remote-sid").unwrap(),
        client_secret: ClientSecret::parse("verity-remote").unwrap(),
        send_attempt: SendAttempt::new(1),
        validated_at: validated.then(|| Timestamp::from_millis(NOW - 5)),
    }
}

/// A forced-remote session (the default policy for phone numbers) with local code 123456.
fn session(
    threepid: ThreePid,
    validated: bool,
    remote: Option<RemoteSession>,
) -> ValidationSession {
    ValidationSession::from_parts(SessionParts {
        id: SessionId::parse("sid1").unwrap(),
        client_secret: ClientSecret::parse("user-secret").unwrap(),
        threepid,
        token: ValidationToken::parse("123456").unwrap(),
        send_attempt: SendAttempt::new(1),
        next_link: None,
        mode: SessionMode::RemotePending(root()),
        created_at: Timestamp::from_millis(NOW - 1000),
        validated_at: validated.then(|| Timestamp::from_millis(NOW - 100)),
        token_attempts: 1,
        remote,
        bound_to: None,
    })
}

fn submission(token: &str) -> SubmitToken {
    SubmitToken {
        sid: SessionId::parse("sid1").unwrap(),
        client_secret: ClientSecret::parse("user-secret").unwrap(),
        token: ValidationToken::parse(token).unwrap(),
    }
}

/// What the use case recorded, in order.
#[derive(Debug, Clone, PartialEq)]
enum Recorded {
    /// `count_token_attempt`.
    Counted,
    /// `mark_validated`, with the remote part stored along.
    Validated(Option<RemoteSession>),
    /// `mark_remote_validated` of this remote sid.
    RemoteValidated(String),
}

struct Run {
    service: ValidationService,
    updates: Arc<Mutex<Vec<Recorded>>>,
}

impl Run {
    fn recorded(&self) -> Vec<Recorded> {
        self.updates.lock().unwrap().clone()
    }

    /// The changes written, without the counted submissions.
    fn changes(&self) -> Vec<Recorded> {
        let all = self.recorded().into_iter();
        all.filter(|r| *r != Recorded::Counted).collect()
    }
}

fn run(found: ValidationSession, remote: MockRemoteIdentityServers) -> Run {
    run_counting(found, remote, 2)
}

/// As [`run`], the store counting this submission as number `attempt`.
fn run_counting(found: ValidationSession, remote: MockRemoteIdentityServers, attempt: u32) -> Run {
    let mut sessions = MockSessionStore::new();
    let right = found.token().clone();
    sessions
        .expect_find()
        .returning(move |_| Ok(Some(found.clone())));
    let updates = Arc::new(Mutex::new(Vec::new()));
    let seen = updates.clone();
    // Sessions without a remote start: counted and validated in one change.
    sessions
        .expect_count_and_validate()
        .returning(move |_, token, cap, _| {
            let mut seen = seen.lock().unwrap();
            seen.push(Recorded::Counted);
            if right.matches(token) && attempt <= cap {
                seen.push(Recorded::Validated(None));
                Ok(Counted::Validated { attempt })
            } else {
                Ok(Counted::Refused { attempt })
            }
        });
    let seen = updates.clone();
    sessions.expect_count_token_attempt().returning(move |_| {
        seen.lock().unwrap().push(Recorded::Counted);
        Ok(Some(attempt))
    });
    let seen = updates.clone();
    sessions
        .expect_mark_validated()
        .returning(move |_, _, _, remote| {
            seen.lock()
                .unwrap()
                .push(Recorded::Validated(remote.cloned()));
            Ok(Change::Applied)
        });
    let seen = updates.clone();
    sessions
        .expect_mark_remote_validated()
        .returning(move |_, remote_sid, _| {
            let sid = remote_sid.as_str().to_owned();
            seen.lock().unwrap().push(Recorded::RemoteValidated(sid));
            Ok(Change::Applied)
        });
    let mut clock = MockClock::new();
    clock.expect_now().returning(|| Timestamp::from_millis(NOW));
    let mut secrets = MockSecretGenerator::new();
    secrets
        .expect_session_id()
        .returning(|| SessionId::parse("fresh-remote").unwrap());
    let service = ValidationService::new(
        Arc::new(sessions),
        Notifier::new(),
        Arc::new(clock),
        Arc::new(secrets),
        ValidationSettings {
            domain: MatrixDomain::parse("example.org").unwrap(),
            policy: ValidationPolicy::defaults(root()),
            rules: SessionRules::default(),
            link_base: "https://id.example.org/_matrix/identity/v2".into(),
        },
    )
    .with_remote_servers(Arc::new(remote));
    Run { service, updates }
}

#[tokio::test]
async fn the_local_sms_code_starts_the_remote_session_and_asks_for_a_new_code() {
    let mut remote = MockRemoteIdentityServers::new();
    remote.expect_resolve().returning(|_| Ok(server()));
    remote
        .expect_request_token()
        .withf(|at, request| {
            at == &server()
                && request.threepid == phone()
                && request.client_secret.expose() == "fresh-remote"
                && request.send_attempt == SendAttempt::new(1)
        })
        .times(1)
        .returning(|_, _| Ok(SessionId::parse("remote-sid").unwrap()));
    let run = run(session(phone(), false, None), remote);
    let accepted = run
        .service
        .submit_token(submission("123456"))
        .await
        .unwrap();
    assert_eq!(accepted.remote_code_from.as_deref(), Some("central.test"));
    let changes = run.changes();
    assert_eq!(changes.len(), 1, "one conditional change: {changes:?}");
    let Recorded::Validated(Some(started)) = &changes[0] else {
        panic!("validated with its remote part: {changes:?}")
    };
    assert_eq!(started.sid.as_str(), "remote-sid");
}

#[tokio::test]
async fn when_the_remote_server_is_down_the_local_code_is_not_recorded() {
    let mut remote = MockRemoteIdentityServers::new();
    remote
        .expect_resolve()
        .returning(|label| Err(RemoteError::NoUsableServer(label.clone())));
    let run = run(session(phone(), false, None), remote);
    let error = run
        .service
        .submit_token(submission("123456"))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, ValidationError::Remote(RemoteFailure::Unavailable(l)) if l == &root()),
        "{error:?}"
    );
    assert_eq!(run.changes(), vec![]);
}

#[tokio::test]
async fn the_second_code_is_forwarded_to_the_remote_server_and_recorded() {
    let mut remote = MockRemoteIdentityServers::new();
    remote
        .expect_submit_token()
        .withf(|at, rsid, rsecret, token| {
            at == &server()
                && rsid.as_str() == "remote-sid"
                && rsecret.expose() == "verity-remote"
                && token.expose() == "654321"
        })
        .times(1)
        .returning(|_, _, _, _| Ok(()));
    let run = run(session(phone(), true, Some(remote_part(false))), remote);
    let accepted = run
        .service
        .submit_token(submission("654321"))
        .await
        .unwrap();
    assert_eq!(accepted.remote_code_from, None);
    assert_eq!(
        run.recorded(),
        vec![
            Recorded::Counted,
            Recorded::RemoteValidated("remote-sid".into())
        ],
        "counted before it is forwarded, then recorded on that remote session"
    );
}

#[tokio::test]
async fn a_mistyped_second_code_is_incorrect_and_changes_nothing() {
    let mut remote = MockRemoteIdentityServers::new();
    remote.expect_submit_token().returning(|_, _, _, _| {
        Err(RemoteError::Refused {
            errcode: "M_TOKEN_INCORRECT".into(),
            error: "nope".into(),
        })
    });
    let run = run(session(phone(), true, Some(remote_part(false))), remote);
    let error = run
        .service
        .submit_token(submission("000000"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, ValidationError::TokenIncorrect),
        "{error:?}"
    );
    assert_eq!(
        run.recorded(),
        vec![Recorded::Counted],
        "counted, nothing else"
    );
}

#[tokio::test]
async fn a_second_code_beyond_the_cap_is_refused_without_being_forwarded() {
    let mut remote = MockRemoteIdentityServers::new();
    remote.expect_submit_token().never();
    let cap = SessionRules::default().max_failed_attempts;
    let run = run_counting(
        session(phone(), true, Some(remote_part(false))),
        remote,
        cap + 1,
    );
    let error = run
        .service
        .submit_token(submission("000000"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, ValidationError::TooManyAttempts),
        "{error:?}"
    );
    assert_eq!(run.recorded(), vec![Recorded::Counted]);
}

#[tokio::test]
async fn a_session_whose_attempts_are_used_up_refuses_the_local_code_too() {
    let mut remote = MockRemoteIdentityServers::new();
    remote.expect_submit_token().never();
    let mut parts = session(phone(), true, Some(remote_part(false)))
        .parts()
        .clone();
    parts.token_attempts = SessionRules::default().max_failed_attempts;
    let run = run(ValidationSession::from_parts(parts), remote);
    let error = run
        .service
        .submit_token(submission("123456"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, ValidationError::TooManyAttempts),
        "{error:?}"
    );
    assert_eq!(run.recorded(), vec![]);
}

#[tokio::test]
async fn the_local_code_again_is_not_forwarded_and_still_asks_for_the_new_code() {
    let mut remote = MockRemoteIdentityServers::new();
    remote.expect_submit_token().never();
    let run = run(session(phone(), true, Some(remote_part(false))), remote);
    let accepted = run
        .service
        .submit_token(submission("123456"))
        .await
        .unwrap();
    assert_eq!(accepted.remote_code_from.as_deref(), Some("central.test"));
    assert_eq!(
        run.recorded(),
        vec![],
        "the local code again is not counted"
    );
}

#[tokio::test]
async fn an_email_link_validates_locally_and_leaves_the_remote_step_to_the_pages() {
    let mut remote = MockRemoteIdentityServers::new();
    remote.expect_resolve().never();
    remote.expect_request_token().never();
    let email = ThreePid::parse(Medium::Email, "bob@gmail.com").unwrap();
    let run = run(session(email, false, None), remote);
    let accepted = run
        .service
        .submit_token(submission("123456"))
        .await
        .unwrap();
    assert_eq!(accepted.remote_code_from, None);
    assert_eq!(run.changes(), vec![Recorded::Validated(None)]);
}
