//! Verity's use cases and their ports.
//!
//! *Driven* ports ([`ports::driven`]) are what the use cases need from the outside world (storage,
//! time, randomness, ...); adapters implement them. *Driving* ports ([`ports::driving`]) are what the
//! outside world (the HTTP adapter) asks of Verity; the services in [`usecases`] implement them.
//! No type of an I/O library appears here: adapters translate at the boundary.
#![warn(missing_docs)]

#[cfg(any(test, feature = "contract"))]
pub mod contract;
pub mod ports;
pub mod usecases;
