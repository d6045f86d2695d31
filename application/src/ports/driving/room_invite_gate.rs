use async_trait::async_trait;
use verity_domain::HomeserverAccessToken;

use crate::ports::driven::{
    BackendError, HomeserverAsUserError, HomeserverRoute, RelayedAnswer, RelayedRequest,
};

/// What a client's `rooms/{roomId}/invite` invites.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InviteTarget {
    /// A Matrix user (`user_id`): no identity server is involved.
    User,
    /// A 3PID (`medium`, `address`, `id_server`): the homeserver will ask an identity server to
    /// store and mail the invite.
    ThreePid,
}

/// A client's room invite, as it came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomInviteRequest {
    /// The room, as the path named it.
    pub room_id: String,
    /// What the body invites.
    pub target: InviteTarget,
    /// The body and who sent it, passed on unchanged.
    pub relayed: RelayedRequest,
}

/// Why a room invite was not passed on.
#[derive(Debug, thiserror::Error)]
pub enum RoomInviteGateError {
    /// The sender holds none of `invite.policy.ifSender.hasRole` (ma1sd: 403 `M_FORBIDDEN`).
    #[error("Your account is not allowed to invite that address")]
    Refused,
    /// A store could not be asked for the sender's roles, and no store that answered gave one
    /// of them: the policy could not be applied.
    #[error("the sender's roles could not be read")]
    Profiles(#[from] BackendError),
    /// The homeserver rejected the token, or could not be asked.
    #[error("the homeserver could not be asked")]
    Homeserver(#[from] HomeserverAsUserError),
}

/// The invite policy: the homeserver's room invites, let through or refused by
/// `invite.policy.ifSender.hasRole` before they reach the homeserver.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait RoomInviteGate: Send + Sync {
    /// Applies the policy to a 3PID invite (a user invite needs nothing) and, when the sender
    /// may send it, passes the request on to the homeserver `route` names with `token` and
    /// returns its answer.
    async fn invite(
        &self,
        route: &HomeserverRoute,
        token: &HomeserverAccessToken,
        request: &RoomInviteRequest,
    ) -> Result<RelayedAnswer, RoomInviteGateError>;
}
