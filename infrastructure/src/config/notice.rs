//! What the operator should know about a valid configuration: not a fault in the file, but a
//! default that behaves differently from mxisd/ma1sd.
use std::fmt;

use super::raw::RawValidation;
use crate::settings::Settings;

/// A fact about the effective configuration worth saying at start-up and in `--check-config`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigNotice {
    /// `session.policy.validation` is not in the file, so Verity's default policy applies: it
    /// publishes remote-scope addresses on another identity server, where ma1sd validated every
    /// address itself.
    DefaultPolicy {
        /// `matrix.domain`: emails in it are local.
        domain: String,
        /// The label remote sessions go to (`root`).
        label: String,
        /// That label's servers (`https://matrix.org` unless the operator listed others).
        servers: Vec<String>,
    },
}

impl ConfigNotice {
    /// The key the notice is about; writing it silences the notice.
    pub fn key(&self) -> &'static str {
        match self {
            Self::DefaultPolicy { .. } => "session.policy.validation",
        }
    }
}

impl fmt::Display for ConfigNotice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DefaultPolicy {
                domain,
                label,
                servers,
            } => write!(
                f,
                "session.policy.validation is not set, so Verity's default policy applies: \
                 email addresses outside {domain} and all phone numbers are validated and \
                 published only on the identity server `{label}` ({servers}), and addresses in \
                 {domain} are validated here and offered publication there too. ma1sd validated \
                 every address here; to do the same, set \
                 session.policy.validation.forRemote.toLocal: true and \
                 session.policy.validation.forRemote.toRemote.enabled: false (see \
                 docs/policies.md; writing session.policy.validation silences this notice)",
                servers = servers.join(", "),
            ),
        }
    }
}

/// Whether the file sets any key of `session.policy.validation` (an empty header does not count).
pub fn policy_written(validation: &RawValidation) -> bool {
    validation.enabled.is_some()
        || [&validation.for_local, &validation.for_remote]
            .iter()
            .any(|scope| {
                scope.enabled.is_some()
                    || scope.to_local.is_some()
                    || scope.to_remote.enabled.is_some()
                    || scope.to_remote.server.is_some()
            })
}

/// The notices for `settings`, resolved from a file that sets `session.policy.validation` or not.
pub fn notices(policy_written: bool, settings: &Settings) -> Vec<ConfigNotice> {
    if policy_written {
        return Vec::new();
    }
    let label = &settings
        .session
        .validation
        .policy
        .for_remote
        .to_remote
        .server;
    vec![ConfigNotice::DefaultPolicy {
        domain: settings.matrix.domain.as_str().to_owned(),
        label: label.as_str().to_owned(),
        servers: settings
            .matrix
            .identity_servers
            .get(label)
            .cloned()
            .unwrap_or_default(),
    }]
}
