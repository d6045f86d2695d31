//! Registration control (ma1sd's `register.policy`, outside the Identity Service API): the
//! homeserver's `POST /_matrix/client/{r0,v3}/register/{email,msisdn}/requestToken`, routed to
//! Verity by the reverse proxy, is let through to the homeserver or refused.
use std::sync::Arc;

use poem::http::StatusCode;
use poem::http::header::HOST;
use poem::web::{Data, Path};
use poem::{Body, IntoResponse, Request, Response, handler};
use poem_openapi::payload::Json;
use serde_json::Value;
use verity_application::ports::driven::{ClientApiVersion, HomeserverRoute, RelayedRequest};
use verity_application::ports::driving::{RegistrationGate, RegistrationGateError};
use verity_domain::{EmailAddress, LimitedRequest, Medium, Msisdn, ServerName, ThreePid};

use super::limits::{Gate, requester};
use crate::error::{ErrCode, MatrixError, escaped_error_response};
use crate::errors_api::ApiError;

/// Where the homeserver's registration requestToken is served (`r0` and `v3`, `email` and
/// `msisdn`; other values are 404 `M_UNRECOGNIZED`).
///
/// Not in the OpenAPI document: the homeserver's answer is passed on whatever its status and
/// shape, which the client-server API describes, not Verity's document.
pub(crate) const REGISTER_PATH: &str = "/_matrix/client/:version/register/:medium/requestToken";

/// What the route needs.
#[derive(Clone)]
pub(crate) struct RegistrationRoute {
    pub(crate) gate: Arc<dyn RegistrationGate>,
    pub(crate) limits: Gate,
}

/// `POST /_matrix/client/{r0,v3}/register/{email,msisdn}/requestToken`: the body is the
/// client-server API's (`client_secret`, `send_attempt`, and `email`, or `country` and
/// `phone_number`) and is passed on to the homeserver unchanged; its answer comes back as it
/// is. A 3PID the policy refuses gets 403 `M_FORBIDDEN` and the homeserver is not asked.
#[handler]
pub(crate) async fn request_token(
    http: &Request,
    Path((version, medium)): Path<(String, String)>,
    body: Body,
    Data(route): Data<&RegistrationRoute>,
) -> Response {
    match relay(http, &version, &medium, body, route).await {
        Ok(response) | Err(response) => response,
    }
}

async fn relay(
    http: &Request,
    version: &str,
    medium: &str,
    body: Body,
    route: &RegistrationRoute,
) -> Result<Response, Response> {
    let refuse = |error: ApiError| error.into_response();
    let version = match version {
        "r0" => ClientApiVersion::R0,
        "v3" => ClientApiVersion::V3,
        _ => return Err(refuse(unrecognized())),
    };
    // The host the client called selects the operator's entry for its homeserver (as for the
    // user directory search); anything that is not `host[:port]` selects none.
    let host = http
        .headers()
        .get(HOST)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| ServerName::parse(value).ok());
    let route_to = HomeserverRoute { host, version };
    let bytes = body
        .into_vec()
        .await
        .map_err(|error| escaped_error_response(poem::Error::from(error)))?;
    let Ok(json) = serde_json::from_slice::<Value>(&bytes) else {
        return Err(refuse(ApiError::BadRequest(Json(MatrixError::new(
            ErrCode::NotJson,
            "The request body is not JSON",
        )))));
    };
    let threepid = threepid(medium, &json).map_err(refuse)?;
    route
        .limits
        .client(http, LimitedRequest::RequestToken(threepid.clone()))
        .map_err(refuse)?;
    let request = RelayedRequest {
        body: bytes,
        requester: requester(http),
    };
    let answer = route
        .gate
        .request_token(&route_to, &threepid, &request)
        .await
        .map_err(|error| refuse(gate_error(error)))?;
    let status =
        StatusCode::from_u16(answer.status).map_err(|error| refuse(ApiError::internal(&error)))?;
    Ok(Response::builder()
        .status(status)
        .content_type("application/json")
        .body(answer.body))
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
