//! A 3PID known only to Synapse's database (the 3PIDs its users shared through the homeserver)
//! is found by the hashed v2 lookup and the v1 lookup; one on the account but not shared is not.
use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use verity_adapter_sql::testing::{SYNAPSE_SQLITE_SCHEMA, execute};
use verity_tests::client::types;
use verity_tests::{Backend, Peers, spawn_app_with};

#[tokio::test]
async fn a_3pid_only_in_the_synapse_database_is_found_by_both_lookups() {
    let dir = tempfile::tempdir().unwrap();
    let homeserver_db = dir.path().join("homeserver.db");
    let url = format!("sqlite://{}?mode=rwc", homeserver_db.display());
    execute(&url, SYNAPSE_SQLITE_SCHEMA).await;
    execute(
        &url,
        &[
            "INSERT INTO user_threepids VALUES ('@syn:example.org', 'email', 'syn@example.org', 1, 1)",
            "INSERT INTO user_threepid_id_server VALUES ('@syn:example.org', 'email', 'syn@example.org', 'id.example.org')",
            // On the account, never shared through the homeserver: not published (ma1sd#27).
            "INSERT INTO user_threepids VALUES ('@private:example.org', 'email', 'private@example.org', 1, 1)",
        ],
    )
    .await;

    let peers = Peers::start().await;
    let yaml = format!(
        "{}
synapseSql:
  enabled: true
  type: sqlite
  connection: '{}'
",
        peers.yaml(),
        homeserver_db.display()
    );
    let app = spawn_app_with(Backend::Sqlite, &yaml).await;

    // v1: the signed association.
    let v1 = app
        .client
        .lookup_v1("syn@example.org", "email")
        .await
        .unwrap()
        .into_inner();
    let v1 = serde_json::to_value(v1).unwrap();
    assert_eq!(v1["mxid"], "@syn:example.org");
    let hidden = serde_json::to_value(
        app.client
            .lookup_v1("private@example.org", "email")
            .await
            .unwrap()
            .into_inner(),
    )
    .unwrap();
    assert_eq!(hidden, json!({}));

    // v2: the hashed lookup, with the hash computed here.
    let eve = peers.register(&app, "eve").await;
    let pepper = eve
        .get_hash_details()
        .await
        .unwrap()
        .into_inner()
        .lookup_pepper;
    let hashes: Vec<String> = ["syn@example.org", "private@example.org"]
        .iter()
        .map(|address| lookup_hash(address, &pepper))
        .collect();
    let answer = eve
        .lookup_users(&types::LookupBody {
            algorithm: "sha256".into(),
            pepper: pepper.clone(),
            addresses: hashes.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let mappings: Value = serde_json::to_value(answer.mappings).unwrap();
    assert_eq!(mappings, json!({ hashes[0].clone(): "@syn:example.org" }));
}

fn lookup_hash(address: &str, pepper: &str) -> String {
    use base64::Engine as _;
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("{address} email {pepper}").as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
}
