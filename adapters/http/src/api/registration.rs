//! Registration control (ma1sd's `register.policy`, outside the Identity Service API): the
//! homeserver's `POST /_matrix/client/{r0,v3}/register/{email,msisdn}/requestToken`, routed to
//! Verity by the reverse proxy, is let through to the homeserver or refused.
use std::sync::Arc;

use poem::Request;
use poem::http::StatusCode;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};
use serde_json::Value;
use verity_application::ports::driven::RelayedRequest;
use verity_application::ports::driving::{RegistrationGate, RegistrationGateError};
use verity_domain::{EmailAddress, LimitedRequest, Medium, Msisdn, ThreePid};

use super::ApiTags;
use super::limits::{Gate, requester};
use crate::error::{ErrCode, MatrixError};
use crate::errors_api::ApiError;

/// Registration control: the homeserver's 3PID registration requests.
pub struct RegistrationApi {
    pub(super) gate: Option<Arc<dyn RegistrationGate>>,
    pub(super) limits: Gate,
}

/// The homeserver's answer, passed on as it came.
#[derive(Debug, ApiResponse)]
pub enum Relayed {
    /// The homeserver's status and JSON body: 200 with the session's `sid`, or its Matrix error
    /// (`M_THREEPID_IN_USE`, `M_LIMIT_EXCEEDED`, ...).
    Answer(StatusCode, Json<Value>),
}

#[OpenApi(tag = "ApiTags::Registration")]
impl RegistrationApi {
    /// Ask the homeserver for a registration token for a 3PID, if `register.policy` lets it
    /// register.
    ///
    /// Served only when registration control is configured; the reverse proxy routes the
    /// homeserver's path here. The body is the client-server API's (`client_secret`,
    /// `send_attempt`, and `email`, or `country` and `phone_number`) and is passed on to the
    /// homeserver unchanged; its answer comes back as it is. A 3PID the policy refuses gets 403
    /// `M_FORBIDDEN` and the homeserver is not asked.
    #[oai(
        path = "/_matrix/client/:version/register/:medium/requestToken",
        method = "post",
        operation_id = "registerRequestToken",
        external_docs = "https://spec.matrix.org/v1.19/client-server-api/#post_matrixclientv3registeremailrequesttoken"
    )]
    async fn request_token(
        &self,
        http: &Request,
        /// The client-server API version: `r0` or `v3`.
        version: Path<String>,
        /// `email` or `msisdn`.
        medium: Path<String>,
        body: Json<Value>,
    ) -> Result<Relayed, ApiError> {
        let Some(gate) = &self.gate else {
            return Err(unrecognized());
        };
        if !matches!(version.0.as_str(), "r0" | "v3") {
            return Err(unrecognized());
        }
        let threepid = threepid(&medium.0, &body.0)?;
        self.limits
            .client(http, LimitedRequest::RequestToken(threepid.clone()))?;
        let request = RelayedRequest {
            body: serde_json::to_vec(&body.0).map_err(|error| ApiError::internal(&error))?,
            requester: requester(http),
        };
        let answer = gate
            .request_token(&threepid, &request)
            .await
            .map_err(gate_error)?;
        let status =
            StatusCode::from_u16(answer.status).map_err(|error| ApiError::internal(&error))?;
        let body =
            serde_json::from_slice(&answer.body).map_err(|error| ApiError::internal(&error))?;
        Ok(Relayed::Answer(status, Json(body)))
    }
}

fn unrecognized() -> ApiError {
    ApiError::NotFound(Json(MatrixError::new(
        ErrCode::Unrecognized,
        "Unrecognized request",
    )))
}

/// The 3PID of the body, as the homeserver will read it.
fn threepid(medium: &str, body: &Value) -> Result<ThreePid, ApiError> {
    let Value::Object(fields) = body else {
        return Err(ApiError::BadRequest(Json(MatrixError::new(
            ErrCode::BadJson,
            "The request body must be a JSON object",
        ))));
    };
    let text = |name: &str| -> Result<&str, ApiError> {
        match fields.get(name) {
            Some(Value::String(value)) => Ok(value),
            Some(_) => Err(ApiError::BadRequest(Json(MatrixError::new(
                ErrCode::BadJson,
                format!("`{name}` must be a string"),
            )))),
            None => Err(ApiError::BadRequest(Json(MatrixError::new(
                ErrCode::MissingParams,
                format!("Missing parameter `{name}`"),
            )))),
        }
    };
    match Medium::parse(medium) {
        Ok(Medium::Email) => Ok(ThreePid::Email(EmailAddress::parse(text("email")?)?)),
        Ok(Medium::Msisdn) => Ok(ThreePid::Msisdn(Msisdn::from_parts(
            text("phone_number")?,
            text("country")?,
        )?)),
        _ => Err(unrecognized()),
    }
}

/// The one mapping of the gate's errors.
fn gate_error(error: RegistrationGateError) -> ApiError {
    match error {
        RegistrationGateError::Refused(_) => ApiError::forbidden_with(error.to_string()),
        RegistrationGateError::Store(ref cause) => ApiError::internal(cause),
        RegistrationGateError::Homeserver(cause) => {
            tracing::warn!(error = %cause, "the homeserver could not be asked for a registration token");
            ApiError::BadGateway(Json(MatrixError::new(
                ErrCode::Unknown,
                "The homeserver could not be reached",
            )))
        }
    }
}
