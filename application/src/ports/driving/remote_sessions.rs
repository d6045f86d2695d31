use async_trait::async_trait;
use verity_domain::{ClientSecret, ServerLabel, SessionId, ThreePid};

use crate::ports::driven::StoreError;

/// How a remote identity server failed, as users and API clients are told (details are logged).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RemoteFailure {
    /// No server of the label could be reached (discovery, connection, timeout, 5xx).
    #[error("the identity server `{0}` cannot be reached")]
    Unavailable(ServerLabel),
    /// The remote server refused the request with a Matrix error.
    #[error("the identity server `{server}` refused the request ({errcode}: {error})")]
    Refused {
        /// The label of the server.
        server: ServerLabel,
        /// Its `errcode`.
        errcode: String,
        /// Its `error`.
        error: String,
    },
    /// The remote server answered something the API does not allow (or validated another 3PID).
    #[error("the identity server `{0}` gave an invalid answer")]
    Invalid(ServerLabel),
}

/// Where the remote step of a session stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteOverview {
    /// The session's 3PID.
    pub threepid: ThreePid,
    /// The label of the server it is (or would be) published on: the operator's name, for logs.
    pub server: ServerLabel,
    /// That server as users know it: the host (and non-default port) of its base URL, e.g.
    /// `matrix.org`. Pages show this, never the label.
    pub host: String,
    /// The policy forces the remote step (nothing is published here); otherwise it is offered
    /// on top of the local validation.
    pub forced: bool,
    /// A remote session was started.
    pub started: bool,
    /// The remote server validated the 3PID.
    pub validated: bool,
    /// The 3PID is bound there too: the homeserver had bound it here before the offered step
    /// was completed, and Verity forwarded that bind. Otherwise the homeserver's bind, when the
    /// user returns to the client, carries it there.
    pub published: bool,
}

/// Why a remote step failed. The HTTP adapter maps each to a page and a Matrix error.
#[derive(Debug, thiserror::Error)]
pub enum RemoteSessionError {
    /// No session matches the sid and client secret.
    #[error("no session matches this sid and client_secret")]
    NoValidSession,
    /// The session's lifetime has passed.
    #[error("the validation session has expired")]
    SessionExpired,
    /// The 3PID must be validated here first.
    #[error("the 3PID has not been validated in this session")]
    NotValidated,
    /// The policy keeps this 3PID here (or no remote identity server is configured).
    #[error("this server's policy does not publish this 3PID on another identity server")]
    NotOffered,
    /// `check` before `start`.
    #[error("the remote validation has not been started")]
    NotStarted,
    /// The remote server failed; the session is unchanged.
    #[error("{0}")]
    Remote(RemoteFailure),
    /// A store failed.
    #[error("internal error")]
    Internal(#[from] StoreError),
}

/// The remote step of a validation session (mxisd's remote sessions): publishing a locally
/// validated 3PID on another identity server, which sends the user its own message.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait RemoteSessions: Send + Sync {
    /// Where the remote step stands; changes nothing (what the explanation page shows). Before
    /// the remote session is started, the label is resolved (read-only here) to name the server.
    async fn explain(
        &self,
        sid: &SessionId,
        client_secret: &ClientSecret,
    ) -> Result<RemoteOverview, RemoteSessionError>;

    /// Starts the remote session (or asks the remote server to send its message again) and
    /// records it; the session is unchanged when the remote server fails.
    async fn start(
        &self,
        sid: &SessionId,
        client_secret: &ClientSecret,
    ) -> Result<RemoteOverview, RemoteSessionError>;

    /// Asks the remote server whether the user completed its validation, and records it. For a
    /// session the homeserver already bound here, the bind is forwarded to the remote server
    /// first, and nothing is recorded unless it accepted.
    async fn check(
        &self,
        sid: &SessionId,
        client_secret: &ClientSecret,
    ) -> Result<RemoteOverview, RemoteSessionError>;
}
