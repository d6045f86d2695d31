use async_trait::async_trait;
use verity_domain::{BoundInvite, ThreePid, UserId};

use crate::ports::driving::InviteError;

/// The room invites waiting for a 3PID (`store-invite`), as a bind sees them: implemented by
/// the invites use case, wired by the composition root.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PendingInvites: Send + Sync {
    /// Signs the unexpired invites waiting for `threepid` for `user_id`, queues their delivery
    /// to the user's homeserver (`3pid/onbind`), and returns them as sydent's bind answer lists
    /// them (`invites`: `{medium, address, mxid, room_id, sender, signed}` each).
    ///
    /// Implementations MUST queue each invite at most once, however often a 3PID is bound, and
    /// return only the invites queued by this call.
    ///
    /// # Errors
    /// [`InviteError`] when the store fails or an invite cannot be signed; the invites queued
    /// before the failure stay queued.
    async fn on_bind(
        &self,
        threepid: &ThreePid,
        user_id: &UserId,
    ) -> Result<Vec<BoundInvite>, InviteError>;
}
