//! The internal listener's application: what only the operator's own servers may call, served
//! on a listener of its own (loopback by default), never on the public one.
//!
//! Today: the homeserver's password provider (`POST
//! /_matrix-internal/identity/v1/check_credentials`, the protocol of mxisd/ma1sd's REST auth
//! module for Synapse), the profile roles (`GET /_matrix-internal/profile/v1/{userId}`), and,
//! when the operator turns it on, Sydent's internal bind API (`POST
//! /_matrix/identity/internal/{bind,unbind}`, `sydent.rs`).
//!
//! No CORS (a web page must not reach it through a user's browser); an optional shared secret
//! (`Authorization: Bearer <secret>`, compared in constant time) for operators whose module can
//! send one; the body limit and the Matrix errors of the public listener; the access log, which
//! logs paths only (the password is in the body).
mod credentials;
mod secret;
mod sydent;

use std::fmt;
use std::sync::Arc;

use poem::endpoint::BoxEndpoint;
use poem::http::StatusCode;
use poem::middleware::CatchPanic;
use poem::{EndpointExt, Response, Route, get, post};
use verity_application::ports::driving::{Association, Authentication};

use crate::error::{ErrCode, MatrixError, escaped_error_response};
use crate::middleware::{AccessLog, BodyGuard, SecurityHeaders};

pub use credentials::{CHECK_CREDENTIALS_PATH, PROFILE_PATH};
pub use sydent::{INTERNAL_BIND_PATH, INTERNAL_UNBIND_PATH};

/// `server.internal.secret`: `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct SharedSecret(String);

impl SharedSecret {
    /// The secret as configured; `None` when empty (no secret).
    pub fn new(secret: impl Into<String>) -> Option<Self> {
        let secret = secret.into();
        (!secret.is_empty()).then_some(Self(secret))
    }

    /// Whether `presented` is the secret, compared in constant time (the lengths apart).
    pub(crate) fn matches(&self, presented: &str) -> bool {
        let (a, b) = (self.0.as_bytes(), presented.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

impl fmt::Debug for SharedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SharedSecret(<redacted>)")
    }
}

/// What the internal application serves.
#[derive(Clone)]
pub struct InternalDeps {
    /// Logins and profiles; `None`: `check_credentials` and the profiles are not served.
    pub authentication: Option<Arc<dyn Authentication>>,
    /// Sydent's internal bind API, which binds and unbinds without any proof; `None` (the
    /// default, `server.internal.bindApi: false`): not served.
    pub association: Option<Arc<dyn Association>>,
    /// `server.internal.secret`: when set, every request must carry it.
    pub secret: Option<SharedSecret>,
    /// `server.maxBodySize`.
    pub max_body_bytes: usize,
}

impl InternalDeps {
    /// Whether anything is served (otherwise the listener need not start).
    pub fn serves_anything(&self) -> bool {
        self.authentication.is_some() || self.association.is_some()
    }
}

/// The internal application.
pub fn internal_app(deps: &InternalDeps) -> BoxEndpoint<'static, Response> {
    let mut routes = Route::new();
    if let Some(authentication) = &deps.authentication {
        routes = routes
            .at(
                CHECK_CREDENTIALS_PATH,
                post(credentials::check_credentials).data(authentication.clone()),
            )
            .at(
                PROFILE_PATH,
                get(credentials::roles).data(authentication.clone()),
            );
    }
    if let Some(association) = &deps.association {
        routes = routes
            .at(
                INTERNAL_BIND_PATH,
                post(sydent::bind).data(association.clone()),
            )
            .at(
                INTERNAL_UNBIND_PATH,
                post(sydent::unbind).data(association.clone()),
            );
    }
    routes
        .with(BodyGuard {
            max_bytes: deps.max_body_bytes,
        })
        .with(secret::SecretGuard(deps.secret.clone()))
        .catch_all_error(|err| async move { escaped_error_response(err) })
        .with(CatchPanic::new().with_handler(|_| {
            MatrixError::new(ErrCode::Unknown, "Internal server error")
                .into_response_with(StatusCode::INTERNAL_SERVER_ERROR)
        }))
        .with(SecurityHeaders { pages: None })
        .with(AccessLog)
        .map_to_response()
        .boxed()
}

#[cfg(test)]
#[path = "internal_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "internal_sydent_tests.rs"]
mod sydent_tests;
