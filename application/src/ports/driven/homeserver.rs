use std::error::Error as StdError;
use std::fmt;

use async_trait::async_trait;
use verity_domain::{JsonObject, KeyId, PublicKey, ServerName, UserId};

/// The OpenID access token a homeserver issued to a user, which the user hands to Verity to prove
/// who they are. A secret: `Debug` shows a marker.
#[derive(Clone, PartialEq, Eq)]
pub struct OpenIdToken(String);

impl OpenIdToken {
    /// Wraps the token as received.
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    /// The token, for the one request that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for OpenIdToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OpenIdToken(<redacted>)")
    }
}

/// What asking a homeserver can fail with.
#[derive(Debug, thiserror::Error)]
pub enum HomeserverError {
    /// The homeserver answered that the token is unknown or expired.
    #[error("the homeserver rejected the token")]
    TokenRejected,
    /// The destination is not allowed (a private, loopback or link-local address that no operator
    /// entry names): nothing was sent.
    #[error("the homeserver's address is not allowed: {0}")]
    Blocked(String),
    /// The homeserver could not be reached or failed (timeouts, TLS, 5xx).
    #[error("the homeserver could not be reached")]
    Unreachable(#[source] Box<dyn StdError + Send + Sync>),
    /// The homeserver answered something that is not a valid userinfo response (including one
    /// larger than the response size limit).
    #[error("the homeserver's answer is invalid: {0}")]
    InvalidResponse(String),
}

/// Verity as a client of homeservers' federation APIs.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait HomeserverClient: Send + Sync {
    /// Asks `server` (discovered as the server-server spec says: operator overrides, then
    /// `.well-known/matrix/server`, then SRV, then port 8448) which user `token` belongs to
    /// (`GET /_matrix/federation/v1/openid/userinfo`).
    ///
    /// Implementations MUST refuse destinations on private, loopback or link-local addresses
    /// unless the operator allowed them ([`HomeserverError::Blocked`]), MUST bound the response
    /// size, and MUST return the `sub` exactly as the homeserver sent it (the caller checks that
    /// it belongs to `server`).
    async fn openid_userinfo(
        &self,
        server: &ServerName,
        token: &OpenIdToken,
    ) -> Result<UserId, HomeserverError>;

    /// The current signing keys of `server` (`GET /_matrix/key/v2/server`, reached as
    /// [`openid_userinfo`](Self::openid_userinfo) reaches it), to check a request it signed
    /// with `key`. Implementations may answer from a cache while the keys are valid, and should
    /// fetch again (rate-limited) when the cached keys do not include `key`.
    ///
    /// Implementations MUST return only keys from a document that names `server`, is signed by
    /// `server` with one of its listed keys and whose `valid_until_ts` is still in the future
    /// (see `verity_domain::verified_server_keys`); anything else is
    /// [`HomeserverError::InvalidResponse`].
    async fn server_keys(
        &self,
        server: &ServerName,
        key: &KeyId,
    ) -> Result<Vec<(KeyId, PublicKey)>, HomeserverError>;

    /// Tells `server` that a 3PID it has pending room invites for was bound
    /// (`POST /_matrix/federation/v1/3pid/onbind` with `body`; POST, as Synapse and sydent, not
    /// the PUT the server-server spec text says: matrix-spec#524). Reached and checked as
    /// [`openid_userinfo`](Self::openid_userinfo) reaches it.
    ///
    /// Implementations MUST return `Ok` only for a 2xx answer; any other status is
    /// [`HomeserverError::Unreachable`] (the caller retries).
    async fn onbind(&self, server: &ServerName, body: &JsonObject) -> Result<(), HomeserverError>;
}
