//! Homeservers' signing keys, kept until their `valid_until_ts` so that each signed request
//! (e.g. an unbind) does not fetch `/_matrix/key/v2/server` again.
//!
//! Bounded in time and size: an entry lives until the document's `valid_until_ts` but never
//! longer than [`MAX_LIFETIME`] (the server-server spec caps a key's validity at 7 days; a day
//! keeps a revoked key usable for less), and at most `capacity` servers are remembered, the
//! entry nearest its end making room for a new one. Once `valid_until_ts` has passed the keys
//! are not used again: the spec forbids verifying new requests with expired keys, so they are
//! fetched afresh. A request signed with a key the cached document does not list refetches the
//! document (the server may have rotated its key), but at most once per [`UNKNOWN_KEY_REFETCH`]
//! per server, so made-up key ids cannot make Verity fetch on every request.
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use verity_domain::{KeyId, PublicKey, ServerName, Timestamp};

/// The longest keys are kept, whatever their `valid_until_ts` says.
pub(crate) const MAX_LIFETIME: Duration = Duration::from_secs(24 * 3600);
/// How soon after a fetch a request naming a key the document lacks may fetch again.
pub(crate) const UNKNOWN_KEY_REFETCH: Duration = Duration::from_secs(5 * 60);
/// The most servers remembered.
pub(crate) const CAPACITY: usize = 10_000;

/// A server's current keys.
pub(crate) type Keys = Vec<(KeyId, PublicKey)>;

#[derive(Debug, Clone)]
struct Entry {
    keys: Keys,
    fetched_at: Timestamp,
    expires_at: Timestamp,
}

/// The cache; see the module documentation.
#[derive(Debug)]
pub(crate) struct KeyCache {
    entries: Mutex<HashMap<ServerName, Entry>>,
    capacity: usize,
}

impl KeyCache {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    /// The keys of `server` to check a request signed with `key`, if they need not be fetched:
    /// not expired, and listing `key` or fetched less than [`UNKNOWN_KEY_REFETCH`] ago.
    pub(crate) fn get(&self, server: &ServerName, key: &KeyId, now: Timestamp) -> Option<Keys> {
        let mut entries = self.lock();
        let entry = entries.get(server)?;
        if now >= entry.expires_at {
            entries.remove(server);
            return None;
        }
        let listed = entry.keys.iter().any(|(id, _)| id == key);
        let recent = now < entry.fetched_at.saturating_add(UNKNOWN_KEY_REFETCH);
        (listed || recent).then(|| entry.keys.clone())
    }

    /// Remembers `keys`, fetched at `now` from a document valid until `valid_until`.
    pub(crate) fn insert(
        &self,
        server: &ServerName,
        keys: Keys,
        valid_until: Timestamp,
        now: Timestamp,
    ) {
        let expires_at = valid_until.min(now.saturating_add(MAX_LIFETIME));
        if expires_at <= now {
            return;
        }
        let mut entries = self.lock();
        if entries.len() >= self.capacity && !entries.contains_key(server) {
            entries.retain(|_, entry| entry.expires_at > now);
            if entries.len() >= self.capacity
                && let Some(nearest) = entries
                    .iter()
                    .min_by_key(|(_, entry)| entry.expires_at)
                    .map(|(name, _)| name.clone())
            {
                entries.remove(&nearest);
            }
        }
        entries.insert(
            server.clone(),
            Entry {
                keys,
                fetched_at: now,
                expires_at,
            },
        );
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ServerName, Entry>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: u64 = 1_700_000_000_000;
    const HOUR: u64 = 3_600_000;

    fn at(millis: u64) -> Timestamp {
        Timestamp::from_millis(millis)
    }

    fn server(name: &str) -> ServerName {
        ServerName::parse(name).unwrap()
    }

    fn id(raw: &str) -> KeyId {
        KeyId::parse(raw).unwrap()
    }

    fn keys() -> Keys {
        vec![(id("ed25519:a"), PublicKey::parse(&"A".repeat(43)).unwrap())]
    }

    #[test]
    fn keys_are_served_until_their_valid_until_ts_and_not_at_it() {
        let cache = KeyCache::new(10);
        let hs = server("example.org");
        cache.insert(&hs, keys(), at(T0 + HOUR), at(T0));
        assert_eq!(
            cache.get(&hs, &id("ed25519:a"), at(T0 + HOUR - 1)),
            Some(keys())
        );
        assert_eq!(cache.get(&hs, &id("ed25519:a"), at(T0 + HOUR)), None);
    }

    #[test]
    fn a_far_valid_until_ts_is_cut_to_a_day() {
        let cache = KeyCache::new(10);
        let hs = server("example.org");
        cache.insert(&hs, keys(), at(T0 + 365 * 24 * HOUR), at(T0));
        assert!(
            cache
                .get(&hs, &id("ed25519:a"), at(T0 + 24 * HOUR - 1))
                .is_some()
        );
        assert_eq!(cache.get(&hs, &id("ed25519:a"), at(T0 + 24 * HOUR)), None);
    }

    #[test]
    fn an_unlisted_key_refetches_only_once_the_last_fetch_is_five_minutes_old() {
        let cache = KeyCache::new(10);
        let hs = server("example.org");
        cache.insert(&hs, keys(), at(T0 + HOUR), at(T0));
        let rotated = id("ed25519:b");
        assert!(cache.get(&hs, &rotated, at(T0 + 5 * 60_000 - 1)).is_some());
        assert_eq!(cache.get(&hs, &rotated, at(T0 + 5 * 60_000)), None);
        assert!(
            cache
                .get(&hs, &id("ed25519:a"), at(T0 + 5 * 60_000))
                .is_some()
        );
    }

    #[test]
    fn a_full_cache_drops_the_entry_nearest_its_end_for_a_new_server() {
        let cache = KeyCache::new(2);
        cache.insert(&server("soon.example"), keys(), at(T0 + HOUR), at(T0));
        cache.insert(&server("late.example"), keys(), at(T0 + 2 * HOUR), at(T0));
        cache.insert(&server("new.example"), keys(), at(T0 + 3 * HOUR), at(T0));
        let a = id("ed25519:a");
        assert_eq!(cache.get(&server("soon.example"), &a, at(T0)), None);
        assert!(cache.get(&server("late.example"), &a, at(T0)).is_some());
        assert!(cache.get(&server("new.example"), &a, at(T0)).is_some());
        assert_eq!(cache.lock().len(), 2);
    }

    #[test]
    fn an_already_expired_document_is_not_kept() {
        let cache = KeyCache::new(10);
        let hs = server("example.org");
        cache.insert(&hs, keys(), at(T0), at(T0));
        assert_eq!(cache.get(&hs, &id("ed25519:a"), at(T0)), None);
    }
}
