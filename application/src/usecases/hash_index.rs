//! The table of lookup hashes that `sha256` lookups are answered from, held in memory: built
//! from every backend's feed in the background at start-up (and under a new pepper on rotation),
//! kept in step with every bind and unbind made through this process, and with those of the other
//! instances on the same database through [`BindingFollower`](super::BindingFollower). Only the
//! pepper is stored (so that clients' peppers stay valid across restarts).
//!
//! ```text
//!  start:    stored pepper (or a new one, stored) ─ published, no table: lookups "not ready"
//!  rebuild:  fill a new table from the feeds ──────────────────────┐
//!  bind/unbind ─ refresh(3PID) ─ the complete table, and remembered ┤ (writes lock)
//!                                                                   └─ redo the remembered 3PIDs
//!                                                                      in the new table, swap
//! ```
//! Every write to a table (a refresh, and the end of a rebuild) holds one async lock, so the last
//! refresh of a 3PID is the last write for it: a refresh reads the backends' current answer and
//! writes it, and a rebuild redoes every 3PID refreshed while it filled its table. A lookup never
//! sees half a table: until the first table is complete it is told to retry
//! ([`Unanswered::NotReady`]), and a rotation swaps the pepper and its complete table at once.
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use futures_util::lock::Mutex;
use verity_domain::{Addresses, Pepper, ThreePid, Timestamp, UserId};

use self::hash_fill::{FillError, Filled, Filler};
use self::hash_table::{Table, decode, digest};
use super::backends::{Backends, OnFailure};
use crate::ports::driven::{
    BackendError, BindingStore, Clock, FeedCursor, HashStore, HashTable, SecretGenerator,
    StoreError,
};

pub use self::types::{
    HashingSettings, IndexError, IndexStats, Rebuild, RotationPolicy, Unanswered,
};

#[path = "hash_index_follow.rs"]
mod follow;
#[path = "hash_fill.rs"]
mod hash_fill;
#[path = "hash_table.rs"]
mod hash_table;
#[path = "hash_index_ports.rs"]
mod ports;
#[path = "hash_index_saved.rs"]
mod saved;
#[path = "hash_index_types.rs"]
mod types;

/// A rebuild in progress: the 3PIDs refreshed since it began.
struct Building {
    touched: BTreeSet<ThreePid>,
}

#[derive(Default)]
struct State {
    /// The pepper clients are given; set at start-up, changed only with its complete table.
    published: Option<HashTable>,
    /// The table of `published`, once complete.
    entries: Option<Table>,
    published_at: Option<Timestamp>,
    building: Option<Building>,
    /// Complete builds, and how long the last one took (`stats`).
    builds: u64,
    last_build_ms: Option<u64>,
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
    /// Where the binding changes are recorded, when complete tables are saved for the next
    /// start ([`with_saved_tables`](Self::with_saved_tables)).
    saving: Option<Arc<dyn BindingStore>>,
}

/// The table a rebuild makes.
enum Target {
    /// The next table of this kind.
    Kind(Rebuild),
    /// The table the store publishes (`hash_index_follow.rs`).
    Stored(HashTable),
}

/// Clears the rebuilding flag however the rebuild ends.
struct RebuildGuard<'a>(&'a AtomicBool);

impl Drop for RebuildGuard<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

impl HashIndex {
    /// The index whose pepper is kept in `hashes`, fed by `backends` (highest priority first).
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
            saving: None,
        }
    }

    /// Whether hashed lookups are on.
    pub fn is_enabled(&self) -> bool {
        self.settings.enabled
    }

    /// Publishes the stored pepper, or on the first start a new one (stored now), and returns
    /// `true` when hashing is on and its table is to be built: the caller then runs
    /// [`rebuild`](Self::rebuild) with [`Rebuild::SamePepper`] in the background. A table saved
    /// for the stored pepper is loaded instead when it can be brought up to date
    /// ([`with_saved_tables`](Self::with_saved_tables)); `false` then, and lookups are answered. Nothing is read from the backends here, so the
    /// server can listen at once; hashed lookups are [`Unanswered::NotReady`] until the table is
    /// complete.
    ///
    /// # Errors
    /// [`IndexError`] when the store fails.
    pub async fn start(&self) -> Result<bool, IndexError> {
        if !self.settings.enabled {
            return Ok(false);
        }
        let (table, loaded) = match self.hashes.published().await? {
            Some(table) => {
                let loaded = self.load_saved(&table).await;
                tracing::info!(
                    generation = table.generation,
                    saved_table = loaded.is_some(),
                    "lookup pepper loaded; {}",
                    if loaded.is_some() {
                        "its saved hash table is complete"
                    } else {
                        "its hash table is built in the background"
                    }
                );
                (table, loaded)
            }
            None => {
                let made = self.next_table(None, Rebuild::NewPepper);
                // Instances starting together on an empty database all get here: the first
                // stored pepper is everyone's.
                let table = self.hashes.publish_first(&made).await?;
                if table == made {
                    tracing::info!(
                        "first lookup pepper made; its hash table is built in the background"
                    );
                } else {
                    tracing::info!(
                        "lookup pepper loaded, made by an instance that started at the same time; its hash table is built in the background"
                    );
                }
                (table, None)
            }
        };
        let build_due = loaded.is_none();
        let mut state = self.write_state();
        state.published = Some(table);
        state.published_at = Some(self.clock.now());
        state.entries = loaded;
        Ok(build_due)
    }

    /// The published pepper and generation, if hashing is on (clients are given this pepper even
    /// while its table is being built).
    pub fn published(&self) -> Option<HashTable> {
        self.read_state().published.clone()
    }

    /// Whether the published pepper's table is complete (hashed lookups are answered).
    pub fn is_ready(&self) -> bool {
        self.read_state().entries.is_some()
    }

    /// Whether a build of the published pepper's table is due: hashing is on, no table is
    /// complete (the build at start failed) and no build runs.
    pub fn build_due(&self) -> bool {
        self.settings.enabled
            && !self.rebuilding.load(Ordering::Acquire)
            && self.read_state().entries.is_none()
    }

    /// The users of the `hashes` that are in the table of `pepper`, each with the hash as sent.
    ///
    /// # Errors
    /// [`Unanswered`] when the table is not complete yet, or `pepper` is not the published one.
    pub fn find(
        &self,
        pepper: &str,
        hashes: &Addresses,
    ) -> Result<Vec<(usize, UserId)>, Unanswered> {
        let state = self.read_state();
        let published = state.published.as_ref().map(|t| t.pepper.as_str());
        if published != Some(pepper) {
            return Err(Unanswered::OtherPepper(
                published.unwrap_or_default().to_owned(),
            ));
        }
        let entries = state.entries.as_ref().ok_or(Unanswered::NotReady)?;
        // A hash that is not a digest's one spelling matches nothing.
        let (asked, digests): (Vec<usize>, Vec<_>) = hashes
            .iter()
            .enumerate()
            .filter_map(|(position, hash)| Some((position, decode(hash)?)))
            .unzip();
        Ok(asked
            .into_iter()
            .zip(entries.get_many(&digests))
            .filter_map(|(hash, user)| {
                // Every user in the table was a valid `UserId` when it was written.
                let user = UserId::parse(user?).ok()?;
                Some((hash, user))
            })
            .collect())
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

    /// Builds a table from every backend's feed, lowest priority first so that a 3PID several
    /// backends know ends with the answer of the highest, then swaps it in with its pepper at
    /// once (a new pepper is stored first). The published pepper and its table answer until
    /// then; a failed rebuild leaves them as they were. Returns `false` when hashing is off or
    /// another rebuild is running.
    ///
    /// # Errors
    /// [`IndexError`] when the store or a backend fails.
    pub async fn rebuild(&self, kind: Rebuild) -> Result<bool, IndexError> {
        self.rebuild_to(Target::Kind(kind)).await
    }

    /// [`rebuild`](Self::rebuild) into the table `target` names: the next one of its kind, or a
    /// table already published in the store by someone else (`hash_index_follow.rs`), which is
    /// then not published again (a later publication may have replaced it meanwhile).
    async fn rebuild_to(&self, target: Target) -> Result<bool, IndexError> {
        if !self.settings.enabled || self.rebuilding.swap(true, Ordering::AcqRel) {
            return Ok(false);
        }
        let _guard = RebuildGuard(&self.rebuilding);
        let started = self.clock.now();
        let published = self.published();
        let (table, stored) = match target {
            Target::Kind(kind) => (self.next_table(published.as_ref(), kind), false),
            Target::Stored(table) => (table, true),
        };
        {
            let _writes = self.writes.lock().await;
            self.write_state().building = Some(Building {
                touched: BTreeSet::new(),
            });
        }
        let changes_until = self.changes_until().await?;
        let filled = self.fill(&table).await;
        // The table as the feeds gave it: the 3PIDs touched meanwhile are changes after
        // `changes_until`, which a start that loads it replays.
        let saved = match &filled {
            Ok(filled) => self.to_save(&table, &filled.table, changes_until),
            Err(_) => None,
        };

        let _writes = self.writes.lock().await;
        let building = self.write_state().building.take();
        let Filled {
            table: mut entries,
            skipped,
        } = filled?;
        // 3PIDs bound or unbound while the table was filled: their feed entries may be older
        // than the change, so they are looked up again.
        for threepid in building.map(|b| b.touched).unwrap_or_default() {
            let user = self.backends.lookup(&threepid, OnFailure::Fail).await?;
            write(&mut entries, &table.pepper, &threepid, user.as_ref())?;
        }
        let new_pepper = published.as_ref().is_none_or(|p| p.pepper != table.pepper);
        if new_pepper && !stored {
            // Stored before clients are given it: a restart then finds it.
            self.hashes.publish(&table).await?;
        }
        let count = entries.len();
        let mib = entries.bytes() / (1 << 20);
        {
            let mut state = self.write_state();
            state.entries = Some(entries);
            state.published = Some(table.clone());
            state.builds += 1;
            state.last_build_ms = Some(
                self.clock
                    .now()
                    .as_millis()
                    .saturating_sub(started.as_millis()),
            );
            if new_pepper {
                state.published_at = Some(self.clock.now());
            }
        }
        drop(_writes);
        if new_pepper {
            self.lookups.store(0, Ordering::Relaxed);
        }
        tracing::info!(
            entries = count,
            mib,
            new_pepper,
            "lookup hash table complete"
        );
        for (backend, rows) in skipped {
            tracing::warn!(
                backend,
                rows,
                "bindings the backend published are invalid and were left out of the lookup table"
            );
        }
        self.prune(&table, new_pepper).await;
        if let Some(saved) = saved {
            self.save(saved).await;
        }
        Ok(true)
    }

    /// Deletes the hash rows earlier versions kept in the store (the table was stored then; it
    /// is only in memory now), and those of other peppers. A failure is logged: the rows are
    /// only dead weight, and the next rebuild tries again.
    async fn prune(&self, table: &HashTable, published: bool) {
        // `publish` also deletes the rows of the pepper marked with an older generation.
        let swept = if published {
            Ok(())
        } else {
            // Only while the store still publishes this pepper: a rotation made meanwhile
            // elsewhere (`verity admin pepper rotate`) must not be undone; it is followed next.
            match self.hashes.published().await {
                Ok(Some(stored)) if stored.pepper == table.pepper => {
                    self.hashes.publish(table).await
                }
                Ok(_) => Ok(()),
                Err(error) => Err(error),
            }
        };
        let pruned = self.hashes.prune_other_peppers(&table.pepper).await;
        match (swept, pruned) {
            (Ok(()), Ok(0)) => {}
            (Ok(()), Ok(rows)) => tracing::debug!(rows, "old lookup hash rows deleted"),
            (Err(error), _) | (_, Err(error)) => tracing::warn!(
                %error,
                "deleting stored lookup hash rows failed; retried at the next rebuild"
            ),
        }
    }

    /// Brings the entry of `threepid` in line with the backends in the complete table, after a
    /// bind or an unbind; a rebuild running meanwhile redoes it in its own table.
    ///
    /// # Errors
    /// [`IndexError`] when a backend fails.
    pub async fn refresh(&self, threepid: &ThreePid) -> Result<(), IndexError> {
        if !self.settings.enabled {
            return Ok(());
        }
        let _writes = self.writes.lock().await;
        let complete = {
            let mut state = self.write_state();
            if let Some(building) = state.building.as_mut() {
                building.touched.insert(threepid.clone());
            }
            state.entries.is_some()
        };
        // Without a complete table, the next build reads this 3PID's current answer anyway.
        if !complete {
            return Ok(());
        }
        let user = self.backends.lookup(threepid, OnFailure::Fail).await?;
        let mut state = self.write_state();
        let State {
            published, entries, ..
        } = &mut *state;
        if let (Some(table), Some(entries)) = (published.as_ref(), entries.as_mut()) {
            write(entries, &table.pepper, threepid, user.as_ref())?;
        }
        Ok(())
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

    /// Every backend's bindings hashed under `table`'s pepper, lowest priority first, into a
    /// table sized from the backends' counts. A page is checked and hashed here, then inserted
    /// on a thread of its own while the next page is read (SQLite on its own thread, PostgreSQL
    /// in its own process): see [`hash_fill`].
    async fn fill(&self, table: &HashTable) -> Result<Filled, IndexError> {
        let mut expected: u64 = 0;
        for backend in self.backends.iter() {
            expected = expected.saturating_add(backend.feed_len().await?.unwrap_or(0));
        }
        // A count far beyond any table is not worth reserving for.
        let capacity = usize::try_from(expected.min(1 << 28)).unwrap_or_default();
        let filler = Filler::start(table.pepper.clone(), capacity).map_err(failed)?;
        for backend in self.backends.iter().rev() {
            let mut after: Option<FeedCursor> = None;
            loop {
                let mut page = filler.empty().await.map_err(failed)?;
                backend
                    .feed_rows(after.clone(), self.settings.page_size, &mut page.rows)
                    .await?;
                let last = page.rows.cursor();
                // An empty page goes back to the thread too: it is the buffer of a later page.
                filler.hash(page, backend.name());
                let Some(last) = last else {
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
                after = Some(last);
            }
        }
        filler.finish().await.map_err(failed)
    }

    fn read_state(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write_state(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Sets (or, for `None`, removes) the entry of `threepid` in `entries`, the table of `pepper`.
fn write(
    entries: &mut Table,
    pepper: &Pepper,
    threepid: &ThreePid,
    user: Option<&UserId>,
) -> Result<(), IndexError> {
    let digest = digest(
        threepid.address(),
        threepid.medium().as_str(),
        pepper.as_str(),
    );
    match user {
        Some(user_id) => entries.insert(digest, user_id.as_str()),
        None => entries.remove(&digest),
    }
    .map_err(|full| failed(full.into()))
}

/// A table that could not be filled or written, as the failure of the store it replaced.
fn failed(error: FillError) -> IndexError {
    IndexError::Store(StoreError::Unavailable(Box::new(error)))
}

#[cfg(test)]
#[path = "hash_index_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "hash_index_follow_tests.rs"]
mod follow_tests;
