//! Helpers for Verity's end-to-end tests: start the real server on a free port with a fresh store,
//! and talk to it through the client generated from `api-spec/openapi.yaml`.
//!
//! This library exists only for tests, so it may panic on broken test set-ups: the workspace's
//! no-panic lints are relaxed here on purpose.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod binary;
pub mod client;
mod cluster;
mod path_proxy;
mod peers;
mod postgres;
mod process;
mod spawn;

pub use binary::{stdout_of_success, verity_binary};
pub use cluster::Cluster;
pub use path_proxy::PathProxy;
pub use peers::{HOMESERVER, Peers, TWILIO_SID, TWILIO_TOKEN};
pub use postgres::{TestDatabase, postgres_url};
pub use process::{Deployment, Verity};
pub use spawn::{Backend, PUBLIC_URL, TestApp, bearer_http, spawn_app, spawn_app_with};
pub use verity_testkit::smtp::first_link;
