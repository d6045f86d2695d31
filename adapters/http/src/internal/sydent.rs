//! Sydent's internal API: `POST /_matrix/identity/internal/bind` and `.../unbind`, which bind
//! any 3PID to any Matrix ID, and unbind it, with no validation and no authentication (Sydent's
//! `AuthenticatedBindThreePidServlet` and `AuthenticatedUnbindThreePidServlet`: "it is assumed
//! that authentication happens out of band"). Served only when the operator turned it on
//! (`server.internal.bindApi`), on the internal listener.
//!
//! As Sydent: the body `{"medium", "address", "mxid"}`; a missing one is 400 `M_MISSING_PARAMS`
//! "Missing parameters: medium,address" (in that order), an empty body 400 `M_BAD_JSON`
//! "Malformed JSON" (a body that is not JSON is the specification's `M_NOT_JSON` here, as on
//! every listener of Verity, where Sydent says `M_BAD_JSON`); bind answers the signed association (what `/3pid/bind`
//! answers, with the `invites` of the address when it had pending ones), unbind answers `{}`
//! whether or not something was bound. Unlike Sydent, each value is checked (a medium, an
//! address of that medium, a Matrix user ID: 400 `M_INVALID_PARAM`), since a binding that
//! could never be looked up, or an invite delivered to a user ID that is none, helps nobody.
use std::sync::Arc;

use bytes::Bytes;
use poem::http::header;
use poem::web::{Data, Json};
use poem::{IntoResponse, Request, Response, handler};
use serde_json::{Map, Value, json};
use verity_application::ports::driven::Binding;
use verity_application::ports::driving::{Actor, Association};
use verity_domain::{Medium, ThreePid, UserId};

use crate::error::{ErrCode, MatrixError};
use crate::errors_api::ApiError;

/// The path of the bind.
pub const INTERNAL_BIND_PATH: &str = "/_matrix/identity/internal/bind";
/// The path of the unbind.
pub const INTERNAL_UNBIND_PATH: &str = "/_matrix/identity/internal/unbind";

/// Sydent's `get_args` for `medium`, `address` and `mxid`, then each checked.
fn binding(body: &[u8]) -> Result<Binding, Response> {
    let Ok(Value::Object(args)) = serde_json::from_slice::<Value>(body) else {
        return Err(MatrixError::new(ErrCode::BadJson, "Malformed JSON")
            .into_response_with(poem::http::StatusCode::BAD_REQUEST));
    };
    let missing: Vec<&str> = ["medium", "address", "mxid"]
        .into_iter()
        .filter(|name| !args.contains_key(*name))
        .collect();
    if !missing.is_empty() {
        return Err(MatrixError::new(
            ErrCode::MissingParams,
            format!("Missing parameters: {}", missing.join(",")),
        )
        .into_response_with(poem::http::StatusCode::BAD_REQUEST));
    }
    let text = |name: &str, args: &Map<String, Value>| {
        args.get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| {
                ApiError::invalid_param(format!("`{name}` must be a string")).into_response()
            })
    };
    let medium = Medium::parse(&text("medium", &args)?)
        .map_err(|_| ApiError::invalid_param("`medium` is not a valid medium").into_response())?;
    let threepid = ThreePid::parse(medium, &text("address", &args)?).map_err(|error| {
        ApiError::invalid_param(format!("`address` is invalid: {error}")).into_response()
    })?;
    let user_id = UserId::parse(text("mxid", &args)?.trim()).map_err(|_| {
        ApiError::invalid_param("`mxid` is not a valid Matrix user ID").into_response()
    })?;
    Ok(Binding { threepid, user_id })
}

/// The caller, for the audit log: the internal API has no user, only a peer.
fn actor(request: &Request) -> Actor {
    let peer = request
        .remote_addr()
        .as_socket_addr()
        .map_or_else(|| "unknown".to_owned(), ToString::to_string);
    Actor::new(format!("internal API from {peer}"))
}

#[handler]
pub(crate) async fn bind(
    request: &Request,
    body: Bytes,
    Data(association): Data<&Arc<dyn Association>>,
) -> Response {
    let binding = match binding(&body) {
        Ok(binding) => binding,
        Err(response) => return response,
    };
    match association.bind_vouched(binding, &actor(request)).await {
        // The signed text as it was signed: a field rewritten would break the signature.
        Ok(signed) => Response::builder()
            .content_type("application/json")
            .header(header::CACHE_CONTROL, "no-store")
            .body(signed.as_str().to_owned()),
        Err(error) => ApiError::from(error).into_response(),
    }
}

#[handler]
pub(crate) async fn unbind(
    request: &Request,
    body: Bytes,
    Data(association): Data<&Arc<dyn Association>>,
) -> Response {
    let binding = match binding(&body) {
        Ok(binding) => binding,
        Err(response) => return response,
    };
    match association.unbind_vouched(binding, &actor(request)).await {
        Ok(_) => Json(json!({})).into_response(),
        Err(error) => ApiError::from(error).into_response(),
    }
}
