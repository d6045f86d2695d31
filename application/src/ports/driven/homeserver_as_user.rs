use std::error::Error as StdError;

use async_trait::async_trait;
use verity_domain::{
    DirectoryResults, HomeserverAccessToken, SearchLimit, SearchTerm, ServerName, UserId,
};

/// The version of the client-server API a client called (`/_matrix/client/r0/...` or
/// `/_matrix/client/v3/...`): the homeserver is asked on the same one, as mxisd asked it "with
/// the same request as the client".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientApiVersion {
    /// `r0` (Matrix 1.0; what mxisd intercepted).
    R0,
    /// `v3` (Matrix 1.1 and later).
    V3,
}

impl ClientApiVersion {
    /// The path segment (`r0`, `v3`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::R0 => "r0",
            Self::V3 => "v3",
        }
    }
}

/// Which homeserver a client request is for: the host the client called (the `Host` its
/// request carried through the reverse proxy, when it is a valid `host[:port]`), which the
/// operator's `dns.overwrite.homeserver.client` maps to the homeserver's own address, and the
/// API version it called.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HomeserverRoute {
    /// The host the client called, if the request said.
    pub host: Option<ServerName>,
    /// The API version the client called.
    pub version: ClientApiVersion,
}

/// Who an access token belongs to, as the homeserver's `whoami` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HomeserverUser {
    /// The user.
    pub user_id: UserId,
    /// Whether it is a guest account (which the directory search refuses, as Synapse does).
    pub is_guest: bool,
}

/// What asking the homeserver as the user can fail with.
#[derive(Debug, thiserror::Error)]
pub enum HomeserverAsUserError {
    /// The homeserver does not know the token (401): it is invalid, expired or logged out.
    #[error("the homeserver rejected the access token")]
    TokenRejected,
    /// The homeserver does not have the endpoint (`M_UNRECOGNIZED`, or a 404 / 405 without a
    /// Matrix error): its user directory is switched off, or it predates it.
    #[error("the homeserver does not serve this endpoint")]
    Unsupported,
    /// The homeserver could not be found or reached, or failed (timeouts, 5xx, an unexpected
    /// status).
    #[error("the homeserver could not be reached: {0}")]
    Unavailable(#[source] Box<dyn StdError + Send + Sync>),
    /// The homeserver answered something that is not the endpoint's answer.
    #[error("the homeserver's answer is invalid: {0}")]
    InvalidResponse(String),
}

/// The homeserver's client-server API, asked on behalf of the user with the user's own access
/// token: who the token belongs to, and the homeserver's own user directory.
///
/// Implementations MUST find the homeserver from `route` only through the operator's
/// configuration (the host the client called selects one of the operator's entries; otherwise
/// `matrix.domain`'s `.well-known/matrix/client`), never from anything else in the request;
/// MUST send the token in the `Authorization` header only, and never log it; MUST bound the
/// time and the size of each answer.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait HomeserverAsUser: Send + Sync {
    /// `GET /_matrix/client/<version>/account/whoami`.
    async fn whoami(
        &self,
        route: &HomeserverRoute,
        token: &HomeserverAccessToken,
    ) -> Result<HomeserverUser, HomeserverAsUserError>;

    /// `POST /_matrix/client/<version>/user_directory/search` with `term` and `limit`: the
    /// homeserver's own answer.
    async fn search_user_directory(
        &self,
        route: &HomeserverRoute,
        token: &HomeserverAccessToken,
        term: &SearchTerm,
        limit: SearchLimit,
    ) -> Result<DirectoryResults, HomeserverAsUserError>;
}
