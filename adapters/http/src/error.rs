//! Matrix errors: the `{errcode, error}` body, and the mapping of everything that can fail into it.
//!
//! This module is the only place that chooses an `errcode` and an HTTP status.
use poem::http::StatusCode;
use poem::{IntoResponse, Response};
use poem_openapi::Object;

/// The Matrix error codes Verity answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrCode {
    /// Missing, unknown or expired access token.
    Unauthorized,
    /// The access token presented to `logout` (or to the user directory search: the homeserver
    /// rejected it) is unknown.
    UnknownToken,
    /// The user directory search carries no access token.
    MissingToken,
    /// A guest searched the user directory.
    GuestAccessForbidden,
    /// The user has not accepted the current terms of service.
    TermsNotSigned,
    /// The server's policy forbids the request.
    Forbidden,
    /// The email address is invalid.
    InvalidEmail,
    /// The 3PID address (a phone number) is invalid.
    InvalidAddress,
    /// Sending the email failed.
    EmailSendError,
    /// Sending the SMS failed.
    SendError,
    /// No session matches the sid and client secret.
    NoValidSession,
    /// The requested object (a public key) does not exist.
    NotFound,
    /// The session has expired.
    SessionExpired,
    /// The session has not been validated.
    SessionNotValidated,
    /// The token is wrong.
    TokenIncorrect,
    /// Unknown endpoint, or a known endpoint called with the wrong method.
    Unrecognized,
    /// The body is not JSON.
    NotJson,
    /// The body is JSON but not what the endpoint expects.
    BadJson,
    /// A required parameter is missing.
    MissingParams,
    /// A parameter has an invalid value.
    InvalidParam,
    /// The request body, or the number of addresses of a lookup, is larger than the server
    /// accepts.
    TooLarge,
    /// A lookup used another pepper than the published one.
    InvalidPepper,
    /// A remote identity server Verity asked on the user's behalf failed (mxisd's code).
    RemoteIsError,
    /// Not an error: a message the client should show (mxisd's SMS "enter the NEW code").
    MessageForClient,
    /// store-invite: the 3PID is already bound (the body names the `mxid`).
    ThreepidInUse,
    /// The homeserver's `register/{medium}/requestToken`: the registration policy does not
    /// permit this 3PID (the client-server API's code, as Synapse answers it).
    ThreepidDenied,
    /// An abuse limit refused the request (the body has `retry_after_ms`).
    LimitExceeded,
    /// Anything unexpected; details are in the server log only.
    Unknown,
}

impl ErrCode {
    /// The wire form (`M_…`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unauthorized => "M_UNAUTHORIZED",
            Self::UnknownToken => "M_UNKNOWN_TOKEN",
            Self::MissingToken => "M_MISSING_TOKEN",
            Self::GuestAccessForbidden => "M_GUEST_ACCESS_FORBIDDEN",
            Self::TermsNotSigned => "M_TERMS_NOT_SIGNED",
            Self::Forbidden => "M_FORBIDDEN",
            Self::InvalidEmail => "M_INVALID_EMAIL",
            Self::InvalidAddress => "M_INVALID_ADDRESS",
            Self::EmailSendError => "M_EMAIL_SEND_ERROR",
            Self::SendError => "M_SEND_ERROR",
            Self::NoValidSession => "M_NO_VALID_SESSION",
            Self::NotFound => "M_NOT_FOUND",
            Self::SessionExpired => "M_SESSION_EXPIRED",
            Self::SessionNotValidated => "M_SESSION_NOT_VALIDATED",
            Self::TokenIncorrect => "M_TOKEN_INCORRECT",
            Self::Unrecognized => "M_UNRECOGNIZED",
            Self::NotJson => "M_NOT_JSON",
            Self::BadJson => "M_BAD_JSON",
            Self::MissingParams => "M_MISSING_PARAMS",
            Self::InvalidParam => "M_INVALID_PARAM",
            Self::TooLarge => "M_TOO_LARGE",
            Self::InvalidPepper => "M_INVALID_PEPPER",
            Self::RemoteIsError => "M_REMOTE_IS_ERROR",
            Self::MessageForClient => "M_MESSAGE_FOR_CLIENT",
            Self::ThreepidInUse => "M_THREEPID_IN_USE",
            Self::ThreepidDenied => "M_THREEPID_DENIED",
            Self::LimitExceeded => "M_LIMIT_EXCEEDED",
            Self::Unknown => "M_UNKNOWN",
        }
    }
}

/// A Matrix error body. Some errors carry more fields; they are left out of every other one.
#[derive(Debug, Clone, PartialEq, Eq, Object)]
pub struct MatrixError {
    /// The Matrix error code, such as `M_UNRECOGNIZED`.
    pub errcode: String,
    /// A human-readable explanation.
    pub error: String,
    /// `M_INVALID_PEPPER` only: the algorithm the lookup used.
    #[oai(skip_serializing_if_is_none)]
    pub algorithm: Option<String>,
    /// `M_INVALID_PEPPER` only: the pepper to use (the one `GET /hash_details` gives).
    #[oai(skip_serializing_if_is_none)]
    pub lookup_pepper: Option<String>,
    /// `M_THREEPID_IN_USE` only: the Matrix user the 3PID is bound to.
    #[oai(skip_serializing_if_is_none)]
    pub mxid: Option<String>,
    /// `M_LIMIT_EXCEEDED` only: how many milliseconds to wait before retrying.
    #[oai(skip_serializing_if_is_none)]
    pub retry_after_ms: Option<u64>,
}

impl MatrixError {
    /// An error body with this code and message.
    pub fn new(code: ErrCode, message: impl Into<String>) -> Self {
        Self {
            errcode: code.as_str().to_owned(),
            error: message.into(),
            algorithm: None,
            lookup_pepper: None,
            mxid: None,
            retry_after_ms: None,
        }
    }

    /// The full HTTP response: this body as JSON with `status`.
    pub fn into_response_with(self, status: StatusCode) -> Response {
        let mut body = serde_json::json!({ "errcode": self.errcode, "error": self.error });
        for (name, value) in [
            ("algorithm", self.algorithm),
            ("lookup_pepper", self.lookup_pepper),
            ("mxid", self.mxid),
        ] {
            if let Some(value) = value {
                body[name] = serde_json::Value::String(value);
            }
        }
        if let Some(wait) = self.retry_after_ms {
            body["retry_after_ms"] = serde_json::Value::from(wait);
        }

        poem::web::Json(body).with_status(status).into_response()
    }
}

/// Turns an error that escaped the handlers (routing, request parsing, middleware) into a Matrix
/// error response. Handlers' own errors are already responses and never reach this.
pub(crate) fn escaped_error_response(err: poem::Error) -> Response {
    // A handler's own error (an `ApiError`) arrives already rendered: pass it through.
    if err.is_from_response() {
        return err.into_response();
    }
    escaped_error(&err)
}

fn escaped_error(err: &poem::Error) -> Response {
    use poem::error::{MethodNotAllowedError, NotFoundError};
    use poem_openapi::error::{
        ContentTypeError, ParseParamError, ParsePathError, ParseRequestPayloadError,
    };

    let status = err.status();
    let (code, message) = if err.is::<NotFoundError>() || status == StatusCode::NOT_FOUND {
        (ErrCode::Unrecognized, "Unrecognized request".to_owned())
    } else if err.is::<MethodNotAllowedError>() || status == StatusCode::METHOD_NOT_ALLOWED {
        (
            ErrCode::Unrecognized,
            "Method not allowed for this endpoint".to_owned(),
        )
    } else if let Some(e) = err.downcast_ref::<ParseRequestPayloadError>() {
        (
            ErrCode::BadJson,
            format!(
                "The request body is not valid for this endpoint: {}",
                e.reason
            ),
        )
    } else if err.is::<ContentTypeError>() {
        (
            ErrCode::NotJson,
            "The request body must be JSON (Content-Type: application/json)".into(),
        )
    } else if err.is::<poem_openapi::error::AuthorizationError>() {
        (
            ErrCode::Unauthorized,
            "Missing or unrecognised access token".to_owned(),
        )
    } else if let Some(e) = err.downcast_ref::<ParseParamError>() {
        param_error(e.name, &e.reason)
    } else if let Some(e) = err.downcast_ref::<ParsePathError>() {
        (
            ErrCode::InvalidParam,
            format!("Invalid path parameter `{}`", e.name),
        )
    } else if status.is_server_error() {
        tracing::error!(error = %err, "request failed");
        (ErrCode::Unknown, "Internal server error".to_owned())
    } else {
        (ErrCode::Unknown, err.to_string())
    };
    let status = match code {
        ErrCode::Unrecognized | ErrCode::Unauthorized => status,
        ErrCode::Unknown if status.is_server_error() => StatusCode::INTERNAL_SERVER_ERROR,
        ErrCode::Unknown => status,
        _ => StatusCode::BAD_REQUEST,
    };
    MatrixError::new(code, message).into_response_with(status)
}

/// poem-openapi reports a missing parameter and an unparsable one the same way; its reason text
/// tells them apart.
fn param_error(name: &str, reason: &str) -> (ErrCode, String) {
    if reason.contains("expects an input value") {
        (
            ErrCode::MissingParams,
            format!("Missing parameter `{name}`"),
        )
    } else {
        (ErrCode::InvalidParam, format!("Invalid parameter `{name}`"))
    }
}
