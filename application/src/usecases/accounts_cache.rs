//! A short-lived, bounded cache of accounts by token fingerprint, so that authenticating a v2
//! request does not read the account store every time (issue 14).
//!
//! Only accounts the store returned are cached, never a miss: an unknown token costs a store
//! read each time, so nobody can fill the cache without valid tokens, and a token registered on
//! another instance works here at once. Every entry lives `lifetime` from when it was read; the
//! caller still checks the account's own expiry on every hit, so a token past its
//! `accountConfig.tokenLifetime` is never accepted from here. A logout on another instance is
//! only seen when the entry here runs out: that window is the price of the cache, and why the
//! lifetime is short.
use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use verity_domain::{Account, Timestamp, TokenFingerprint};

/// One cached account.
struct Entry {
    account: Account,
    /// The entry is not served at or after this instant.
    until: Timestamp,
    /// Which push onto `Inner::order` belongs to this entry (older pushes of the same
    /// fingerprint are stale).
    stamp: u64,
    /// Whether its user was seen to have accepted every current terms policy. Acceptances are
    /// only ever added and the policies change only with a restart, so once true it stays true:
    /// later requests skip the terms read. A "not yet" is never cached (the user may accept on
    /// any instance at any moment).
    terms_signed: bool,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<TokenFingerprint, Entry>,
    /// Fingerprints in the order they were cached. Every entry has the same lifetime, so this is
    /// also the order they run out in: the front is always the first to evict.
    order: VecDeque<(TokenFingerprint, u64)>,
    next_stamp: u64,
}

pub(super) struct AccountCache {
    lifetime: Duration,
    capacity: usize,
    inner: Mutex<Inner>,
}

impl AccountCache {
    /// A cache of at most `capacity` accounts, each kept `lifetime`; either zero turns it off.
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
        // A panic while the lock was held can at worst leave an entry that is evicted or
        // overwritten later; every entry is still a real account with its own deadline, so the
        // cache stays usable rather than failing every request after.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The account cached for `token`, unless it ran out at `now`.
    /// The cached account of `token`, and whether its user was seen to have signed the terms.
    pub(super) fn get(&self, token: &TokenFingerprint, now: Timestamp) -> Option<(Account, bool)> {
        if !self.enabled() {
            return None;
        }
        let mut inner = self.lock();
        match inner.entries.get(token) {
            Some(entry) if now < entry.until => Some((entry.account.clone(), entry.terms_signed)),
            Some(_) => {
                inner.entries.remove(token);
                None
            }
            None => None,
        }
    }

    /// Caches `account` (as the store returned it) from `now` for the lifetime, evicting what ran
    /// out and, when full, the oldest entries.
    pub(super) fn put(&self, account: Account, now: Timestamp) {
        if !self.enabled() {
            return;
        }
        let until = now.saturating_add(self.lifetime);
        let mut inner = self.lock();
        let stamp = inner.next_stamp;
        inner.next_stamp = stamp.wrapping_add(1);
        let token = account.token.clone();
        inner.order.push_back((token.clone(), stamp));
        inner.entries.insert(
            token,
            Entry {
                account,
                until,
                stamp,
                terms_signed: false,
            },
        );
        inner.evict(self.capacity, now);
    }

    /// Forgets `token` (a logout, or an account found expired).
    /// Remembers, until the entry runs out, that the user of `token` signed every terms policy.
    pub(super) fn mark_terms_signed(&self, token: &TokenFingerprint) {
        if !self.enabled() {
            return;
        }
        if let Some(entry) = self.lock().entries.get_mut(token) {
            entry.terms_signed = true;
        }
    }

    pub(super) fn remove(&self, token: &TokenFingerprint) {
        if !self.enabled() {
            return;
        }
        self.lock().entries.remove(token);
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

impl Inner {
    /// Pops the front of `order` while it is stale (removed or cached again since), ran out, or
    /// the cache holds more than `capacity`; amortised O(1) per `put`.
    fn evict(&mut self, capacity: usize, now: Timestamp) {
        while let Some((token, stamp)) = self.order.front() {
            match self.entries.get(token) {
                Some(entry) if entry.stamp == *stamp => {
                    if entry.until <= now || self.entries.len() > capacity {
                        self.entries.remove(token);
                    } else {
                        break;
                    }
                }
                // Stale: the entry was removed or cached again (a later push stands for it).
                _ => {}
            }
            self.order.pop_front();
        }
        // Entries removed by logout leave their push behind the live front until it runs out;
        // many logouts within one lifetime could pile them up, so past twice the capacity the
        // queue keeps only the live pushes (O(n) once per `capacity` puts at most).
        if self.order.len() > capacity.saturating_mul(2) {
            let entries = &self.entries;
            self.order.retain(|(token, stamp)| {
                entries
                    .get(token)
                    .is_some_and(|entry| entry.stamp == *stamp)
            });
        }
    }
}

#[cfg(test)]
#[path = "accounts_cache_tests.rs"]
mod tests;
