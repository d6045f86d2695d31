//! Ports that drive Verity: one use-case trait per area, called by the HTTP adapter.

mod accounts;
mod keys;
mod status;
mod validation;

pub use accounts::{Accounts, AuthError, Registration, RegistrationError};
pub use keys::Keys;
pub use status::{CheckReport, ServerStatus, Status, VersionInfo};
pub use validation::{
    RequestToken, SubmitToken, TokenAccepted, TokenRequested, Validation, ValidationError,
};

#[cfg(any(test, feature = "mocks"))]
pub use accounts::MockAccounts;
#[cfg(any(test, feature = "mocks"))]
pub use keys::MockKeys;
#[cfg(any(test, feature = "mocks"))]
pub use status::MockStatus;
#[cfg(any(test, feature = "mocks"))]
pub use validation::MockValidation;
