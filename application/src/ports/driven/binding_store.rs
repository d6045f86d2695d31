use async_trait::async_trait;
use verity_domain::{ThreePid, Timestamp, UserId};

use super::{Binding, StoreError};

/// A bind, or an unbind that removed a binding, as recorded for the other instances on the same
/// database (whose lookup tables follow it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindingChange {
    /// Increasing in the order the changes were written; on PostgreSQL a change may become
    /// visible after one with a higher id (its transaction committed later).
    pub id: u64,
    /// The 3PID bound or unbound.
    pub threepid: ThreePid,
    /// When, by the clock of the instance that made it.
    pub at: Timestamp,
}

/// A binding as the store holds it, for the operator (`verity admin bindings`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBinding {
    /// The binding.
    pub binding: Binding,
    /// When it was last bound (an imported binding: when the other server bound it).
    pub bound_at: Timestamp,
    /// Whether it was imported from another server with the signed association it handed out
    /// (`verity import sydent`); a bind made here since replaced it.
    pub imported: bool,
}

/// Verity's own record of the 3PIDs users bound through `/3pid/bind` (mxisd stored none, so its
/// lookups only knew what a backend such as Synapse's database knew).
///
/// Implementations MUST keep at most one binding per 3PID and MUST be safe to call concurrently:
/// two binds of the same 3PID leave exactly one of them.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait BindingStore: Send + Sync {
    /// Binds `binding.threepid` to `binding.user_id` at `at`, replacing the Matrix ID (and the
    /// time) of an existing binding of the same 3PID, and records a [`BindingChange`] at `at` in
    /// the same transaction.
    async fn bind(&self, binding: &Binding, at: Timestamp) -> Result<(), StoreError>;

    /// Removes the binding of `binding.threepid` if it leads to `binding.user_id`, and says
    /// whether one was removed. A binding of the 3PID to another user is left alone (as sydent).
    /// A removal records a [`BindingChange`] at `at` in the same transaction.
    async fn unbind(&self, binding: &Binding, at: Timestamp) -> Result<bool, StoreError>;

    /// The user `threepid` is bound to, if any.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] when the stored row is not a valid binding.
    async fn find(&self, threepid: &ThreePid) -> Result<Option<UserId>, StoreError>;

    /// The binding of `threepid` as stored, if any.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] when the stored row is not a valid binding.
    async fn stored(&self, threepid: &ThreePid) -> Result<Option<StoredBinding>, StoreError>;

    /// Every binding to `user_id`, by (medium, address).
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] when a stored row is not a valid binding.
    async fn of_user(&self, user_id: &UserId) -> Result<Vec<StoredBinding>, StoreError>;

    /// One page of every binding, ordered by (medium, address), strictly after `after` (from the
    /// beginning when `None`), at most `limit` long; an empty page means the end.
    async fn feed(&self, after: Option<ThreePid>, limit: u32) -> Result<Vec<Binding>, StoreError>;

    /// The recorded changes whose id is above `after`, by id, at most `limit` of them.
    async fn changes(&self, after: u64, limit: u32) -> Result<Vec<BindingChange>, StoreError>;

    /// The highest id of a recorded change, 0 when there is none.
    async fn last_change(&self) -> Result<u64, StoreError>;

    /// Deletes the recorded changes made before `before`, but not those after the saved lookup
    /// table's `changes_until` (`HashStore::save_table`), which its next load replays; returns
    /// how many.
    async fn purge_changes(&self, before: Timestamp) -> Result<u64, StoreError>;
}
