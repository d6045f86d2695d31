//! Ports that drive Verity: one use-case trait per area, called by the HTTP adapter.

mod status;

pub use status::{CheckReport, ServerStatus, Status, VersionInfo};

#[cfg(any(test, feature = "mocks"))]
pub use status::MockStatus;
