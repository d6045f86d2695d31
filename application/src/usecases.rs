//! The services implementing the driving ports on top of the driven ones.

mod status;

pub use status::StatusService;
