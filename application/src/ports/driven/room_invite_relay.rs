use async_trait::async_trait;
use verity_domain::HomeserverAccessToken;

use super::{HomeserverAsUserError, HomeserverRoute, RelayedAnswer, RelayedRequest};

/// The homeserver's room invites that Verity stands in front of (mxisd's invite policy):
/// `POST /_matrix/client/<version>/rooms/{roomId}/invite` on the homeserver's client-server
/// API, sent as the user with the user's own access token.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait RoomInviteRelay: Send + Sync {
    /// Passes the request on to `rooms/{room_id}/invite` of the homeserver `route` names (found
    /// as [`HomeserverAsUser`](super::HomeserverAsUser) finds it), with `token`, and returns its
    /// answer, whatever its status.
    ///
    /// Implementations MUST send the body unchanged, put `room_id` in the path as one
    /// percent-encoded segment (it cannot add segments or a query), send the token in the
    /// `Authorization` header only and never log it, bound the answer's size, and return a 4xx
    /// or 5xx answer as a [`RelayedAnswer`], not as an error.
    async fn invite(
        &self,
        route: &HomeserverRoute,
        token: &HomeserverAccessToken,
        room_id: &str,
        request: &RelayedRequest,
    ) -> Result<RelayedAnswer, HomeserverAsUserError>;
}
