//! The `memory` identity backend (mxisd's memory identity store): users and their 3PIDs listed in
//! the configuration file, for tests, demonstrations and small fixed setups.
use std::collections::BTreeMap;
use std::ops::Bound;

use async_trait::async_trait;
use verity_application::ports::driven::{BackendError, Binding, IdentityBackend};
use verity_domain::{ThreePid, UserId};

use crate::settings::MemorySettings;

/// The configured 3PIDs, each with its user.
#[derive(Debug, Clone)]
pub struct MemoryBackend {
    bindings: BTreeMap<ThreePid, UserId>,
    hash_enabled: bool,
}

impl MemoryBackend {
    /// The backend of `memory.identities`. The configuration already refused a 3PID listed twice.
    pub fn new(settings: &MemorySettings) -> Self {
        let bindings = settings
            .identities
            .iter()
            .flat_map(|identity| {
                identity
                    .threepids
                    .iter()
                    .map(|threepid| (threepid.clone(), identity.user_id.clone()))
            })
            .collect();
        Self {
            bindings,
            hash_enabled: settings.hash_enabled,
        }
    }
}

#[async_trait]
impl IdentityBackend for MemoryBackend {
    fn name(&self) -> &'static str {
        "memory"
    }

    async fn lookup(&self, threepid: &ThreePid) -> Result<Option<UserId>, BackendError> {
        Ok(self.bindings.get(threepid).cloned())
    }

    async fn lookup_many(&self, threepids: &[ThreePid]) -> Result<Vec<Binding>, BackendError> {
        Ok(threepids
            .iter()
            .filter_map(|threepid| {
                self.bindings.get(threepid).map(|user_id| Binding {
                    threepid: threepid.clone(),
                    user_id: user_id.clone(),
                })
            })
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
        let start = after.map_or(Bound::Unbounded, Bound::Excluded);
        Ok(self
            .bindings
            .range((start, Bound::Unbounded))
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .map(|(threepid, user_id)| Binding {
                threepid: threepid.clone(),
                user_id: user_id.clone(),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;
    use verity_domain::Medium;

    use super::*;
    use crate::settings::MemoryIdentity;

    fn email(address: &str) -> ThreePid {
        ThreePid::parse(Medium::Email, address).unwrap()
    }

    fn phone(number: &str) -> ThreePid {
        ThreePid::parse(Medium::Msisdn, number).unwrap()
    }

    fn user(raw: &str) -> UserId {
        UserId::parse(raw).unwrap()
    }

    fn backend(hash_enabled: bool) -> MemoryBackend {
        MemoryBackend::new(&MemorySettings {
            hash_enabled,
            identities: vec![
                MemoryIdentity {
                    user_id: user("@alice:example.org"),
                    threepids: vec![email("alice@example.org"), phone("447911123456")],
                },
                MemoryIdentity {
                    user_id: user("@bob:example.org"),
                    threepids: vec![email("bob@example.org")],
                },
            ],
        })
    }

    fn binding(threepid: ThreePid, mxid: &str) -> Binding {
        Binding {
            threepid,
            user_id: user(mxid),
        }
    }

    #[tokio::test]
    async fn the_listed_3pids_are_found_and_nothing_else() {
        let memory = backend(true);
        assert_eq!(memory.name(), "memory");
        assert_eq!(
            memory.lookup(&phone("447911123456")).await.unwrap(),
            Some(user("@alice:example.org"))
        );
        assert_eq!(
            memory.lookup(&email("eve@example.org")).await.unwrap(),
            None
        );
        assert_eq!(
            memory
                .lookup_many(&[email("eve@example.org"), email("bob@example.org")])
                .await
                .unwrap(),
            vec![binding(email("bob@example.org"), "@bob:example.org")]
        );
    }

    #[tokio::test]
    async fn the_feed_pages_through_every_3pid_in_order() {
        let memory = backend(true);
        let first = memory.feed(None, 2).await.unwrap();
        assert_eq!(
            first,
            vec![
                binding(email("alice@example.org"), "@alice:example.org"),
                binding(email("bob@example.org"), "@bob:example.org"),
            ]
        );
        let rest = memory
            .feed(Some(first[1].threepid.clone()), 2)
            .await
            .unwrap();
        assert_eq!(
            rest,
            vec![binding(phone("447911123456"), "@alice:example.org")]
        );
        assert!(
            memory
                .feed(Some(rest[0].threepid.clone()), 2)
                .await
                .unwrap()
                .is_empty()
        );
    }

    #[tokio::test]
    async fn without_hash_enabled_the_feed_is_empty_but_lookups_still_answer() {
        let memory = backend(false);
        assert!(memory.feed(None, 10).await.unwrap().is_empty());
        assert!(
            memory
                .lookup(&email("bob@example.org"))
                .await
                .unwrap()
                .is_some()
        );
    }
}
