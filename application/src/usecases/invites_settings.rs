//! What the invite use case is built from: its collaborators and its settings, and what a
//! delivery pass reports.
use std::sync::Arc;
use std::time::Duration;

use verity_domain::{InviteBlocklist, PublicKey};

use super::super::backends::Backends;
use super::super::notifier::Notifier;
use crate::ports::driven::{Clock, HomeserverClient, InviteStore, SecretGenerator, Signer};

/// The invite use case's collaborators.
pub struct InviteDeps {
    /// Where invites and their deliveries are kept.
    pub store: Arc<dyn InviteStore>,
    /// Answer whether an address is already bound.
    pub backends: Backends,
    /// Sends the invite messages.
    pub notifier: Notifier,
    /// Signs the invites of a bound address as this server.
    pub signer: Arc<dyn Signer>,
    /// Delivers bound invites (`3pid/onbind`).
    pub homeserver: Arc<dyn HomeserverClient>,
    /// Now, for expiry and retries.
    pub clock: Arc<dyn Clock>,
    /// Invite tokens and ephemeral keys.
    pub secrets: Arc<dyn SecretGenerator>,
    /// The server's long-term public key (the key store's current one, read at start-up),
    /// returned by `store-invite`.
    pub server_key: PublicKey,
}

/// What the invite use case needs from configuration: `invite.*`, and the names and URLs that
/// `server.*` and `matrix.v1`/`v2` make of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteSettings {
    /// `server.name`: the entity `/sign-ed25519` signs as.
    pub server_name: String,
    /// The API base the `key_validity_url`s point into (`<server.publicUrl>/_matrix/identity/v2`,
    /// or the v1 base when v2 is off).
    pub key_validity_base: String,
    /// The full `/sign-ed25519` URL put in invite messages (the v1 one when v1 is on: it needs
    /// no access token).
    pub sign_url: String,
    /// `invite.fullDisplayName` (default false): the room shows the whole address instead of
    /// a redacted one.
    pub full_display_name: bool,
    /// `invite.expiration.enabled` (default true) and `.after` (minutes, default 10080 = 7
    /// days): how long an invite is honoured and its delivery retried; `None`: for ever.
    pub expiry: Option<Duration>,
    /// `invite.blocklist.keywords`, `.rooms`, `.homeservers` (Verity only; Sydent's
    /// `email.third_party_invite_*_blocklist`): invites refused with
    /// [`InviteError::NotAllowed`](crate::ports::driving::InviteError::NotAllowed) before
    /// anything is stored or sent.
    pub blocklist: InviteBlocklist,
}

/// Wakes the delivery worker after a bind queued deliveries.
pub type DeliveryWake = Arc<dyn Fn() + Send + Sync>;

/// What one delivery pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Invites the homeservers accepted.
    pub delivered: usize,
    /// Invites that failed and will be tried again.
    pub failed: usize,
    /// Invites given up for good (the bound user's server name is invalid).
    pub abandoned: usize,
    /// Due invites left alone because another delivery (another instance on the database)
    /// claimed them first.
    pub claimed_elsewhere: usize,
}
