//! A governor state store with a cap on its number of keys, and the refund of what a check
//! counted (which governor does not offer).
use std::sync::Arc;

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

/// governor's DashMap store, holding at most `max_keys` keys (approximately: concurrent first
/// requests may pass the check together). Known keys are always counted on their own entry;
/// unknown ones, once the store is full, on the shared overflow entry. Clones share the
/// entries: the limiter holds one, the refunds use another.
#[derive(Clone)]
pub(crate) struct CappedStore {
    map: Arc<DashMapStateStore<u64>>,
    max_keys: usize,
}

impl CappedStore {
    pub(crate) fn new(max_keys: usize) -> Self {
        Self {
            map: Arc::new(DashMapStateStore::default()),
            max_keys: max_keys.max(1),
        }
    }

    fn slot<'k>(&self, key: &'k u64) -> &'k u64 {
        if self.map.contains_key(key) || self.map.len() < self.max_keys {
            key
        } else {
            &OVERFLOW
        }
    }

    /// Moves `key`'s theoretical arrival time back by `weight` (what a check of that weight
    /// moved it forward by), in one step with the concurrent checks. A key without an entry
    /// holds nothing to give back, and gets no entry.
    pub(crate) fn refund(&self, key: &u64, weight: Nanos) {
        let slot = self.slot(key);
        if !self.map.contains_key(slot) {
            return;
        }
        // An entry holding nothing is left as it is (the closure's error replaces nothing).
        let _unchanged: Result<(), ()> = self.map.measure_and_replace(slot, |tat| {
            tat.map(|tat| ((), tat.saturating_sub(weight))).ok_or(())
        });
    }
}

impl StateStore for CappedStore {
    type Key = u64;

    fn measure_and_replace<T, F, E>(&self, key: &Self::Key, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        self.map.measure_and_replace(self.slot(key), f)
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
