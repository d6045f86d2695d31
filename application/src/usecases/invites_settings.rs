//! What the invite use case is built from: its collaborators and its settings, and what a
//! delivery pass reports.
use std::sync::Arc;
use std::time::Duration;

use verity_domain::PublicKey;

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
}

/// What the invite use case needs from configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteSettings {
    /// `server.name`: the entity `/sign-ed25519` signs as.
    pub server_name: String,
    /// The server's current long-term public key, returned by `store-invite`.
    pub server_key: PublicKey,
    /// The API base the `key_validity_url`s point into (`<server.publicUrl>/_matrix/identity/v2`,
    /// or the v1 base when v2 is off).
    pub key_validity_base: String,
    /// The full `/sign-ed25519` URL put in invite messages (the v1 one when v1 is on: it needs
    /// no access token).
    pub sign_url: String,
    /// `invite.fullDisplayName`: show the whole address instead of a redacted one.
    pub full_display_name: bool,
    /// `invite.expiration.*`: how long an invite is honoured; `None` for ever.
    pub expiry: Option<Duration>,
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
}
