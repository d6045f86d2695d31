//! A short-lived, bounded cache of the homeserver's `whoami` answers, by token fingerprint, so
//! that a user typing a search (one request a keystroke) does not cost a `whoami` a keystroke.
//!
//! Both answers are cached: the user a token belongs to, and that the homeserver rejected it (a
//! client retrying with a dead token then costs the homeserver nothing more). A failure to ask
//! is never cached. Only fingerprints are kept, never tokens. A logout on the homeserver is seen
//! here when the entry runs out: that window, the lifetime, is the price of the cache and why it
//! is short. Every entry has the same lifetime, so the order entries were cached in is the
//! order they run out in, and the oldest is evicted first when the cache is full.
use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use verity_domain::{ServerName, Timestamp, TokenFingerprint};

use crate::ports::driven::HomeserverUser;

/// What the homeserver said about a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Answer {
    /// It belongs to this user.
    User(HomeserverUser),
    /// It is not valid.
    Rejected,
}

/// A token as the homeserver it was sent to knows it: the same token means nothing to another.
pub(super) type Key = (Option<ServerName>, TokenFingerprint);

struct Entry {
    answer: Answer,
    until: Timestamp,
    /// Which push onto `Inner::order` this entry is (older pushes of the same key are stale).
    stamp: u64,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<Key, Entry>,
    order: VecDeque<(Key, u64)>,
    next_stamp: u64,
}

pub(super) struct WhoamiCache {
    lifetime: Duration,
    capacity: usize,
    inner: Mutex<Inner>,
}

impl WhoamiCache {
    /// At most `capacity` answers, each kept `lifetime`; either zero turns the cache off.
    pub(super) fn new(lifetime: Duration, capacity: usize) -> Self {
        Self {
            lifetime,
            capacity,
            inner: Mutex::new(Inner::default()),
        }
    }

    fn enabled(&self) -> bool {
        !self.lifetime.is_zero() && self.capacity > 0
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while held leaves at worst an entry with its own deadline: still usable.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The answer cached for `key`, unless it ran out at `now`.
    pub(super) fn get(&self, key: &Key, now: Timestamp) -> Option<Answer> {
        if !self.enabled() {
            return None;
        }
        let mut inner = self.lock();
        match inner.entries.get(key) {
            Some(entry) if now < entry.until => Some(entry.answer.clone()),
            Some(_) => {
                inner.entries.remove(key);
                None
            }
            None => None,
        }
    }

    /// Caches `answer` for `key` from `now`, evicting what ran out and, when full, the oldest.
    pub(super) fn put(&self, key: Key, answer: Answer, now: Timestamp) {
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
                answer,
                until,
                stamp,
            },
        );
        inner.evict(self.capacity, now);
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.lock().entries.len()
    }
}

impl Inner {
    /// Pops the front of `order` while it is stale, ran out, or the cache is over `capacity`.
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
                // Stale: cached again since (a later push stands for it) or removed.
                _ => {}
            }
            self.order.pop_front();
        }
        // Concurrent misses of one token push it twice; past twice the capacity the queue keeps
        // only the live pushes (O(n) once per `capacity` puts at most).
        if self.order.len() > capacity.saturating_mul(2) {
            let entries = &self.entries;
            self.order
                .retain(|(key, stamp)| entries.get(key).is_some_and(|e| e.stamp == *stamp));
        }
    }
}
