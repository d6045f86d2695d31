//! Private keys are readable by their owner only.
#![cfg(unix)]

use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use verity_adapter_keys::FileKeyStore;
use verity_application::ports::driven::KeyStore;
use verity_domain::KeyKind;

use crate::{id, key};

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn directories_are_0700_and_files_0600() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("a/keys");
    let store = FileKeyStore::open(&root).unwrap();
    store
        .add(KeyKind::Regular, &key("0", 1, true))
        .await
        .unwrap();
    store
        .add(KeyKind::Ephemeral, &key("e", 2, true))
        .await
        .unwrap();
    store.set_current(&id("0")).await.unwrap();

    for directory in [
        "",
        "regular",
        "regular/ed25519",
        "ephemeral",
        "ephemeral/ed25519",
    ] {
        assert_eq!(mode(&root.join(directory)), 0o700, "{directory:?}");
    }
    for file in ["regular/ed25519/0", "ephemeral/ed25519/e", "current"] {
        assert_eq!(mode(&root.join(file)), 0o600, "{file}");
    }
}

#[tokio::test]
async fn rewriting_current_keeps_it_private_even_if_it_was_not() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileKeyStore::open(dir.path()).unwrap();
    store
        .add(KeyKind::Regular, &key("0", 1, true))
        .await
        .unwrap();
    fs::write(dir.path().join("current"), "{}").unwrap();
    fs::set_permissions(
        dir.path().join("current"),
        fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    store.set_current(&id("0")).await.unwrap();
    assert_eq!(mode(&dir.path().join("current")), 0o600);
}
