use std::fmt;

use crate::{Scope, ServerLabel};

/// `session.policy.validation`: whether 3PID sessions may be created at all, and for each scope
/// whether they are validated here, on a remote identity server, or both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationPolicy {
    /// Global switch (`enabled`).
    pub enabled: bool,
    /// Rules for local 3PIDs (`forLocal`).
    pub for_local: ScopePolicy,
    /// Rules for remote 3PIDs (`forRemote`).
    pub for_remote: ScopePolicy,
}

/// The rules for one scope (`forLocal` or `forRemote`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopePolicy {
    /// Whether sessions for this scope may be created at all (`enabled`).
    pub enabled: bool,
    /// Whether this server validates the 3PID itself (`toLocal`).
    pub to_local: bool,
    /// Whether (and where) the 3PID is validated on a remote identity server (`toRemote`).
    pub to_remote: RemotePolicy,
}

/// `toRemote`: validation on another identity server, on the user's behalf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemotePolicy {
    /// Whether remote validation is allowed (`toRemote.enabled`).
    pub enabled: bool,
    /// The label in `matrix.identity.servers` of the server to use (`toRemote.server`).
    pub server: ServerLabel,
}

/// What the policy allows for a 3PID session of a given scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValidationDecision {
    /// No session may be created.
    Refused(RefusalReason),
    /// Validate here only.
    Local,
    /// Validate here, then offer the user to also validate and publish on the labelled server.
    LocalOfferRemote(ServerLabel),
    /// Do not validate here: the session must be completed on the labelled server.
    RemoteForced(ServerLabel),
}

/// Why the policy refuses a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalReason {
    /// `session.policy.validation.enabled` is false.
    Disabled,
    /// The scope's `enabled` is false.
    ScopeDisabled(Scope),
    /// The scope allows neither local nor remote validation.
    NoTarget(Scope),
}

impl fmt::Display for RefusalReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Disabled => f.write_str("validating 3PIDs is disabled on this server"),
            Self::ScopeDisabled(scope) | Self::NoTarget(scope) => {
                write!(
                    f,
                    "validating {} 3PIDs is not allowed on this server",
                    scope.as_str()
                )
            }
        }
    }
}

impl ValidationPolicy {
    /// The mxisd defaults, with remote sessions going to the servers labelled `server`: local 3PIDs
    /// are validated here and may also be published remotely; remote 3PIDs must be validated
    /// remotely.
    pub fn defaults(server: ServerLabel) -> Self {
        Self {
            enabled: true,
            for_local: ScopePolicy {
                enabled: true,
                to_local: true,
                to_remote: RemotePolicy {
                    enabled: true,
                    server: server.clone(),
                },
            },
            for_remote: ScopePolicy {
                enabled: true,
                to_local: false,
                to_remote: RemotePolicy {
                    enabled: true,
                    server,
                },
            },
        }
    }

    /// The rules for `scope`.
    pub fn for_scope(&self, scope: Scope) -> &ScopePolicy {
        match scope {
            Scope::Local => &self.for_local,
            Scope::Remote => &self.for_remote,
        }
    }

    /// Decides what a session for a 3PID of `scope` may do.
    pub fn decide(&self, scope: Scope) -> ValidationDecision {
        if !self.enabled {
            return ValidationDecision::Refused(RefusalReason::Disabled);
        }
        let rules = self.for_scope(scope);
        if !rules.enabled {
            return ValidationDecision::Refused(RefusalReason::ScopeDisabled(scope));
        }
        match (rules.to_local, rules.to_remote.enabled) {
            (true, true) => ValidationDecision::LocalOfferRemote(rules.to_remote.server.clone()),
            (true, false) => ValidationDecision::Local,
            (false, true) => ValidationDecision::RemoteForced(rules.to_remote.server.clone()),
            (false, false) => ValidationDecision::Refused(RefusalReason::NoTarget(scope)),
        }
    }

    /// Every server label the policy refers to (to check them against the configured lists).
    pub fn referenced_labels(&self) -> Vec<&ServerLabel> {
        [&self.for_local, &self.for_remote]
            .into_iter()
            .filter(|rules| rules.enabled && rules.to_remote.enabled)
            .map(|rules| &rules.to_remote.server)
            .collect()
    }
}

#[cfg(test)]
#[path = "policy_tests.rs"]
mod tests;
