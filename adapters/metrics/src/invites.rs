//! Invite deliveries (`3pid/onbind`): pending, retried, finished.
use std::sync::Arc;

use async_trait::async_trait;
use verity_application::ports::driven::{InviteStore, StoreError};
use verity_domain::{Delivery, DeliveryState, Invite, InviteToken, PublicKey, ThreePid, Timestamp};

use crate::{Metrics, OutcomeLabels};

/// An [`InviteStore`] that sets `verity_invite_deliveries_pending` to what each delivery pass
/// finds due (at most its batch), counts `verity_invite_delivery_retries` when a failed delivery
/// is scheduled again and `verity_invite_deliveries{outcome}` when one ends. Everything else is
/// passed on unchanged.
pub struct MeteredInviteStore {
    inner: Arc<dyn InviteStore>,
    metrics: Arc<Metrics>,
}

impl MeteredInviteStore {
    /// `inner`, its deliveries counted.
    pub fn new(inner: Arc<dyn InviteStore>, metrics: Arc<Metrics>) -> Self {
        Self { inner, metrics }
    }
}

#[async_trait]
impl InviteStore for MeteredInviteStore {
    async fn insert(&self, invite: &Invite) -> Result<(), StoreError> {
        self.inner.insert(invite).await
    }

    async fn delete(&self, token: &InviteToken) -> Result<(), StoreError> {
        self.inner.delete(token).await
    }

    async fn find(&self, token: &InviteToken) -> Result<Option<Invite>, StoreError> {
        self.inner.find(token).await
    }

    async fn unbound(
        &self,
        threepid: &ThreePid,
        now: Timestamp,
    ) -> Result<Vec<Invite>, StoreError> {
        self.inner.unbound(threepid, now).await
    }

    async fn unbound_page(
        &self,
        now: Timestamp,
        after: Option<InviteToken>,
        limit: u32,
    ) -> Result<Vec<Invite>, StoreError> {
        self.inner.unbound_page(now, after, limit).await
    }

    async fn page(
        &self,
        after: Option<InviteToken>,
        limit: u32,
    ) -> Result<Vec<Invite>, StoreError> {
        self.inner.page(after, limit).await
    }

    async fn expire(&self, token: &InviteToken, at: Timestamp) -> Result<bool, StoreError> {
        self.inner.expire(token, at).await
    }

    async fn ephemeral_key_in_use(
        &self,
        key: &PublicKey,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        self.inner.ephemeral_key_in_use(key, now).await
    }

    async fn imported_ephemeral_key(&self, key: &PublicKey) -> Result<bool, StoreError> {
        self.inner.imported_ephemeral_key(key).await
    }

    async fn record_bind(
        &self,
        token: &InviteToken,
        delivery: &Delivery,
    ) -> Result<bool, StoreError> {
        self.inner.record_bind(token, delivery).await
    }

    async fn due(&self, now: Timestamp, limit: u32) -> Result<Vec<Invite>, StoreError> {
        let due = self.inner.due(now, limit).await?;
        self.metrics
            .invites_pending
            .set(i64::try_from(due.len()).unwrap_or(i64::MAX));
        Ok(due)
    }

    async fn claim(
        &self,
        token: &InviteToken,
        seen: Timestamp,
        until: Timestamp,
    ) -> Result<bool, StoreError> {
        self.inner.claim(token, seen, until).await
    }

    async fn update_delivery(
        &self,
        token: &InviteToken,
        state: DeliveryState,
        attempts: u32,
        next_attempt: Timestamp,
    ) -> Result<(), StoreError> {
        self.inner
            .update_delivery(token, state, attempts, next_attempt)
            .await?;
        match state {
            DeliveryState::Due => self.metrics.invite_retries.inc(),
            DeliveryState::Delivered | DeliveryState::Abandoned => self
                .metrics
                .invite_deliveries
                .get_or_create(&OutcomeLabels {
                    outcome: state.as_str(),
                })
                .inc(),
        };
        Ok(())
    }

    async fn purge_expired(&self, now: Timestamp) -> Result<u64, StoreError> {
        self.inner.purge_expired(now).await
    }
}
