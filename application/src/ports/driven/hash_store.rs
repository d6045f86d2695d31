use async_trait::async_trait;
use verity_domain::{LookupHash, Pepper, Timestamp};

use super::{Binding, StoreError};

/// One table of precomputed lookup hashes: the hashes of every published 3PID under `pepper`.
/// A table is rebuilt (under the same pepper at start-up, under a new one when the pepper
/// rotates) as a new `generation`, so that a rebuild never disturbs the table being answered from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashTable {
    /// The pepper every hash of the table is computed with.
    pub pepper: Pepper,
    /// Which build of the table an entry belongs to; greater is newer.
    pub generation: u64,
}

/// A hash and the binding it stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashEntry {
    /// `sha256` of the binding's 3PID under the table's pepper.
    pub hash: LookupHash,
    /// The binding.
    pub binding: Binding,
}

/// A complete table of hashes as the hash index saved it, so that a restart can load it and
/// catch up on the binding changes recorded since, instead of reading every binding again.
#[derive(Clone, PartialEq, Eq)]
pub struct SavedTable {
    /// The pepper every hash of the table is computed with.
    pub pepper: Pepper,
    /// The highest binding change id recorded before the table's build began: every change
    /// after it may be missing from the table.
    pub changes_until: u64,
    /// When it was saved.
    pub saved_at: Timestamp,
    /// The entries, in the hash index's own format (it checks them when it loads them).
    pub data: Vec<u8>,
}

impl std::fmt::Debug for SavedTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Tens of megabytes: never printed.
        f.debug_struct("SavedTable")
            .field("changes_until", &self.changes_until)
            .field("saved_at", &self.saved_at)
            .field("bytes", &self.data.len())
            .finish_non_exhaustive()
    }
}

/// Which lookup pepper is published, kept across restarts. The table of hashes itself is kept in
/// memory by the hash index, which uses only `published`, `publish` and `prune_other_peppers`:
/// the last two delete the hash rows earlier versions stored. The entry methods (`put`,
/// `remove`, `find`) are no longer called by Verity; the SQL adapter's contract tests still use
/// them to make such rows.
///
/// Implementations MUST record the published table atomically (a reader sees the old one or the
/// new one) and MUST be safe to call concurrently.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait HashStore: Send + Sync {
    /// The published table, or `None` before the first publication.
    async fn published(&self) -> Result<Option<HashTable>, StoreError>;

    /// Inserts `entries` into the table of `table.pepper`, replacing the entry of the same hash,
    /// and marks them with `table.generation`.
    async fn put(&self, table: &HashTable, entries: &[HashEntry]) -> Result<(), StoreError>;

    /// Removes the entry of `hash` from the table of `pepper` (nothing when there is none).
    async fn remove(&self, pepper: &Pepper, hash: &LookupHash) -> Result<(), StoreError>;

    /// The entries of the table of `pepper` whose hash is among `hashes` (any generation).
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] when a stored entry is not a valid binding.
    async fn find(
        &self,
        pepper: &Pepper,
        hashes: &[LookupHash],
    ) -> Result<Vec<HashEntry>, StoreError>;

    /// Records `table` as the published table, then deletes the entries of its pepper marked with
    /// an older generation (possibly in several statements: no lookup reads the entries).
    async fn publish(&self, table: &HashTable) -> Result<(), StoreError>;

    /// Records `table` as the published table only if none is published yet, in one
    /// conditional statement, and returns the published table: `table`, or the one published
    /// first by someone else. Of instances starting together on an empty database, each gets
    /// the same one, so they hand out one pepper.
    async fn publish_first(&self, table: &HashTable) -> Result<HashTable, StoreError>;

    /// Deletes every entry of any pepper but `keep`, and returns how many were deleted.
    async fn prune_other_peppers(&self, keep: &Pepper) -> Result<u64, StoreError>;

    /// Saves `table` (taken whole: it is tens of megabytes), replacing the saved one (there is at most one, of any pepper).
    ///
    /// Implementations MUST keep the binding changes recorded after `table.changes_until` while
    /// the table is saved (a restart replays them; `BindingStore::purge_changes`), and MAY drop
    /// a saved table that is old, with the changes it kept.
    async fn save_table(&self, table: SavedTable) -> Result<(), StoreError>;

    /// The saved table, if it is of `pepper`.
    async fn saved_table(&self, pepper: &Pepper) -> Result<Option<SavedTable>, StoreError>;
}
