use async_trait::async_trait;
use verity_domain::{Delivery, DeliveryState, Invite, InviteToken, PublicKey, ThreePid, Timestamp};

use super::StoreError;

/// Pending 3PID room invites and the delivery of those whose address was bound.
///
/// Implementations MUST round-trip every field of an [`Invite`] (its delivery included, the
/// signed object exactly), survive restarts (a bound invite not yet delivered is delivered after
/// a restart), and treat an invite whose `expires_at` is at or before `now` as gone for every
/// query that takes `now`.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait InviteStore: Send + Sync {
    /// Stores a new invite.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when the token is taken (the stored invite is kept).
    async fn insert(&self, invite: &Invite) -> Result<(), StoreError>;

    /// Removes an invite (one whose message could not be sent); removing none is not an error.
    async fn delete(&self, token: &InviteToken) -> Result<(), StoreError>;

    /// The invite with this token, expired or not.
    async fn find(&self, token: &InviteToken) -> Result<Option<Invite>, StoreError>;

    /// The invites of `threepid` that are not expired at `now` and whose address was not bound
    /// yet (no delivery), oldest first.
    async fn unbound(&self, threepid: &ThreePid, now: Timestamp)
    -> Result<Vec<Invite>, StoreError>;

    /// At most `limit` invites, of any address, not expired at `now` and not bound yet (no
    /// delivery), in token order after `after` (from the first when `None`): the pages of a walk
    /// through every pending invite.
    async fn unbound_page(
        &self,
        now: Timestamp,
        after: Option<InviteToken>,
        limit: u32,
    ) -> Result<Vec<Invite>, StoreError>;

    /// At most `limit` invites in token order after `after` (from the first when `None`), in any
    /// state, expired or not: every invite the store holds (`verity admin invites list`).
    async fn page(&self, after: Option<InviteToken>, limit: u32)
    -> Result<Vec<Invite>, StoreError>;

    /// Makes the invite expire at `at`, unless it expires earlier; says whether it exists.
    /// An expired invite is gone for every query that takes a time at or after `at`: it is
    /// neither signed on bind nor delivered, and purged with the others.
    async fn expire(&self, token: &InviteToken, at: Timestamp) -> Result<bool, StoreError>;

    /// Whether an invite not expired at `now` has `key` as its ephemeral public key.
    async fn ephemeral_key_in_use(
        &self,
        key: &PublicKey,
        now: Timestamp,
    ) -> Result<bool, StoreError>;

    /// Whether `key` is one of the ephemeral public keys imported apart from their invites
    /// (Sydent's `ephemeral_public_keys`): valid for ever, as Sydent answered, and accepted by
    /// `/sign-ed25519` for an imported invite that has no key of its own.
    async fn imported_ephemeral_key(&self, key: &PublicKey) -> Result<bool, StoreError>;

    /// Records that the invite's address was bound: sets its delivery, only if it has none yet
    /// (two concurrent binds record one). Returns whether it did.
    async fn record_bind(
        &self,
        token: &InviteToken,
        delivery: &Delivery,
    ) -> Result<bool, StoreError>;

    /// At most `limit` invites in [`DeliveryState::Due`] whose next attempt is at or before
    /// `now` and that are not expired, the most overdue first. Only a read: several instances
    /// on one database may all see an invite here; [`claim`](Self::claim) picks the one that
    /// delivers it.
    async fn due(&self, now: Timestamp, limit: u32) -> Result<Vec<Invite>, StoreError>;

    /// Claims a due invite for one delivery attempt: moves its next attempt from `seen` (the
    /// value [`due`](Self::due) read) to `until`, the end of the claim, in one conditional
    /// statement, only if the invite is still in [`DeliveryState::Due`] with its next attempt at
    /// `seen`. Of any number of concurrent claims of one invite (other connections, other
    /// processes), exactly one returns `true`; the others, and any claim after it, return `false`
    /// until `until` has passed and `due` lists the invite again (a claimer that stopped before
    /// recording the attempt leaves nothing else behind). An invite that is gone is `false`.
    async fn claim(
        &self,
        token: &InviteToken,
        seen: Timestamp,
        until: Timestamp,
    ) -> Result<bool, StoreError>;

    /// Sets the delivery state, failed attempts and next attempt of a bound invite; an invite
    /// that is gone (purged meanwhile) is not an error.
    async fn update_delivery(
        &self,
        token: &InviteToken,
        state: DeliveryState,
        attempts: u32,
        next_attempt: Timestamp,
    ) -> Result<(), StoreError>;

    /// Deletes every invite expired at or before `now`; returns how many.
    async fn purge_expired(&self, now: Timestamp) -> Result<u64, StoreError>;
}
