//! The homeserver's user directory search (client-server API, `POST
//! /_matrix/client/{r0,v3}/user_directory/search`), which the reverse proxy routes to Verity so
//! that users find the organisation's people from the identity stores (mxisd's directory
//! feature). Served on the public listener, in the client API's format exactly.
use std::sync::Arc;

use poem::Request;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use verity_application::ports::driven::{ClientApiVersion, HomeserverRoute};
use verity_application::ports::driving::{DirectoryError, UserDirectory};
use verity_domain::{DirectoryResults, HomeserverAccessToken, SearchLimit, SearchTerm};

use super::ApiTags;
use super::auth::IdentityAuth;
use super::typed_json::TypedJson;
use crate::errors_api::ApiError;

// Read by serde in one pass (`TypedJson`), strictly: a `limit` that is not an integer, or a
// `search_term` that is not a string, is `M_BAD_JSON`.
/// `POST /user_directory/search`.
#[derive(Debug, Object, serde::Deserialize)]
pub struct UserDirectorySearch {
    /// What to look for in people's user IDs, display names and (from the identity stores)
    /// 3PIDs. Trimmed, and a leading `@` is dropped; at most 256 characters.
    pub search_term: String,
    /// The most results to answer (default 10, at most 50).
    pub limit: Option<i64>,
}

/// One person found.
#[derive(Debug, Object)]
pub struct UserDirectoryUser {
    /// Their Matrix user ID.
    pub user_id: String,
    /// Their display name, if known.
    #[oai(skip_serializing_if_is_none)]
    pub display_name: Option<String>,
    /// Their avatar (`mxc://`), if known.
    #[oai(skip_serializing_if_is_none)]
    pub avatar_url: Option<String>,
}

/// The people found.
#[derive(Debug, Object)]
pub struct UserDirectoryResults {
    /// The people, best match first: the homeserver's own results, then the identity stores'.
    pub results: Vec<UserDirectoryUser>,
    /// Whether the list was cut at the limit.
    pub limited: bool,
}

impl From<DirectoryResults> for UserDirectoryResults {
    fn from(found: DirectoryResults) -> Self {
        Self {
            results: found
                .entries
                .into_iter()
                .map(|entry| UserDirectoryUser {
                    user_id: entry.user_id.as_str().to_owned(),
                    display_name: entry.display_name,
                    avatar_url: entry.avatar_url,
                })
                .collect(),
            limited: found.limited,
        }
    }
}

/// The user directory search.
pub struct UserDirectoryApi {
    directory: Arc<dyn UserDirectory>,
}

impl UserDirectoryApi {
    pub(crate) fn new(directory: Arc<dyn UserDirectory>) -> Self {
        Self { directory }
    }

    /// Checks the request (token present, term valid) before the homeserver is asked anything,
    /// then authenticates the caller and searches.
    async fn search(
        &self,
        version: ClientApiVersion,
        auth: IdentityAuth,
        request: &Request,
        body: UserDirectorySearch,
    ) -> Result<Json<UserDirectoryResults>, ApiError> {
        let token = auth.token().ok_or(DirectoryError::MissingToken)?;
        let token =
            HomeserverAccessToken::parse(&token).map_err(|_| DirectoryError::UnknownToken)?;
        let term = SearchTerm::parse(&body.search_term)?;
        let limit = SearchLimit::from_request(body.limit);
        let host = super::homeserver_route::called_host(request);
        let caller = self
            .directory
            .authenticate(token, HomeserverRoute { host, version })
            .await?;
        let found = self.directory.search(&caller, &term, limit).await?;
        Ok(Json(found.into()))
    }
}

#[OpenApi(prefix_path = "/_matrix/client", tag = "ApiTags::UserDirectory")]
impl UserDirectoryApi {
    /// Search the user directory: the homeserver's and the identity stores'.
    ///
    /// The homeserver's client-server endpoint, routed to Verity by the reverse proxy. The
    /// caller is authenticated with the homeserver (`GET /account/whoami` with the same token,
    /// cached for a minute); then the homeserver's own directory and every identity store with a
    /// directory are searched, by name and by 3PID, and the answers merged (each user once, at
    /// most `limit`). Missing token: 401 `M_MISSING_TOKEN`; a token the homeserver rejects: 401
    /// `M_UNKNOWN_TOKEN`; a guest: 403 `M_GUEST_ACCESS_FORBIDDEN`; a homeserver that cannot
    /// check the token: 502 `M_UNKNOWN`.
    #[oai(
        path = "/v3/user_directory/search",
        method = "post",
        operation_id = "searchUserDirectory",
        external_docs = "https://spec.matrix.org/v1.19/client-server-api/#post_matrixclientv3user_directorysearch"
    )]
    async fn search_v3(
        &self,
        auth: IdentityAuth,
        request: &Request,
        body: TypedJson<UserDirectorySearch>,
    ) -> Result<Json<UserDirectoryResults>, ApiError> {
        self.search(ClientApiVersion::V3, auth, request, body.0)
            .await
    }

    /// Search the user directory (r0, as mxisd intercepted it).
    ///
    /// The same as the v3 endpoint; the homeserver is asked on r0 too.
    #[oai(
        path = "/r0/user_directory/search",
        method = "post",
        operation_id = "searchUserDirectoryR0",
        deprecated,
        external_docs = "https://spec.matrix.org/legacy/client_server/r0.6.1.html#post-matrix-client-r0-user-directory-search"
    )]
    async fn search_r0(
        &self,
        auth: IdentityAuth,
        request: &Request,
        body: TypedJson<UserDirectorySearch>,
    ) -> Result<Json<UserDirectoryResults>, ApiError> {
        self.search(ClientApiVersion::R0, auth, request, body.0)
            .await
    }
}
