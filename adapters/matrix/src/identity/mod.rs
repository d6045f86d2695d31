//! [`ReqwestIdentityServers`]: Verity's [`RemoteIdentityServers`] over reqwest: label resolution
//! with discovery and a usability probe, then the unauthenticated v1 API.
mod client;
mod config;
mod discovery;

#[cfg(test)]
mod discovery_tests;
#[cfg(test)]
mod http_tests;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Map, Value, json};
use verity_application::ports::driven::{
    RemoteError, RemoteIdentityServers, RemoteServer, RemoteTokenRequest,
};
use verity_domain::{
    ClientSecret, ServerLabel, SessionId, SignedAssociation, ThreePid, UserId, ValidationToken,
};

pub use config::{IdentityServersConfig, IdentitySetupError};

use crate::homeserver::address_policy::AddressPolicy;
use crate::homeserver::discovery::{Dns, WellKnownFetch};
use crate::homeserver::dns::HickoryDns;
use crate::homeserver::http::{HttpSettings, HttpWellKnownFetch, read_capped};
use client::{V1, interpret};
use config::Entry;
use discovery::{Candidate, Probe, Resolver};

/// The client discovery document, whose `m.identity_server.base_url` names an identity server.
const WELL_KNOWN_CLIENT: &str = "/.well-known/matrix/client";
/// The largest probe answer read: the probe only needs `{}`.
const PROBE_MAX_BYTES: usize = 64 * 1024;

/// Other identity servers, by label (`matrix.identity.servers`).
///
/// A URL entry is the operator's: it is used as is (plain HTTP and private addresses allowed).
/// A domain entry is discovered, and every address found is checked against the same block
/// list as homeservers (`federation.allowedNetworks` opens it) and then pinned, so DNS
/// rebinding cannot slip past the check. No redirect is followed. Answers are bounded in size
/// and time. Client secrets and tokens travel in bodies or queries that are never logged.
pub struct ReqwestIdentityServers {
    resolver: Resolver,
    http: Http,
}

impl fmt::Debug for ReqwestIdentityServers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReqwestIdentityServers")
            .field("settings", &self.http.settings)
            .finish_non_exhaustive()
    }
}

/// The HTTP side: clients, limits, the probe.
#[derive(Clone)]
struct Http {
    settings: HttpSettings,
    trusted: reqwest::Client,
    probe_timeout: Duration,
}

impl ReqwestIdentityServers {
    /// Builds the client with the system's DNS configuration.
    ///
    /// # Errors
    /// [`IdentitySetupError`] for an entry that is neither a URL nor a domain name, zero limits,
    /// an unreadable DNS configuration, or a TLS set-up failure.
    pub fn new(config: IdentityServersConfig) -> Result<Self, IdentitySetupError> {
        let dns = HickoryDns::from_system_conf(config.timeout)
            .map_err(|error| IdentitySetupError::Dns(error.to_string()))?;
        Self::with_parts(config, Arc::new(dns), None, None)
    }

    /// Builds the client over the given DNS and, optionally, `.well-known` fetch; `plain_port`
    /// makes discovered servers plain HTTP on that port (tests only).
    fn with_parts(
        config: IdentityServersConfig,
        dns: Arc<dyn Dns>,
        well_known: Option<Arc<dyn WellKnownFetch>>,
        plain_port: Option<u16>,
    ) -> Result<Self, IdentitySetupError> {
        if config.timeout.is_zero()
            || config.probe_timeout.is_zero()
            || config.max_response_bytes == 0
        {
            return Err(IdentitySetupError::Limits);
        }
        let labels = config
            .servers
            .iter()
            .map(|(label, entries)| {
                let entries = entries
                    .iter()
                    .map(|entry| Entry::parse(label, entry))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok((label.clone(), entries))
            })
            .collect::<Result<BTreeMap<_, _>, IdentitySetupError>>()?;
        let _ = rustls::crypto::ring::default_provider().install_default();
        let settings = HttpSettings {
            timeout: config.timeout,
            verify_tls: config.verify_tls,
            max_response_bytes: config.max_response_bytes,
        };
        let trusted = settings
            .trusted_client()
            .map_err(|error| IdentitySetupError::Http(error.to_string()))?;
        let policy = AddressPolicy::new(config.allowed_networks);
        let well_known = well_known.unwrap_or_else(|| {
            let fetch = HttpWellKnownFetch::new(
                HttpSettings {
                    max_response_bytes: PROBE_MAX_BYTES,
                    ..settings.clone()
                },
                policy.clone(),
                Arc::clone(&dns),
            )
            .for_path(WELL_KNOWN_CLIENT);
            Arc::new(fetch)
        });
        let http = Http {
            settings,
            trusted,
            probe_timeout: config.probe_timeout,
        };
        let resolver = Resolver::new(
            labels,
            policy,
            dns,
            well_known,
            Arc::new(http.clone()),
            config.cache_ttl,
        );
        #[cfg(test)]
        let resolver = match plain_port {
            Some(port) => resolver.plain_http(port),
            None => resolver,
        };
        #[cfg(not(test))]
        let _ = plain_port;
        Ok(Self { resolver, http })
    }

    /// `POST` (with a body) or `GET` (with a query) `path` on `server`; the answer as a JSON
    /// object.
    async fn call(
        &self,
        server: &RemoteServer,
        path: &str,
        body: Option<&Value>,
        query: &[(&str, &str)],
    ) -> Result<Map<String, Value>, RemoteError> {
        self.call_raw(server, path, body, query)
            .await
            .map(|(object, _)| object)
    }

    /// [`call`](Self::call), with the answer's exact bytes beside the object.
    async fn call_raw(
        &self,
        server: &RemoteServer,
        path: &str,
        body: Option<&Value>,
        query: &[(&str, &str)],
    ) -> Result<(Map<String, Value>, Vec<u8>), RemoteError> {
        let candidate = self
            .resolver
            .candidate_for(&server.base_url)
            .await
            .map_err(|why| RemoteError::Unreachable(why.into()))?;
        let client = self
            .http
            .client_for(&candidate)
            .map_err(|error| RemoteError::Unreachable(Box::new(error)))?;
        let mut url = url::Url::parse(&format!(
            "{}{V1}{path}",
            server.base_url.trim_end_matches('/')
        ))
        .map_err(|error| RemoteError::Unreachable(Box::new(error)))?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        let request = match body {
            Some(body) => client.post(url).json(body),
            None => client.get(url),
        };
        // `without_url`: queries carry client secrets, and errors end up in logs.
        let response = request.send().await.map_err(|error| {
            let error = error.without_url();
            tracing::info!(%error, path, label = server.label.as_str(), "identity server request failed");
            // The chosen server may be gone: choose again next time (its probe is short).
            self.resolver.forget(&server.label);
            RemoteError::Unreachable(Box::new(error))
        })?;
        let status = response.status();
        let limit = self.http.settings.max_response_bytes;
        let answer = interpret(status, read_capped(response, limit).await, limit);
        if let Err(RemoteError::Unreachable(_)) = &answer {
            self.resolver.forget(&server.label);
        }
        if let Err(error) = &answer {
            tracing::info!(%error, path, label = server.label.as_str(), "identity server refused or failed");
        }
        answer
    }
}

impl Http {
    /// The shared trusted client for an operator's URL, a pinned one for a discovered server.
    fn client_for(&self, candidate: &Candidate) -> reqwest::Result<reqwest::Client> {
        match &candidate.pinned {
            None => Ok(self.trusted.clone()),
            Some(addrs) => {
                let name = match candidate.base_url.host() {
                    Some(url::Host::Domain(name)) => Some(name),
                    _ => None,
                };
                self.settings.pinned_client(name, addrs)
            }
        }
    }
}

#[async_trait]
impl Probe for Http {
    /// `GET /_matrix/identity/api/v1` answers a JSON object within the probe timeout.
    async fn usable(&self, candidate: &Candidate) -> bool {
        let Ok(client) = self.client_for(candidate) else {
            return false;
        };
        let url = format!("{}{V1}", candidate.base_url.as_str().trim_end_matches('/'));
        let response = match client.get(url).timeout(self.probe_timeout).send().await {
            Ok(response) if response.status().is_success() => response,
            Ok(response) => {
                tracing::debug!(status = %response.status(), base_url = %candidate.base_url, "probe refused");
                return false;
            }
            Err(error) => {
                tracing::debug!(error = %error.without_url(), base_url = %candidate.base_url, "probe failed");
                return false;
            }
        };
        let body =
            tokio::time::timeout(self.probe_timeout, read_capped(response, PROBE_MAX_BYTES)).await;
        matches!(body, Ok(Ok(body)) if matches!(serde_json::from_slice::<Value>(&body), Ok(Value::Object(_))))
    }
}

#[async_trait]
impl RemoteIdentityServers for ReqwestIdentityServers {
    async fn resolve(&self, label: &ServerLabel) -> Result<RemoteServer, RemoteError> {
        self.resolver.resolve(label).await
    }

    async fn request_token(
        &self,
        server: &RemoteServer,
        request: &RemoteTokenRequest,
    ) -> Result<SessionId, RemoteError> {
        let body = client::request_token_body(request)?;
        let path = format!(
            "/validate/{}/requestToken",
            request.threepid.medium().as_str()
        );
        let answer = self.call(server, &path, Some(&body), &[]).await?;
        SessionId::parse(&client::string(&answer, "sid")?)
            .map_err(|_| RemoteError::InvalidResponse("`sid` is not a session ID".into()))
    }

    async fn submit_token(
        &self,
        server: &RemoteServer,
        sid: &SessionId,
        client_secret: &ClientSecret,
        token: &ValidationToken,
    ) -> Result<(), RemoteError> {
        let body = json!({
            "sid": sid.as_str(),
            "client_secret": client_secret.expose(),
            "token": token.expose(),
        });
        // The v1 submitToken of either medium takes the session by its sid (sydent, mxisd and
        // Verity alike), so the port needs no medium.
        let answer = self
            .call(server, "/validate/email/submitToken", Some(&body), &[])
            .await?;
        client::submission(&answer)
    }

    async fn validated_3pid(
        &self,
        server: &RemoteServer,
        sid: &SessionId,
        client_secret: &ClientSecret,
    ) -> Result<Option<ThreePid>, RemoteError> {
        let query = [
            ("sid", sid.as_str()),
            ("client_secret", client_secret.expose()),
        ];
        match self
            .call(server, "/3pid/getValidated3pid", None, &query)
            .await
        {
            Ok(answer) => client::validated(&answer).map(Some),
            Err(RemoteError::Refused { errcode, .. }) if errcode == "M_SESSION_NOT_VALIDATED" => {
                Ok(None)
            }
            Err(error) => Err(error),
        }
    }

    async fn bind(
        &self,
        server: &RemoteServer,
        sid: &SessionId,
        client_secret: &ClientSecret,
        user: &UserId,
    ) -> Result<SignedAssociation, RemoteError> {
        let body = json!({
            "sid": sid.as_str(),
            "client_secret": client_secret.expose(),
            "mxid": user.as_str(),
        });
        let (_, answer) = self
            .call_raw(server, "/3pid/bind", Some(&body), &[])
            .await?;
        client::signed_association(&answer).inspect_err(|error| {
            tracing::info!(%error, label = server.label.as_str(), "identity server's bind answer refused");
        })
    }

    async fn lookup(
        &self,
        server: &RemoteServer,
        threepids: &[ThreePid],
    ) -> Result<Vec<(ThreePid, UserId)>, RemoteError> {
        if threepids.is_empty() {
            return Ok(Vec::new());
        }
        let body = client::bulk_lookup_body(threepids);
        let answer = self.call(server, "/bulk_lookup", Some(&body), &[]).await?;
        client::bulk_lookup_rows(&answer, threepids)
    }
}
