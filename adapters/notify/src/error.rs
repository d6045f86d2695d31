use std::path::PathBuf;

/// Why a generator or connector could not be built from its configuration. Every variant names
/// the configuration key (full path, such as `threepid.medium.msisdn.connectors.twilio.number`)
/// and, for files, the path, so start-up can say exactly what to fix.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A required key is missing or empty.
    #[error("`{key}` must be set")]
    Missing {
        /// The key.
        key: &'static str,
    },
    /// A key has a value that cannot be used.
    #[error("`{key}`: {reason}")]
    Invalid {
        /// The key.
        key: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A template file could not be read.
    #[error("`{key}`: cannot read the template {path}: {source}")]
    TemplateRead {
        /// The key that names the template.
        key: String,
        /// The configured path.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A template is not usable.
    #[error("`{key}`: the template {path} is not usable: {reason}")]
    Template {
        /// The key that names the template.
        key: String,
        /// The configured path.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The template generator exists for `email` and `msisdn` only.
    #[error("the template generator has no templates for the {medium} medium")]
    UnsupportedMedium {
        /// The medium.
        medium: String,
    },
    /// A file or directory a connector needs could not be used.
    #[error("`{key}`: {path}: {source}")]
    Path {
        /// The key.
        key: &'static str,
        /// The path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// A delivery failure, described without the recipient or the message: what providers answer
/// can quote the address, so only the kind of failure and the status code are kept.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct DeliveryFailure(pub(crate) String);

impl DeliveryFailure {
    /// [`NotifyError::Unavailable`] with this description.
    ///
    /// [`NotifyError::Unavailable`]: verity_application::ports::driven::NotifyError::Unavailable
    pub(crate) fn unavailable(
        description: impl Into<String>,
    ) -> verity_application::ports::driven::NotifyError {
        verity_application::ports::driven::NotifyError::Unavailable(Box::new(Self(
            description.into(),
        )))
    }
}

/// `error` and its sources, joined with `: `.
pub(crate) fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
