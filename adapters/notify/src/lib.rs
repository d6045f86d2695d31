//! Verity's notification adapters: the `template` generator and the `smtp`, `twilio`, `none` and
//! `file` connectors, each configured with mxisd/ma1sd's keys (`threepid.medium.<medium>.*`).
//!
//! Whatever they log, they never log a validation token, a password or a full recipient: an email
//! address shows only its domain, a phone number its first digits.
#![warn(missing_docs)]

mod error;
mod file;
mod none;
mod redact;
mod smtp;
mod template;
mod twilio;

use serde::Deserialize;

pub use error::ConfigError;
pub use file::{FileConfig, FileConnector};
pub use none::NoneConnector;
pub use smtp::{SmtpConfig, SmtpConnector, TlsMode};
pub use template::{
    BUILTIN_PREFIX, GenericTemplates, PlaceholderValues, SessionTemplates,
    SplitValidationTemplates, TemplateConfig, TemplateGenerator, UnbindTemplates,
    ValidationTemplates,
};
pub use twilio::{TwilioConfig, TwilioConnector};

/// `threepid.medium.email.identity`: who emails come from.
///
/// mxisd's defaults are empty strings, and so are these: an empty `from` does not stop start-up,
/// but every email then fails with a message naming the key, as in mxisd.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct SenderIdentity {
    /// `from`: the sender address (`%FROM_EMAIL%`). Default `''`.
    pub from: String,
    /// `name`: the sender's display name (`%FROM_NAME%`). Default `''` (no display name).
    pub name: String,
}
