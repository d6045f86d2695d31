//! Choosing the server of a label: its entries in order, a domain entry discovered (SRV
//! `_matrix-identity._tcp`, `.well-known/matrix/client`, `https://<domain>`), every candidate
//! probed, the first usable one kept for a while.
//!
//! DNS, the `.well-known` fetch and the probe sit behind small traits, so the decision table is
//! tested with fakes (`discovery_tests.rs`).
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use url::Url;
use verity_application::ports::driven::{RemoteError, RemoteServer};
use verity_domain::ServerLabel;

use super::config::{Entry, base_string};
use crate::homeserver::address_policy::{AddressPolicy, IDENTITY_SERVER_FIX, not_public};
use crate::homeserver::discovery::{Dns, SrvRecord, WellKnownFetch};

/// The SRV service of identity servers.
const SRV_SERVICE: &str = "_matrix-identity._tcp";
/// How long "no usable server" is remembered: long enough not to hammer a broken remote on
/// every request, short enough that a repaired one is used again soon.
const FAILURE_TTL: Duration = Duration::from_secs(30);

/// A server to try: where it is, and how to connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Candidate {
    /// The base URL (API paths are appended).
    pub(crate) base_url: Url,
    /// `None` for an operator's URL entry (trusted, the system resolver is used); otherwise the
    /// checked addresses, the only ones connected to.
    pub(crate) pinned: Option<Vec<IpAddr>>,
}

/// The usability probe.
#[async_trait]
pub(crate) trait Probe: Send + Sync {
    /// Whether `candidate` answers like an identity server.
    async fn usable(&self, candidate: &Candidate) -> bool;
}

struct Cached {
    expires: Instant,
    server: Option<RemoteServer>,
}

/// Label resolution with a cache.
pub(crate) struct Resolver {
    labels: BTreeMap<ServerLabel, Vec<Entry>>,
    policy: AddressPolicy,
    dns: Arc<dyn Dns>,
    well_known: Arc<dyn WellKnownFetch>,
    probe: Arc<dyn Probe>,
    ttl: Duration,
    /// `https` in production; tests reach plain-HTTP fakes, on `default_port`.
    scheme: &'static str,
    default_port: Option<u16>,
    cache: Mutex<HashMap<ServerLabel, Cached>>,
}

impl Resolver {
    pub(crate) fn new(
        labels: BTreeMap<ServerLabel, Vec<Entry>>,
        policy: AddressPolicy,
        dns: Arc<dyn Dns>,
        well_known: Arc<dyn WellKnownFetch>,
        probe: Arc<dyn Probe>,
        ttl: Duration,
    ) -> Self {
        Self {
            labels,
            policy,
            dns,
            well_known,
            probe,
            ttl,
            scheme: "https",
            default_port: None,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Discovered servers are plain HTTP, `https://<domain>` becomes `http://<domain>:<port>`
    /// (tests only).
    #[cfg(test)]
    pub(crate) fn plain_http(mut self, port: u16) -> Self {
        self.scheme = "http";
        self.default_port = Some(port);
        self
    }

    /// The first usable server of `label`, from the cache when it is fresh.
    pub(crate) async fn resolve(&self, label: &ServerLabel) -> Result<RemoteServer, RemoteError> {
        let now = Instant::now();
        if let Some(cached) = self.lock().get(label)
            && cached.expires > now
        {
            return cached
                .server
                .clone()
                .ok_or_else(|| RemoteError::NoUsableServer(label.clone()));
        }
        let found = self.first_usable(label).await;
        let server = found.map(|candidate| RemoteServer {
            label: label.clone(),
            base_url: base_string(&candidate.base_url),
        });
        let ttl = match &server {
            Some(server) => {
                tracing::info!(label = label.as_str(), base_url = %server.base_url, "identity server chosen");
                self.ttl
            }
            None => {
                tracing::warn!(
                    label = label.as_str(),
                    "no usable identity server for this label"
                );
                FAILURE_TTL.min(self.ttl)
            }
        };
        if !ttl.is_zero() {
            self.lock().insert(
                label.clone(),
                Cached {
                    expires: Instant::now() + ttl,
                    server: server.clone(),
                },
            );
        }
        server.ok_or_else(|| RemoteError::NoUsableServer(label.clone()))
    }

    /// Forgets the server chosen for `label`, so the next [`resolve`](Self::resolve) discovers
    /// and probes again (called when a chosen server stops answering).
    pub(crate) fn forget(&self, label: &ServerLabel) {
        self.lock().remove(label);
    }

    /// How to reach `base_url`: trusted when it is one of the operator's URL entries, otherwise
    /// only on the scheme discovery uses and at addresses the policy permits (checked now, so a
    /// stored URL whose name moved to a private address is refused).
    pub(crate) async fn candidate_for(&self, base_url: &str) -> Result<Candidate, String> {
        let url = Url::parse(base_url).map_err(|error| format!("{base_url:?}: {error}"))?;
        let configured = self.labels.values().flatten().any(|entry| match entry {
            Entry::Url(entry) => base_string(entry) == base_string(&url),
            Entry::Domain(_) | Entry::Direct(_) => false,
        });
        if configured {
            return Ok(Candidate {
                base_url: url,
                pinned: None,
            });
        }
        if url.scheme() != self.scheme {
            return Err(format!(
                "{base_url} is not {}:// and not a configured URL",
                self.scheme
            ));
        }
        self.checked(url).await
    }

    async fn first_usable(&self, label: &ServerLabel) -> Option<Candidate> {
        for entry in self.labels.get(label)? {
            let found = match entry {
                Entry::Url(url) => {
                    let candidate = Candidate {
                        base_url: url.clone(),
                        pinned: None,
                    };
                    self.probe.usable(&candidate).await.then_some(candidate)
                }
                Entry::Domain(domain) => self.discover(domain).await,
                Entry::Direct(authority) => {
                    let url = Url::parse(&format!("{}://{authority}", self.scheme)).ok();
                    match url {
                        Some(url) => self.probed(url).await,
                        None => None,
                    }
                }
            };
            if found.is_some() {
                return found;
            }
            tracing::debug!(label = label.as_str(), ?entry, "entry not usable");
        }
        None
    }

    /// SRV records by priority, then `.well-known/matrix/client`, then `https://<domain>`.
    async fn discover(&self, domain: &str) -> Option<Candidate> {
        for record in self.srv_records(domain).await {
            let target = record.target.trim_end_matches('.').to_ascii_lowercase();
            let url = Url::parse(&format!("{}://{target}:{}", self.scheme, record.port)).ok()?;
            if let Some(candidate) = self.probed(url).await {
                return Some(candidate);
            }
        }
        if let Some(url) = self.well_known_base_url(domain).await
            && let Some(candidate) = self.probed(url).await
        {
            return Some(candidate);
        }
        let mut url = Url::parse(&format!("{}://{domain}", self.scheme)).ok()?;
        if let Some(port) = self.default_port {
            url.set_port(Some(port)).ok()?;
        }
        self.probed(url).await
    }

    /// The usable SRV records: lowest priority first, then highest weight; `.` targets and
    /// port 0 mean "no service"; a failed lookup counts as no record.
    async fn srv_records(&self, domain: &str) -> Vec<SrvRecord> {
        let name = format!("{SRV_SERVICE}.{domain}");
        let mut records = match self.dns.srv(&name).await {
            Ok(records) => records,
            Err(error) => {
                tracing::debug!(srv = name, %error, "SRV lookup failed; treating as no record");
                return Vec::new();
            }
        };
        records
            .retain(|record| !record.target.trim_end_matches('.').is_empty() && record.port != 0);
        records.sort_by_key(|record| (record.priority, std::cmp::Reverse(record.weight)));
        records
    }

    /// `m.identity_server.base_url` of `https://<domain>/.well-known/matrix/client`, when it is
    /// a URL on the discovery scheme.
    async fn well_known_base_url(&self, domain: &str) -> Option<Url> {
        let response = match self.well_known.fetch(domain).await {
            Ok(response) if response.status == 200 => response,
            Ok(response) => {
                tracing::debug!(
                    domain,
                    status = response.status,
                    "no .well-known/matrix/client"
                );
                return None;
            }
            Err(error) => {
                tracing::debug!(domain, %error, "no .well-known/matrix/client");
                return None;
            }
        };
        let document: serde_json::Value = serde_json::from_slice(&response.body).ok()?;
        let base_url = document
            .get("m.identity_server")?
            .get("base_url")?
            .as_str()?;
        let url = Url::parse(base_url.trim()).ok()?;
        (url.scheme() == self.scheme && url.query().is_none() && url.fragment().is_none())
            .then_some(url)
    }

    /// `url` checked against the address policy, then probed.
    async fn probed(&self, url: Url) -> Option<Candidate> {
        let candidate = match self.checked(url).await {
            Ok(candidate) => candidate,
            Err(why) => {
                tracing::debug!(why, "identity server candidate refused");
                return None;
            }
        };
        self.probe.usable(&candidate).await.then_some(candidate)
    }

    /// Resolves `url`'s host and refuses it when any address is not permitted.
    async fn checked(&self, url: Url) -> Result<Candidate, String> {
        let addrs = match url.host() {
            Some(url::Host::Domain(name)) => self
                .dns
                .ips(name)
                .await
                .map_err(|error| format!("{name}: {error}"))?,
            Some(url::Host::Ipv4(ip)) => vec![IpAddr::V4(ip)],
            Some(url::Host::Ipv6(ip)) => vec![IpAddr::V6(ip)],
            None => return Err(format!("{url} has no host")),
        };
        if addrs.is_empty() {
            return Err(format!("{} has no address", url.host_str().unwrap_or("")));
        }
        if let Some(ip) = addrs.iter().find(|ip| !self.policy.permits(**ip)) {
            return Err(not_public(
                url.host_str().unwrap_or(""),
                *ip,
                IDENTITY_SERVER_FIX,
            ));
        }
        Ok(Candidate {
            base_url: url,
            pinned: Some(addrs),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ServerLabel, Cached>> {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
