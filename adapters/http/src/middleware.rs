//! Server-wide behaviour around every route.

mod access_log;
mod allow;
mod body;
mod cors;
mod drain;
mod observe;
mod request_id;
mod security_headers;
mod versions;

pub(crate) use access_log::AccessLog;
pub(crate) use allow::AllowHeader;
pub(crate) use body::{BodyGuard, RawJsonBody};
pub(crate) use cors::Cors;
pub(crate) use observe::RouteTemplates;
pub use observe::{RequestObserver, UNMATCHED_ROUTE, observed};
pub(crate) use request_id::RequestId;
pub(crate) use security_headers::SecurityHeaders;
pub(crate) use versions::ApiVersions;
