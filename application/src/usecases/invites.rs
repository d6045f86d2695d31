//! 3PID room invites: storing an invite for an unbound address and telling its owner, signing
//! with the invite's ephemeral key for clients without cryptography, and, once the address is
//! bound, signing the invites for the bound user and delivering them to that user's homeserver
//! (`3pid/onbind`) with retries until they are accepted or expire.
use async_trait::async_trait;
use verity_domain::{
    BoundInvite, Delivery, DeliveryState, Invite, KeyId, MAX_ROOM_NAME_CHARS,
    MAX_SENDER_DISPLAY_NAME_CHARS, Medium, PublicKey, SignedInvite, SigningKey, ThreePid, UserId,
    invite_display_name, invite_expiry, truncate_display,
};

use super::backends::OnFailure;
use super::sender_roles::SenderRoleCheck;
use crate::ports::driven::{InviteNotice, NotifyError, PendingInvites, StoreError};
use crate::ports::driving::{InviteError, InviteStored, Invites, SignEd25519, StoreInvite};

/// Invites delivered per pass of [`InviteService::deliver_due`].
const DELIVERY_BATCH: u32 = 100;

/// How long a claim on an invite's delivery lasts unless the wiring says otherwise
/// ([`InviteService::with_delivery_lease`]): four times the default homeserver timeout.
pub const DEFAULT_DELIVERY_LEASE: std::time::Duration = std::time::Duration::from_secs(40);

#[path = "invites_settings.rs"]
mod settings;

#[path = "invites_policy.rs"]
mod policy;

#[path = "invites_recover.rs"]
mod recover;

#[path = "invites_delivery.rs"]
mod delivery;
pub use settings::{DeliveryReport, DeliveryWake, InviteDeps, InviteSettings};

/// The invite use case.
pub struct InviteService {
    deps: InviteDeps,
    settings: InviteSettings,
    wake: Option<DeliveryWake>,
    /// `invite.policy.ifSender.hasRole`, when roles are required.
    sender_roles: Option<SenderRoleCheck>,
    lease: std::time::Duration,
}

impl InviteService {
    /// Wires the use case over its collaborators and settings.
    pub fn new(deps: InviteDeps, settings: InviteSettings) -> Self {
        Self {
            deps,
            settings,
            wake: None,
            sender_roles: None,
            lease: DEFAULT_DELIVERY_LEASE,
        }
    }

    /// Refuses `store-invite` for a sender holding none of the roles `check` requires (nothing
    /// when it requires none): the invite policy applied however the homeserver came to ask
    /// (`rooms/{roomId}/invite` on any path, `createRoom`'s `invite_3pid`).
    #[must_use]
    pub fn with_sender_roles(mut self, check: SenderRoleCheck) -> Self {
        self.sender_roles = check.is_required().then_some(check);
        self
    }

    /// How long an instance's claim on a delivery lasts ([`InviteStore::claim`]): longer than
    /// one onbind call can take (discovery and the call itself, each bounded by the homeserver
    /// timeout), since another instance may deliver the invite again once it has passed; and
    /// the longest a crashed instance's claim delays the delivery.
    ///
    /// [`InviteStore::claim`]: crate::ports::driven::InviteStore::claim
    #[must_use]
    pub fn with_delivery_lease(mut self, lease: std::time::Duration) -> Self {
        self.lease = lease;
        self
    }

    /// Calls `wake` whenever a bind queued deliveries, so they go out at once instead of at the
    /// worker's next tick.
    #[must_use]
    pub fn with_wake(mut self, wake: DeliveryWake) -> Self {
        self.wake = Some(wake);
        self
    }

    /// After `threepid` was bound to `mxid`: signs `{mxid, token}` for every pending invite of
    /// the address, records the bind (so delivery survives a restart), wakes the delivery worker
    /// and returns the invites as the bind's `invites` (sydent's shape). Never waits on a
    /// homeserver.
    ///
    /// # Errors
    /// A store or signing failure; invites recorded before it stay queued.
    pub async fn on_bind(
        &self,
        threepid: &ThreePid,
        mxid: &UserId,
    ) -> Result<Vec<BoundInvite>, InviteError> {
        let now = self.deps.clock.now();
        let pending = self.deps.store.unbound(threepid, now).await?;
        let mut entries = Vec::with_capacity(pending.len());
        for invite in pending {
            let signed =
                invite.signed_by(mxid, self.deps.signer.sign(&invite.signed_object(mxid))?)?;
            let entry = invite.onbind_entry(mxid, &signed);
            let delivery = Delivery {
                mxid: mxid.clone(),
                signed,
                state: DeliveryState::Due,
                attempts: 0,
                next_attempt: now,
            };
            if self
                .deps
                .store
                .record_bind(&invite.token, &delivery)
                .await?
            {
                entries.push(entry);
            }
        }
        if !entries.is_empty() {
            tracing::info!(
                count = entries.len(),
                "pending invites signed; delivery queued"
            );
            if let Some(wake) = &self.wake {
                wake();
            }
        }
        Ok(entries)
    }

    /// Deletes expired invites; returns how many.
    ///
    /// # Errors
    /// A store failure.
    pub async fn purge_expired(&self) -> Result<u64, StoreError> {
        self.deps.store.purge_expired(self.deps.clock.now()).await
    }

    /// The message and its sending; on failure the invite is removed again.
    async fn notify(
        &self,
        invite: &Invite,
        request: &StoreInvite,
        seed: &SigningKey,
    ) -> Result<(), InviteError> {
        let handler = self
            .deps
            .notifier
            .handler(&Medium::Email)
            .ok_or(InviteError::UnsupportedMedium(Medium::Email))?;
        let private_key = seed.seed_base64().replace('+', "-").replace('/', "_");
        let sign_url = format!(
            "{}?token={}&private_key={}",
            self.settings.sign_url,
            invite.token.as_str(),
            private_key
        );
        let mut details = request.details.clone();
        details.sender_display_name = details
            .sender_display_name
            .map(|name| truncate_display(&name, MAX_SENDER_DISPLAY_NAME_CHARS));
        details.room_name = details
            .room_name
            .map(|name| truncate_display(&name, MAX_ROOM_NAME_CHARS));
        let notice = InviteNotice {
            threepid: invite.threepid.clone(),
            sender: invite.sender.clone(),
            room_id: invite.room_id.clone(),
            details,
            token: invite.token.clone(),
            ephemeral_private_key: private_key,
            sign_url,
        };
        let sent = match handler.generator.invite(&notice) {
            Ok(message) => handler.connector.send(&message).await,
            Err(error) => Err(error),
        };
        sent.map_err(|error| {
            tracing::warn!(error = %error, "the invite message could not be sent");
            InviteError::SendFailed {
                rejected: matches!(error, NotifyError::Rejected(_)),
            }
        })
    }
}

#[async_trait]
impl Invites for InviteService {
    async fn store_invite(&self, request: StoreInvite) -> Result<InviteStored, InviteError> {
        // v2 (sydent): a token invites on behalf of its own user only.
        if request
            .requester
            .as_ref()
            .is_some_and(|requester| requester != &request.sender)
        {
            return Err(InviteError::NotTheSender);
        }
        if let Some(refusal) = policy::refusal(&self.settings.blocklist, &request) {
            // What matched, not the text: it may be an address or a spammer's payload.
            tracing::info!(?refusal, room_id = %request.room_id, sender = %request.sender, "invite refused by invite.blocklist");
            return Err(InviteError::NotAllowed);
        }
        if let Some(roles) = &self.sender_roles
            && !roles.permits(&request.sender).await?
        {
            tracing::info!(room_id = %request.room_id, sender = %request.sender, "invite refused by invite.policy.ifSender.hasRole");
            return Err(InviteError::NotAllowed);
        }
        let medium = request.threepid.medium();
        if medium != Medium::Email || self.deps.notifier.handler(&medium).is_none() {
            return Err(InviteError::UnsupportedMedium(medium));
        }
        if let Some(mxid) = self
            .deps
            .backends
            .lookup(&request.threepid, OnFailure::Skip)
            .await?
        {
            return Err(InviteError::AlreadyBound(mxid));
        }
        let now = self.deps.clock.now();
        let ephemeral = SigningKey::from_seed(KeyId::ephemeral(), &self.deps.secrets.key_seed());
        let invite = Invite {
            token: self.deps.secrets.invite_token(),
            threepid: request.threepid.clone(),
            room_id: request.room_id.clone(),
            sender: request.sender.clone(),
            ephemeral_key: Some(ephemeral.public_key()),
            created_at: now,
            expires_at: invite_expiry(now, self.settings.expiry),
            delivery: None,
        };
        self.deps.store.insert(&invite).await?;
        if let Err(error) = self.notify(&invite, &request, &ephemeral).await {
            if let Err(cleanup) = self.deps.store.delete(&invite.token).await {
                tracing::warn!(error = %cleanup, "removing an unsent invite failed");
            }
            return Err(error);
        }
        tracing::info!(room_id = %invite.room_id, sender = %invite.sender, "invite stored and sent");
        let base = &self.settings.key_validity_base;
        Ok(InviteStored {
            display_name: invite_display_name(&invite.threepid, self.settings.full_display_name),
            token: invite.token,
            server_key: self.deps.server_key,
            server_key_validity_url: format!("{base}/pubkey/isvalid"),
            ephemeral_key: ephemeral.public_key(),
            ephemeral_key_validity_url: format!("{base}/pubkey/ephemeral/isvalid"),
        })
    }

    async fn sign_ed25519(&self, request: SignEd25519) -> Result<SignedInvite, InviteError> {
        let now = self.deps.clock.now();
        let invite = self
            .deps
            .store
            .find(&request.token)
            .await?
            .filter(|invite| !invite.is_expired(now))
            .ok_or(InviteError::UnknownToken)?;
        let key = SigningKey::from_base64_seed(KeyId::ephemeral(), &request.private_key)
            .map_err(|_| InviteError::InvalidPrivateKey)?;
        // Stronger than sydent, which signed with whatever key it was given: only the invite's
        // own key may sign for it; for an invite imported without its key (Sydent did not link
        // them), one of the imported ephemeral keys.
        let allowed = match &invite.ephemeral_key {
            Some(own) => &key.public_key() == own,
            None => {
                self.deps
                    .store
                    .imported_ephemeral_key(&key.public_key())
                    .await?
            }
        };
        if !allowed {
            return Err(InviteError::WrongPrivateKey);
        }
        Ok(SignedInvite::sign(
            &request.mxid,
            &invite.sender,
            &invite.token,
            &self.settings.server_name,
            &key,
        )?)
    }

    async fn is_valid_ephemeral(&self, public_key: &str) -> Result<bool, InviteError> {
        let Ok(key) = PublicKey::parse(public_key) else {
            return Ok(false);
        };
        // The exact published spelling only, as for the long-term keys.
        if !key.is_encoded_as(public_key) {
            return Ok(false);
        }
        // An ephemeral key imported from Sydent stays valid for ever, as Sydent answered.
        Ok(self
            .deps
            .store
            .ephemeral_key_in_use(&key, self.deps.clock.now())
            .await?
            || self.deps.store.imported_ephemeral_key(&key).await?)
    }
}

/// What a bind sees of the invites: the composition root hands this use case to the association
/// use case behind the port.
#[async_trait]
impl PendingInvites for InviteService {
    async fn on_bind(
        &self,
        threepid: &ThreePid,
        user_id: &UserId,
    ) -> Result<Vec<BoundInvite>, InviteError> {
        InviteService::on_bind(self, threepid, user_id).await
    }
}

#[cfg(test)]
#[path = "invites_tests.rs"]
mod tests;
