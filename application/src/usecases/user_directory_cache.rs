//! A short-lived, bounded cache of the homeserver's `whoami` answers, by token fingerprint, so
//! that a user typing a search (one request a keystroke) does not cost a `whoami` a keystroke.
//!
//! Both answers are cached: the user a token belongs to, and that the homeserver rejected it (a
//! client retrying with a dead token then costs the homeserver nothing more). A failure to ask
//! is never cached. Only fingerprints are kept, never tokens. A logout on the homeserver is seen
//! here when the entry runs out: that window, the lifetime, is the price of the cache and why it
//! is short. Every entry has the same lifetime, so the order entries were cached in is the
//! order they run out in, and the oldest is evicted first when the cache is full.
use verity_domain::{ServerName, TokenFingerprint};

use crate::ports::driven::HomeserverUser;
use crate::usecases::timed_cache::TimedCache;

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

/// The answers, at most a capacity of them, each kept a lifetime; either zero turns it off.
pub(super) type WhoamiCache = TimedCache<Key, Answer>;
