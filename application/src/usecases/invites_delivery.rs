//! Delivering the invites of bound addresses to the bound users' homeservers (`3pid/onbind`),
//! each attempt claimed in the store first so that of several instances on one database one
//! makes it, and failures retried with exponential backoff until the invite expires.
use std::collections::BTreeMap;

use verity_domain::{
    BoundInvite, DeliveryState, Invite, ServerName, ThreePid, Timestamp, UserId, onbind_body,
    retry_delay,
};

use super::{DELIVERY_BATCH, DeliveryReport, InviteService};
use crate::ports::driven::{HomeserverError, StoreError};

impl InviteService {
    /// Delivers the invites that are due, one onbind call per (address, user) with all their
    /// invites, as sydent; failures are retried later with exponential backoff until the invite
    /// expires. Each invite is claimed in the store just before its call, so of several
    /// instances on one database only one delivers it; an invite another instance claimed is
    /// left to it (`claimed_elsewhere`).
    ///
    /// # Errors
    /// A store failure (the pass stops; what was recorded stays recorded).
    pub async fn deliver_due(&self) -> Result<DeliveryReport, StoreError> {
        let now = self.deps.clock.now();
        let due = self.deps.store.due(now, DELIVERY_BATCH).await?;
        let mut groups: BTreeMap<(ThreePid, UserId), Vec<Invite>> = BTreeMap::new();
        for invite in due {
            if let Some(delivery) = &invite.delivery {
                let key = (invite.threepid.clone(), delivery.mxid.clone());
                groups.entry(key).or_default().push(invite);
            }
        }
        let mut report = DeliveryReport::default();
        for ((threepid, mxid), invites) in groups {
            let invites = self.claim(invites, &mut report).await?;
            if invites.is_empty() {
                continue;
            }
            let Ok(server) = ServerName::parse(mxid.server_name()) else {
                // sydent: an unusable destination is given up at once.
                tracing::warn!(%mxid, "the bound user's server name is invalid; invites dropped");
                for invite in &invites {
                    self.set_state(invite, DeliveryState::Abandoned, now)
                        .await?;
                }
                report.abandoned += invites.len();
                continue;
            };
            let entries: Vec<BoundInvite> =
                invites.iter().filter_map(Invite::bound_entry).collect();
            let body = onbind_body(&threepid, &mxid, &entries);
            tracing::info!(%server, count = invites.len(), "invites claimed for delivery");
            let answer = self.deps.homeserver.onbind(&server, &body).await;
            let now = self.deps.clock.now();
            match answer {
                Ok(()) => {
                    tracing::info!(%server, count = invites.len(), "invites delivered");
                    for invite in &invites {
                        self.set_state(invite, DeliveryState::Delivered, now)
                            .await?;
                    }
                    report.delivered += invites.len();
                }
                Err(error) => {
                    self.failed(&invites, &server, &error, now).await?;
                    report.failed += invites.len();
                }
            }
        }
        Ok(report)
    }

    /// The invites of `group` this instance claimed, each until the lease runs out.
    async fn claim(
        &self,
        group: Vec<Invite>,
        report: &mut DeliveryReport,
    ) -> Result<Vec<Invite>, StoreError> {
        let until = self.deps.clock.now().saturating_add(self.lease);
        let mut claimed = Vec::with_capacity(group.len());
        for invite in group {
            let Some(seen) = invite.delivery.as_ref().map(|d| d.next_attempt) else {
                continue;
            };
            if self.deps.store.claim(&invite.token, seen, until).await? {
                claimed.push(invite);
            } else {
                report.claimed_elsewhere += 1;
            }
        }
        Ok(claimed)
    }

    /// Records a failed attempt for each invite, with its next attempt after the backoff.
    async fn failed(
        &self,
        invites: &[Invite],
        server: &ServerName,
        error: &HomeserverError,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        for invite in invites {
            let attempts = invite
                .delivery
                .as_ref()
                .map_or(0, |d| d.attempts)
                .saturating_add(1);
            let delay = retry_delay(attempts);
            tracing::warn!(
                %server, error = %error, attempts, retry_in_secs = delay.as_secs(),
                "invite delivery failed; will retry"
            );
            self.deps
                .store
                .update_delivery(
                    &invite.token,
                    DeliveryState::Due,
                    attempts,
                    now.saturating_add(delay),
                )
                .await?;
        }
        Ok(())
    }

    async fn set_state(
        &self,
        invite: &Invite,
        state: DeliveryState,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let attempts = invite.delivery.as_ref().map_or(0, |d| d.attempts);
        self.deps
            .store
            .update_delivery(&invite.token, state, attempts, now)
            .await
    }
}
