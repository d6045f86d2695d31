//! The homeserver's answers, read into the port's types: `whoami`, the directory search, its
//! errors, and `.well-known/matrix/client`.
use reqwest::StatusCode;
use serde_json::{Map, Value};
use url::Url;
use verity_application::ports::driven::{HomeserverAsUserError, HomeserverUser};
use verity_domain::{DirectoryEntry, DirectoryResults, UserId};

use super::config::base_url;

/// The `errcode`s with which a 403 means the token (or its account) is not usable; a 401
/// always does.
const REJECTING_ERRCODES: [&str; 6] = [
    "M_UNKNOWN_TOKEN",
    "M_MISSING_TOKEN",
    "M_FORBIDDEN",
    "M_USER_DEACTIVATED",
    "M_USER_LOCKED",
    "M_USER_SUSPENDED",
];

/// A status that is neither an answer nor a rejected token.
#[derive(Debug, thiserror::Error)]
#[error("the homeserver answered HTTP {status}{}", errcode.as_ref().map(|code| format!(" ({code})")).unwrap_or_default())]
pub(crate) struct UnexpectedStatus {
    pub(crate) status: StatusCode,
    pub(crate) errcode: Option<String>,
}

fn object(body: &[u8]) -> Option<Map<String, Value>> {
    match serde_json::from_slice(body).ok()? {
        Value::Object(object) => Some(object),
        _ => None,
    }
}

fn errcode(body: &[u8]) -> Option<String> {
    object(body)?
        .get("errcode")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// What a non-2xx answer means: a rejected token, an endpoint the homeserver does not have, or
/// a failure.
pub(crate) fn failure(status: StatusCode, body: &[u8]) -> HomeserverAsUserError {
    let errcode = errcode(body);
    let code = errcode.as_deref();
    if status == StatusCode::UNAUTHORIZED
        || (status == StatusCode::FORBIDDEN
            && code.is_some_and(|c| REJECTING_ERRCODES.contains(&c)))
    {
        return HomeserverAsUserError::TokenRejected;
    }
    let unrecognised = code == Some("M_UNRECOGNIZED")
        || (code.is_none()
            && matches!(
                status,
                StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED
            ));
    if unrecognised {
        return HomeserverAsUserError::Unsupported;
    }
    HomeserverAsUserError::Unavailable(Box::new(UnexpectedStatus { status, errcode }))
}

/// A 200 `whoami` answer.
pub(crate) fn whoami(body: &[u8]) -> Result<HomeserverUser, HomeserverAsUserError> {
    let invalid = |why: &str| HomeserverAsUserError::InvalidResponse(format!("whoami: {why}"));
    let answer = object(body).ok_or_else(|| invalid("not a JSON object"))?;
    let user_id = answer
        .get("user_id")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("no string user_id"))?;
    let user_id = UserId::parse(user_id).map_err(|_| invalid("user_id is not a Matrix user ID"))?;
    let is_guest = match answer.get("is_guest") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(guest)) => *guest,
        Some(_) => return Err(invalid("is_guest is not a boolean")),
    };
    Ok(HomeserverUser { user_id, is_guest })
}

/// A 200 directory search answer. A result whose `user_id` is not a user ID is left out (the
/// others are still worth showing); a `results` that is not a list is an invalid answer.
pub(crate) fn search(body: &[u8]) -> Result<DirectoryResults, HomeserverAsUserError> {
    let invalid =
        |why: &str| HomeserverAsUserError::InvalidResponse(format!("user_directory/search: {why}"));
    let answer = object(body).ok_or_else(|| invalid("not a JSON object"))?;
    let results = answer
        .get("results")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("no results list"))?;
    let text = |person: &Value, key: &str| {
        person
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .filter(|value| !value.is_empty())
    };
    let mut entries = Vec::with_capacity(results.len());
    for person in results {
        let Some(user_id) = person
            .get("user_id")
            .and_then(Value::as_str)
            .and_then(|id| UserId::parse(id).ok())
        else {
            tracing::debug!("the homeserver's directory listed an invalid user ID; left out");
            continue;
        };
        entries.push(DirectoryEntry {
            avatar_url: text(person, "avatar_url"),
            ..DirectoryEntry::new(user_id, text(person, "display_name"))
        });
    }
    let limited = answer
        .get("limited")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    Ok(DirectoryResults { entries, limited })
}

/// The homeserver's base URL from a `.well-known/matrix/client` document.
pub(crate) fn well_known_base(body: &[u8]) -> Result<Url, String> {
    let document = object(body).ok_or("not a JSON object")?;
    let base = document
        .get("m.homeserver")
        .and_then(|homeserver| homeserver.get("base_url"))
        .and_then(Value::as_str)
        .ok_or("no m.homeserver.base_url")?;
    base_url(base).ok_or_else(|| format!("m.homeserver.base_url {base:?} is not an http(s) URL"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn bytes(value: &Value) -> Vec<u8> {
        value.to_string().into_bytes()
    }

    #[test]
    fn a_401_or_a_403_about_the_account_rejects_the_token_and_other_statuses_do_not() {
        let error = |errcode: &str| bytes(&json!({"errcode": errcode, "error": "x"}));
        for (status, body) in [
            (401, error("M_UNKNOWN_TOKEN")),
            (401, b"not json".to_vec()),
            (403, error("M_USER_DEACTIVATED")),
        ] {
            let status = StatusCode::from_u16(status).unwrap();
            assert!(
                matches!(failure(status, &body), HomeserverAsUserError::TokenRejected),
                "{status}"
            );
        }
        for (status, body) in [
            (404, error("M_UNRECOGNIZED")),
            (400, error("M_UNRECOGNIZED")),
            (404, b"<html>".to_vec()),
            (405, Vec::new()),
        ] {
            let status = StatusCode::from_u16(status).unwrap();
            assert!(
                matches!(failure(status, &body), HomeserverAsUserError::Unsupported),
                "{status}"
            );
        }
        for (status, body) in [
            (500, error("M_UNKNOWN")),
            (429, error("M_LIMIT_EXCEEDED")),
            (403, error("M_CONSENT_NOT_GIVEN")),
            (404, error("M_NOT_FOUND")),
        ] {
            let status = StatusCode::from_u16(status).unwrap();
            assert!(
                matches!(
                    failure(status, &body),
                    HomeserverAsUserError::Unavailable(_)
                ),
                "{status}"
            );
        }
    }

    #[test]
    fn whoami_gives_the_user_and_whether_it_is_a_guest() {
        let user = whoami(&bytes(&json!({"user_id": "@a:x.org", "device_id": "D"}))).unwrap();
        assert_eq!(user.user_id.as_str(), "@a:x.org");
        assert!(!user.is_guest);
        let guest = whoami(&bytes(&json!({"user_id": "@g:x.org", "is_guest": true}))).unwrap();
        assert!(guest.is_guest);
        for bad in [
            json!([]),
            json!({}),
            json!({"user_id": "alice"}),
            json!({"user_id": 7}),
            json!({"user_id": "@a:x.org", "is_guest": "no"}),
        ] {
            assert!(whoami(&bytes(&bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_search_answer_keeps_valid_people_with_their_profile() {
        let results = search(&bytes(&json!({
            "limited": true,
            "results": [
                {"user_id": "@a:x.org", "display_name": "A", "avatar_url": "mxc://x.org/a"},
                {"user_id": "not an id", "display_name": "B"},
                {"user_id": "@c:x.org", "display_name": ""},
            ],
        })))
        .unwrap();
        assert!(results.limited);
        assert_eq!(results.entries.len(), 2);
        assert_eq!(results.entries[0].display_name.as_deref(), Some("A"));
        assert_eq!(
            results.entries[0].avatar_url.as_deref(),
            Some("mxc://x.org/a")
        );
        assert_eq!(results.entries[1].display_name, None);
        assert!(search(&bytes(&json!({"results": {}}))).is_err());
        assert!(search(b"[]").is_err());
    }

    #[test]
    fn the_well_known_names_the_base_url() {
        let base = well_known_base(&bytes(
            &json!({"m.homeserver": {"base_url": "https://matrix.example.org"}}),
        ))
        .unwrap();
        assert_eq!(base.as_str(), "https://matrix.example.org/");
        assert!(well_known_base(&bytes(&json!({"m.homeserver": {}}))).is_err());
        assert!(
            well_known_base(&bytes(&json!({"m.homeserver": {"base_url": "ftp://x"}}))).is_err()
        );
    }
}
