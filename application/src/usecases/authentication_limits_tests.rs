//! The limits of logins: counted before the stores are asked, in one step with the decision,
//! per user whatever the case, and given back only when a store accepts.
use pretty_assertions::assert_eq;

use super::*;

#[tokio::test]
async fn a_spent_allowance_refuses_the_attempt_before_any_store_is_asked() {
    let limits = limiter();
    limits.spend(&user_key());
    let service = service(vec![never_asked("ldap")], vec![], limits.clone());

    let refused = service
        .check_credentials(&homeserver(), &alice(), &password())
        .await;

    assert!(
        matches!(refused, Err(LoginError::Limited(LimitExceeded(wait))) if wait == RetryAfter::new(Duration::from_secs(60))),
        "{refused:?}"
    );
    // The caller's ceiling, which every user shares, is not spent by a locked account.
    assert_eq!(limits.held(&source_key()), 0);
}

#[tokio::test]
async fn the_attempts_of_one_user_are_limited_together_whatever_the_case_they_typed() {
    let limits = limiter();
    let service = service(vec![], vec![], limits.clone());
    for typed in [
        "@alice:example.org",
        "@Alice:example.org",
        "@ALICE:EXAMPLE.ORG",
    ] {
        let login = service
            .check_credentials(&homeserver(), &user(typed), &password())
            .await;
        assert!(matches!(login, Ok(Login::Refused)), "{typed}: {login:?}");
    }

    let fourth = service
        .check_credentials(&homeserver(), &user("@aLiCe:example.org"), &password())
        .await;

    assert!(matches!(fourth, Err(LoginError::Limited(_))), "{fourth:?}");
}

#[tokio::test]
async fn with_a_store_down_and_no_acceptance_the_answer_is_unavailable_and_counted_as_a_failure() {
    let limits = limiter();
    let mut ldap = MockPasswordVerifier::new();
    ldap.expect_name().return_const("ldap");
    ldap.expect_verify_password()
        .times(1)
        .return_once(|_, _| Err(BackendError::Corrupt("down".into())));
    let service = service(
        vec![ldap, verifier("memory", PasswordVerdict::Refused)],
        vec![],
        limits.clone(),
    );

    let answer = service
        .check_credentials(&homeserver(), &alice(), &password())
        .await;

    assert!(
        matches!(answer, Err(LoginError::Unavailable(_))),
        "{answer:?}"
    );
    // Else a guesser would have the other stores to themselves, unlimited, during an outage.
    assert_eq!(limits.held(&user_key()), 1);
    assert_eq!(limits.held(&source_key()), 1);
}

/// A store that takes a moment to refuse alice, and counts how often it was asked.
struct SlowRefusal(Arc<Mutex<u32>>);

#[async_trait::async_trait]
impl PasswordVerifier for SlowRefusal {
    fn name(&self) -> &'static str {
        "ldap"
    }

    async fn verify_password(
        &self,
        _user: &UserId,
        _password: &Password,
    ) -> Result<PasswordVerdict, BackendError> {
        *self.0.lock().unwrap() += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
        Ok(PasswordVerdict::Refused)
    }
}

#[tokio::test]
async fn concurrent_attempts_cannot_pass_an_allowance_together() {
    let asked = Arc::new(Mutex::new(0));
    let service = AuthenticationService::new(
        vec![Arc::new(SlowRefusal(asked.clone()))],
        vec![],
        limiter(),
        Arc::from(Vec::<IpNetwork>::new()),
        MatrixDomain::parse("example.org").unwrap(),
    );
    let (source, alice, password) = (homeserver(), alice(), password());
    let attempts = (0..10).map(|_| service.check_credentials(&source, &alice, &password));

    let answers = futures_util::future::join_all(attempts).await;

    let limited = answers
        .iter()
        .filter(|answer| matches!(answer, Err(LoginError::Limited(_))))
        .count();
    assert_eq!(
        *asked.lock().unwrap(),
        BURST,
        "the store is asked within the allowance only"
    );
    assert_eq!(limited, 10 - 3);
}
