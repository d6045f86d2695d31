use async_trait::async_trait;
use verity_domain::{AccessToken, InvalidMatrixId, TermsPolicy, UserId};

use crate::ports::driven::{OpenIdToken, StoreError};

/// `POST /account/register`: the OpenID token a homeserver issued, with the homeserver's name as
/// the client claims it.
#[derive(Debug, Clone)]
pub struct Registration {
    /// The OpenID access token.
    pub access_token: OpenIdToken,
    /// The homeserver that issued it (`matrix_server_name`), unparsed.
    pub matrix_server_name: String,
}

/// Why a request could not be authenticated.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No token, an unknown one, or an expired one.
    #[error("unrecognised access token")]
    Unauthorized,
    /// The user has not accepted the current terms of service.
    #[error("the terms of service have not been accepted")]
    TermsNotSigned,
    /// A store failed.
    #[error("internal error")]
    Internal(#[from] StoreError),
}

/// Why registration failed.
#[derive(Debug, thiserror::Error)]
pub enum RegistrationError {
    /// `matrix_server_name` is not a server name; the reason says why (e.g. a numeric host such
    /// as `127.1` that resolvers would read as an address).
    #[error("matrix_server_name: {0}")]
    InvalidServerName(InvalidMatrixId),
    /// The homeserver is on an address Verity may not contact.
    #[error("the homeserver's address is not allowed")]
    DestinationBlocked,
    /// The homeserver rejected the token, vouched for a user of another server, or the user's
    /// server is not trusted here.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// The homeserver could not be reached or answered nonsense.
    #[error("the homeserver could not be asked")]
    HomeserverUnavailable,
    /// A store failed.
    #[error("internal error")]
    Internal(#[from] StoreError),
}

/// Identity-server accounts (v2 authentication) and terms of service.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Accounts: Send + Sync {
    /// Checks the OpenID token with its homeserver and issues an access token.
    async fn register(&self, registration: Registration) -> Result<AccessToken, RegistrationError>;

    /// The user an access token (as presented, unparsed) belongs to. With `require_terms`, also
    /// checks that the user accepted the current terms.
    async fn authenticate(
        &self,
        token: Option<String>,
        require_terms: bool,
    ) -> Result<UserId, AuthError>;

    /// Invalidates an access token (as presented, unparsed).
    async fn logout(&self, token: Option<String>) -> Result<(), AuthError>;

    /// The configured policies.
    fn terms(&self) -> Vec<TermsPolicy>;

    /// Records that `user` accepts these document URLs (URLs of no configured policy are
    /// ignored).
    async fn accept_terms(&self, user: &UserId, urls: Vec<String>) -> Result<(), AuthError>;
}
