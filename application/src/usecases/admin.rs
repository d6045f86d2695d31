//! What the operator does to a deployment's data with `verity admin`, on the store directly (a
//! running server need not be stopped): read bindings, read, expire and retry invites (ma1sd's
//! `inv_manager`), rotate the lookup pepper, list keys and make a new signing key. Every change is
//! logged with who made it. Removing a binding is the association use case's
//! `unbind_vouched`, so that it does what every unbind does.
use std::sync::Arc;

use async_trait::async_trait;
use verity_domain::{DeliveryState, InviteToken, KeyKind, ThreePid, UserId};

use crate::ports::driven::{
    BindingStore, Clock, HashStore, HashTable, InviteStore, KeyStore, SecretGenerator,
    StoredBinding,
};
use crate::ports::driving::{
    Actor, Admin, AdminError, InviteStatus, InviteView, KeyInfo, PepperRotation,
};

/// Invites read per page when listing them.
const PAGE: u32 = 500;

/// What the admin use case needs from configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdminSettings {
    /// `hashing.enabled`: without it there is no pepper to rotate.
    pub hashing_enabled: bool,
    /// `hashing.pepperLength`.
    pub pepper_length: usize,
}

/// The stores the admin use case works on.
pub struct AdminDeps {
    /// Verity's bindings.
    pub bindings: Arc<dyn BindingStore>,
    /// The 3PID invites.
    pub invites: Arc<dyn InviteStore>,
    /// Where the lookup pepper is published.
    pub hashes: Arc<dyn HashStore>,
    /// The key directory.
    pub keys: Arc<dyn KeyStore>,
    /// Peppers and key seeds.
    pub secrets: Arc<dyn SecretGenerator>,
    /// The time.
    pub clock: Arc<dyn Clock>,
}

/// The admin use case.
pub struct AdminService {
    deps: AdminDeps,
    settings: AdminSettings,
}

impl AdminService {
    /// Wires the use case.
    pub fn new(deps: AdminDeps, settings: AdminSettings) -> Self {
        Self { deps, settings }
    }

    fn view(&self, invite: verity_domain::Invite) -> InviteView {
        let status = InviteStatus::of(&invite, self.deps.clock.now());
        InviteView { invite, status }
    }

    async fn find_invite(&self, token: &InviteToken) -> Result<InviteView, AdminError> {
        let invite = self
            .deps
            .invites
            .find(token)
            .await?
            .ok_or(AdminError::NoSuchInvite)?;
        Ok(self.view(invite))
    }
}

#[async_trait]
impl Admin for AdminService {
    async fn binding(&self, threepid: &ThreePid) -> Result<Option<StoredBinding>, AdminError> {
        Ok(self.deps.bindings.stored(threepid).await?)
    }

    async fn bindings_of(&self, user_id: &UserId) -> Result<Vec<StoredBinding>, AdminError> {
        Ok(self.deps.bindings.of_user(user_id).await?)
    }

    async fn invites(&self) -> Result<Vec<InviteView>, AdminError> {
        let mut all = Vec::new();
        let mut after = None;
        loop {
            let page = self.deps.invites.page(after.take(), PAGE).await?;
            let Some(last) = page.last().map(|invite| invite.token.clone()) else {
                break;
            };
            all.extend(page.into_iter().map(|invite| self.view(invite)));
            after = Some(last);
        }
        Ok(all)
    }

    async fn invite(&self, token: &InviteToken) -> Result<InviteView, AdminError> {
        self.find_invite(token).await
    }

    async fn expire_invite(
        &self,
        token: &InviteToken,
        actor: &Actor,
    ) -> Result<InviteView, AdminError> {
        let now = self.deps.clock.now();
        if !self.deps.invites.expire(token, now).await? {
            return Err(AdminError::NoSuchInvite);
        }
        let view = self.find_invite(token).await?;
        tracing::info!(
            %actor,
            token = token.as_str(),
            medium = %view.invite.threepid.medium(),
            address = view.invite.threepid.address(),
            room_id = view.invite.room_id,
            "invite expired by the operator"
        );
        Ok(view)
    }

    async fn retry_invite(
        &self,
        token: &InviteToken,
        actor: &Actor,
    ) -> Result<InviteView, AdminError> {
        let view = self.find_invite(token).await?;
        match view.status {
            InviteStatus::Pending => return Err(AdminError::NotBound),
            InviteStatus::Delivered => return Err(AdminError::AlreadyDelivered),
            InviteStatus::Expired => return Err(AdminError::Expired),
            InviteStatus::Due { .. } | InviteStatus::Abandoned => {}
        }
        let now = self.deps.clock.now();
        self.deps
            .invites
            .update_delivery(token, DeliveryState::Due, 0, now)
            .await?;
        tracing::info!(
            %actor,
            token = token.as_str(),
            was = view.status.name(),
            "invite delivery made due now by the operator"
        );
        self.find_invite(token).await
    }

    async fn rotate_pepper(&self, actor: &Actor) -> Result<PepperRotation, AdminError> {
        if !self.settings.hashing_enabled {
            return Err(AdminError::HashingOff);
        }
        let previous = self.deps.hashes.published().await?;
        let pepper = loop {
            let pepper = self.deps.secrets.pepper(self.settings.pepper_length);
            if previous.as_ref().is_none_or(|p| p.pepper != pepper) {
                break pepper;
            }
        };
        // Above the published generation and the time, as the hash index numbers its tables.
        let next = previous
            .as_ref()
            .map_or(0, |p| p.generation.saturating_add(1));
        let generation = next.max(self.deps.clock.now().as_millis());
        let table = HashTable {
            pepper: pepper.clone(),
            generation,
        };
        self.deps.hashes.publish(&table).await?;
        tracing::info!(
            %actor,
            generation,
            previous_generation = previous.as_ref().map(|p| p.generation),
            "lookup pepper rotated by the operator; running servers follow it"
        );
        Ok(PepperRotation {
            previous: previous.map(|p| p.pepper),
            pepper,
            generation,
        })
    }

    async fn keys(&self) -> Result<Vec<KeyInfo>, AdminError> {
        let current = self.deps.keys.current().await?;
        Ok(self
            .deps
            .keys
            .keys(KeyKind::Regular)
            .await?
            .into_iter()
            .map(|stored| KeyInfo {
                current: current.as_ref() == Some(stored.key.id()),
                id: stored.key.id().clone(),
                public_key: stored.key.public_key(),
                valid: stored.valid,
            })
            .collect())
    }

    async fn new_signing_key(&self, actor: &Actor) -> Result<KeyInfo, AdminError> {
        let previous = self.deps.keys.current().await?;
        let stored = super::keys::generate(
            self.deps.keys.as_ref(),
            self.deps.secrets.as_ref(),
            self.deps.clock.as_ref(),
        )
        .await
        .map_err(|error| match error {
            crate::usecases::KeyStartError::Store(error) => AdminError::Store(error),
            _ => AdminError::NoFreeKeyIdentifier,
        })?;
        self.deps.keys.set_current(stored.key.id()).await?;
        tracing::info!(
            %actor,
            key_id = %stored.key.id(),
            public_key = %stored.key.public_key().to_base64(),
            previous = previous.as_ref().map(ToString::to_string),
            "new signing key made by the operator; servers sign with it from their next start"
        );
        Ok(KeyInfo {
            id: stored.key.id().clone(),
            public_key: stored.key.public_key(),
            valid: true,
            current: true,
        })
    }
}

#[cfg(test)]
#[path = "admin_tests.rs"]
mod tests;
