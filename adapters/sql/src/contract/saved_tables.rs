//! `verity_lookup_saved`: the lookup table saved for the next start, and the binding changes it
//! keeps from the purge.
use pretty_assertions::assert_eq;
use verity_application::ports::driven::{BindingStore, HashStore, SavedTable, StoreError};
use verity_domain::{Pepper, Timestamp};

use super::bindings::binding;
use super::harness::TestDb;
use crate::bindings::SAVED_TABLE_KEPT;

const T1: Timestamp = Timestamp::from_millis(1_000);
const T2: Timestamp = Timestamp::from_millis(2_000);

fn pepper(raw: &str) -> Pepper {
    Pepper::parse(raw).unwrap()
}

/// Megabytes of every byte value, as a table's digests are: more than two parts' worth.
fn data(seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..(9 << 20) + 7)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

fn saved(pepper_: &str, changes_until: u64, saved_at: Timestamp, seed: u64) -> SavedTable {
    SavedTable {
        pepper: pepper(pepper_),
        changes_until,
        saved_at,
        data: data(seed),
    }
}

pub(crate) async fn a_saved_table_is_read_back_whole_and_only_for_its_pepper(db: &TestDb) {
    let hashes = db.hashes();
    assert_eq!(hashes.saved_table(&pepper("p1")).await.unwrap(), None);
    hashes.save_table(saved("p1", 7, T1, 1)).await.unwrap();
    assert_eq!(
        hashes.saved_table(&pepper("p1")).await.unwrap(),
        Some(saved("p1", 7, T1, 1))
    );
    assert_eq!(hashes.saved_table(&pepper("p2")).await.unwrap(), None);
    // One saved table: the next replaces it, whatever its pepper.
    hashes.save_table(saved("p2", 9, T2, 2)).await.unwrap();
    assert_eq!(hashes.saved_table(&pepper("p1")).await.unwrap(), None);
    assert_eq!(
        hashes.saved_table(&pepper("p2")).await.unwrap(),
        Some(saved("p2", 9, T2, 2))
    );
    // Parts of two saves (read while another instance saved) are refused, never put together.
    db.execute("UPDATE verity_lookup_saved SET saved_at = saved_at + 1 WHERE part = 1")
        .await;
    assert!(matches!(
        hashes.saved_table(&pepper("p2")).await,
        Err(StoreError::Corrupt(_))
    ));
}

pub(crate) async fn the_purge_keeps_the_changes_after_a_saved_table_until_it_is_too_old(
    db: &TestDb,
) {
    let (hashes, bindings) = (db.hashes(), db.bindings());
    let alice = binding("email", "alice@example.org", "@alice:example.org");
    let bob = binding("email", "bob@example.org", "@bob:example.org");
    bindings.bind(&alice, T1).await.unwrap();
    let until = bindings.last_change().await.unwrap();
    bindings.bind(&bob, T1).await.unwrap();
    hashes.save_table(saved("p1", until, T1, 1)).await.unwrap();

    // Both changes are old enough, but bob's is after the saved table.
    assert_eq!(bindings.purge_changes(T2).await.unwrap(), 1);
    let left: Vec<_> = bindings.changes(0, 10).await.unwrap();
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0].threepid, bob.threepid);
    assert!(hashes.saved_table(&pepper("p1")).await.unwrap().is_some());

    // A saved table older than it is kept for goes, and so do the changes it kept.
    let later = T1
        .saturating_add(SAVED_TABLE_KEPT)
        .saturating_add(std::time::Duration::from_millis(1));
    assert_eq!(bindings.purge_changes(later).await.unwrap(), 1);
    assert_eq!(bindings.changes(0, 10).await.unwrap(), vec![]);
    assert_eq!(hashes.saved_table(&pepper("p1")).await.unwrap(), None);
}
