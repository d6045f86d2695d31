//! Broken stores are clear errors naming the file, never a panic and never a silent new key.
use std::fs;

use verity_adapter_keys::{FileKeyStore, OpenError};
use verity_application::ports::driven::{KeyStore, StoreError};
use verity_domain::KeyKind;

use crate::SPEC_SEED;

fn corrupt_message(result: Result<impl std::fmt::Debug, StoreError>) -> String {
    match result {
        Err(StoreError::Corrupt(message)) => message,
        other => panic!("expected a corrupt-store error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_key_file_that_is_not_json_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let regular = dir.path().join("regular/ed25519");
    fs::create_dir_all(&regular).unwrap();
    fs::write(regular.join("0"), "{\"isValid\": tru").unwrap();
    let store = FileKeyStore::open(dir.path()).unwrap();
    let message = corrupt_message(store.keys(KeyKind::Regular).await);
    assert!(message.contains("regular/ed25519/0"), "{message}");
    assert!(message.contains("not an mxisd key file"), "{message}");
}

#[tokio::test]
async fn a_key_that_is_not_a_seed_names_the_file_but_not_the_value() {
    let dir = tempfile::tempdir().unwrap();
    let ephemeral = dir.path().join("ephemeral/ed25519");
    fs::create_dir_all(&ephemeral).unwrap();
    let truncated = &SPEC_SEED[..30];
    fs::write(
        ephemeral.join("e1"),
        format!(r#"{{"isValid":true,"key":"{truncated}"}}"#),
    )
    .unwrap();
    let store = FileKeyStore::open(dir.path()).unwrap();
    let message = corrupt_message(store.keys(KeyKind::Ephemeral).await);
    assert!(message.contains("ephemeral/ed25519/e1"), "{message}");
    assert!(message.contains("32-byte"), "{message}");
    assert!(!message.contains(truncated), "{message}");
}

#[tokio::test]
async fn a_broken_current_file_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("current"), "").unwrap();
    let store = FileKeyStore::open(dir.path()).unwrap();
    let message = corrupt_message(store.current().await);
    assert!(message.contains("current"), "{message}");

    fs::write(
        dir.path().join("current"),
        r#"{"type":"Ephemeral","algo":"ed25519","serial":"0"}"#,
    )
    .unwrap();
    let message = corrupt_message(store.current().await);
    assert!(message.contains("Regular"), "{message}");
}

#[tokio::test]
async fn a_kind_directory_that_is_a_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("regular")).unwrap();
    fs::write(dir.path().join("regular/ed25519"), "oops").unwrap();
    let store = FileKeyStore::open(dir.path()).unwrap();
    let error = store.keys(KeyKind::Regular).await.unwrap_err();
    assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
    let source = std::error::Error::source(&error)
        .map(ToString::to_string)
        .unwrap_or_default();
    assert!(source.contains("regular/ed25519"), "{source}");
}

#[test]
fn a_key_path_under_a_file_cannot_be_opened() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("file"), "").unwrap();
    let error = FileKeyStore::open(&dir.path().join("file/keys")).unwrap_err();
    assert!(matches!(error, OpenError::Fs(_)), "{error:?}");
    assert!(error.to_string().contains("file/keys"), "{error}");
}
