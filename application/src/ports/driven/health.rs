use async_trait::async_trait;

use super::StoreError;

/// Whether a dependency answers: one Verity cannot work without (its store), or one it can
/// work without for a while ([`required`](Self::required) is then false).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait HealthCheck: Send + Sync {
    /// A short name for reports (`"store"`).
    fn name(&self) -> &'static str;

    /// Performs a cheap round trip.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the dependency does not answer.
    async fn check(&self) -> Result<(), StoreError>;

    /// Whether the server is unhealthy while this check fails: yes for the store; no for a
    /// dependency the others stand in for (an identity backend such as a directory), which
    /// `/status` still reports on its own.
    fn required(&self) -> bool {
        true
    }
}
