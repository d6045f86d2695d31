//! [`MemoryDirectory`]: the user directory search of `memory.identities` (mxisd's memory store
//! searched the username; Verity also searches the display name).
use async_trait::async_trait;
use verity_application::ports::driven::{BackendError, DirectorySearch};
use verity_domain::{DirectoryEntry, DirectoryResults, SearchLimit, SearchTerm};

use crate::{MemoryIdentity, MemorySettings};

/// The configured users, searched by user ID and display name, or by 3PID address, ignoring
/// case; in the order the file lists them.
#[derive(Debug, Clone)]
pub struct MemoryDirectory {
    identities: Vec<MemoryIdentity>,
}

impl MemoryDirectory {
    /// The directory of `memory.identities`.
    pub fn new(settings: &MemorySettings) -> Self {
        Self {
            identities: settings.identities.clone(),
        }
    }

    fn search(
        &self,
        limit: SearchLimit,
        matches: impl Fn(&MemoryIdentity) -> bool,
    ) -> DirectoryResults {
        let found = self
            .identities
            .iter()
            .filter(|identity| matches(identity))
            .map(|identity| {
                // ma1sd showed the username; the display name is shown where one is set.
                let localpart = identity
                    .user_id
                    .as_str()
                    .trim_start_matches('@')
                    .split(':')
                    .next()
                    .map(str::to_owned);
                let name = identity.display_name.clone().or(localpart);
                DirectoryEntry::new(identity.user_id.clone(), name)
            })
            .collect();
        DirectoryResults::within(found, limit)
    }
}

fn contains(text: &str, term: &str) -> bool {
    text.to_lowercase().contains(term)
}

#[async_trait]
impl DirectorySearch for MemoryDirectory {
    fn name(&self) -> &'static str {
        "memory"
    }

    async fn search_by_name(
        &self,
        term: &SearchTerm,
        limit: SearchLimit,
    ) -> Result<DirectoryResults, BackendError> {
        let term = term.as_str().to_lowercase();
        Ok(self.search(limit, |identity| {
            contains(identity.user_id.as_str(), &term)
                || identity
                    .display_name
                    .as_deref()
                    .is_some_and(|name| contains(name, &term))
        }))
    }

    async fn search_by_threepid(
        &self,
        term: &SearchTerm,
        limit: SearchLimit,
    ) -> Result<DirectoryResults, BackendError> {
        let term = term.as_str().to_lowercase();
        Ok(self.search(limit, |identity| {
            identity
                .threepids
                .iter()
                .any(|threepid| contains(threepid.address(), &term))
        }))
    }
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;
    use verity_domain::{Medium, ThreePid, UserId};

    use super::*;

    fn identity(id: &str, name: Option<&str>, email: &str) -> MemoryIdentity {
        MemoryIdentity {
            display_name: name.map(str::to_owned),
            ..MemoryIdentity::new(
                UserId::parse(id).unwrap(),
                vec![ThreePid::parse(Medium::Email, email).unwrap()],
            )
        }
    }

    fn directory() -> MemoryDirectory {
        MemoryDirectory::new(&MemorySettings {
            hash_enabled: true,
            identities: vec![
                identity(
                    "@alice:example.org",
                    Some("Alice Liddell"),
                    "alice@wonderland.example",
                ),
                identity("@bob:example.org", None, "bob@builders.example"),
                identity(
                    "@carol:example.org",
                    Some("Carol Smith"),
                    "carol@example.org",
                ),
            ],
        })
    }

    fn term(raw: &str) -> SearchTerm {
        SearchTerm::parse(raw).unwrap()
    }

    fn shown(results: &DirectoryResults) -> Vec<(&str, Option<&str>)> {
        results
            .entries
            .iter()
            .map(|e| (e.user_id.as_str(), e.display_name.as_deref()))
            .collect()
    }

    #[tokio::test]
    async fn by_name_matches_the_user_id_and_the_display_name_ignoring_case() {
        let directory = directory();
        let found = directory
            .search_by_name(&term("LIDDELL"), SearchLimit::default())
            .await
            .unwrap();
        assert_eq!(
            shown(&found),
            [("@alice:example.org", Some("Alice Liddell"))]
        );
        let found = directory
            .search_by_name(&term("bob"), SearchLimit::default())
            .await
            .unwrap();
        // No display name: the username, as mxisd showed it.
        assert_eq!(shown(&found), [("@bob:example.org", Some("bob"))]);
        let none = directory
            .search_by_name(&term("wonderland"), SearchLimit::default())
            .await
            .unwrap();
        assert_eq!(none, DirectoryResults::default());
    }

    #[tokio::test]
    async fn by_3pid_matches_addresses_and_the_limit_is_kept() {
        let directory = directory();
        let found = directory
            .search_by_threepid(&term("builders"), SearchLimit::default())
            .await
            .unwrap();
        assert_eq!(shown(&found), [("@bob:example.org", Some("bob"))]);
        let found = directory
            .search_by_threepid(&term("example"), SearchLimit::from_request(Some(2)))
            .await
            .unwrap();
        assert_eq!(found.entries.len(), 2);
        assert!(found.limited);
    }
}
