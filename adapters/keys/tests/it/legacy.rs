//! mxisd ≤ 1.2's single key file at `key.path`, migrated as mxisd 1.3+ migrates it.
use std::fs;

use pretty_assertions::assert_eq;
use verity_adapter_keys::{BACKUP_SUFFIX, FileKeyStore, OpenError};
use verity_application::ports::driven::KeyStore;
use verity_domain::KeyKind;

use crate::{SPEC_PUBLIC_KEY, SPEC_SEED, id};

#[tokio::test]
async fn a_legacy_key_file_becomes_key_0_and_is_backed_up() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sign.key");
    let content = format!("\n{SPEC_SEED}\n");
    fs::write(&path, &content).unwrap();

    let store = FileKeyStore::open(&path).unwrap();
    assert!(path.is_dir());
    let keys = store.keys(KeyKind::Regular).await.unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].key.id(), &id("0"));
    assert!(keys[0].valid);
    assert_eq!(keys[0].key.public_key().to_base64(), SPEC_PUBLIC_KEY);
    // As in mxisd, no current key is recorded: the first valid key is chosen on start.
    assert_eq!(store.current().await.unwrap(), None);
    let backup = dir.path().join(format!("sign.key{BACKUP_SUFFIX}"));
    assert_eq!(fs::read_to_string(backup).unwrap(), content);
    assert!(!dir.path().join("sign.key.migrating").exists());

    // Opening again changes nothing.
    let again = FileKeyStore::open(&path).unwrap();
    assert_eq!(again.keys(KeyKind::Regular).await.unwrap().len(), 1);
}

#[tokio::test]
async fn an_empty_legacy_file_becomes_an_empty_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sign.key");
    fs::write(&path, "  \n").unwrap();
    let store = FileKeyStore::open(&path).unwrap();
    assert!(store.keys(KeyKind::Regular).await.unwrap().is_empty());
    assert!(
        dir.path()
            .join(format!("sign.key{BACKUP_SUFFIX}"))
            .is_file()
    );
}

#[test]
fn a_legacy_file_that_is_not_a_seed_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sign.key");
    fs::write(&path, "this is not a key\n").unwrap();
    let error = FileKeyStore::open(&path).unwrap_err();
    assert!(matches!(error, OpenError::Legacy { .. }), "{error:?}");
    assert!(error.to_string().contains("32-byte"), "{error}");
    assert_eq!(fs::read_to_string(&path).unwrap(), "this is not a key\n");
    assert!(!dir.path().join(format!("sign.key{BACKUP_SUFFIX}")).exists());
}

#[test]
fn a_different_earlier_backup_is_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sign.key");
    let backup = dir.path().join(format!("sign.key{BACKUP_SUFFIX}"));
    fs::write(&path, SPEC_SEED).unwrap();
    fs::write(&backup, "something else").unwrap();
    let error = FileKeyStore::open(&path).unwrap_err();
    assert!(matches!(error, OpenError::BackupExists { .. }), "{error:?}");
    assert_eq!(fs::read_to_string(&backup).unwrap(), "something else");
    assert!(path.is_file());
}

#[tokio::test]
async fn a_migration_stopped_half_way_is_finished_on_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sign.key");
    // Stopped after the backup was written but before the legacy file was removed.
    fs::write(&path, SPEC_SEED).unwrap();
    fs::write(
        dir.path().join(format!("sign.key{BACKUP_SUFFIX}")),
        SPEC_SEED,
    )
    .unwrap();
    fs::create_dir_all(dir.path().join("sign.key.migrating/regular")).unwrap();
    let store = FileKeyStore::open(&path).unwrap();
    let keys = store.keys(KeyKind::Regular).await.unwrap();
    assert_eq!(keys[0].key.public_key().to_base64(), SPEC_PUBLIC_KEY);

    // Stopped after the legacy file was removed, before the new directory was moved in.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sign.key");
    let staged = dir.path().join("sign.key.migrating/regular/ed25519");
    fs::create_dir_all(&staged).unwrap();
    fs::write(
        staged.join("0"),
        format!(r#"{{"version":"0","isValid":true,"key":"{SPEC_SEED}"}}"#),
    )
    .unwrap();
    let store = FileKeyStore::open(&path).unwrap();
    let keys = store.keys(KeyKind::Regular).await.unwrap();
    assert_eq!(keys[0].key.public_key().to_base64(), SPEC_PUBLIC_KEY);
}
