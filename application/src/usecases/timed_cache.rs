//! A short-lived, bounded map shared by the caches of the use cases (accounts by token
//! fingerprint, the homeserver's `whoami` answers): every entry lives the same `lifetime` from
//! when it was put, so the order entries were put in is the order they run out in, and the
//! oldest is evicted first when the map is full. Either a zero lifetime or a zero capacity turns
//! it off.
use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use verity_domain::Timestamp;

struct Entry<V> {
    value: V,
    /// The entry is not served at or after this instant.
    until: Timestamp,
    /// Which push onto `Inner::order` belongs to this entry (older pushes of the same key are
    /// stale).
    stamp: u64,
}

struct Inner<K, V> {
    entries: HashMap<K, Entry<V>>,
    /// Keys in the order they were put: also the order they run out in.
    order: VecDeque<(K, u64)>,
    next_stamp: u64,
}

pub(super) struct TimedCache<K, V> {
    lifetime: Duration,
    capacity: usize,
    inner: Mutex<Inner<K, V>>,
}

impl<K: Hash + Eq + Clone, V: Clone> TimedCache<K, V> {
    /// At most `capacity` entries, each kept `lifetime`.
    pub(super) fn new(lifetime: Duration, capacity: usize) -> Self {
        Self {
            lifetime,
            capacity,
            inner: Mutex::new(Inner {
                entries: HashMap::new(),
                order: VecDeque::new(),
                next_stamp: 0,
            }),
        }
    }

    fn enabled(&self) -> bool {
        !self.lifetime.is_zero() && self.capacity > 0
    }

    fn lock(&self) -> MutexGuard<'_, Inner<K, V>> {
        // A panic while the lock was held leaves at worst an entry with its own deadline, which
        // is evicted or overwritten later: the cache stays usable rather than failing every
        // request after.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The value of `key`, unless it ran out at `now`.
    pub(super) fn get(&self, key: &K, now: Timestamp) -> Option<V> {
        if !self.enabled() {
            return None;
        }
        let mut inner = self.lock();
        match inner.entries.get(key) {
            Some(entry) if now < entry.until => Some(entry.value.clone()),
            Some(_) => {
                inner.entries.remove(key);
                None
            }
            None => None,
        }
    }

    /// Keeps `value` for `key` from `now`, evicting what ran out and, when full, the oldest.
    pub(super) fn put(&self, key: K, value: V, now: Timestamp) {
        if !self.enabled() {
            return;
        }
        let until = now.saturating_add(self.lifetime);
        let mut inner = self.lock();
        let stamp = inner.next_stamp;
        inner.next_stamp = stamp.wrapping_add(1);
        inner.order.push_back((key.clone(), stamp));
        inner.entries.insert(
            key,
            Entry {
                value,
                until,
                stamp,
            },
        );
        inner.evict(self.capacity, now);
    }

    /// Changes the value of `key` in place, if it is there (its deadline stays).
    pub(super) fn update(&self, key: &K, change: impl FnOnce(&mut V)) {
        if !self.enabled() {
            return;
        }
        if let Some(entry) = self.lock().entries.get_mut(key) {
            change(&mut entry.value);
        }
    }

    /// Forgets `key`.
    pub(super) fn remove(&self, key: &K) {
        if !self.enabled() {
            return;
        }
        self.lock().entries.remove(key);
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.lock().entries.len()
    }

    #[cfg(test)]
    pub(super) fn queued(&self) -> usize {
        self.lock().order.len()
    }
}

impl<K: Hash + Eq, V> Inner<K, V> {
    /// Pops the front of `order` while it is stale (removed or put again since), ran out, or the
    /// cache holds more than `capacity`; amortised O(1) per `put`.
    fn evict(&mut self, capacity: usize, now: Timestamp) {
        while let Some((key, stamp)) = self.order.front() {
            match self.entries.get(key) {
                Some(entry) if entry.stamp == *stamp => {
                    if entry.until <= now || self.entries.len() > capacity {
                        self.entries.remove(key);
                    } else {
                        break;
                    }
                }
                // Stale: the entry was removed or put again (a later push stands for it).
                _ => {}
            }
            self.order.pop_front();
        }
        // Removals (logouts) and concurrent puts of one key leave pushes behind the live front;
        // past twice the capacity the queue keeps only the live pushes (O(n) once per
        // `capacity` puts at most).
        if self.order.len() > capacity.saturating_mul(2) {
            let entries = &self.entries;
            self.order
                .retain(|(key, stamp)| entries.get(key).is_some_and(|e| e.stamp == *stamp));
        }
    }
}
