//! A governor state store with a cap on its number of keys, and a dry run for looking at a
//! key's allowance without counting.
use std::cell::Cell;
use std::convert::Infallible;

use governor::nanos::Nanos;
use governor::state::StateStore;
use governor::state::keyed::{DashMapStateStore, ShrinkableKeyedStateStore};

/// The entry every key beyond the cap shares. Real keys never take this value
/// ([`key_hash`]).
const OVERFLOW: u64 = 0;

/// A key's hash, never [`OVERFLOW`].
pub(crate) fn key_hash(hash: u64) -> u64 {
    hash.max(1)
}

thread_local! {
    /// Set while [`dry_run`] runs: the store answers as it would, and replaces nothing.
    static DRY_RUN: Cell<bool> = const { Cell::new(false) };
}

/// Runs `check` (a governor check, which is synchronous and runs on this thread) with the store
/// answering as usual but keeping its state: what `RateLimiter::peek` needs, which governor
/// does not offer. A flag of this thread's, so the other threads' checks count as usual.
pub(crate) fn dry_run<T>(check: impl FnOnce() -> T) -> T {
    /// Clears the flag even when `check` unwinds.
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            DRY_RUN.with(|flag| flag.set(false));
        }
    }
    DRY_RUN.with(|flag| flag.set(true));
    let _reset = Reset;
    check()
}

/// governor's DashMap store, holding at most `max_keys` keys (approximately: concurrent first
/// requests may pass the check together). Known keys are always counted on their own entry;
/// unknown ones, once the store is full, on the shared overflow entry.
pub(crate) struct CappedStore {
    map: DashMapStateStore<u64>,
    max_keys: usize,
}

impl CappedStore {
    pub(crate) fn new(max_keys: usize) -> Self {
        Self {
            map: DashMapStateStore::default(),
            max_keys: max_keys.max(1),
        }
    }
}

impl StateStore for CappedStore {
    type Key = u64;

    fn measure_and_replace<T, F, E>(&self, key: &Self::Key, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        let slot = if self.map.contains_key(key) || self.map.len() < self.max_keys {
            key
        } else {
            &OVERFLOW
        };
        if !DRY_RUN.with(Cell::get) {
            return self.map.measure_and_replace(slot, f);
        }
        if !self.map.contains_key(slot) {
            // A key never counted has its whole allowance; no entry is made for a look.
            return f(None).map(|(decision, _)| decision);
        }
        // The decision travels in the error, so the entry is measured and never replaced.
        let looked: Result<Infallible, Result<T, E>> = self
            .map
            .measure_and_replace(slot, |tat| Err(f(tat).map(|(decision, _)| decision)));
        match looked {
            Ok(never) => match never {},
            Err(decision) => decision,
        }
    }
}

impl ShrinkableKeyedStateStore<u64> for CappedStore {
    fn retain_recent(&self, drop_below: Nanos) {
        self.map.retain_recent(drop_below);
    }

    fn shrink_to_fit(&self) {
        self.map.shrink_to_fit();
    }

    fn len(&self) -> usize {
        self.map.len()
    }

    fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}
