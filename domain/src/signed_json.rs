//! JSON that crosses a port as its exact text: an arbitrary JSON object (a homeserver-signed
//! request's body, an onbind body), and a signed one (what is signed, by which servers, with
//! which key ids). Kept as text rather than a parsed tree so that what a server signed, or a
//! remote server answered, reaches the client byte for byte, fields this code does not know
//! included.
use serde_json::{Map, Value};

use crate::keys::{KeyId, PublicKey, SigningKey};
use crate::signing::{SigningError, VerificationError, sign_json, verify_json};

/// Why a text is not a JSON object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a JSON object: {0}")]
pub struct NotAJsonObject(pub String);

/// A JSON object, kept as the text it was read from (or written as).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonObject(String);

impl JsonObject {
    /// Takes `text` verbatim once it is checked to be one JSON object.
    ///
    /// # Errors
    /// [`NotAJsonObject`] for anything else (not JSON, an array, a string...).
    pub fn parse(text: &str) -> Result<Self, NotAJsonObject> {
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(_)) => Ok(Self(text.to_owned())),
            Ok(_) => Err(NotAJsonObject("another JSON value".to_owned())),
            Err(error) => Err(NotAJsonObject(error.to_string())),
        }
    }

    /// The object `members` make, written compactly.
    pub fn from_map(members: Map<String, Value>) -> Self {
        Self(Value::Object(members).to_string())
    }

    /// `value` when it is an object.
    ///
    /// # Errors
    /// [`NotAJsonObject`] for another value.
    pub fn from_value(value: Value) -> Result<Self, NotAJsonObject> {
        match value {
            Value::Object(members) => Ok(Self::from_map(members)),
            _ => Err(NotAJsonObject("another JSON value".to_owned())),
        }
    }

    /// The object with `name` set to `value` (rewritten compactly).
    #[must_use]
    pub fn with_member(&self, name: &str, value: Value) -> Self {
        let mut members = match self.to_value() {
            Value::Object(members) => members,
            _ => Map::new(),
        };
        members.insert(name.to_owned(), value);
        Self::from_map(members)
    }

    /// The empty object `{}`.
    pub fn empty() -> Self {
        Self("{}".to_owned())
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The object as a tree (parsed again: it was checked to be one).
    pub fn to_value(&self) -> Value {
        serde_json::from_str(&self.0).unwrap_or_else(|_| Value::Object(Map::new()))
    }

    /// Its member names, sorted.
    pub fn keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = match self.to_value() {
            Value::Object(members) => members.into_iter().map(|(name, _)| name).collect(),
            _ => Vec::new(),
        };
        keys.sort();
        keys
    }
}

/// One signature a signed object carries: `signatures[server][key_id]`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SignatureRef {
    /// The signing entity (a server name).
    pub server: String,
    /// The key it signed with, as written (`ed25519:0`).
    pub key_id: String,
}

/// Why a text is not a signed JSON object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a signed JSON object: {0}")]
pub struct InvalidSignedJson(pub String);

/// A signed JSON object (Matrix specification, appendix "Signing JSON"), kept as its exact text:
/// every member but `signatures` and `unsigned` is covered by each signature in `signatures`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedJson {
    json: String,
}

impl SignedJson {
    /// Takes `text` verbatim once it is checked to be an object with a non-empty `signatures`
    /// object (whether a signature is valid is [`verify`](Self::verify)'s question).
    ///
    /// # Errors
    /// [`InvalidSignedJson`] naming what is wrong.
    pub fn parse(text: &str) -> Result<Self, InvalidSignedJson> {
        let value: Value =
            serde_json::from_str(text).map_err(|_| InvalidSignedJson("not JSON".to_owned()))?;
        let object = value
            .as_object()
            .ok_or_else(|| InvalidSignedJson("not a JSON object".to_owned()))?;
        let signed = object
            .get("signatures")
            .and_then(Value::as_object)
            .is_some_and(|signatures| !signatures.is_empty());
        if !signed {
            return Err(InvalidSignedJson("no signatures".to_owned()));
        }
        Ok(Self {
            json: text.to_owned(),
        })
    }

    /// `object` signed as `server` with `key`; the signatures it already carries are kept (a
    /// countersignature).
    ///
    /// # Errors
    /// [`SigningError`] when the object has no canonical JSON or a malformed `signatures`.
    pub fn sign(object: &JsonObject, server: &str, key: &SigningKey) -> Result<Self, SigningError> {
        let mut value = object.to_value();
        sign_json(&mut value, server, key)?;
        Ok(Self {
            json: value.to_string(),
        })
    }

    /// The exact text.
    pub fn as_str(&self) -> &str {
        &self.json
    }

    /// The object as a tree (parsed again: it was checked to be one).
    pub fn to_value(&self) -> Value {
        serde_json::from_str(&self.json).unwrap_or_else(|_| Value::Object(Map::new()))
    }

    /// The object, signatures included, as an arbitrary JSON object (to countersign it).
    pub fn to_object(&self) -> JsonObject {
        JsonObject(self.json.clone())
    }

    /// The member names the signatures cover (all but `signatures` and `unsigned`), sorted.
    pub fn signed_keys(&self) -> Vec<String> {
        self.to_object()
            .keys()
            .into_iter()
            .filter(|name| name != "signatures" && name != "unsigned")
            .collect()
    }

    /// Every signature it carries, by server then key id.
    pub fn signatures(&self) -> Vec<SignatureRef> {
        let value = self.to_value();
        let mut found: Vec<SignatureRef> = value
            .get("signatures")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .flat_map(|(server, keys)| {
                keys.as_object()
                    .into_iter()
                    .flatten()
                    .filter(|(_, signature)| signature.is_string())
                    .map(|(key_id, _)| SignatureRef {
                        server: server.clone(),
                        key_id: key_id.clone(),
                    })
            })
            .collect();
        found.sort();
        found
    }

    /// The names under `signatures`, sorted.
    pub fn signers(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .to_value()
            .get("signatures")
            .and_then(Value::as_object)
            .map(|signers| signers.keys().cloned().collect())
            .unwrap_or_default();
        names.sort();
        names
    }

    /// Whether `server` is among the signers.
    pub fn is_signed_by(&self, server: &str) -> bool {
        self.signers().iter().any(|name| name == server)
    }

    /// Checks the signature of `server` with `key_id`, whose public half is `public_key`.
    ///
    /// # Errors
    /// [`VerificationError`] unless that signature is present and valid.
    pub fn verify(
        &self,
        server: &str,
        key_id: &KeyId,
        public_key: &PublicKey,
    ) -> Result<(), VerificationError> {
        verify_json(&self.to_value(), server, key_id, public_key)
    }
}

#[cfg(test)]
#[path = "signed_json_tests.rs"]
mod tests;
