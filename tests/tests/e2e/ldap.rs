//! The `ldap` identity backend against a real OpenLDAP (the testkit's throwaway slapd): v1 single
//! and bulk lookups and v2 hashed lookups answered from the directory, an injection attempt that
//! finds nothing, an entry added to the directory found by hashed lookups within
//! `ldap.identity.refresh`, and a server that starts and answers from its other backends while
//! the directory is down, and finds its users once it is back.
use std::time::{Duration, Instant};

use pretty_assertions::assert_eq;
use serde_json::json;
use verity_testkit::slapd::{ADMIN_DN, ADMIN_PASSWORD, Options, PEOPLE, Slapd, ldif_line};
use verity_tests::client::types;
use verity_tests::{Backend, Peers, spawn_app_with};

use crate::store_lookups::{bulk_sorted, hashed_eventually, lookup_hash, status, v1_lookup};

/// An inetOrgPerson under `ou=people` with these mail and phone values.
pub(crate) fn person(uid: &str, mails: &[&str], phones: &[(&str, &str)]) -> String {
    let mut entry = format!(
        "dn: uid={uid},{PEOPLE}\nobjectClass: inetOrgPerson\nobjectClass: verityTestUser\n\
         uid: {uid}\ncn: {uid}\nsn: {uid}\ndisplayName: {uid}\n"
    );
    for mail in mails {
        entry.push_str(&ldif_line("mail", mail));
    }
    for (attribute, phone) in phones {
        entry.push_str(&ldif_line(attribute, phone));
    }
    entry.push('\n');
    entry
}

/// The `ldap` section for a directory at `port`: OpenLDAP's `uid`, the hash table fed every
/// second.
pub(crate) fn ldap_yaml(port: u16) -> String {
    format!(
        "
ldap:
  enabled: true
  connection:
    host: 127.0.0.1
    port: {port}
    bindDn: '{ADMIN_DN}'
    bindPassword: '{ADMIN_PASSWORD}'
    baseDNs: ['{PEOPLE}']
    connectTimeout: 2s
    operationTimeout: 5s
  attribute:
    uid: {{type: uid, value: uid}}
  identity:
    lookup: true
    refresh: 1s
"
    )
}

#[tokio::test]
async fn lookups_are_answered_from_the_directory_and_an_added_entry_is_hashed_within_the_refresh() {
    let seed = [
        person(
            "alice",
            &["alice@example.org", "Alice.Work@Example.org"],
            &[("telephoneNumber", "+1 (202) 555-0143")],
        ),
        person(
            "bob",
            &["bob@example.org"],
            &[("mobile", "+44 20 7946 0958")],
        ),
    ]
    .concat();
    let Some(slapd) = Slapd::start(&seed, &Options::default()) else {
        return;
    };
    let peers = Peers::start().await;
    let app = spawn_app_with(
        Backend::Sqlite,
        &format!("{}{}", peers.yaml(), ldap_yaml(slapd.port())),
    )
    .await;

    // v1: every mail value, any case; a phone stored with punctuation, found by its digits.
    for (medium, address, user) in [
        ("email", "alice@example.org", "@alice:example.org"),
        ("email", "alice.work@example.org", "@alice:example.org"),
        ("msisdn", "12025550143", "@alice:example.org"),
        ("msisdn", "442079460958", "@bob:example.org"),
    ] {
        let found = v1_lookup(&app.client, medium, address).await;
        assert_eq!(found["mxid"], user, "{medium} {address}: {found}");
    }
    // An address that would be a wildcard in an unescaped filter finds nobody.
    for injection in ["*@example.org", "a*@example.org", "*"] {
        let found = app.client.lookup_v1(injection, "email").await;
        let found = found.map(|answer| serde_json::to_value(answer.into_inner()).expect("JSON"));
        assert!(
            matches!(&found, Ok(value) if *value == json!({})) || found.is_err(),
            "{injection}: {found:?}"
        );
    }
    let bulk = bulk_sorted(
        &app.client,
        &[
            ("email", "bob@example.org"),
            ("msisdn", "12025550143"),
            ("email", "nobody@example.org"),
        ],
    )
    .await;
    assert_eq!(
        bulk,
        [
            ["email", "bob@example.org", "@bob:example.org"],
            ["msisdn", "12025550143", "@alice:example.org"],
        ]
        .map(|row| row.map(str::to_owned).to_vec())
    );

    // v2: the hash table fed from the directory.
    let eve = peers.register(&app, "eve").await;
    hashed_eventually(
        &eve,
        &[
            ("alice.work@example.org", "email"),
            ("442079460958", "msisdn"),
            ("nobody@example.org", "email"),
        ],
        json!(["@alice:example.org", "@bob:example.org"]),
    )
    .await;

    // An entry added to the directory is found by hashed lookups within the refresh (1 s).
    slapd.modify(&person("carol", &["carol@example.org"], &[]), true);
    hashed_eventually(
        &eve,
        &[("carol@example.org", "email")],
        json!(["@carol:example.org"]),
    )
    .await;

    let (code, body) = status(&app).await;
    assert_eq!(
        (code, &body["checks"]["ldap"]),
        (200, &json!("OK")),
        "{body}"
    );
}

#[tokio::test]
async fn with_the_directory_down_verity_starts_answers_from_its_other_backends_and_finds_its_users_once_back()
 {
    // A directory that was there and went away: its port is closed.
    let alice = person("alice", &["alice@example.org"], &[]);
    let Some(mut slapd) = Slapd::start(&alice, &Options::default()) else {
        return;
    };
    slapd.stop();
    let peers = Peers::start().await;
    let memory = "
memory:
  enabled: true
  identities:
    - username: memo
      threepids:
        - {medium: email, address: memo@example.org}
";
    let app = spawn_app_with(
        Backend::Sqlite,
        &format!("{}{}{memory}", peers.yaml(), ldap_yaml(slapd.port())),
    )
    .await;

    let found = v1_lookup(&app.client, "email", "memo@example.org").await;
    assert_eq!(found["mxid"], "@memo:example.org", "{found}");
    assert_eq!(
        v1_lookup(&app.client, "email", "alice@example.org").await,
        json!({})
    );
    // The hash table is built without the directory: hashed lookups answer, not 503.
    let eve = peers.register(&app, "eve").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let pepper = eve
            .get_hash_details()
            .await
            .expect("hash details")
            .into_inner()
            .lookup_pepper;
        let answer = eve
            .lookup_users(&types::LookupBody {
                algorithm: "sha256".into(),
                pepper: pepper.clone(),
                addresses: vec![lookup_hash("memo@example.org", "email", &pepper)],
            })
            .await;
        match answer {
            Ok(answer) => {
                let users: Vec<String> = answer.into_inner().mappings.into_values().collect();
                assert_eq!(users, ["@memo:example.org"]);
                break;
            }
            Err(error) => assert!(
                Instant::now() < deadline,
                "hashed lookups still fail 20 s after start: {error}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // /status names the directory as down, and the server stays healthy.
    let (code, body) = status(&app).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["health"], "OK", "{body}");
    assert_eq!(body["checks"]["ldap"], "UNHEALTHY", "{body}");

    // Back up: its users are found, by hashed lookups after the next refresh.
    slapd.restart();
    hashed_eventually(
        &eve,
        &[("alice@example.org", "email")],
        json!(["@alice:example.org"]),
    )
    .await;
    let found = v1_lookup(&app.client, "email", "alice@example.org").await;
    assert_eq!(found["mxid"], "@alice:example.org", "{found}");
    let (code, body) = status(&app).await;
    assert_eq!(
        (code, &body["checks"]["ldap"]),
        (200, &json!("OK")),
        "{body}"
    );
}
