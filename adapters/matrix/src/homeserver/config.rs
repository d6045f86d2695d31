//! How Verity talks to homeservers, as the operator configured it (infrastructure maps the YAML
//! keys documented in `docs/federation.md` onto [`FederationConfig`]).
use std::collections::HashMap;
use std::time::Duration;

use ipnet::IpNet;
use url::Url;
use verity_domain::ServerName;

/// Settings of [`ReqwestHomeserverClient`](super::ReqwestHomeserverClient).
#[derive(Debug, Clone)]
pub struct FederationConfig {
    /// Operator overrides, `(server name as written, base URL)`: mxisd's
    /// `dns.overwrite.homeserver.federation: [{name, value}]`. A server named here is reached at
    /// that URL (e.g. `http://127.0.0.1:8008`) without discovery and without the address check.
    pub overrides: Vec<(String, String)>,
    /// Networks Verity may connect to although they are private or reserved (Verity-only,
    /// `federation.allowedNetworks`).
    pub allowed_networks: Vec<IpNet>,
    /// Whether homeservers' TLS certificates are verified (`federation.verifyTls`); `false` is
    /// for tests and is warned about.
    pub verify_tls: bool,
    /// The limit on each HTTP request to a homeserver, from connecting to the last byte of the
    /// body (`federation.timeout`).
    pub timeout: Duration,
    /// The largest response body Verity reads from a homeserver (`federation.maxResponseBytes`).
    pub max_response_bytes: usize,
    /// The most requests to homeservers in flight at once, all servers together
    /// (`federation.maxConcurrentRequests`); one more fails at once.
    pub max_concurrent_requests: usize,
    /// The most requests to one homeserver in flight at once
    /// (`federation.maxConcurrentRequestsPerServer`); one more fails at once.
    pub max_concurrent_requests_per_server: usize,
}

impl FederationConfig {
    /// The default request timeout.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
    /// The default response size limit, 64 KiB.
    pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 64 * 1024;
    /// The default cap on requests in flight, all homeservers together.
    pub const DEFAULT_MAX_CONCURRENT_REQUESTS: usize = 100;
    /// The default cap on requests in flight to one homeserver.
    pub const DEFAULT_MAX_CONCURRENT_REQUESTS_PER_SERVER: usize = 10;
}

impl FederationConfig {
    /// Refuses a zero timeout or size limit.
    pub(crate) fn validate(&self) -> Result<(), FederationSetupError> {
        if self.timeout.is_zero() {
            return Err(FederationSetupError::Timeout);
        }
        if self.max_response_bytes == 0 {
            return Err(FederationSetupError::MaxResponseBytes);
        }
        if self.max_concurrent_requests == 0 || self.max_concurrent_requests_per_server == 0 {
            return Err(FederationSetupError::MaxConcurrentRequests);
        }
        Ok(())
    }
}

impl Default for FederationConfig {
    fn default() -> Self {
        Self {
            overrides: Vec::new(),
            allowed_networks: Vec::new(),
            verify_tls: true,
            timeout: Self::DEFAULT_TIMEOUT,
            max_response_bytes: Self::DEFAULT_MAX_RESPONSE_BYTES,
            max_concurrent_requests: Self::DEFAULT_MAX_CONCURRENT_REQUESTS,
            max_concurrent_requests_per_server: Self::DEFAULT_MAX_CONCURRENT_REQUESTS_PER_SERVER,
        }
    }
}

/// Why a [`FederationConfig`] cannot be used, or the client cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum FederationSetupError {
    /// An override's `name` is not a server name (`host[:port]`).
    #[error("dns.overwrite.homeserver.federation: {name:?} is not a server name (host[:port])")]
    OverrideName {
        /// The name as written.
        name: String,
    },
    /// An override's `value` is not an `http://` or `https://` URL with a host.
    #[error(
        "dns.overwrite.homeserver.federation: the value for {name:?} is not an http(s) URL: {value:?}"
    )]
    OverrideUrl {
        /// The name of the entry.
        name: String,
        /// The value as written.
        value: String,
    },
    /// The timeout is zero.
    #[error("federation.timeout must be longer than zero")]
    Timeout,
    /// The response size limit is zero.
    #[error("federation.maxResponseBytes must be at least 1")]
    MaxResponseBytes,
    /// A concurrency cap is zero.
    #[error(
        "federation.maxConcurrentRequests and federation.maxConcurrentRequestsPerServer must be \
         at least 1"
    )]
    MaxConcurrentRequests,
    /// The system's DNS configuration could not be read.
    #[error("cannot read the system DNS configuration: {0}")]
    Dns(String),
    /// The HTTP client could not be built (TLS set-up).
    #[error("cannot build the HTTP client for homeservers: {0}")]
    Http(String),
}

/// Parses the overrides into a lookup table.
pub(crate) fn parse_overrides(
    overrides: &[(String, String)],
) -> Result<HashMap<ServerName, Url>, FederationSetupError> {
    overrides
        .iter()
        .map(|(name, value)| {
            let server = ServerName::parse(name.trim())
                .map_err(|_| FederationSetupError::OverrideName { name: name.clone() })?;
            let url = Url::parse(value.trim())
                .ok()
                .filter(|url| {
                    matches!(url.scheme(), "http" | "https")
                        && url.host().is_some()
                        && url.query().is_none()
                        && url.fragment().is_none()
                })
                .ok_or_else(|| FederationSetupError::OverrideUrl {
                    name: name.clone(),
                    value: value.clone(),
                })?;
            Ok((server, url))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, value: &str) -> Vec<(String, String)> {
        vec![(name.to_owned(), value.to_owned())]
    }

    #[test]
    fn overrides_map_server_names_to_base_urls() {
        let table = parse_overrides(&entry("Example.org", "http://127.0.0.1:8008")).unwrap();
        let server = ServerName::parse("example.org").unwrap();
        assert_eq!(table[&server].as_str(), "http://127.0.0.1:8008/");
    }

    #[test]
    fn overrides_that_are_not_server_names_or_urls_are_refused() {
        assert!(matches!(
            parse_overrides(&entry("https://example.org", "http://127.0.0.1")),
            Err(FederationSetupError::OverrideName { .. })
        ));
        for value in [
            "127.0.0.1:8008",
            "ftp://host",
            "http://host/?a=b",
            "not a url",
        ] {
            assert!(
                matches!(
                    parse_overrides(&entry("example.org", value)),
                    Err(FederationSetupError::OverrideUrl { .. })
                ),
                "{value}"
            );
        }
    }

    #[test]
    fn the_defaults_verify_tls_and_bound_time_and_size() {
        let config = FederationConfig::default();
        assert!(config.verify_tls);
        assert_eq!(config.timeout, Duration::from_secs(10));
        assert_eq!(config.max_response_bytes, 65_536);
        assert_eq!(config.max_concurrent_requests, 100);
        assert_eq!(config.max_concurrent_requests_per_server, 10);
    }
}
