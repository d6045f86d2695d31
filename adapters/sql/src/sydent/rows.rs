//! Sydent's rows -> records, or the reason a row cannot be imported; and the rows' labels, which
//! never hold a token or a whole address.
use sea_orm::{QueryResult, TryGetable};
use verity_application::ports::driven::{AcceptedTerms, ImportedBinding, SourceError, SourceRow};
use verity_domain::{
    AccessToken, Account, Association, Medium, SignedAssociation, ThreePid, Timestamp, UserId,
};

use super::schema::from_db;

/// How much of a stored value a label or a reason shows at most.
const SHOWN_CHARS: usize = 64;

/// The row's position: its integer key, which SQLite always has.
pub(super) fn position(row: &QueryResult) -> Result<i64, SourceError> {
    row.try_get_by_index::<i64>(0).map_err(from_db)
}

/// Column `index` (named `name` in reasons), or why its value is not of the expected type.
pub(super) fn column<T: TryGetable>(
    row: &QueryResult,
    index: usize,
    name: &str,
) -> Result<T, String> {
    row.try_get_by_index::<T>(index)
        .map_err(|_| format!("`{name}` holds a value of the wrong type"))
}

/// A value that must be there.
pub(super) fn required<T>(value: Option<T>, name: &str) -> Result<T, String> {
    value.ok_or_else(|| format!("`{name}` is NULL"))
}

/// Milliseconds that must be there and not negative.
fn millis(row: &QueryResult, index: usize, name: &str) -> Result<Timestamp, String> {
    let value = required(column::<Option<i64>>(row, index, name)?, name)?;
    u64::try_from(value)
        .map(Timestamp::from_millis)
        .map_err(|_| format!("`{name}` is negative"))
}

pub(super) fn user_id(raw: &str, name: &str) -> Result<UserId, String> {
    UserId::parse(raw).map_err(|_| format!("`{name}` is not a Matrix user ID"))
}

/// At most [`SHOWN_CHARS`] characters of `value`.
pub(super) fn shortened(value: &str) -> String {
    if value.chars().count() <= SHOWN_CHARS {
        return value.to_owned();
    }
    let mut out: String = value.chars().take(SHOWN_CHARS).collect();
    out.push_str("...");
    out
}

/// `medium` and the address with most of it hidden: an email's first character and its domain
/// (`email a***@example.org`), a number's first and last two digits (`msisdn 44***23`).
pub(super) fn masked(medium: &str, address: &str) -> String {
    let hidden = match address.rsplit_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{}", shortened(domain))
        }
        None => {
            let chars: Vec<char> = address.chars().collect();
            if chars.len() > 6 {
                let head: String = chars[..2].iter().collect();
                let tail: String = chars[chars.len() - 2..].iter().collect();
                format!("{head}***{tail}")
            } else {
                "***".to_owned()
            }
        }
    };
    format!("{} {hidden}", shortened(medium))
}

/// A bound `local_threepid_associations` row with its `sgAssoc` (columns: id, medium, address,
/// mxid, ts, notBefore, notAfter, sgAssoc).
pub(super) fn binding(
    row: &QueryResult,
    server_name: &str,
) -> Result<SourceRow<ImportedBinding>, SourceError> {
    let position = position(row)?;
    let medium = column::<Option<String>>(row, 1, "medium").ok().flatten();
    let address = column::<Option<String>>(row, 2, "address").ok().flatten();
    let label = match (&medium, &address) {
        (Some(medium), Some(address)) => masked(medium, address),
        _ => format!("binding {position}"),
    };
    Ok(SourceRow {
        position,
        label,
        record: imported_binding(row, server_name),
    })
}

fn imported_binding(row: &QueryResult, server_name: &str) -> Result<ImportedBinding, String> {
    let medium = required(column::<Option<String>>(row, 1, "medium")?, "medium")?;
    let address = required(column::<Option<String>>(row, 2, "address")?, "address")?;
    let mxid = required(column::<Option<String>>(row, 3, "mxid")?, "mxid")?;
    let medium =
        Medium::parse(&medium).map_err(|_| format!("unknown medium {:?}", shortened(&medium)))?;
    let threepid =
        ThreePid::parse(medium, &address).map_err(|err| format!("invalid address: {err}"))?;
    let association = Association {
        threepid,
        user_id: user_id(&mxid, "mxid")?,
        ts: millis(row, 4, "ts")?,
        not_before: millis(row, 5, "notBefore")?,
        not_after: millis(row, 6, "notAfter")?,
    };
    let sg_assoc = column::<Option<String>>(row, 7, "sgAssoc")?.ok_or_else(|| {
        format!(
            "Sydent does not publish it: global_threepid_associations has no association \
             {server_name:?} pushed for it (a replication peer removed the address, or the \
             push never ran)"
        )
    })?;
    let signed = SignedAssociation::parse(&sg_assoc)
        .map_err(|err| format!("its signed association (sgAssoc) is refused: {err}"))?;
    let vouched = signed.association();
    let mismatch = if vouched.user_id != association.user_id {
        Some("another Matrix ID")
    } else if vouched.threepid != association.threepid {
        Some("another 3PID")
    } else if (vouched.ts, vouched.not_before, vouched.not_after)
        != (
            association.ts,
            association.not_before,
            association.not_after,
        )
    {
        Some("other times")
    } else {
        None
    };
    if let Some(what) = mismatch {
        return Err(format!(
            "its signed association (sgAssoc) names {what} than the binding"
        ));
    }
    if !signed.is_signed_by(server_name) {
        return Err(format!(
            "its signed association (sgAssoc) is not signed by {server_name:?}"
        ));
    }
    Ok(ImportedBinding {
        association,
        signed: Some(signed),
    })
}

/// A `tokens` row with its account's `created_ts` (columns: rowid, token, user_id, created_ts).
pub(super) fn account(row: &QueryResult) -> Result<SourceRow<Account>, SourceError> {
    let position = position(row)?;
    let label = match column::<Option<String>>(row, 2, "user_id").ok().flatten() {
        Some(user) => format!("token of {}", shortened(&user)),
        None => format!("token {position}"),
    };
    Ok(SourceRow {
        position,
        label,
        record: parse_account(row),
    })
}

fn parse_account(row: &QueryResult) -> Result<Account, String> {
    let token = required(column::<Option<String>>(row, 1, "token")?, "token")?;
    // Never the token itself in a reason.
    let token = AccessToken::parse(&token)
        .map_err(|_| "the token is not 1 to 255 printable ASCII characters".to_owned())?;
    let raw_user = required(column::<Option<String>>(row, 2, "user_id")?, "user_id")?;
    let user_id = user_id(&raw_user, "user_id")?;
    let created: Option<i64> = column(row, 3, "created_ts")?;
    if created.is_none() {
        return Err("its user has no row in `accounts`".to_owned());
    }
    Ok(Account {
        token: token.fingerprint(),
        user_id,
        created_at: millis(row, 3, "created_ts")?,
        // Sydent's tokens never expire.
        expires_at: None,
    })
}

/// An `accepted_terms_urls` row (columns: rowid, user_id, url).
pub(super) fn accepted_terms(row: &QueryResult) -> Result<SourceRow<AcceptedTerms>, SourceError> {
    let position = position(row)?;
    let label = match column::<Option<String>>(row, 1, "user_id").ok().flatten() {
        Some(user) => format!("terms accepted by {}", shortened(&user)),
        None => format!("accepted terms {position}"),
    };
    Ok(SourceRow {
        position,
        label,
        record: parse_accepted_terms(row),
    })
}

fn parse_accepted_terms(row: &QueryResult) -> Result<AcceptedTerms, String> {
    let raw_user = required(column::<Option<String>>(row, 1, "user_id")?, "user_id")?;
    let url = required(column::<Option<String>>(row, 2, "url")?, "url")?;
    if url.trim().is_empty() {
        return Err("`url` is empty".to_owned());
    }
    Ok(AcceptedTerms {
        user_id: user_id(&raw_user, "user_id")?,
        url,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_hide_most_of_an_address() {
        assert_eq!(
            masked("email", "alice@example.org"),
            "email a***@example.org"
        );
        assert_eq!(masked("msisdn", "447700900123"), "msisdn 44***23");
        assert_eq!(masked("msisdn", "12345"), "msisdn ***");
        assert!(!masked("email", "alice@example.org").contains("alice"));
    }

    #[test]
    fn long_values_are_shortened_in_labels() {
        let long = "x".repeat(200);
        let label = masked(&long, "a@b.c");
        assert!(label.len() < 80, "{label}");
        assert!(label.ends_with("... a***@b.c"), "{label}");
    }
}
