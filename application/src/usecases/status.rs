use std::sync::Arc;

use async_trait::async_trait;

use crate::ports::driven::HealthCheck;
use crate::ports::driving::{CheckReport, ServerStatus, Status, VersionInfo};

/// Reports health by running every registered [`HealthCheck`].
pub struct StatusService {
    checks: Vec<Arc<dyn HealthCheck>>,
}

impl StatusService {
    /// A status service over these checks.
    pub fn new(checks: Vec<Arc<dyn HealthCheck>>) -> Self {
        Self { checks }
    }
}

#[async_trait]
impl Status for StatusService {
    async fn status(&self) -> ServerStatus {
        let mut checks = Vec::with_capacity(self.checks.len());
        for check in &self.checks {
            let healthy = match check.check().await {
                Ok(()) => true,
                Err(error) => {
                    // The cause is kept for the operator; the HTTP answer only says "unhealthy".
                    tracing::warn!(check = check.name(), error = %error, "health check failed");
                    false
                }
            };
            checks.push(CheckReport {
                name: check.name(),
                healthy,
            });
        }
        ServerStatus {
            healthy: checks.iter().all(|c| c.healthy),
            checks,
        }
    }

    fn version(&self) -> VersionInfo {
        VersionInfo {
            name: "verity",
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::driven::{MockHealthCheck, StoreError};

    fn check(name: &'static str, healthy: bool) -> Arc<dyn HealthCheck> {
        let mut mock = MockHealthCheck::new();
        mock.expect_name().return_const(name);
        mock.expect_check().times(1).returning(move || {
            if healthy {
                Ok(())
            } else {
                Err(StoreError::Unavailable("down".into()))
            }
        });
        Arc::new(mock)
    }

    #[tokio::test]
    async fn the_server_is_healthy_when_every_check_passes() {
        let status = StatusService::new(vec![check("store", true), check("other", true)])
            .status()
            .await;
        assert!(status.healthy);
        assert_eq!(status.checks.len(), 2);
    }

    #[tokio::test]
    async fn one_failing_check_makes_the_server_unhealthy_and_is_named() {
        let status = StatusService::new(vec![check("store", false), check("other", true)])
            .status()
            .await;
        assert!(!status.healthy);
        assert_eq!(
            status.checks,
            vec![
                CheckReport {
                    name: "store",
                    healthy: false
                },
                CheckReport {
                    name: "other",
                    healthy: true
                }
            ]
        );
    }

    #[test]
    fn the_version_names_verity_and_the_crate_version() {
        let version = StatusService::new(vec![]).version();
        assert_eq!(
            (version.name, version.version),
            ("verity", env!("CARGO_PKG_VERSION"))
        );
    }
}
