//! The complete HTTP application: routes plus the middleware every request goes through.
use std::sync::Arc;

use poem::endpoint::BoxEndpoint;
use poem::http::StatusCode;
use poem::middleware::CatchPanic;
use poem::{Endpoint, EndpointExt, PathPattern, Response, Route, post};

use crate::api::limits::Gate;
use crate::api::openapi_service;
use crate::api::registration::{REGISTER_PATH, RegistrationRoute, request_token};
use crate::api::room_invite::{ROOM_INVITE_PATH, RoomInviteRoute, invite};
use crate::deps::HttpDeps;
use crate::error::{ErrCode, MatrixError, escaped_error_response};
use crate::middleware::{
    AccessLog, AllowHeader, ApiVersions, BodyGuard, Cors, RequestId, RouteTemplates,
    SecurityHeaders,
};
use crate::pages::SharedViews;

/// Path of the OpenAPI document as YAML (the same text as `api-spec/openapi.yaml`).
pub const OPENAPI_YAML_PATH: &str = "/_verity/openapi.yaml";
/// Path of the OpenAPI document as JSON.
pub const OPENAPI_JSON_PATH: &str = "/_verity/openapi.json";

/// HTTP behaviour chosen by the operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpConfig {
    /// Request bodies above this many bytes get 413 `M_TOO_LARGE`.
    pub max_body_bytes: usize,
    /// Serve the deprecated v1 API (`matrix.v1`).
    pub v1: bool,
    /// Serve the v2 API (`matrix.v2`).
    pub v2: bool,
}

/// An error's Matrix answer, keeping the template of the route that failed (poem puts it on the
/// error), which the request metrics label the answer with.
pub(crate) fn error_keeping_route(err: poem::Error) -> Response {
    let route = err.data::<PathPattern>().cloned();
    let mut response = escaped_error_response(err);
    if let Some(route) = route {
        response.set_data(route);
    }
    response
}

/// Builds the whole application.
///
/// Middleware order matters, outermost first: the request id's span holds every log line of the
/// request; the access log sees the final status; CORS headers go on
/// every answer, errors included; every error that escaped a handler becomes a Matrix error;
/// disabled API families are cut off before the body is read; the body guard runs last, just
/// before routing.
pub fn app(deps: &HttpDeps, config: HttpConfig) -> BoxEndpoint<'static, Response> {
    let service = openapi_service(deps);
    // A 405 names the methods the document gives its path (RFC 9110 requires `Allow`).
    let spec = service.spec();
    let allow = AllowHeader::from_spec(&spec);
    // The request metrics name routes as the document does.
    let templates = RouteTemplates::from_spec(&spec);
    let mut routes = Route::new()
        .at(OPENAPI_YAML_PATH, service.spec_endpoint_yaml())
        .at(OPENAPI_JSON_PATH, service.spec_endpoint());
    if let Some(gate) = &deps.registration {
        let route = RegistrationRoute {
            gate: gate.clone(),
            limits: Gate::new(deps.limits.clone()),
        };
        routes = routes.at(REGISTER_PATH, post(request_token).data(route));
    }
    if let Some(gate) = &deps.room_invites {
        let route = RoomInviteRoute { gate: gate.clone() };
        routes = routes.at(ROOM_INVITE_PATH, post(invite).data(route));
    }
    let routes = routes.nest("/", service).with(allow).with(templates);
    with_middleware(routes, config, Some(deps.views.clone()))
}

/// Wraps `routes` in the server-wide middleware (see [`app`] for the order). `pages`: the pages
/// served, whose `view.*` pages, while any is set, get the policy that lets their styles and
/// images load.
pub(crate) fn with_middleware(
    routes: impl Endpoint + 'static,
    config: HttpConfig,
    pages: Option<Arc<SharedViews>>,
) -> BoxEndpoint<'static, Response> {
    routes
        .with(BodyGuard {
            max_bytes: config.max_body_bytes,
        })
        .with(ApiVersions {
            v1: config.v1,
            v2: config.v2,
        })
        .catch_all_error(|err| async move { error_keeping_route(err) })
        .with(CatchPanic::new().with_handler(|_| {
            MatrixError::new(ErrCode::Unknown, "Internal server error")
                .into_response_with(StatusCode::INTERNAL_SERVER_ERROR)
        }))
        .with(Cors)
        .with(SecurityHeaders { pages })
        .with(AccessLog)
        .with(RequestId)
        .map_to_response()
        .boxed()
}

#[cfg(test)]
#[path = "app_tests.rs"]
mod tests;
