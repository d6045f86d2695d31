//! The traits between the use cases and the adapters.

pub mod driven;
pub mod driving;
