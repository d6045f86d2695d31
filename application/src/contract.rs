//! Contract suites for the driven ports (feature `contract`): what every implementation of a
//! port must do, written once against the port, so that each adapter runs the same cases in its
//! own tests rather than re-testing the contract by hand.
//!
//! An adapter crate takes them as a dev-dependency, never as a normal one (a normal dependency
//! would ship the suite in the binary):
//!
//! ```toml
//! [dev-dependencies]
//! verity-application = { workspace = true, features = ["contract"] }
//! ```
//!
//! The cases return a [`identity::ContractFailure`] instead of panicking: they are library code,
//! and the suite's own tests check that a wrong backend fails them.

pub mod identity;
