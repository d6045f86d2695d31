use async_trait::async_trait;
use verity_domain::{ThreePid, Timestamp, UserId};

use super::{Binding, StoreError};

/// Verity's own record of the 3PIDs users bound through `/3pid/bind` (mxisd stored none, so its
/// lookups only knew what a backend such as Synapse's database knew).
///
/// Implementations MUST keep at most one binding per 3PID and MUST be safe to call concurrently:
/// two binds of the same 3PID leave exactly one of them.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait BindingStore: Send + Sync {
    /// Binds `binding.threepid` to `binding.user_id` at `at`, replacing the Matrix ID (and the
    /// time) of an existing binding of the same 3PID.
    async fn bind(&self, binding: &Binding, at: Timestamp) -> Result<(), StoreError>;

    /// Removes the binding of `binding.threepid` if it leads to `binding.user_id`, and says
    /// whether one was removed. A binding of the 3PID to another user is left alone (as sydent).
    async fn unbind(&self, binding: &Binding) -> Result<bool, StoreError>;

    /// The user `threepid` is bound to, if any.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] when the stored row is not a valid binding.
    async fn find(&self, threepid: &ThreePid) -> Result<Option<UserId>, StoreError>;

    /// One page of every binding, ordered by (medium, address), strictly after `after` (from the
    /// beginning when `None`), at most `limit` long; an empty page means the end.
    async fn feed(&self, after: Option<ThreePid>, limit: u32) -> Result<Vec<Binding>, StoreError>;
}
