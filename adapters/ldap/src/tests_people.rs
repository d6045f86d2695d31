//! The user directory search against a real OpenLDAP: substring matches in the name, the other
//! attributes, the 3PID attributes and the uid; `directory.filter`; hostile terms; the limit and
//! the directory's own size limit; several base DNs; a directory that is down.
use pretty_assertions::assert_eq;
use verity_application::ports::driven::{BackendError, DirectorySearch};
use verity_domain::{DirectoryResults, SearchLimit, SearchTerm};
use verity_testkit::slapd::{Options, PEOPLE, SUFFIX, Slapd, ldif_line};

use crate::tests::person;
use crate::{LdapBackend, LdapConfig};

const STAFF: &str = "ou=staff,dc=example,dc=org";

/// Alice, Alan (uid in capitals), Bob, a disabled Dave, and Carol under another OU.
fn people() -> String {
    let mut ldif = [
        person(
            "alice",
            &[
                ("uid", "alice"),
                ("displayName", "Alice Liddell"),
                ("mail", "alice@wonderland.example"),
                ("title", "Queen's Advisor"),
            ],
        ),
        person(
            "alan",
            &[
                ("uid", "Alan"),
                ("displayName", "Alan Turing"),
                ("telephoneNumber", "+44 20 7946 0958"),
            ],
        ),
        person(
            "bob",
            &[
                ("uid", "bob"),
                ("displayName", "Bob"),
                ("mail", "bob@builders.example"),
            ],
        ),
        person(
            "dave",
            &[
                ("uid", "dave"),
                ("displayName", "Dave Alder"),
                ("employeeType", "disabled"),
            ],
        ),
        person("nouid", &[("displayName", "Alfred Without Uid")]),
    ]
    .concat();
    ldif.push_str(&format!(
        "dn: {STAFF}\nobjectClass: organizationalUnit\nou: staff\n\n\
         dn: cn=carol,{STAFF}\nobjectClass: inetOrgPerson\ncn: carol\nsn: carol\n"
    ));
    ldif.push_str(&ldif_line("uid", "carol"));
    ldif.push_str(&ldif_line("displayName", "Carol Alvarez"));
    ldif.push('\n');
    ldif
}

fn config(slapd: &Slapd) -> LdapConfig {
    let mut config = LdapConfig::new("127.0.0.1", "example.org");
    config.port = slapd.port();
    config.base_dns = vec![PEOPLE.to_owned(), STAFF.to_owned()];
    config.filter = "(objectClass=inetOrgPerson)".to_owned();
    config.directory_filter =
        Some("(&(objectClass=inetOrgPerson)(!(employeeType=disabled)))".to_owned());
    config.uid_attribute = "uid".to_owned();
    config.directory_other_attributes = vec!["title".to_owned()];
    config.threepid_attributes = [
        ("email".to_owned(), vec!["mail".to_owned()]),
        ("msisdn".to_owned(), vec!["telephoneNumber".to_owned()]),
    ]
    .into();
    config
}

fn start(options: &Options) -> Option<Slapd> {
    Slapd::start(&people(), options)
}

fn term(raw: &str) -> SearchTerm {
    SearchTerm::parse(raw).unwrap()
}

fn ids(results: &DirectoryResults) -> Vec<&str> {
    let mut ids: Vec<&str> = results.entries.iter().map(|e| e.user_id.as_str()).collect();
    ids.sort_unstable();
    ids
}

async fn by_name(backend: &LdapBackend, raw: &str) -> DirectoryResults {
    backend
        .search_by_name(&term(raw), SearchLimit::default())
        .await
        .unwrap()
}

#[tokio::test]
async fn by_name_finds_display_names_uids_and_other_attributes_across_base_dns() {
    let Some(slapd) = start(&Options::default()) else {
        return;
    };
    let backend = LdapBackend::new(config(&slapd));
    assert_eq!(DirectorySearch::name(&backend), "ldap");
    let found = by_name(&backend, "AL").await;
    // Dave is disabled (directory.filter); the entry without a uid is no one.
    assert_eq!(
        ids(&found),
        [
            "@alan:example.org",
            "@alice:example.org",
            "@carol:example.org"
        ]
    );
    assert!(!found.limited);
    let alice = found
        .entries
        .iter()
        .find(|e| e.user_id.as_str() == "@alice:example.org")
        .unwrap();
    assert_eq!(alice.display_name.as_deref(), Some("Alice Liddell"));
    // The uid, and `directory.attribute.other`.
    assert_eq!(ids(&by_name(&backend, "bob").await), ["@bob:example.org"]);
    assert_eq!(
        ids(&by_name(&backend, "advisor").await),
        ["@alice:example.org"]
    );
    // 3PID attributes are not names.
    assert_eq!(
        by_name(&backend, "wonderland").await,
        DirectoryResults::default()
    );
}

#[tokio::test]
async fn by_3pid_finds_mail_and_phone_values() {
    let Some(slapd) = start(&Options::default()) else {
        return;
    };
    let backend = LdapBackend::new(config(&slapd));
    for (raw, expected) in [
        ("WONDERLAND", "@alice:example.org"),
        ("builders.example", "@bob:example.org"),
        ("7946", "@alan:example.org"),
    ] {
        let found = backend
            .search_by_threepid(&term(raw), SearchLimit::default())
            .await
            .unwrap();
        assert_eq!(ids(&found), [expected], "{raw}");
    }
}

#[tokio::test]
async fn without_a_directory_filter_the_global_filter_applies() {
    let Some(slapd) = start(&Options::default()) else {
        return;
    };
    let mut config = config(&slapd);
    config.directory_filter = None;
    let backend = LdapBackend::new(config);
    assert_eq!(ids(&by_name(&backend, "dave").await), ["@dave:example.org"]);
}

#[tokio::test]
async fn filter_metacharacters_in_the_term_are_matched_as_text() {
    let Some(slapd) = start(&Options::default()) else {
        return;
    };
    let backend = LdapBackend::new(config(&slapd));
    for raw in ["*)(uid=*", "*", ")(|(uid=*", "\\2a", "alice)(objectClass=*"] {
        let found = backend
            .search_by_name(&term(raw), SearchLimit::default())
            .await
            .unwrap();
        assert_eq!(found, DirectoryResults::default(), "{raw}");
    }
    // An apostrophe is no metacharacter: it is found.
    assert_eq!(
        ids(&by_name(&backend, "queen's").await),
        ["@alice:example.org"]
    );
}

#[tokio::test]
async fn the_limit_is_kept_and_limited_said_when_more_matched() {
    let Some(slapd) = start(&Options::default()) else {
        return;
    };
    let backend = LdapBackend::new(config(&slapd));
    let found = backend
        .search_by_name(&term("al"), SearchLimit::from_request(Some(2)))
        .await
        .unwrap();
    assert_eq!(found.entries.len(), 2);
    assert!(found.limited);
}

#[tokio::test]
async fn the_directorys_own_size_limit_is_limited_not_a_failure() {
    let options = Options {
        size_limit: Some(1),
        ..Options::default()
    };
    let Some(slapd) = start(&options) else {
        return;
    };
    let mut config = config(&slapd);
    config.base_dns = vec![SUFFIX.to_owned()];
    let backend = LdapBackend::new(config);
    let found = by_name(&backend, "al").await;
    assert_eq!(found.entries.len(), 1);
    assert!(found.limited);
}

#[tokio::test]
async fn a_directory_that_is_down_fails_the_search() {
    let Some(mut slapd) = start(&Options::default()) else {
        return;
    };
    let backend = LdapBackend::new(config(&slapd));
    slapd.stop();
    let failed = backend
        .search_by_name(&term("al"), SearchLimit::default())
        .await;
    assert!(
        matches!(failed, Err(BackendError::Unavailable(_))),
        "{failed:?}"
    );
}
