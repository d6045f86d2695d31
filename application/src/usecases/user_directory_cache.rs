//! A short-lived, bounded cache of the homeserver's `whoami` answers, by token fingerprint, so
//! that a user typing a search (one request a keystroke) or inviting a room's worth of people
//! does not cost a `whoami` a request. One cache serves the directory search and the invite
//! gate.
//!
//! Both answers are cached: the user a token belongs to, and that the homeserver rejected it (a
//! client retrying with a dead token then costs the homeserver nothing more). A failure to ask
//! is never cached. Only fingerprints are kept, never tokens. A logout on the homeserver is seen
//! here when the entry runs out: that window, the lifetime, is the price of the cache and why it
//! is short. Every entry has the same lifetime, so the order entries were cached in is the
//! order they run out in, and the oldest is evicted first when the cache is full.
use std::sync::Arc;
use std::time::Duration;

use verity_domain::{HomeserverAccessToken, ServerName, TokenFingerprint};

use crate::ports::driven::{
    Clock, HomeserverAsUser, HomeserverAsUserError, HomeserverRoute, HomeserverUser,
};
use crate::usecases::timed_cache::TimedCache;

/// What the homeserver said about a token.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Answer {
    /// It belongs to this user.
    User(HomeserverUser),
    /// It is not valid.
    Rejected,
}

/// A token as the homeserver it was sent to knows it: the same token means nothing to another.
type Key = (Option<ServerName>, TokenFingerprint);

/// The homeserver's `whoami`, with its answers kept briefly.
pub struct CachedWhoami {
    homeserver: Arc<dyn HomeserverAsUser>,
    clock: Arc<dyn Clock>,
    /// The answers, at most a capacity of them, each kept a lifetime; either zero turns it off.
    cache: TimedCache<Key, Answer>,
}

impl CachedWhoami {
    /// Asks `homeserver`, keeping at most `capacity` answers `lifetime` each on `clock`.
    pub fn new(
        homeserver: Arc<dyn HomeserverAsUser>,
        clock: Arc<dyn Clock>,
        lifetime: Duration,
        capacity: usize,
    ) -> Self {
        Self {
            homeserver,
            clock,
            cache: TimedCache::new(lifetime, capacity),
        }
    }

    /// Who `token` belongs to on the homeserver of `route`, from the cache when it answered
    /// lately.
    ///
    /// # Errors
    /// [`HomeserverAsUserError::TokenRejected`] (cached like a user), or the failure to ask
    /// (never cached).
    pub(crate) async fn whoami(
        &self,
        route: &HomeserverRoute,
        token: &HomeserverAccessToken,
    ) -> Result<HomeserverUser, HomeserverAsUserError> {
        let key = (route.host.clone(), token.fingerprint());
        let answer = match self.cache.get(&key, self.clock.now()) {
            Some(answer) => answer,
            None => {
                let answer = match self.homeserver.whoami(route, token).await {
                    Ok(user) => Answer::User(user),
                    Err(HomeserverAsUserError::TokenRejected) => Answer::Rejected,
                    Err(error) => return Err(error),
                };
                self.cache.put(key, answer.clone(), self.clock.now());
                answer
            }
        };
        match answer {
            Answer::User(user) => Ok(user),
            Answer::Rejected => Err(HomeserverAsUserError::TokenRejected),
        }
    }

    /// How many answers are held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.cache.len()
    }
}
