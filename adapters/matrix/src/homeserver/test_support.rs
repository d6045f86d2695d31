//! Fakes of the discovery seams, and a discovery set up over them, for unit tests.
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use verity_domain::ServerName;

use super::address_policy::AddressPolicy;
use super::discovery::{
    Destination, Discovery, DiscoveryError, Dns, DnsError, Endpoint, FetchError, SrvRecord,
    WellKnownFetch, WellKnownResponse,
};

/// DNS from tables; names without an entry have no records. Remembers every query.
#[derive(Default)]
pub(crate) struct FakeDns {
    srv: HashMap<String, Result<Vec<SrvRecord>, DnsError>>,
    ips: HashMap<String, Result<Vec<IpAddr>, DnsError>>,
    queries: Mutex<Vec<String>>,
}

impl FakeDns {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// `host` has these A/AAAA addresses.
    pub(crate) fn host(mut self, host: &str, ips: &[&str]) -> Self {
        let ips = ips.iter().map(|ip| ip.parse().unwrap()).collect();
        self.ips.insert(host.to_owned(), Ok(ips));
        self
    }

    /// `name` has this SRV record (added to any others).
    pub(crate) fn srv(
        mut self,
        name: &str,
        priority: u16,
        weight: u16,
        port: u16,
        target: &str,
    ) -> Self {
        let records = self
            .srv
            .entry(name.to_owned())
            .or_insert_with(|| Ok(Vec::new()));
        if let Ok(records) = records {
            records.push(SrvRecord {
                priority,
                weight,
                port,
                target: target.to_owned(),
            });
        }
        self
    }

    /// Looking up `name` (SRV or address) fails.
    pub(crate) fn failing(mut self, name: &str) -> Self {
        let error = DnsError("SERVFAIL".to_owned());
        self.srv.insert(name.to_owned(), Err(error.clone()));
        self.ips.insert(name.to_owned(), Err(error));
        self
    }

    /// Every query so far, as `SRV name` or `A name`.
    pub(crate) fn queries(&self) -> Vec<String> {
        self.queries.lock().unwrap().clone()
    }
}

#[async_trait]
impl Dns for FakeDns {
    async fn srv(&self, name: &str) -> Result<Vec<SrvRecord>, DnsError> {
        self.queries.lock().unwrap().push(format!("SRV {name}"));
        self.srv
            .get(name)
            .cloned()
            .unwrap_or_else(|| Ok(Vec::new()))
    }

    async fn ips(&self, host: &str) -> Result<Vec<IpAddr>, DnsError> {
        self.queries.lock().unwrap().push(format!("A {host}"));
        self.ips
            .get(host)
            .cloned()
            .unwrap_or_else(|| Ok(Vec::new()))
    }
}

/// `.well-known` answers from a table; hosts without an entry fail to connect. Counts fetches.
#[derive(Default)]
pub(crate) struct FakeWellKnown {
    answers: HashMap<String, Result<WellKnownResponse, FetchError>>,
    fetches: Mutex<Vec<String>>,
}

impl FakeWellKnown {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// `hostname` answers 200 `{"m.server": m_server}`.
    pub(crate) fn delegates(self, hostname: &str, m_server: &str) -> Self {
        let body = serde_json::json!({ "m.server": m_server }).to_string();
        self.answers(hostname, 200, &body, None)
    }

    /// `hostname` answers `status` with `body`.
    pub(crate) fn answers(
        mut self,
        hostname: &str,
        status: u16,
        body: &str,
        cache_control: Option<&str>,
    ) -> Self {
        self.answers.insert(
            hostname.to_owned(),
            Ok(WellKnownResponse {
                status,
                body: body.as_bytes().to_vec(),
                cache_control: cache_control.map(str::to_owned),
            }),
        );
        self
    }

    /// Fetching from `hostname` fails with `error`.
    pub(crate) fn fails(mut self, hostname: &str, error: FetchError) -> Self {
        self.answers.insert(hostname.to_owned(), Err(error));
        self
    }

    /// How many fetches were made.
    pub(crate) fn fetches(&self) -> usize {
        self.fetches.lock().unwrap().len()
    }
}

#[async_trait]
impl WellKnownFetch for FakeWellKnown {
    async fn fetch(&self, hostname: &str) -> Result<WellKnownResponse, FetchError> {
        self.fetches.lock().unwrap().push(hostname.to_owned());
        self.answers
            .get(hostname)
            .cloned()
            .unwrap_or_else(|| Err(FetchError::Failed("connection refused".to_owned())))
    }
}

/// Public addresses for fake DNS answers (documentation ranges are blocked, so not those).
pub(crate) const PUBLIC: &str = "93.184.216.34";
pub(crate) const PUBLIC_2: &str = "151.101.1.69";

pub(crate) struct Setup {
    pub(crate) discovery: Discovery,
    pub(crate) dns: Arc<FakeDns>,
    pub(crate) well_known: Arc<FakeWellKnown>,
}

pub(crate) fn setup(dns: FakeDns, well_known: FakeWellKnown) -> Setup {
    setup_with(dns, well_known, &[], &[])
}

pub(crate) fn setup_with(
    dns: FakeDns,
    well_known: FakeWellKnown,
    overrides: &[(&str, &str)],
    allowed: &[&str],
) -> Setup {
    let dns = Arc::new(dns);
    let well_known = Arc::new(well_known);
    let overrides: HashMap<_, _> = overrides
        .iter()
        .map(|(name, url)| (ServerName::parse(name).unwrap(), url.parse().unwrap()))
        .collect();
    let policy = AddressPolicy::new(allowed.iter().map(|net| net.parse().unwrap()).collect());
    let discovery = Discovery::new(overrides, policy, dns.clone(), well_known.clone());
    Setup {
        discovery,
        dns,
        well_known,
    }
}

impl Setup {
    pub(crate) async fn discover(&self, server: &str) -> Result<Destination, DiscoveryError> {
        self.discovery
            .discover(&ServerName::parse(server).unwrap())
            .await
    }

    pub(crate) async fn endpoint(&self, server: &str) -> Endpoint {
        match self.discover(server).await {
            Ok(Destination::Federation(endpoint)) => endpoint,
            other => panic!("{server}: expected an endpoint, got {other:?}"),
        }
    }
}

pub(crate) fn endpoint(tls_name: &str, port: u16, host_header: &str, addrs: &[&str]) -> Endpoint {
    Endpoint {
        tls_name: ServerName::parse(tls_name).unwrap().host().clone(),
        port,
        host_header: host_header.to_owned(),
        addrs: addrs.iter().map(|ip| ip.parse().unwrap()).collect(),
    }
}
