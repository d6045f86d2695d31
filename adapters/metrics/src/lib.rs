//! Verity's Prometheus metrics: one registry ([`Metrics`]) written out in the OpenMetrics text
//! format, and decorators around the driven ports that count what passes through them
//! (notifications sent, sessions created and validated, limits hit, invite deliveries, the
//! backends' health and latency). The use cases never learn that a port is measured; the HTTP
//! adapter reports its requests through the composition root, which calls
//! [`Metrics::observe_request`].
//!
//! Every label value is one of a small fixed set (a route template, a medium, a connector, a
//! limit, a backend's name): never an address, a token, a room or a user.
mod backends;
mod health;
mod invites;
mod limits;
mod notify;
mod sessions;

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

pub use backends::MeteredBackend;
pub use health::MeteredHealthCheck;
pub use invites::MeteredInviteStore;
pub use limits::{MeteredLimiter, limit_name};
pub use notify::MeteredConnector;
pub use sessions::MeteredSessionStore;

/// The `Content-Type` of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Every metric name the exporter writes (`# TYPE` lines; a counter's samples add `_total`, a
/// histogram's `_bucket`, `_sum` and `_count`). The dashboard test checks the sample dashboard
/// against this list.
pub const METRIC_NAMES: [&str; 17] = [
    "verity_http_requests",
    "verity_http_request_duration_seconds",
    "verity_notifications_sent",
    "verity_notifications_failed",
    "verity_sessions_created",
    "verity_sessions_validated",
    "verity_limits_hit",
    "verity_invite_deliveries_pending",
    "verity_invite_delivery_retries",
    "verity_invite_deliveries",
    "verity_hash_table_entries",
    "verity_hash_table_rebuilds",
    "verity_hash_table_last_rebuild_seconds",
    "verity_backend_up",
    "verity_backend_check_duration_seconds",
    "verity_backend_request_duration_seconds",
    "verity_backend_errors",
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ConnectorLabels {
    medium: &'static str,
    connector: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MediumLabels {
    medium: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LimitLabels {
    limit: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BackendLabels {
    backend: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    backend: &'static str,
    operation: &'static str,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// Request and backend latencies: 1 ms to about 16 s.
fn latency() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

/// The hash table as the lookup use case last reported it ([`Metrics::set_hash_table`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HashTableSample {
    /// Entries in the table answering lookups; `None` while none is complete.
    pub entries: Option<u64>,
    /// Complete builds since the start.
    pub builds: u64,
    /// How long the last complete build took.
    pub last_build: Option<Duration>,
}

/// The registry and every metric in it. One per process, shared by the decorators.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    request_seconds: Histograms<RouteLabels>,
    sent: Family<ConnectorLabels, Counter>,
    failed: Family<ConnectorLabels, Counter>,
    sessions_created: Family<MediumLabels, Counter>,
    sessions_validated: Counter,
    limits_hit: Family<LimitLabels, Counter>,
    invites_pending: Gauge,
    invite_retries: Counter,
    invite_deliveries: Family<OutcomeLabels, Counter>,
    hash_entries: Gauge,
    hash_builds: Counter,
    hash_build_seconds: Gauge<f64, std::sync::atomic::AtomicU64>,
    backend_up: Family<BackendLabels, Gauge>,
    backend_check_seconds: Histograms<BackendLabels>,
    backend_seconds: Histograms<OperationLabels>,
    backend_errors: Family<OperationLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Every metric registered, at zero.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("verity");
        let metrics = Self {
            requests: Family::default(),
            request_seconds: Family::new_with_constructor(latency),
            sent: Family::default(),
            failed: Family::default(),
            sessions_created: Family::default(),
            sessions_validated: Counter::default(),
            limits_hit: Family::default(),
            invites_pending: Gauge::default(),
            invite_retries: Counter::default(),
            invite_deliveries: Family::default(),
            hash_entries: Gauge::default(),
            hash_builds: Counter::default(),
            hash_build_seconds: Gauge::default(),
            backend_up: Family::default(),
            backend_check_seconds: Family::new_with_constructor(latency),
            backend_seconds: Family::new_with_constructor(latency),
            backend_errors: Family::default(),
            registry: Registry::default(),
        };
        metrics.register(&mut registry);
        Self {
            registry,
            ..metrics
        }
    }

    /// Registers every metric in `r` under its name and help text.
    fn register(&self, r: &mut Registry) {
        let m = self;
        r.register(
            "http_requests",
            "HTTP requests answered, by method, route template and status",
            m.requests.clone(),
        );
        r.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template",
            m.request_seconds.clone(),
        );
        r.register(
            "notifications_sent",
            "Emails and SMS a connector accepted, by medium and connector",
            m.sent.clone(),
        );
        r.register(
            "notifications_failed",
            "Emails and SMS a connector refused or could not send, by medium and connector",
            m.failed.clone(),
        );
        r.register(
            "sessions_created",
            "Validation sessions created, by medium",
            m.sessions_created.clone(),
        );
        r.register(
            "sessions_validated",
            "Validation sessions validated (a right token within the cap)",
            m.sessions_validated.clone(),
        );
        r.register(
            "limits_hit",
            "Requests an abuse limit refused, by limit",
            m.limits_hit.clone(),
        );
        r.register(
            "invite_deliveries_pending",
            "Invite deliveries (3pid/onbind) due at the last delivery pass, at most one batch",
            m.invites_pending.clone(),
        );
        r.register(
            "invite_delivery_retries",
            "Invite deliveries that failed and were scheduled again",
            m.invite_retries.clone(),
        );
        r.register(
            "invite_deliveries",
            "Invite deliveries finished, by outcome (delivered, abandoned)",
            m.invite_deliveries.clone(),
        );
        r.register(
            "hash_table_entries",
            "Entries of the lookup hash table answering lookups (0 while none is complete)",
            m.hash_entries.clone(),
        );
        r.register(
            "hash_table_rebuilds",
            "Complete builds of the lookup hash table",
            m.hash_builds.clone(),
        );
        r.register(
            "hash_table_last_rebuild_seconds",
            "How long the last complete build of the lookup hash table took",
            m.hash_build_seconds.clone(),
        );
        r.register(
            "backend_up",
            "Whether a dependency answered its last health check (1) or not (0), by backend",
            m.backend_up.clone(),
        );
        r.register(
            "backend_check_duration_seconds",
            "Time a dependency's health check took, by backend",
            m.backend_check_seconds.clone(),
        );
        r.register(
            "backend_request_duration_seconds",
            "Time an identity backend took to answer, by backend and operation",
            m.backend_seconds.clone(),
        );
        r.register(
            "backend_errors",
            "Identity backend calls that failed, by backend and operation",
            m.backend_errors.clone(),
        );
    }

    /// The registry in the OpenMetrics text format (what Prometheus scrapes).
    ///
    /// # Errors
    /// Only when writing into the string fails, which it does not.
    pub fn render(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }

    /// One answered HTTP request. `route` is the route's template (`/_matrix/identity/v2/pubkey/{keyId}`),
    /// never the path the client sent.
    pub fn observe_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let method = method_label(method);
        let route = route.to_owned();
        self.request_seconds
            .get_or_create(&RouteLabels {
                method,
                route: route.clone(),
            })
            .observe(elapsed.as_secs_f64());
        self.requests
            .get_or_create(&RequestLabels {
                method,
                route,
                status,
            })
            .inc();
    }

    /// The lookup hash table's size and builds, as the lookup use case reports them.
    pub fn set_hash_table(&self, sample: HashTableSample) {
        self.hash_entries
            .set(i64::try_from(sample.entries.unwrap_or(0)).unwrap_or(i64::MAX));
        let counted = self.hash_builds.get();
        if sample.builds > counted {
            self.hash_builds.inc_by(sample.builds - counted);
        }
        if let Some(took) = sample.last_build {
            self.hash_build_seconds.set(took.as_secs_f64());
        }
    }
}

/// The method as a label: the methods HTTP defines, anything else `other` (a client chooses
/// the method: it must not add label values without bound).
fn method_label(method: &str) -> &'static str {
    const METHODS: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE",
    ];
    METHODS
        .iter()
        .find(|known| **known == method)
        .copied()
        .unwrap_or("other")
}

#[cfg(test)]
mod dashboard_tests;
#[cfg(test)]
mod tests;
