//! [`ReqwestHomeserverClient`]: Verity's [`HomeserverClient`] over reqwest, with server discovery
//! as the server-server API specifies, SSRF protection and bounded responses.
// Shared with the remote identity server client (`crate::identity`).
pub(crate) mod address_policy;
mod config;
pub(crate) mod discovery;
pub(crate) mod dns;
pub(crate) mod http;
mod onbind;

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
use verity_application::ports::driven::{HomeserverClient, HomeserverError, OpenIdToken};
use verity_domain::{KeyId, PublicKey, ServerName, Timestamp, UserId, verified_server_keys};

pub use config::{FederationConfig, FederationSetupError};

use address_policy::AddressPolicy;
use discovery::{Destination, Discovery, DiscoveryError, Dns, WellKnownFetch, string_member};
use http::{BodyError, HttpSettings, HttpWellKnownFetch, read_capped};

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
pub struct ReqwestHomeserverClient {
    discovery: Discovery,
    settings: HttpSettings,
    trusted: reqwest::Client,
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
struct UnexpectedStatus(StatusCode);

#[async_trait]
impl HomeserverClient for ReqwestHomeserverClient {
    #[tracing::instrument(name = "openid_userinfo", skip_all, fields(server = %server))]
    async fn openid_userinfo(
        &self,
        server: &ServerName,
        token: &OpenIdToken,
    ) -> Result<UserId, HomeserverError> {
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
    ) -> Result<Vec<(KeyId, PublicKey)>, HomeserverError> {
        let (status, body) = self.get_federation(server, KEYS_PATH).await?;
        interpret_keys(server, status, body)
    }

    #[tracing::instrument(name = "onbind", skip_all, fields(server = %server))]
    async fn onbind(
        &self,
        server: &ServerName,
        body: &serde_json::Value,
    ) -> Result<(), HomeserverError> {
        self.post_onbind(server, body).await
    }
}

const KEYS_PATH: &str = "/_matrix/key/v2/server";

impl ReqwestHomeserverClient {
    /// `GET path` on `server`, discovered and checked like every federation request; the body,
    /// bounded, and the status.
    async fn get_federation(
        &self,
        server: &ServerName,
        path: &str,
    ) -> Result<(StatusCode, Result<Vec<u8>, BodyError>), HomeserverError> {
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

/// Turns the key document into checked keys.
fn interpret_keys(
    server: &ServerName,
    status: StatusCode,
    body: Result<Vec<u8>, BodyError>,
) -> Result<Vec<(KeyId, PublicKey)>, HomeserverError> {
    if !status.is_success() {
        return Err(HomeserverError::Unreachable(Box::new(UnexpectedStatus(
            status,
        ))));
    }
    let body = body.map_err(|error| match error {
        BodyError::TooLarge => {
            HomeserverError::InvalidResponse("the key document is too large".into())
        }
        BodyError::Transport(error) => HomeserverError::Unreachable(Box::new(error)),
    })?;
    let document: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|_| HomeserverError::InvalidResponse("the key document is not JSON".into()))?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    verified_server_keys(&document, server, Timestamp::from_millis(now))
        .map_err(|error| HomeserverError::InvalidResponse(error.to_string()))
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
