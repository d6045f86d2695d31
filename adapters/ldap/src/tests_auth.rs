//! Logins and profiles against a real OpenLDAP (the testkit's slapd, which allows an
//! unauthenticated bind with a DN and an empty password, as Active Directory does).
use pretty_assertions::assert_eq;
use verity_application::ports::driven::{
    AccountName, IdentityBackend, PasswordVerdict, PasswordVerifier, ProfileSource,
};
use verity_domain::{EmailAddress, Msisdn, Password, ThreePid, UserId};
use verity_testkit::slapd::{ADMIN_DN, ADMIN_PASSWORD, Options, PEOPLE, SUFFIX, Slapd};

use crate::directory::{Bound, Directory};
use crate::tests::person;
use crate::{LdapBackend, LdapConfig};

fn user(id: &str) -> UserId {
    UserId::parse(id).unwrap()
}

fn password(text: &str) -> Password {
    Password::parse(text).unwrap()
}

fn email(address: &str) -> ThreePid {
    ThreePid::Email(EmailAddress::parse(address).unwrap())
}

/// alice (with a name, two mails and a phone), bob, and carol, whom `employeeType: disabled`
/// marks as an account the operator's filter excludes; each with the password `<name>-pw`.
fn seed() -> String {
    [
        person(
            "alice",
            &[
                ("uid", "alice"),
                ("userPassword", "alice-pw"),
                ("displayName", "Alice Liddell"),
                ("mail", "Alice@Example.org"),
                ("mail", "not an address"),
                ("telephoneNumber", "+1 (202) 555-0143"),
            ],
        ),
        person("bob", &[("uid", "bob"), ("userPassword", "bob-pw")]),
        person(
            "carol",
            &[
                ("uid", "carol"),
                ("userPassword", "carol-pw"),
                ("employeeType", "disabled"),
            ],
        ),
    ]
    .concat()
}

/// The service account binds as the administrator; uids in `uid`; disabled accounts excluded.
fn config(slapd: &Slapd) -> LdapConfig {
    let mut config = LdapConfig::new("127.0.0.1", "example.org");
    config.port = slapd.port();
    config.base_dns = vec![SUFFIX.to_owned()];
    config.bind_dn = ADMIN_DN.to_owned();
    config.bind_password = crate::BindPassword::new(ADMIN_PASSWORD);
    config.uid_attribute = "uid".to_owned();
    config.filter = "(&(objectClass=inetOrgPerson)(!(employeeType=disabled)))".to_owned();
    config
}

async fn verdict(backend: &LdapBackend, id: &str, pw: &str) -> PasswordVerdict {
    backend
        .verify_password(&user(id), &password(pw))
        .await
        .unwrap()
}

#[tokio::test]
async fn a_user_logs_in_with_the_directory_password_and_gets_their_name_and_threepids() {
    let Some(slapd) = Slapd::start(&seed(), &Options::default()) else {
        return;
    };
    let backend = LdapBackend::new(config(&slapd));

    let PasswordVerdict::Accepted { account, profile } =
        verdict(&backend, "@Alice:example.org", "alice-pw").await
    else {
        panic!("refused");
    };

    assert_eq!(account, AccountName::UserId(user("@alice:example.org")));
    assert_eq!(profile.display_name.as_deref(), Some("Alice Liddell"));
    assert_eq!(
        profile.threepids,
        [
            email("alice@example.org"),
            ThreePid::Msisdn(Msisdn::parse("12025550143").unwrap())
        ]
    );
}

#[tokio::test]
async fn a_wrong_password_is_refused_and_an_unknown_user_is_unknown() {
    let Some(slapd) = Slapd::start(&seed(), &Options::default()) else {
        return;
    };
    let backend = LdapBackend::new(config(&slapd));
    assert_eq!(
        verdict(&backend, "@alice:example.org", "bob-pw").await,
        PasswordVerdict::Refused
    );
    assert_eq!(
        verdict(&backend, "@alice:example.org", "alice-pw ").await,
        PasswordVerdict::Refused
    );
    assert_eq!(
        verdict(&backend, "@dave:example.org", "alice-pw").await,
        PasswordVerdict::UnknownUser
    );
}

#[tokio::test]
async fn an_account_the_auth_filter_excludes_cannot_log_in_with_its_right_password() {
    let Some(slapd) = Slapd::start(&seed(), &Options::default()) else {
        return;
    };
    let backend = LdapBackend::new(config(&slapd));
    assert_eq!(
        verdict(&backend, "@carol:example.org", "carol-pw").await,
        PasswordVerdict::UnknownUser
    );
    // `auth.filter` applies to logins instead of the global filter.
    let mut only_bob = config(&slapd);
    only_bob.auth_filter = Some("(cn=bob)".to_owned());
    let backend = LdapBackend::new(only_bob);
    assert!(matches!(
        verdict(&backend, "@bob:example.org", "bob-pw").await,
        PasswordVerdict::Accepted { .. }
    ));
    assert_eq!(
        verdict(&backend, "@alice:example.org", "alice-pw").await,
        PasswordVerdict::UnknownUser
    );
}

#[tokio::test]
async fn filter_metacharacters_in_a_localpart_are_values_not_filter_syntax() {
    let Some(slapd) = Slapd::start(&seed(), &Options::default()) else {
        return;
    };
    let backend = LdapBackend::new(config(&slapd));
    // Unescaped, `*` would match every entry and `*)(uid=alice` would find alice.
    for localpart in ["*", "a*", "*)(uid=alice", "alice)(|(uid=*", "\\2a"] {
        assert_eq!(
            verdict(&backend, &format!("@{localpart}:example.org"), "alice-pw").await,
            PasswordVerdict::UnknownUser,
            "{localpart}"
        );
    }
}

#[tokio::test]
async fn two_entries_with_the_same_uid_refuse_the_login() {
    let seed = seed() + &person("alice2", &[("uid", "alice"), ("userPassword", "alice-pw")]);
    let Some(slapd) = Slapd::start(&seed, &Options::default()) else {
        return;
    };
    let backend = LdapBackend::new(config(&slapd));
    assert_eq!(
        verdict(&backend, "@alice:example.org", "alice-pw").await,
        PasswordVerdict::Refused
    );
}

#[tokio::test]
async fn an_empty_password_is_never_sent_though_the_directory_would_take_it_as_a_bind() {
    let Some(mut slapd) = Slapd::start(&seed(), &Options::default()) else {
        return;
    };
    let config = std::sync::Arc::new(config(&slapd));
    let directory = Directory::new(config.clone());
    let dn = format!("cn=alice,{PEOPLE}");
    // What an unguarded client would get: slapd takes a DN with an empty password as an
    // unauthenticated bind and answers success.
    let (driver, mut raw) = ldap3::LdapConnAsync::new(&slapd.url()).await.unwrap();
    ldap3::drive!(driver);
    assert_eq!(raw.simple_bind(&dn, "").await.unwrap().rc, 0);
    // Verity refuses it without asking: with the directory down, still a refusal, not an error.
    slapd.stop();
    assert_eq!(
        directory.bind_as(&dn, "").await.unwrap(),
        Bound::Refused(49)
    );
    assert!(directory.bind_as(&dn, "alice-pw").await.is_err());
}

#[tokio::test]
async fn a_login_leaves_the_service_accounts_connection_as_it_was() {
    let Some(slapd) = Slapd::start(&seed(), &Options::default()) else {
        return;
    };
    let backend = LdapBackend::new(config(&slapd));
    // The shared connection is bound as the service account before and after the logins.
    let alice = email("alice@example.org");
    assert_eq!(
        backend.lookup(&alice).await.unwrap(),
        Some(user("@alice:example.org"))
    );
    assert!(matches!(
        verdict(&backend, "@bob:example.org", "bob-pw").await,
        PasswordVerdict::Accepted { .. }
    ));
    assert_eq!(
        verdict(&backend, "@bob:example.org", "wrong").await,
        PasswordVerdict::Refused
    );
    assert_eq!(
        backend.lookup(&alice).await.unwrap(),
        Some(user("@alice:example.org"))
    );
}

#[tokio::test]
async fn with_active_directory_a_user_logs_in_by_the_upn_of_their_localpart() {
    let seed = person(
        "dave",
        &[
            ("userPrincipalName", "Dave@CORP.example.org"),
            ("userPassword", "dave-pw"),
        ],
    ) + &person(
        "erin",
        &[
            ("userPrincipalName", "erin@lab.example.org"),
            ("userPassword", "erin-pw"),
        ],
    );
    let Some(slapd) = Slapd::start(&seed, &Options::default()) else {
        return;
    };
    let mut config = config(&slapd);
    config.active_directory = true;
    config.default_domain = Some("corp.example.org".to_owned());
    config.uid_attribute = "userPrincipalName".to_owned();
    let backend = LdapBackend::new(config);
    assert!(matches!(
        verdict(&backend, "@dave:example.org", "dave-pw").await,
        PasswordVerdict::Accepted { account: AccountName::UserId(id), .. } if id == user("@dave:example.org")
    ));
    assert!(matches!(
        verdict(&backend, "@erin/lab.example.org:example.org", "erin-pw").await,
        PasswordVerdict::Accepted { .. }
    ));
    assert_eq!(
        verdict(&backend, "@erin:example.org", "erin-pw").await,
        PasswordVerdict::UnknownUser
    );
}

#[tokio::test]
async fn a_directory_that_is_down_is_an_error_not_a_refusal() {
    let Some(mut slapd) = Slapd::start(&seed(), &Options::default()) else {
        return;
    };
    let mut config = config(&slapd);
    config.connect_timeout = std::time::Duration::from_secs(2);
    let backend = LdapBackend::new(config);
    slapd.stop();
    assert!(
        backend
            .verify_password(&user("@alice:example.org"), &password("alice-pw"))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn profiles_are_the_entrys_name_and_threepids_under_the_profile_filter() {
    let Some(slapd) = Slapd::start(&seed(), &Options::default()) else {
        return;
    };
    let backend = LdapBackend::new(config(&slapd));
    let alice = backend
        .profile(&user("@alice:example.org"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(alice.display_name.as_deref(), Some("Alice Liddell"));
    assert_eq!(alice.threepids.len(), 2);
    assert!(alice.roles.is_empty());
    assert_eq!(
        backend.profile(&user("@carol:example.org")).await.unwrap(),
        None
    );
    assert_eq!(
        backend.profile(&user("@dave:example.org")).await.unwrap(),
        None
    );
}
