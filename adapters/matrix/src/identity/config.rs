//! How Verity reaches other identity servers, as the operator configured it
//! (`matrix.identity.servers`, plus the `federation.*` limits; see `docs/federation.md`).
use std::collections::BTreeMap;
use std::time::Duration;

use ipnet::IpNet;
use url::Url;
use verity_domain::{ServerLabel, ServerName};

use crate::FederationConfig;

/// Settings of [`ReqwestIdentityServers`](super::ReqwestIdentityServers).
#[derive(Debug, Clone)]
pub struct IdentityServersConfig {
    /// `matrix.identity.servers`: each label's entries, in order; each a URL (used as is) or a
    /// domain name (discovered).
    pub servers: BTreeMap<ServerLabel, Vec<String>>,
    /// Private networks discovered servers may be on (`federation.allowedNetworks`).
    pub allowed_networks: Vec<IpNet>,
    /// Whether TLS certificates are verified (`federation.verifyTls`).
    pub verify_tls: bool,
    /// The limit on each request, connecting included (`federation.timeout`).
    pub timeout: Duration,
    /// The limit on each usability probe (mxisd used 2 s).
    pub probe_timeout: Duration,
    /// The largest answer read (a bulk lookup answer can be long).
    pub max_response_bytes: usize,
    /// How long the server chosen for a label is kept before it is discovered and probed again.
    pub cache_ttl: Duration,
}

impl IdentityServersConfig {
    /// The default probe timeout, as mxisd.
    pub const DEFAULT_PROBE_TIMEOUT: Duration = Duration::from_secs(2);
    /// The default answer size limit, 4 MiB (10,000 bulk lookup rows fit).
    pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;
    /// The default time a chosen server is kept.
    pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(15 * 60);

    /// The labels of `servers` with the network, TLS and timeout choices made for homeservers.
    pub fn new(servers: BTreeMap<ServerLabel, Vec<String>>, federation: &FederationConfig) -> Self {
        Self {
            servers,
            allowed_networks: federation.allowed_networks.clone(),
            verify_tls: federation.verify_tls,
            timeout: federation.timeout,
            probe_timeout: Self::DEFAULT_PROBE_TIMEOUT.min(federation.timeout),
            max_response_bytes: Self::DEFAULT_MAX_RESPONSE_BYTES,
            cache_ttl: Self::DEFAULT_CACHE_TTL,
        }
    }
}

/// Why the identity server client cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum IdentitySetupError {
    /// An entry is neither an `http(s)://` URL nor a domain name.
    #[error(
        "matrix.identity.servers.{label}: {entry:?} is neither an http(s) URL nor a domain name"
    )]
    Entry {
        /// The label.
        label: String,
        /// The entry as written.
        entry: String,
    },
    /// A zero timeout or size limit.
    #[error("the identity server client needs non-zero timeouts and size limit")]
    Limits,
    /// The system's DNS configuration could not be read.
    #[error("cannot read the system DNS configuration: {0}")]
    Dns(String),
    /// The HTTP client could not be built (TLS set-up).
    #[error("cannot build the HTTP client for identity servers: {0}")]
    Http(String),
}

/// One entry of a label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Entry {
    /// Configured by the operator: trusted, used as is (loopback and plain HTTP allowed).
    Url(Url),
    /// A bare domain name, discovered: SRV, `.well-known/matrix/client`, then `https://<domain>`.
    Domain(String),
    /// A host with a port, or an IP address: `https://<host>[:<port>]` without discovery (an
    /// explicit port means "here", as for homeservers), still behind the address policy.
    Direct(String),
}

impl Entry {
    /// A URL when it has a scheme, else a host with an optional port.
    pub(crate) fn parse(label: &ServerLabel, raw: &str) -> Result<Self, IdentitySetupError> {
        let raw = raw.trim();
        let refused = || IdentitySetupError::Entry {
            label: label.as_str().to_owned(),
            entry: raw.to_owned(),
        };
        if raw.contains("://") {
            let url = Url::parse(raw).map_err(|_| refused())?;
            if !matches!(url.scheme(), "http" | "https")
                || url.host().is_none()
                || url.query().is_some()
                || url.fragment().is_some()
            {
                return Err(refused());
            }
            return Ok(Self::Url(url));
        }
        let name = ServerName::parse(raw).map_err(|_| refused())?;
        match (name.host(), name.port()) {
            (verity_domain::Host::Dns(host), None) => Ok(Self::Domain(host.to_ascii_lowercase())),
            _ => Ok(Self::Direct(name.to_string().to_ascii_lowercase())),
        }
    }
}

/// A base URL as the port carries it: no trailing slash.
pub(crate) fn base_string(url: &Url) -> String {
    url.as_str().trim_end_matches('/').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label() -> ServerLabel {
        ServerLabel::parse("root").unwrap()
    }

    #[test]
    fn entries_with_a_scheme_are_urls_and_bare_names_are_domains() {
        assert_eq!(
            Entry::parse(&label(), "http://127.0.0.1:8090").unwrap(),
            Entry::Url("http://127.0.0.1:8090".parse().unwrap())
        );
        assert_eq!(
            Entry::parse(&label(), " Matrix.org ").unwrap(),
            Entry::Domain("matrix.org".into())
        );
    }

    #[test]
    fn hosts_with_a_port_and_ip_addresses_are_reached_directly() {
        for (raw, direct) in [
            ("matrix.org:8090", "matrix.org:8090"),
            ("10.0.0.1", "10.0.0.1"),
            ("[::1]:8090", "[::1]:8090"),
        ] {
            assert_eq!(
                Entry::parse(&label(), raw).unwrap(),
                Entry::Direct(direct.into())
            );
        }
    }

    #[test]
    fn entries_that_are_neither_are_refused() {
        for raw in [
            "ftp://matrix.org",
            "https://matrix.org/?x=1",
            "not a name",
            "a/b",
            "",
        ] {
            assert!(Entry::parse(&label(), raw).is_err(), "{raw}");
        }
    }

    #[test]
    fn base_urls_lose_their_trailing_slash() {
        assert_eq!(
            base_string(&"https://matrix.org/".parse().unwrap()),
            "https://matrix.org"
        );
        assert_eq!(
            base_string(&"https://example.org/is/".parse().unwrap()),
            "https://example.org/is"
        );
    }
}
