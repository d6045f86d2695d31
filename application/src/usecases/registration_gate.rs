//! Registration control (ma1sd's `register.policy`): the homeserver's
//! `register/{medium}/requestToken`, routed to Verity by the reverse proxy, is checked against the
//! policy and passed on to the homeserver only when the 3PID may register.
use std::sync::Arc;

use async_trait::async_trait;
use verity_domain::{MatrixDomain, RegistrationDecision, RegistrationPolicy, ThreePid};

use crate::ports::driven::{
    Clock, HomeserverRoute, InviteStore, RegistrationRelay, RelayedAnswer, RelayedRequest,
};
use crate::ports::driving::{RegistrationGate, RegistrationGateError};

/// [`RegistrationGate`] over the pending invites and the homeserver.
pub struct RegistrationGateService {
    policy: RegistrationPolicy,
    /// `matrix.domain`: only its users' invites let an address register.
    domain: MatrixDomain,
    invites: Arc<dyn InviteStore>,
    relay: Arc<dyn RegistrationRelay>,
    clock: Arc<dyn Clock>,
}

impl RegistrationGateService {
    /// The gate of `policy`.
    pub fn new(
        policy: RegistrationPolicy,
        domain: MatrixDomain,
        invites: Arc<dyn InviteStore>,
        relay: Arc<dyn RegistrationRelay>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            policy,
            domain,
            invites,
            relay,
            clock,
        }
    }

    async fn decide(
        &self,
        threepid: &ThreePid,
    ) -> Result<RegistrationDecision, RegistrationGateError> {
        // The store is asked only when an invite can change the answer. Only an invite from a
        // user of this homeserver counts: anyone can have an invite stored for any address
        // (through v1 `store-invite`, or a v2 account on any homeserver), and an invite from
        // elsewhere must not open the homeserver's registration.
        let invited = if self.policy.asks_for_invites() {
            self.invites
                .unbound(threepid, self.clock.now())
                .await?
                .iter()
                .any(|invite| {
                    invite
                        .sender
                        .server_name()
                        .eq_ignore_ascii_case(self.domain.as_str())
                })
        } else {
            false
        };
        Ok(self.policy.decide(threepid, invited))
    }
}

#[async_trait]
impl RegistrationGate for RegistrationGateService {
    async fn request_token(
        &self,
        route: &HomeserverRoute,
        threepid: &ThreePid,
        request: &RelayedRequest,
    ) -> Result<RelayedAnswer, RegistrationGateError> {
        let decision = self.decide(threepid).await?;
        // The decision is logged with its reason, the address is not (it is personal data and the
        // homeserver logs the request anyway).
        tracing::info!(
            medium = %threepid.medium(),
            decision = ?decision,
            "registration request checked against register.policy"
        );
        if !decision.is_allowed() {
            return Err(RegistrationGateError::Refused(threepid.medium()));
        }
        Ok(self
            .relay
            .request_token(route, &threepid.medium(), request)
            .await?)
    }
}

#[cfg(test)]
#[path = "registration_gate_tests.rs"]
mod tests;
