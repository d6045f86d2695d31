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
use std::time::Duration;

use verity_domain::{Account, Timestamp, TokenFingerprint};

use crate::usecases::timed_cache::TimedCache;

/// A cached account and whether its user was seen to have accepted every current terms policy.
/// Acceptances are only ever added and the policies change only with a restart, so once true it
/// stays true: later requests skip the terms read. A "not yet" is never cached (the user may
/// accept on any instance at any moment).
type Cached = (Account, bool);

pub(super) struct AccountCache(TimedCache<TokenFingerprint, Cached>);

impl AccountCache {
    /// A cache of at most `capacity` accounts, each kept `lifetime`; either zero turns it off.
    pub(super) fn new(lifetime: Duration, capacity: usize) -> Self {
        Self(TimedCache::new(lifetime, capacity))
    }

    /// The cached account of `token`, and whether its user was seen to have signed the terms;
    /// `None` once it ran out at `now`.
    pub(super) fn get(&self, token: &TokenFingerprint, now: Timestamp) -> Option<Cached> {
        self.0.get(token, now)
    }

    /// Caches `account` (as the store returned it) from `now` for the lifetime, evicting what ran
    /// out and, when full, the oldest entries.
    pub(super) fn put(&self, account: Account, now: Timestamp) {
        self.0.put(account.token.clone(), (account, false), now);
    }

    /// Remembers, until the entry runs out, that the user of `token` signed every terms policy.
    pub(super) fn mark_terms_signed(&self, token: &TokenFingerprint) {
        self.0.update(token, |(_, signed)| *signed = true);
    }

    /// Forgets `token` (a logout, or an account found expired).
    pub(super) fn remove(&self, token: &TokenFingerprint) {
        self.0.remove(token);
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.0.len()
    }

    #[cfg(test)]
    pub(super) fn queued(&self) -> usize {
        self.0.queued()
    }
}

#[cfg(test)]
#[path = "accounts_cache_tests.rs"]
mod tests;
