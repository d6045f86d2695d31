//! Real peers for tests, each listening on `127.0.0.1:0`: an SMTP server that captures what it
//! receives, a fake Twilio Messages API, a fake homeserver and a fake remote identity server; and
//! a real one: a throwaway Synapse, with a TLS front to put the server under test behind; a
//! deployment made by the real Sydent, for the import tests; and a throwaway OpenLDAP (`slapd`).
//!
//! Used by adapter tests (as a dev-dependency) and by the end-to-end suite. Test support may panic
//! on a broken set-up, so the workspace's no-panic lints are relaxed here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod client_api;
pub mod exec_programs;
pub mod gate;
pub mod homeserver;
pub mod identity_server;
pub mod rest_backend;
mod serve;
pub mod slapd;
mod slapd_conf;
pub mod smtp;
pub mod sydent;
pub mod synapse;
mod synapse_config;
mod tls;
pub mod tls_front;
pub mod twilio;
