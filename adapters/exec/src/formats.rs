//! What the identity programs read on stdin and answer on stdout, as ma1sd's
//! `ExecIdentityStore` wrote and read them (JSON in the REST backend's shapes, or lines).
//!
//! - single, stdin: json `{"medium": m, "address": a}`; plain `m\na\n`; a `template` with the
//!   `{medium}` and `{address}` tokens (values JSON-escaped in a json template).
//! - single, stdout: json `{"lookup": {"medium", "address", "id": {"type", "value"}}}`, blank or
//!   `{}` or `{"lookup": {}}` for not found; plain one line `value` (a localpart) or two lines
//!   `type` and `value`, blank for not found.
//! - bulk, stdin: json `{"lookup": [{"medium", "address"}, ...]}`; plain a line `m<TAB>a` each.
//! - bulk and all, stdout: json `{"lookup": [{"medium", "address", "id": {...}}, ...]}` only.
//!
//! `id.type` is `localpart` (the user `@value:matrix.domain`) or `mxid` (a whole user ID).
use serde::Deserialize;
use serde_json::json;
use verity_domain::{Medium, ThreePid, UserId};

use crate::config::{Format, Io, Tokens};
use crate::template::{json_string, raw, substitute};

/// `id` of an answer.
#[derive(Debug, Deserialize)]
struct Id {
    #[serde(rename = "type")]
    kind: String,
    value: String,
}

/// One item of an answer.
#[derive(Debug, Deserialize)]
struct Item {
    medium: Option<String>,
    address: Option<String>,
    id: Option<Id>,
}

/// `{"lookup": [...]}`.
#[derive(Debug, Deserialize)]
struct Bulk {
    #[serde(default)]
    lookup: Vec<Item>,
}

/// The user `id` names: a localpart in `domain`, or a whole user ID.
fn user_of(kind: &str, value: &str, domain: &str) -> Result<UserId, String> {
    let value = value.trim();
    let kind = kind.trim();
    let id = if kind.is_empty() || kind.eq_ignore_ascii_case("localpart") {
        format!("@{value}:{domain}")
    } else if kind.eq_ignore_ascii_case("mxid") {
        value.to_owned()
    } else {
        return Err(format!(
            "unknown user ID type {kind:?} (expected `localpart` or `mxid`)"
        ));
    };
    UserId::parse(&id).map_err(|_| format!("{id:?} is not a Matrix user ID"))
}

/// The medium's name (`email`, `msisdn`, or a custom one).
pub(crate) trait MediumStr {
    fn medium_str(&self) -> &str;
}

impl MediumStr for ThreePid {
    fn medium_str(&self) -> &str {
        match self {
            Self::Email(_) => "email",
            Self::Msisdn(_) => "msisdn",
            Self::Other { medium, .. } => medium.as_str(),
        }
    }
}

/// The token values the single lookup passes in its args and env.
pub(crate) fn single_tokens<'a>(
    tokens: &'a Tokens,
    threepid: &'a ThreePid,
) -> [(&'a str, &'a str); 2] {
    [
        (tokens.medium.as_str(), threepid.medium_str()),
        (tokens.address.as_str(), threepid.address()),
    ]
}

/// The single lookup's stdin, `None` when `input.type` is unset (as ma1sd: nothing written).
pub(crate) fn single_input(input: &Io, tokens: &Tokens, threepid: &ThreePid) -> Option<String> {
    let values = single_tokens(tokens, threepid);
    let format = input.format?;
    Some(match (&input.template, format) {
        (Some(template), Format::Json) => substitute(template, &values, json_string),
        (Some(template), Format::Plain) => substitute(template, &values, raw),
        (None, Format::Json) => {
            json!({"medium": threepid.medium_str(), "address": threepid.address()}).to_string()
        }
        (None, Format::Plain) => format!("{}\n{}\n", threepid.medium_str(), threepid.address()),
    })
}

/// The bulk lookup's stdin (json when `input.type` is unset; templates are not used here).
pub(crate) fn bulk_input(input: &Io, threepids: &[&ThreePid]) -> String {
    match input.format.unwrap_or(Format::Json) {
        Format::Json => {
            let items: Vec<serde_json::Value> = threepids
                .iter()
                .map(|t| json!({"medium": t.medium_str(), "address": t.address()}))
                .collect();
            json!({ "lookup": items }).to_string()
        }
        Format::Plain => threepids
            .iter()
            .map(|t| format!("{}\t{}\n", t.medium_str(), t.address()))
            .collect(),
    }
}

/// The user a single lookup answered, `None` for not found.
pub(crate) fn single_output(
    format: Option<Format>,
    stdout: &str,
    domain: &str,
) -> Result<Option<UserId>, String> {
    if stdout.trim().is_empty() {
        return Ok(None);
    }
    match format.unwrap_or(Format::Json) {
        Format::Json => {
            let answer: serde_json::Value =
                serde_json::from_str(stdout).map_err(|e| e.to_string())?;
            if !answer.is_object() {
                return Err("the answer is not a JSON object".into());
            }
            let Some(lookup) = answer.get("lookup") else {
                return Ok(None);
            };
            if lookup.as_object().is_some_and(serde_json::Map::is_empty) || lookup.is_null() {
                return Ok(None);
            }
            let item: Item = serde_json::from_value(lookup.clone()).map_err(|e| e.to_string())?;
            let id = item.id.ok_or("lookup.id is missing")?;
            user_of(&id.kind, &id.value, domain).map(Some)
        }
        Format::Plain => {
            let lines: Vec<&str> = stdout.trim_end_matches(['\r', '\n']).lines().collect();
            match lines.as_slice() {
                [value] => user_of("localpart", value, domain).map(Some),
                [kind, value] => user_of(kind, value, domain).map(Some),
                _ => Err(format!("{} lines, expected 1 or 2", lines.len())),
            }
        }
    }
}

/// A 3PID as a program wrote it, in canonical form (a phone number's `+` dropped).
fn threepid_of(medium: &str, address: &str) -> Option<ThreePid> {
    let medium = Medium::parse(medium.trim()).ok()?;
    let address = address.trim();
    let address = match medium {
        Medium::Msisdn => address.strip_prefix('+').unwrap_or(address),
        _ => address,
    };
    ThreePid::parse(medium, address).ok()
}

/// The bindings of a bulk or all answer (json only), and how many items were left out as not
/// being a valid 3PID and user.
pub(crate) fn bulk_output(
    stdout: &str,
    domain: &str,
) -> Result<(Vec<(ThreePid, UserId)>, usize), String> {
    if stdout.trim().is_empty() {
        return Ok((Vec::new(), 0));
    }
    let answer: Bulk = serde_json::from_str(stdout).map_err(|e| e.to_string())?;
    let mut found = Vec::with_capacity(answer.lookup.len());
    let mut invalid = 0;
    for item in answer.lookup {
        let threepid = item
            .medium
            .as_deref()
            .zip(item.address.as_deref())
            .and_then(|(medium, address)| threepid_of(medium, address));
        let user = item
            .id
            .as_ref()
            .and_then(|id| user_of(&id.kind, &id.value, domain).ok());
        match (threepid, user) {
            (Some(threepid), Some(user)) => found.push((threepid, user)),
            _ => invalid += 1,
        }
    }
    Ok((found, invalid))
}

#[cfg(test)]
#[path = "formats_tests.rs"]
mod tests;
