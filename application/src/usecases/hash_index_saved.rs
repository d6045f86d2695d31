//! Saved tables: after each build the complete table is saved with the id of the last binding
//! change recorded before the build began; the next start loads it and looks up again the 3PIDs
//! changed since (by this instance before it stopped, or by the others on the database), instead
//! of reading every binding. Only when every backend records its changes (Verity's own binding
//! store): any other backend may have changed while Verity was down, and is read whole again.
//!
//! ```text
//!  build:  last change id L ─ fill from the feeds ─ publish ─ save (pepper, L, entries)
//!  start:  saved table of the published pepper ─ changes after L (at most MAX_REPLAYED 3PIDs)
//!          ─ each asked again ─ complete: lookups answer; otherwise the build, as before
//! ```
//! A saved table that cannot be read, is of another pepper, or is followed by more changes than
//! are worth replaying is left alone: the table is built as on a first start.
use std::collections::BTreeSet;
use std::sync::Arc;

use verity_domain::ThreePid;

use super::hash_table::Table;
use super::{HashIndex, IndexError, OnFailure, write};
use crate::ports::driven::{BindingStore, HashTable, SavedTable};

/// Above this many 3PIDs changed since a saved table, it is not loaded: asking the backends
/// about each would take longer than a build (a lookup a 3PID, against a page of 10,000).
pub const MAX_REPLAYED: usize = 5_000;

/// Changes read at once while replaying.
const PAGE: u32 = 1_000;

impl HashIndex {
    /// Saves each complete table (in the hash store, with the last change recorded in
    /// `changes` before its build) and loads it at the next start, when every backend records its
    /// changes there.
    #[must_use]
    pub fn with_saved_tables(mut self, changes: Arc<dyn BindingStore>) -> Self {
        self.saving = Some(changes);
        self
    }

    /// The binding store, when tables are saved and loaded: every backend records its changes.
    fn saving(&self) -> Option<&Arc<dyn BindingStore>> {
        let saving = self.saving.as_ref()?;
        self.backends
            .iter()
            .all(|backend| backend.records_changes())
            .then_some(saving)
    }

    /// The last change recorded before a build begins, when its table is to be saved.
    pub(super) async fn changes_until(&self) -> Result<Option<u64>, IndexError> {
        match self.saving() {
            Some(changes) => Ok(Some(changes.last_change().await?)),
            None => Ok(None),
        }
    }

    /// The table of `table`'s pepper as it is to be saved, if it is.
    pub(super) fn to_save(
        &self,
        table: &HashTable,
        entries: &Table,
        changes_until: Option<u64>,
    ) -> Option<SavedTable> {
        let changes_until = changes_until?;
        match entries.save() {
            Ok(data) => Some(SavedTable {
                pepper: table.pepper.clone(),
                changes_until,
                saved_at: self.clock.now(),
                data,
            }),
            Err(error) => {
                tracing::warn!(%error, "the lookup table cannot be saved; the next start builds it");
                None
            }
        }
    }

    /// Saves `saved`; a failure is logged (the next start builds the table).
    pub(super) async fn save(&self, saved: SavedTable) {
        let started = std::time::Instant::now();
        let bytes = saved.data.len();
        match self.hashes.save_table(saved).await {
            Ok(()) => tracing::info!(
                bytes,
                elapsed_ms = started.elapsed().as_millis(),
                "lookup hash table saved for the next start"
            ),
            Err(error) => tracing::warn!(
                %error,
                "saving the lookup hash table failed; the next start builds it"
            ),
        }
    }

    /// The saved table of `table`'s pepper, brought up to date with the changes recorded since
    /// it was built; `None` (logged) when there is none or it cannot be used.
    pub(super) async fn load_saved(&self, table: &HashTable) -> Option<Table> {
        let changes = self.saving()?;
        match self.try_load(changes.as_ref(), table).await {
            Ok(loaded) => loaded,
            Err(error) => {
                tracing::warn!(
                    error = %error,
                    source = ?std::error::Error::source(&error),
                    "the saved lookup table could not be loaded; it is built again"
                );
                None
            }
        }
    }

    async fn try_load(
        &self,
        changes: &dyn BindingStore,
        table: &HashTable,
    ) -> Result<Option<Table>, IndexError> {
        let started = std::time::Instant::now();
        let Some(saved) = self.hashes.saved_table(&table.pepper).await? else {
            return Ok(None);
        };
        let Some(changed) = changed_since(changes, saved.changes_until).await? else {
            tracing::info!(
                more_than = MAX_REPLAYED,
                "too many 3PIDs changed since the lookup table was saved; it is built again"
            );
            return Ok(None);
        };
        let mut entries = match Table::load(&saved.data) {
            Ok(entries) => entries,
            Err(error) => {
                tracing::warn!(%error, "the saved lookup table is unreadable; it is built again");
                return Ok(None);
            }
        };
        drop(saved);
        for threepid in &changed {
            let user = self.backends.lookup(threepid, OnFailure::Fail).await?;
            write(&mut entries, &table.pepper, threepid, user.as_ref())?;
        }
        // The line a build logs when its table is complete, so that one line says "ready".
        tracing::info!(
            entries = entries.len(),
            saved = true,
            replayed = changed.len(),
            elapsed_ms = started.elapsed().as_millis(),
            "lookup hash table complete"
        );
        Ok(Some(entries))
    }
}

/// The 3PIDs of the changes recorded after `after`, or `None` when they are more than
/// [`MAX_REPLAYED`].
async fn changed_since(
    changes: &dyn BindingStore,
    mut after: u64,
) -> Result<Option<BTreeSet<ThreePid>>, IndexError> {
    let mut changed = BTreeSet::new();
    loop {
        let page = changes.changes(after, PAGE).await?;
        for change in &page {
            changed.insert(change.threepid.clone());
        }
        if changed.len() > MAX_REPLAYED {
            return Ok(None);
        }
        match page.last() {
            Some(last) if page.len() >= PAGE as usize => after = last.id,
            _ => return Ok(Some(changed)),
        }
    }
}

#[cfg(test)]
#[path = "hash_index_saved_tests.rs"]
mod tests;
