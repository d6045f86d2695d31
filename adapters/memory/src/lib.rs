//! The `memory` identity backend (mxisd's memory identity store): users and their 3PIDs listed in
//! the configuration file, for tests, demonstrations and small fixed setups; with a `password`,
//! its users can log in to the homeserver, and its `displayName`, 3PIDs and `roles` are their
//! profiles ([`auth`]); they are found by the user directory search ([`MemoryDirectory`]).
use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;

use async_trait::async_trait;
use verity_application::ports::driven::{BackendError, Binding, IdentityBackend};
use verity_domain::{Password, ThreePid, UserId};

mod auth;

/// `memory.*`, as the configuration resolved it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemorySettings {
    /// `memory.hashEnabled`: whether these 3PIDs are in the hash table too (default true).
    pub hash_enabled: bool,
    /// `memory.identities`.
    pub identities: Vec<MemoryIdentity>,
}

/// `memory.identities[i]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryIdentity {
    /// `username`, completed with `matrix.domain` when it is a localpart.
    pub user_id: UserId,
    /// `threepids`, canonical.
    pub threepids: Vec<ThreePid>,
    /// `password`: the user's password, in clear as mxisd kept it; `None` (unset or empty):
    /// this user cannot log in.
    pub password: Option<Password>,
    /// `displayName`.
    pub display_name: Option<String>,
    /// `roles`.
    pub roles: Vec<String>,
}

impl MemoryIdentity {
    /// A user with these 3PIDs, no password, name nor role.
    pub fn new(user_id: UserId, threepids: Vec<ThreePid>) -> Self {
        Self {
            user_id,
            threepids,
            password: None,
            display_name: None,
            roles: Vec::new(),
        }
    }
}

/// The configured 3PIDs, each with its user, keyed by (medium, address) as strings: the order
/// the feed promises, which the 3PID type's own order (email, msisdn, then custom media) is not.
#[derive(Debug, Clone)]
pub struct MemoryBackend {
    bindings: BTreeMap<(String, String), Binding>,
    hash_enabled: bool,
    /// The users, for logins and profiles.
    identities: Arc<[MemoryIdentity]>,
}

/// The feed's key of a 3PID.
fn key(threepid: &ThreePid) -> (String, String) {
    (
        threepid.medium().as_str().to_owned(),
        threepid.address().to_owned(),
    )
}

impl MemoryBackend {
    /// The backend of `memory.identities`. The configuration already refused a 3PID listed twice.
    pub fn new(settings: &MemorySettings) -> Self {
        let bindings = settings
            .identities
            .iter()
            .flat_map(|identity| {
                identity.threepids.iter().map(|threepid| {
                    let binding = Binding {
                        threepid: threepid.clone(),
                        user_id: identity.user_id.clone(),
                    };
                    (key(threepid), binding)
                })
            })
            .collect();
        Self {
            bindings,
            hash_enabled: settings.hash_enabled,
            identities: settings.identities.clone().into(),
        }
    }
}

#[async_trait]
impl IdentityBackend for MemoryBackend {
    fn name(&self) -> &'static str {
        "memory"
    }

    async fn lookup(&self, threepid: &ThreePid) -> Result<Option<UserId>, BackendError> {
        Ok(self
            .bindings
            .get(&key(threepid))
            .map(|binding| binding.user_id.clone()))
    }

    async fn lookup_many(&self, threepids: &[ThreePid]) -> Result<Vec<Binding>, BackendError> {
        Ok(threepids
            .iter()
            .filter_map(|threepid| self.bindings.get(&key(threepid)).cloned())
            .collect())
    }

    /// Nothing when `memory.hashEnabled` is false: these 3PIDs are then found by the `none` and
    /// v1 lookups only, as in mxisd.
    async fn feed(
        &self,
        after: Option<ThreePid>,
        limit: u32,
    ) -> Result<Vec<Binding>, BackendError> {
        if !self.hash_enabled {
            return Ok(Vec::new());
        }
        let start = after.map_or(Bound::Unbounded, |after| Bound::Excluded(key(&after)));
        Ok(self
            .bindings
            .range((start, Bound::Unbounded))
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .map(|(_, binding)| binding.clone())
            .collect())
    }
}

mod directory;

pub use directory::MemoryDirectory;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_auth;
