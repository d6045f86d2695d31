//! The `ldap` identity backend against a real OpenLDAP (the testkit's throwaway slapd): v1 single
//! and bulk lookups and v2 hashed lookups answered from the directory, an injection attempt that
//! finds nothing, an entry added to the directory found by hashed lookups within
//! `ldap.identity.refresh`, and a server that starts and answers from its other backends while
//! the directory is down, and finds its users once it is back.
use std::time::{Duration, Instant};

use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use verity_testkit::slapd::{ADMIN_DN, ADMIN_PASSWORD, Options, PEOPLE, Slapd, ldif_line};
use verity_tests::client::{Client, types};
use verity_tests::{Backend, Peers, TestApp, spawn_app_with};

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

pub(crate) async fn v1_lookup(client: &Client, medium: &str, address: &str) -> Value {
    serde_json::to_value(
        client
            .lookup_v1(address, medium)
            .await
            .expect("v1 lookup")
            .into_inner(),
    )
    .expect("JSON")
}

pub(crate) fn lookup_hash(address: &str, medium: &str, pepper: &str) -> String {
    use base64::Engine as _;
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("{address} {medium} {pepper}").as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
}

/// The users the v2 `sha256` lookup finds for `(address, medium)` pairs, by hash.
pub(crate) async fn hashed(client: &Client, pairs: &[(&str, &str)]) -> Value {
    let pepper = client
        .get_hash_details()
        .await
        .expect("hash details")
        .into_inner()
        .lookup_pepper;
    let addresses = pairs
        .iter()
        .map(|(address, medium)| lookup_hash(address, medium, &pepper))
        .collect();
    let answer = client
        .lookup_users(&types::LookupBody {
            algorithm: "sha256".into(),
            pepper,
            addresses,
        })
        .await
        .expect("hashed lookup")
        .into_inner();
    let found: Vec<Value> = answer.mappings.values().map(|user| json!(user)).collect();
    json!(found)
}

/// `GET /status`: the HTTP status and the body's `status` object.
pub(crate) async fn status(app: &TestApp) -> (u16, Value) {
    let response = app
        .http
        .get(app.url("/status"))
        .send()
        .await
        .expect("status");
    let code = response.status().as_u16();
    let body: Value = response.json().await.expect("status JSON");
    (code, body["status"].clone())
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
    let bulk = app
        .client
        .bulk_lookup_v1(&types::BulkLookupRequest {
            threepids: vec![
                vec!["email".into(), "bob@example.org".into()],
                vec!["msisdn".into(), "12025550143".into()],
                vec!["email".into(), "nobody@example.org".into()],
            ],
        })
        .await
        .expect("bulk lookup")
        .into_inner();
    let mut bulk = bulk.threepids;
    bulk.sort();
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
    assert_eq!(
        hashed(
            &eve,
            &[
                ("alice.work@example.org", "email"),
                ("442079460958", "msisdn"),
                ("nobody@example.org", "email"),
            ]
        )
        .await
        .as_array()
        .map(Vec::len),
        Some(2)
    );

    // An entry added to the directory is found by hashed lookups within the refresh (1 s).
    slapd.modify(&person("carol", &["carol@example.org"], &[]), true);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let found = hashed(&eve, &[("carol@example.org", "email")]).await;
        if found == json!(["@carol:example.org"]) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "carol is not in the hash table 20 s after she was added: {found}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

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
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let found = hashed(&eve, &[("alice@example.org", "email")]).await;
        if found == json!(["@alice:example.org"]) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "alice is not in the hash table 20 s after the directory came back: {found}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let found = v1_lookup(&app.client, "email", "alice@example.org").await;
    assert_eq!(found["mxid"], "@alice:example.org", "{found}");
    let (code, body) = status(&app).await;
    assert_eq!(
        (code, &body["checks"]["ldap"]),
        (200, &json!("OK")),
        "{body}"
    );
}
