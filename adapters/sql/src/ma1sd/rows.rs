//! ma1sd's rows -> records, or the reason a row cannot be imported. Labels and reasons never
//! hold a token or a whole address.
use std::collections::HashMap;

use sea_orm::{QueryResult, TryGetable};
use verity_application::ports::driven::{AcceptedTerms, ImportedInvite, SourceError, SourceRow};
use verity_domain::{
    AccessToken, Account, InviteToken, Medium, PublicKey, ThreePid, Timestamp, UserId,
};

fn column<T: TryGetable>(row: &QueryResult, index: usize, name: &str) -> Result<T, String> {
    row.try_get_by_index::<Option<T>>(index)
        .map_err(|_| format!("`{name}` holds a value of the wrong type"))?
        .ok_or_else(|| format!("`{name}` is NULL"))
}

fn user_id(raw: &str, name: &str) -> Result<UserId, String> {
    UserId::parse(raw).map_err(|_| format!("`{name}` is not a Matrix user ID"))
}

fn short(value: &str) -> String {
    let mut out: String = value.chars().take(64).collect();
    if out.len() < value.len() {
        out.push_str("...");
    }
    out
}

/// An `account` row (columns: token, userId, createdAt in seconds) at rank `position`.
pub(super) fn account(row: &QueryResult, position: i64) -> SourceRow<Account> {
    let label = match column::<String>(row, 1, "userId") {
        Ok(user) => format!("token of {}", short(&user)),
        Err(_) => format!("token {position}"),
    };
    SourceRow {
        position,
        label,
        record: parse_account(row),
    }
}

fn parse_account(row: &QueryResult) -> Result<Account, String> {
    let token = column::<String>(row, 0, "token")?;
    // Never the token itself in a reason.
    let token = AccessToken::parse(&token)
        .map_err(|_| "the token is not 1 to 255 printable ASCII characters".to_owned())?;
    let user_id = user_id(&column::<String>(row, 1, "userId")?, "userId")?;
    let seconds = column::<i64>(row, 2, "createdAt")?;
    let millis = u64::try_from(seconds)
        .ok()
        .and_then(|s| s.checked_mul(1000))
        .ok_or_else(|| "`createdAt` is negative or too large".to_owned())?;
    Ok(Account {
        token: token.fingerprint(),
        user_id,
        created_at: Timestamp::from_millis(millis),
        // ma1sd's own tokens never expire (`expiresIn` is the homeserver's OpenID token's).
        expires_at: None,
    })
}

/// An `accepted` row (columns: id, userId, url).
pub(super) fn accepted(row: &QueryResult) -> Result<SourceRow<AcceptedTerms>, SourceError> {
    let position = row
        .try_get_by_index::<i64>(0)
        .map_err(|e| SourceError::Unavailable(e.to_string()))?;
    let label = match column::<String>(row, 1, "userId") {
        Ok(user) => format!("terms accepted by {}", short(&user)),
        Err(_) => format!("accepted terms {position}"),
    };
    let record = (|| {
        let user_id = user_id(&column::<String>(row, 1, "userId")?, "userId")?;
        let url = column::<String>(row, 2, "url")?;
        if url.trim().is_empty() {
            return Err("`url` is empty".to_owned());
        }
        Ok(AcceptedTerms { user_id, url })
    })();
    Ok(SourceRow {
        position,
        label,
        record,
    })
}

/// An `invite_3pid` row (columns: token, sender, medium, address, roomId, properties) at rank
/// `position`; `imported_at` dates an invite without `created_at`.
pub(super) fn invite(
    row: &QueryResult,
    position: i64,
    imported_at: Timestamp,
) -> SourceRow<ImportedInvite> {
    let label = match column::<String>(row, 4, "roomId") {
        Ok(room) => format!("invite to {}", short(&room)),
        Err(_) => format!("invite {position}"),
    };
    SourceRow {
        position,
        label,
        record: parse_invite(row, imported_at),
    }
}

fn parse_invite(row: &QueryResult, imported_at: Timestamp) -> Result<ImportedInvite, String> {
    let token = InviteToken::parse(&column::<String>(row, 0, "token")?)
        .map_err(|_| "the token is not 1 to 255 characters of [0-9a-zA-Z.=_-]".to_owned())?;
    let sender = user_id(&column::<String>(row, 1, "sender")?, "sender")?;
    let medium = column::<String>(row, 2, "medium")?;
    let medium =
        Medium::parse(&medium).map_err(|_| format!("unknown medium {:?}", short(&medium)))?;
    let threepid = ThreePid::parse(medium, &column::<String>(row, 3, "address")?)
        .map_err(|_| "`address` is not a valid address for its medium".to_owned())?;
    let room_id = column::<String>(row, 4, "roomId")?;
    if !room_id.starts_with('!') || !room_id.contains(':') {
        return Err("`roomId` is not a Matrix room ID".to_owned());
    }
    let raw = row
        .try_get_by_index::<Option<String>>(5)
        .map_err(|_| "`properties` holds a value of the wrong type".to_owned())?
        .unwrap_or_default();
    // Gson wrote a `Map<String, String>`; blank is an empty map, as ma1sd reads it.
    let properties: HashMap<String, String> = if raw.trim().is_empty() {
        HashMap::new()
    } else {
        serde_json::from_str(&raw)
            .map_err(|_| "`properties` is not a JSON object of strings".to_owned())?
    };
    let created_at = match properties.get("created_at") {
        Some(ms) => ms
            .parse::<u64>()
            .map(Timestamp::from_millis)
            .map_err(|_| "`created_at` in `properties` is not milliseconds".to_owned())?,
        None => imported_at,
    };
    let ephemeral_key = properties
        .get("e_key_public")
        .map(|key| PublicKey::parse(key))
        .transpose()
        .map_err(|_| "`e_key_public` in `properties` is not an ed25519 public key".to_owned())?;
    Ok(ImportedInvite {
        token,
        threepid,
        room_id,
        sender,
        created_at,
        ephemeral_key,
    })
}
