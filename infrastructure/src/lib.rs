//! Verity's composition root: configuration, wiring, start-up and the command line.
//!
//! This is the only crate that knows every concrete adapter.

pub mod admin;
pub mod config;
pub mod import;
pub mod reload;
pub mod settings;
pub mod sqlite_file;
pub mod startup;
pub mod system;
pub mod telemetry;
pub mod wiring;

pub use startup::Application;
