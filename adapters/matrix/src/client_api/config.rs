//! Where the homeserver's client-server API is, as the operator configured it
//! (`dns.overwrite.homeserver.client`, `matrix.domain`) and how it is asked (the `federation.*`
//! limits).
use std::time::Duration;

use url::Url;
use verity_domain::{Host, IpNetwork, ServerName};

/// Settings of [`ReqwestHomeserverAsUser`](super::ReqwestHomeserverAsUser).
#[derive(Debug, Clone)]
pub struct ClientApiConfig {
    /// mxisd's `dns.overwrite.homeserver.client: [{name, value}]`: the host clients call (the
    /// `Host` of the request the reverse proxy passed on) and the base URL the homeserver's
    /// client API answers at, e.g. `('matrix.example.org', 'http://127.0.0.1:8008')`.
    pub overrides: Vec<(String, String)>,
    /// `matrix.domain`: without a matching override, the homeserver is the `m.homeserver`
    /// `base_url` of `https://<matrix.domain>/.well-known/matrix/client`.
    pub matrix_domain: String,
    /// `federation.verifyTls`.
    pub verify_tls: bool,
    /// `federation.timeout`: the limit on each request.
    pub timeout: Duration,
    /// `federation.maxResponseBytes`: the largest answer read.
    pub max_response_bytes: usize,
    /// `server.trustedProxies`: which `X-Forwarded-For` hops to believe when telling the
    /// homeserver who the client is.
    pub trusted_proxies: Vec<IpNetwork>,
}

/// Why a [`ClientApiConfig`] cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ClientApiSetupError {
    /// An override's `name` is not a host (`host[:port]`).
    #[error("dns.overwrite.homeserver.client: {name:?} is not a host name (host[:port])")]
    OverrideName {
        /// The name as written.
        name: String,
    },
    /// An override's `value` is not an `http://` or `https://` URL with a host.
    #[error(
        "dns.overwrite.homeserver.client: the value for {name:?} is not an http(s) URL: {value:?}"
    )]
    OverrideUrl {
        /// The name of the entry.
        name: String,
        /// The value as written.
        value: String,
    },
    /// The timeout or the size limit is zero.
    #[error("federation.timeout and federation.maxResponseBytes must be greater than zero")]
    Limits,
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client for the homeserver's client API: {0}")]
    Http(String),
}

/// One `dns.overwrite.homeserver.client` entry, parsed.
#[derive(Debug, Clone)]
pub(crate) struct Override {
    host: Host,
    port: Option<u16>,
    pub(crate) base: Url,
}

impl Override {
    /// Whether a request to `called` is for this entry: the same host (mxisd compared the host
    /// alone), and the same port when the entry names one.
    pub(crate) fn matches(&self, called: &ServerName) -> bool {
        *called.host() == self.host && self.port.is_none_or(|port| called.port() == Some(port))
    }
}

/// The overrides as a list to match in order.
pub(crate) fn parse_overrides(
    overrides: &[(String, String)],
) -> Result<Vec<Override>, ClientApiSetupError> {
    overrides
        .iter()
        .map(|(name, value)| {
            let server = ServerName::parse(name.trim())
                .map_err(|_| ClientApiSetupError::OverrideName { name: name.clone() })?;
            let base = base_url(value).ok_or_else(|| ClientApiSetupError::OverrideUrl {
                name: name.clone(),
                value: value.clone(),
            })?;
            Ok(Override {
                host: server.host().clone(),
                port: server.port(),
                base,
            })
        })
        .collect()
}

/// An absolute http(s) URL with a host and no query or fragment, as a base that paths are
/// appended to (without its trailing `/`).
pub(crate) fn base_url(value: &str) -> Option<Url> {
    let url = Url::parse(value.trim()).ok()?;
    let usable = matches!(url.scheme(), "http" | "https")
        && url.host().is_some()
        && url.query().is_none()
        && url.fragment().is_none();
    usable.then_some(url)
}

/// `path` under `base` (whose own path is kept: a homeserver behind a path prefix).
pub(crate) fn join(base: &Url, path: &str) -> Result<Url, url::ParseError> {
    Url::parse(&format!("{}{path}", base.as_str().trim_end_matches('/')))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, value: &str) -> Vec<(String, String)> {
        vec![(name.to_owned(), value.to_owned())]
    }

    fn called(raw: &str) -> ServerName {
        ServerName::parse(raw).unwrap()
    }

    #[test]
    fn an_entry_matches_its_host_whatever_the_port_unless_it_names_one() {
        let any_port =
            &parse_overrides(&entry("Matrix.Example.org", "http://127.0.0.1:8008")).unwrap()[0];
        assert!(any_port.matches(&called("matrix.example.org")));
        assert!(any_port.matches(&called("matrix.example.org:443")));
        assert!(!any_port.matches(&called("example.org")));
        let one_port = &parse_overrides(&entry("matrix.example.org:8448", "http://h")).unwrap()[0];
        assert!(one_port.matches(&called("matrix.example.org:8448")));
        assert!(!one_port.matches(&called("matrix.example.org")));
    }

    #[test]
    fn paths_are_appended_to_the_base_with_its_own_path() {
        let base = base_url("http://127.0.0.1:8008/synapse/").unwrap();
        assert_eq!(
            join(&base, "/_matrix/client/v3/account/whoami")
                .unwrap()
                .as_str(),
            "http://127.0.0.1:8008/synapse/_matrix/client/v3/account/whoami"
        );
    }

    #[test]
    fn entries_that_are_not_hosts_or_urls_are_refused() {
        assert!(matches!(
            parse_overrides(&entry("https://example.org", "http://127.0.0.1")),
            Err(ClientApiSetupError::OverrideName { .. })
        ));
        for value in ["127.0.0.1:8008", "ftp://host", "http://host/?a=b", "nope"] {
            assert!(
                matches!(
                    parse_overrides(&entry("example.org", value)),
                    Err(ClientApiSetupError::OverrideUrl { .. })
                ),
                "{value}"
            );
        }
    }
}
