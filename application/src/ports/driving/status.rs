use async_trait::async_trait;

/// Name and version of this server, for `GET /version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionInfo {
    /// The server's name (`verity`).
    pub name: &'static str,
    /// Its version.
    pub version: &'static str,
}

/// The outcome of one health check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckReport {
    /// What was checked (`"store"`).
    pub name: &'static str,
    /// Whether it answered.
    pub healthy: bool,
}

/// Whether the server can do its work, for `GET /status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerStatus {
    /// True when every check passed.
    pub healthy: bool,
    /// Each check's outcome.
    pub checks: Vec<CheckReport>,
}

/// Whether the server can take requests, for `GET /_verity/health/ready`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readiness {
    /// True when the store answered and the signing key signs.
    pub ready: bool,
    /// What failed (`store`, `signing key`), for the answer and the log.
    pub failing: Vec<&'static str>,
}

/// Liveness, readiness and version.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Status: Send + Sync {
    /// Runs every health check.
    async fn status(&self) -> ServerStatus;

    /// Runs the required health checks (the store) and signs with the current key: what an
    /// orchestrator asks before it sends traffic.
    async fn ready(&self) -> Readiness;

    /// This server's name and version.
    fn version(&self) -> VersionInfo;
}
