//! A directory (`ldap`, `netiq`) among the identity backends: a directory that is down or slow
//! must not stop Verity from starting, binding or answering from its other backends.
//!
//! - [`Tolerant`] stands between the directory and the use cases: a lookup the directory fails is
//!   logged (once a failure streak) and answered as "not known here", so the other backends
//!   answer, and binds and unbinds (which ask every backend again for the hash table) go
//!   through. Its hash feed is read as is once it has been read whole: a later failure fails the
//!   rebuild, and the table built before keeps answering. Until then a directory that cannot be
//!   reached feeds nothing, so the first table is built from the other backends at start-up.
//! - Its health check (the adapter's, not required) names it in `/status` without making the
//!   server unhealthy.
//! - [`refresh`] builds the hash table again every `identity.refresh`, so that an address added to
//!   or removed from the directory shows in hashed lookups within it.
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use verity_application::ports::driven::{
    BackendError, Binding, FeedCursor, FeedRows, IdentityBackend, Published,
};
use verity_application::usecases::{HashIndex, Rebuild};
use verity_domain::{ThreePid, UserId};

/// A directory whose failures are answered as "not known here" (module docs).
pub(super) struct Tolerant {
    /// The section's name (`ldap`, `netiq`), for logs and errors.
    name: &'static str,
    inner: Arc<dyn IdentityBackend>,
    /// Whether the directory's feed has been read to its end once.
    fed: AtomicBool,
    /// Whether the last call failed (a failure streak is logged once).
    failing: AtomicBool,
}

impl Tolerant {
    pub(super) fn new(name: &'static str, inner: Arc<dyn IdentityBackend>) -> Self {
        Self {
            name,
            inner,
            fed: AtomicBool::new(false),
            failing: AtomicBool::new(false),
        }
    }

    /// `answer`, or `fallback` (logged) when the directory failed.
    fn tolerate<T>(&self, answer: Result<T, BackendError>, fallback: T) -> T {
        match answer {
            Ok(answer) => {
                if self.failing.swap(false, Ordering::AcqRel) {
                    tracing::info!(backend = self.name, "the directory answers again");
                }
                answer
            }
            Err(error) => {
                if !self.failing.swap(true, Ordering::AcqRel) {
                    tracing::warn!(
                        backend = self.name,
                        error = %error,
                        source = ?std::error::Error::source(&error),
                        "the directory cannot be asked; lookups are answered by the other backends until it answers again"
                    );
                }
                fallback
            }
        }
    }
}

#[async_trait]
impl IdentityBackend for Tolerant {
    fn name(&self) -> &'static str {
        self.name
    }

    async fn lookup(&self, threepid: &ThreePid) -> Result<Option<UserId>, BackendError> {
        Ok(self.tolerate(self.inner.lookup(threepid).await, None))
    }

    async fn lookup_published(
        &self,
        threepid: &ThreePid,
    ) -> Result<Option<Published>, BackendError> {
        Ok(self.tolerate(self.inner.lookup_published(threepid).await, None))
    }

    async fn lookup_many(&self, threepids: &[ThreePid]) -> Result<Vec<Binding>, BackendError> {
        Ok(self.tolerate(self.inner.lookup_many(threepids).await, Vec::new()))
    }

    async fn feed(
        &self,
        after: Option<ThreePid>,
        limit: u32,
    ) -> Result<Vec<Binding>, BackendError> {
        self.inner.feed(after, limit).await
    }

    async fn feed_len(&self) -> Result<Option<u64>, BackendError> {
        // Only a size hint.
        Ok(self.inner.feed_len().await.unwrap_or(None))
    }

    async fn feed_rows(
        &self,
        after: Option<FeedCursor>,
        limit: u32,
        rows: &mut FeedRows,
    ) -> Result<(), BackendError> {
        let first_page = after.is_none();
        match self.inner.feed_rows(after, limit, rows).await {
            Ok(()) => {
                if rows.is_empty() {
                    self.fed.store(true, Ordering::Release);
                }
                Ok(())
            }
            Err(error) if first_page && !self.fed.load(Ordering::Acquire) => {
                rows.clear();
                self.tolerate(Err::<(), _>(error), ());
                tracing::warn!(
                    backend = self.name,
                    "the hash table is built without the directory's addresses; they are added at the next refresh it answers"
                );
                Ok(())
            }
            Err(error) => Err(error),
        }
    }
}

/// Builds the hash table again every `every` (a rebuild already running is left to finish), so
/// that the directories' changes show in hashed lookups; the current table answers meanwhile.
pub(super) fn refresh(index: Arc<HashIndex>, every: Duration) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let started = std::time::Instant::now();
            match index.rebuild(Rebuild::SamePepper).await {
                Ok(true) => tracing::debug!(
                    elapsed_ms = started.elapsed().as_millis(),
                    "lookup hash table refreshed from the directories"
                ),
                Ok(false) => {}
                Err(error) => tracing::warn!(
                    error = %error,
                    source = ?std::error::Error::source(&error),
                    "refreshing the lookup hash table from the directories failed; the current table keeps answering"
                ),
            }
        }
    });
}

#[cfg(test)]
#[path = "lookups_directory_tests.rs"]
mod tests;
