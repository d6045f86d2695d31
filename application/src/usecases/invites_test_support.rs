//! An in-memory invite store and an invite service over mocks, for the invite and association
//! use-case tests.
use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;

use async_trait::async_trait;
use verity_domain::{Delivery, DeliveryState, Invite, InviteToken, PublicKey, ThreePid, Timestamp};

use crate::ports::driven::{InviteStore, StoreError};

/// Invites by token, with the port's semantics.
#[derive(Default)]
pub(crate) struct FakeInviteStore {
    pub(crate) invites: Mutex<BTreeMap<InviteToken, Invite>>,
    /// Ephemeral keys imported apart from their invites.
    pub(crate) imported_keys: Mutex<HashSet<PublicKey>>,
    /// When set, another instance claims every invite `due` returns until this time, right
    /// after it was read (the race a claim exists for).
    pub(crate) rival_claims_until: Mutex<Option<Timestamp>>,
}

impl FakeInviteStore {
    pub(crate) fn get(&self, token: &InviteToken) -> Option<Invite> {
        self.invites.lock().unwrap().get(token).cloned()
    }

    pub(crate) fn all(&self) -> Vec<Invite> {
        self.invites.lock().unwrap().values().cloned().collect()
    }
}

#[async_trait]
impl InviteStore for FakeInviteStore {
    async fn insert(&self, invite: &Invite) -> Result<(), StoreError> {
        let mut invites = self.invites.lock().unwrap();
        if invites.contains_key(&invite.token) {
            return Err(StoreError::Conflict);
        }
        invites.insert(invite.token.clone(), invite.clone());
        Ok(())
    }

    async fn delete(&self, token: &InviteToken) -> Result<(), StoreError> {
        self.invites.lock().unwrap().remove(token);
        Ok(())
    }

    async fn find(&self, token: &InviteToken) -> Result<Option<Invite>, StoreError> {
        Ok(self.get(token))
    }

    async fn unbound(
        &self,
        threepid: &ThreePid,
        now: Timestamp,
    ) -> Result<Vec<Invite>, StoreError> {
        let mut found: Vec<Invite> = self
            .all()
            .into_iter()
            .filter(|i| &i.threepid == threepid && i.delivery.is_none() && !i.is_expired(now))
            .collect();
        found.sort_by_key(|i| i.created_at);
        Ok(found)
    }

    async fn unbound_page(
        &self,
        now: Timestamp,
        after: Option<InviteToken>,
        limit: u32,
    ) -> Result<Vec<Invite>, StoreError> {
        // The map is ordered by token already.
        Ok(self
            .all()
            .into_iter()
            .filter(|i| after.as_ref().is_none_or(|after| &i.token > after))
            .filter(|i| i.delivery.is_none() && !i.is_expired(now))
            .take(limit as usize)
            .collect())
    }

    async fn page(
        &self,
        after: Option<InviteToken>,
        limit: u32,
    ) -> Result<Vec<Invite>, StoreError> {
        Ok(self
            .all()
            .into_iter()
            .filter(|i| after.as_ref().is_none_or(|after| &i.token > after))
            .take(limit as usize)
            .collect())
    }

    async fn expire(&self, token: &InviteToken, at: Timestamp) -> Result<bool, StoreError> {
        let mut invites = self.invites.lock().unwrap();
        let Some(invite) = invites.get_mut(token) else {
            return Ok(false);
        };
        if !invite.is_expired(at) {
            invite.expires_at = Some(at);
        }
        Ok(true)
    }

    async fn ephemeral_key_in_use(
        &self,
        key: &PublicKey,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        Ok(self
            .all()
            .iter()
            .any(|i| i.ephemeral_key.as_ref() == Some(key) && !i.is_expired(now)))
    }

    async fn imported_ephemeral_key(&self, key: &PublicKey) -> Result<bool, StoreError> {
        Ok(self.imported_keys.lock().unwrap().contains(key))
    }

    async fn record_bind(
        &self,
        token: &InviteToken,
        delivery: &Delivery,
    ) -> Result<bool, StoreError> {
        let mut invites = self.invites.lock().unwrap();
        match invites.get_mut(token) {
            Some(invite) if invite.delivery.is_none() => {
                invite.delivery = Some(delivery.clone());
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn due(&self, now: Timestamp, limit: u32) -> Result<Vec<Invite>, StoreError> {
        let mut due: Vec<Invite> = self
            .all()
            .into_iter()
            .filter(|i| {
                !i.is_expired(now)
                    && i.delivery
                        .as_ref()
                        .is_some_and(|d| d.state == DeliveryState::Due && d.next_attempt <= now)
            })
            .collect();
        due.sort_by_key(|i| i.delivery.as_ref().map(|d| d.next_attempt));
        due.truncate(limit as usize);
        if let Some(until) = *self.rival_claims_until.lock().unwrap() {
            let mut invites = self.invites.lock().unwrap();
            for invite in &due {
                if let Some(d) = invites
                    .get_mut(&invite.token)
                    .and_then(|i| i.delivery.as_mut())
                {
                    d.next_attempt = until;
                }
            }
        }
        Ok(due)
    }

    async fn claim(
        &self,
        token: &InviteToken,
        seen: Timestamp,
        until: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut invites = self.invites.lock().unwrap();
        match invites.get_mut(token).and_then(|i| i.delivery.as_mut()) {
            Some(d) if d.state == DeliveryState::Due && d.next_attempt == seen => {
                d.next_attempt = until;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn update_delivery(
        &self,
        token: &InviteToken,
        state: DeliveryState,
        attempts: u32,
        next_attempt: Timestamp,
    ) -> Result<(), StoreError> {
        if let Some(delivery) = self
            .invites
            .lock()
            .unwrap()
            .get_mut(token)
            .and_then(|i| i.delivery.as_mut())
        {
            delivery.state = state;
            delivery.attempts = attempts;
            delivery.next_attempt = next_attempt;
        }
        Ok(())
    }

    async fn purge_expired(&self, now: Timestamp) -> Result<u64, StoreError> {
        let mut invites = self.invites.lock().unwrap();
        let before = invites.len();
        invites.retain(|_, i| !i.is_expired(now));
        Ok((before - invites.len()) as u64)
    }
}
