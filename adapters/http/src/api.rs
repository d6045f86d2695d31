//! The OpenAPI operations, one module per area of the Identity Service API.

mod discovery;
mod status;

use poem_openapi::{OpenApiService, Tags};

use crate::SPEC_VERSION;
use crate::app::HttpDeps;

pub use discovery::DiscoveryApi;
pub use status::StatusApi;

/// Every API of the server, in a fixed order (the order of the generated document).
pub type Api = (DiscoveryApi, StatusApi);

/// The sections of the API, as they appear in the document.
#[derive(Tags)]
pub(crate) enum ApiTags {
    /// Discovery and ping (Identity Service API §API version check, Versions).
    Discovery,
    /// Server health and version (mxisd/ma1sd compatible, outside the Matrix spec).
    Status,
}

/// Builds the OpenAPI service: the routes and, from the same declarations, the document.
pub fn openapi_service(deps: &HttpDeps) -> OpenApiService<Api, ()> {
    OpenApiService::new(
        (DiscoveryApi, StatusApi::new(deps.status.clone())),
        "Verity identity server",
        SPEC_VERSION,
    )
    .description(
        "The Matrix Identity Service API as served by Verity. `info.version` names the Matrix \
         specification release implemented. Every error body is a `MatrixError` \
         (`{errcode, error}`).",
    )
}
