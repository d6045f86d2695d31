//! Who may invite by 3PID (mxisd/ma1sd's `invite.policy.ifSender.hasRole`): the roles one of
//! which the sender of a 3PID room invite must hold, as the identity stores' profiles name them.

use std::collections::BTreeSet;

/// The roles a 3PID invite's sender must hold one of; none listed: anyone may invite.
///
/// ma1sd's default was an empty list, which its check (`Collections.disjoint(userRoles, [])`)
/// read as "no role matches" and so refused every 3PID invite routed to it; here an empty list
/// requires nothing, which is what an operator who never set the key expects.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SenderRoles {
    roles: BTreeSet<String>,
}

impl SenderRoles {
    /// The roles, trimmed; blank ones are dropped. A role longer than a profile keeps
    /// ([`MAX_ROLE_CHARS`](crate::MAX_ROLE_CHARS)) stays: no sender holds it, so a list of only such roles refuses
    /// everyone rather than nobody (the configuration refuses such a role anyway).
    pub fn new(roles: impl IntoIterator<Item = String>) -> Self {
        Self {
            roles: roles
                .into_iter()
                .map(|role| role.trim().to_owned())
                .filter(|role| !role.is_empty())
                .collect(),
        }
    }

    /// Whether any role is required (else every sender may invite by 3PID).
    pub fn is_required(&self) -> bool {
        !self.roles.is_empty()
    }

    /// Whether a sender holding `held` may invite by 3PID: one of the roles, compared exactly
    /// (as ma1sd compared them).
    pub fn permits(&self, held: &[String]) -> bool {
        !self.is_required() || held.iter().any(|role| self.roles.contains(role))
    }

    /// The roles, in order.
    pub fn roles(&self) -> impl Iterator<Item = &str> {
        self.roles.iter().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;

    use super::*;
    use crate::profile::MAX_ROLE_CHARS;

    fn roles(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| (*v).to_owned()).collect()
    }

    #[test]
    fn without_roles_every_sender_may_invite() {
        let policy = SenderRoles::new(roles(&["", "   "]));
        assert!(!policy.is_required());
        assert!(policy.permits(&[]));
        assert!(policy.permits(&roles(&["anything"])));
    }

    #[test]
    fn a_sender_needs_one_of_the_roles_compared_exactly() {
        let policy = SenderRoles::new(roles(&[" staff ", "admins"]));
        assert!(policy.is_required());
        assert_eq!(policy.roles().collect::<Vec<_>>(), ["admins", "staff"]);
        assert!(policy.permits(&roles(&["guests", "staff"])));
        assert!(policy.permits(&roles(&["admins"])));
        assert!(!policy.permits(&[]));
        assert!(!policy.permits(&roles(&["Staff", "staffers", "admin"])));
    }

    #[test]
    fn a_role_no_profile_could_hold_still_refuses_everyone_else() {
        let policy = SenderRoles::new(["r".repeat(MAX_ROLE_CHARS + 1)]);
        assert!(policy.is_required());
        assert!(!policy.permits(&roles(&["r"])));
    }
}
