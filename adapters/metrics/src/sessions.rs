//! Validation sessions created and validated.
use std::sync::Arc;

use async_trait::async_trait;
use verity_application::ports::driven::{Change, Counted, SessionStore, StoreError};
use verity_domain::{
    ClientSecret, Medium, RemoteSession, SendAttempt, SessionId, ThreePid, Timestamp, UserId,
    ValidationSession, ValidationToken,
};

use crate::{MediumLabels, Metrics};

/// A [`SessionStore`] that counts `verity_sessions_created{medium}` when a session is stored and
/// `verity_sessions_validated` when a submission validates one (by its code, or by the local
/// step of a session forced to a remote server). Everything else is passed on unchanged.
pub struct MeteredSessionStore {
    inner: Arc<dyn SessionStore>,
    metrics: Arc<Metrics>,
}

impl MeteredSessionStore {
    /// `inner`, its sessions counted.
    pub fn new(inner: Arc<dyn SessionStore>, metrics: Arc<Metrics>) -> Self {
        Self { inner, metrics }
    }
}

#[async_trait]
impl SessionStore for MeteredSessionStore {
    async fn insert(&self, session: &ValidationSession) -> Result<(), StoreError> {
        self.inner.insert(session).await?;
        // A fixed set of values: another medium is `other`, never its name.
        let medium = match session.threepid().medium() {
            Medium::Email => "email",
            Medium::Msisdn => "msisdn",
            Medium::Other(_) => "other",
        };
        self.metrics
            .sessions_created
            .get_or_create(&MediumLabels { medium })
            .inc();
        Ok(())
    }

    async fn find(&self, id: &SessionId) -> Result<Option<ValidationSession>, StoreError> {
        self.inner.find(id).await
    }

    async fn find_latest(
        &self,
        threepid: &ThreePid,
        client_secret: &ClientSecret,
    ) -> Result<Option<ValidationSession>, StoreError> {
        self.inner.find_latest(threepid, client_secret).await
    }

    async fn count_token_attempt(&self, id: &SessionId) -> Result<Option<u32>, StoreError> {
        self.inner.count_token_attempt(id).await
    }

    async fn count_and_validate(
        &self,
        id: &SessionId,
        token: &ValidationToken,
        cap: u32,
        at: Timestamp,
    ) -> Result<Counted, StoreError> {
        let counted = self.inner.count_and_validate(id, token, cap, at).await?;
        if let Counted::Validated { .. } = counted {
            self.metrics.sessions_validated.inc();
        }
        Ok(counted)
    }

    async fn record_resend(
        &self,
        id: &SessionId,
        attempt: SendAttempt,
    ) -> Result<Change, StoreError> {
        self.inner.record_resend(id, attempt).await
    }

    async fn mark_validated<'a>(
        &self,
        id: &SessionId,
        token: &ValidationToken,
        at: Timestamp,
        remote: Option<&'a RemoteSession>,
    ) -> Result<Change, StoreError> {
        let change = self.inner.mark_validated(id, token, at, remote).await?;
        if change == Change::Applied {
            self.metrics.sessions_validated.inc();
        }
        Ok(change)
    }

    async fn record_remote_start(
        &self,
        id: &SessionId,
        previous: Option<SendAttempt>,
        remote: &RemoteSession,
    ) -> Result<Change, StoreError> {
        self.inner.record_remote_start(id, previous, remote).await
    }

    async fn mark_remote_validated(
        &self,
        id: &SessionId,
        remote_sid: &SessionId,
        at: Timestamp,
    ) -> Result<Change, StoreError> {
        self.inner.mark_remote_validated(id, remote_sid, at).await
    }

    async fn record_local_bind(&self, id: &SessionId, user: &UserId) -> Result<Change, StoreError> {
        self.inner.record_local_bind(id, user).await
    }

    async fn forget_local_bind(&self, id: &SessionId, user: &UserId) -> Result<Change, StoreError> {
        self.inner.forget_local_bind(id, user).await
    }

    async fn purge_modified_before(&self, cutoff: Timestamp) -> Result<u64, StoreError> {
        self.inner.purge_modified_before(cutoff).await
    }
}
