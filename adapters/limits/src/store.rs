//! A governor state store with a cap on its number of keys.
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
        if self.map.contains_key(key) || self.map.len() < self.max_keys {
            self.map.measure_and_replace(key, f)
        } else {
            self.map.measure_and_replace(&OVERFLOW, f)
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
