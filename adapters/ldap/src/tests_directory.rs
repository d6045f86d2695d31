//! The LDAP backend against a real OpenLDAP: the directory's own ways (several attributes per
//! medium, phone spellings, filters, paging, TLS, hostile values, a directory that is down).
use pretty_assertions::assert_eq;
use verity_application::ports::driven::{Binding, IdentityBackend};
use verity_domain::{Medium, ThreePid, UserId};
use verity_testkit::slapd::{Options, SUFFIX, Slapd};

use crate::tests::{config_for, person};
use crate::{LdapBackend, LdapConfig};

pub(crate) fn email(address: &str) -> ThreePid {
    ThreePid::parse(Medium::Email, address).unwrap()
}

fn msisdn(digits: &str) -> ThreePid {
    ThreePid::parse(Medium::Msisdn, digits).unwrap()
}

fn custom(medium: &str, address: &str) -> ThreePid {
    ThreePid::parse(Medium::parse(medium).unwrap(), address).unwrap()
}

pub(crate) fn user(id: &str) -> UserId {
    UserId::parse(id).unwrap()
}

/// ma1sd's default attributes, the uid in `sAMAccountName` as a localpart, on `slapd`.
fn ad_config(slapd: &Slapd) -> LdapConfig {
    let mut config = LdapConfig::new("127.0.0.1", "example.org");
    config.port = slapd.port();
    config.base_dns = vec![SUFFIX.to_owned()];
    config.hash_lookup = true;
    config
}

/// Every binding of the feed, in pages of `page`.
async fn whole_feed(backend: &LdapBackend, page: u32) -> Vec<Binding> {
    let mut all: Vec<Binding> = Vec::new();
    loop {
        let after = all.last().map(|binding| binding.threepid.clone());
        let next = backend.feed(after, page).await.unwrap();
        if next.is_empty() {
            return all;
        }
        all.extend(next);
    }
}

/// Alice has three mail attributes and six phone attributes, each phone spelt differently;
/// Bob has a phone that is no number next to a valid one.
fn alice_and_bob() -> String {
    person(
        "alice",
        &[
            ("sAMAccountName", "Alice"),
            ("mailPrimaryAddress", "Alice@Example.org"),
            ("mail", "alice.smith@example.org"),
            ("mail", "a.smith@example.org"),
            ("otherMailbox", "alice@home.example"),
            ("telephoneNumber", "+1 (202) 555-0143"),
            ("mobile", "+447700900123"),
            ("homePhone", "1 202-555-0188"),
            ("otherTelephone", "+1.202.555.0199"),
            ("otherMobile", "+33 6 12 34 56 78"),
            ("otherHomePhone", "+44 (0)20 7946 0018"),
        ],
    ) + &person(
        "bob",
        &[
            ("sAMAccountName", "bob"),
            ("mail", "bob@example.org"),
            ("telephoneNumber", "call reception"),
            ("mobile", "+1 202 555 0100"),
        ],
    )
}

const ALICE_PHONES: [&str; 6] = [
    "12025550143",
    "447700900123",
    "12025550188",
    "12025550199",
    "33612345678",
    "442079460018",
];
const ALICE_EMAILS: [&str; 3] = [
    "alice@example.org",
    "alice.smith@example.org",
    "a.smith@example.org",
];
/// In `otherMailbox`, which OpenLDAP's cosine schema gives no equality rule (Active Directory
/// does): no filter can match it, so only the feed, which reads every value, finds it.
const ALICE_OTHER_MAILBOX: &str = "alice@home.example";

#[tokio::test]
async fn every_value_of_every_mail_and_phone_attribute_is_found_by_v1_and_fed() {
    let Some(slapd) = Slapd::start(&alice_and_bob(), &Options::default()) else {
        return;
    };
    let backend = LdapBackend::new(ad_config(&slapd));
    let alice = user("@alice:example.org");
    let mut expected: Vec<Binding> = Vec::new();
    for threepid in ALICE_EMAILS
        .map(email)
        .into_iter()
        .chain(ALICE_PHONES.map(msisdn))
    {
        assert_eq!(
            backend.lookup(&threepid).await.unwrap(),
            Some(alice.clone()),
            "{threepid}"
        );
        expected.push(Binding {
            threepid,
            user_id: alice.clone(),
        });
    }
    assert_eq!(
        backend.lookup(&email(ALICE_OTHER_MAILBOX)).await.unwrap(),
        None
    );
    expected.push(Binding {
        threepid: email(ALICE_OTHER_MAILBOX),
        user_id: alice.clone(),
    });
    for threepid in [email("bob@example.org"), msisdn("12025550100")] {
        expected.push(Binding {
            threepid,
            user_id: user("@bob:example.org"),
        });
    }
    expected.sort_by(|a, b| {
        (a.threepid.medium().as_str(), a.threepid.address())
            .cmp(&(b.threepid.medium().as_str(), b.threepid.address()))
    });
    assert_eq!(whole_feed(&backend, 3).await, expected);
    assert_eq!(backend.feed_len().await.unwrap(), Some(12));
}

#[tokio::test]
async fn phone_spellings_are_found_by_their_e164_digits_and_near_misses_are_not() {
    let Some(slapd) = Slapd::start(&alice_and_bob(), &Options::default()) else {
        return;
    };
    let backend = LdapBackend::new(ad_config(&slapd));
    // A prefix and an extension of stored numbers hold the same digits in order.
    for stranger in ["1202555014", "120255501430", "2025550143"] {
        assert_eq!(
            backend.lookup(&msisdn(stranger)).await.unwrap(),
            None,
            "{stranger}"
        );
    }
    let many = backend
        .lookup_many(&[
            msisdn("12025550143"),
            msisdn("12025550100"),
            msisdn("1202555014"),
        ])
        .await
        .unwrap();
    assert_eq!(
        many,
        vec![
            Binding {
                threepid: msisdn("12025550143"),
                user_id: user("@alice:example.org")
            },
            Binding {
                threepid: msisdn("12025550100"),
                user_id: user("@bob:example.org")
            },
        ]
    );
}

#[tokio::test]
async fn injection_attempts_find_nothing() {
    let seed = person(
        "alice",
        &[
            ("uid", "@alice:example.org"),
            ("mail", "alice@example.org"),
            ("carLicense", "ABC-1"),
        ],
    );
    let Some(slapd) = Slapd::start(&seed, &Options::default()) else {
        return;
    };
    let mut config = config_for(&slapd);
    config
        .identity_queries
        .insert("email".to_owned(), "(mail=%3pid)".to_owned());
    let backend = LdapBackend::new(config.clone());
    let hostile = [
        email("*@example.org"),
        email("alice*@example.org"),
        custom("matrix.id", "*"),
        custom("matrix.id", ")(uid=*"),
        custom("matrix.id", "*)(|(uid=*"),
        custom("matrix.id", "ABC-1)(carLicense=*"),
        custom("matrix.id", "\\2a"),
    ];
    for threepid in &hostile {
        assert_eq!(backend.lookup(threepid).await.unwrap(), None, "{threepid}");
    }
    assert_eq!(backend.lookup_many(&hostile).await.unwrap(), Vec::new());
    // A custom query whose medium has no attribute is trusted as is, and still escaped.
    config.threepid_attributes.remove("email");
    let custom_only = LdapBackend::new(config);
    assert_eq!(
        custom_only.lookup(&email("*@example.org")).await.unwrap(),
        None
    );
    assert_eq!(
        custom_only
            .lookup(&email("alice@example.org"))
            .await
            .unwrap(),
        Some(user("@alice:example.org"))
    );
}

#[tokio::test]
async fn entries_outside_the_filter_or_the_base_dns_are_neither_found_nor_fed() {
    let outsider = "dn: cn=eve,dc=example,dc=org\nobjectClass: inetOrgPerson\ncn: eve\nsn: eve\n\
                    uid: @eve:example.org\nmail: eve@example.org\n\n";
    let filtered = "dn: cn=mallory,ou=people,dc=example,dc=org\nobjectClass: inetOrgPerson\n\
                    cn: mallory\nsn: mallory\nuid: @mallory:example.org\nmail: mallory@example.org\n\n";
    let seed = person(
        "alice",
        &[("uid", "@alice:example.org"), ("mail", "alice@example.org")],
    ) + outsider
        + filtered;
    let Some(slapd) = Slapd::start(&seed, &Options::default()) else {
        return;
    };
    let mut config = config_for(&slapd);
    config.base_dns = vec![verity_testkit::slapd::PEOPLE.to_owned()];
    config.filter = "objectClass=verityTestUser".to_owned();
    let backend = LdapBackend::new(config);
    for stranger in ["eve@example.org", "mallory@example.org"] {
        assert_eq!(
            backend.lookup(&email(stranger)).await.unwrap(),
            None,
            "{stranger}"
        );
    }
    let fed: Vec<String> = whole_feed(&backend, 10)
        .await
        .into_iter()
        .map(|binding| binding.threepid.address().to_owned())
        .collect();
    assert_eq!(fed, vec!["alice@example.org".to_owned()]);
}

#[tokio::test]
async fn paged_results_read_past_a_size_limit_smaller_than_the_directory() {
    let seed: String = (0..25)
        .map(|n| {
            person(
                &format!("u{n}"),
                &[
                    ("uid", &format!("@u{n}:example.org")),
                    ("mail", &format!("u{n}@example.org")),
                ],
            )
        })
        .collect();
    let options = Options {
        size_limit: Some(4),
        ..Options::default()
    };
    let Some(slapd) = Slapd::start(&seed, &options) else {
        return;
    };
    let mut config = config_for(&slapd);
    config.page_size = 3;
    let backend = LdapBackend::new(config);
    assert_eq!(whole_feed(&backend, 7).await.len(), 25);
    let asked: Vec<ThreePid> = (0..25)
        .map(|n| email(&format!("u{n}@example.org")))
        .collect();
    assert_eq!(backend.lookup_many(&asked).await.unwrap().len(), 25);
}

#[tokio::test]
async fn values_that_are_no_address_are_left_out_and_the_rest_of_the_entry_is_kept() {
    let long = "x".repeat(10_000);
    let seed = person(
        "alice",
        &[
            ("uid", "@alice:example.org"),
            ("mail", "not an address"),
            ("mail", "alice@example.org"),
            ("carLicense", "nul\0inside"),
            ("carLicense", &long),
            ("carLicense", "ID-1"),
            ("telephoneNumber", "ext. 42"),
        ],
    );
    let Some(slapd) = Slapd::start(&seed, &Options::default()) else {
        return;
    };
    let backend = LdapBackend::new(config_for(&slapd));
    let fed: Vec<String> = whole_feed(&backend, 10)
        .await
        .into_iter()
        .map(|binding| {
            format!(
                "{}:{}",
                binding.threepid.medium(),
                binding.threepid.address()
            )
        })
        .collect();
    assert_eq!(fed, vec!["email:alice@example.org", "matrix.id:ID-1"]);
}

#[tokio::test]
async fn without_identity_lookup_the_feed_is_empty_but_v1_answers() {
    let seed = person(
        "alice",
        &[("uid", "@alice:example.org"), ("mail", "alice@example.org")],
    );
    let Some(slapd) = Slapd::start(&seed, &Options::default()) else {
        return;
    };
    let mut config = config_for(&slapd);
    config.hash_lookup = false;
    let backend = LdapBackend::new(config);
    assert_eq!(backend.feed(None, 10).await.unwrap(), Vec::new());
    assert_eq!(
        backend.lookup(&email("alice@example.org")).await.unwrap(),
        Some(user("@alice:example.org"))
    );
}

/// `VERITY_TEST_LDAP_ENTRIES` entries (default 3,000), each with a mail and a phone, behind
/// Active Directory's 1,000-entry limit, are all fed, with the time it took on stderr.
#[tokio::test]
async fn a_directory_larger_than_ads_page_limit_is_fed_whole() {
    let entries: usize = std::env::var("VERITY_TEST_LDAP_ENTRIES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3_000);
    let seed: String = (0..entries)
        .map(|n| {
            person(
                &format!("u{n}"),
                &[
                    ("uid", &format!("@u{n}:example.org")),
                    ("mail", &format!("User.{n}@Example.org")),
                    ("mobile", &format!("+44 7700 9{n:05}")),
                ],
            )
        })
        .collect();
    let options = Options {
        size_limit: Some(1_000),
        ..Options::default()
    };
    let Some(slapd) = Slapd::start(&seed, &options) else {
        return;
    };
    let mut config = config_for(&slapd);
    config
        .threepid_attributes
        .insert("msisdn".to_owned(), vec!["mobile".to_owned()]);
    let backend = LdapBackend::new(config);
    let began = std::time::Instant::now();
    let fed = whole_feed(&backend, 10_000).await;
    let elapsed = began.elapsed();
    assert_eq!(fed.len(), 2 * entries);
    assert_eq!(
        fed.iter()
            .filter(|binding| binding.threepid.medium() == Medium::Msisdn)
            .count(),
        entries
    );
    let _ = std::io::Write::write_all(
        &mut std::io::stderr(),
        format!("fed {entries} entries ({} bindings) in {elapsed:?} (slapd seeded and started in {:?})\n", fed.len(), slapd.startup()).as_bytes(),
    );
}
