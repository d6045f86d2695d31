//! The services implementing the driving ports on top of the driven ones.

mod accounts;
mod keys;
mod notifier;
mod status;
mod validation;

pub use accounts::{AccountService, AccountSettings};
pub use keys::{KeyService, KeyStartError};
pub use notifier::{MediumHandler, Notifier};
pub use status::StatusService;
pub use validation::{ValidationService, ValidationSettings};
