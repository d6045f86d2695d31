//! The invite policy (ma1sd's `invite.policy.ifSender.hasRole`): the homeserver's
//! `rooms/{roomId}/invite`, routed to Verity by the reverse proxy, is passed on to the homeserver
//! unless it invites a 3PID and its sender holds none of the required roles.
use std::sync::Arc;

use async_trait::async_trait;
use verity_domain::HomeserverAccessToken;

use super::sender_roles::SenderRoleCheck;
use super::user_directory_cache::CachedWhoami;
use crate::ports::driven::{HomeserverRoute, RelayedAnswer, RoomInviteRelay};
use crate::ports::driving::{InviteTarget, RoomInviteGate, RoomInviteGateError, RoomInviteRequest};

/// [`RoomInviteGate`] over the homeserver and the stores' profiles.
pub struct RoomInviteGateService {
    roles: SenderRoleCheck,
    /// Who a token is: the brief cache the directory search shares, so a user inviting many
    /// addresses costs the homeserver one `whoami`.
    whoami: Arc<CachedWhoami>,
    relay: Arc<dyn RoomInviteRelay>,
}

impl RoomInviteGateService {
    /// The gate of `roles`, its senders known through `whoami`, passing invites on to `relay`.
    pub fn new(
        roles: SenderRoleCheck,
        whoami: Arc<CachedWhoami>,
        relay: Arc<dyn RoomInviteRelay>,
    ) -> Self {
        Self {
            roles,
            whoami,
            relay,
        }
    }
}

#[async_trait]
impl RoomInviteGate for RoomInviteGateService {
    async fn invite(
        &self,
        route: &HomeserverRoute,
        token: &HomeserverAccessToken,
        request: &RoomInviteRequest,
    ) -> Result<RelayedAnswer, RoomInviteGateError> {
        if request.target == InviteTarget::ThreePid && self.roles.is_required() {
            // Who sends it is whoever the homeserver says the token is; nothing in the request
            // can claim another sender.
            let sender = self.whoami.whoami(route, token).await?.user_id;
            let permitted = self.roles.permits(&sender).await?;
            tracing::info!(
                sender = %sender,
                permitted,
                "3PID room invite checked against invite.policy.ifSender.hasRole"
            );
            if !permitted {
                return Err(RoomInviteGateError::Refused);
            }
        }
        Ok(self
            .relay
            .invite(route, token, &request.room_id, &request.relayed)
            .await?)
    }
}

#[cfg(test)]
#[path = "room_invite_gate_tests.rs"]
mod tests;
