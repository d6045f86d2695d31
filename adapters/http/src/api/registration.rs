//! Registration control (ma1sd's `register.policy`, outside the Identity Service API): the
//! homeserver's `POST /_matrix/client/{r0,v3}/register/{email,msisdn}/requestToken`, routed to
//! Verity by the reverse proxy, is let through to the homeserver or refused.
use std::sync::Arc;

use poem::web::{Data, Path};
use poem::{Body, IntoResponse, Request, Response, handler};
use poem_openapi::payload::Json;
use serde_json::{Map, Value};
use verity_application::ports::driven::RelayedRequest;
use verity_application::ports::driving::RegistrationGate;
use verity_domain::{EmailAddress, LimitedRequest, Medium, Msisdn, ThreePid};

use super::homeserver_route;
use super::limits::{Gate, requester};
use crate::error::{ErrCode, MatrixError};
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
    let route_to = homeserver_route::route(http, version).map_err(refuse)?;
    let (bytes, fields) = homeserver_route::json_object(body).await?;
    let threepid = threepid(medium, &fields).map_err(refuse)?;
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
        .map_err(|error| refuse(error.into()))?;
    homeserver_route::relayed(answer).map_err(refuse)
}

/// The 3PID of the body, as the homeserver will read it.
fn threepid(medium: &str, fields: &Map<String, Value>) -> Result<ThreePid, ApiError> {
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
        _ => Err(homeserver_route::unrecognized()),
    }
}
