use std::time::Duration;

use pretty_assertions::assert_eq;

use super::*;
use crate::{MatrixDomain, Medium, Scope, ValidationPolicy};

const T0: u64 = 1_700_000_000_000;
const HOUR: u64 = 60 * 60 * 1000;

fn at(millis: u64) -> Timestamp {
    Timestamp::from_millis(millis)
}

fn secret(s: &str) -> ClientSecret {
    ClientSecret::parse(s).unwrap()
}

fn token(s: &str) -> ValidationToken {
    ValidationToken::parse(s).unwrap()
}

fn session() -> ValidationSession {
    ValidationSession::start(
        SessionRequest {
            id: SessionId::parse("sid1").unwrap(),
            client_secret: secret("s3cret"),
            threepid: ThreePid::parse(Medium::Email, "alice@example.org").unwrap(),
            token: token("right"),
            send_attempt: SendAttempt::new(1),
            next_link: None,
            mode: SessionMode::Local,
        },
        at(T0),
    )
}

fn rules() -> SessionRules {
    SessionRules::default()
}

/// A submission as the use case performs it: check, count the attempt (the store's job), compare.
fn submit(
    s: &mut ValidationSession,
    secret: &ClientSecret,
    token: &ValidationToken,
    now: Timestamp,
    rules: &SessionRules,
) -> Result<(), SessionError> {
    let attempt = match s.check_submission(secret, now, rules)? {
        Submission::Pending => s.parts().token_attempts + 1,
        Submission::AlreadyValidated => 0,
    };
    s.accept_token(token, attempt, now, rules)
}

#[test]
fn a_new_session_is_pending_and_lives_24_hours_by_default() {
    let s = session();
    assert!(!s.is_validated());
    assert_eq!(s.expires_at(&rules()), at(T0 + 24 * HOUR));
    assert!(!s.is_expired(at(T0 + 24 * HOUR), &rules()));
    assert!(s.is_expired(at(T0 + 24 * HOUR + 1), &rules()));
}

#[test]
fn the_right_token_validates_the_session_at_that_time() {
    let mut s = session();
    submit(
        &mut s,
        &secret("s3cret"),
        &token("right"),
        at(T0 + 5),
        &rules(),
    )
    .unwrap();
    let validated = s
        .validated(&secret("s3cret"), at(T0 + 6), &rules())
        .unwrap();
    assert_eq!(validated.validated_at, at(T0 + 5));
    assert_eq!(validated.threepid.address(), "alice@example.org");
}

#[test]
fn submitting_the_right_token_twice_keeps_the_first_validation_time() {
    let mut s = session();
    submit(
        &mut s,
        &secret("s3cret"),
        &token("right"),
        at(T0 + 5),
        &rules(),
    )
    .unwrap();
    submit(
        &mut s,
        &secret("s3cret"),
        &token("right"),
        at(T0 + 9),
        &rules(),
    )
    .unwrap();
    assert_eq!(s.parts().validated_at, Some(at(T0 + 5)));
}

#[test]
fn validation_restarts_the_lifetime() {
    let mut s = session();
    submit(
        &mut s,
        &secret("s3cret"),
        &token("right"),
        at(T0 + 20 * HOUR),
        &rules(),
    )
    .unwrap();
    assert!(
        s.validated(&secret("s3cret"), at(T0 + 30 * HOUR), &rules())
            .is_ok()
    );
    assert_eq!(
        s.validated(&secret("s3cret"), at(T0 + 44 * HOUR + 1), &rules()),
        Err(SessionError::Expired)
    );
}

#[test]
fn another_client_secret_is_treated_as_no_session() {
    let mut s = session();
    assert_eq!(
        submit(&mut s, &secret("other"), &token("right"), at(T0), &rules()),
        Err(SessionError::NoValidSession)
    );
    assert_eq!(
        s.validated(&secret("other"), at(T0), &rules()),
        Err(SessionError::NoValidSession)
    );
    assert!(!s.is_validated());
}

#[test]
fn wrong_tokens_count_down_then_lock_the_session_even_for_the_right_token() {
    let mut s = session();
    let rules = SessionRules {
        max_failed_attempts: 3,
        ..rules()
    };
    for remaining in [2, 1, 0] {
        assert_eq!(
            submit(&mut s, &secret("s3cret"), &token("wrong"), at(T0), &rules),
            Err(SessionError::TokenIncorrect { remaining })
        );
    }
    assert_eq!(
        submit(&mut s, &secret("s3cret"), &token("right"), at(T0), &rules),
        Err(SessionError::Locked)
    );
    assert!(!s.is_validated());
}

#[test]
fn an_expired_session_cannot_be_validated() {
    let mut s = session();
    let rules = SessionRules {
        lifetime: Duration::from_secs(60),
        ..rules()
    };
    assert_eq!(
        submit(
            &mut s,
            &secret("s3cret"),
            &token("right"),
            at(T0 + 60_001),
            &rules
        ),
        Err(SessionError::Expired)
    );
}

#[test]
fn an_unvalidated_session_reports_not_validated() {
    assert_eq!(
        session().validated(&secret("s3cret"), at(T0), &rules()),
        Err(SessionError::NotValidated)
    );
}

#[test]
fn only_a_higher_send_attempt_sends_again_and_it_is_remembered() {
    let mut s = session();
    assert_eq!(
        s.request_again(SendAttempt::new(1)),
        RequestOutcome::NothingToSend
    );
    assert_eq!(
        s.request_again(SendAttempt::new(0)),
        RequestOutcome::NothingToSend
    );
    assert_eq!(
        s.request_again(SendAttempt::new(5)),
        RequestOutcome::SendAgain
    );
    assert_eq!(
        s.request_again(SendAttempt::new(5)),
        RequestOutcome::NothingToSend
    );
    assert_eq!(
        s.request_again(SendAttempt::new(3)),
        RequestOutcome::NothingToSend
    );
    assert_eq!(s.parts().send_attempt, SendAttempt::new(5));
}

#[test]
fn a_session_survives_a_round_trip_through_its_parts() {
    let mut s = session();
    submit(&mut s, &secret("s3cret"), &token("wrong"), at(T0), &rules()).unwrap_err();
    let restored = ValidationSession::from_parts(s.parts().clone());
    assert_eq!(restored, s);
    assert_eq!(restored.parts().token_attempts, 1);
}

#[test]
fn the_session_mode_follows_the_policy_decision() {
    let policy = ValidationPolicy::defaults(ServerLabel::parse("root").unwrap());
    let domain = MatrixDomain::parse("example.org").unwrap();
    let local = ThreePid::parse(Medium::Email, "a@example.org").unwrap();
    let remote = ThreePid::parse(Medium::Email, "a@gmail.com").unwrap();
    let root = ServerLabel::parse("root").unwrap();
    assert_eq!(
        SessionMode::from_decision(&policy.decide(Scope::of(&local, &domain))),
        Some(SessionMode::LocalOfferRemote(root.clone()))
    );
    assert_eq!(
        SessionMode::from_decision(&policy.decide(Scope::of(&remote, &domain))),
        Some(SessionMode::RemotePending(root))
    );
    let mut disabled = policy;
    disabled.enabled = false;
    assert_eq!(
        SessionMode::from_decision(&disabled.decide(Scope::Local)),
        None
    );
}

#[test]
fn phone_numbers_get_six_digit_codes_and_emails_get_link_tokens() {
    let phone = ThreePid::Msisdn(crate::Msisdn::parse("447911123456").unwrap());
    assert_eq!(token_kind_for(&phone), TokenKind::SMS);
    let email = ThreePid::parse(Medium::Email, "a@b.c").unwrap();
    assert_eq!(token_kind_for(&email), TokenKind::EMAIL);
}

#[test]
fn an_attempt_beyond_the_cap_is_refused_without_comparing_even_when_concurrent() {
    // Two guesses raced: the store counted them 5 and 6. Attempt 6 must be refused even if right.
    let mut s = session();
    let rules = SessionRules {
        max_failed_attempts: 5,
        ..rules()
    };
    assert_eq!(
        s.check_submission(&secret("s3cret"), at(T0), &rules),
        Ok(Submission::Pending)
    );
    assert_eq!(
        s.accept_token(&token("right"), 6, at(T0), &rules),
        Err(SessionError::Locked)
    );
    assert!(!s.is_validated());
    assert_eq!(s.parts().token_attempts, 6);
    s.accept_token(&token("right"), 5, at(T0), &rules).unwrap();
    assert!(s.is_validated());
}

#[test]
fn a_validated_session_answers_a_wrong_token_without_counting_it() {
    let mut s = session();
    s.accept_token(&token("right"), 1, at(T0), &rules())
        .unwrap();
    assert_eq!(
        s.check_submission(&secret("s3cret"), at(T0), &rules()),
        Ok(Submission::AlreadyValidated)
    );
    assert_eq!(
        s.accept_token(&token("wrong"), 0, at(T0), &rules()),
        Err(SessionError::TokenIncorrect { remaining: 0 })
    );
    assert_eq!(s.parts().token_attempts, 1);
}

#[test]
fn a_session_is_locked_once_its_submissions_are_used_up_unless_validated() {
    let rules = SessionRules {
        max_failed_attempts: 2,
        ..rules()
    };
    let mut s = session();
    assert!(!s.is_locked(&rules));
    let _ = s.accept_token(&token("wrong"), 1, at(T0), &rules);
    assert!(!s.is_locked(&rules));
    let _ = s.accept_token(&token("wrong"), 2, at(T0), &rules);
    assert!(s.is_locked(&rules));
    let mut validated = session();
    validated
        .accept_token(&token("right"), 2, at(T0), &rules)
        .unwrap();
    assert!(!validated.is_locked(&rules));
}

#[test]
fn a_resend_keeps_the_token_and_the_submissions_already_counted() {
    let rules = SessionRules {
        max_failed_attempts: 2,
        ..rules()
    };
    let mut s = session();
    let wrong = token("wrong");
    assert!(submit(&mut s, &secret("s3cret"), &wrong, at(T0), &rules).is_err());
    assert_eq!(
        s.request_again(SendAttempt::new(2)),
        RequestOutcome::SendAgain
    );
    assert_eq!(s.token(), &token("right"));
    assert_eq!(s.parts().token_attempts, 1, "a resend grants no new guess");
    assert!(submit(&mut s, &secret("s3cret"), &wrong, at(T0), &rules).is_err());
    assert!(s.is_locked(&rules));
}
