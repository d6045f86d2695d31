use async_trait::async_trait;
use verity_domain::{InviteToken, Medium, PublicKey, SignedInvite, ThreePid, UserId};

use crate::ports::driven::{BackendError, StoreError};

/// The display details a homeserver may send with `store-invite`, all optional: every string
/// field sydent hands its invite templates (absent ones render empty).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct InviteDetails {
    /// `room_alias`.
    pub room_alias: Option<String>,
    /// `room_avatar_url`.
    pub room_avatar_url: Option<String>,
    /// `room_join_rules`.
    pub room_join_rules: Option<String>,
    /// `room_name`.
    pub room_name: Option<String>,
    /// `room_type` (v1.2+, such as `m.space`).
    pub room_type: Option<String>,
    /// `sender_display_name`.
    pub sender_display_name: Option<String>,
    /// `sender_avatar_url`.
    pub sender_avatar_url: Option<String>,
    /// `guest_user_id` (older homeservers made a guest account for the invitee).
    pub guest_user_id: Option<String>,
    /// `guest_access_token`, that guest account's token: a secret, `Debug` hides it.
    pub guest_access_token: Option<String>,
    /// `org.matrix.web_client_location`: the web client the invite email should link to.
    pub web_client_location: Option<String>,
}

impl std::fmt::Debug for InviteDetails {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InviteDetails")
            .field("room_alias", &self.room_alias)
            .field("room_name", &self.room_name)
            .field("room_type", &self.room_type)
            .field("sender_display_name", &self.sender_display_name)
            .field(
                "guest_access_token",
                &self.guest_access_token.as_ref().map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}

/// `POST /store-invite`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreInvite {
    /// The invited 3PID (only email is supported).
    pub threepid: ThreePid,
    /// The room, as sent (its sigil is not checked: some callers send `$`).
    pub room_id: String,
    /// The inviting user.
    pub sender: UserId,
    /// The owner of the v2 access token; `None` on v1.
    pub requester: Option<UserId>,
    /// What the message may show.
    pub details: InviteDetails,
}

/// What `store-invite` answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteStored {
    /// The invite's token.
    pub token: InviteToken,
    /// The redacted address (or the whole one with `invite.fullDisplayName`).
    pub display_name: String,
    /// The server's long-term public key.
    pub server_key: PublicKey,
    /// Where `server_key`'s validity is checked.
    pub server_key_validity_url: String,
    /// The invite's ephemeral public key.
    pub ephemeral_key: PublicKey,
    /// Where `ephemeral_key`'s validity is checked.
    pub ephemeral_key_validity_url: String,
}

/// `POST /sign-ed25519`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignEd25519 {
    /// The invited user's Matrix ID.
    pub mxid: UserId,
    /// The invite's token.
    pub token: InviteToken,
    /// The invite's ephemeral private key, base64 (as received; a secret).
    pub private_key: String,
}

/// Why an invite operation failed. The HTTP adapter maps each to the spec's errcode.
#[derive(Debug, thiserror::Error)]
pub enum InviteError {
    /// Only email invites are supported, and only when email is configured.
    #[error("invites to {0} addresses are not supported")]
    UnsupportedMedium(Medium),
    /// v2: the access token belongs to another user than `sender`.
    #[error("the access token does not belong to the sender")]
    NotTheSender,
    /// The operator's blocklist (`invite.blocklist.*`) names the room, the sender's homeserver
    /// or a keyword of the invite's text; nothing was stored or sent.
    #[error("invite not allowed")]
    NotAllowed,
    /// The 3PID is already bound: the homeserver should invite that user directly.
    #[error("this 3PID is already bound to a Matrix user")]
    AlreadyBound(UserId),
    /// The invite message could not be sent; nothing was stored.
    #[error("the invite could not be sent")]
    SendFailed {
        /// Whether the provider refused the recipient.
        rejected: bool,
    },
    /// No invite has this token (or it expired).
    #[error("no pending invite has this token")]
    UnknownToken,
    /// `private_key` is not the base64 encoding of an ed25519 seed.
    #[error("private_key is not an unpadded base64 ed25519 private key")]
    InvalidPrivateKey,
    /// `private_key` is a key, but not this invite's.
    #[error("private_key is not the ephemeral key of this invite")]
    WrongPrivateKey,
    /// Signing failed.
    #[error("the object could not be signed")]
    Signing(#[from] verity_domain::SigningError),
    /// A store failed.
    #[error("internal error")]
    Internal(#[from] StoreError),
    /// The identity backends could not say whether the 3PID is bound.
    #[error("an identity backend failed")]
    Backend(#[from] BackendError),
}

/// 3PID room invites (Identity Service API, "Invitation storage", "Ephemeral invitation
/// signing").
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Invites: Send + Sync {
    /// Stores an invite for an unbound address, sends the invite message, and answers the token
    /// and keys the homeserver puts in the room's `m.room.third_party_invite` event.
    async fn store_invite(&self, request: StoreInvite) -> Result<InviteStored, InviteError>;

    /// `{mxid, sender, token}` signed with the invite's ephemeral private key, which the caller
    /// proves it has by sending it.
    async fn sign_ed25519(&self, request: SignEd25519) -> Result<SignedInvite, InviteError>;

    /// Whether `public_key` is exactly the unpadded standard or URL-safe base64 of the ephemeral
    /// key of an invite that is still honoured.
    async fn is_valid_ephemeral(&self, public_key: &str) -> Result<bool, InviteError>;
}
