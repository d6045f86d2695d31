//! How the fake homeserver answers, by path: server keys, userinfo and `.well-known`.
use std::collections::HashMap;
use std::sync::Mutex;

use poem::http::StatusCode;
use poem::{Request, Response};
use verity_domain::{SigningKey, sign_json};

use super::{
    KEYS_PATH, ReceivedRequest, State, USERINFO_PATH, UserinfoReply, WELL_KNOWN_PATH,
    WellKnownReply,
};
use crate::serve::{self, json, json_ok, status_code, unrecognized};

/// The request as recorded, under `path`.
pub(super) fn received(req: &Request, path: &str) -> ReceivedRequest {
    ReceivedRequest {
        method: req.method().to_string(),
        path: path.to_owned(),
        host: req
            .headers()
            .get("host")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned),
    }
}

/// Records the request and answers it by path.
pub(super) fn handle(state: &Mutex<State>, req: Request) -> Response {
    let mut state = serve::lock(state);
    state.requests.push(received(&req, req.uri().path()));
    match req.uri().path() {
        KEYS_PATH => {
            state.key_fetches += 1;
            match &state.signing {
                Some((name, key)) => json(
                    200,
                    key_document(name, key, state.keys_valid_until).to_string(),
                ),
                None => unrecognized(),
            }
        }
        USERINFO_PATH => {
            state.userinfo_calls += 1;
            let query: HashMap<String, String> = req.params().unwrap_or_default();
            userinfo(&state, query.get("access_token").map(String::as_str))
        }
        WELL_KNOWN_PATH => match &state.well_known {
            Some(WellKnownReply::Answer {
                status,
                body,
                cache_control,
            }) => {
                let mut response = Response::builder()
                    .status(status_code(*status))
                    .header("content-type", "application/json");
                if let Some(value) = cache_control {
                    response = response.header("cache-control", value.as_str());
                }
                response.body(body.clone())
            }
            Some(WellKnownReply::Redirect(location)) => Response::builder()
                .status(StatusCode::FOUND)
                .header("location", location.as_str())
                .finish(),
            None => unrecognized(),
        },
        _ => unrecognized(),
    }
}

fn userinfo(state: &State, token: Option<&str>) -> Response {
    match &state.userinfo {
        UserinfoReply::Tokens => match token.and_then(|token| state.tokens.get(token)) {
            Some(sub) => json(200, serde_json::json!({ "sub": sub }).to_string()),
            None => json(
                401,
                r#"{"errcode":"M_UNKNOWN_TOKEN","error":"Access Token unknown or expired"}"#
                    .to_owned(),
            ),
        },
        UserinfoReply::Oversized { bytes, with_length } => {
            let padding = "x".repeat(bytes.saturating_sub(30));
            json_ok(
                format!(r#"{{"sub":"@a:b.c","pad":"{padding}"}}"#),
                *with_length,
            )
        }
        UserinfoReply::Fixed { status, body } => json(*status, body.clone()),
    }
}

/// A key document as a homeserver publishes it: valid for a day (or until `valid_until`),
/// self-signed.
fn key_document(name: &str, key: &SigningKey, valid_until: Option<u64>) -> serde_json::Value {
    let valid_until = valid_until.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
            + 86_400_000
    });
    let mut document = serde_json::json!({
        "server_name": name,
        "valid_until_ts": valid_until,
        "verify_keys": { key.id().as_str(): { "key": key.public_key().to_base64() } },
        "old_verify_keys": {},
    });
    sign_json(&mut document, name, key).expect("sign the key document");
    document
}
