//! What the end-to-end tests of the identity stores (`ldap`, `sql`, `rest`, `exec`) share: a
//! binding of alice's through Verity itself, and hashed lookups asked until the table (built in
//! the background, refreshed on an interval) answers what a test expects.
use std::time::{Duration, Instant};

use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use verity_tests::client::{Client, types};
use verity_tests::{Peers, TestApp};

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

/// The v1 lookup of one 3PID, as JSON (`{}` when nobody has it).
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

/// The v1 bulk lookup of `(medium, address)` pairs: the `[medium, address, user]` triples
/// found, sorted.
pub(crate) async fn bulk_sorted(client: &Client, pairs: &[(&str, &str)]) -> Vec<Vec<String>> {
    let mut found = client
        .bulk_lookup_v1(&types::BulkLookupRequest {
            threepids: pairs
                .iter()
                .map(|(medium, address)| vec![(*medium).to_owned(), (*address).to_owned()])
                .collect(),
        })
        .await
        .expect("bulk lookup")
        .into_inner()
        .threepids;
    found.sort();
    found
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
