//! The `rest` identity backend (ma1sd's REST identity store, `RestThreePidProvider`): the
//! 3PIDs of the operator's own HTTP service, asked in ma1sd's JSON contract.
//!
//! - [`RestConfig`]: ma1sd's `rest.*` keys (`host`, `endpoints.*`, defaults under
//!   [`MA1SD_PREFIX`](config::MA1SD_PREFIX)), each endpoint resolved to an absolute URL or off,
//!   and Verity's limits (`timeout`, `maxResponseBytes`, `identity.priority`).
//! - [`RestBackend`]: v1 single lookups (`identity.single`), bulk lookups in one request
//!   (`identity.bulk`), and the feed of the v2 hashed-lookup table from Verity's own
//!   `identity.all` endpoint (ma1sd's REST store had no feed, so its users could not be found by
//!   hashed lookups). The answers are read as ma1sd reads them ([`answer`](crate::answer)); a
//!   bulk answer is only believed for the 3PIDs asked.
//! - Every request is bounded: `rest.timeout`, `rest.maxResponseBytes`, no redirect followed,
//!   http and https only, no proxy. A password in a URL is sent as HTTP Basic credentials and
//!   never logged: errors name the key of the endpoint, not its URL.
//! - Logins and profiles ([`auth`](crate::auth)): `auth` checks a user's password for the
//!   homeserver, `profile.*` read display names, 3PIDs and roles.
//! - [`RestDirectory`]: the user directory search (`directory`), in ma1sd's contract.
mod answer;
mod auth;
pub mod backend;
pub mod client;
pub mod config;
mod directory;
mod health;

pub use backend::RestBackend;
pub use client::RestError;
pub use config::{BackendUrl, EndpointError, Endpoints, RestConfig, endpoint, parse_host};
pub use directory::RestDirectory;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests;
