//! The JSON of ma1sd's REST identity contract, read as ma1sd reads it.
//!
//! - Single lookup: `{"lookup": {"medium", "address", "id": {"type", "value"}}}`, or `{}` (no
//!   `lookup` member, or `null`) for "not found". The answer's own medium and address are not
//!   read: the 3PID asked is the one found (as ma1sd).
//! - Bulk (and Verity's `identity.all`): `{"lookup": [<the same objects>]}`; a missing or `null`
//!   `lookup` is an empty list (ma1sd's Gson default). Here medium and address are read, as the
//!   entries say which 3PID they answer.
//! - `id.type` is compared ignoring case: `localpart` makes `@<value>:<matrix.domain>`; any other
//!   type (`mxid`, missing, or unknown) reads `value` as a whole Matrix user ID (ma1sd's
//!   `UserIdType.Localpart.is(...)` else `MatrixID.asAcceptable(value)`), so an unknown type
//!   whose value is no user ID is refused. The value's case is kept, as ma1sd kept it.
use serde_json::{Map, Value};
use verity_domain::{Medium, Msisdn, ThreePid, UserId};

/// Why one answered object is not a binding.
pub(crate) type Why = String;

/// The `lookup` object of a single answer: `None` when there is none (not found).
pub(crate) fn single_lookup(
    answer: &Map<String, Value>,
) -> Result<Option<&Map<String, Value>>, Why> {
    match answer.get("lookup") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(lookup)) => Ok(Some(lookup)),
        Some(_) => Err("`lookup` is not a JSON object".into()),
    }
}

/// The `lookup` list of a bulk answer (empty when there is none).
pub(crate) fn bulk_lookup(answer: &Map<String, Value>) -> Result<&[Value], Why> {
    match answer.get("lookup") {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(list)) => Ok(list),
        Some(_) => Err("`lookup` is not a JSON list".into()),
    }
}

/// The user of an answered object's `id`, completing a `localpart` with `domain`.
pub(crate) fn user_of(lookup: &Map<String, Value>, domain: &str) -> Result<UserId, Why> {
    let Some(Value::Object(id)) = lookup.get("id") else {
        return Err("`id` is missing or not an object".into());
    };
    let Some(Value::String(value)) = id.get("value") else {
        return Err("`id.value` is missing or not a string".into());
    };
    let localpart = match id.get("type") {
        Some(Value::String(kind)) => kind.eq_ignore_ascii_case("localpart"),
        None | Some(Value::Null) => false,
        Some(_) => return Err("`id.type` is not a string".into()),
    };
    if localpart {
        UserId::parse(&format!("@{value}:{domain}"))
            .map_err(|_| format!("`id.value` {value:?} is not a localpart of a user ID"))
    } else {
        UserId::parse(value).map_err(|_| {
            format!("`id.value` {value:?} is not a Matrix user ID (with `id.type` other than `localpart`, it must be a whole ID, e.g. @alice:example.org)")
        })
    }
}

/// The 3PID an answered object names, in canonical form: emails case-folded, phone numbers
/// by [`phone`] (so `+1 (202) 555-0143` is `12025550143`).
pub(crate) fn threepid_of(lookup: &Map<String, Value>) -> Result<ThreePid, Why> {
    let (Some(Value::String(medium)), Some(Value::String(address))) =
        (lookup.get("medium"), lookup.get("address"))
    else {
        return Err("`medium` or `address` is missing or not a string".into());
    };
    let medium = Medium::parse(medium).map_err(|error| format!("`medium` {medium:?}: {error}"))?;
    match medium {
        Medium::Msisdn => phone(address)
            .map(ThreePid::Msisdn)
            .ok_or_else(|| format!("`address` {address:?} is not a phone number")),
        Medium::Email | Medium::Other(_) => {
            ThreePid::parse(medium, address).map_err(|error| format!("`address`: {error}"))
        }
    }
}

/// The E.164 form of a phone number as a backend may store it: with or without `+`, with
/// spaces, hyphens, dots, slashes, brackets and a trunk `(0)`. Read by the phone parser Verity
/// uses for `requestToken`; a number its plans do not know is still taken when it is 1 to 15
/// digits once the separators are gone. Anything else (letters, an extension) is `None`.
pub(crate) fn phone(value: &str) -> Option<Msisdn> {
    let value = value.trim().replace("(0)", "");
    if value.is_empty() {
        return None;
    }
    let international = if value.starts_with('+') {
        value
    } else {
        format!("+{value}")
    };
    // The region only matters without a country code, and every number here has one.
    if let Ok(msisdn) = Msisdn::from_parts(&international, "US") {
        return Some(msisdn);
    }
    let digits: String = international
        .chars()
        .skip(1)
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '/' | '(' | ')'))
        .collect();
    Msisdn::parse(&digits).ok()
}

/// The request body of a single lookup.
pub(crate) fn single_request(threepid: &ThreePid) -> Value {
    serde_json::json!({"lookup": entry(threepid)})
}

/// The request body of a bulk lookup.
pub(crate) fn bulk_request(threepids: &[&ThreePid]) -> Value {
    let entries: Vec<Value> = threepids.iter().map(|threepid| entry(threepid)).collect();
    serde_json::json!({"lookup": entries})
}

fn entry(threepid: &ThreePid) -> Value {
    serde_json::json!({"medium": threepid.medium().as_str(), "address": threepid.address()})
}
