//! Backups as docs/operations.md tells an operator to take them: the database (`pg_dump` of a
//! running server; SQLite's online `.backup`) and the key directory, and nothing else. A server
//! started on the restored copies answers as the first one did: the same bindings in v1 and
//! hashed lookups, the same pepper, the same signing key (associations signed before the backup
//! still verify), the same accounts. A database restored without its key directory comes back
//! with a new key, which is why the key directory is part of the backup.
use std::path::Path;
use std::process::Command;

use pretty_assertions::assert_eq;
use serde_json::Value;
use verity_domain::{KeyId, PublicKey, verify_json};
use verity_tests::client::types;
use verity_tests::{Backend, Deployment, Peers, Verity};

use crate::crash_safety::{deployment_with, register, registered_token, validate};
use crate::internal_bind::hashed_lookup;

const ADDRESS: &str = "restored@example.org";
const MXID: &str = "@restored:example.org";
const SECRET: &str = "backup-secret";

/// What the first server answered before the backup.
struct Before {
    association: Value,
    key_id: String,
    public_key: String,
    pepper: String,
    token: String,
}

/// Validates and binds [`ADDRESS`] on `verity`, with an account, and records what it answers.
async fn bind_and_record(verity: &Verity, peers: &Peers) -> Before {
    let sid = validate(verity, peers, ADDRESS, SECRET).await;
    let token = registered_token(verity, peers, "restored").await;
    let association = verity
        .client()
        .bind_v1(&types::BindRequest {
            sid,
            client_secret: SECRET.into(),
            mxid: MXID.into(),
        })
        .await
        .expect("bind");
    let association = serde_json::to_value(association.into_inner()).expect("JSON");
    let pepper = verity
        .client_as(&token)
        .get_hash_details()
        .await
        .expect("hash_details")
        .into_inner()
        .lookup_pepper;
    let key_id = signer(&association).1;
    Before {
        public_key: public_key(verity, &key_id).await,
        key_id,
        association,
        pepper,
        token,
    }
}

/// The server and key ID that signed `value` (the first signature).
fn signer(value: &Value) -> (String, String) {
    let (entity, keys) = value["signatures"]
        .as_object()
        .and_then(|signers| signers.iter().next())
        .expect("a signer");
    let key_id = keys
        .as_object()
        .and_then(|keys| keys.keys().next())
        .expect("a key");
    (entity.clone(), key_id.clone())
}

/// The public key `verity` publishes as `key_id`, or `None` when it has no such key.
async fn published(verity: &Verity, key_id: &str) -> Option<String> {
    verity
        .client()
        .get_pub_key_v2(key_id)
        .await
        .ok()
        .map(|answer| answer.into_inner().public_key)
}

async fn public_key(verity: &Verity, key_id: &str) -> String {
    published(verity, key_id)
        .await
        .expect("the key is published")
}

/// Whether `value` carries a valid signature by `key` (base64, as `/pubkey` serves it).
fn signed_by(value: &Value, key: &str) -> bool {
    let (entity, key_id) = signer(value);
    let key_id = KeyId::parse(&key_id).expect("key id");
    let key = PublicKey::parse(key).expect("a public key");
    verify_json(value, &entity, &key_id, &key).is_ok()
}

/// The server on the restored copies answers everything [`Before`] recorded.
async fn assert_answers_as_before(restored: &Verity, before: &Before) {
    assert_eq!(
        published(restored, &before.key_id).await.as_deref(),
        Some(before.public_key.as_str()),
        "same signing key"
    );
    assert!(
        signed_by(&before.association, &before.public_key),
        "the association bound before the backup verifies with the restored key"
    );
    let looked_up = restored
        .client()
        .lookup_v1(ADDRESS, "email")
        .await
        .expect("v1 lookup")
        .into_inner();
    let looked_up = serde_json::to_value(looked_up).expect("JSON");
    assert_eq!(looked_up["mxid"], MXID);
    assert!(signed_by(&looked_up, &before.public_key));

    // The account made before the backup still works: its token was restored with it.
    let user = restored.client_as(&before.token);
    let pepper = user
        .get_hash_details()
        .await
        .expect("the restored account is accepted")
        .into_inner()
        .lookup_pepper;
    assert_eq!(pepper, before.pepper, "same pepper");
    assert_eq!(hashed_lookup(&user, ADDRESS).await, MXID);
}

/// Copies the key directory with its modes, as an operator restores it.
fn copy_keys(from: &Deployment, to: &Deployment) {
    run(Command::new("cp")
        .arg("-a")
        .arg(from.dir().join("keys"))
        .arg(to.dir()));
}

fn run(command: &mut Command) {
    let output = command.output().expect("the command runs");
    assert!(
        output.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
async fn a_pg_dump_and_the_key_directory_restore_a_server_that_answers_and_signs_as_before() {
    let (first, peers) = deployment_with(Backend::Postgres, "").await;
    let verity = first.start().await;
    let before = bind_and_record(&verity, &peers).await;

    // Taken while the server runs: pg_dump reads one consistent snapshot.
    let dump = first.dir().join("verity.sql");
    run(Command::new("pg_dump")
        .args(["--no-owner", "--no-privileges", "--file"])
        .arg(&dump)
        .arg(first.database_url()));
    verity.kill();

    let second = Deployment::new(Backend::Postgres, &peers.yaml()).await;
    run(Command::new("psql")
        .args(["--quiet", "--set", "ON_ERROR_STOP=1", "--file"])
        .arg(&dump)
        .arg(second.database_url()));
    copy_keys(&first, &second);
    let restored = second.start().await;
    assert_answers_as_before(&restored, &before).await;
}

#[tokio::test]
async fn an_online_sqlite_backup_and_the_key_directory_restore_a_server_but_the_file_alone_brings_a_new_key()
 {
    let (first, peers) = deployment_with(Backend::Sqlite, "").await;
    let verity = first.start().await;
    let before = bind_and_record(&verity, &peers).await;

    // SQLite's online backup, taken while the server runs (WAL mode; a plain `cp` could copy a
    // file without its last transactions).
    let scratch = tempfile::tempdir().expect("temp dir");
    let copy = scratch.path().join("verity.db");
    let live = sqlite_path(&first);
    run(Command::new("sqlite3")
        .arg(live)
        .arg(format!(".backup '{}'", copy.display())));
    verity.kill();

    let second = Deployment::new(Backend::SqliteAt(copy.clone()), &peers.yaml()).await;
    copy_keys(&first, &second);
    let restored = second.start().await;
    assert_answers_as_before(&restored, &before).await;
    restored.kill();

    // The same file without the key directory: the bindings are there, but the server makes a
    // new key, and what the old one signed no longer verifies against what it publishes.
    let without_keys = Deployment::new(Backend::SqliteAt(copy), &peers.yaml()).await;
    let keyless = without_keys.start().await;
    let looked_up = keyless
        .client()
        .lookup_v1(ADDRESS, "email")
        .await
        .expect("v1 lookup")
        .into_inner();
    let looked_up = serde_json::to_value(looked_up).expect("JSON");
    assert_eq!(looked_up["mxid"], MXID, "the bindings came back");
    let new_key = public_key(&keyless, &signer(&looked_up).1).await;
    assert_ne!(new_key, before.public_key, "a new key was made");
    assert!(!signed_by(&before.association, &new_key));
    assert_ne!(
        published(&keyless, &before.key_id).await.as_deref(),
        Some(before.public_key.as_str()),
        "the old key is not published"
    );
    let user = register(&keyless, &peers, "another").await;
    assert_eq!(hashed_lookup(&user, ADDRESS).await, MXID);
}

/// The SQLite file of `deployment`, from its `sqlite://<path>?mode=rwc` URL.
fn sqlite_path(deployment: &Deployment) -> &Path {
    let url = deployment.database_url();
    let path = url
        .strip_prefix("sqlite://")
        .and_then(|rest| rest.split('?').next())
        .expect("a SQLite URL");
    Path::new(path)
}
