use async_trait::async_trait;
use verity_domain::{
    ClientSecret, Medium, RefusalReason, SendAttempt, SessionId, SessionMode, ThreePid,
    ValidatedThreePid, ValidationToken,
};

use crate::ports::driven::StoreError;
use crate::ports::driving::RemoteFailure;

/// `requestToken`: the 3PID already parsed at the edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestToken {
    /// The canonical 3PID to validate.
    pub threepid: ThreePid,
    /// The client's secret.
    pub client_secret: ClientSecret,
    /// The client's attempt counter.
    pub send_attempt: SendAttempt,
    /// Where to send the user after the GET submitToken page (checked by the HTTP adapter).
    pub next_link: Option<String>,
}

/// What `requestToken` answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequested {
    /// The session (the same one for a repeated request).
    pub sid: SessionId,
    /// The canonical 3PID (msisdn requests echo it).
    pub threepid: ThreePid,
}

/// `submitToken`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmitToken {
    /// The session.
    pub sid: SessionId,
    /// The client's secret.
    pub client_secret: ClientSecret,
    /// The token the user received.
    pub token: ValidationToken,
}

/// A successful submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenAccepted {
    /// The validated 3PID.
    pub threepid: ThreePid,
    /// Where the 3PID is validated: the page offers or starts the remote step.
    pub mode: SessionMode,
    /// The client's `next_link`, if any (to be checked before any redirect).
    pub next_link: Option<String>,
    /// SMS to a remote identity server: the local code was accepted and that server sent a NEW
    /// code, which the user submits next to the same session (mxisd's two codes). The server as
    /// users know it: the host (and non-default port) of its base URL, e.g. `matrix.org`.
    pub remote_code_from: Option<String>,
}

/// Why a validation use case failed. The HTTP adapter maps each to the spec's errcode.
#[derive(Debug, thiserror::Error)]
pub enum ValidationError {
    /// The policy forbids sessions for this 3PID.
    #[error("{0}")]
    Refused(RefusalReason),
    /// No notification handler is configured for this medium.
    #[error("{0} is not a supported 3PID medium on this server")]
    UnsupportedMedium(Medium),
    /// No session matches the sid and client secret.
    #[error("no session matches this sid and client_secret")]
    NoValidSession,
    /// The session's lifetime has passed.
    #[error("the validation session has expired")]
    SessionExpired,
    /// The token is wrong.
    #[error("the token is incorrect")]
    TokenIncorrect,
    /// Too many tokens were submitted: the session is locked.
    #[error("too many incorrect tokens: request a new validation session")]
    TooManyAttempts,
    /// The session has not been validated.
    #[error("the 3PID has not been validated in this session")]
    NotValidated,
    /// The message could not be sent.
    #[error("the message to the {medium} could not be sent")]
    SendFailed {
        /// The medium the message was for.
        medium: Medium,
        /// Whether the recipient was refused (as opposed to a failure of the provider).
        rejected: bool,
    },
    /// The remote identity server failed (SMS codes forwarded there); the session is unchanged.
    #[error("{0}")]
    Remote(RemoteFailure),
    /// A store failed.
    #[error("internal error")]
    Internal(#[from] StoreError),
}

/// 3PID validation sessions (Identity Service API, "Email associations" and "Phone number
/// associations").
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Validation: Send + Sync {
    /// Creates a session, or resumes the one with the same 3PID and client secret, and sends the
    /// token when the session is new or `send_attempt` grew.
    async fn request_token(&self, request: RequestToken)
    -> Result<TokenRequested, ValidationError>;

    /// Validates a session with the token the user received.
    async fn submit_token(&self, submission: SubmitToken)
    -> Result<TokenAccepted, ValidationError>;

    /// The validated 3PID of a session.
    async fn validated_3pid(
        &self,
        sid: &SessionId,
        client_secret: &ClientSecret,
    ) -> Result<ValidatedThreePid, ValidationError>;
}
