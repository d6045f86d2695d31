//! What the identity stores say of a user (mxisd/ma1sd's "profile"): a display name, the 3PIDs
//! of the account, and roles (groups) for policies.
use crate::ThreePid;

/// The longest display name kept, in characters (Synapse's own limit for a display name is 256).
pub const MAX_DISPLAY_NAME_CHARS: usize = 256;

/// The longest role name kept, in characters.
pub const MAX_ROLE_CHARS: usize = 256;

/// A user's profile as one store (or several, merged) knows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    /// The display name, if the store has one (never empty).
    pub display_name: Option<String>,
    /// The account's 3PIDs, canonical, each once.
    pub threepids: Vec<ThreePid>,
    /// The user's roles (groups), each once, as the store names them.
    pub roles: Vec<String>,
}

impl Profile {
    /// A profile with this display name (blank or over [`MAX_DISPLAY_NAME_CHARS`]: none, see
    /// [`with_display_name`](Self::with_display_name)).
    #[must_use]
    pub fn named(display_name: &str) -> Self {
        Self::default().with_display_name(display_name)
    }

    /// This profile with `display_name`, trimmed; a blank one leaves it unset (ma1sd's memory
    /// store answered `""`, which would blank the user's name on the homeserver), and one longer
    /// than [`MAX_DISPLAY_NAME_CHARS`] is cut there.
    #[must_use]
    pub fn with_display_name(mut self, display_name: &str) -> Self {
        let trimmed = display_name.trim();
        self.display_name =
            (!trimmed.is_empty()).then(|| trimmed.chars().take(MAX_DISPLAY_NAME_CHARS).collect());
        self
    }

    /// Adds `threepid` unless it is already there.
    pub fn add_threepid(&mut self, threepid: ThreePid) {
        if !self.threepids.contains(&threepid) {
            self.threepids.push(threepid);
        }
    }

    /// Adds the role `role` (trimmed) unless it is blank, too long or already there.
    pub fn add_role(&mut self, role: &str) {
        let role = role.trim();
        if role.is_empty()
            || role.chars().count() > MAX_ROLE_CHARS
            || self.roles.iter().any(|held| held == role)
        {
            return;
        }
        self.roles.push(role.to_owned());
    }

    /// What `other` adds to this profile, as ma1sd combined its stores: the first display name
    /// wins, 3PIDs and roles are put together (here each once).
    pub fn merge(&mut self, other: Self) {
        if self.display_name.is_none() {
            self.display_name = other.display_name;
        }
        for threepid in other.threepids {
            self.add_threepid(threepid);
        }
        for role in &other.roles {
            self.add_role(role);
        }
    }
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;

    use super::*;
    use crate::{EmailAddress, Msisdn};

    fn email(address: &str) -> ThreePid {
        ThreePid::Email(EmailAddress::parse(address).unwrap())
    }

    #[test]
    fn a_blank_display_name_is_no_display_name() {
        assert_eq!(Profile::named("  ").display_name, None);
        assert_eq!(
            Profile::named(" Alice ").display_name.as_deref(),
            Some("Alice")
        );
    }

    #[test]
    fn a_long_display_name_is_cut() {
        let named = Profile::named(&"x".repeat(1000));
        assert_eq!(
            named.display_name.map(|n| n.chars().count()),
            Some(MAX_DISPLAY_NAME_CHARS)
        );
    }

    #[test]
    fn merging_keeps_the_first_name_and_every_threepid_and_role_once() {
        let mut first = Profile::default();
        first.add_threepid(email("alice@example.org"));
        first.add_role("staff");
        let mut second = Profile::named("Alice");
        second.add_threepid(email("alice@example.org"));
        second.add_threepid(ThreePid::Msisdn(Msisdn::parse("12025550143").unwrap()));
        second.add_role("staff");
        second.add_role("admins");
        second.add_role(" ");
        first.merge(second);
        first.merge(Profile::named("Someone else"));
        assert_eq!(first.display_name.as_deref(), Some("Alice"));
        assert_eq!(first.threepids.len(), 2);
        assert_eq!(first.roles, ["staff", "admins"]);
    }
}
