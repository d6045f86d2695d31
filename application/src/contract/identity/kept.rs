//! A backend under test kept together with the peer it reads (a directory server, an HTTP
//! service), which must live as long as it: the contract's cases take the backend whole, and the
//! peer would otherwise be dropped (and stopped) while they ask it.
use async_trait::async_trait;
use verity_domain::{ThreePid, UserId};

use crate::ports::driven::{
    BackendError, Binding, FeedCursor, FeedRows, IdentityBackend, Published,
};

/// `backend`, answering every call of [`IdentityBackend`] as it does, and `peer`, kept alive.
pub struct Kept<B, P> {
    /// The backend under test.
    pub backend: B,
    /// What it reads, for the test to change or break.
    pub peer: P,
}

#[async_trait]
impl<B: IdentityBackend, P: Send + Sync> IdentityBackend for Kept<B, P> {
    fn name(&self) -> &'static str {
        self.backend.name()
    }

    fn records_changes(&self) -> bool {
        self.backend.records_changes()
    }

    async fn lookup(&self, threepid: &ThreePid) -> Result<Option<UserId>, BackendError> {
        self.backend.lookup(threepid).await
    }

    async fn lookup_published(
        &self,
        threepid: &ThreePid,
    ) -> Result<Option<Published>, BackendError> {
        self.backend.lookup_published(threepid).await
    }

    async fn lookup_many(&self, threepids: &[ThreePid]) -> Result<Vec<Binding>, BackendError> {
        self.backend.lookup_many(threepids).await
    }

    async fn feed(
        &self,
        after: Option<ThreePid>,
        limit: u32,
    ) -> Result<Vec<Binding>, BackendError> {
        self.backend.feed(after, limit).await
    }

    async fn feed_len(&self) -> Result<Option<u64>, BackendError> {
        self.backend.feed_len().await
    }

    async fn feed_rows(
        &self,
        after: Option<FeedCursor>,
        limit: u32,
        rows: &mut FeedRows,
    ) -> Result<(), BackendError> {
        self.backend.feed_rows(after, limit, rows).await
    }
}
