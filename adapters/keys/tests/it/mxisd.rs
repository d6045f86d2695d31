//! Directories as mxisd/ma1sd write them (Gson, compact), prepared by hand: Verity reads them
//! unchanged, keeps their identifiers, and what it writes is what mxisd writes.
use std::fs;
use std::path::Path;

use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use verity_adapter_keys::FileKeyStore;
use verity_application::ports::driven::KeyStore;
use verity_domain::{KeyId, KeyKind, SigningKey};

use crate::{SPEC_PUBLIC_KEY, SPEC_SEED, id, key};

/// An mxisd 1.3+/ma1sd store: the current key has an identifier in mxisd's base64url format
/// (with a `-`), an older disabled key, and an ephemeral key of an invite.
fn write_mxisd_store(root: &Path) {
    let regular = root.join("regular/ed25519");
    let ephemeral = root.join("ephemeral/ed25519");
    fs::create_dir_all(&regular).unwrap();
    fs::create_dir_all(&ephemeral).unwrap();
    fs::write(
        regular.join("AAAAOx-q1ZkQ"),
        format!(r#"{{"version":"0","isValid":true,"key":"{SPEC_SEED}"}}"#),
    )
    .unwrap();
    fs::write(
        regular.join("0"),
        format!(
            r#"{{"version":"0","isValid":false,"key":"{}"}}"#,
            key("0", 1, false).key.seed_base64()
        ),
    )
    .unwrap();
    fs::write(
        ephemeral.join("AAAAPQ2b3cQz"),
        format!(
            r#"{{"version":"0","isValid":true,"key":"{}"}}"#,
            key("e", 4, true).key.seed_base64()
        ),
    )
    .unwrap();
    fs::write(
        root.join("current"),
        r#"{"type":"Regular","algo":"ed25519","serial":"AAAAOx-q1ZkQ"}"#,
    )
    .unwrap();
}

#[tokio::test]
async fn an_mxisd_directory_is_read_as_is_with_its_key_identifiers() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("keys");
    write_mxisd_store(&root);
    let store = FileKeyStore::open(&root).unwrap();

    assert_eq!(store.current().await.unwrap(), Some(id("AAAAOx-q1ZkQ")));
    let regular = store.keys(KeyKind::Regular).await.unwrap();
    let listed: Vec<(String, bool)> = regular
        .iter()
        .map(|k| (k.key.id().as_str().to_owned(), k.valid))
        .collect();
    assert_eq!(
        listed,
        vec![
            ("ed25519:0".to_owned(), false),
            ("ed25519:AAAAOx-q1ZkQ".to_owned(), true)
        ]
    );
    assert_eq!(regular[1].key.public_key().to_base64(), SPEC_PUBLIC_KEY);
    let ephemeral = store.keys(KeyKind::Ephemeral).await.unwrap();
    assert_eq!(ephemeral.len(), 1);
    assert_eq!(
        ephemeral[0].key.public_key(),
        key("e", 4, true).key.public_key()
    );
}

#[tokio::test]
async fn keys_without_a_version_and_seeds_in_any_base64_spelling_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let regular = dir.path().join("regular/ed25519");
    fs::create_dir_all(&regular).unwrap();
    let padded_url_safe = format!("{SPEC_SEED}=").replace('+', "-");
    fs::write(
        regular.join("a"),
        format!(r#"{{"isValid":true,"key":"{padded_url_safe}"}}"#),
    )
    .unwrap();
    let store = FileKeyStore::open(dir.path()).unwrap();
    let keys = store.keys(KeyKind::Regular).await.unwrap();
    assert_eq!(keys[0].key.public_key().to_base64(), SPEC_PUBLIC_KEY);
}

#[tokio::test]
async fn verity_writes_the_files_mxisd_writes() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileKeyStore::open(dir.path()).unwrap();
    let spec =
        SigningKey::from_base64_seed(KeyId::from_identifier("AAAAOx_q1ZkQ").unwrap(), SPEC_SEED)
            .unwrap();
    let stored = verity_application::ports::driven::StoredKey {
        key: spec,
        valid: true,
    };
    store.add(KeyKind::Regular, &stored).await.unwrap();
    store
        .add(KeyKind::Ephemeral, &key("e", 4, false))
        .await
        .unwrap();
    store.set_current(&id("AAAAOx_q1ZkQ")).await.unwrap();

    let read = |path: &str| -> Value {
        serde_json::from_slice(&fs::read(dir.path().join(path)).unwrap()).unwrap()
    };
    // The seed as mxisd writes it: unpadded standard base64 of the same 32 bytes.
    let seed = stored.key.seed_base64();
    assert_eq!(
        read("regular/ed25519/AAAAOx_q1ZkQ"),
        json!({"version": "0", "isValid": true, "key": seed})
    );
    assert_eq!(
        read("ephemeral/ed25519/e"),
        json!({"version": "0", "isValid": false, "key": key("e", 4, false).key.seed_base64()})
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("current")).unwrap(),
        r#"{"type":"Regular","algo":"ed25519","serial":"AAAAOx_q1ZkQ"}"#
    );
    // Nothing else is left behind (no temporary files).
    let mut entries: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    entries.sort();
    assert_eq!(entries, ["current", "ephemeral", "regular"]);
}

#[tokio::test]
async fn entries_that_are_not_key_files_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let regular = dir.path().join("regular/ed25519");
    fs::create_dir_all(regular.join("subdir")).unwrap();
    fs::write(regular.join(".DS_Store"), "junk").unwrap();
    fs::write(regular.join("notes.txt"), "junk").unwrap();
    fs::write(
        regular.join("0"),
        format!(r#"{{"version":"0","isValid":true,"key":"{SPEC_SEED}"}}"#),
    )
    .unwrap();
    // Another algorithm's directory is not Verity's business.
    fs::create_dir_all(dir.path().join("regular/curve25519")).unwrap();
    let store = FileKeyStore::open(dir.path()).unwrap();
    let keys = store.keys(KeyKind::Regular).await.unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].key.id(), &id("0"));
}
