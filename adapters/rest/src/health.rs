//! The REST backend's health for `/status`: a dependency the other backends stand in for, so
//! its failure is reported without making the server unhealthy.
use async_trait::async_trait;
use verity_application::ports::driven::{BackendError, HealthCheck, StoreError};

use crate::RestBackend;

#[async_trait]
impl HealthCheck for RestBackend {
    fn name(&self) -> &'static str {
        "rest"
    }

    async fn check(&self) -> Result<(), StoreError> {
        self.health().await.map_err(|error| match error {
            BackendError::Unavailable(source) => StoreError::Unavailable(source),
            BackendError::Corrupt(message) => StoreError::Corrupt(message),
        })
    }

    fn required(&self) -> bool {
        false
    }
}
