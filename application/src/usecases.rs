//! The services implementing the driving ports on top of the driven ones.

mod accounts;
mod notifier;
mod status;
mod validation;

pub use accounts::{AccountService, AccountSettings};
pub use notifier::{MediumHandler, Notifier};
pub use status::StatusService;
pub use validation::{ValidationService, ValidationSettings};
