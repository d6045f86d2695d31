//! Finding where a homeserver listens, as the server-server API's "Resolving server names" says,
//! with every address checked against the [`AddressPolicy`] before anything is sent to it.
//!
//! DNS and the `.well-known` fetch sit behind the small [`Dns`] and [`WellKnownFetch`] traits, so
//! the decision table is tested with fakes (`discovery_tests.rs`).
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use url::Url;
use verity_domain::{Host, InvalidMatrixId, ServerName};

use super::address_policy::{AddressPolicy, HOMESERVER_FIX, not_public};

/// The federation port used when nothing names another.
pub(crate) const DEFAULT_PORT: u16 = 8448;
/// How long a valid `.well-known` answer is kept when it does not say.
const WELL_KNOWN_DEFAULT_TTL: Duration = Duration::from_secs(24 * 3600);
/// The longest a valid `.well-known` answer is kept, whatever it says.
const WELL_KNOWN_MAX_TTL: Duration = Duration::from_secs(48 * 3600);
/// How long an invalid answer (not 200, not JSON, no `m.server`, too large) is kept.
const WELL_KNOWN_INVALID_TTL: Duration = Duration::from_secs(3600);
/// How long a failure to fetch (connection, TLS, timeout, blocked address) is kept.
const WELL_KNOWN_FAILURE_TTL: Duration = Duration::from_secs(5 * 60);
/// The most hostnames remembered, so arbitrary server names cannot grow memory without bound.
const WELL_KNOWN_CACHE_ENTRIES: usize = 10_000;
/// The SRV services looked up, in order: the current one, then the deprecated one.
const SRV_SERVICES: [&str; 2] = ["_matrix-fed._tcp", "_matrix._tcp"];

/// One SRV record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SrvRecord {
    pub(crate) priority: u16,
    pub(crate) weight: u16,
    pub(crate) port: u16,
    /// The target host name (a trailing dot is allowed).
    pub(crate) target: String,
}

/// A DNS lookup that failed (other than by there being no such record).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub(crate) struct DnsError(pub(crate) String);

/// The DNS lookups discovery needs.
#[async_trait]
pub(crate) trait Dns: Send + Sync {
    /// The SRV records of `name` (e.g. `_matrix-fed._tcp.example.org`); empty when there are none.
    async fn srv(&self, name: &str) -> Result<Vec<SrvRecord>, DnsError>;
    /// The A and AAAA addresses of `host` (following CNAMEs); empty when there are none.
    async fn ips(&self, host: &str) -> Result<Vec<IpAddr>, DnsError>;
}

/// What `GET https://<hostname>/.well-known/matrix/server` answered.
#[derive(Debug, Clone)]
pub(crate) struct WellKnownResponse {
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
    /// The `Cache-Control` header, if any.
    pub(crate) cache_control: Option<String>,
}

/// Why the `.well-known` fetch produced no answer.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum FetchError {
    /// The host (or a redirect's) resolved to an address the policy refuses: nothing was sent.
    #[error("blocked: {0}")]
    Blocked(String),
    /// The body was larger than the response size limit.
    #[error("the response is too large")]
    TooLarge,
    /// Connection, TLS, timeout, DNS or redirect trouble.
    #[error("{0}")]
    Failed(String),
}

/// Fetches `/.well-known/matrix/server` from a hostname (following redirects safely).
#[async_trait]
pub(crate) trait WellKnownFetch: Send + Sync {
    async fn fetch(&self, hostname: &str) -> Result<WellKnownResponse, FetchError>;
}

/// Where to send a federation request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Destination {
    /// An operator override: this base URL, as is, with no address check.
    Override(Url),
    /// A discovered homeserver.
    Federation(Endpoint),
}

/// A discovered homeserver: `https://<tls_name>:<port>`, connecting only to `addrs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoint {
    /// The name in the URL: the certificate must be valid for it (TLS SNI).
    pub(crate) tls_name: Host,
    pub(crate) port: u16,
    /// The `Host` header the spec asks for.
    pub(crate) host_header: String,
    /// The addresses to connect to, all of them permitted by the policy.
    pub(crate) addrs: Vec<IpAddr>,
}

impl Endpoint {
    /// `https://<tls_name>:<port><path>`.
    pub(crate) fn url(&self, path: &str) -> Result<Url, url::ParseError> {
        Url::parse(&format!("https://{}:{}{path}", self.tls_name, self.port))
    }
}

/// Why no destination was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum DiscoveryError {
    /// The destination is on an address the policy refuses.
    #[error("{0}")]
    Blocked(String),
    /// DNS failed or found no address.
    #[error("{0}")]
    Unresolvable(String),
}

struct CachedDelegation {
    expires: Instant,
    delegation: Option<ServerName>,
}

/// Server discovery with a `.well-known` cache.
pub(crate) struct Discovery {
    overrides: HashMap<ServerName, Url>,
    policy: AddressPolicy,
    dns: Arc<dyn Dns>,
    well_known: Arc<dyn WellKnownFetch>,
    cache: Mutex<HashMap<String, CachedDelegation>>,
}

impl Discovery {
    pub(crate) fn new(
        overrides: HashMap<ServerName, Url>,
        policy: AddressPolicy,
        dns: Arc<dyn Dns>,
        well_known: Arc<dyn WellKnownFetch>,
    ) -> Self {
        Self {
            overrides,
            policy,
            dns,
            well_known,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Where `server` is reached.
    pub(crate) async fn discover(
        &self,
        server: &ServerName,
    ) -> Result<Destination, DiscoveryError> {
        if let Some(base) = self.overrides.get(server) {
            return Ok(Destination::Override(base.clone()));
        }
        let endpoint = match (server.host(), server.port()) {
            (Host::Dns(hostname), None) => match self.delegation(hostname).await {
                Some(delegated) => self.named(&delegated).await?,
                None => self.by_srv_or_default(hostname).await?,
            },
            _ => self.named(server).await?,
        };
        Ok(Destination::Federation(endpoint))
    }

    /// Steps 1 and 2 (and 3.1 to 3.5 for a delegated name): an IP literal, a host with a port,
    /// or a host alone (SRV, then 8448).
    async fn named(&self, name: &ServerName) -> Result<Endpoint, DiscoveryError> {
        match name.host() {
            Host::Dns(hostname) => match name.port() {
                None => self.by_srv_or_default(hostname).await,
                Some(port) => {
                    self.resolve(name.host(), hostname, port, name.to_string())
                        .await
                }
            },
            Host::Ipv4(ip) => self.literal(name, IpAddr::V4(*ip)),
            Host::Ipv6(ip) => self.literal(name, IpAddr::V6(*ip)),
        }
    }

    /// An IP literal: that address, the given port or 8448, `Host` = the name as written.
    fn literal(&self, name: &ServerName, ip: IpAddr) -> Result<Endpoint, DiscoveryError> {
        if !self.policy.permits(ip) {
            return Err(DiscoveryError::Blocked(format!(
                "{name} is not a public address; {HOMESERVER_FIX}"
            )));
        }
        Ok(Endpoint {
            tls_name: name.host().clone(),
            port: name.port().unwrap_or(DEFAULT_PORT),
            host_header: name.to_string(),
            addrs: vec![ip],
        })
    }

    /// SRV `_matrix-fed._tcp`, then `_matrix._tcp`, then `hostname:8448`; the `Host` header and
    /// certificate name stay `hostname`.
    async fn by_srv_or_default(&self, hostname: &str) -> Result<Endpoint, DiscoveryError> {
        let tls_name = Host::Dns(hostname.to_owned());
        for service in SRV_SERVICES {
            if let Some(record) = self.best_srv(&format!("{service}.{hostname}")).await {
                let target = normalise(&record.target);
                return self
                    .resolve(&tls_name, &target, record.port, hostname.to_owned())
                    .await;
            }
        }
        self.resolve(&tls_name, hostname, DEFAULT_PORT, hostname.to_owned())
            .await
    }

    /// The record to use: lowest priority, then highest weight. Records whose target is `.`
    /// ("no service here") are ignored, and a failed lookup counts as no record.
    async fn best_srv(&self, name: &str) -> Option<SrvRecord> {
        let records = match self.dns.srv(name).await {
            Ok(records) => records,
            Err(error) => {
                tracing::debug!(srv = name, %error, "SRV lookup failed; treating as no record");
                return None;
            }
        };
        records
            .into_iter()
            .filter(|record| !normalise(&record.target).is_empty() && record.port != 0)
            .min_by_key(|record| (record.priority, std::cmp::Reverse(record.weight)))
    }

    /// Resolves `connect_to` (A/AAAA), checks every address, and makes the endpoint.
    async fn resolve(
        &self,
        tls_name: &Host,
        connect_to: &str,
        port: u16,
        host_header: String,
    ) -> Result<Endpoint, DiscoveryError> {
        // An SRV target is not parsed as a server name: one like `127.1` would reach the
        // resolver, which may read it as an address.
        if ServerName::parse(connect_to) == Err(InvalidMatrixId::NumericHost) {
            return Err(DiscoveryError::Blocked(format!(
                "{connect_to} is a numeric host name that is not a dotted quad \
                 ({})",
                InvalidMatrixId::NumericHost
            )));
        }
        let addrs = self
            .dns
            .ips(connect_to)
            .await
            .map_err(|error| DiscoveryError::Unresolvable(format!("{connect_to}: {error}")))?;
        if addrs.is_empty() {
            return Err(DiscoveryError::Unresolvable(format!(
                "{connect_to} has no address"
            )));
        }
        self.check(connect_to, &addrs)?;
        Ok(Endpoint {
            tls_name: tls_name.clone(),
            port,
            host_header,
            addrs,
        })
    }

    /// Refuses the whole destination when any of its addresses is refused.
    fn check(&self, what: &str, addrs: &[IpAddr]) -> Result<(), DiscoveryError> {
        match addrs.iter().find(|ip| !self.policy.permits(**ip)) {
            Some(ip) => Err(DiscoveryError::Blocked(not_public(
                what,
                *ip,
                HOMESERVER_FIX,
            ))),
            None => Ok(()),
        }
    }

    /// Step 3: the `m.server` of `https://<hostname>/.well-known/matrix/server`, cached.
    async fn delegation(&self, hostname: &str) -> Option<ServerName> {
        let now = Instant::now();
        if let Some(cached) = self.lock_cache().get(hostname)
            && cached.expires > now
        {
            return cached.delegation.clone();
        }
        let (delegation, ttl) = match self.well_known.fetch(hostname).await {
            Ok(response) => interpret_well_known(&response),
            Err(FetchError::TooLarge) => (None, WELL_KNOWN_INVALID_TTL),
            Err(error) => {
                tracing::debug!(hostname, %error, "no .well-known/matrix/server");
                (None, WELL_KNOWN_FAILURE_TTL)
            }
        };
        if !ttl.is_zero() {
            let mut cache = self.lock_cache();
            if cache.len() >= WELL_KNOWN_CACHE_ENTRIES {
                cache.retain(|_, cached| cached.expires > now);
            }
            if cache.len() < WELL_KNOWN_CACHE_ENTRIES {
                cache.insert(
                    hostname.to_owned(),
                    CachedDelegation {
                        expires: now + ttl,
                        delegation: delegation.clone(),
                    },
                );
            }
        }
        delegation
    }

    fn lock_cache(&self) -> std::sync::MutexGuard<'_, HashMap<String, CachedDelegation>> {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The delegated server name (if the answer is valid) and how long to keep the verdict.
fn interpret_well_known(response: &WellKnownResponse) -> (Option<ServerName>, Duration) {
    if response.status != 200 {
        return (None, WELL_KNOWN_INVALID_TTL);
    }
    let delegation = string_member(&response.body, "m.server")
        .and_then(|server| ServerName::parse(&server).ok());
    match delegation {
        Some(name) => (Some(name), cache_ttl(response.cache_control.as_deref())),
        None => (None, WELL_KNOWN_INVALID_TTL),
    }
}

/// How long a valid answer may be kept: `no-store`/`no-cache` mean not at all, `max-age` is
/// honoured up to 48 hours, and 24 hours is the default.
pub(crate) fn cache_ttl(cache_control: Option<&str>) -> Duration {
    let Some(header) = cache_control else {
        return WELL_KNOWN_DEFAULT_TTL;
    };
    let mut ttl = WELL_KNOWN_DEFAULT_TTL;
    for directive in header.split(',').map(|d| d.trim().to_ascii_lowercase()) {
        if directive == "no-store" || directive == "no-cache" {
            return Duration::ZERO;
        }
        if let Some(seconds) = directive
            .strip_prefix("max-age=")
            .and_then(|value| value.trim_matches('"').parse::<u64>().ok())
        {
            ttl = Duration::from_secs(seconds);
        }
    }
    ttl.min(WELL_KNOWN_MAX_TTL)
}

/// The string member `key` of `body` when `body` is a JSON object (an array is not, even though
/// serde's derived structs would accept one).
pub(crate) fn string_member(body: &[u8], key: &str) -> Option<String> {
    match serde_json::from_slice::<serde_json::Value>(body).ok()? {
        serde_json::Value::Object(mut object) => match object.remove(key)? {
            serde_json::Value::String(value) => Some(value),
            _ => None,
        },
        _ => None,
    }
}

/// A DNS name as a host: lower case, without the root's trailing dot.
fn normalise(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}
