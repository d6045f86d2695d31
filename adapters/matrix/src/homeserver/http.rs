//! reqwest set-up shared by every request to a homeserver: clients that can only reach the
//! addresses discovery checked, bounded body reads, and the real `.well-known` fetch.
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use reqwest::dns::{Name, Resolve, Resolving};
use reqwest::header::{CACHE_CONTROL, LOCATION};
use reqwest::redirect::Policy;
use reqwest::{Client, ClientBuilder, Response};
use url::Url;

use super::address_policy::{AddressPolicy, HOMESERVER_FIX, not_public};
use super::discovery::{Dns, FetchError, WellKnownFetch, WellKnownResponse};

const USER_AGENT: &str = concat!("Verity/", env!("CARGO_PKG_VERSION"));
/// The longest wait for a TCP connection (the request timeout still bounds the whole request).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How many redirects a `.well-known` fetch follows.
const MAX_WELL_KNOWN_REDIRECTS: usize = 5;

/// Limits and TLS choice for every request.
#[derive(Debug, Clone)]
pub(crate) struct HttpSettings {
    pub(crate) timeout: Duration,
    pub(crate) verify_tls: bool,
    pub(crate) max_response_bytes: usize,
}

impl HttpSettings {
    fn builder(&self) -> ClientBuilder {
        Client::builder()
            .user_agent(USER_AGENT)
            .redirect(Policy::none())
            .no_proxy()
            .timeout(self.timeout)
            .connect_timeout(self.timeout.min(CONNECT_TIMEOUT))
            .tls_danger_accept_invalid_certs(!self.verify_tls)
    }

    /// A client for operator overrides: their addresses are trusted, the system resolver is used.
    pub(crate) fn trusted_client(&self) -> reqwest::Result<Client> {
        self.builder().build()
    }

    /// A client that can reach nothing but `dns_name` (the URL's host, when it is a name) at
    /// `addrs`, which the caller has checked: reqwest never resolves a name itself, so what was
    /// checked is what is connected to (no DNS rebinding in between). An IP-literal URL needs
    /// no name (`None`). HTTP/1.1 only, so the `Host` header the spec asks for is sent as is.
    pub(crate) fn pinned_client(
        &self,
        dns_name: Option<&str>,
        addrs: &[IpAddr],
    ) -> reqwest::Result<Client> {
        let mut builder = self.builder().http1_only().dns_resolver(NoDns);
        if let Some(name) = dns_name {
            let addrs: Vec<SocketAddr> = addrs.iter().map(|ip| SocketAddr::new(*ip, 0)).collect();
            builder = builder.resolve_to_addrs(name, &addrs);
        }
        builder.build()
    }
}

/// A resolver that resolves nothing: pinned clients only reach their pinned names.
struct NoDns;

impl Resolve for NoDns {
    fn resolve(&self, name: Name) -> Resolving {
        let message = format!("{} was not checked before connecting", name.as_str());
        Box::pin(async move { Err(message.into()) })
    }
}

/// Why a body could not be read.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// It is larger than the limit (reading stopped there).
    TooLarge,
    /// The connection failed or timed out.
    Transport(reqwest::Error),
}

/// Reads at most `limit` bytes of body, chunk by chunk; anything longer is refused without being
/// read further.
pub(crate) async fn read_capped(
    mut response: Response,
    limit: usize,
) -> Result<Vec<u8>, BodyError> {
    let limit_u64 = u64::try_from(limit).unwrap_or(u64::MAX);
    if response
        .content_length()
        .is_some_and(|length| length > limit_u64)
    {
        return Err(BodyError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|error| BodyError::Transport(error.without_url()))?
    {
        if body.len().saturating_add(chunk.len()) > limit {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The real `.well-known` fetch: resolves and checks the host (and every redirect's), and
/// follows redirects itself, on the same scheme only.
pub(crate) struct HttpWellKnownFetch {
    settings: HttpSettings,
    policy: AddressPolicy,
    dns: Arc<dyn Dns>,
    /// `https` and 443 in production; tests reach a plain-HTTP fake.
    scheme: &'static str,
    port: u16,
    /// `/.well-known/matrix/server`, or `/.well-known/matrix/client` for identity servers.
    path: &'static str,
}

impl HttpWellKnownFetch {
    pub(crate) fn new(settings: HttpSettings, policy: AddressPolicy, dns: Arc<dyn Dns>) -> Self {
        Self {
            settings,
            policy,
            dns,
            scheme: "https",
            port: 443,
            path: "/.well-known/matrix/server",
        }
    }

    /// The same fetch for another `.well-known` document (e.g. `/.well-known/matrix/client`).
    pub(crate) fn for_path(mut self, path: &'static str) -> Self {
        self.path = path;
        self
    }

    /// The same fetch over plain HTTP on `port` (tests only).
    #[cfg(test)]
    pub(crate) fn plain_http(mut self, port: u16) -> Self {
        self.scheme = "http";
        self.port = port;
        self
    }

    /// A client that can reach `url`'s host only, after checking its addresses.
    async fn client_for(&self, url: &Url) -> Result<Client, FetchError> {
        let (name, addrs) = match url.host() {
            Some(url::Host::Domain(name)) => {
                let addrs = self
                    .dns
                    .ips(name)
                    .await
                    .map_err(|error| FetchError::Failed(format!("{name}: {error}")))?;
                (Some(name), addrs)
            }
            Some(url::Host::Ipv4(ip)) => (None, vec![IpAddr::V4(ip)]),
            Some(url::Host::Ipv6(ip)) => (None, vec![IpAddr::V6(ip)]),
            None => return Err(FetchError::Failed("a URL without a host".to_owned())),
        };
        if addrs.is_empty() {
            return Err(FetchError::Failed(format!(
                "{} has no address",
                name.unwrap_or_default()
            )));
        }
        if let Some(ip) = addrs.iter().find(|ip| !self.policy.permits(**ip)) {
            return Err(FetchError::Blocked(not_public(
                url.host_str().unwrap_or_default(),
                *ip,
                HOMESERVER_FIX,
            )));
        }
        self.settings
            .pinned_client(name, &addrs)
            .map_err(|error| FetchError::Failed(error.to_string()))
    }
}

#[async_trait]
impl WellKnownFetch for HttpWellKnownFetch {
    async fn fetch(&self, hostname: &str) -> Result<WellKnownResponse, FetchError> {
        let mut url = Url::parse(&format!(
            "{}://{hostname}:{}{}",
            self.scheme, self.port, self.path
        ))
        .map_err(|error| FetchError::Failed(error.to_string()))?;
        for _ in 0..=MAX_WELL_KNOWN_REDIRECTS {
            let client = self.client_for(&url).await?;
            let response = client
                .get(url.clone())
                .send()
                .await
                .map_err(|error| FetchError::Failed(error.without_url().to_string()))?;
            if response.status().is_redirection() {
                url = redirect_target(&url, &response, self.scheme)?;
                continue;
            }
            let status = response.status().as_u16();
            let cache_control = response
                .headers()
                .get(CACHE_CONTROL)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned);
            let body = read_capped(response, self.settings.max_response_bytes)
                .await
                .map_err(|error| match error {
                    BodyError::TooLarge => FetchError::TooLarge,
                    BodyError::Transport(error) => FetchError::Failed(error.to_string()),
                })?;
            return Ok(WellKnownResponse {
                status,
                body,
                cache_control,
            });
        }
        Err(FetchError::Failed("too many redirects".to_owned()))
    }
}

/// Where a redirect points, if it stays on `scheme`.
fn redirect_target(current: &Url, response: &Response, scheme: &str) -> Result<Url, FetchError> {
    let location = response
        .headers()
        .get(LOCATION)
        .and_then(|value| value.to_str().ok())
        .ok_or_else(|| FetchError::Failed("a redirect without a Location".to_owned()))?;
    let next = current
        .join(location)
        .map_err(|error| FetchError::Failed(format!("a redirect to an invalid URL: {error}")))?;
    if next.scheme() != scheme {
        return Err(FetchError::Failed(format!(
            "a redirect to another scheme ({})",
            next.scheme()
        )));
    }
    Ok(next)
}
