//! The connection to a real OpenLDAP: a directory that goes down, the service account's bind,
//! StartTLS and LDAPS.
use verity_application::ports::driven::{BackendError, HealthCheck, IdentityBackend};
use verity_testkit::slapd::{ADMIN_DN, ADMIN_PASSWORD, Options, Slapd};

use crate::tests::{config_for, person};
use crate::tests_directory::{email, user};
use crate::{BindPassword, LdapBackend, TlsMode};

#[tokio::test]
async fn a_directory_that_is_down_fails_requests_not_the_construction() {
    let Some(mut slapd) = Slapd::start("", &Options::default()) else {
        return;
    };
    let backend = LdapBackend::new(config_for(&slapd));
    backend.health().await.unwrap();
    slapd.stop();
    let error = backend.lookup(&email("a@example.org")).await.unwrap_err();
    assert!(matches!(error, BackendError::Unavailable(_)), "{error:?}");
    assert!(backend.health().await.is_err());
    assert!(HealthCheck::check(&backend).await.is_err());
    assert!(
        !backend.required(),
        "the other backends stand in for a directory that is down"
    );
}

#[tokio::test]
async fn the_connection_is_made_again_when_the_directory_comes_back() {
    let seed = person(
        "alice",
        &[("uid", "@alice:example.org"), ("mail", "alice@example.org")],
    );
    let Some(mut slapd) = Slapd::start(&seed, &Options::default()) else {
        return;
    };
    let backend = LdapBackend::new(config_for(&slapd));
    let alice = email("alice@example.org");
    assert_eq!(
        backend.lookup(&alice).await.unwrap(),
        Some(user("@alice:example.org"))
    );
    slapd.restart();
    // The shared connection broke with the old process; the next request makes a new one.
    assert_eq!(
        backend.lookup(&alice).await.unwrap(),
        Some(user("@alice:example.org"))
    );
}

#[tokio::test]
async fn a_bind_dn_without_password_is_refused_though_the_directory_would_take_it() {
    let Some(slapd) = Slapd::start("", &Options::default()) else {
        return;
    };
    let mut config = config_for(&slapd);
    config.bind_dn = ADMIN_DN.to_owned();
    let error = LdapBackend::new(config.clone()).health().await.unwrap_err();
    let message = std::error::Error::source(&error).unwrap().to_string();
    assert!(
        message.contains("ldap.connection.bindPassword"),
        "{message}"
    );
    config.bind_password = BindPassword::new("wrong");
    let error = LdapBackend::new(config.clone()).health().await.unwrap_err();
    let message = std::error::Error::source(&error).unwrap().to_string();
    assert!(message.contains("refused the bind"), "{message}");
    config.bind_password = BindPassword::new(ADMIN_PASSWORD);
    LdapBackend::new(config).health().await.unwrap();
}

#[tokio::test]
async fn starttls_and_ldaps_verify_the_certificate_against_the_ca_file() {
    let seed = person(
        "alice",
        &[("uid", "@alice:example.org"), ("mail", "alice@example.org")],
    );
    let options = Options {
        tls: true,
        ..Options::default()
    };
    let Some(slapd) = Slapd::start(&seed, &options) else {
        return;
    };
    let alice = email("alice@example.org");
    for (tls, port) in [
        (TlsMode::StartTls, slapd.port()),
        (TlsMode::Ldaps, slapd.ldaps_port().unwrap()),
    ] {
        let mut config = config_for(&slapd);
        config.tls = tls;
        config.port = port;
        // The system's roots do not know the test CA.
        let untrusted = LdapBackend::new(config.clone());
        assert!(
            untrusted.lookup(&alice).await.is_err(),
            "{tls:?} without the CA"
        );
        config.ca_file = slapd.ca_file();
        let trusted = LdapBackend::new(config.clone());
        assert_eq!(
            trusted.lookup(&alice).await.unwrap(),
            Some(user("@alice:example.org")),
            "{tls:?}"
        );
        // The certificate names 127.0.0.1 and localhost, not another host.
        config.host = "127.0.0.2".to_owned();
        assert!(
            LdapBackend::new(config).lookup(&alice).await.is_err(),
            "{tls:?} another name"
        );
    }
}
