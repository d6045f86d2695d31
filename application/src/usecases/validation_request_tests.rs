//! requestToken.
use super::*;

#[tokio::test]
async fn a_new_session_is_sent_before_it_is_stored_and_its_sid_returned() {
    let mut m = Mocks::new();
    let mut order = Sequence::new();
    m.sessions.expect_find_latest().returning(|_, _| Ok(None));
    m.generator
        .expect_validation()
        .times(1)
        .in_sequence(&mut order)
        .returning(|notice| Ok(message_for(&notice.threepid)));
    m.connector
        .expect_send()
        .times(1)
        .in_sequence(&mut order)
        .returning(|_| Ok(()));
    m.sessions
        .expect_insert()
        .times(1)
        .in_sequence(&mut order)
        .withf(|s| s.id().as_str() == "newsid" && s.token().expose() == "linktoken")
        .returning(|_| Ok(()));
    let answer = m
        .build()
        .request_token(request(email("Alice@Example.org"), 1))
        .await
        .unwrap();
    assert_eq!(answer.sid.as_str(), "newsid");
    assert_eq!(answer.threepid.address(), "alice@example.org");
}

#[tokio::test]
async fn the_notice_carries_the_token_and_a_link_to_submit_it() {
    let mut m = Mocks::new();
    m.sessions.expect_find_latest().returning(|_, _| Ok(None));
    m.sessions.expect_insert().returning(|_| Ok(()));
    let seen = Arc::new(Mutex::new(None));
    let keep = seen.clone();
    m.generator.expect_validation().returning(move |notice| {
        *keep.lock().unwrap() = Some(notice.clone());
        Ok(message_for(&notice.threepid))
    });
    m.connector.expect_send().returning(|_| Ok(()));
    m.build()
        .request_token(request(email("alice@example.org"), 1))
        .await
        .unwrap();
    let notice = seen.lock().unwrap().clone().unwrap();
    assert_eq!(notice.token.expose(), "linktoken");
    assert_eq!(
        notice.link,
        "https://id.example.org/_matrix/identity/v2/validate/email/submitToken?sid=newsid&client_secret=s3cret&token=linktoken"
    );
    assert_eq!(notice.mode, SessionMode::LocalOfferRemote(root()));
}

#[tokio::test]
async fn a_repeated_request_with_the_same_attempt_returns_the_same_sid_and_sends_nothing() {
    let mut m = Mocks::new();
    m.sessions
        .expect_find_latest()
        .returning(|_, _| Ok(Some(stored(email("alice@example.org"), 1, T0, None))));
    m.generator.expect_validation().never();
    m.connector.expect_send().never();
    m.sessions.expect_insert().never();
    m.sessions.expect_record_resend().never();
    let service = m.build();
    for attempt in [0, 1] {
        let answer = service
            .request_token(request(email("alice@example.org"), attempt))
            .await
            .unwrap();
        assert_eq!(answer.sid.as_str(), "oldsid");
    }
}

#[tokio::test]
async fn a_higher_send_attempt_resends_the_same_token_and_remembers_the_attempt() {
    let mut m = Mocks::new();
    m.sessions
        .expect_find_latest()
        .returning(|_, _| Ok(Some(stored(email("alice@example.org"), 1, T0, None))));
    m.generator
        .expect_validation()
        .times(1)
        .withf(|notice| notice.token.expose() == "oldtoken" && notice.sid.as_str() == "oldsid")
        .returning(|notice| Ok(message_for(&notice.threepid)));
    m.connector.expect_send().times(1).returning(|_| Ok(()));
    // Only send_attempt is recorded: no whole session is written back over the counted
    // submissions.
    m.sessions
        .expect_record_resend()
        .times(1)
        .withf(|id, attempt| id.as_str() == "oldsid" && *attempt == SendAttempt::new(2))
        .returning(|_, _| Ok(Change::Applied));
    m.sessions.expect_insert().never();
    let answer = m
        .build()
        .request_token(request(email("alice@example.org"), 2))
        .await
        .unwrap();
    assert_eq!(answer.sid.as_str(), "oldsid");
}

#[tokio::test]
async fn a_resend_a_concurrent_one_recorded_first_still_answers_the_same_sid() {
    let mut m = Mocks::new().delivering();
    m.sessions
        .expect_find_latest()
        .returning(|_, _| Ok(Some(stored(email("alice@example.org"), 1, T0, None))));
    m.sessions
        .expect_record_resend()
        .times(1)
        .returning(|_, _| Ok(Change::Stale));
    m.sessions.expect_insert().never();
    let answer = m
        .build()
        .request_token(request(email("alice@example.org"), 2))
        .await
        .unwrap();
    assert_eq!(answer.sid.as_str(), "oldsid");
}

#[tokio::test]
async fn a_failed_resend_records_no_send_attempt() {
    let mut m = Mocks::new();
    m.sessions
        .expect_find_latest()
        .returning(|_, _| Ok(Some(stored(email("alice@example.org"), 1, T0, None))));
    m.generator
        .expect_validation()
        .returning(|notice| Ok(message_for(&notice.threepid)));
    m.connector
        .expect_send()
        .returning(|_| Err(NotifyError::Unavailable("smtp down".into())));
    m.sessions.expect_record_resend().never();
    let result = m
        .build()
        .request_token(request(email("alice@example.org"), 2))
        .await;
    assert!(matches!(result, Err(ValidationError::SendFailed { .. })));
}

#[tokio::test]
async fn an_expired_session_is_not_resumed_and_a_new_one_starts() {
    let mut m = Mocks::new().delivering();
    m.now = T0 + DAY + 1;
    m.sessions
        .expect_find_latest()
        .returning(|_, _| Ok(Some(stored(email("alice@example.org"), 1, T0, None))));
    m.sessions
        .expect_insert()
        .times(1)
        .withf(|s| s.id().as_str() == "newsid")
        .returning(|_| Ok(()));
    let answer = m
        .build()
        .request_token(request(email("alice@example.org"), 1))
        .await
        .unwrap();
    assert_eq!(answer.sid.as_str(), "newsid");
}

#[tokio::test]
async fn a_scope_the_policy_refuses_is_forbidden_and_nothing_is_sent_or_stored() {
    let mut m = Mocks::new();
    m.settings.policy.for_remote.enabled = false;
    m.sessions.expect_find_latest().never();
    m.sessions.expect_insert().never();
    m.connector.expect_send().never();
    let error = m
        .build()
        .request_token(request(email("bob@gmail.com"), 1))
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            ValidationError::Refused(RefusalReason::ScopeDisabled(verity_domain::Scope::Remote))
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_remote_only_scope_creates_a_remote_pending_session_whose_notice_says_so() {
    let mut m = Mocks::new();
    m.sessions.expect_find_latest().returning(|_, _| Ok(None));
    m.generator
        .expect_validation()
        .withf(|notice| notice.mode == SessionMode::RemotePending(root()))
        .times(1)
        .returning(|notice| Ok(message_for(&notice.threepid)));
    m.connector.expect_send().returning(|_| Ok(()));
    m.sessions
        .expect_insert()
        .withf(|s| *s.mode() == SessionMode::RemotePending(root()))
        .times(1)
        .returning(|_| Ok(()));
    m.build()
        .request_token(request(email("bob@gmail.com"), 1))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_medium_without_a_handler_is_unsupported() {
    let mut m = Mocks::new();
    m.sessions.expect_find_latest().never();
    let service = m.build();
    let other = ThreePid::parse(Medium::parse("matrix.id").unwrap(), "x").unwrap();
    let error = service.request_token(request(other, 1)).await.unwrap_err();
    assert!(
        matches!(error, ValidationError::UnsupportedMedium(_)),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_failed_send_stores_nothing_and_is_a_send_error() {
    let mut m = Mocks::new();
    m.sessions.expect_find_latest().returning(|_, _| Ok(None));
    m.generator
        .expect_validation()
        .returning(|notice| Ok(message_for(&notice.threepid)));
    m.connector
        .expect_send()
        .returning(|_| Err(NotifyError::Unavailable("smtp down".into())));
    m.sessions.expect_insert().never();
    let error = m
        .build()
        .request_token(request(email("alice@example.org"), 1))
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            ValidationError::SendFailed {
                medium: Medium::Email,
                rejected: false
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_recipient_the_provider_refuses_is_reported_as_rejected() {
    let mut m = Mocks::new();
    m.sessions.expect_find_latest().returning(|_, _| Ok(None));
    m.generator
        .expect_validation()
        .returning(|notice| Ok(message_for(&notice.threepid)));
    m.connector
        .expect_send()
        .returning(|_| Err(NotifyError::Rejected("21211".into())));
    let phone = ThreePid::Msisdn(Msisdn::parse("447911123456").unwrap());
    let error = m
        .build()
        .request_token(request(phone, 1))
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            ValidationError::SendFailed {
                medium: Medium::Msisdn,
                rejected: true
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn phone_numbers_get_a_six_digit_code() {
    let mut m = Mocks::new().delivering();
    m.sessions.expect_find_latest().returning(|_, _| Ok(None));
    m.sessions
        .expect_insert()
        .withf(|s| s.token().expose() == "123456")
        .times(1)
        .returning(|_| Ok(()));
    let phone = ThreePid::Msisdn(Msisdn::parse("447911123456").unwrap());
    m.build().request_token(request(phone, 1)).await.unwrap();
}

#[tokio::test]
async fn purging_deletes_what_was_last_modified_a_lifetime_ago() {
    let mut m = Mocks::new();
    m.now = T0 + DAY;
    m.sessions
        .expect_purge_modified_before()
        .with(eq(Timestamp::from_millis(T0)))
        .times(1)
        .returning(|_| Ok(3));
    assert_eq!(m.build().purge_expired().await.unwrap(), 3);
}

#[tokio::test]
async fn a_locked_session_is_not_resumed_and_a_fresh_token_is_sent() {
    let mut m = Mocks::new().delivering();
    let mut locked = stored(email("alice@example.org"), 1, T0, None)
        .parts()
        .clone();
    locked.token_attempts = SessionRules::default().max_failed_attempts;
    let locked = ValidationSession::from_parts(locked);
    m.sessions
        .expect_find_latest()
        .returning(move |_, _| Ok(Some(locked.clone())));
    m.sessions.expect_record_resend().never();
    m.sessions
        .expect_insert()
        .times(1)
        .withf(|s| s.id().as_str() == "newsid" && s.token().expose() == "linktoken")
        .returning(|_| Ok(()));
    let answer = m
        .build()
        .request_token(request(email("alice@example.org"), 1))
        .await
        .unwrap();
    assert_eq!(answer.sid.as_str(), "newsid");
}
