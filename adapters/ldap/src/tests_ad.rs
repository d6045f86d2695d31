//! Active Directory's ways against a real OpenLDAP: UPNs as uids, referrals in the tree.
use pretty_assertions::assert_eq;
use verity_application::ports::driven::IdentityBackend;
use verity_testkit::slapd::{Options, PEOPLE, SUFFIX, Slapd};

use crate::tests::person;
use crate::tests_directory::{email, user};
use crate::{LdapBackend, LdapConfig};

fn config(slapd: &Slapd) -> LdapConfig {
    let mut config = LdapConfig::new("127.0.0.1", "example.org");
    config.port = slapd.port();
    config.base_dns = vec![SUFFIX.to_owned()];
    config.hash_lookup = true;
    config
}

#[tokio::test]
async fn with_active_directory_upns_are_localparts_in_the_default_domain_and_kept_elsewhere() {
    let seed = person(
        "alice",
        &[
            ("userPrincipalName", "Alice@CORP.example.org"),
            ("mail", "alice@example.org"),
        ],
    ) + &person(
        "bob",
        &[
            ("userPrincipalName", "bob@lab.example.org"),
            ("mail", "bob@example.org"),
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
    assert_eq!(
        backend.lookup(&email("alice@example.org")).await.unwrap(),
        Some(user("@alice:example.org"))
    );
    assert_eq!(
        backend.lookup(&email("bob@example.org")).await.unwrap(),
        Some(user("@bob/lab.example.org:example.org"))
    );
}

#[tokio::test]
async fn the_default_uid_attribute_is_sam_account_name_lower_cased() {
    let seed = person(
        "carol",
        &[("sAMAccountName", "CAROL"), ("mail", "carol@example.org")],
    );
    let Some(slapd) = Slapd::start(&seed, &Options::default()) else {
        return;
    };
    let backend = LdapBackend::new(config(&slapd));
    assert_eq!(
        backend.lookup(&email("carol@example.org")).await.unwrap(),
        Some(user("@carol:example.org"))
    );
}

#[tokio::test]
async fn a_referral_in_the_tree_is_not_followed_and_the_rest_answers() {
    let referral = format!(
        "dn: ou=elsewhere,{PEOPLE}\nobjectClass: referral\nobjectClass: extensibleObject\n\
         ou: elsewhere\nref: ldap://directory.invalid/ou=people,dc=elsewhere\n\n"
    );
    let seed = person(
        "alice",
        &[("sAMAccountName", "alice"), ("mail", "alice@example.org")],
    ) + &referral;
    let Some(slapd) = Slapd::start(&seed, &Options::default()) else {
        return;
    };
    let backend = LdapBackend::new(config(&slapd));
    assert_eq!(
        backend.lookup(&email("alice@example.org")).await.unwrap(),
        Some(user("@alice:example.org"))
    );
    assert_eq!(backend.feed(None, 10).await.unwrap().len(), 1);
}
