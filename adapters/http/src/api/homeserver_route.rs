//! What the routes Verity serves in front of the homeserver (registration control, the invite
//! policy) read alike: the API version and the host the client called (which select the
//! homeserver), and a body that must be a JSON object, passed on as it came.
use poem::http::header::HOST;
use poem::{Body, Request, Response};
use poem_openapi::payload::Json;
use serde_json::{Map, Value};
use verity_application::ports::driven::{ClientApiVersion, HomeserverRoute, RelayedAnswer};
use verity_domain::ServerName;

use crate::error::{ErrCode, MatrixError, escaped_error_response};
use crate::errors_api::ApiError;

/// 404 `M_UNRECOGNIZED`, as the homeserver answers a path it does not serve.
pub(crate) fn unrecognized() -> ApiError {
    ApiError::NotFound(Json(MatrixError::new(
        ErrCode::Unrecognized,
        "Unrecognized request",
    )))
}

/// The homeserver for a request to `/_matrix/client/<version>/...`, and the host the client
/// called, which selects the operator's entry for its homeserver (anything that is not
/// `host[:port]` selects none).
///
/// `r0` and `v3` are asked as they came; `unstable` (Synapse serves these endpoints there too)
/// is asked on `v3`, whose requests and answers are the same. Others are 404 `M_UNRECOGNIZED`.
/// Each path a homeserver serves an endpoint on must reach Verity, or a client could take the
/// one the proxy does not send here and go round the policy.
pub(crate) fn route(http: &Request, version: &str) -> Result<HomeserverRoute, ApiError> {
    let version = match version {
        "r0" => ClientApiVersion::R0,
        "v3" | "unstable" => ClientApiVersion::V3,
        _ => return Err(unrecognized()),
    };
    Ok(HomeserverRoute {
        host: called_host(http),
        version,
    })
}

/// The host the client called (the `Host` the reverse proxy passed on), which selects the
/// operator's entry for its homeserver; anything that is not `host[:port]` selects none.
pub(crate) fn called_host(http: &Request) -> Option<ServerName> {
    http.headers()
        .get(HOST)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| ServerName::parse(value).ok())
}

/// The body's bytes (as they will be passed on) and its fields: 400 `M_NOT_JSON` for anything
/// that is not JSON, `M_BAD_JSON` for JSON that is not an object.
pub(crate) async fn json_object(body: Body) -> Result<(Vec<u8>, Map<String, Value>), Response> {
    let bytes = body
        .into_vec()
        .await
        .map_err(|error| escaped_error_response(poem::Error::from(error)))?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(fields)) => Ok((bytes, fields)),
        Ok(_) => Err(poem::IntoResponse::into_response(ApiError::BadRequest(
            Json(MatrixError::new(
                ErrCode::BadJson,
                "The request body must be a JSON object",
            )),
        ))),
        Err(_) => Err(poem::IntoResponse::into_response(ApiError::BadRequest(
            Json(MatrixError::new(
                ErrCode::NotJson,
                "The request body is not JSON",
            )),
        ))),
    }
}

/// The homeserver's answer, given back with its status.
pub(crate) fn relayed(answer: RelayedAnswer) -> Result<Response, ApiError> {
    let status = poem::http::StatusCode::from_u16(answer.status)
        .map_err(|error| ApiError::internal(&error))?;
    Ok(Response::builder()
        .status(status)
        .content_type("application/json")
        .body(answer.body))
}
