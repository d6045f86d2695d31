use async_trait::async_trait;

use super::StoreError;

/// Whether a dependency Verity cannot work without (its store) answers.
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
}
