//! Each dependency's health and the time its check took.
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use verity_application::ports::driven::{HealthCheck, StoreError};

use crate::{BackendLabels, Metrics};

/// A [`HealthCheck`] whose outcome is `verity_backend_up{backend}` and whose time is
/// `verity_backend_check_duration_seconds{backend}`.
pub struct MeteredHealthCheck {
    inner: Arc<dyn HealthCheck>,
    metrics: Arc<Metrics>,
}

impl MeteredHealthCheck {
    /// `inner`, measured under its own name.
    pub fn new(inner: Arc<dyn HealthCheck>, metrics: Arc<Metrics>) -> Self {
        Self { inner, metrics }
    }
}

#[async_trait]
impl HealthCheck for MeteredHealthCheck {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    async fn check(&self) -> Result<(), StoreError> {
        let started = Instant::now();
        let result = self.inner.check().await;
        let labels = BackendLabels {
            backend: self.inner.name(),
        };
        self.metrics
            .backend_check_seconds
            .get_or_create(&labels)
            .observe(started.elapsed().as_secs_f64());
        self.metrics
            .backend_up
            .get_or_create(&labels)
            .set(i64::from(result.is_ok()));
        result
    }

    fn required(&self) -> bool {
        self.inner.required()
    }
}
