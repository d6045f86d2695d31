//! Logins and profiles from `memory.identities`: a user's `password` is compared in constant
//! time (mxisd and ma1sd accepted *any* password for a listed user: their memory store never
//! read it), and `displayName`, `threepids` and `roles` are the user's profile.
use async_trait::async_trait;
use verity_application::ports::driven::{
    AccountName, BackendError, PasswordVerdict, PasswordVerifier, ProfileSource,
};
use verity_domain::{Password, Profile, UserId};

use crate::{MemoryBackend, MemoryIdentity};

impl MemoryBackend {
    /// The listed user `user` (compared ignoring ASCII case: the homeserver asks as the user
    /// typed the name).
    fn identity(&self, user: &UserId) -> Option<&MemoryIdentity> {
        self.identities.iter().find(|identity| {
            identity
                .user_id
                .as_str()
                .eq_ignore_ascii_case(user.as_str())
        })
    }
}

/// What the list says of `identity`.
fn profile_of(identity: &MemoryIdentity) -> Profile {
    let mut profile = Profile::named(identity.display_name.as_deref().unwrap_or_default());
    for threepid in &identity.threepids {
        profile.add_threepid(threepid.clone());
    }
    for role in &identity.roles {
        profile.add_role(role);
    }
    profile
}

#[async_trait]
impl PasswordVerifier for MemoryBackend {
    fn name(&self) -> &'static str {
        "memory"
    }

    async fn verify_password(
        &self,
        user: &UserId,
        password: &Password,
    ) -> Result<PasswordVerdict, BackendError> {
        let Some(identity) = self.identity(user) else {
            return Ok(PasswordVerdict::UnknownUser);
        };
        // A listed user without a password cannot log in.
        let accepted = identity
            .password
            .as_ref()
            .is_some_and(|stored| password.matches(stored.expose()));
        if !accepted {
            return Ok(PasswordVerdict::Refused);
        }
        Ok(PasswordVerdict::Accepted {
            account: AccountName::UserId(identity.user_id.clone()),
            profile: profile_of(identity),
        })
    }
}

#[async_trait]
impl ProfileSource for MemoryBackend {
    fn name(&self) -> &'static str {
        "memory"
    }

    async fn profile(&self, user: &UserId) -> Result<Option<Profile>, BackendError> {
        Ok(self.identity(user).map(profile_of))
    }
}
