//! The OpenAPI operations, one module per area of the Identity Service API.

mod accounts;
mod association;
mod auth;
mod discovery;
mod documented;
pub(crate) mod homeserver_route;
mod invites;
mod keys;
pub(crate) mod limits;
mod lookup;
mod lookup_addresses;
mod pages;
pub(crate) mod registration;
mod remote;
pub(crate) mod room_invite;
mod signed_body;
mod status;
mod typed_json;
mod user_directory;
mod validation;
mod validation_types;
mod validation_v1;

use poem_openapi::{OpenApiService, Tags};

use crate::SPEC_VERSION;
use crate::deps::HttpDeps;
use limits::Gate;
pub(crate) use limits::requester;

pub use accounts::AccountsApi;
pub use association::{AssociationApi, AssociationV1Api};
pub use discovery::DiscoveryApi;
pub use invites::{InvitesApi, InvitesV1Api};
pub use keys::{KeysApi, KeysV1Api};
pub use lookup::{LookupApi, LookupV1Api};
pub use remote::RemoteSessionsApi;
pub use status::StatusApi;
pub use user_directory::UserDirectoryApi;
pub use validation::ValidationApi;
pub use validation_v1::ValidationV1Api;

/// Every API of the server, in a fixed order (the order of the generated document).
pub type Api = (
    DiscoveryApi,
    StatusApi,
    AccountsApi,
    ValidationApi,
    ValidationV1Api,
    RemoteSessionsApi,
    KeysApi,
    KeysV1Api,
    AssociationApi,
    AssociationV1Api,
    InvitesApi,
    InvitesV1Api,
    LookupApi,
    LookupV1Api,
    UserDirectoryApi,
);

/// The sections of the API, as they appear in the document.
#[derive(Tags)]
pub(crate) enum ApiTags {
    /// Discovery and ping (Identity Service API §API version check, Versions).
    Discovery,
    /// Server health and version (mxisd/ma1sd compatible, outside the Matrix spec).
    Status,
    /// Accounts and terms of service (Identity Service API §Authentication, §Terms of service).
    Accounts,
    /// 3PID validation sessions (Identity Service API §Email associations, §Phone number
    /// associations).
    Validation,
    /// The deprecated v1 validation API, served while `matrix.v1` is on (Synapse delegates SMS
    /// validation there).
    ValidationV1,
    /// The pages of the remote step (mxisd's remote sessions): publishing a validated 3PID on
    /// another identity server, on the user's behalf.
    RemoteSessions,
    /// The server's public keys (Identity Service API §Key management).
    Keys,
    /// The deprecated v1 key API, served while `matrix.v1` is on (the `key_validity_url` of
    /// invites made by mxisd and sydent points there).
    KeysV1,
    /// Binding and unbinding 3PIDs (Identity Service API §Establishing associations).
    Association,
    /// The deprecated v1 bind and unbind, served while `matrix.v1` is on.
    AssociationV1,
    /// 3PID room invites (Identity Service API §Invitation storage, §Ephemeral invitation
    /// signing).
    Invites,
    /// The deprecated v1 store-invite and sign-ed25519, served while `matrix.v1` is on.
    InvitesV1,
    /// Finding the Matrix user behind 3PIDs (Identity Service API §Association lookup).
    Lookup,
    /// The deprecated v1 lookups, served while `matrix.v1` is on.
    LookupV1,
    /// The homeserver's user directory search (client-server API), which the reverse proxy
    /// routes to Verity: the homeserver's and the identity stores' people (mxisd's directory).
    UserDirectory,
}

/// Builds the OpenAPI service: the routes and, from the same declarations, the document.
pub fn openapi_service(deps: &HttpDeps) -> OpenApiService<Api, ()> {
    let gate = Gate::new(deps.limits.clone());
    OpenApiService::new(
        (
            DiscoveryApi,
            StatusApi::new(deps.status.clone()),
            AccountsApi::new(deps.accounts.clone(), gate.clone()),
            ValidationApi::new(
                deps.validation.clone(),
                deps.accounts.clone(),
                deps.next_link_allowed.clone(),
                deps.remote_sessions.is_some(),
                deps.views.clone(),
                deps.public_url.clone(),
                gate.clone(),
            ),
            ValidationV1Api::new(
                deps.validation.clone(),
                deps.next_link_allowed.clone(),
                deps.remote_sessions.is_some(),
                deps.views.clone(),
                deps.public_url.clone(),
                gate.clone(),
            ),
            RemoteSessionsApi::new(
                deps.remote_sessions.clone(),
                deps.public_url.clone(),
                deps.views.clone(),
                gate.clone(),
            ),
            KeysApi::new(deps.keys.clone(), deps.invites.clone()),
            KeysV1Api::new(deps.keys.clone(), deps.invites.clone()),
            AssociationApi::new(
                deps.association.clone(),
                deps.accounts.clone(),
                gate.clone(),
            ),
            AssociationV1Api::new(deps.association.clone(), gate.clone()),
            InvitesApi::new(deps.invites.clone(), deps.accounts.clone(), gate.clone()),
            InvitesV1Api::new(deps.invites.clone(), gate.clone()),
            LookupApi::new(deps.lookup.clone(), deps.accounts.clone(), gate.clone()),
            LookupV1Api::new(deps.lookup.clone(), gate),
            UserDirectoryApi::new(deps.user_directory.clone()),
        ),
        "Verity identity server",
        SPEC_VERSION,
    )
    .description(
        "The Matrix Identity Service API as served by Verity. `info.version` names the Matrix \
         specification release implemented. Every error body is a `MatrixError` \
         (`{errcode, error}`).",
    )
}
