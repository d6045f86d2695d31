//! Verity's clients of other Matrix servers. For now: [`ReqwestHomeserverClient`], which asks
//! homeservers about OpenID tokens over federation, finding them as the server-server API says
//! and refusing private addresses (see `docs/federation.md`).

mod homeserver;

pub use homeserver::{FederationConfig, FederationSetupError, ReqwestHomeserverClient};
