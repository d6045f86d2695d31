//! The lookup hash table as the use cases that are not its maintenance see it: a bind or an
//! unbind refreshes one 3PID ([`IndexRefresh`]), a `/lookup` reads hashes ([`HashLookups`]).
//! The table itself is the `HashIndex` use case; the composition root hands it out behind
//! these two ports, so a use case never holds another.
use async_trait::async_trait;
use verity_domain::{Addresses, Pepper, ThreePid, UserId};

use super::{BackendError, StoreError};

/// Why the table could not be read, built or updated.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// The hash store failed.
    #[error("the lookup hash store failed")]
    Store(#[from] StoreError),
    /// A backend failed.
    #[error("an identity backend failed")]
    Backend(#[from] BackendError),
}

/// Why a hashed lookup cannot be answered from the table now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unanswered {
    /// The table of the published pepper is still being built (or its build failed and is
    /// retried): answering from part of it could say "not bound" of a bound address.
    NotReady,
    /// The lookup's pepper is not the published one (it changed since it was checked).
    OtherPepper(String),
}

/// Keeping the lookup table in step with one 3PID after its binding changed.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait IndexRefresh: Send + Sync {
    /// Whether a table is kept at all (`hashing.enabled`). When it is not, [`refresh`] does
    /// nothing, and a caller may skip the work of finding what to refresh.
    ///
    /// [`refresh`]: Self::refresh
    fn is_enabled(&self) -> bool;

    /// Brings the table's entry of `threepid` in line with the backends' current answer.
    ///
    /// Implementations MUST make the last refresh of a 3PID the last write for it (a rebuild
    /// running meanwhile redoes it), and MUST return `Ok` without reading anything while no
    /// table is kept.
    ///
    /// # Errors
    /// [`IndexError`] when a backend or the store fails; the table keeps its previous entry.
    async fn refresh(&self, threepid: &ThreePid) -> Result<(), IndexError>;
}

/// Answering `sha256` lookups from the table in memory.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait HashLookups: Send + Sync {
    /// The pepper clients are given (`/hash_details`), even while its table is being built;
    /// `None` while hashing is off.
    fn pepper(&self) -> Option<Pepper>;

    /// The users of the `hashes` that are in the table of `pepper`, each with the position of
    /// its hash among `hashes`. Implementations MUST answer only hashes that were asked, and
    /// nothing from a table that is not complete.
    ///
    /// # Errors
    /// [`Unanswered`] when the table is not complete yet, or `pepper` is not the published one.
    fn find(&self, pepper: &str, hashes: &Addresses) -> Result<Vec<(usize, UserId)>, Unanswered>;

    /// Counts one `/lookup` request (a pepper may rotate after so many).
    fn count_lookup(&self);
}
