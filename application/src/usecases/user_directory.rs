//! The user directory search the homeserver's `POST /_matrix/client/{r0,v3}/user_directory/search`
//! is routed to (mxisd's directory feature): the caller is authenticated by their homeserver
//! (`whoami`, cached briefly), then the homeserver's own directory and every store's, by name
//! and by 3PID, are searched at once and merged. Searches are limited per user
//! (`ratelimit.directory`): each one may search the homeserver and every store.
//!
//! Failures: a token the homeserver cannot check is never taken as valid (the search is
//! refused). Once the caller is known, a source that fails is logged and left out: the others
//! answer. Only when every source failed is the search refused.
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures_util::future::join_all;
use verity_domain::{
    DirectoryResults, HomeserverAccessToken, LimitedRequest, RequesterKey, SearchLimit, SearchTerm,
};

use super::user_directory_cache::CachedWhoami;
use crate::ports::driven::{
    BackendError, DirectorySearch, HomeserverAsUser, HomeserverAsUserError, HomeserverRoute,
    RateLimiter,
};
use crate::ports::driving::{DirectoryCaller, DirectoryError, LimitExceeded, UserDirectory};

/// How long a `whoami` answer is used before the homeserver is asked again.
pub const DEFAULT_WHOAMI_CACHE_LIFETIME: Duration = Duration::from_secs(60);
/// How many `whoami` answers are kept at most.
pub const DEFAULT_WHOAMI_CACHE_CAPACITY: usize = 10_000;

/// What the operator chose (`directory.*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserDirectorySettings {
    /// `directory.exclude.homeserver`: the homeserver's own directory is not asked.
    pub exclude_homeserver: bool,
    /// `directory.exclude.threepid`: the stores are not searched by 3PID.
    pub exclude_threepid: bool,
    /// How long a `whoami` answer is cached (zero: never).
    pub whoami_lifetime: Duration,
    /// How many `whoami` answers are cached at most (zero: none).
    pub whoami_capacity: usize,
}

impl Default for UserDirectorySettings {
    fn default() -> Self {
        Self {
            exclude_homeserver: false,
            exclude_threepid: false,
            whoami_lifetime: DEFAULT_WHOAMI_CACHE_LIFETIME,
            whoami_capacity: DEFAULT_WHOAMI_CACHE_CAPACITY,
        }
    }
}

/// The directory search, over the homeserver and the stores that have a directory.
pub struct UserDirectoryService {
    homeserver: Arc<dyn HomeserverAsUser>,
    /// Who a token is (the cache the invite gate shares).
    whoami: Arc<CachedWhoami>,
    stores: Vec<Arc<dyn DirectorySearch>>,
    /// Searches are counted per user here.
    limiter: Arc<dyn RateLimiter>,
    settings: UserDirectorySettings,
}

/// One source's answer: the source's name for the logs, and what it said.
type Asked = (String, Result<DirectoryResults, String>);

impl UserDirectoryService {
    /// The search over `homeserver` and `stores` (searched in this order, which is the order of
    /// their results in a merge), its callers known through `whoami` (whose cache is built from
    /// `settings`' `whoami_*`), its searches counted in `limiter`.
    pub fn new(
        homeserver: Arc<dyn HomeserverAsUser>,
        whoami: Arc<CachedWhoami>,
        stores: Vec<Arc<dyn DirectorySearch>>,
        limiter: Arc<dyn RateLimiter>,
        settings: UserDirectorySettings,
    ) -> Self {
        Self {
            homeserver,
            whoami,
            stores,
            limiter,
            settings,
        }
    }

    /// The homeserver's own directory, as one source.
    async fn ask_homeserver(
        &self,
        caller: &DirectoryCaller,
        term: &SearchTerm,
        limit: SearchLimit,
    ) -> Asked {
        let answer = self
            .homeserver
            .search_user_directory(&caller.route, &caller.token, term, limit)
            .await;
        let answer = match answer {
            Ok(results) => Ok(results),
            // ma1sd tolerated it: a homeserver without a directory has nothing to add.
            Err(HomeserverAsUserError::Unsupported) => {
                tracing::info!(
                    "the homeserver has no user directory (M_UNRECOGNIZED); answering from the \
                     stores (set directory.exclude.homeserver to stop asking it)"
                );
                Ok(DirectoryResults::default())
            }
            Err(error) => Err(error.to_string()),
        };
        ("homeserver".to_owned(), answer)
    }

    /// One store, by name or by 3PID, as one source.
    async fn ask_store(
        store: &dyn DirectorySearch,
        by_threepid: bool,
        term: &SearchTerm,
        limit: SearchLimit,
    ) -> Asked {
        let answer = if by_threepid {
            store.search_by_threepid(term, limit).await
        } else {
            store.search_by_name(term, limit).await
        };
        let what = if by_threepid { "3PID" } else { "name" };
        let name = format!("{} (by {what})", store.name());
        (name, answer.map_err(|error| describe(&error)))
    }
}

/// A store failure with its cause, for the log (the causes name the keys to check).
fn describe(error: &BackendError) -> String {
    match std::error::Error::source(error) {
        Some(source) => format!("{error}: {source}"),
        None => error.to_string(),
    }
}

#[async_trait]
impl UserDirectory for UserDirectoryService {
    async fn authenticate(
        &self,
        token: HomeserverAccessToken,
        route: HomeserverRoute,
    ) -> Result<DirectoryCaller, DirectoryError> {
        match self.whoami.whoami(&route, &token).await {
            Err(HomeserverAsUserError::TokenRejected) => Err(DirectoryError::UnknownToken),
            Err(error) => {
                tracing::warn!(%error, "the homeserver could not check an access token; the directory search is refused");
                Err(DirectoryError::HomeserverUnavailable)
            }
            Ok(user) if user.is_guest => Err(DirectoryError::GuestAccessForbidden),
            Ok(user) => Ok(DirectoryCaller {
                user_id: user.user_id,
                token,
                route,
            }),
        }
    }

    async fn search(
        &self,
        caller: &DirectoryCaller,
        term: &SearchTerm,
        limit: SearchLimit,
    ) -> Result<DirectoryResults, DirectoryError> {
        if term.is_empty() {
            return Ok(DirectoryResults::default());
        }
        let requester = RequesterKey::Account(caller.user_id.clone());
        for check in LimitedRequest::DirectorySearch.checks(&requester) {
            if let Err(wait) = self.limiter.check(&check.key, check.cost) {
                tracing::info!(user = %caller.user_id, retry_after_ms = wait.as_millis(), "directory search refused: too many searches (ratelimit.directory)");
                return Err(DirectoryError::Limited(LimitExceeded(wait)));
            }
        }
        let homeserver = async {
            if self.settings.exclude_homeserver {
                None
            } else {
                Some(self.ask_homeserver(caller, term, limit).await)
            }
        };
        let by_threepid = [false, true]
            .into_iter()
            .filter(|&threepid| !threepid || !self.settings.exclude_threepid);
        let stores = join_all(by_threepid.flat_map(|threepid| {
            self.stores
                .iter()
                .map(move |store| Self::ask_store(store.as_ref(), threepid, term, limit))
        }));
        let (homeserver, stores) = futures_util::future::join(homeserver, stores).await;
        let asked: Vec<Asked> = homeserver.into_iter().chain(stores).collect();
        let sources = asked.len();
        let mut parts = Vec::with_capacity(sources);
        let mut failed = 0;
        for (source, answer) in asked {
            match answer {
                Ok(results) => parts.push(results),
                Err(error) => {
                    failed += 1;
                    tracing::warn!(%source, %error, "a user directory source failed; answering from the others");
                }
            }
        }
        if failed > 0 && failed == sources {
            return Err(DirectoryError::Unavailable);
        }
        let merged = DirectoryResults::merge(parts, limit, Some(&caller.user_id));
        tracing::debug!(
            sources,
            failed,
            found = merged.entries.len(),
            limited = merged.limited,
            "user directory searched"
        );
        Ok(merged)
    }
}

#[cfg(test)]
#[path = "user_directory_tests.rs"]
mod tests;
