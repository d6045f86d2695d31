//! Requests signed by a homeserver (server-server API, "Request authentication"): the `X-Matrix`
//! Authorization header, the JSON object the origin signed, and the origin's published keys
//! (`GET /_matrix/key/v2/server`), which must be self-signed and still valid.
use serde_json::{Map, Value, json};

use crate::keys::{KeyId, PublicKey};
use crate::signing::{VerificationError, verify_json};
use crate::{ServerName, Timestamp};

/// Why an `X-Matrix` header or a key document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FederationAuthError {
    /// Not `X-Matrix origin=…,key=…,sig=…` (with an optional `destination`).
    #[error("malformed X-Matrix authorization: {0}")]
    Malformed(&'static str),
    /// The header names this server as the destination under another name.
    #[error("the request was signed for another destination")]
    WrongDestination,
    /// The origin's key document is not signed by the origin, names another server or has expired.
    #[error("the origin's keys cannot be trusted: {0}")]
    UntrustedKeys(String),
    /// The key the request names is not one of the origin's current keys.
    #[error("the origin has no current key {0}")]
    UnknownKey(String),
    /// The signature does not match the request.
    #[error(transparent)]
    Signature(#[from] VerificationError),
}

/// A parsed `Authorization: X-Matrix …` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XMatrixAuth {
    /// The homeserver that signed the request.
    pub origin: ServerName,
    /// The server the request was meant for, when the header says (required since spec v1.3).
    pub destination: Option<String>,
    /// The key the request was signed with.
    pub key: KeyId,
    /// The unpadded base64 signature.
    pub signature: String,
}

impl XMatrixAuth {
    /// Parses an `Authorization` header value: `X-Matrix` then comma-separated `name=value`
    /// parameters, values optionally double-quoted (with `\"` and `\\` escapes); names are
    /// case-insensitive, unknown ones ignored.
    ///
    /// # Errors
    /// [`FederationAuthError::Malformed`] naming what is wrong.
    pub fn parse(header: &str) -> Result<Self, FederationAuthError> {
        let (scheme, params) = header
            .trim()
            .split_once(char::is_whitespace)
            .ok_or(FederationAuthError::Malformed("no parameters"))?;
        if !scheme.eq_ignore_ascii_case("X-Matrix") {
            return Err(FederationAuthError::Malformed("not the X-Matrix scheme"));
        }
        let (mut origin, mut destination, mut key, mut signature) = (None, None, None, None);
        for (name, value) in parameters(params)? {
            match name.to_ascii_lowercase().as_str() {
                "origin" => origin = Some(value),
                "destination" => destination = Some(value),
                "key" => key = Some(value),
                "sig" => signature = Some(value),
                _ => {}
            }
        }
        let origin = origin.ok_or(FederationAuthError::Malformed("no origin"))?;
        let origin = ServerName::parse(&origin)
            .map_err(|_| FederationAuthError::Malformed("origin is not a server name"))?;
        let key = KeyId::parse(&key.ok_or(FederationAuthError::Malformed("no key"))?)
            .map_err(|_| FederationAuthError::Malformed("key is not an ed25519 key id"))?;
        let signature = signature.ok_or(FederationAuthError::Malformed("no sig"))?;
        Ok(Self {
            origin,
            destination,
            key,
            signature,
        })
    }

    /// Checks the request against the origin's current keys: `method`, `uri` (path and query, as
    /// sent), the name this server is known by (`destination`), and the JSON body if any.
    ///
    /// A homeserver signing for an identity server names it under `destination_is` (Synapse's
    /// `build_auth_headers(destination=None, destination_is=id_server)`, which ma1sd and sydent
    /// verify); the server-server form names it under `destination`. Either is accepted: both tie
    /// the signature to this server's name, so neither lets a request meant for another server
    /// through.
    ///
    /// # Errors
    /// [`FederationAuthError`] when the destination, key or signature does not match.
    pub fn verify(
        &self,
        method: &str,
        uri: &str,
        destination: &str,
        content: Option<&Value>,
        origin_keys: &[(KeyId, PublicKey)],
    ) -> Result<(), FederationAuthError> {
        if self
            .destination
            .as_deref()
            .is_some_and(|named| named != destination)
        {
            return Err(FederationAuthError::WrongDestination);
        }
        let public_key = origin_keys
            .iter()
            .find(|(id, _)| *id == self.key)
            .map(|(_, key)| key)
            .ok_or_else(|| FederationAuthError::UnknownKey(self.key.as_str().to_owned()))?;
        let origin = self.origin.to_string();
        let mut outcome = Ok(());
        for destination_key in ["destination_is", "destination"] {
            let mut request = Map::new();
            request.insert("method".into(), json!(method));
            request.insert("uri".into(), json!(uri));
            request.insert("origin".into(), json!(origin));
            request.insert(destination_key.into(), json!(destination));
            if let Some(content) = content {
                request.insert("content".into(), content.clone());
            }
            request.insert(
                "signatures".into(),
                json!({ origin.clone(): { self.key.as_str(): self.signature } }),
            );
            outcome = verify_json(&Value::Object(request), &origin, &self.key, public_key);
            if outcome.is_ok() {
                return Ok(());
            }
        }
        outcome.map_err(FederationAuthError::from)
    }
}

/// Splits `a=1, b="x,y"` into pairs, honouring quotes.
fn parameters(params: &str) -> Result<Vec<(String, String)>, FederationAuthError> {
    let mut pairs = Vec::new();
    let mut chars = params.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace() || *c == ',').is_some() {}
        if chars.peek().is_none() {
            return Ok(pairs);
        }
        let name: String =
            std::iter::from_fn(|| chars.next_if(|c| *c != '=' && *c != ',')).collect();
        if chars.next() != Some('=') {
            return Err(FederationAuthError::Malformed("a parameter has no value"));
        }
        let value = if chars.next_if_eq(&'"').is_some() {
            let mut value = String::new();
            loop {
                match chars.next() {
                    Some('"') => break value,
                    Some('\\') => value.push(
                        chars
                            .next()
                            .ok_or(FederationAuthError::Malformed("unterminated quote"))?,
                    ),
                    Some(c) => value.push(c),
                    None => return Err(FederationAuthError::Malformed("unterminated quote")),
                }
            }
        } else {
            std::iter::from_fn(|| chars.next_if(|c| *c != ','))
                .collect::<String>()
                .trim()
                .to_owned()
        };
        pairs.push((name.trim().to_owned(), value));
    }
}

/// The current keys of `server` from its key document (`GET /_matrix/key/v2/server`), once the
/// document is checked: it names `server`, is signed by `server` with one of the keys it lists,
/// and its `valid_until_ts` is later than `now`. Old keys (`old_verify_keys`) are not returned:
/// requests must be signed with a current key.
///
/// # Errors
/// [`FederationAuthError::UntrustedKeys`] saying which check failed.
pub fn verified_server_keys(
    document: &Value,
    server: &ServerName,
    now: Timestamp,
) -> Result<Vec<(KeyId, PublicKey)>, FederationAuthError> {
    let untrusted = |why: &str| FederationAuthError::UntrustedKeys(why.to_owned());
    let name = server.to_string();
    if document.get("server_name").and_then(Value::as_str) != Some(name.as_str()) {
        return Err(untrusted("the document names another server"));
    }
    let valid_until = document
        .get("valid_until_ts")
        .and_then(Value::as_u64)
        .ok_or_else(|| untrusted("no integer valid_until_ts"))?;
    if valid_until <= now.as_millis() {
        return Err(untrusted("the keys have expired"));
    }
    let listed = document
        .get("verify_keys")
        .and_then(Value::as_object)
        .ok_or_else(|| untrusted("no verify_keys"))?;
    let mut keys = Vec::new();
    for (id, entry) in listed {
        let (Ok(id), Some(Ok(key))) = (
            KeyId::parse(id),
            entry
                .get("key")
                .and_then(Value::as_str)
                .map(PublicKey::parse),
        ) else {
            continue; // Other algorithms, or malformed entries, are not usable.
        };
        keys.push((id, key));
    }
    let self_signed = keys
        .iter()
        .any(|(id, key)| verify_json(document, &name, id, key).is_ok());
    if !self_signed {
        return Err(untrusted("not signed by the server with one of its keys"));
    }
    Ok(keys)
}

#[cfg(test)]
#[path = "federation_tests.rs"]
mod tests;
