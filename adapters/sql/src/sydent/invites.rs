//! Sydent's pending invites and ephemeral public keys.
//!
//! - **Invites** are `invite_tokens` rows whose `sent_ts` is NULL: Sydent sets `sent_ts` on
//!   every invite of an address when that address is bound (it signs them into the bind's
//!   answer and its `3pid/onbind` call at that moment), so a row with `sent_ts` was handed to a
//!   homeserver already and is skipped (counted in [`SourceCounts::delivered_invites`]). The
//!   position is the row's `id`; `received_ts` is in seconds. Sydent never expires invites.
//! - **Ephemeral public keys** are `ephemeral_public_keys` rows (unpadded URL-safe base64, as
//!   Sydent made them): Sydent does not link them to their invite, and its
//!   `/pubkey/ephemeral/isvalid` answers `valid: true` for every one of them for ever.
//!
//! [`SourceCounts::delivered_invites`]: verity_application::ports::driven::SourceCounts
use sea_orm::QueryResult;
use verity_application::ports::driven::{ImportedInvite, SourceError, SourceRow};
use verity_domain::{InviteToken, Medium, PublicKey, ThreePid, Timestamp};

use super::rows::{column, masked, position, required, shortened, user_id};

/// Pending invites (Sydent stores text; older rows may hold bytes: read as text).
pub(super) const INVITES: &str = "SELECT id, CAST(medium AS TEXT), CAST(address AS TEXT), \
     CAST(room_id AS TEXT), CAST(sender AS TEXT), CAST(token AS TEXT), received_ts \
     FROM invite_tokens WHERE id > ? AND sent_ts IS NULL ORDER BY id LIMIT ?";

/// Ephemeral public keys.
pub(super) const EPHEMERAL_KEYS: &str = "SELECT id, CAST(public_key AS TEXT) \
     FROM ephemeral_public_keys WHERE id > ? ORDER BY id LIMIT ?";

/// A pending `invite_tokens` row (columns: id, medium, address, room_id, sender, token,
/// received_ts). The label names the room, never the token.
pub(super) fn invite(row: &QueryResult) -> Result<SourceRow<ImportedInvite>, SourceError> {
    let position = position(row)?;
    let medium = column::<Option<String>>(row, 1, "medium").ok().flatten();
    let address = column::<Option<String>>(row, 2, "address").ok().flatten();
    let label = match (&medium, &address) {
        (Some(medium), Some(address)) => format!("invite of {}", masked(medium, address)),
        _ => format!("invite {position}"),
    };
    Ok(SourceRow {
        position,
        label,
        record: parse_invite(row),
    })
}

fn parse_invite(row: &QueryResult) -> Result<ImportedInvite, String> {
    let medium = required(column::<Option<String>>(row, 1, "medium")?, "medium")?;
    let address = required(column::<Option<String>>(row, 2, "address")?, "address")?;
    let room_id = required(column::<Option<String>>(row, 3, "room_id")?, "room_id")?;
    let sender = required(column::<Option<String>>(row, 4, "sender")?, "sender")?;
    let token = required(column::<Option<String>>(row, 5, "token")?, "token")?;
    let received = required(column::<Option<i64>>(row, 6, "received_ts")?, "received_ts")?;
    let medium =
        Medium::parse(&medium).map_err(|_| format!("unknown medium {:?}", shortened(&medium)))?;
    let threepid =
        ThreePid::parse(medium, &address).map_err(|err| format!("invalid address: {err}"))?;
    if room_id.trim().is_empty() {
        return Err("`room_id` is empty".to_owned());
    }
    // Never the token itself in a reason.
    let token = InviteToken::parse(&token)
        .map_err(|_| "the token is not 1 to 255 characters of [0-9a-zA-Z.=_-]".to_owned())?;
    let seconds = u64::try_from(received).map_err(|_| "`received_ts` is negative".to_owned())?;
    let created_at = seconds
        .checked_mul(1000)
        .map(Timestamp::from_millis)
        .ok_or_else(|| "`received_ts` is out of range".to_owned())?;
    Ok(ImportedInvite {
        token,
        threepid,
        room_id,
        sender: user_id(&sender, "sender")?,
        created_at,
        ephemeral_key: None,
    })
}

/// An `ephemeral_public_keys` row (columns: id, public_key).
pub(super) fn ephemeral_key(row: &QueryResult) -> Result<SourceRow<PublicKey>, SourceError> {
    let position = position(row)?;
    let record = column::<Option<String>>(row, 1, "public_key").and_then(|raw| {
        let raw = required(raw, "public_key")?;
        PublicKey::parse(&raw)
            .map_err(|_| "`public_key` is not a base64 ed25519 public key".to_owned())
    });
    Ok(SourceRow {
        position,
        label: format!("ephemeral key {position}"),
        record,
    })
}
