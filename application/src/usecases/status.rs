use std::sync::Arc;

use async_trait::async_trait;

use verity_domain::JsonObject;

use crate::ports::driven::{HealthCheck, Signer};
use crate::ports::driving::{CheckReport, Readiness, ServerStatus, Status, VersionInfo};

/// Reports health by running every registered [`HealthCheck`]; readiness also signs with the
/// current key.
pub struct StatusService {
    checks: Vec<Arc<dyn HealthCheck>>,
    signer: Option<Arc<dyn Signer>>,
}

impl StatusService {
    /// A status service over these checks.
    pub fn new(checks: Vec<Arc<dyn HealthCheck>>) -> Self {
        Self {
            checks,
            signer: None,
        }
    }

    /// Readiness also asks `signer` to sign a probe: the signing key is loaded and signs.
    #[must_use]
    pub fn with_signer(mut self, signer: Arc<dyn Signer>) -> Self {
        self.signer = Some(signer);
        self
    }
}

#[async_trait]
impl Status for StatusService {
    async fn status(&self) -> ServerStatus {
        let mut checks = Vec::with_capacity(self.checks.len());
        let mut all_required = true;
        for check in &self.checks {
            let healthy = match check.check().await {
                Ok(()) => true,
                Err(error) => {
                    // The cause is kept for the operator; the HTTP answer only says "unhealthy".
                    tracing::warn!(check = check.name(), error = %error, "health check failed");
                    false
                }
            };
            // A check that is not required is reported, and leaves the server healthy.
            all_required &= healthy || !check.required();
            checks.push(CheckReport {
                name: check.name(),
                healthy,
            });
        }
        ServerStatus {
            healthy: all_required,
            checks,
        }
    }

    async fn ready(&self) -> Readiness {
        let mut failing = Vec::new();
        for check in self.checks.iter().filter(|check| check.required()) {
            if let Err(error) = check.check().await {
                tracing::warn!(check = check.name(), error = %error, "not ready: a required health check failed");
                failing.push(check.name());
            }
        }
        if let Some(signer) = &self.signer
            && let Err(error) = signer.sign(&JsonObject::from_map(serde_json::Map::new()))
        {
            tracing::warn!(error = %error, "not ready: the signing key does not sign");
            failing.push("signing key");
        }
        Readiness {
            ready: failing.is_empty(),
            failing,
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
    use verity_domain::{SignedJson, SigningError, SigningKey, Timestamp};

    use crate::ports::driven::{MockHealthCheck, MockSigner, StoreError};

    fn check(name: &'static str, healthy: bool) -> Arc<dyn HealthCheck> {
        optional_or_not(name, healthy, true)
    }

    fn optional_or_not(name: &'static str, healthy: bool, required: bool) -> Arc<dyn HealthCheck> {
        let mut mock = MockHealthCheck::new();
        mock.expect_name().return_const(name);
        mock.expect_required().return_const(required);
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
    async fn ready_runs_only_the_required_checks_and_names_the_failing_one() {
        let mut optional = MockHealthCheck::new();
        optional.expect_required().return_const(false);
        optional.expect_check().never();
        let readiness = StatusService::new(vec![check("store", false), Arc::new(optional)])
            .ready()
            .await;
        assert_eq!(
            readiness,
            Readiness {
                ready: false,
                failing: vec!["store"]
            }
        );
    }

    #[tokio::test]
    async fn ready_needs_a_signing_key_that_signs() {
        let mut signer = MockSigner::new();
        signer
            .expect_sign()
            .times(1)
            .returning(|_| Err(SigningError::NotAnObject));
        let readiness = StatusService::new(vec![check("store", true)])
            .with_signer(Arc::new(signer))
            .ready()
            .await;
        assert_eq!(readiness.failing, vec!["signing key"]);
        assert!(!readiness.ready);
    }

    #[tokio::test]
    async fn the_server_is_ready_when_the_store_answers_and_the_key_signs() {
        let mut signer = MockSigner::new();
        let key = SigningKey::generate(&[7; 32], Timestamp::from_millis(0));
        signer
            .expect_sign()
            .times(1)
            .returning(move |object| SignedJson::sign(object, "example.org", &key));
        let readiness = StatusService::new(vec![check("store", true)])
            .with_signer(Arc::new(signer))
            .ready()
            .await;
        assert!(readiness.ready, "{readiness:?}");
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

    #[tokio::test]
    async fn a_failing_check_that_is_not_required_is_named_and_leaves_the_server_healthy() {
        let status = StatusService::new(vec![
            check("store", true),
            optional_or_not("ldap", false, false),
        ])
        .status()
        .await;
        assert!(status.healthy);
        assert_eq!(
            status.checks[1],
            CheckReport {
                name: "ldap",
                healthy: false
            }
        );
        // A required one still makes it unhealthy.
        let status = StatusService::new(vec![
            check("store", false),
            optional_or_not("ldap", true, false),
        ])
        .status()
        .await;
        assert!(!status.healthy);
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
