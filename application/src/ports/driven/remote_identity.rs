use std::error::Error as StdError;

use async_trait::async_trait;
use verity_domain::{
    ClientSecret, SendAttempt, ServerLabel, SessionId, SignedAssociation, ThreePid, UserId,
    ValidationToken,
};

/// The identity server chosen for a label of `matrix.identity.servers`: where requests go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteServer {
    /// The label it was chosen for.
    pub label: ServerLabel,
    /// Its base URL without a trailing slash, e.g. `https://matrix.org`; API paths are appended.
    pub base_url: String,
}

/// A validation session Verity starts on a remote server on the user's behalf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteTokenRequest {
    /// The 3PID to validate there (the remote sends its own message to it).
    pub threepid: ThreePid,
    /// Verity's secret for the remote session (never the user's local one).
    pub client_secret: ClientSecret,
    /// Verity's own `send_attempt` bookkeeping for the remote session.
    pub send_attempt: SendAttempt,
}

/// What asking a remote identity server can fail with.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// The label names no server, or none of its servers is usable (discovery and the usability
    /// probe failed for every entry).
    #[error("no usable identity server for `{0}`")]
    NoUsableServer(ServerLabel),
    /// The remote server answered with a Matrix error (`errcode`, `error`), e.g.
    /// `M_TOKEN_INCORRECT` or `M_SESSION_NOT_VALIDATED`.
    #[error("the identity server answered {errcode}: {error}")]
    Refused {
        /// The remote's `errcode`.
        errcode: String,
        /// The remote's `error`.
        error: String,
    },
    /// The remote server could not be reached or failed (timeouts, TLS, 5xx).
    #[error("the identity server could not be reached")]
    Unreachable(#[source] Box<dyn StdError + Send + Sync>),
    /// The remote answered something that is not what the API specifies (including an answer
    /// larger than the response size limit).
    #[error("the identity server's answer is invalid: {0}")]
    InvalidResponse(String),
}

/// Other identity servers, reached on the user's behalf (remote validation sessions, forwarded
/// binds) or for lookups Verity cannot answer itself (recursive lookups).
///
/// Implementations speak the unauthenticated v1 API (`/_matrix/identity/api/v1`): the v2 API
/// needs an account registered with the *user's* OpenID token, which Verity never holds.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait RemoteIdentityServers: Send + Sync {
    /// The first usable server of `label`: each entry is a URL (used as is) or a domain name
    /// (discovered: `_matrix-identity._tcp` SRV, then `.well-known/matrix/client`
    /// `m.identity_server`, then `https://<domain>`), checked with a usability probe.
    /// Implementations SHOULD cache the answer for a while.
    ///
    /// # Errors
    /// [`RemoteError::NoUsableServer`] when no entry is usable.
    async fn resolve(&self, label: &ServerLabel) -> Result<RemoteServer, RemoteError>;

    /// Starts a validation session (`validate/{medium}/requestToken`); returns the remote sid.
    async fn request_token(
        &self,
        server: &RemoteServer,
        request: &RemoteTokenRequest,
    ) -> Result<SessionId, RemoteError>;

    /// Submits a token the user received from the remote server (`validate/{medium}/submitToken`).
    ///
    /// # Errors
    /// [`RemoteError::Refused`] with the remote's errcode when the token is wrong.
    async fn submit_token(
        &self,
        server: &RemoteServer,
        sid: &SessionId,
        client_secret: &ClientSecret,
        token: &ValidationToken,
    ) -> Result<(), RemoteError>;

    /// The 3PID the remote session validated (`3pid/getValidated3pid`), or `None` while the
    /// user has not completed it (`M_SESSION_NOT_VALIDATED`).
    async fn validated_3pid(
        &self,
        server: &RemoteServer,
        sid: &SessionId,
        client_secret: &ClientSecret,
    ) -> Result<Option<ThreePid>, RemoteError>;

    /// Binds the remotely validated 3PID to `user` there (`3pid/bind`); returns the remote's
    /// signed association exactly as received (its text, byte for byte).
    ///
    /// # Errors
    /// [`RemoteError::InvalidResponse`] when the answer is not a signed association (nothing
    /// is bound here then).
    async fn bind(
        &self,
        server: &RemoteServer,
        sid: &SessionId,
        client_secret: &ClientSecret,
        user: &UserId,
    ) -> Result<SignedAssociation, RemoteError>;

    /// The Matrix IDs the remote server knows for `threepids` (`bulk_lookup`); 3PIDs it does
    /// not know are absent from the answer.
    async fn lookup(
        &self,
        server: &RemoteServer,
        threepids: &[ThreePid],
    ) -> Result<Vec<(ThreePid, UserId)>, RemoteError>;
}
