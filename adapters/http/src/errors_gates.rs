//! The errors of the homeserver endpoints Verity stands in front of (registration control, the
//! invite policy), in the client-server API's terms: the refusal ma1sd gave, the homeserver's
//! own code for a rejected token, and a gateway error when the homeserver or a store cannot be
//! asked (never a pass: an outage lets nothing through).
use poem_openapi::payload::Json;
use verity_application::ports::driven::HomeserverAsUserError;
use verity_application::ports::driving::{RegistrationGateError, RoomInviteGateError};

use super::ApiError;
use crate::error::{ErrCode, MatrixError};

fn homeserver_unreachable(cause: &HomeserverAsUserError, endpoint: &str) -> ApiError {
    tracing::warn!(error = %cause, "the homeserver could not be asked ({endpoint})");
    ApiError::BadGateway(Json(MatrixError::new(
        ErrCode::Unknown,
        "The homeserver could not be reached",
    )))
}

impl From<RegistrationGateError> for ApiError {
    fn from(error: RegistrationGateError) -> Self {
        match error {
            // The client-server API's code for "the server does not permit this 3PID"
            // (register/{medium}/requestToken), as Synapse answers its own
            // allowed_local_3pids; ma1sd answered M_FORBIDDEN.
            RegistrationGateError::Refused(_) => Self::Forbidden(Json(MatrixError::new(
                ErrCode::ThreepidDenied,
                error.to_string(),
            ))),
            RegistrationGateError::Store(ref cause) => Self::internal(cause),
            RegistrationGateError::Homeserver(cause) => {
                homeserver_unreachable(&cause, "register/requestToken")
            }
        }
    }
}

impl From<RoomInviteGateError> for ApiError {
    fn from(error: RoomInviteGateError) -> Self {
        match error {
            RoomInviteGateError::Refused => Self::forbidden_with(error.to_string()),
            RoomInviteGateError::Profiles(cause) => {
                tracing::warn!(error = %cause, "the inviter's roles could not be read; the invite is refused for now");
                Self::ServiceUnavailable(Json(MatrixError::new(
                    ErrCode::Unknown,
                    "An identity store could not be asked: retry later",
                )))
            }
            RoomInviteGateError::Homeserver(HomeserverAsUserError::TokenRejected) => {
                Self::Unauthorized(Json(MatrixError::new(
                    ErrCode::UnknownToken,
                    "The homeserver rejected the access token",
                )))
            }
            RoomInviteGateError::Homeserver(cause) => {
                homeserver_unreachable(&cause, "rooms/invite")
            }
        }
    }
}
