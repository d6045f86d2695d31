//! What the end-to-end tests of the identity stores (`ldap`, `sql`, `rest`, `exec`) share: a
//! binding of alice's through Verity itself, and hashed lookups asked until the table (built in
//! the background, refreshed on an interval) answers what a test expects.
use std::time::{Duration, Instant};

use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use verity_tests::client::{Client, types};
use verity_tests::{Peers, TestApp};

use crate::ldap::lookup_hash;

/// Validates `email` for alice through the emailed link and binds it to her.
pub(crate) async fn bind_alice(app: &TestApp, peers: &Peers, token: &str, email: &str) {
    let alice = app.client_as(token);
    let sid = alice
        .email_request_token_v2(&types::EmailTokenRequest {
            client_secret: "secretAlice".into(),
            email: email.into(),
            send_attempt: "1".into(),
            next_link: None,
        })
        .await
        .expect("requestToken")
        .into_inner()
        .sid;
    assert_eq!(peers.open_emailed_link(app).await, 200);
    alice
        .bind_v2(&types::BindRequest {
            sid,
            client_secret: "secretAlice".into(),
            mxid: "@alice:example.org".into(),
        })
        .await
        .expect("bind");
}

/// The users a v2 `sha256` lookup finds for `pairs` (sorted), or `None` while it fails.
async fn hashed_now(client: &Client, pairs: &[(&str, &str)]) -> Option<Value> {
    let pepper = client
        .get_hash_details()
        .await
        .ok()?
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
        .ok()?
        .into_inner();
    let mut found: Vec<String> = answer.mappings.into_values().collect();
    found.sort();
    Some(json!(found))
}

/// Asks until the v2 lookup of `pairs` answers `expected`; fails after 20 s.
pub(crate) async fn hashed_eventually(client: &Client, pairs: &[(&str, &str)], expected: Value) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let found = hashed_now(client, pairs).await;
        if found.as_ref() == Some(&expected) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "hashed lookups answer {found:?} after 20 s, not {expected}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
