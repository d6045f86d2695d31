//! Following the binds and unbinds made by the other instances on the same database: each
//! instance keeps its lookup hash table in memory ([`HashIndex`](super::HashIndex)) and refreshes its own binds and
//! unbinds at once; the binding store records every change with an increasing id
//! ([`BindingChange`]), and [`BindingFollower::poll`] (every second, `startup`) refreshes the
//! 3PIDs of the changes it has not seen yet.
//!
//! ```text
//!  floor ─ every id at or below it is done (or given up)
//!  poll:   changes with id > floor ─ unseen ones: refresh(3PID), remembered as seen
//!          floor moves up over seen ids that follow it; over a gap once the id above
//!          the gap was seen GAP_WAIT ago
//! ```
//! On PostgreSQL a change can become visible after one with a higher id (its transaction
//! committed later), and an id is lost for good when its transaction rolls back: an id missing
//! below seen ones is waited for [`GAP_WAIT`], so no instance's clock is compared with another's.
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::lock::Mutex;
use verity_domain::Timestamp;

use crate::ports::driven::{BindingStore, Clock, IndexError, IndexRefresh, StoreError};

/// How long an id missing below seen ones is waited for (a transaction that took its id earlier
/// and has not committed yet) before it is taken for rolled back.
pub const GAP_WAIT: Duration = Duration::from_secs(10);

/// How long recorded changes are kept: far longer than any instance takes to read them.
pub const CHANGES_KEPT: Duration = Duration::from_secs(3600);

/// Changes read at once.
const PAGE: u32 = 500;

struct Cursor {
    /// Every change with an id at or below it is done, or its id was given up.
    floor: u64,
    /// Changes above `floor` already refreshed, with when this instance first saw them.
    seen: BTreeMap<u64, Timestamp>,
}

impl Cursor {
    /// Moves `floor` up over the seen ids that follow it, and over a gap once the id above it
    /// was seen [`GAP_WAIT`] ago.
    fn advance(&mut self, now: Timestamp) {
        while let Some((&id, &first_seen)) = self.seen.first_key_value() {
            let next = id == self.floor.saturating_add(1);
            if !next && now < first_seen.saturating_add(GAP_WAIT) {
                break;
            }
            self.floor = id;
            self.seen.remove(&id);
        }
    }
}

/// Keeps this instance's lookup table in step with the changes recorded in the binding store.
pub struct BindingFollower {
    bindings: Arc<dyn BindingStore>,
    index: Arc<dyn IndexRefresh>,
    clock: Arc<dyn Clock>,
    cursor: Mutex<Cursor>,
}

impl BindingFollower {
    /// Follows the changes recorded after `floor`: the store's [`last_change`] read before the
    /// first build of the table starts (that build reads every binding made until then).
    ///
    /// [`last_change`]: BindingStore::last_change
    pub fn new(
        bindings: Arc<dyn BindingStore>,
        index: Arc<dyn IndexRefresh>,
        clock: Arc<dyn Clock>,
        floor: u64,
    ) -> Self {
        Self {
            bindings,
            index,
            clock,
            cursor: Mutex::new(Cursor {
                floor,
                seen: BTreeMap::new(),
            }),
        }
    }

    /// Refreshes the table's entry of every 3PID changed since the last poll (those this
    /// instance changed too: a refresh asks the backends again, so doing it twice is harmless)
    /// and returns how many changes it refreshed. While the table is being built, a refresh is
    /// redone by the build ([`IndexRefresh::refresh`]).
    ///
    /// # Errors
    /// [`IndexError`] when the store or a backend fails; the changes not refreshed are read
    /// again at the next poll.
    pub async fn poll(&self) -> Result<usize, IndexError> {
        if !self.index.is_enabled() {
            return Ok(0);
        }
        let mut cursor = self.cursor.lock().await;
        let now = self.clock.now();
        let mut after = cursor.floor;
        let mut refreshed = 0;
        loop {
            let page = self.bindings.changes(after, PAGE).await?;
            for change in &page {
                if cursor.seen.contains_key(&change.id) {
                    continue;
                }
                self.index.refresh(&change.threepid).await?;
                cursor.seen.insert(change.id, now);
                refreshed += 1;
            }
            match page.last() {
                Some(last) if page.len() >= PAGE as usize => after = last.id,
                _ => break,
            }
        }
        cursor.advance(now);
        Ok(refreshed)
    }

    /// Deletes the changes recorded more than [`CHANGES_KEPT`] ago; returns how many.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    pub async fn purge(&self) -> Result<u64, StoreError> {
        let before = self.clock.now().saturating_sub(CHANGES_KEPT);
        self.bindings.purge_changes(before).await
    }
}

#[cfg(test)]
#[path = "binding_changes_tests.rs"]
mod tests;
