//! What the `KeyStore` port promises, checked on the directory store and the memory store alike.
use std::sync::Arc;

use pretty_assertions::assert_eq;
use tempfile::TempDir;
use verity_adapter_keys::{FileKeyStore, MemoryKeyStore};
use verity_application::ports::driven::{KeyStore, StoreError};
use verity_domain::KeyKind;

use crate::{id, key, summary};

/// Both stores; the directory one keeps its temporary directory alive.
fn stores() -> Vec<(&'static str, Arc<dyn KeyStore>, Option<TempDir>)> {
    let dir = tempfile::tempdir().unwrap();
    let file = FileKeyStore::open(&dir.path().join("keys")).unwrap();
    vec![
        ("file", Arc::new(file), Some(dir)),
        ("memory", Arc::new(MemoryKeyStore::new()), None),
    ]
}

#[tokio::test]
async fn an_empty_store_has_no_current_key_and_no_keys() {
    for (name, store, _dir) in stores() {
        assert!(store.current().await.unwrap().is_none(), "{name}");
        for kind in [KeyKind::Regular, KeyKind::Ephemeral] {
            assert!(store.keys(kind).await.unwrap().is_empty(), "{name}");
        }
    }
}

#[tokio::test]
async fn keys_round_trip_with_their_seed_and_validity_in_identifier_order() {
    for (name, store, _dir) in stores() {
        let keys = [key("b", 2, true), key("a", 1, false), key("c_3-x", 3, true)];
        for stored in &keys {
            store.add(KeyKind::Regular, stored).await.unwrap();
        }
        let read = store.keys(KeyKind::Regular).await.unwrap();
        assert_eq!(
            summary(&read),
            summary(&[keys[1].clone(), keys[0].clone(), keys[2].clone()]),
            "{name}"
        );
        assert_eq!(
            read[0].key.seed_base64(),
            keys[1].key.seed_base64(),
            "{name}"
        );
        assert!(
            store.keys(KeyKind::Ephemeral).await.unwrap().is_empty(),
            "{name}"
        );
    }
}

#[tokio::test]
async fn adding_a_key_twice_is_a_conflict_and_changes_nothing() {
    for (name, store, _dir) in stores() {
        store
            .add(KeyKind::Regular, &key("0", 1, true))
            .await
            .unwrap();
        assert!(
            matches!(
                store.add(KeyKind::Regular, &key("0", 9, false)).await,
                Err(StoreError::Conflict)
            ),
            "{name}"
        );
        assert_eq!(
            summary(&store.keys(KeyKind::Regular).await.unwrap()),
            summary(&[key("0", 1, true)]),
            "{name}"
        );
        // The same identifier among the ephemeral keys is another key.
        store
            .add(KeyKind::Ephemeral, &key("0", 9, true))
            .await
            .unwrap();
        assert_eq!(
            summary(&store.keys(KeyKind::Ephemeral).await.unwrap()),
            summary(&[key("0", 9, true)]),
            "{name}"
        );
    }
}

#[tokio::test]
async fn only_a_stored_regular_key_can_become_current() {
    for (name, store, _dir) in stores() {
        store
            .add(KeyKind::Ephemeral, &key("e", 1, true))
            .await
            .unwrap();
        for missing in ["x", "e"] {
            assert!(
                matches!(
                    store.set_current(&id(missing)).await,
                    Err(StoreError::NotFound)
                ),
                "{name}: {missing}"
            );
        }
        assert!(store.current().await.unwrap().is_none(), "{name}");
        store
            .add(KeyKind::Regular, &key("r1", 2, true))
            .await
            .unwrap();
        store
            .add(KeyKind::Regular, &key("r2", 3, true))
            .await
            .unwrap();
        store.set_current(&id("r1")).await.unwrap();
        assert_eq!(store.current().await.unwrap(), Some(id("r1")), "{name}");
        store.set_current(&id("r2")).await.unwrap();
        assert_eq!(store.current().await.unwrap(), Some(id("r2")), "{name}");
    }
}

#[tokio::test]
async fn a_directory_store_keeps_everything_across_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/keys");
    let store = FileKeyStore::open(&path).unwrap();
    store
        .add(KeyKind::Regular, &key("0", 1, true))
        .await
        .unwrap();
    store
        .add(KeyKind::Regular, &key("1", 2, false))
        .await
        .unwrap();
    store
        .add(KeyKind::Ephemeral, &key("e", 3, true))
        .await
        .unwrap();
    store.set_current(&id("0")).await.unwrap();
    drop(store);

    let again = FileKeyStore::open(&path).unwrap();
    assert_eq!(again.current().await.unwrap(), Some(id("0")));
    assert_eq!(
        summary(&again.keys(KeyKind::Regular).await.unwrap()),
        summary(&[key("0", 1, true), key("1", 2, false)])
    );
    assert_eq!(
        summary(&again.keys(KeyKind::Ephemeral).await.unwrap()),
        summary(&[key("e", 3, true)])
    );
}

#[tokio::test]
async fn memory_is_chosen_by_the_mxisd_spelling_and_a_path_otherwise() {
    let memory = verity_adapter_keys::open(std::path::Path::new(":memory:")).unwrap();
    memory
        .add(KeyKind::Regular, &key("0", 1, true))
        .await
        .unwrap();
    assert_eq!(memory.keys(KeyKind::Regular).await.unwrap().len(), 1);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys");
    let file = verity_adapter_keys::open(&path).unwrap();
    file.add(KeyKind::Regular, &key("0", 1, true))
        .await
        .unwrap();
    assert!(path.join("regular/ed25519/0").is_file());
}
