//! `GET /status` and `GET /version`, as mxisd/ma1sd serve them (monitoring relies on them).
use std::sync::Arc;

use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use verity_application::ports::driving::Status;

use super::ApiTags;
use crate::error::{ErrCode, MatrixError};

/// `{"status": "live"}` or `{"status": "ready"}`.
#[derive(Debug, Object)]
pub struct ProbeBody {
    /// `live` or `ready`.
    pub status: String,
}

/// Readiness: 200 when the server can take requests, 503 with a Matrix error otherwise.
#[derive(ApiResponse)]
pub enum ReadyResponse {
    /// The store answered and the signing key signs.
    #[oai(status = 200)]
    Ready(Json<ProbeBody>),
    /// The store does not answer, or the signing key does not sign (`M_UNKNOWN`, the error
    /// names what failed).
    #[oai(status = 503)]
    NotReady(Json<MatrixError>),
}

/// `{"status": {...}}`
#[derive(Debug, Object)]
pub struct StatusBody {
    /// The server's health.
    pub status: Health,
}

/// Overall health and each check's outcome.
#[derive(Debug, Object)]
pub struct Health {
    /// `OK` when every check passed, else `UNHEALTHY`.
    pub health: String,
    /// Each check by name (`store`), `OK` or `UNHEALTHY`.
    pub checks: std::collections::BTreeMap<String, String>,
}

/// Health answer: 200 when healthy, 503 otherwise, with the same body.
#[derive(ApiResponse)]
pub enum StatusResponse {
    /// Every check passed.
    #[oai(status = 200)]
    Healthy(Json<StatusBody>),
    /// At least one check failed; the body says which.
    #[oai(status = 503)]
    Unhealthy(Json<StatusBody>),
}

/// `{"server": {"name", "version"}}`
#[derive(Debug, Object)]
pub struct VersionBody {
    /// The server software.
    pub server: ServerVersion,
}

/// Name and version of the server software.
#[derive(Debug, Object)]
pub struct ServerVersion {
    /// `verity`.
    pub name: String,
    /// The release.
    pub version: String,
}

/// Status endpoints.
pub struct StatusApi {
    status: Arc<dyn Status>,
}

impl StatusApi {
    pub(crate) fn new(status: Arc<dyn Status>) -> Self {
        Self { status }
    }
}

fn word(healthy: bool) -> String {
    if healthy { "OK" } else { "UNHEALTHY" }.to_owned()
}

#[OpenApi(tag = "ApiTags::Status")]
impl StatusApi {
    /// Report whether the server and its store are healthy.
    ///
    /// mxisd/ma1sd-compatible health endpoint; unlike them, Verity checks its store and answers 503
    /// when a required check fails, so load balancers can act on it. A check the others stand in
    /// for (an LDAP directory, while the other identity backends answer) is reported
    /// `UNHEALTHY` in the body with a 200.
    #[oai(path = "/status", method = "get", operation_id = "getServerHealth")]
    async fn get_server_health(&self) -> StatusResponse {
        let report = self.status.status().await;
        let body = StatusBody {
            status: Health {
                health: word(report.healthy),
                checks: report
                    .checks
                    .iter()
                    .map(|c| (c.name.to_owned(), word(c.healthy)))
                    .collect(),
            },
        };
        if report.healthy {
            StatusResponse::Healthy(Json(body))
        } else {
            StatusResponse::Unhealthy(Json(body))
        }
    }

    /// Liveness probe: 200 while the process serves requests.
    ///
    /// Verity only, for orchestrators (a container's health check, Kubernetes' `livenessProbe`);
    /// it checks nothing beyond this answer, so a failing store never gets the process killed.
    #[oai(
        path = "/_verity/health/live",
        method = "get",
        operation_id = "getLiveness"
    )]
    async fn get_liveness(&self) -> Json<ProbeBody> {
        Json(ProbeBody {
            status: "live".to_owned(),
        })
    }

    /// Readiness probe: 200 when the store answers and the signing key signs, 503 otherwise.
    ///
    /// Verity only, for load balancers and Kubernetes' `readinessProbe`: an instance that
    /// answers 503 is taken out of rotation until it is ready again. Identity backends that the
    /// others stand in for (a directory) are not asked; `/status` reports them.
    #[oai(
        path = "/_verity/health/ready",
        method = "get",
        operation_id = "getReadiness"
    )]
    async fn get_readiness(&self) -> ReadyResponse {
        let readiness = self.status.ready().await;
        if readiness.ready {
            return ReadyResponse::Ready(Json(ProbeBody {
                status: "ready".to_owned(),
            }));
        }
        ReadyResponse::NotReady(Json(MatrixError::new(
            ErrCode::Unknown,
            format!("Not ready: {} failed", readiness.failing.join(", ")),
        )))
    }

    /// Report the server software's name and version.
    #[oai(path = "/version", method = "get", operation_id = "getServerVersion")]
    async fn get_server_version(&self) -> Json<VersionBody> {
        let info = self.status.version();
        Json(VersionBody {
            server: ServerVersion {
                name: info.name.to_owned(),
                version: info.version.to_owned(),
            },
        })
    }
}
