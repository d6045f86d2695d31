//! The invite policy (ma1sd's `invite.policy.ifSender.hasRole`): the homeserver's
//! `rooms/{roomId}/invite`, routed to Verity by the reverse proxy, is passed on to the homeserver
//! unless it invites a 3PID and its sender holds none of the required roles.
use std::sync::Arc;

use async_trait::async_trait;
use verity_domain::{HomeserverAccessToken, SenderRoles, UserId};

use crate::ports::driven::{
    BackendError, HomeserverAsUser, HomeserverRoute, ProfileSource, RelayedAnswer, RoomInviteRelay,
};
use crate::ports::driving::{InviteTarget, RoomInviteGate, RoomInviteGateError, RoomInviteRequest};

/// [`RoomInviteGate`] over the homeserver and the stores' profiles.
pub struct RoomInviteGateService {
    policy: SenderRoles,
    homeserver: Arc<dyn HomeserverAsUser>,
    profiles: Vec<Arc<dyn ProfileSource>>,
    relay: Arc<dyn RoomInviteRelay>,
}

impl RoomInviteGateService {
    /// The gate of `policy`, reading roles from `profiles` (every store's roles count, as
    /// ma1sd put them together).
    pub fn new(
        policy: SenderRoles,
        homeserver: Arc<dyn HomeserverAsUser>,
        profiles: Vec<Arc<dyn ProfileSource>>,
        relay: Arc<dyn RoomInviteRelay>,
    ) -> Self {
        Self {
            policy,
            homeserver,
            profiles,
            relay,
        }
    }

    /// Whether `sender` holds one of the roles. The stores are asked in order until one gives
    /// a required role; a store that cannot be asked is an error only when no other store gave
    /// one (an outage never lets an invite through, nor refuses one another store allows).
    async fn permitted(&self, sender: &UserId) -> Result<bool, BackendError> {
        let mut failure = None;
        for source in &self.profiles {
            match source.profile(sender).await {
                Ok(Some(profile)) if self.policy.permits(&profile.roles) => return Ok(true),
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(store = source.name(), %error, "a store could not be asked for an inviter's roles");
                    failure.get_or_insert(error);
                }
            }
        }
        failure.map_or(Ok(false), Err)
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
        if request.target == InviteTarget::ThreePid && self.policy.is_required() {
            // Who sends it is whoever the homeserver says the token is; nothing in the request
            // can claim another sender.
            let sender = self.homeserver.whoami(route, token).await?.user_id;
            let permitted = self.permitted(&sender).await?;
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
