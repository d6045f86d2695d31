//! The invite policy (ma1sd's `invite.policy.ifSender.hasRole`, outside the Identity Service
//! API): the homeserver's `POST /_matrix/client/{r0,v3}/rooms/{roomId}/invite`, routed to Verity
//! by the reverse proxy, is let through to the homeserver or, for a 3PID invite whose sender
//! holds none of the roles, refused.
use std::sync::Arc;

use poem::web::{Data, Path};
use poem::{Body, IntoResponse, Request, Response, handler};
use poem_openapi::payload::Json;
use verity_application::ports::driven::RelayedRequest;
use verity_application::ports::driving::{InviteTarget, RoomInviteGate, RoomInviteRequest};
use verity_domain::HomeserverAccessToken;

use super::homeserver_route;
use super::limits::requester;
use crate::error::{ErrCode, MatrixError};
use crate::errors_api::ApiError;

/// Where the homeserver's room invite is served (`r0` and `v3`; other versions are 404
/// `M_UNRECOGNIZED`).
///
/// Not in the OpenAPI document, as registration control: the homeserver's answer is passed on
/// whatever its status and shape.
pub(crate) const ROOM_INVITE_PATH: &str = "/_matrix/client/:version/rooms/:room_id/invite";

/// The longest room ID taken, in bytes (the spec's limit for every Matrix identifier).
const MAX_ROOM_ID_BYTES: usize = 255;

/// What the route needs.
#[derive(Clone)]
pub(crate) struct RoomInviteRoute {
    pub(crate) gate: Arc<dyn RoomInviteGate>,
}

/// `POST /_matrix/client/{r0,v3}/rooms/{roomId}/invite` with the user's access token (header,
/// or the `access_token` query parameter): a body with `medium` is a 3PID invite (as ma1sd read
/// it), anything else a user invite. The body goes to the homeserver unchanged and its answer
/// comes back as it is; a 3PID invite the policy refuses gets 403 `M_FORBIDDEN` and the
/// homeserver is not asked.
#[handler]
pub(crate) async fn invite(
    http: &Request,
    Path((version, room_id)): Path<(String, String)>,
    body: Body,
    Data(route): Data<&RoomInviteRoute>,
) -> Response {
    match relay(http, &version, room_id, body, route).await {
        Ok(response) | Err(response) => response,
    }
}

async fn relay(
    http: &Request,
    version: &str,
    room_id: String,
    body: Body,
    route: &RoomInviteRoute,
) -> Result<Response, Response> {
    let refuse = |error: ApiError| error.into_response();
    let route_to = homeserver_route::route(http, version).map_err(refuse)?;
    let token = access_token(http).map_err(refuse)?;
    if !is_room_id(&room_id) {
        return Err(refuse(ApiError::invalid_param(
            "The path's room ID is not a room ID",
        )));
    }
    let (bytes, fields) = homeserver_route::json_object(body).await?;
    let target = if fields.contains_key("medium") {
        InviteTarget::ThreePid
    } else {
        InviteTarget::User
    };
    let request = RoomInviteRequest {
        room_id,
        target,
        relayed: RelayedRequest {
            body: bytes,
            requester: requester(http),
        },
    };
    let answer = route
        .gate
        .invite(&route_to, &token, &request)
        .await
        .map_err(|error| refuse(error.into()))?;
    homeserver_route::relayed(answer).map_err(refuse)
}

/// The user's token, as the homeserver takes it: `Authorization: Bearer`, else `access_token` in
/// the query. None: 401 `M_MISSING_TOKEN`; one no homeserver issues (blank, too long, with
/// spaces or controls): 401 `M_UNKNOWN_TOKEN`.
fn access_token(http: &Request) -> Result<HomeserverAccessToken, ApiError> {
    let unauthorized =
        |code, message: &str| ApiError::Unauthorized(Json(MatrixError::new(code, message)));
    let header = http
        .headers()
        .get(poem::http::header::AUTHORIZATION)
        .map(|value| value.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")));
    let raw = match header {
        Some(Some(token)) => Some(token.to_owned()),
        Some(None) => None,
        None => http
            .uri()
            .query()
            .and_then(|query| {
                url::form_urlencoded::parse(query.as_bytes())
                    .find(|(name, _)| name == "access_token")
            })
            .map(|(_, token)| token.into_owned()),
    };
    let raw = raw.ok_or_else(|| unauthorized(ErrCode::MissingToken, "Missing access token"))?;
    HomeserverAccessToken::parse(&raw)
        .map_err(|_| unauthorized(ErrCode::UnknownToken, "Unrecognised access token"))
}

/// A room ID as the homeserver could have made it: `!`, then printable characters, at most
/// [`MAX_ROOM_ID_BYTES`] in all (the homeserver judges the rest).
fn is_room_id(raw: &str) -> bool {
    raw.len() <= MAX_ROOM_ID_BYTES
        && raw.len() > 1
        && raw.starts_with('!')
        && !raw.chars().any(char::is_control)
}
