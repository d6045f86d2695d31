//! Errors of the API operations: one documented response type, and the single mapping of every
//! use-case error to its Matrix errcode and HTTP status (Identity Service API, "Standard error
//! response" and each endpoint's listed errors).
use poem_openapi::ApiResponse;
use poem_openapi::payload::Json;
use verity_application::ports::driving::{
    AssociationError, AuthError, DirectoryError, InviteError, LimitExceeded, LoginError,
    LookupError, RegistrationError, RemoteFailure, ValidationError,
};
use verity_domain::{InvalidEmail, InvalidMsisdn, InvalidSearchTerm, InvalidSecret, Medium};

use crate::error::{ErrCode, MatrixError};

/// Every error an operation can answer with; the body is always a `MatrixError`.
#[derive(Debug, ApiResponse)]
pub enum ApiError {
    /// The request is invalid (`M_INVALID_PARAM`, `M_INVALID_EMAIL`, `M_TOKEN_INCORRECT`, ...).
    #[oai(status = 400)]
    BadRequest(Json<MatrixError>),
    /// Missing, unknown or expired access token (`M_UNAUTHORIZED`, `M_UNKNOWN_TOKEN`).
    #[oai(status = 401)]
    Unauthorized(Json<MatrixError>),
    /// Forbidden by policy or unsigned terms (`M_FORBIDDEN`, `M_TERMS_NOT_SIGNED`), or a v2 bind
    /// of another user than the token's (`M_UNAUTHORIZED`).
    #[oai(status = 403)]
    Forbidden(Json<MatrixError>),
    /// No such session (`M_NO_VALID_SESSION`) or key (`M_NOT_FOUND`).
    #[oai(status = 404)]
    NotFound(Json<MatrixError>),
    /// An abuse limit refused the request (`M_LIMIT_EXCEEDED`, with `retry_after_ms`); nothing
    /// was done. `Retry-After` is the same wait in seconds, rounded up.
    #[oai(status = 429)]
    TooManyRequests(Json<MatrixError>, #[oai(header = "Retry-After")] u64),
    /// An internal error (`M_UNKNOWN`); details are only in the server log.
    #[oai(status = 500)]
    Internal(Json<MatrixError>),
    /// Another server Verity depends on failed (`M_UNKNOWN`), or a remote identity server
    /// refused or gave an invalid answer (`M_REMOTE_IS_ERROR`).
    #[oai(status = 502)]
    BadGateway(Json<MatrixError>),
    /// A remote identity server cannot be reached (`M_REMOTE_IS_ERROR`); nothing was changed.
    /// Or the lookup hash table is still being built (`M_UNKNOWN`, with `retry_after_ms`).
    #[oai(status = 503)]
    ServiceUnavailable(Json<MatrixError>),
}

impl ApiError {
    fn bad(code: ErrCode, message: impl Into<String>) -> Self {
        Self::BadRequest(Json(MatrixError::new(code, message)))
    }

    /// 500 `M_UNKNOWN`; the error is logged, never shown.
    pub(crate) fn internal(error: &dyn std::error::Error) -> Self {
        tracing::error!(error = %error, source = ?error.source(), "internal error");
        Self::Internal(Json(MatrixError::new(
            ErrCode::Unknown,
            "Internal server error",
        )))
    }

    /// 400 `M_BAD_JSON`: the body lacks a field or has one of the wrong type.
    pub(crate) fn bad_json(message: impl Into<String>) -> Self {
        Self::bad(ErrCode::BadJson, message)
    }

    /// An invalid parameter.
    pub(crate) fn invalid_param(message: impl Into<String>) -> Self {
        Self::bad(ErrCode::InvalidParam, message)
    }

    /// 403 `M_FORBIDDEN` with this message.
    pub(crate) fn forbidden_with(message: impl Into<String>) -> Self {
        Self::forbidden(ErrCode::Forbidden, message)
    }

    fn forbidden(code: ErrCode, message: impl Into<String>) -> Self {
        Self::Forbidden(Json(MatrixError::new(code, message)))
    }

    /// `M_REMOTE_IS_ERROR`: 503 when the remote identity server cannot be reached, 502 when it
    /// refused or answered nonsense.
    pub(crate) fn remote(failure: &RemoteFailure) -> Self {
        // The operator's label is for the log; users (Element shows `error`) get no label.
        tracing::warn!(%failure, "a remote identity server failed");
        let body = Json(MatrixError::new(
            ErrCode::RemoteIsError,
            remote_failure_reason(failure),
        ));
        match failure {
            RemoteFailure::Unavailable(_) => Self::ServiceUnavailable(body),
            RemoteFailure::Refused { .. } | RemoteFailure::Invalid(_) => Self::BadGateway(body),
        }
    }

    /// 404 `M_NOT_FOUND`: the requested object does not exist.
    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::NotFound(Json(MatrixError::new(ErrCode::NotFound, message)))
    }
}

impl From<LimitExceeded> for ApiError {
    fn from(LimitExceeded(wait): LimitExceeded) -> Self {
        Self::TooManyRequests(
            Json(MatrixError {
                retry_after_ms: Some(wait.as_millis()),
                ..MatrixError::new(ErrCode::LimitExceeded, "Too many requests: retry later")
            }),
            wait.as_secs_ceil(),
        )
    }
}

impl From<InvalidEmail> for ApiError {
    fn from(error: InvalidEmail) -> Self {
        Self::bad(
            ErrCode::InvalidEmail,
            format!("Invalid email address: {error}"),
        )
    }
}

impl From<InvalidMsisdn> for ApiError {
    fn from(error: InvalidMsisdn) -> Self {
        Self::bad(
            ErrCode::InvalidAddress,
            format!("Invalid phone number: {error}"),
        )
    }
}

impl From<InvalidSecret> for ApiError {
    fn from(error: InvalidSecret) -> Self {
        Self::invalid_param(error.to_string())
    }
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        match error {
            AuthError::Unauthorized => Self::Unauthorized(Json(MatrixError::new(
                ErrCode::Unauthorized,
                "Missing or unrecognised access token",
            ))),
            AuthError::TermsNotSigned => Self::Forbidden(Json(MatrixError::new(
                ErrCode::TermsNotSigned,
                "You must accept the terms of service first (GET/POST /_matrix/identity/v2/terms)",
            ))),
            AuthError::Internal(error) => Self::internal(&error),
        }
    }
}

impl From<LoginError> for ApiError {
    fn from(error: LoginError) -> Self {
        match error {
            LoginError::Limited(limited) => limited.into(),
            // Logged by the use case, with the store and its error.
            LoginError::Unavailable(_) => Self::ServiceUnavailable(Json(MatrixError::new(
                ErrCode::Unknown,
                "An identity store could not be asked: retry later",
            ))),
        }
    }
}

impl From<InvalidSearchTerm> for ApiError {
    fn from(error: InvalidSearchTerm) -> Self {
        Self::invalid_param(capitalise(&error.to_string()))
    }
}

/// The user directory search answers in the client-server API's terms: its own codes for a
/// missing or rejected token and for guests. The homeserver's failure to check a token refuses
/// the search (it is never taken as valid).
impl From<DirectoryError> for ApiError {
    fn from(error: DirectoryError) -> Self {
        let body = |code| Json(MatrixError::new(code, error.to_string()));
        match error {
            DirectoryError::MissingToken => Self::Unauthorized(body(ErrCode::MissingToken)),
            DirectoryError::UnknownToken => Self::Unauthorized(body(ErrCode::UnknownToken)),
            DirectoryError::GuestAccessForbidden => {
                Self::Forbidden(body(ErrCode::GuestAccessForbidden))
            }
            DirectoryError::HomeserverUnavailable => Self::BadGateway(body(ErrCode::Unknown)),
            DirectoryError::Unavailable => Self::ServiceUnavailable(body(ErrCode::Unknown)),
            DirectoryError::Limited(limited) => limited.into(),
        }
    }
}

/// `POST /account/logout`: an unknown token is 401 `M_UNKNOWN_TOKEN` (the spec names it for this
/// endpoint); every other error as elsewhere.
pub(crate) fn logout_error(error: AuthError) -> ApiError {
    match error {
        AuthError::Unauthorized => ApiError::Unauthorized(Json(MatrixError::new(
            ErrCode::UnknownToken,
            "Unrecognised access token",
        ))),
        other => other.into(),
    }
}

impl From<RegistrationError> for ApiError {
    fn from(error: RegistrationError) -> Self {
        let message = error.to_string();
        match error {
            RegistrationError::InvalidServerName(_) | RegistrationError::DestinationBlocked => {
                Self::invalid_param(message)
            }
            RegistrationError::Unauthorized(_) => {
                Self::Unauthorized(Json(MatrixError::new(ErrCode::Unauthorized, message)))
            }
            RegistrationError::HomeserverUnavailable => Self::BadGateway(Json(MatrixError::new(
                ErrCode::Unknown,
                "The homeserver could not confirm the OpenID token",
            ))),
            RegistrationError::Internal(error) => Self::internal(&error),
        }
    }
}

impl From<ValidationError> for ApiError {
    fn from(error: ValidationError) -> Self {
        let message = error.to_string();
        match error {
            ValidationError::Refused(_) => Self::Forbidden(Json(MatrixError::new(
                ErrCode::Forbidden,
                capitalise(&message),
            ))),
            ValidationError::UnsupportedMedium(_) => Self::bad(ErrCode::Unrecognized, message),
            ValidationError::NoValidSession => Self::NotFound(Json(MatrixError::new(
                ErrCode::NoValidSession,
                "No valid session was found matching that sid and client secret",
            ))),
            ValidationError::SessionExpired => Self::bad(
                ErrCode::SessionExpired,
                "This validation session has expired: request a new token",
            ),
            ValidationError::TokenIncorrect => {
                Self::bad(ErrCode::TokenIncorrect, "The token is incorrect")
            }
            ValidationError::TooManyAttempts => Self::bad(
                ErrCode::TokenIncorrect,
                "Too many incorrect tokens: request a new token",
            ),
            ValidationError::NotValidated => Self::bad(
                ErrCode::SessionNotValidated,
                "This validation session has not been validated yet",
            ),
            ValidationError::SendFailed {
                medium: Medium::Email,
                ..
            } => Self::bad(
                ErrCode::EmailSendError,
                "The validation email could not be sent",
            ),
            ValidationError::SendFailed { rejected: true, .. } => Self::bad(
                ErrCode::InvalidAddress,
                "The provider refused to send to this address",
            ),
            ValidationError::SendFailed { .. } => Self::bad(
                ErrCode::SendError,
                "The validation message could not be sent",
            ),
            ValidationError::Remote(failure) => Self::remote(&failure),
            ValidationError::Internal(error) => Self::internal(&error),
        }
    }
}

/// The v1 `POST …/submitToken` answer to a wrong, expired, locked or unknown session: HTTP 200
/// `{"success": false, "errcode", "error"}`, as sydent's v1 email servlet answers. Synapse
/// proxies a delegated SMS code to v1 (`account_threepid_delegates.msisdn`) and turns every
/// non-2xx answer into "Error contacting the identity server", while it passes a 200 through to
/// the client, which then shows the reason. `Err` keeps every other error's status. v2 answers
/// these as the specification says (400 `M_TOKEN_INCORRECT`, ...).
pub(crate) fn v1_submission_failure(error: ValidationError) -> Result<MatrixError, ApiError> {
    let about_the_code = matches!(
        error,
        ValidationError::TokenIncorrect
            | ValidationError::TooManyAttempts
            | ValidationError::SessionExpired
            | ValidationError::NoValidSession
    );
    match ApiError::from(error) {
        ApiError::BadRequest(Json(body)) | ApiError::NotFound(Json(body)) if about_the_code => {
            Ok(body)
        }
        other => Err(other),
    }
}

/// What users are told about a failed remote server, in errors and on pages. The failure names
/// the operator's label, which means nothing to them (and may be all there is, when the label
/// resolved to no server): they are told "the other identity server", which pages name before.
pub(crate) fn remote_failure_reason(failure: &RemoteFailure) -> String {
    match failure {
        RemoteFailure::Unavailable(_) => "The other identity server cannot be reached.".to_owned(),
        RemoteFailure::Refused { errcode, error, .. } => {
            format!("The other identity server refused the request ({errcode}: {error}).")
        }
        RemoteFailure::Invalid(_) => "The other identity server gave an invalid answer.".to_owned(),
    }
}

impl From<AssociationError> for ApiError {
    fn from(error: AssociationError) -> Self {
        let message = capitalise(&error.to_string());
        match error {
            AssociationError::NoValidSession => Self::NotFound(Json(MatrixError::new(
                ErrCode::NoValidSession,
                "No valid session was found matching that sid and client secret",
            ))),
            AssociationError::SessionExpired => Self::bad(
                ErrCode::SessionExpired,
                "This validation session has expired: request a new token",
            ),
            AssociationError::NotValidated => Self::bad(
                ErrCode::SessionNotValidated,
                "This validation session has not been validated yet",
            ),
            // The label names the server for the operator (the log); users get no label.
            AssociationError::RemoteNotValidated(label) => {
                tracing::info!(%label, "a bind waits for the remote validation");
                Self::bad(
                    ErrCode::SessionNotValidated,
                    "This 3PID must first be validated on the other identity server: follow the \
                     link in the message it sent, then bind again",
                )
            }
            AssociationError::RemoteValidationRequired(label) => {
                tracing::info!(%label, "a bind of a 3PID the policy publishes elsewhere");
                Self::forbidden(
                    ErrCode::Forbidden,
                    "This 3PID must be validated and bound on another identity server (the \
                     policy of this server does not bind it here)",
                )
            }
            AssociationError::Remote(failure) => Self::remote(&failure),
            // sydent: binding another user's Matrix ID with a v2 token.
            AssociationError::NotTheRequester(_) => Self::forbidden(ErrCode::Unauthorized, message),
            AssociationError::ThreePidMismatch
            | AssociationError::HomeserverSignatureUnsupported
            | AssociationError::SignatureRejected(_)
            | AssociationError::ProofRequired
            | AssociationError::UnbindDisabled => Self::forbidden(ErrCode::Forbidden, message),
            AssociationError::HomeserverUnavailable => Self::BadGateway(Json(MatrixError::new(
                ErrCode::Unknown,
                "The homeserver's signing keys could not be fetched",
            ))),
            AssociationError::Signing(error) => Self::internal(&error),
            AssociationError::Internal(error) => Self::internal(&error),
            AssociationError::Backend(error) => Self::internal(&error),
        }
    }
}

impl From<LookupError> for ApiError {
    fn from(error: LookupError) -> Self {
        let message = capitalise(&error.to_string());
        match error {
            LookupError::TooLarge { .. } => Self::bad(ErrCode::TooLarge, message),
            LookupError::UnsupportedAlgorithm(_) | LookupError::MalformedEntry(_) => {
                Self::invalid_param(message)
            }
            LookupError::InvalidPepper {
                algorithm,
                lookup_pepper,
            } => Self::BadRequest(Json(MatrixError {
                algorithm: Some(algorithm.as_str().to_owned()),
                lookup_pepper: Some(lookup_pepper),
                ..MatrixError::new(ErrCode::InvalidPepper, message)
            })),
            LookupError::Signing(error) => Self::internal(&error),
            LookupError::Internal(error) => Self::internal(&error),
            LookupError::Backend(error) => Self::internal(&error),
            // Retryable, and never "not bound": Synapse fails the invite (500) instead of
            // sending a 3PID invite to an address that may be bound (docs/lookups.md).
            LookupError::NotReady => Self::ServiceUnavailable(Json(MatrixError {
                retry_after_ms: Some(LOOKUP_RETRY_MS),
                ..MatrixError::new(ErrCode::Unknown, message)
            })),
        }
    }
}

/// The wait, in milliseconds, a hashed lookup refused while the table is built suggests
/// (`retry_after_ms`): a million bindings take about a second to read.
const LOOKUP_RETRY_MS: u64 = 1_000;

/// Not an error: after the first SMS code of a phone number published remotely, the client
/// must ask for the remote server's NEW code (mxisd answered 200 `M_MESSAGE_FOR_CLIENT`).
/// `host` is the server as users know it (the host of its URL), never the operator's label.
pub(crate) fn new_code_coming(host: &str) -> MatrixError {
    MatrixError::new(
        ErrCode::MessageForClient,
        format!(
            "Your first code is accepted. You will receive a NEW code by text message from the \
             identity server {host}, where your number will be published: enter it to finish."
        ),
    )
}

impl From<InviteError> for ApiError {
    fn from(error: InviteError) -> Self {
        let message = capitalise(&error.to_string());
        match error {
            InviteError::UnsupportedMedium(_) => Self::bad(ErrCode::Unrecognized, message),
            // sydent: inviting on behalf of another user with a v2 token.
            InviteError::NotTheSender => Self::forbidden(ErrCode::Unauthorized, message),
            // Sydent's answer to its third_party_invite_*_blocklist.
            InviteError::NotAllowed => Self::forbidden(ErrCode::Unauthorized, message),
            InviteError::AlreadyBound(mxid) => Self::BadRequest(Json(MatrixError {
                mxid: Some(mxid.as_str().to_owned()),
                ..MatrixError::new(ErrCode::ThreepidInUse, "Binding already known")
            })),
            InviteError::SendFailed { rejected: true } => Self::bad(
                ErrCode::InvalidEmail,
                "The mail server refused to send to this address",
            ),
            InviteError::SendFailed { rejected: false } => Self::bad(
                ErrCode::EmailSendError,
                "The invite email could not be sent",
            ),
            InviteError::UnknownToken => {
                Self::NotFound(Json(MatrixError::new(ErrCode::Unrecognized, message)))
            }
            InviteError::InvalidPrivateKey => Self::invalid_param(message),
            InviteError::WrongPrivateKey => Self::forbidden(ErrCode::Forbidden, message),
            InviteError::Signing(error) => Self::internal(&error),
            InviteError::Internal(error) => Self::internal(&error),
            InviteError::Backend(error) => Self::internal(&error),
        }
    }
}

fn capitalise(message: &str) -> String {
    let mut chars = message.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[path = "errors_gates.rs"]
mod gates;

#[cfg(test)]
#[path = "errors_table_tests.rs"]
mod errors_table_tests;
