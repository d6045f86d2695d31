//! Logins and profiles against the testkit's fake service, in ma1sd's contract.
use std::time::Duration;

use pretty_assertions::assert_eq;
use serde_json::json;
use verity_application::ports::driven::{
    AccountName, BackendError, PasswordVerdict, PasswordVerifier, ProfileSource,
};
use verity_domain::{EmailAddress, Msisdn, Password, Profile, ThreePid, UserId};
use verity_testkit::rest_backend::{Account, FakeRestBackend, Misbehave};

use super::config_for;
use crate::config::{
    DEFAULT_AUTH, DEFAULT_PROFILE_DISPLAY_NAME, DEFAULT_PROFILE_ROLES, DEFAULT_PROFILE_THREEPIDS,
    endpoint,
};
use crate::{RestBackend, RestConfig};

fn user(id: &str) -> UserId {
    UserId::parse(id).unwrap()
}

fn password(text: &str) -> Password {
    Password::parse(text).unwrap()
}

/// The fake holding alice (a name, a mail and a phone written with `+`, two roles), and a
/// backend with ma1sd's default login and profile endpoints on it.
async fn service() -> (RestBackend, FakeRestBackend) {
    let fake = FakeRestBackend::start().await;
    fake.add_account(Account {
        localpart: "alice".into(),
        password: "alice-pw".into(),
        display_name: Some("Alice Liddell".into()),
        threepids: vec![
            ("email".into(), "Alice@Example.org".into()),
            ("msisdn".into(), "+1 202 555 0143".into()),
        ],
        roles: vec!["staff".into(), "admins".into()],
    });
    (RestBackend::new(with_accounts(&fake)).unwrap(), fake)
}

fn with_accounts(fake: &FakeRestBackend) -> RestConfig {
    let mut config = config_for(&fake.url());
    let host = config.host.clone();
    let at = |path| endpoint(host.as_ref(), path).unwrap();
    config.endpoints.auth = at(DEFAULT_AUTH);
    config.endpoints.profile_display_name = at(DEFAULT_PROFILE_DISPLAY_NAME);
    config.endpoints.profile_threepids = at(DEFAULT_PROFILE_THREEPIDS);
    config.endpoints.profile_roles = at(DEFAULT_PROFILE_ROLES);
    config
}

fn alices_profile() -> Profile {
    let mut profile = Profile::named("Alice Liddell");
    profile.add_threepid(ThreePid::Email(
        EmailAddress::parse("alice@example.org").unwrap(),
    ));
    profile.add_threepid(ThreePid::Msisdn(Msisdn::parse("12025550143").unwrap()));
    profile
}

#[tokio::test]
async fn a_login_is_asked_in_ma1sds_shape_and_its_answer_read_with_the_profile() {
    let (backend, fake) = service().await;

    let verdict = backend
        .verify_password(&user("@alice:example.org"), &password("alice-pw"))
        .await
        .unwrap();

    assert_eq!(
        verdict,
        PasswordVerdict::Accepted {
            account: AccountName::UserId(user("@alice:example.org")),
            profile: alices_profile(),
        }
    );
    let asked = fake.received();
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].path, DEFAULT_AUTH.trim_start_matches('/'));
    assert_eq!(
        asked[0].body,
        json!({"auth": {
            "mxid": "@alice:example.org",
            "localpart": "alice",
            "domain": "example.org",
            "password": "alice-pw",
        }})
    );
}

#[tokio::test]
async fn success_false_and_a_4xx_are_refusals() {
    let (backend, fake) = service().await;
    for (who, pw) in [("@alice:example.org", "wrong"), ("@bob:example.org", "x")] {
        assert_eq!(
            backend
                .verify_password(&user(who), &password(pw))
                .await
                .unwrap(),
            PasswordVerdict::Refused,
            "{who}"
        );
    }
    for status in [401, 403, 404] {
        fake.misbehave(Misbehave::Status(status));
        assert_eq!(
            backend
                .verify_password(&user("@alice:example.org"), &password("alice-pw"))
                .await
                .unwrap(),
            PasswordVerdict::Refused,
            "{status}"
        );
    }
}

#[tokio::test]
async fn an_outage_or_an_answer_outside_the_contract_is_an_error_that_never_shows_the_password() {
    let (mut backend, fake) = service().await;
    for how in [
        Misbehave::Status(500),
        Misbehave::Body("[]".into()),
        Misbehave::Body(r#"{"auth": {}}"#.into()),
        Misbehave::Body(r#"{"auth": {"success": "yes"}}"#.into()),
        // ma1sd failed on a success without the account it names.
        Misbehave::Body(r#"{"auth": {"success": true}}"#.into()),
        Misbehave::Body(
            r#"{"auth": {"success": true, "id": {"type": "mxid", "value": "alice"}}}"#.into(),
        ),
        Misbehave::Redirect("http://127.0.0.1:1/".into()),
    ] {
        fake.misbehave(how.clone());
        let error = backend
            .verify_password(&user("@alice:example.org"), &password("secret-pw-123"))
            .await
            .unwrap_err();
        let shown = match &error {
            BackendError::Unavailable(source) => format!("{error} {source} {error:?}"),
            BackendError::Corrupt(message) => format!("{message} {error:?}"),
        };
        assert!(shown.contains("rest.endpoints.auth"), "{how:?}: {shown}");
        assert!(!shown.contains("secret-pw-123"), "{how:?}: {shown}");
    }
    let mut config = with_accounts(&fake);
    config.timeout = Duration::from_millis(200);
    backend = RestBackend::new(config).unwrap();
    fake.misbehave(Misbehave::Slow(Duration::from_secs(2)));
    assert!(
        backend
            .verify_password(&user("@alice:example.org"), &password("alice-pw"))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn without_an_auth_endpoint_nobody_is_known_and_nothing_is_sent() {
    let (_, fake) = service().await;
    let mut config = with_accounts(&fake);
    config.endpoints.auth = None;
    let backend = RestBackend::new(config).unwrap();
    assert!(!backend.authenticates());
    assert_eq!(
        backend
            .verify_password(&user("@alice:example.org"), &password("alice-pw"))
            .await
            .unwrap(),
        PasswordVerdict::UnknownUser
    );
    assert!(fake.received().is_empty());
}

#[tokio::test]
async fn a_profile_is_read_from_each_profile_endpoint_and_an_unknown_user_has_none() {
    let (backend, fake) = service().await;
    assert!(backend.has_profiles());

    let profile = backend
        .profile(&user("@alice:example.org"))
        .await
        .unwrap()
        .unwrap();

    let mut expected = alices_profile();
    expected.add_role("staff");
    expected.add_role("admins");
    assert_eq!(profile, expected);
    let paths: Vec<String> = fake.received().into_iter().map(|r| r.path).collect();
    assert_eq!(paths.len(), 3, "{paths:?}");
    assert_eq!(
        fake.received()[0].body,
        json!({"mxid": "@alice:example.org", "localpart": "alice", "domain": "example.org"})
    );
    assert_eq!(
        backend.profile(&user("@bob:example.org")).await.unwrap(),
        None
    );
    fake.misbehave(Misbehave::Status(500));
    assert!(backend.profile(&user("@alice:example.org")).await.is_err());
}
