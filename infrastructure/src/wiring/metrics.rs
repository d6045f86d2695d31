//! The metrics (`server.metrics.*`): the decorators put around the driven ports when metrics are
//! on, the bridge that reports the HTTP adapter's requests, and the metrics listener.
use std::sync::Arc;

use async_trait::async_trait;
use verity_adapter_http::{
    AppEndpoint, BoundServer, MetricsSource, RequestObserver, metrics_app, observed,
};
use verity_adapter_metrics::{
    CONTENT_TYPE, HashTableSample, MeteredBackend, MeteredConnector, MeteredHealthCheck,
    MeteredInviteStore, MeteredLimiter, MeteredSessionStore, Metrics,
};
use verity_application::ports::driven::{
    HealthCheck, IdentityBackend, InviteStore, NotificationConnector, RateLimiter, SessionStore,
};
use verity_application::ports::driving::Status;
use verity_application::usecases::HashIndex;

use crate::settings::MetricsSettings;

/// The metrics of this process, when `server.metrics.enabled`; each method returns the port
/// measured, or unchanged when metrics are off (nothing is then collected at all).
#[derive(Clone, Default)]
pub struct Metered(Option<Arc<Metrics>>);

impl Metered {
    /// Metrics on or off, as `settings` say.
    pub fn new(settings: &MetricsSettings) -> Self {
        Self(settings.enabled.then(|| Arc::new(Metrics::new())))
    }

    /// The registry, when metrics are on.
    pub fn metrics(&self) -> Option<&Arc<Metrics>> {
        self.0.as_ref()
    }

    pub(crate) fn health(&self, check: Arc<dyn HealthCheck>) -> Arc<dyn HealthCheck> {
        match &self.0 {
            Some(m) => Arc::new(MeteredHealthCheck::new(check, m.clone())),
            None => check,
        }
    }

    pub(crate) fn backend(&self, backend: Arc<dyn IdentityBackend>) -> Arc<dyn IdentityBackend> {
        match &self.0 {
            Some(m) => Arc::new(MeteredBackend::new(backend, m.clone())),
            None => backend,
        }
    }

    pub(crate) fn sessions(&self, store: Arc<dyn SessionStore>) -> Arc<dyn SessionStore> {
        match &self.0 {
            Some(m) => Arc::new(MeteredSessionStore::new(store, m.clone())),
            None => store,
        }
    }

    pub(crate) fn invites(&self, store: Arc<dyn InviteStore>) -> Arc<dyn InviteStore> {
        match &self.0 {
            Some(m) => Arc::new(MeteredInviteStore::new(store, m.clone())),
            None => store,
        }
    }

    pub(crate) fn limiter(&self, limiter: Arc<dyn RateLimiter>) -> Arc<dyn RateLimiter> {
        match &self.0 {
            Some(m) => Arc::new(MeteredLimiter::new(limiter, m.clone())),
            None => limiter,
        }
    }

    pub(crate) fn connector(
        &self,
        connector: Arc<dyn NotificationConnector>,
        name: &'static str,
    ) -> Arc<dyn NotificationConnector> {
        match &self.0 {
            Some(m) => Arc::new(MeteredConnector::new(connector, m.clone(), name)),
            None => connector,
        }
    }

    /// `app`, its requests counted, when metrics are on.
    pub(crate) fn app(&self, app: AppEndpoint) -> AppEndpoint {
        match &self.0 {
            Some(m) => observed(app, Arc::new(Requests(m.clone()))),
            None => app,
        }
    }
}

/// The HTTP adapter's requests, into the metrics.
struct Requests(Arc<Metrics>);

impl RequestObserver for Requests {
    fn observe(&self, method: &str, route: &str, status: u16, elapsed: std::time::Duration) {
        self.0.observe_request(method, route, status, elapsed);
    }
}

/// What a scrape reads: the health checks run (each measured as it runs), the hash table's
/// size and builds, then every metric.
struct Scrape {
    metrics: Arc<Metrics>,
    status: Arc<dyn Status>,
    index: Arc<HashIndex>,
}

#[async_trait]
impl MetricsSource for Scrape {
    fn content_type(&self) -> &'static str {
        CONTENT_TYPE
    }

    async fn render(&self) -> Result<String, std::fmt::Error> {
        // The health gauges are only as fresh as the last check: a scrape makes one.
        let _ = self.status.status().await;
        let stats = self.index.stats();
        self.metrics.set_hash_table(HashTableSample {
            entries: stats.entries,
            builds: stats.builds,
            last_build: stats.last_build,
        });
        self.metrics.render()
    }
}

/// The metrics listener, bound, with its application; `None` when metrics are off, or when its
/// port cannot be had (a warning: the server runs without it).
pub(crate) async fn listener(
    settings: &MetricsSettings,
    metered: &Metered,
    status: Arc<dyn Status>,
    index: Arc<HashIndex>,
) -> Option<(BoundServer, AppEndpoint)> {
    let metrics = metered.metrics()?.clone();
    let (host, port) = (&settings.address, settings.port);
    let server = match BoundServer::bind(host, port).await {
        Ok(server) => server,
        Err(error) => {
            tracing::warn!(%error, "cannot listen on {host}:{port} (server.metrics.address, server.metrics.port): the metrics are not served; set another port, or server.metrics.enabled: false");
            return None;
        }
    };
    let source = Scrape {
        metrics,
        status,
        index,
    };
    Some((server, metrics_app(Arc::new(source))))
}
