//! The precomputed table of lookup hashes that `sha256` lookups are answered from: built from
//! every backend's feed, kept up to date after each bind and unbind, and rebuilt (at start-up
//! under the same pepper, on rotation under a new one) in the background without disturbing the
//! published table.
//!
//! ```text
//!  rebuild:  new table (pepper, generation) ─ fill from the feeds ─┐
//!  bind/unbind ─ refresh(3PID) ─ published table, and remembered ──┤ (writes lock)
//!                                                                  └─ redo the remembered 3PIDs
//!                                                                     in the new table, publish
//! ```
//! Every write to a table (a refresh, and the end of a rebuild) holds one async lock, so the last
//! refresh of a 3PID is the last write for it: a refresh reads the backends' current answer and
//! writes it, and a rebuild redoes every 3PID refreshed while it filled its table.
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use futures_util::lock::Mutex;
use verity_domain::{LookupHash, ThreePid, Timestamp, UserId};

use super::backends::{Backends, OnFailure};
use crate::ports::driven::{
    BackendError, Binding, Clock, HashEntry, HashStore, HashTable, SecretGenerator, StoreError,
};

/// When the pepper changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RotationPolicy {
    /// Never on its own (Verity's default): a pepper is made on the first start and kept.
    Never,
    /// After this many `/lookup` requests (ma1sd's `per_requests`).
    PerRequests(u64),
    /// When the pepper is this old (ma1sd's `per_seconds`).
    Every(Duration),
}

/// `hashing.*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashingSettings {
    /// Whether `sha256` lookups are offered and the table kept.
    pub enabled: bool,
    /// The length of new peppers.
    pub pepper_length: usize,
    /// When the pepper changes.
    pub rotation: RotationPolicy,
    /// How many bindings a rebuild reads from a backend at once.
    pub page_size: u32,
}

/// Which pepper a rebuild uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rebuild {
    /// The published pepper: brings the table in line with the backends (at start-up).
    SamePepper,
    /// A new pepper (rotation, or the first table).
    NewPepper,
}

/// Why the table could not be read, built or updated.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// The hash store failed.
    #[error("the lookup hash store failed")]
    Store(#[from] StoreError),
    /// A backend failed.
    #[error("an identity backend failed")]
    Backend(#[from] BackendError),
}

/// A rebuild in progress: the 3PIDs refreshed since it began.
struct Building {
    touched: BTreeSet<ThreePid>,
}

#[derive(Default)]
struct State {
    published: Option<HashTable>,
    published_at: Option<Timestamp>,
    building: Option<Building>,
}

/// The lookup hash table and its maintenance. One per process.
pub struct HashIndex {
    hashes: Arc<dyn HashStore>,
    backends: Backends,
    secrets: Arc<dyn SecretGenerator>,
    clock: Arc<dyn Clock>,
    settings: HashingSettings,
    state: RwLock<State>,
    writes: Mutex<()>,
    rebuilding: AtomicBool,
    lookups: AtomicU64,
}

/// Clears the rebuilding flag however the rebuild ends.
struct RebuildGuard<'a>(&'a AtomicBool);

impl Drop for RebuildGuard<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

impl HashIndex {
    /// The index over `hashes`, fed by `backends` (highest priority first).
    pub fn new(
        hashes: Arc<dyn HashStore>,
        backends: Backends,
        secrets: Arc<dyn SecretGenerator>,
        clock: Arc<dyn Clock>,
        settings: HashingSettings,
    ) -> Self {
        Self {
            hashes,
            backends,
            secrets,
            clock,
            settings,
            state: RwLock::new(State::default()),
            writes: Mutex::new(()),
            rebuilding: AtomicBool::new(false),
            lookups: AtomicU64::new(0),
        }
    }

    /// Whether hashed lookups are on.
    pub fn is_enabled(&self) -> bool {
        self.settings.enabled
    }

    /// Loads the published table, and returns `true` when one was found (the caller then runs
    /// [`rebuild`](Self::rebuild) with [`Rebuild::SamePepper`] in the background, which answers
    /// from the stored table meanwhile). On the first start there is none: the first table is
    /// built now, with a new pepper, so that no lookup is ever answered from half a table.
    ///
    /// # Errors
    /// [`IndexError`] when the store or, on the first start, a backend fails.
    pub async fn start(&self) -> Result<bool, IndexError> {
        if !self.settings.enabled {
            return Ok(false);
        }
        match self.hashes.published().await? {
            Some(table) => {
                tracing::info!(
                    generation = table.generation,
                    "lookup hash table loaded; bringing it up to date in the background"
                );
                let mut state = self.write_state();
                state.published = Some(table);
                state.published_at = Some(self.clock.now());
                Ok(true)
            }
            None => {
                self.rebuild(Rebuild::NewPepper).await?;
                Ok(false)
            }
        }
    }

    /// The published table, if hashing is on and a table exists.
    pub fn published(&self) -> Option<HashTable> {
        self.read_state().published.clone()
    }

    /// Counts one `/lookup` request (for [`RotationPolicy::PerRequests`]).
    pub fn count_lookup(&self) {
        self.lookups.fetch_add(1, Ordering::Relaxed);
    }

    /// Whether the rotation policy asks for a new pepper now.
    pub fn rotation_due(&self) -> bool {
        if !self.settings.enabled || self.rebuilding.load(Ordering::Acquire) {
            return false;
        }
        match self.settings.rotation {
            RotationPolicy::Never => false,
            RotationPolicy::PerRequests(count) => self.lookups.load(Ordering::Relaxed) >= count,
            RotationPolicy::Every(delay) => self
                .read_state()
                .published_at
                .is_some_and(|at| self.clock.now() >= at.saturating_add(delay)),
        }
    }

    /// Builds a new generation of the table from every backend's feed, lowest priority first so
    /// that a 3PID several backends know ends with the answer of the highest, then publishes it
    /// atomically. The published table answers until then; a failed rebuild leaves it published.
    /// Returns `false` when hashing is off or another rebuild is running.
    ///
    /// # Errors
    /// [`IndexError`] when the store or a backend fails.
    pub async fn rebuild(&self, kind: Rebuild) -> Result<bool, IndexError> {
        if !self.settings.enabled || self.rebuilding.swap(true, Ordering::AcqRel) {
            return Ok(false);
        }
        let _guard = RebuildGuard(&self.rebuilding);
        let published = self.published();
        let table = self.next_table(published.as_ref(), kind);
        // Tables of earlier peppers are kept until the next rebuild, so that a lookup that
        // checked its pepper just before a rotation still finds its table.
        let keep = published.as_ref().map_or(&table.pepper, |p| &p.pepper);
        let pruned = self.hashes.prune_other_peppers(keep).await?;
        if pruned > 0 {
            tracing::debug!(pruned, "old lookup hash tables deleted");
        }
        {
            let _writes = self.writes.lock().await;
            self.write_state().building = Some(Building {
                touched: BTreeSet::new(),
            });
        }
        let filled = self.fill(&table).await;

        let _writes = self.writes.lock().await;
        let building = self.write_state().building.take();
        let count = filled?;
        // 3PIDs bound or unbound while the table was filled: their feed entries may be older
        // than the change, so they are looked up again.
        for threepid in building.map(|b| b.touched).unwrap_or_default() {
            let user = self.backends.lookup(&threepid, OnFailure::Fail).await?;
            self.write(&table, &threepid, user).await?;
        }
        self.hashes.publish(&table).await?;
        {
            let mut state = self.write_state();
            state.published = Some(table.clone());
            state.published_at = Some(self.clock.now());
        }
        self.lookups.store(0, Ordering::Relaxed);
        tracing::info!(
            generation = table.generation,
            entries = count,
            new_pepper = kind == Rebuild::NewPepper,
            "lookup hash table published"
        );
        Ok(true)
    }

    /// Brings the entry of `threepid` in line with the backends, in the published table, after a
    /// bind or an unbind; a rebuild running meanwhile redoes it in its own table.
    ///
    /// # Errors
    /// [`IndexError`] when the store or a backend fails.
    pub async fn refresh(&self, threepid: &ThreePid) -> Result<(), IndexError> {
        if !self.settings.enabled {
            return Ok(());
        }
        let _writes = self.writes.lock().await;
        let published = {
            let mut state = self.write_state();
            if let Some(building) = state.building.as_mut() {
                building.touched.insert(threepid.clone());
            }
            state.published.clone()
        };
        let Some(table) = published else {
            return Ok(());
        };
        let user = self.backends.lookup(threepid, OnFailure::Fail).await?;
        self.write(&table, threepid, user).await
    }

    /// The next table: a generation above the published one (the time in milliseconds when that
    /// is greater, so generations also grow across restarts and failed rebuilds).
    fn next_table(&self, published: Option<&HashTable>, kind: Rebuild) -> HashTable {
        let next = published.map_or(0, |p| p.generation.saturating_add(1));
        let generation = next.max(self.clock.now().as_millis());
        let pepper = match (kind, published) {
            (Rebuild::SamePepper, Some(published)) => published.pepper.clone(),
            (_, published) => loop {
                let pepper = self.secrets.pepper(self.settings.pepper_length);
                if published.is_none_or(|p| p.pepper != pepper) {
                    break pepper;
                }
            },
        };
        HashTable { pepper, generation }
    }

    /// Puts every backend's bindings into `table`, lowest priority first; returns how many.
    async fn fill(&self, table: &HashTable) -> Result<u64, IndexError> {
        let mut count = 0u64;
        for backend in self.backends.iter().rev() {
            let mut after: Option<ThreePid> = None;
            loop {
                let page = backend.feed(after.clone(), self.settings.page_size).await?;
                let Some(last) = page.last().map(|binding| binding.threepid.clone()) else {
                    break;
                };
                // A feed that does not move on would never end.
                if after.as_ref() == Some(&last) {
                    return Err(BackendError::Corrupt(format!(
                        "the feed of the {} backend repeats its last page",
                        backend.name()
                    ))
                    .into());
                }
                let entries: Vec<HashEntry> = page
                    .into_iter()
                    .map(|binding| HashEntry {
                        hash: LookupHash::of(&binding.threepid, &table.pepper),
                        binding,
                    })
                    .collect();
                self.hashes.put(table, &entries).await?;
                count += entries.len() as u64;
                after = Some(last);
            }
        }
        Ok(count)
    }

    async fn write(
        &self,
        table: &HashTable,
        threepid: &ThreePid,
        user: Option<UserId>,
    ) -> Result<(), IndexError> {
        let hash = LookupHash::of(threepid, &table.pepper);
        match user {
            Some(user_id) => {
                let entry = HashEntry {
                    hash,
                    binding: Binding {
                        threepid: threepid.clone(),
                        user_id,
                    },
                };
                self.hashes.put(table, &[entry]).await?;
            }
            None => self.hashes.remove(&table.pepper, &hash).await?,
        }
        Ok(())
    }

    fn read_state(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write_state(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
#[path = "hash_index_tests.rs"]
mod tests;
