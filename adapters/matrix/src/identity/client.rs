//! The v1 requests to another identity server, and what their answers mean.
use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::{Map, Value, json};
use verity_application::ports::driven::{RemoteError, RemoteTokenRequest};
use verity_domain::{Medium, SignedAssociation, ThreePid, UserId};

use crate::homeserver::http::BodyError;

/// Every path is under this prefix (the unauthenticated v1 API; see `docs/federation.md`).
pub(crate) const V1: &str = "/_matrix/identity/api/v1";

/// A remote answered with a status that is neither success nor a Matrix error.
#[derive(Debug, thiserror::Error)]
#[error("the identity server answered HTTP {0}")]
pub(crate) struct UnexpectedStatus(pub(crate) StatusCode);

/// The body of `validate/{medium}/requestToken`: the spec's fields for the medium. A phone
/// number goes as `+<digits>` with its region, so any server parses it the same way.
pub(crate) fn request_token_body(request: &RemoteTokenRequest) -> Result<Value, RemoteError> {
    let mut body = Map::new();
    body.insert(
        "client_secret".into(),
        request.client_secret.expose().into(),
    );
    body.insert("send_attempt".into(), request.send_attempt.value().into());
    match &request.threepid {
        ThreePid::Email(email) => {
            body.insert("email".into(), email.as_str().into());
        }
        ThreePid::Msisdn(msisdn) => {
            let country = msisdn.region().ok_or_else(|| {
                RemoteError::InvalidResponse(
                    "the phone number's country is unknown, so it cannot be sent".into(),
                )
            })?;
            body.insert("country".into(), country.into());
            body.insert(
                "phone_number".into(),
                format!("+{}", msisdn.as_str()).into(),
            );
        }
        ThreePid::Other { medium, .. } => {
            return Err(RemoteError::InvalidResponse(format!(
                "the {medium} medium cannot be validated on another identity server"
            )));
        }
    }
    Ok(Value::Object(body))
}

/// The answer as a JSON object, or the error it stands for: a Matrix error (`errcode`) is a
/// refusal, a 5xx or a broken connection is "unreachable", anything else is invalid. The
/// object comes with the answer's exact bytes, for answers handed on as received (a signed
/// association).
pub(crate) fn interpret(
    status: StatusCode,
    body: Result<Vec<u8>, BodyError>,
    limit: usize,
) -> Result<(Map<String, Value>, Vec<u8>), RemoteError> {
    let body = match body {
        Ok(body) => body,
        Err(BodyError::TooLarge) => {
            return Err(RemoteError::InvalidResponse(format!(
                "the answer is larger than {limit} bytes"
            )));
        }
        Err(BodyError::Transport(error)) => return Err(RemoteError::Unreachable(Box::new(error))),
    };
    let object = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(object)) => Some(object),
        _ => None,
    };
    if status.is_server_error() {
        return Err(RemoteError::Unreachable(Box::new(UnexpectedStatus(status))));
    }
    if let Some(object) = &object
        && let Some(errcode) = object.get("errcode").and_then(Value::as_str)
        && !status.is_success()
    {
        return Err(RemoteError::Refused {
            errcode: errcode.to_owned(),
            error: object
                .get("error")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
        });
    }
    match object {
        Some(object) if status.is_success() => Ok((object, body)),
        Some(_) => Err(RemoteError::InvalidResponse(format!(
            "HTTP {status} without a Matrix error"
        ))),
        None => Err(RemoteError::InvalidResponse(format!(
            "HTTP {status} with a body that is not a JSON object"
        ))),
    }
}

/// The string member `key`, or an invalid answer.
pub(crate) fn string(object: &Map<String, Value>, key: &str) -> Result<String, RemoteError> {
    object
        .get(key)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| RemoteError::InvalidResponse(format!("no string `{key}`")))
}

/// The `3pid/bind` answer: a signed association, kept byte for byte; anything else is an invalid
/// answer, so nothing is stored or handed on.
pub(crate) fn signed_association(body: &[u8]) -> Result<SignedAssociation, RemoteError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| RemoteError::InvalidResponse("the association is not UTF-8".into()))?;
    SignedAssociation::parse(text).map_err(|error| RemoteError::InvalidResponse(error.to_string()))
}

/// The `submitToken` answer: v1 servers say `{"success": true}`; `false` is a wrong token.
pub(crate) fn submission(object: &Map<String, Value>) -> Result<(), RemoteError> {
    match object.get("success").and_then(Value::as_bool) {
        Some(true) => Ok(()),
        Some(false) => Err(RemoteError::Refused {
            errcode: "M_TOKEN_INCORRECT".into(),
            error: "the identity server did not accept the token".into(),
        }),
        None => Err(RemoteError::InvalidResponse("no boolean `success`".into())),
    }
}

/// The 3PID of a `getValidated3pid` answer.
pub(crate) fn validated(object: &Map<String, Value>) -> Result<ThreePid, RemoteError> {
    let medium = Medium::parse(&string(object, "medium")?)
        .map_err(|_| RemoteError::InvalidResponse("`medium` is not a medium".into()))?;
    ThreePid::parse(medium, &string(object, "address")?)
        .map_err(|_| RemoteError::InvalidResponse("`address` is not valid for its medium".into()))
}

/// The `bulk_lookup` request body.
pub(crate) fn bulk_lookup_body(threepids: &[ThreePid]) -> Value {
    let pairs: Vec<Value> = threepids
        .iter()
        .map(|threepid| json!([threepid.medium().as_str(), threepid.address()]))
        .collect();
    json!({ "threepids": pairs })
}

/// The rows of a `bulk_lookup` answer that are well formed and were asked for; malformed rows
/// are dropped with one warning (a remote's mistake must not hide the rest), and 3PIDs nobody
/// asked for are never believed.
pub(crate) fn bulk_lookup_rows(
    object: &Map<String, Value>,
    asked: &[ThreePid],
) -> Result<Vec<(ThreePid, UserId)>, RemoteError> {
    let rows = object
        .get("threepids")
        .and_then(Value::as_array)
        .ok_or_else(|| RemoteError::InvalidResponse("no array `threepids`".into()))?;
    let asked: BTreeSet<&ThreePid> = asked.iter().collect();
    let mut seen = BTreeSet::new();
    let mut found = Vec::new();
    let mut malformed = 0_usize;
    let mut unasked = 0_usize;
    for row in rows {
        let Some(parsed) = row_of(row) else {
            malformed += 1;
            continue;
        };
        if !asked.contains(&parsed.0) {
            unasked += 1;
        } else if seen.insert(parsed.0.clone()) {
            found.push(parsed);
        }
    }
    if malformed > 0 || unasked > 0 {
        tracing::warn!(
            malformed,
            unasked,
            "the identity server's bulk_lookup answer has rows that were ignored"
        );
    }
    Ok(found)
}

fn row_of(row: &Value) -> Option<(ThreePid, UserId)> {
    let [medium, address, mxid] = row.as_array()?.as_slice() else {
        return None;
    };
    let medium = Medium::parse(medium.as_str()?).ok()?;
    let threepid = ThreePid::parse(medium, address.as_str()?).ok()?;
    let user = UserId::parse(mxid.as_str()?).ok()?;
    Some((threepid, user))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn email(address: &str) -> ThreePid {
        ThreePid::parse(Medium::Email, address).unwrap()
    }

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(object) => object,
            _ => panic!("not an object"),
        }
    }

    #[test]
    fn statuses_and_bodies_map_to_refusals_outages_and_invalid_answers() {
        let (ok, bytes) = interpret(StatusCode::OK, Ok(br#"{"sid":"1"}"#.to_vec()), 100).unwrap();
        assert_eq!(ok["sid"], "1");
        assert_eq!(bytes, br#"{"sid":"1"}"#);
        let refused = interpret(
            StatusCode::BAD_REQUEST,
            Ok(br#"{"errcode":"M_TOKEN_INCORRECT","error":"no"}"#.to_vec()),
            100,
        );
        assert!(
            matches!(refused, Err(RemoteError::Refused { ref errcode, ref error }) if errcode == "M_TOKEN_INCORRECT" && error == "no"),
            "{refused:?}"
        );
        assert!(matches!(
            interpret(StatusCode::BAD_GATEWAY, Ok(b"{}".to_vec()), 100),
            Err(RemoteError::Unreachable(_))
        ));
        for (status, body) in [
            (StatusCode::OK, &b"[1]"[..]),
            (StatusCode::OK, b"not json"),
            (StatusCode::NOT_FOUND, b"<html>"),
            (StatusCode::NOT_FOUND, b"{}"),
        ] {
            assert!(
                matches!(
                    interpret(status, Ok(body.to_vec()), 100),
                    Err(RemoteError::InvalidResponse(_))
                ),
                "{status} {body:?}"
            );
        }
        assert!(matches!(
            interpret(StatusCode::OK, Err(BodyError::TooLarge), 100),
            Err(RemoteError::InvalidResponse(why)) if why.contains("100 bytes")
        ));
    }

    #[test]
    fn bulk_lookup_keeps_well_formed_asked_rows_once() {
        let answer = object(json!({"threepids": [
            ["email", "a@example.org", "@a:example.org"],
            ["email", "a@example.org", "@a:example.org"],
            ["email", "b@example.org", "not a user"],
            ["email", "stranger@example.org", "@s:example.org"],
            ["email", "c@example.org"],
            "garbage",
        ]}));
        let asked = [
            email("a@example.org"),
            email("b@example.org"),
            email("c@example.org"),
        ];
        assert_eq!(
            bulk_lookup_rows(&answer, &asked).unwrap(),
            [(
                email("a@example.org"),
                UserId::parse("@a:example.org").unwrap()
            )]
        );
        assert!(bulk_lookup_rows(&object(json!({"x": 1})), &asked).is_err());
    }

    #[test]
    fn a_phone_number_is_sent_with_its_country_and_a_plus() {
        let request = RemoteTokenRequest {
            threepid: ThreePid::parse(Medium::Msisdn, "447911123456").unwrap(),
            client_secret: verity_domain::ClientSecret::parse("s3cret").unwrap(),
            send_attempt: verity_domain::SendAttempt::new(2),
        };
        assert_eq!(
            request_token_body(&request).unwrap(),
            json!({"client_secret": "s3cret", "send_attempt": 2, "country": "GB",
                   "phone_number": "+447911123456"})
        );
    }

    #[test]
    fn submissions_succeed_only_on_success_true() {
        assert!(submission(&object(json!({"success": true}))).is_ok());
        assert!(matches!(
            submission(&object(json!({"success": false}))),
            Err(RemoteError::Refused { .. })
        ));
        assert!(matches!(
            submission(&object(json!({}))),
            Err(RemoteError::InvalidResponse(_))
        ));
    }
}
