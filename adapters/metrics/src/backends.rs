//! Each identity backend's latency and errors.
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use verity_application::ports::driven::{
    BackendError, Binding, FeedCursor, FeedRows, IdentityBackend, Published,
};
use verity_domain::{ThreePid, UserId};

use crate::{Metrics, OperationLabels};

/// An [`IdentityBackend`] whose calls are timed as
/// `verity_backend_request_duration_seconds{backend, operation}` and whose failures are counted
/// as `verity_backend_errors{backend, operation}`. Every method is passed on, the defaults
/// included, so that the backend's own overrides still answer.
pub struct MeteredBackend {
    inner: Arc<dyn IdentityBackend>,
    metrics: Arc<Metrics>,
}

impl MeteredBackend {
    /// `inner`, measured under its own name.
    pub fn new(inner: Arc<dyn IdentityBackend>, metrics: Arc<Metrics>) -> Self {
        Self { inner, metrics }
    }

    async fn timed<T>(
        &self,
        operation: &'static str,
        call: impl Future<Output = Result<T, BackendError>>,
    ) -> Result<T, BackendError> {
        let started = Instant::now();
        let result = call.await;
        let labels = OperationLabels {
            backend: self.inner.name(),
            operation,
        };
        self.metrics
            .backend_seconds
            .get_or_create(&labels)
            .observe(started.elapsed().as_secs_f64());
        if result.is_err() {
            self.metrics.backend_errors.get_or_create(&labels).inc();
        }
        result
    }
}

#[async_trait]
impl IdentityBackend for MeteredBackend {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn records_changes(&self) -> bool {
        self.inner.records_changes()
    }

    async fn lookup(&self, threepid: &ThreePid) -> Result<Option<UserId>, BackendError> {
        self.timed("lookup", self.inner.lookup(threepid)).await
    }

    async fn lookup_published(
        &self,
        threepid: &ThreePid,
    ) -> Result<Option<Published>, BackendError> {
        self.timed("lookup", self.inner.lookup_published(threepid))
            .await
    }

    async fn lookup_many(&self, threepids: &[ThreePid]) -> Result<Vec<Binding>, BackendError> {
        self.timed("lookup_many", self.inner.lookup_many(threepids))
            .await
    }

    async fn feed(
        &self,
        after: Option<ThreePid>,
        limit: u32,
    ) -> Result<Vec<Binding>, BackendError> {
        self.timed("feed", self.inner.feed(after, limit)).await
    }

    async fn feed_len(&self) -> Result<Option<u64>, BackendError> {
        self.inner.feed_len().await
    }

    async fn feed_rows(
        &self,
        after: Option<FeedCursor>,
        limit: u32,
        rows: &mut FeedRows,
    ) -> Result<(), BackendError> {
        self.timed("feed", self.inner.feed_rows(after, limit, rows))
            .await
    }
}
