//! Third-party (3PID) room invites (Identity Service API, "Invitation storage" and "Ephemeral
//! invitation signing"; Server-Server API, `3pid/onbind`): the invite token, the redacted name a
//! room shows for the invitee, the stored invite and its delivery, and the JSON objects the
//! identity server signs and sends once the invited address is bound.
//!
//! Everything here is pure: tokens and keys arrive already generated, time as a [`Timestamp`].
use std::fmt;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::{JsonObject, PublicKey, SignedJson, ThreePid, Timestamp, UserId};

/// Length of the tokens Verity makes, as sydent (128 letters).
pub const INVITE_TOKEN_LENGTH: usize = 128;

/// Longest `sender_display_name` kept, in characters, as sydent (longer ones are cut).
pub const MAX_SENDER_DISPLAY_NAME_CHARS: usize = 20;
/// Longest `room_name` kept, in characters, as sydent.
pub const MAX_ROOM_NAME_CHARS: usize = 30;
/// How many characters of the local part and of the domain the redacted name keeps (sydent's
/// default `username_obfuscate_characters` / `domain_obfuscate_characters`).
const REVEALED_CHARS: usize = 3;

/// The first retry waits this long; each further failure doubles the wait.
pub const FIRST_RETRY_DELAY: Duration = Duration::from_secs(1);
/// The longest wait between two delivery attempts.
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(60 * 60);

/// Why an invite token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the invite token must be 1 to 255 characters of [0-9a-zA-Z.=_-]")]
pub struct InvalidInviteToken;

/// The token of a 3PID invite: the `state_key` of the room's `m.room.third_party_invite` event,
/// and what `/sign-ed25519` and the `signed` object name the invite by. Not a secret on its own
/// (it is in the room state); `/sign-ed25519` also needs the ephemeral private key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InviteToken(String);

impl InviteToken {
    /// Checks the spec's charset `[0-9a-zA-Z.=_-]` and length 1 to 255.
    ///
    /// # Errors
    /// [`InvalidInviteToken`].
    pub fn parse(raw: &str) -> Result<Self, InvalidInviteToken> {
        let valid = (1..=255).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".=_-".contains(&b));
        if valid {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidInviteToken)
        }
    }

    /// Whether `value` has the shape of a token Verity generates: [`INVITE_TOKEN_LENGTH`] ASCII
    /// letters (used to check what a secret generator produced).
    pub fn is_generated_shape(value: &str) -> bool {
        value.len() == INVITE_TOKEN_LENGTH && value.bytes().all(|b| b.is_ascii_alphabetic())
    }

    /// A fresh token of [`INVITE_TOKEN_LENGTH`] letters, each picked by `pick(n)`, a uniform
    /// random index below `n` from the caller's CSPRNG. Valid by construction: it cannot fail.
    pub fn generate(mut pick: impl FnMut(usize) -> usize) -> Self {
        Self(crate::secrets::random_letters(
            INVITE_TOKEN_LENGTH,
            &mut pick,
        ))
    }

    /// The token.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for InviteToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The name a room shows for the invitee before they join (`display_name`), which must not
/// reveal the address: sydent's redaction, the first three characters of the local part and of
/// the domain followed by `...` (`ginger@example.com` -> `gin...@exa...`). `full` keeps the
/// address whole, as mxisd's `invite.fullDisplayName: true`.
pub fn invite_display_name(threepid: &ThreePid, full: bool) -> String {
    let address = threepid.address();
    if full {
        return address.to_owned();
    }
    match address.rsplit_once('@') {
        Some((local, domain)) => format!("{}@{}", redact(local), redact(domain)),
        None => redact(address),
    }
}

/// The first [`REVEALED_CHARS`] characters and `...`; for a part that short, its first character
/// only, and for a single character nothing (so a short part is never shown whole), as sydent.
fn redact(part: &str) -> String {
    let count = part.chars().count();
    let shown = if count > REVEALED_CHARS {
        REVEALED_CHARS
    } else if count > 1 {
        1
    } else {
        0
    };
    let mut out: String = part.chars().take(shown).collect();
    out.push_str("...");
    out
}

/// `value` cut to `max_chars` characters with `...` appended, as sydent cuts the display strings
/// of an invite (`sender_display_name`, `room_name`); shorter values are kept.
pub fn truncate_display(value: &str, max_chars: usize) -> String {
    if value.chars().count() <= max_chars {
        return value.to_owned();
    }
    let mut out: String = value.chars().take(max_chars).collect();
    out.push_str("...");
    out
}

/// Where an invite is in its life after the invited address was bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    /// The onbind call has not succeeded yet: it is tried again at `next_attempt`.
    Due,
    /// The homeserver accepted the onbind call.
    Delivered,
    /// The destination can never be reached (an invalid server name): no more attempts.
    Abandoned,
}

impl DeliveryState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Due => "due",
            Self::Delivered => "delivered",
            Self::Abandoned => "abandoned",
        }
    }

    /// The state a stored name stands for.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "due" => Some(Self::Due),
            "delivered" => Some(Self::Delivered),
            "abandoned" => Some(Self::Abandoned),
            _ => None,
        }
    }
}

/// What happened to an invite since its address was bound.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// The user the address was bound to.
    pub mxid: UserId,
    /// The signed `{mxid, token, signatures}` object, exactly as the bind answered it.
    pub signed: SignedJson,
    /// Delivery state.
    pub state: DeliveryState,
    /// Failed attempts so far.
    pub attempts: u32,
    /// When the next attempt is due (for [`DeliveryState::Due`]).
    pub next_attempt: Timestamp,
}

/// A stored 3PID invite.
#[derive(Debug, Clone, PartialEq)]
pub struct Invite {
    /// The invite's token.
    pub token: InviteToken,
    /// The invited address (canonical).
    pub threepid: ThreePid,
    /// The room, as the homeserver sent it (not checked for its sigil: some callers send `$`).
    pub room_id: String,
    /// The inviting user.
    pub sender: UserId,
    /// The public half of the invite's ephemeral key (its private half is only in the message
    /// sent to the invitee). Every invite made here has one; `None` for an invite imported
    /// from a server that did not link the invite to its key (Sydent keeps its ephemeral keys
    /// apart): any imported ephemeral key then signs for it.
    pub ephemeral_key: Option<PublicKey>,
    /// When it was stored.
    pub created_at: Timestamp,
    /// When it stops being honoured; `None` when invites never expire.
    pub expires_at: Option<Timestamp>,
    /// Set once the address was bound.
    pub delivery: Option<Delivery>,
}

impl Invite {
    /// Whether the invite is past its expiry at `now`.
    pub fn is_expired(&self, now: Timestamp) -> bool {
        self.expires_at.is_some_and(|expiry| expiry <= now)
    }

    /// The object the identity server signs when the address is bound to `mxid`: `{mxid, token}`
    /// (Identity Service API, "Invitation storage": the `signed` object).
    pub fn signed_object(&self, mxid: &UserId) -> JsonObject {
        let mut members = Map::new();
        members.insert("mxid".to_owned(), Value::from(mxid.as_str()));
        members.insert("token".to_owned(), Value::from(self.token.as_str()));
        JsonObject::from_map(members)
    }
}

/// The object `/sign-ed25519` signs with the invite's ephemeral key: `{mxid, sender, token}`.
pub fn ephemeral_signed_object(mxid: &UserId, sender: &UserId, token: &InviteToken) -> JsonObject {
    let mut members = Map::new();
    members.insert("mxid".to_owned(), Value::from(mxid.as_str()));
    members.insert("sender".to_owned(), Value::from(sender.as_str()));
    members.insert("token".to_owned(), Value::from(token.as_str()));
    JsonObject::from_map(members)
}

/// When an invite stored at `created_at` expires: `after` later, or never (`None`).
pub fn invite_expiry(created_at: Timestamp, after: Option<Duration>) -> Option<Timestamp> {
    after.map(|after| created_at.saturating_add(after))
}

/// How long to wait after the `attempts`-th failed delivery (1 for the first failure):
/// [`FIRST_RETRY_DELAY`] doubled for each further failure (2^n seconds, as sydent), at most
/// [`MAX_RETRY_DELAY`].
pub fn retry_delay(attempts: u32) -> Duration {
    let doublings = attempts.saturating_sub(1).min(31);
    FIRST_RETRY_DELAY
        .saturating_mul(1u32 << doublings)
        .min(MAX_RETRY_DELAY)
}

#[cfg(test)]
#[path = "invite_tests.rs"]
mod tests;
