//! Hashed lookups are never answered wrongly after a start (issue 14): the real `verity` binary
//! starts on a store holding many bindings and no lookup hash table, and a bound address is
//! looked up at once and again and again while the table is built. Every answer is either the
//! right mapping or the documented retryable refusal (503 `M_UNKNOWN` with `retry_after_ms`),
//! never a "not bound". Then the same after a restart on the same data, which keeps the pepper.
//!
//! The bindings are written straight into `verity_binding` with one SQL statement (as the lookup
//! benchmark seeds them); the hashes are computed here with sha2, not with Verity's code.
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use verity_tests::client::types;
use verity_tests::{Backend, Deployment, HOMESERVER, Peers, Verity};

/// Enough bindings that the table may still be built when the server starts answering (in a
/// debug build), few enough to seed and build in seconds.
pub(crate) const BINDINGS: usize = 50_000;

/// Lookups made after the first right answer; each must be right too.
const AFTER_READY: usize = 20;

/// Attempts before giving up on the table ever being built.
const ATTEMPTS: usize = 10_000;

/// The `i`th seeded address, bound to `@user<i>:example.org`.
pub(crate) fn bound(i: usize) -> String {
    format!("user{i}@example.org")
}

pub(crate) fn hash(address: &str, pepper: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(format!("{address} email {pepper}")))
}

/// A client with the access token of `@looker:example.org`, registered through the fake
/// homeserver's OpenID token.
pub(crate) async fn register(verity: &Verity, peers: &Peers) -> reqwest::Client {
    peers
        .homeserver
        .add_user("openid-looker", &format!("@looker:{HOMESERVER}"));
    let token = verity
        .client()
        .register_account(&types::OpenIdCredentials {
            access_token: "openid-looker".into(),
            token_type: Some("Bearer".into()),
            matrix_server_name: HOMESERVER.into(),
            expires_in: Some(3600),
        })
        .await
        .expect("register")
        .into_inner()
        .token;
    verity_tests::bearer_http(&token)
}

pub(crate) async fn pepper(verity: &Verity, http: &reqwest::Client) -> String {
    let details: Value = http
        .get(verity.url("/_matrix/identity/v2/hash_details"))
        .send()
        .await
        .expect("hash_details")
        .json()
        .await
        .expect("hash_details JSON");
    details["lookup_pepper"]
        .as_str()
        .expect("a lookup_pepper")
        .to_owned()
}

/// What one hashed lookup answered.
#[derive(Debug, PartialEq)]
enum Answer {
    /// 200, with these mappings.
    Mappings(Value),
    /// The documented retryable refusal while the table is built.
    NotReady,
}

/// Looks up the first, a middle and the last seeded address and one nobody bound; panics on any
/// answer but the two allowed.
async fn look_up(verity: &Verity, http: &reqwest::Client, pepper: &str) -> Answer {
    let addresses = [
        bound(0),
        bound(BINDINGS / 2),
        bound(BINDINGS - 1),
        "nobody@example.org".to_owned(),
    ];
    let hashes: Vec<String> = addresses.iter().map(|a| hash(a, pepper)).collect();
    let answer = http
        .post(verity.url("/_matrix/identity/v2/lookup"))
        .json(&json!({"algorithm": "sha256", "pepper": pepper, "addresses": hashes}))
        .send()
        .await
        .expect("the lookup is answered");
    let status = answer.status().as_u16();
    let body: Value = answer.json().await.expect("a JSON body");
    match status {
        200 => Answer::Mappings(body["mappings"].clone()),
        503 => {
            assert_eq!(body["errcode"], "M_UNKNOWN", "{body}");
            assert_eq!(body["retry_after_ms"], 1000, "{body}");
            Answer::NotReady
        }
        other => panic!("lookup answered {other}: {body}"),
    }
}

/// The right answer: the three bound addresses, not the fourth.
fn right(pepper: &str) -> Answer {
    Answer::Mappings(json!({
        hash(&bound(0), pepper): "@user0:example.org",
        hash(&bound(BINDINGS / 2), pepper): format!("@user{}:example.org", BINDINGS / 2),
        hash(&bound(BINDINGS - 1), pepper): format!("@user{}:example.org", BINDINGS - 1),
    }))
}

/// Looks up at once and repeatedly until the table answers, then some more: every answer is
/// right or "not ready", and none is "not ready" once one was right. Returns the pepper.
async fn every_answer_is_right_or_retryable(verity: &Verity, peers: &Peers) -> String {
    let http = register(verity, peers).await;
    let pepper = pepper(verity, &http).await;
    let right = right(&pepper);
    let mut not_ready = 0;
    loop {
        match look_up(verity, &http, &pepper).await {
            Answer::NotReady => not_ready += 1,
            answer => {
                assert_eq!(answer, right, "after {not_ready} retryable refusals");
                break;
            }
        }
        assert!(not_ready < ATTEMPTS, "the table was never built");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    for _ in 0..AFTER_READY {
        assert_eq!(look_up(verity, &http, &pepper).await, right);
    }
    pepper
}

async fn never_a_wrong_answer_after_a_start(backend: Backend) {
    let peers = Peers::start().await;
    let yaml = format!("{}ratelimit:\n  enabled: false\n", peers.yaml());
    let deployment = Deployment::new(backend, &yaml).await;
    // The SQLite file's directory, which the server would make itself.
    std::fs::create_dir_all(deployment.dir().join("data")).expect("the data directory");
    verity_adapter_sql::testing::seed_bindings(deployment.database_url(), BINDINGS).await;

    let verity = deployment.start().await;
    let first_pepper = every_answer_is_right_or_retryable(&verity, &peers).await;
    verity.kill();

    // A later start: the pepper is kept, and its table is built again from the bindings.
    let verity = deployment.start().await;
    let pepper = every_answer_is_right_or_retryable(&verity, &peers).await;
    assert_eq!(pepper, first_pepper, "the pepper is kept across restarts");
}

#[tokio::test]
async fn a_bound_address_is_never_looked_up_as_not_bound_while_the_first_table_is_built_sqlite() {
    never_a_wrong_answer_after_a_start(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_bound_address_is_never_looked_up_as_not_bound_while_the_first_table_is_built_postgres() {
    // Unset outside CI: passes without running, with a note, as every PostgreSQL test does
    // (under CI an unset URL panics in `postgres_url`).
    if verity_tests::postgres_url().is_some() {
        never_a_wrong_answer_after_a_start(Backend::Postgres).await;
    }
}
