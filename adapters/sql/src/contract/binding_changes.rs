//! `verity_binding_change`: what the binding store records for the other instances' lookup
//! tables.
use pretty_assertions::assert_eq;
use verity_application::ports::driven::BindingStore;
use verity_domain::{ThreePid, Timestamp};

use super::bindings::binding;

const T1: Timestamp = Timestamp::from_millis(1_000);
const T2: Timestamp = Timestamp::from_millis(2_000);

async fn recorded(store: &dyn BindingStore) -> Vec<(ThreePid, Timestamp)> {
    store
        .changes(0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|change| (change.threepid, change.at))
        .collect()
}

pub(crate) async fn an_empty_store_has_no_changes(store: &dyn BindingStore) {
    assert_eq!(store.last_change().await.unwrap(), 0);
    assert_eq!(store.changes(0, 10).await.unwrap(), vec![]);
}

pub(crate) async fn binds_and_unbinds_that_removed_a_binding_are_recorded_in_order(
    store: &dyn BindingStore,
) {
    let alice = binding("email", "alice@example.org", "@alice:example.org");
    let bob = binding("msisdn", "15551234567", "@bob:example.org");
    let mallory = binding("email", "alice@example.org", "@mallory:example.org");
    store.bind(&alice, T1).await.unwrap();
    store.bind(&bob, T1).await.unwrap();
    assert!(!store.unbind(&mallory, T2).await.unwrap());
    assert!(store.unbind(&alice, T2).await.unwrap());
    assert!(!store.unbind(&alice, T2).await.unwrap(), "already gone");

    assert_eq!(
        recorded(store).await,
        vec![
            (alice.threepid.clone(), T1),
            (bob.threepid.clone(), T1),
            (alice.threepid.clone(), T2),
        ],
        "an unbind that removed nothing records nothing"
    );
    let changes = store.changes(0, 100).await.unwrap();
    assert!(changes.windows(2).all(|w| w[0].id < w[1].id), "{changes:?}");
    assert_eq!(store.last_change().await.unwrap(), changes[2].id);
    // Paged by id.
    let page = store.changes(changes[0].id, 1).await.unwrap();
    assert_eq!(page, vec![changes[1].clone()]);
    assert_eq!(store.changes(changes[2].id, 10).await.unwrap(), vec![]);
}

pub(crate) async fn a_refused_bind_records_no_change(store: &dyn BindingStore) {
    let alice = binding("email", "alice@example.org", "@alice:example.org");
    assert!(
        store
            .bind(&alice, Timestamp::from_millis(i64::MAX as u64 + 1))
            .await
            .is_err()
    );
    assert_eq!(store.last_change().await.unwrap(), 0);
}

pub(crate) async fn the_purge_deletes_exactly_the_changes_before_the_cutoff(
    store: &dyn BindingStore,
) {
    let alice = binding("email", "alice@example.org", "@alice:example.org");
    let bob = binding("email", "bob@example.org", "@bob:example.org");
    store.bind(&alice, T1).await.unwrap();
    store.bind(&bob, T2).await.unwrap();
    assert_eq!(store.purge_changes(T2).await.unwrap(), 1);
    assert_eq!(recorded(store).await, vec![(bob.threepid.clone(), T2)]);
    assert_eq!(store.purge_changes(T2).await.unwrap(), 0);
    // The bindings stay.
    assert!(store.find(&alice.threepid).await.unwrap().is_some());
}

pub(crate) async fn ids_are_not_reused_after_every_change_was_purged(store: &dyn BindingStore) {
    let alice = binding("email", "alice@example.org", "@alice:example.org");
    store.bind(&alice, T1).await.unwrap();
    store.bind(&alice, T1).await.unwrap();
    let last = store.last_change().await.unwrap();
    assert_eq!(store.purge_changes(T2).await.unwrap(), 2);
    store.bind(&alice, T2).await.unwrap();
    let changes = store.changes(last, 10).await.unwrap();
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert!(changes[0].id > last);
}
