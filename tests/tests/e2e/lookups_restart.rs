//! A restart loads the lookup table the last build saved, and catches up on the binds and
//! unbinds recorded since (issue 14: "make that incremental"): the real `verity` binary is
//! stopped, another instance's binding store binds and unbinds meanwhile, and the restarted
//! server answers them right from its first lookup, without reading every binding again.
use std::time::{Duration, Instant};

use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use verity_tests::{Backend, Deployment, Peers};

use crate::lookups_first_start::{BINDINGS, bound, hash, pepper, register};

/// How long the first start may take to build and save its table in a debug build.
const SAVE_DEADLINE: Duration = Duration::from_secs(60);

async fn mappings(verity: &verity_tests::Verity, http: &reqwest::Client, pepper: &str) -> Value {
    let addresses = [
        bound(0),
        bound(1),
        bound(BINDINGS - 1),
        "late@example.org".to_owned(),
        "behind@example.org".to_owned(),
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
    assert_eq!(status, 200, "{body}");
    body["mappings"].clone()
}

async fn a_restart_answers_from_the_saved_table(backend: Backend) {
    let peers = Peers::start().await;
    let yaml = format!("{}ratelimit:\n  enabled: false\n", peers.yaml());
    let deployment = Deployment::new(backend, &yaml).await;
    std::fs::create_dir_all(deployment.dir().join("data")).expect("the data directory");
    let url = deployment.database_url().to_owned();
    verity_adapter_sql::testing::seed_bindings(&url, BINDINGS).await;

    let verity = deployment.start().await;
    let http = register(&verity, &peers).await;
    let pepper = pepper(&verity, &http).await;
    let started = Instant::now();
    let saved = loop {
        if let Some(bytes) = verity_adapter_sql::testing::saved_table_bytes(&url).await {
            break bytes;
        }
        assert!(
            started.elapsed() < SAVE_DEADLINE,
            "the table was never saved"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // A digest, a length and the Matrix ID an entry.
    assert!(saved > (BINDINGS * 33) as u64, "{saved} bytes");
    verity.kill();

    // While it is down, another instance unbinds one address and binds a new one (recorded),
    // and a binding is written behind every instance's back (never recorded): only a build,
    // which reads every binding, would see that one.
    verity_adapter_sql::testing::change_binding(&url, &bound(1), "@user1:example.org", false).await;
    verity_adapter_sql::testing::change_binding(
        &url,
        "late@example.org",
        "@late:example.org",
        true,
    )
    .await;
    verity_adapter_sql::testing::execute(
        &url,
        &[
            "INSERT INTO verity_binding (medium, address, mxid, created_at) \
           VALUES ('email', 'behind@example.org', '@behind:example.org', 0)",
        ],
    )
    .await;

    let verity = deployment.start().await;
    let http = register(&verity, &peers).await;
    assert_eq!(
        super::lookups_first_start::pepper(&verity, &http).await,
        pepper
    );
    // The first lookup is answered, and right: the table was complete before the server listened.
    assert_eq!(
        mappings(&verity, &http, &pepper).await,
        json!({
            hash(&bound(0), &pepper): "@user0:example.org",
            hash(&bound(BINDINGS - 1), &pepper): format!("@user{}:example.org", BINDINGS - 1),
            hash("late@example.org", &pepper): "@late:example.org",
        }),
        "the unbind and the bind are replayed, and the unrecorded binding shows the feed was not read"
    );
}

#[tokio::test]
async fn a_restart_loads_the_saved_table_and_replays_the_changes_recorded_while_it_was_down_sqlite()
{
    a_restart_answers_from_the_saved_table(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_restart_loads_the_saved_table_and_replays_the_changes_recorded_while_it_was_down_postgres()
 {
    if verity_tests::postgres_url().is_some() {
        a_restart_answers_from_the_saved_table(Backend::Postgres).await;
    }
}
