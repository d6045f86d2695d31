//! The HTTP side: one reqwest client (rustls, no proxy, no redirect followed, a timeout on every
//! request) and a bounded `POST` of a JSON body whose answer must be a JSON object.
//!
//! Errors name the configuration key of the endpoint, never its URL: the URL may hold a
//! password (`https://verity:secret@backend/`) or a token in its query.
use std::time::Duration;

use reqwest::redirect::Policy;
use reqwest::{Client, Response, StatusCode};
use serde_json::{Map, Value};

use crate::config::{BackendUrl, RestConfig};

const USER_AGENT: &str = concat!("Verity/", env!("CARGO_PKG_VERSION"));
/// The longest wait for a TCP connection (the request timeout still bounds the whole request).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a request to the backend gave no usable answer. Each names the key whose endpoint was
/// asked.
#[derive(Debug, thiserror::Error)]
pub enum RestError {
    /// The client could not be built (TLS set-up).
    #[error("cannot set up the HTTP client of the REST backend: {0}")]
    Setup(String),
    /// No answer: refused, reset, DNS, TLS, or the timeout.
    #[error(
        "{key}: the REST backend cannot be reached ({source}); check the URL and that the backend runs"
    )]
    Transport {
        /// The endpoint's key.
        key: &'static str,
        /// What failed, without the URL.
        source: reqwest::Error,
    },
    /// No complete answer within `rest.timeout`.
    #[error("{key}: the REST backend did not answer within {timeout:?} (rest.timeout)")]
    Timeout {
        /// The endpoint's key.
        key: &'static str,
        /// The limit.
        timeout: Duration,
    },
    /// A redirect, which is not followed.
    #[error(
        "{key}: the REST backend answered a redirect ({status}), which Verity does not follow; write the final URL in {key}"
    )]
    Redirect {
        /// The endpoint's key.
        key: &'static str,
        /// The status.
        status: u16,
    },
    /// Another status than 2xx (or 404 where it means "not found").
    #[error("{key}: the REST backend answered HTTP {status}")]
    Status {
        /// The endpoint's key.
        key: &'static str,
        /// The status.
        status: u16,
    },
    /// A body larger than `rest.maxResponseBytes` (reading stopped there).
    #[error(
        "{key}: the REST backend's answer is larger than {limit} bytes (rest.maxResponseBytes)"
    )]
    TooLarge {
        /// The endpoint's key.
        key: &'static str,
        /// The limit.
        limit: usize,
    },
    /// A body that is not what the contract says.
    #[error("{key}: the REST backend's answer is not in the expected format: {why}")]
    Malformed {
        /// The endpoint's key.
        key: &'static str,
        /// What is wrong.
        why: String,
    },
}

/// The client and its limits.
#[derive(Debug, Clone)]
pub(crate) struct Http {
    client: Client,
    timeout: Duration,
    limit: usize,
}

impl Http {
    pub(crate) fn new(config: &RestConfig) -> Result<Self, RestError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = Client::builder()
            .user_agent(USER_AGENT)
            .redirect(Policy::none())
            .no_proxy()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(CONNECT_TIMEOUT))
            .build()
            .map_err(|error| RestError::Setup(error.without_url().to_string()))?;
        Ok(Self {
            client,
            timeout: config.timeout,
            limit: config.max_response_bytes,
        })
    }

    /// `POST`s `body` to `url` (the endpoint of `key`): the answer's JSON object, or `None` for
    /// a 404 when `not_found_ok`. A password in the URL is sent as HTTP Basic credentials.
    pub(crate) async fn post(
        &self,
        key: &'static str,
        url: &BackendUrl,
        body: &Value,
        not_found_ok: bool,
    ) -> Result<Option<Map<String, Value>>, RestError> {
        let exchange = async {
            let response = self
                .client
                .post(url.expose().clone())
                .json(body)
                .send()
                .await
                .map_err(|error| transport(key, self.timeout, error))?;
            let status = response.status();
            if status.is_redirection() {
                return Err(RestError::Redirect {
                    key,
                    status: status.as_u16(),
                });
            }
            if status == StatusCode::NOT_FOUND && not_found_ok {
                return Ok(None);
            }
            if !status.is_success() {
                return Err(RestError::Status {
                    key,
                    status: status.as_u16(),
                });
            }
            let bytes = self.read_capped(key, response).await?;
            match serde_json::from_slice::<Value>(&bytes) {
                Ok(Value::Object(object)) => Ok(Some(object)),
                Ok(_) => Err(malformed(key, "the body is not a JSON object")),
                Err(error) => Err(malformed(key, format!("the body is not JSON ({error})"))),
            }
        };
        // reqwest's timeout covers the body too; this one also bounds a body that trickles.
        tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| RestError::Timeout {
                key,
                timeout: self.timeout,
            })?
    }

    /// At most `limit` bytes of body, chunk by chunk; anything longer is refused unread.
    async fn read_capped(
        &self,
        key: &'static str,
        mut response: Response,
    ) -> Result<Vec<u8>, RestError> {
        let limit = self.limit;
        let too_large = || RestError::TooLarge { key, limit };
        if response
            .content_length()
            .is_some_and(|length| length > u64::try_from(limit).unwrap_or(u64::MAX))
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|error| transport(key, self.timeout, error))?
        {
            if body.len().saturating_add(chunk.len()) > limit {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

/// `why` as the malformed answer of `key`.
pub(crate) fn malformed(key: &'static str, why: impl Into<String>) -> RestError {
    RestError::Malformed {
        key,
        why: why.into(),
    }
}

fn transport(key: &'static str, timeout: Duration, error: reqwest::Error) -> RestError {
    if error.is_timeout() {
        return RestError::Timeout { key, timeout };
    }
    RestError::Transport {
        key,
        source: error.without_url(),
    }
}
