//! Verity's HTTP adapter: the Identity Service API (poem + poem-openapi), the human-facing pages,
//! and the one place where use-case errors become Matrix `errcode`s and HTTP statuses.
//!
//! [`openapi_service`] is the single source of the OpenAPI document (`api-spec/openapi.yaml` is
//! generated from it) and [`app`] wraps it with the server-wide behaviour every Matrix client
//! expects: CORS, Matrix errors for unknown paths and bad bodies, a body size limit, access logs.
// Every handler's error is `ApiError`, whose Matrix body carries up to five optional fields (the
// 429's `retry_after_ms` made it pass clippy's 128-byte threshold); errors are the rare path, so
// boxing each one would cost more than it saves.
#![allow(clippy::result_large_err)]

mod api;
mod app;
mod deps;
mod error;
mod errors_api;
mod internal;
mod metrics;
mod middleware;
mod pages;
mod server;

pub use api::{Api, openapi_service};
pub use app::{HttpConfig, OPENAPI_JSON_PATH, OPENAPI_YAML_PATH, app};
pub use deps::HttpDeps;
pub use internal::{
    CHECK_CREDENTIALS_PATH, INTERNAL_BIND_PATH, INTERNAL_UNBIND_PATH, InternalDeps, PROFILE_PATH,
    SharedSecret, internal_app,
};
pub use metrics::{METRICS_PATH, MetricsSource, metrics_app};
pub use middleware::{RequestObserver, UNMATCHED_ROUTE, observed};
pub use pages::{CustomPage, PageSyntax, SharedViews, Views};
pub use server::BoundServer;

/// The complete application, as [`app`] builds it.
pub type AppEndpoint = poem::endpoint::BoxEndpoint<'static, poem::Response>;
pub use error::{ErrCode, MatrixError};

#[cfg(test)]
mod api_invites_tests;
#[cfg(test)]
mod api_keys_tests;
#[cfg(test)]
mod api_limits_tests;
#[cfg(test)]
mod api_lookup_tests;
#[cfg(test)]
mod api_public_url_tests;
#[cfg(test)]
mod api_registration_tests;
#[cfg(test)]
mod api_remote_tests;
#[cfg(test)]
mod api_room_invite_tests;
#[cfg(test)]
mod api_tests;
#[cfg(test)]
mod api_user_directory_tests;
#[cfg(test)]
mod api_views_tests;
#[cfg(test)]
mod health_tests;
#[cfg(test)]
mod test_support;

/// The Matrix specification release whose Identity Service API this server implements; the
/// OpenAPI document's `info.version`.
pub const SPEC_VERSION: &str = "v1.19";
