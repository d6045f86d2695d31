//! submitToken and getValidated3pid.
use super::*;
use crate::ports::driven::Counted;

fn submission(token: &str) -> SubmitToken {
    SubmitToken {
        sid: SessionId::parse("oldsid").unwrap(),
        client_secret: secret("s3cret"),
        token: ValidationToken::parse(token).unwrap(),
    }
}

fn finding(m: &mut Mocks, session: ValidationSession) {
    m.sessions
        .expect_find()
        .returning(move |_| Ok(Some(session.clone())));
}

#[tokio::test]
async fn the_right_token_validates_and_stores_the_session() {
    let mut m = Mocks::new();
    finding(&mut m, stored(email("alice@example.org"), 1, T0, None));
    // Counted and recorded in one conditional change, only while pending and within the cap:
    // a concurrent change is never overwritten.
    m.sessions
        .expect_count_and_validate()
        .times(1)
        .withf(|id, token, cap, at| {
            id.as_str() == "oldsid"
                && token.expose() == "oldtoken"
                && *cap == 5
                && *at == Timestamp::from_millis(T0 + 10)
        })
        .returning(|_, _, _, _| Ok(Counted::Validated { attempt: 1 }));
    m.sessions.expect_count_token_attempt().never();
    m.sessions.expect_mark_validated().never();
    m.now = T0 + 10;
    let accepted = m
        .build()
        .submit_token(submission("oldtoken"))
        .await
        .unwrap();
    assert_eq!(accepted.threepid.address(), "alice@example.org");
    assert_eq!(accepted.mode, SessionMode::LocalOfferRemote(root()));
    assert_eq!(
        accepted.next_link.as_deref(),
        Some("https://app.example.org/done")
    );
}

#[tokio::test]
async fn a_right_token_a_concurrent_submission_validated_first_is_accepted_as_stored() {
    let mut m = Mocks::new();
    let pending = stored(email("alice@example.org"), 1, T0, None);
    let validated = stored(email("alice@example.org"), 1, T0, Some(T0 + 3));
    let mut reads = Sequence::new();
    m.sessions
        .expect_find()
        .times(1)
        .in_sequence(&mut reads)
        .returning(move |_| Ok(Some(pending.clone())));
    m.sessions
        .expect_count_and_validate()
        .times(1)
        .returning(|_, _, _, _| Ok(Counted::Stale));
    m.sessions
        .expect_find()
        .times(1)
        .in_sequence(&mut reads)
        .returning(move |_| Ok(Some(validated.clone())));
    let accepted = m
        .build()
        .submit_token(submission("oldtoken"))
        .await
        .unwrap();
    assert_eq!(accepted.threepid.address(), "alice@example.org");
}

#[tokio::test]
async fn a_right_token_whose_session_vanished_meanwhile_finds_no_session() {
    let mut m = Mocks::new();
    let pending = stored(email("alice@example.org"), 1, T0, None);
    let mut reads = Sequence::new();
    m.sessions
        .expect_find()
        .times(1)
        .in_sequence(&mut reads)
        .returning(move |_| Ok(Some(pending.clone())));
    m.sessions
        .expect_count_and_validate()
        .returning(|_, _, _, _| Ok(Counted::Stale));
    m.sessions
        .expect_find()
        .times(1)
        .in_sequence(&mut reads)
        .returning(|_| Ok(None));
    let error = m
        .build()
        .submit_token(submission("oldtoken"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, ValidationError::NoValidSession),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_wrong_token_that_lost_the_race_to_a_validation_is_incorrect() {
    let mut m = Mocks::new();
    let pending = stored(email("alice@example.org"), 1, T0, None);
    let validated = stored(email("alice@example.org"), 1, T0, Some(T0 + 3));
    let mut reads = Sequence::new();
    m.sessions
        .expect_find()
        .times(1)
        .in_sequence(&mut reads)
        .returning(move |_| Ok(Some(pending.clone())));
    m.sessions
        .expect_count_and_validate()
        .returning(|_, _, _, _| Ok(Counted::Stale));
    m.sessions
        .expect_find()
        .times(1)
        .in_sequence(&mut reads)
        .returning(move |_| Ok(Some(validated.clone())));
    let error = m
        .build()
        .submit_token(submission("wrong"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, ValidationError::TokenIncorrect),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_wrong_token_is_incorrect_and_the_session_is_not_rewritten() {
    let mut m = Mocks::new();
    finding(&mut m, stored(email("alice@example.org"), 1, T0, None));
    m.sessions
        .expect_count_and_validate()
        .times(1)
        .returning(|_, _, _, _| Ok(Counted::Refused { attempt: 2 }));
    let error = m
        .build()
        .submit_token(submission("wrong"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, ValidationError::TokenIncorrect),
        "{error:?}"
    );
}

#[tokio::test]
async fn an_attempt_beyond_the_cap_is_refused_even_with_the_right_token() {
    let mut m = Mocks::new();
    finding(&mut m, stored(email("alice@example.org"), 1, T0, None));
    m.sessions
        .expect_count_and_validate()
        .returning(|_, _, _, _| Ok(Counted::Refused { attempt: 6 }));
    let error = m
        .build()
        .submit_token(submission("oldtoken"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, ValidationError::TooManyAttempts),
        "{error:?}"
    );
}

#[tokio::test]
async fn an_unknown_sid_is_no_valid_session() {
    let mut m = Mocks::new();
    m.sessions.expect_find().returning(|_| Ok(None));
    let error = m
        .build()
        .submit_token(submission("oldtoken"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, ValidationError::NoValidSession),
        "{error:?}"
    );
}

#[tokio::test]
async fn another_client_secret_is_no_valid_session_and_counts_no_attempt() {
    let mut m = Mocks::new();
    finding(&mut m, stored(email("alice@example.org"), 1, T0, None));
    m.sessions.expect_count_and_validate().never();
    let mut wrong = submission("oldtoken");
    wrong.client_secret = secret("guess");
    let error = m.build().submit_token(wrong).await.unwrap_err();
    assert!(
        matches!(error, ValidationError::NoValidSession),
        "{error:?}"
    );
}

#[tokio::test]
async fn an_expired_session_cannot_be_validated() {
    let mut m = Mocks::new();
    finding(&mut m, stored(email("alice@example.org"), 1, T0, None));
    m.now = T0 + DAY + 1;
    m.sessions.expect_count_and_validate().never();
    let error = m
        .build()
        .submit_token(submission("oldtoken"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, ValidationError::SessionExpired),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_policy_that_now_refuses_the_scope_refuses_the_submission() {
    let mut m = Mocks::new();
    m.settings.policy.enabled = false;
    finding(&mut m, stored(email("alice@example.org"), 1, T0, None));
    m.sessions.expect_count_and_validate().never();
    let error = m
        .build()
        .submit_token(submission("oldtoken"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, ValidationError::Refused(RefusalReason::Disabled)),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_validated_session_accepts_its_token_again_without_counting_or_rewriting() {
    let mut m = Mocks::new();
    finding(
        &mut m,
        stored(email("alice@example.org"), 1, T0, Some(T0 + 5)),
    );
    m.sessions.expect_count_and_validate().never();
    m.sessions.expect_count_token_attempt().never();
    m.sessions.expect_mark_validated().never();
    m.build()
        .submit_token(submission("oldtoken"))
        .await
        .unwrap();
}

#[tokio::test]
async fn the_validated_3pid_is_reported_with_its_validation_time() {
    let mut m = Mocks::new();
    finding(
        &mut m,
        stored(email("alice@example.org"), 1, T0, Some(T0 + 5)),
    );
    let validated = m
        .build()
        .validated_3pid(&SessionId::parse("oldsid").unwrap(), &secret("s3cret"))
        .await
        .unwrap();
    assert_eq!(validated.validated_at, Timestamp::from_millis(T0 + 5));
    assert_eq!(validated.threepid.address(), "alice@example.org");
}

#[tokio::test]
async fn an_unvalidated_session_reports_not_validated() {
    let mut m = Mocks::new();
    finding(&mut m, stored(email("alice@example.org"), 1, T0, None));
    let error = m
        .build()
        .validated_3pid(&SessionId::parse("oldsid").unwrap(), &secret("s3cret"))
        .await
        .unwrap_err();
    assert!(matches!(error, ValidationError::NotValidated), "{error:?}");
}
