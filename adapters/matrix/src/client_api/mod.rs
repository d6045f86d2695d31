//! [`ReqwestHomeserverAsUser`]: the homeserver's client-server API asked as the user, with the
//! user's own access token (`whoami`, the user directory search), for the requests the reverse
//! proxy routes from the homeserver to Verity.
//!
//! Where the homeserver is: the operator's `dns.overwrite.homeserver.client` entry for the host
//! the client called (as mxisd found it), else the `m.homeserver.base_url` of `matrix.domain`'s
//! `.well-known/matrix/client` (cached for an hour). Both are the operator's own configuration,
//! so the address is trusted as an override is (no private-address check): the request itself
//! only chooses among the operator's entries. The token goes in the `Authorization` header,
//! never in a URL; redirects are not followed (except for the `.well-known`: on the same scheme,
//! and with `federation.verifyTls: false` only on the same scheme, host and port, since then
//! nothing proves who answered the first request), and every answer is bounded in time and size.
mod answers;
mod config;
mod relay;

#[cfg(test)]
mod tests;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use reqwest::StatusCode;
use reqwest::header::LOCATION;
use url::Url;
use verity_application::ports::driven::{
    HomeserverAsUser, HomeserverAsUserError, HomeserverRoute, HomeserverUser,
};
use verity_domain::{DirectoryResults, HomeserverAccessToken, SearchLimit, SearchTerm};

pub use config::{ClientApiConfig, ClientApiSetupError};

use crate::homeserver::http::{BodyError, HttpSettings, read_capped};
use config::{Override, join, parse_overrides};

/// How long the homeserver found through `.well-known/matrix/client` is used before it is
/// looked up again.
const DISCOVERY_LIFETIME: Duration = Duration::from_secs(3600);
/// How many redirects the `.well-known` fetch follows.
const MAX_WELL_KNOWN_REDIRECTS: usize = 3;

/// The homeserver's client-server API over reqwest (see the module documentation).
pub struct ReqwestHomeserverAsUser {
    overrides: Vec<Override>,
    /// `https://<matrix.domain>`, where the `.well-known` is read (tests: a plain-HTTP fake).
    origin: Url,
    client: reqwest::Client,
    max_response_bytes: usize,
    trusted_proxies: Vec<verity_domain::IpNetwork>,
    /// `federation.verifyTls`: without it, a `.well-known` redirect is followed only on the
    /// same origin.
    verify_tls: bool,
    /// The base URL the `.well-known` named, and when it was read.
    discovered: Mutex<Option<(Url, Instant)>>,
}

impl std::fmt::Debug for ReqwestHomeserverAsUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReqwestHomeserverAsUser")
            .field("origin", &self.origin.as_str())
            .finish_non_exhaustive()
    }
}

impl ReqwestHomeserverAsUser {
    /// The client of `config`.
    ///
    /// # Errors
    /// [`ClientApiSetupError`] for an override that is not a host and an http(s) URL, zero
    /// limits, a `matrix.domain` that is no host, or an HTTP client that cannot be built.
    pub fn new(config: ClientApiConfig) -> Result<Self, ClientApiSetupError> {
        if config.timeout.is_zero() || config.max_response_bytes == 0 {
            return Err(ClientApiSetupError::Limits);
        }
        let overrides = parse_overrides(&config.overrides)?;
        let origin = Url::parse(&format!("https://{}", config.matrix_domain)).map_err(|_| {
            ClientApiSetupError::OverrideName {
                name: config.matrix_domain.clone(),
            }
        })?;
        // Another component may have installed it already; either way one is installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = HttpSettings {
            timeout: config.timeout,
            verify_tls: config.verify_tls,
            max_response_bytes: config.max_response_bytes,
        }
        .trusted_client()
        .map_err(|error| ClientApiSetupError::Http(error.to_string()))?;
        Ok(Self {
            overrides,
            origin,
            client,
            max_response_bytes: config.max_response_bytes,
            trusted_proxies: config.trusted_proxies,
            verify_tls: config.verify_tls,
            discovered: Mutex::new(None),
        })
    }

    /// The same client reading the `.well-known` from `origin` instead of
    /// `https://<matrix.domain>` (tests, with a plain-HTTP fake).
    #[cfg(test)]
    pub(crate) fn with_origin(mut self, origin: &str) -> Self {
        self.origin = Url::parse(origin).unwrap_or(self.origin);
        self
    }

    /// The base URL of the homeserver `route` is for.
    async fn base(&self, route: &HomeserverRoute) -> Result<Url, HomeserverAsUserError> {
        if let Some(called) = &route.host
            && let Some(entry) = self.overrides.iter().find(|entry| entry.matches(called))
        {
            return Ok(entry.base.clone());
        }
        {
            let discovered = self
                .discovered
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some((base, read_at)) = discovered.as_ref()
                && read_at.elapsed() < DISCOVERY_LIFETIME
            {
                return Ok(base.clone());
            }
        }
        let base = self.discover().await.map_err(|why| {
            tracing::warn!(
                error = %why,
                well_known = %self.well_known_url(),
                "the homeserver's client API cannot be found: set dns.overwrite.homeserver.client \
                 or serve m.homeserver.base_url in matrix.domain's .well-known/matrix/client"
            );
            HomeserverAsUserError::Unavailable(why.into())
        })?;
        *self
            .discovered
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some((base.clone(), Instant::now()));
        Ok(base)
    }

    fn well_known_url(&self) -> String {
        format!(
            "{}/.well-known/matrix/client",
            self.origin.as_str().trim_end_matches('/')
        )
    }

    /// `m.homeserver.base_url` of the `.well-known`, following redirects on the same scheme
    /// (on the same origin when TLS is not verified).
    async fn discover(&self) -> Result<Url, String> {
        let mut url = Url::parse(&self.well_known_url()).map_err(|e| e.to_string())?;
        for _ in 0..=MAX_WELL_KNOWN_REDIRECTS {
            let response = self
                .client
                .get(url.clone())
                .send()
                .await
                .map_err(|error| error.without_url().to_string())?;
            let status = response.status();
            if status.is_redirection() {
                let location = response
                    .headers()
                    .get(LOCATION)
                    .and_then(|value| value.to_str().ok())
                    .ok_or("a redirect without a Location")?;
                let next = url.join(location).map_err(|e| e.to_string())?;
                if next.scheme() != url.scheme() {
                    return Err(format!("a redirect to another scheme ({})", next.scheme()));
                }
                if !self.verify_tls && next.origin() != url.origin() {
                    // Without certificate checks anyone on the path may have answered: a
                    // redirect elsewhere is not followed (the homeserver's address would be
                    // theirs to choose, and the users' tokens would go there).
                    return Err(format!(
                        "a redirect to another host ({}), not followed while \
                         federation.verifyTls is false",
                        next.origin().ascii_serialization()
                    ));
                }
                url = next;
                continue;
            }
            let body = read_capped(response, self.max_response_bytes)
                .await
                .map_err(|error| match error {
                    BodyError::TooLarge => "the document is too large".to_owned(),
                    BodyError::Transport(error) => error.to_string(),
                })?;
            if status != StatusCode::OK {
                return Err(format!("HTTP {status}"));
            }
            return answers::well_known_base(&body);
        }
        Err("too many redirects".to_owned())
    }

    /// Sends `request` and reads the answer, bounded.
    async fn exchange(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<(StatusCode, Vec<u8>), HomeserverAsUserError> {
        let response = request
            .send()
            .await
            .map_err(|error| HomeserverAsUserError::Unavailable(Box::new(error.without_url())))?;
        let status = response.status();
        let body = read_capped(response, self.max_response_bytes)
            .await
            .map_err(|error| match error {
                BodyError::TooLarge => HomeserverAsUserError::InvalidResponse(format!(
                    "the answer is larger than {} bytes (federation.maxResponseBytes)",
                    self.max_response_bytes
                )),
                BodyError::Transport(error) => HomeserverAsUserError::Unavailable(Box::new(error)),
            })?;
        Ok((status, body))
    }

    /// The URL of `endpoint` (after `/_matrix/client/<version>`) for `route`.
    async fn url(
        &self,
        route: &HomeserverRoute,
        endpoint: &str,
    ) -> Result<Url, HomeserverAsUserError> {
        let base = self.base(route).await?;
        let path = format!("/_matrix/client/{}{endpoint}", route.version.as_str());
        join(&base, &path).map_err(|error| HomeserverAsUserError::Unavailable(Box::new(error)))
    }
}

#[async_trait]
impl HomeserverAsUser for ReqwestHomeserverAsUser {
    #[tracing::instrument(name = "whoami", skip_all)]
    async fn whoami(
        &self,
        route: &HomeserverRoute,
        token: &HomeserverAccessToken,
    ) -> Result<HomeserverUser, HomeserverAsUserError> {
        let url = self.url(route, "/account/whoami").await?;
        let (status, body) = self
            .exchange(self.client.get(url).bearer_auth(token.expose()))
            .await?;
        if status.is_success() {
            answers::whoami(&body)
        } else {
            Err(answers::failure(status, &body))
        }
    }

    #[tracing::instrument(name = "user_directory_search", skip_all)]
    async fn search_user_directory(
        &self,
        route: &HomeserverRoute,
        token: &HomeserverAccessToken,
        term: &SearchTerm,
        limit: SearchLimit,
    ) -> Result<DirectoryResults, HomeserverAsUserError> {
        let url = self.url(route, "/user_directory/search").await?;
        let body = serde_json::json!({"search_term": term.as_str(), "limit": limit.get()});
        let (status, body) = self
            .exchange(
                self.client
                    .post(url)
                    .bearer_auth(token.expose())
                    .json(&body),
            )
            .await?;
        if status.is_success() {
            answers::search(&body)
        } else {
            Err(answers::failure(status, &body))
        }
    }
}
