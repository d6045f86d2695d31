use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mockall::Sequence;
use mockall::predicate::eq;
use pretty_assertions::assert_eq;
use verity_domain::{
    EmailAddress, IpNetwork, LimitClass, LimitKey, MatrixDomain, Password, Profile, Requester,
    RequesterKey, RetryAfter, ThreePid, UserId,
};

use super::AuthenticationService;
use crate::ports::driven::{
    AccountName, BackendError, MockPasswordVerifier, MockProfileSource, PasswordVerdict,
    PasswordVerifier, ProfileSource, RateLimiter,
};
use crate::ports::driving::{Authentication, LimitExceeded, Login, LoginError};

fn user(id: &str) -> UserId {
    UserId::parse(id).unwrap()
}

fn alice() -> UserId {
    user("@alice:example.org")
}

fn password() -> Password {
    Password::parse("correct horse").unwrap()
}

fn email(address: &str) -> ThreePid {
    ThreePid::Email(EmailAddress::parse(address).unwrap())
}

/// The homeserver, asking from the loopback.
fn homeserver() -> Requester {
    Requester::new(Some("127.0.0.1".parse().unwrap()), [])
}

fn source_key() -> LimitKey {
    LimitKey::Requester(
        LimitClass::FailedLogin,
        RequesterKey::address("127.0.0.1".parse().unwrap()),
    )
}

/// A store named `name` answering `verdict` once for alice.
fn verifier(name: &'static str, verdict: PasswordVerdict) -> MockPasswordVerifier {
    let mut store = MockPasswordVerifier::new();
    store.expect_name().return_const(name);
    store
        .expect_verify_password()
        .withf(|user, password| *user == alice() && password.expose() == "correct horse")
        .times(1)
        .return_once(move |_, _| Ok(verdict));
    store
}

/// A store named `name` that must not be asked.
fn never_asked(name: &'static str) -> MockPasswordVerifier {
    let mut store = MockPasswordVerifier::new();
    store.expect_name().return_const(name);
    store.expect_verify_password().times(0);
    store
}

fn user_key() -> LimitKey {
    LimitKey::FailedLoginOf(alice())
}

/// A limiter allowing `BURST` per key that never refills, and tells what each key holds.
#[derive(Default)]
struct Counts(Mutex<HashMap<LimitKey, u32>>);

const BURST: u32 = 3;

impl Counts {
    fn held(&self, key: &LimitKey) -> u32 {
        self.0.lock().unwrap().get(key).copied().unwrap_or(0)
    }

    /// Spends `key`'s whole allowance.
    fn spend(&self, key: &LimitKey) {
        self.0.lock().unwrap().insert(key.clone(), BURST);
    }
}

impl RateLimiter for Counts {
    fn check(&self, key: &LimitKey, cost: u32) -> Result<(), RetryAfter> {
        let mut counts = self.0.lock().unwrap();
        let held = counts.entry(key.clone()).or_default();
        if *held + cost > BURST {
            return Err(RetryAfter::new(Duration::from_secs(60)));
        }
        *held += cost;
        Ok(())
    }

    fn refund(&self, key: &LimitKey, cost: u32) {
        if let Some(held) = self.0.lock().unwrap().get_mut(key) {
            *held = held.saturating_sub(cost);
        }
    }
}

/// A limiter with every allowance whole.
fn limiter() -> Arc<Counts> {
    Arc::new(Counts::default())
}

fn service(
    verifiers: Vec<MockPasswordVerifier>,
    profiles: Vec<MockProfileSource>,
    limiter: Arc<Counts>,
) -> AuthenticationService {
    AuthenticationService::new(
        verifiers
            .into_iter()
            .map(|v| Arc::new(v) as Arc<dyn PasswordVerifier>)
            .collect(),
        profiles
            .into_iter()
            .map(|p| Arc::new(p) as Arc<dyn ProfileSource>)
            .collect(),
        limiter,
        Arc::from(Vec::<IpNetwork>::new()),
        MatrixDomain::parse("example.org").unwrap(),
    )
}

fn accepted(account: AccountName, profile: Profile) -> PasswordVerdict {
    PasswordVerdict::Accepted { account, profile }
}

#[tokio::test]
async fn the_stores_are_asked_in_order_until_one_accepts_and_the_rest_are_not_asked() {
    let mut order = Sequence::new();
    let mut exec = MockPasswordVerifier::new();
    exec.expect_name().return_const("exec");
    exec.expect_verify_password()
        .times(1)
        .in_sequence(&mut order)
        .return_once(|_, _| Ok(PasswordVerdict::UnknownUser));
    let mut ldap = MockPasswordVerifier::new();
    ldap.expect_name().return_const("ldap");
    ldap.expect_verify_password()
        .times(1)
        .in_sequence(&mut order)
        .return_once(|_, _| Ok(PasswordVerdict::Refused));
    let mut memory = MockPasswordVerifier::new();
    memory.expect_name().return_const("memory");
    memory
        .expect_verify_password()
        .times(1)
        .in_sequence(&mut order)
        .return_once(|_, _| {
            Ok(accepted(
                AccountName::UserId(alice()),
                Profile::named("Alice"),
            ))
        });
    let limits = limiter();
    let service = service(
        vec![exec, ldap, memory, never_asked("rest")],
        vec![],
        limits.clone(),
    );

    let login = service
        .check_credentials(&homeserver(), &alice(), &password())
        .await
        .unwrap();

    assert_eq!(login, Login::Accepted(Profile::named("Alice")));
    // A login that succeeds costs nothing.
    assert_eq!(limits.held(&user_key()), 0);
    assert_eq!(limits.held(&source_key()), 0);
}

#[tokio::test]
async fn a_localpart_is_a_user_of_matrix_domain_and_the_asked_case_does_not_matter() {
    let asked = user("@Alice:example.org");
    let mut store = MockPasswordVerifier::new();
    store.expect_name().return_const("rest");
    store.expect_verify_password().times(1).return_once(|_, _| {
        Ok(accepted(
            AccountName::Localpart("alice".into()),
            Profile::default(),
        ))
    });
    let service = service(vec![store], vec![], limiter());

    let login = service
        .check_credentials(&homeserver(), &asked, &password())
        .await
        .unwrap();

    assert_eq!(login, Login::Accepted(Profile::default()));
}

#[tokio::test]
async fn a_password_accepted_for_another_account_is_refused_and_counted() {
    let bob = accepted(AccountName::Localpart("bob".into()), Profile::named("Bob"));
    let limits = limiter();
    let service = service(vec![verifier("rest", bob)], vec![], limits.clone());

    let login = service
        .check_credentials(&homeserver(), &alice(), &password())
        .await
        .unwrap();

    assert_eq!(login, Login::Refused);
    assert_eq!(limits.held(&user_key()), 1);
}

#[tokio::test]
async fn a_user_of_another_domain_is_refused_without_asking_any_store() {
    let stranger = user("@alice:elsewhere.example");
    let limits = limiter();
    let service = service(vec![never_asked("ldap")], vec![], limits.clone());

    let login = service
        .check_credentials(&homeserver(), &stranger, &password())
        .await
        .unwrap();

    assert_eq!(login, Login::Refused);
    assert_eq!(limits.held(&LimitKey::FailedLoginOf(stranger)), 1);
    assert_eq!(limits.held(&source_key()), 1);
}

#[tokio::test]
async fn every_store_refusing_is_a_refusal_counted_against_the_user_and_the_source() {
    let limits = limiter();
    let service = service(
        vec![
            verifier("ldap", PasswordVerdict::Refused),
            verifier("memory", PasswordVerdict::UnknownUser),
        ],
        vec![],
        limits.clone(),
    );

    let login = service
        .check_credentials(&homeserver(), &alice(), &password())
        .await
        .unwrap();

    assert_eq!(login, Login::Refused);
    assert_eq!(limits.held(&user_key()), 1);
    assert_eq!(limits.held(&source_key()), 1);
}

#[tokio::test]
async fn a_store_that_fails_is_passed_over_for_the_next_one() {
    let mut ldap = MockPasswordVerifier::new();
    ldap.expect_name().return_const("ldap");
    ldap.expect_verify_password()
        .times(1)
        .return_once(|_, _| Err(BackendError::Corrupt("down".into())));
    let memory = verifier(
        "memory",
        accepted(AccountName::UserId(alice()), Profile::default()),
    );
    let service = service(vec![ldap, memory], vec![], limiter());

    let login = service
        .check_credentials(&homeserver(), &alice(), &password())
        .await
        .unwrap();

    assert_eq!(login, Login::Accepted(Profile::default()));
}

/// A profile store named `name` answering `profile` for alice.
fn profile_source(name: &'static str, profile: Option<Profile>) -> MockProfileSource {
    let mut source = MockProfileSource::new();
    source.expect_name().return_const(name);
    source
        .expect_profile()
        .with(eq(alice()))
        .times(1)
        .return_once(move |_| Ok(profile));
    source
}

#[tokio::test]
async fn the_answer_is_filled_from_the_other_profile_stores_and_the_accepting_store_comes_first() {
    let mut from_ldap = Profile::default();
    from_ldap.add_threepid(email("alice@example.org"));
    let mut from_memory = Profile::named("Alice Liddell");
    from_memory.add_threepid(email("alice@example.org"));
    from_memory.add_threepid(email("alice@home.example"));
    from_memory.add_role("staff");
    // The directory that accepted the password is not asked again for the profile.
    let mut ldap_profiles = MockProfileSource::new();
    ldap_profiles.expect_name().return_const("ldap");
    ldap_profiles.expect_profile().times(0);
    let mut failing = MockProfileSource::new();
    failing.expect_name().return_const("rest");
    failing
        .expect_profile()
        .times(1)
        .return_once(|_| Err(BackendError::Corrupt("down".into())));
    let service = service(
        vec![verifier(
            "ldap",
            accepted(AccountName::UserId(alice()), from_ldap),
        )],
        vec![
            ldap_profiles,
            failing,
            profile_source("memory", Some(from_memory)),
        ],
        limiter(),
    );

    let Login::Accepted(profile) = service
        .check_credentials(&homeserver(), &alice(), &password())
        .await
        .unwrap()
    else {
        panic!("refused");
    };

    assert_eq!(profile.display_name.as_deref(), Some("Alice Liddell"));
    assert_eq!(
        profile.threepids,
        [email("alice@example.org"), email("alice@home.example")]
    );
    assert_eq!(profile.roles, ["staff"]);
}

#[tokio::test]
async fn a_profile_puts_every_stores_roles_together() {
    let mut memory = Profile::named("Alice");
    memory.add_role("staff");
    let mut rest = Profile::default();
    rest.add_role("admins");
    rest.add_role("staff");
    let service = service(
        vec![],
        vec![
            profile_source("memory", Some(memory)),
            profile_source("ldap", None),
            profile_source("rest", Some(rest)),
        ],
        limiter(),
    );

    let profile = service.profile(&alice()).await.unwrap();

    assert_eq!(profile.display_name.as_deref(), Some("Alice"));
    assert_eq!(profile.roles, ["staff", "admins"]);
}

#[path = "authentication_limits_tests.rs"]
mod limits;
