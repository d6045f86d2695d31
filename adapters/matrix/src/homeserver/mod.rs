//! [`ReqwestHomeserverClient`]: Verity's [`HomeserverClient`] over reqwest, with server discovery
//! as the server-server API specifies, SSRF protection and bounded responses.
// Shared with the remote identity server client (`crate::identity`).
pub(crate) mod address_policy;
mod config;
pub(crate) mod discovery;
pub(crate) mod dns;
pub(crate) mod http;
mod key_cache;
mod onbind;
mod outbound_limit;
mod server_keys;

#[cfg(test)]
mod discovery_policy_tests;
#[cfg(test)]
mod discovery_tests;
#[cfg(test)]
mod http_tests;
#[cfg(test)]
mod onbind_tests;
#[cfg(test)]
pub(crate) mod test_support;

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use reqwest::StatusCode;
use reqwest::header::HOST;
use verity_application::ports::driven::{Clock, HomeserverClient, HomeserverError, OpenIdToken};
use verity_domain::{Host, KeyId, PublicKey, ServerName, Timestamp, UserId};

pub use config::{FederationConfig, FederationSetupError};

use address_policy::AddressPolicy;
use discovery::{Destination, Discovery, DiscoveryError, Dns, WellKnownFetch, string_member};
use http::{BodyError, HttpSettings, HttpWellKnownFetch, read_capped};
use key_cache::KeyCache;
use outbound_limit::{OutboundLimit, Permit};

const USERINFO_PATH: &str = "/_matrix/federation/v1/openid/userinfo";
/// The `errcode`s with which a 403 or 404 means "this token is not valid" (a 401 always does).
const TOKEN_ERRCODES: [&str; 4] = [
    "M_UNKNOWN_TOKEN",
    "M_MISSING_TOKEN",
    "M_UNAUTHORIZED",
    "M_FORBIDDEN",
];

/// Asks homeservers about OpenID tokens over federation (`GET
/// /_matrix/federation/v1/openid/userinfo`).
///
/// Discovery: an operator override for the server name, else an IP literal, a host with a port,
/// `.well-known/matrix/server` delegation (cached), SRV `_matrix-fed._tcp` then `_matrix._tcp`,
/// then port 8448. Every address Verity connects to (for `.well-known` too) is resolved here,
/// checked against the private-address block list and then connected to directly, so DNS
/// rebinding cannot slip past the check. Redirects are not followed except for `.well-known`,
/// where each hop is checked.
///
/// Every call (discovery included) first takes a permit from the [`OutboundLimit`]: over
/// `federation.maxConcurrentRequests` in flight, or `maxConcurrentRequestsPerServer` to one
/// server, it fails at once as [`HomeserverError::Unreachable`]. Signing keys are cached (see
/// `key_cache.rs`).
pub struct ReqwestHomeserverClient {
    discovery: Discovery,
    settings: HttpSettings,
    trusted: reqwest::Client,
    limit: OutboundLimit,
    keys: KeyCache,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for ReqwestHomeserverClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReqwestHomeserverClient")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl ReqwestHomeserverClient {
    /// Builds the client with the system's DNS configuration. Installs ring as rustls' process
    /// default crypto provider if none is installed yet. Warns when TLS verification is off.
    ///
    /// # Errors
    /// [`FederationSetupError`] for an invalid override, a zero timeout or size limit, an
    /// unreadable DNS configuration, or a TLS set-up failure.
    pub fn new(config: FederationConfig) -> Result<Self, FederationSetupError> {
        config.validate()?;
        let dns = dns::HickoryDns::from_system_conf(config.timeout)?;
        Self::with_dns(config, Arc::new(dns), None)
    }

    /// Builds the client over the given DNS, and the given `.well-known` fetch or the real one.
    fn with_dns(
        config: FederationConfig,
        dns: Arc<dyn Dns>,
        well_known: Option<Arc<dyn WellKnownFetch>>,
    ) -> Result<Self, FederationSetupError> {
        config.validate()?;
        let overrides = config::parse_overrides(&config.overrides)?;
        // Another component may have installed it already; either way one is installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
        if !config.verify_tls {
            tracing::warn!(
                "federation.verifyTls is false: homeservers' TLS certificates are NOT verified; \
                 anyone on the network path can impersonate a homeserver"
            );
        }
        let settings = HttpSettings {
            timeout: config.timeout,
            verify_tls: config.verify_tls,
            max_response_bytes: config.max_response_bytes,
        };
        let policy = AddressPolicy::new(config.allowed_networks);
        let trusted = settings
            .trusted_client()
            .map_err(|error| FederationSetupError::Http(error.to_string()))?;
        let well_known = well_known.unwrap_or_else(|| {
            Arc::new(HttpWellKnownFetch::new(
                settings.clone(),
                policy.clone(),
                Arc::clone(&dns),
            ))
        });
        Ok(Self {
            discovery: Discovery::new(overrides, policy, dns, well_known),
            settings,
            trusted,
            limit: OutboundLimit::new(
                config.max_concurrent_requests,
                config.max_concurrent_requests_per_server,
            ),
            keys: KeyCache::new(key_cache::CAPACITY),
            clock: Arc::new(SystemClock),
        })
    }

    /// The same client reading the time from `clock` (to judge keys' `valid_until_ts`); the
    /// system clock by default.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// A permit for one call to `server`, or the reason there is none.
    fn permit(&self, server: &ServerName) -> Result<Permit, HomeserverError> {
        let host = match server.host() {
            Host::Dns(name) => name.clone(),
            other => other.to_string(),
        };
        self.limit.try_acquire(&host).map_err(|busy| {
            tracing::warn!(error = %busy, "homeserver call refused: too many in flight");
            HomeserverError::Unreachable(Box::new(busy))
        })
    }

    /// The client and URL that reach `path` on `destination`, with the `Host` header to send.
    fn request_for(
        &self,
        destination: &Destination,
        path: &str,
    ) -> Result<(reqwest::Client, url::Url, Option<String>), HomeserverError> {
        match destination {
            Destination::Override(base) => {
                let url =
                    url::Url::parse(&format!("{}{path}", base.as_str().trim_end_matches('/')))
                        .map_err(|error| HomeserverError::Unreachable(Box::new(error)))?;
                Ok((self.trusted.clone(), url, None))
            }
            Destination::Federation(endpoint) => {
                let url = endpoint
                    .url(path)
                    .map_err(|error| HomeserverError::Unreachable(Box::new(error)))?;
                let name = match &endpoint.tls_name {
                    verity_domain::Host::Dns(name) => Some(name.as_str()),
                    _ => None,
                };
                let client = self
                    .settings
                    .pinned_client(name, &endpoint.addrs)
                    .map_err(|error| HomeserverError::Unreachable(Box::new(error)))?;
                Ok((client, url, Some(endpoint.host_header.clone())))
            }
        }
    }
}

impl From<DiscoveryError> for HomeserverError {
    fn from(error: DiscoveryError) -> Self {
        match error {
            DiscoveryError::Blocked(why) => Self::Blocked(why),
            DiscoveryError::Unresolvable(why) => Self::Unreachable(why.into()),
        }
    }
}

/// A homeserver answered with a status that means neither success nor a rejected token.
#[derive(Debug, thiserror::Error)]
#[error("the homeserver answered HTTP {0}")]
pub(crate) struct UnexpectedStatus(StatusCode);

#[async_trait]
impl HomeserverClient for ReqwestHomeserverClient {
    #[tracing::instrument(name = "openid_userinfo", skip_all, fields(server = %server))]
    async fn openid_userinfo(
        &self,
        server: &ServerName,
        token: &OpenIdToken,
    ) -> Result<UserId, HomeserverError> {
        let _permit = self.permit(server)?;
        let destination = self.discovery.discover(server).await.inspect_err(|error| {
            tracing::info!(%error, "homeserver not reachable or not allowed");
        })?;
        let (client, mut url, host) = self.request_for(&destination, USERINFO_PATH)?;
        url.query_pairs_mut()
            .append_pair("access_token", token.expose());
        let mut request = client.get(url);
        if let Some(host) = host {
            request = request.header(HOST, host);
        }
        // `without_url`: the URL carries the token, and errors end up in logs.
        let response = request.send().await.map_err(|error| {
            let error = error.without_url();
            tracing::info!(%error, "userinfo request failed");
            HomeserverError::Unreachable(Box::new(error))
        })?;
        let status = response.status();
        let body = read_capped(response, self.settings.max_response_bytes).await;
        interpret_userinfo(status, body, self.settings.max_response_bytes)
    }

    #[tracing::instrument(name = "server_keys", skip_all, fields(server = %server))]
    async fn server_keys(
        &self,
        server: &ServerName,
        key: &KeyId,
    ) -> Result<Vec<(KeyId, PublicKey)>, HomeserverError> {
        self.cached_server_keys(server, key).await
    }

    #[tracing::instrument(name = "onbind", skip_all, fields(server = %server))]
    async fn onbind(
        &self,
        server: &ServerName,
        body: &verity_domain::JsonObject,
    ) -> Result<(), HomeserverError> {
        self.post_onbind(server, body).await
    }
}

/// The system's wall clock.
struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let millis = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        Timestamp::from_millis(millis)
    }
}

impl ReqwestHomeserverClient {
    /// `GET path` on `server`, discovered and checked like every federation request; the body,
    /// bounded, and the status.
    async fn get_federation(
        &self,
        server: &ServerName,
        path: &str,
    ) -> Result<(StatusCode, Result<Vec<u8>, BodyError>), HomeserverError> {
        let _permit = self.permit(server)?;
        let destination = self.discovery.discover(server).await.inspect_err(|error| {
            tracing::info!(%error, "homeserver not reachable or not allowed");
        })?;
        let (client, url, host) = self.request_for(&destination, path)?;
        let mut request = client.get(url);
        if let Some(host) = host {
            request = request.header(HOST, host);
        }
        let response = request.send().await.map_err(|error| {
            let error = error.without_url();
            tracing::info!(%error, path, "federation request failed");
            HomeserverError::Unreachable(Box::new(error))
        })?;
        let status = response.status();
        Ok((
            status,
            read_capped(response, self.settings.max_response_bytes).await,
        ))
    }
}

/// Turns the userinfo answer into the port's result.
fn interpret_userinfo(
    status: StatusCode,
    body: Result<Vec<u8>, BodyError>,
    limit: usize,
) -> Result<UserId, HomeserverError> {
    if status.is_success() {
        let body = body.map_err(|error| match error {
            BodyError::TooLarge => HomeserverError::InvalidResponse(format!(
                "the userinfo response is larger than {limit} bytes"
            )),
            BodyError::Transport(error) => HomeserverError::Unreachable(Box::new(error)),
        })?;
        let sub = string_member(&body, "sub").ok_or_else(|| {
            HomeserverError::InvalidResponse("not a JSON object with a string `sub`".to_owned())
        })?;
        return UserId::parse(&sub).map_err(|_| {
            HomeserverError::InvalidResponse("`sub` is not a Matrix user ID".to_owned())
        });
    }
    let errcode = body.ok().and_then(|body| string_member(&body, "errcode"));
    let rejected = status == StatusCode::UNAUTHORIZED
        || (matches!(status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND)
            && errcode
                .as_deref()
                .is_some_and(|code| TOKEN_ERRCODES.contains(&code)));
    if rejected {
        tracing::debug!(%status, "the homeserver rejected the token");
        return Err(HomeserverError::TokenRejected);
    }
    tracing::info!(%status, errcode, "unexpected userinfo status");
    Err(HomeserverError::Unreachable(Box::new(UnexpectedStatus(
        status,
    ))))
}
