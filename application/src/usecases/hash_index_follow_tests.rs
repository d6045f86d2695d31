//! A pepper published in the store by someone else (`verity admin pepper rotate`, another
//! instance) is followed: its table built and swapped in with it, never published again, and a
//! rebuild of the old pepper does not undo it.
use std::sync::Arc;

use pretty_assertions::assert_eq;
use verity_domain::{Addresses, LookupHash};

use super::*;
use crate::ports::driven::IdentityBackend;
use crate::usecases::test_support::{
    CountingPeppers, FakeBackend, FakeClock, FakeHashStore, binding, email, pepper,
};

const T0: u64 = 1_700_000_000_000;

fn index(store: Arc<FakeHashStore>) -> HashIndex {
    let own = FakeBackend::new("bindings", &[binding("a@example.org", "@a:example.org")]);
    HashIndex::new(
        store,
        Backends::new(vec![own as Arc<dyn IdentityBackend>]),
        Arc::new(CountingPeppers::default()),
        FakeClock::at(T0),
        HashingSettings {
            enabled: true,
            pepper_length: 20,
            rotation: RotationPolicy::Never,
            page_size: 2,
        },
    )
}

/// The user the index answers for a@example.org hashed under `table`'s pepper.
fn answer(index: &HashIndex, table: &HashTable) -> Option<String> {
    let hash = LookupHash::of(&email("a@example.org"), &table.pepper);
    index
        .find(
            table.pepper.as_str(),
            &Addresses::from_iter([hash.as_str()]),
        )
        .unwrap()
        .first()
        .map(|(_, user)| user.as_str().to_owned())
}

fn rotated_elsewhere() -> HashTable {
    HashTable {
        pepper: pepper("rotatedByTheOperator"),
        generation: T0 + 5,
    }
}

#[tokio::test]
async fn a_pepper_rotated_in_the_store_is_followed_with_its_complete_table() {
    let store = Arc::new(FakeHashStore::default());
    let index = index(store.clone());
    index.start().await.unwrap();
    index.rebuild(Rebuild::SamePepper).await.unwrap();
    *store.published.lock().unwrap() = Some(rotated_elsewhere());

    assert!(index.follow_stored_pepper().await.unwrap());

    assert_eq!(index.published(), Some(rotated_elsewhere()));
    assert_eq!(
        answer(&index, &rotated_elsewhere()).as_deref(),
        Some("@a:example.org")
    );
    assert_eq!(*store.published.lock().unwrap(), Some(rotated_elsewhere()));
}

#[tokio::test]
async fn the_stored_pepper_this_index_publishes_is_not_built_again() {
    let store = Arc::new(FakeHashStore::default());
    let index = index(store.clone());
    index.start().await.unwrap();
    index.rebuild(Rebuild::SamePepper).await.unwrap();

    assert!(!index.follow_stored_pepper().await.unwrap());
}

#[tokio::test]
async fn a_build_of_the_old_pepper_does_not_publish_it_over_a_rotation_made_meanwhile() {
    let store = Arc::new(FakeHashStore::default());
    let index = index(store.clone());
    index.start().await.unwrap();
    // The operator rotates while the first table of the old pepper is being built.
    *store.published.lock().unwrap() = Some(rotated_elsewhere());

    index.rebuild(Rebuild::SamePepper).await.unwrap();

    assert_eq!(*store.published.lock().unwrap(), Some(rotated_elsewhere()));
    assert!(index.follow_stored_pepper().await.unwrap());
    assert_eq!(index.published(), Some(rotated_elsewhere()));
}
