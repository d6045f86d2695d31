use async_trait::async_trait;
use verity_domain::{
    DeliveryState, Invite, InviteToken, KeyId, Pepper, PublicKey, ThreePid, Timestamp, UserId,
};

use crate::ports::driven::{StoreError, StoredBinding};
use crate::ports::driving::Actor;

/// Where an invite stands, as the operator sees it (`verity admin invites`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InviteStatus {
    /// Its address is not bound yet: waiting for a bind (or its expiry).
    Pending,
    /// Bound; the delivery to the homeserver (`3pid/onbind`) is due at `next_attempt` after
    /// `attempts` failed ones.
    Due {
        /// Failed attempts so far.
        attempts: u32,
        /// When the next one is made.
        next_attempt: Timestamp,
    },
    /// Bound and delivered.
    Delivered,
    /// Bound, and the homeserver can never be reached (an invalid server name).
    Abandoned,
    /// Past its expiry: neither signed on bind nor delivered; purged soon.
    Expired,
}

impl InviteStatus {
    /// The status of `invite` at `now`.
    pub fn of(invite: &Invite, now: Timestamp) -> Self {
        if invite.is_expired(now) {
            return Self::Expired;
        }
        match &invite.delivery {
            None => Self::Pending,
            Some(delivery) => match delivery.state {
                DeliveryState::Due => Self::Due {
                    attempts: delivery.attempts,
                    next_attempt: delivery.next_attempt,
                },
                DeliveryState::Delivered => Self::Delivered,
                DeliveryState::Abandoned => Self::Abandoned,
            },
        }
    }

    /// A one-word name (`pending`, `due`, `delivered`, `abandoned`, `expired`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Due { .. } => "due",
            Self::Delivered => "delivered",
            Self::Abandoned => "abandoned",
            Self::Expired => "expired",
        }
    }
}

/// An invite and its status when it was read.
#[derive(Debug, Clone, PartialEq)]
pub struct InviteView {
    /// The invite as stored.
    pub invite: Invite,
    /// Its status.
    pub status: InviteStatus,
}

/// A long-term key of the key store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    /// Its identifier (`ed25519:<serial>`).
    pub id: KeyId,
    /// Its public half, as `/pubkey/{keyId}` answers it.
    pub public_key: PublicKey,
    /// Whether it is still honoured (`/pubkey/isvalid`).
    pub valid: bool,
    /// Whether it is the key that signs (the key store's `current`).
    pub current: bool,
}

/// A pepper rotation made in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PepperRotation {
    /// The pepper published before, if any.
    pub previous: Option<Pepper>,
    /// The pepper now published.
    pub pepper: Pepper,
    /// Its table's generation.
    pub generation: u64,
}

/// Why an operator's command failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// No invite has this token.
    #[error("no invite has this token")]
    NoSuchInvite,
    /// Retrying an invite whose address was not bound: there is nothing to deliver yet.
    #[error(
        "the invite's address is not bound yet: there is nothing to deliver (it is delivered \
         when the address is bound)"
    )]
    NotBound,
    /// Retrying an invite the homeserver accepted already.
    #[error("the invite was delivered already")]
    AlreadyDelivered,
    /// Retrying an expired invite.
    #[error("the invite has expired")]
    Expired,
    /// Rotating the pepper while hashed lookups are off.
    #[error("hashed lookups are off (hashing.enabled: false): there is no pepper to rotate")]
    HashingOff,
    /// Every identifier tried for a new key was taken.
    #[error("could not find a free identifier for a new key")]
    NoFreeKeyIdentifier,
    /// The store or the key store failed.
    #[error("the store failed: {0}")]
    Store(#[from] StoreError),
}

/// What the operator does to a running deployment's data (`verity admin`). Removing a binding
/// is the association use case's [`unbind_vouched`](super::Association::unbind_vouched), so it
/// does what every unbind does.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Admin: Send + Sync {
    /// The binding of `threepid` in Verity's binding store, if any.
    async fn binding(&self, threepid: &ThreePid) -> Result<Option<StoredBinding>, AdminError>;

    /// Every binding to `user_id` in Verity's binding store.
    async fn bindings_of(&self, user_id: &UserId) -> Result<Vec<StoredBinding>, AdminError>;

    /// Every stored invite, expired ones included, in token order.
    async fn invites(&self) -> Result<Vec<InviteView>, AdminError>;

    /// The invite with this token.
    async fn invite(&self, token: &InviteToken) -> Result<InviteView, AdminError>;

    /// Makes the invite expire now (ma1sd's `revoke`): it is neither signed on bind nor
    /// delivered any more. Expiring an expired invite changes nothing.
    async fn expire_invite(
        &self,
        token: &InviteToken,
        actor: &Actor,
    ) -> Result<InviteView, AdminError>;

    /// Makes the delivery of a bound invite due now with no failed attempt (a running server
    /// delivers it within a second), also one that was abandoned.
    async fn retry_invite(
        &self,
        token: &InviteToken,
        actor: &Actor,
    ) -> Result<InviteView, AdminError>;

    /// Publishes a new lookup pepper in the store; running servers follow it (each builds its
    /// table and swaps both in), a stopped one uses it from its next start.
    async fn rotate_pepper(&self, actor: &Actor) -> Result<PepperRotation, AdminError>;

    /// Every long-term key, valid or not, in identifier order.
    async fn keys(&self) -> Result<Vec<KeyInfo>, AdminError>;

    /// Makes a new long-term key and records it as the one that signs; every other key stays
    /// as it was (valid keys keep verifying).
    async fn new_signing_key(&self, actor: &Actor) -> Result<KeyInfo, AdminError>;
}
