//! What the operator reads when the configuration is wrong or partly ignored.
use std::fmt;
use std::path::PathBuf;

/// Why the configuration cannot be used; start-up stops. The `Display` text is written for the
/// operator and always names the file or the key at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The configuration file does not exist.
    #[error(
        "configuration file {} not found: pass -c/--config <file>, or create verity.yaml \
         (or keep your ma1sd.yaml / mxisd.yaml) in the working directory",
        path.display()
    )]
    NotFound {
        /// The path that was tried.
        path: PathBuf,
    },
    /// The configuration file exists but cannot be read.
    #[error("cannot read configuration file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The text is not YAML, or not a YAML mapping at the top level.
    #[error("the configuration is not valid YAML: {message}")]
    Syntax {
        /// The parser's message, with the line and column when it knows them.
        message: String,
    },
    /// A required key is absent or empty.
    #[error("{key} is required: {help}")]
    Missing {
        /// The dotted key path, e.g. `matrix.domain`.
        key: String,
        /// What to set it to.
        help: String,
    },
    /// A key has a value Verity cannot use.
    #[error("{key}: {message}")]
    Invalid {
        /// The dotted key path, e.g. `server.port` or `matrix.identity.servers.root[0]`.
        key: String,
        /// What is wrong and, where useful, what is expected.
        message: String,
    },
}

impl ConfigError {
    /// The key at fault, for errors about a single key.
    pub fn key(&self) -> Option<&str> {
        match self {
            Self::Missing { key, .. } | Self::Invalid { key, .. } => Some(key),
            Self::NotFound { .. } | Self::Read { .. } | Self::Syntax { .. } => None,
        }
    }

    pub(super) fn invalid(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            key: key.into(),
            message: message.into(),
        }
    }

    pub(super) fn missing(key: impl Into<String>, help: impl Into<String>) -> Self {
        Self::Missing {
            key: key.into(),
            help: help.into(),
        }
    }
}

/// A key that was accepted but has no effect; start-up continues and the caller logs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigWarning {
    /// A key Verity does not know, most likely a typo (mxisd silently ignored these, which made
    /// typos hard to find).
    UnknownKey {
        /// The full dotted path, e.g. `server.prot`.
        path: String,
        /// A known key with a similar name, when there is one, written for this place in the
        /// file (`policy.policies.privacy.version` for `policy.policies.privacy.versoin`).
        suggestion: Option<String>,
    },
    /// An mxisd/ma1sd section or key that a later Verity release will implement.
    NotUsedYet {
        /// The section (`threepid`) or key (`logging.requests`).
        path: String,
    },
    /// An mxisd/ma1sd key Verity understands but deliberately does not follow, e.g. ma1sd's
    /// `policy.policies.<name>.regexp`.
    Ignored {
        /// The full dotted path, e.g. `policy.policies.privacy.regexp`.
        path: String,
        /// Why it is ignored and what Verity does instead.
        reason: &'static str,
    },
    /// A key that is valid but has no effect because of another setting, e.g. the block of a
    /// connector the medium does not use.
    Unused {
        /// The full dotted path, e.g. `threepid.medium.email.connectors.smtp`.
        path: String,
        /// Why it has no effect.
        reason: String,
    },
    /// A value Verity follows as written although it is known to hurt users, e.g. ma1sd's
    /// sample `hashing.requests: 10` (ma1sd#81).
    Risky {
        /// The key whose value fixes it, e.g. `hashing.requests`.
        path: String,
        /// What goes wrong, and the value to set instead.
        message: String,
    },
}

impl ConfigWarning {
    /// The dotted path of the ignored key.
    pub fn path(&self) -> &str {
        match self {
            Self::UnknownKey { path, .. }
            | Self::NotUsedYet { path }
            | Self::Ignored { path, .. }
            | Self::Unused { path, .. }
            | Self::Risky { path, .. } => path,
        }
    }
}

impl fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownKey { path, suggestion } => {
                write!(f, "unknown configuration key `{path}` is ignored")?;
                match suggestion {
                    Some(known) => write!(f, " (did you mean `{known}`?)"),
                    None => f.write_str(" (see docs/configuration.md for the keys Verity reads)"),
                }
            }
            Self::NotUsedYet { path } => {
                // Sections are top-level names; anything deeper is a single key.
                let kind = if path.contains('.') { "key" } else { "section" };
                write!(
                    f,
                    "`{path}` is an mxisd/ma1sd {kind} this version of Verity does not use yet; \
                     it is ignored"
                )
            }
            Self::Ignored { path, reason } => write!(f, "`{path}` is ignored: {reason}"),
            Self::Unused { path, reason } => write!(f, "`{path}` is not used: {reason}"),
            Self::Risky { path, message } => write!(f, "`{path}`: {message}"),
        }
    }
}
