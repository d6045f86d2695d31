//! Two instances on one database (SQLite file, PostgreSQL): a bind and an unbind made through one
//! are in the other's hashed lookups within the bound docs/lookups.md states ("Several instances
//! on one database"), each instance keeping its lookup table in memory.
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use verity_tests::client::{Client, types};
use verity_tests::{Backend, Peers, TestApp, TestDatabase};

use crate::sessions::{app_with_peers, register_alice};

/// How long the other instance may take: a 1 s poll plus a wide margin for a loaded machine.
/// The test waits until the change shows, so it takes about a second when all is well.
const DEADLINE: Duration = Duration::from_secs(10);

/// Where the instances keep their data.
enum Shared {
    Sqlite(std::path::PathBuf),
    Postgres(String),
}

impl Shared {
    /// The backend and the YAML that put an instance on this database.
    fn backend(&self, dir: &std::path::Path) -> (Backend, String) {
        match self {
            Self::Sqlite(path) => (Backend::SqliteAt(path.clone()), String::new()),
            // `storage` replaces the SQLite file the helper configures.
            Self::Postgres(url) => (
                Backend::SqliteAt(dir.join("unused.db")),
                format!(
                    "storage:\n  backend: postgresql\n  provider:\n    postgresql:\n      database: '{url}'\n"
                ),
            ),
        }
    }
}

pub(crate) fn hash(address: &str, medium: &str, pepper: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(format!("{address} {medium} {pepper}")))
}

pub(crate) async fn sha256_lookup(client: &Client, pepper: &str, hashes: &[String]) -> Value {
    let answer = client
        .lookup_users(&types::LookupBody {
            algorithm: "sha256".into(),
            pepper: pepper.into(),
            addresses: hashes.to_vec(),
        })
        .await
        .expect("lookup")
        .into_inner();
    serde_json::to_value(answer.mappings).unwrap()
}

/// Asks `client`'s instance until it answers `expected`, for up to [`DEADLINE`]; returns how
/// long that took.
pub(crate) async fn until_answered(
    client: &Client,
    pepper: &str,
    hashes: &[String],
    expected: &Value,
) -> Duration {
    let started = Instant::now();
    loop {
        let answer = sha256_lookup(client, pepper, hashes).await;
        if &answer == expected {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < DEADLINE,
            "the other instance still answers {answer} after {DEADLINE:?}, not {expected}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn an_instance(shared: &Shared) -> (TestApp, Peers, Client) {
    let scratch = tempfile::tempdir().unwrap();
    let (backend, storage) = shared.backend(scratch.path());
    let (app, peers) = app_with_peers(backend, &storage).await;
    let token = register_alice(&app, &peers).await;
    let alice = app.client_as(&token);
    (app, peers, alice)
}

async fn binds_through_one_instance_reach_the_other(shared: Shared) {
    let (a, peers_a, alice_a) = an_instance(&shared).await;
    let (b, _peers_b, alice_b) = an_instance(&shared).await;

    // One database, one pepper.
    let pepper = alice_a
        .get_hash_details()
        .await
        .unwrap()
        .into_inner()
        .lookup_pepper;
    assert_eq!(
        alice_b
            .get_hash_details()
            .await
            .unwrap()
            .into_inner()
            .lookup_pepper,
        pepper
    );
    let hashes = [hash("alice@example.org", "email", &pepper)];
    assert_eq!(sha256_lookup(&alice_b, &pepper, &hashes).await, json!({}));

    // Validated and bound through A.
    let sid = alice_a
        .email_request_token_v2(&types::EmailTokenRequest {
            client_secret: "secretAlice".into(),
            email: "alice@example.org".into(),
            send_attempt: "1".into(),
            next_link: None,
        })
        .await
        .expect("requestToken")
        .into_inner()
        .sid;
    assert_eq!(peers_a.open_emailed_link(&a).await, 200);
    alice_a
        .bind_v2(&types::BindRequest {
            sid: sid.clone(),
            client_secret: "secretAlice".into(),
            mxid: "@alice:example.org".into(),
        })
        .await
        .expect("bind");
    let bound = json!({&hashes[0]: "@alice:example.org"});
    assert_eq!(sha256_lookup(&alice_a, &pepper, &hashes).await, bound);
    let took = until_answered(&alice_b, &pepper, &hashes, &bound).await;
    eprintln!("the bind reached the other instance in {took:?}");

    // Unbound through A.
    a.client
        .unbind_v2(&types::UnbindRequest {
            mxid: "@alice:example.org".into(),
            threepid: types::ThreePidBody {
                medium: "email".into(),
                address: "alice@example.org".into(),
            },
            sid: Some(sid),
            client_secret: Some("secretAlice".into()),
        })
        .await
        .expect("unbind");
    assert_eq!(sha256_lookup(&alice_a, &pepper, &hashes).await, json!({}));
    let took = until_answered(&alice_b, &pepper, &hashes, &json!({})).await;
    eprintln!("the unbind reached the other instance in {took:?}");

    b.stop().await.unwrap();
    a.stop().await.unwrap();
}

#[tokio::test]
async fn a_bind_and_an_unbind_through_one_instance_reach_the_other_on_one_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    binds_through_one_instance_reach_the_other(Shared::Sqlite(dir.path().join("verity.db"))).await;
}

#[tokio::test]
async fn a_bind_and_an_unbind_through_one_instance_reach_the_other_on_one_postgresql_database() {
    if verity_tests::postgres_url().is_none() {
        return;
    }
    let database = TestDatabase::create().await;
    binds_through_one_instance_reach_the_other(Shared::Postgres(database.url().to_owned())).await;
    database.drop_database().await;
}
