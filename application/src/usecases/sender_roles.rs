//! `invite.policy.ifSender.hasRole`, checked against the stores' profiles: the one rule used in
//! front of the homeserver's room invites and at `store-invite`.
use std::sync::Arc;

use verity_domain::{SenderRoles, UserId};

use crate::ports::driven::{BackendError, ProfileSource};

/// The policy and the stores that know roles.
#[derive(Clone)]
pub struct SenderRoleCheck {
    policy: SenderRoles,
    profiles: Vec<Arc<dyn ProfileSource>>,
}

impl SenderRoleCheck {
    /// The check of `policy` against `profiles` (every store's roles count, as ma1sd put them
    /// together).
    pub fn new(policy: SenderRoles, profiles: Vec<Arc<dyn ProfileSource>>) -> Self {
        Self { policy, profiles }
    }

    /// Whether any store knows profiles (without one, a required role refuses everyone).
    pub fn has_stores(&self) -> bool {
        !self.profiles.is_empty()
    }

    /// Whether any role is required.
    pub fn is_required(&self) -> bool {
        self.policy.is_required()
    }

    /// Whether `sender` may invite by 3PID. The stores are asked in order until one gives a
    /// required role; a store that cannot be asked is an error only when no other store gave
    /// one (an outage never lets an invite through, nor refuses one another store allows).
    ///
    /// # Errors
    /// The first store's failure, when no store gave a required role.
    pub async fn permits(&self, sender: &UserId) -> Result<bool, BackendError> {
        if !self.policy.is_required() {
            return Ok(true);
        }
        let mut failure = None;
        for source in &self.profiles {
            match source.profile(sender).await {
                Ok(Some(profile)) if self.policy.permits(&profile.roles) => return Ok(true),
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(store = source.name(), %error, "a store could not be asked for an inviter's roles");
                    failure.get_or_insert(error);
                }
            }
        }
        failure.map_or(Ok(false), Err)
    }
}
