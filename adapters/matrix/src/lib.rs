//! Verity's clients of other Matrix servers: [`ReqwestHomeserverClient`], which asks homeservers
//! about OpenID tokens over federation, finding them as the server-server API says and refusing
//! private addresses, and [`ReqwestIdentityServers`], which finds other identity servers by label
//! and speaks their v1 API (see `docs/federation.md`); and [`ReqwestHomeserverAsUser`], which asks
//! the homeserver's client-server API on a user's behalf for the user directory search
//! (`docs/user-directory.md`).

mod client_api;
mod homeserver;
mod identity;

pub use client_api::{ClientApiConfig, ClientApiSetupError, ReqwestHomeserverAsUser};
pub use homeserver::{FederationConfig, FederationSetupError, ReqwestHomeserverClient};
pub use identity::{IdentityServersConfig, IdentitySetupError, ReqwestIdentityServers};
