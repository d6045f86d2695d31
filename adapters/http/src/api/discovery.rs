//! `GET /_matrix/identity/versions`, `GET /_matrix/identity/v2` and the v1 ping.
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::ApiTags;

/// Spec versions whose Identity Service API this server speaks. v1.20 is not claimed: it forbids
/// the query-string `access_token` that Synapse still sends, which Verity accepts.
const SUPPORTED_VERSIONS: [&str; 20] = [
    "r0.3.0", "v1.1", "v1.2", "v1.3", "v1.4", "v1.5", "v1.6", "v1.7", "v1.8", "v1.9", "v1.10",
    "v1.11", "v1.12", "v1.13", "v1.14", "v1.15", "v1.16", "v1.17", "v1.18", "v1.19",
];

/// An empty JSON object.
#[derive(Debug, Object)]
pub struct Empty {}

/// The spec versions a server supports.
#[derive(Debug, Object)]
pub struct Versions {
    /// Supported versions, `vX.Y` (or `rX.Y.Z` for releases before v1.1).
    pub versions: Vec<String>,
}

/// Discovery endpoints.
pub struct DiscoveryApi;

#[OpenApi(tag = "ApiTags::Discovery")]
impl DiscoveryApi {
    /// Get the versions of the specification supported by the server.
    #[oai(
        path = "/_matrix/identity/versions",
        method = "get",
        operation_id = "getVersions",
        external_docs = "https://spec.matrix.org/v1.19/identity-service-api/#get_matrixidentityversions"
    )]
    async fn get_supported_versions(&self) -> Json<Versions> {
        Json(Versions {
            versions: SUPPORTED_VERSIONS.iter().map(|v| (*v).to_owned()).collect(),
        })
    }

    /// Checks that an identity server is available at this API endpoint.
    ///
    /// Answers `{}`; clients and other identity servers use it to discover a usable server.
    #[oai(
        path = "/_matrix/identity/v2",
        method = "get",
        operation_id = "getStatus",
        external_docs = "https://spec.matrix.org/v1.19/identity-service-api/#get_matrixidentityv2"
    )]
    async fn get_api_status(&self) -> Json<Empty> {
        Json(Empty {})
    }

    /// Checks that an identity server is available at the deprecated v1 API.
    ///
    /// Served only while `matrix.v1` is on (the default, as in mxisd). v1 was removed from the
    /// specification in v1.1; other mxisd/ma1sd instances still probe it.
    #[oai(
        path = "/_matrix/identity/api/v1",
        method = "get",
        operation_id = "getStatusV1",
        deprecated,
        external_docs = "https://spec.matrix.org/legacy/identity_service/r0.3.0.html#status-check"
    )]
    async fn get_api_status_v1(&self) -> Json<Empty> {
        Json(Empty {})
    }
}
