//! Signing JSON objects and checking their signatures (Matrix specification, appendix "Signing
//! JSON"): the object without `signatures` and `unsigned`, in canonical JSON, signed with ed25519;
//! the unpadded base64 signature goes to `signatures[<entity>][<key id>]`.
use serde_json::{Map, Value};

use crate::canonical_json::{CanonicalJsonError, canonical_json};
use crate::keys::{KeyId, PublicKey, SigningKey};

/// Why an object could not be signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigningError {
    /// Only JSON objects can be signed.
    #[error("only a JSON object can be signed")]
    NotAnObject,
    /// `signatures`, or the entity's entry in it, is not an object (signatures cannot be added).
    #[error("`signatures` must map entity names to objects")]
    MalformedSignatures,
    /// The object has no canonical encoding.
    #[error(transparent)]
    Canonical(#[from] CanonicalJsonError),
    /// What came back signed is not the object that was to be signed (a signer must only add
    /// its signature).
    #[error("the signed object is not the one that was to be signed")]
    Altered,
}

/// Why a signature did not check out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerificationError {
    /// Only JSON objects carry signatures.
    #[error("only a JSON object carries signatures")]
    NotAnObject,
    /// No signature by this entity with this key.
    #[error("no signature by {entity} with {key_id}")]
    Missing {
        /// The entity looked for.
        entity: String,
        /// The key looked for.
        key_id: String,
    },
    /// The object has no canonical encoding.
    #[error(transparent)]
    Canonical(#[from] CanonicalJsonError),
    /// The signature is not base64, or does not match the object and key.
    #[error("the signature does not match")]
    Mismatch,
}

/// The bytes a signature covers: `object` without `signatures` and `unsigned`, canonical.
fn signed_bytes(object: &Map<String, Value>) -> Result<String, CanonicalJsonError> {
    let covered: Map<String, Value> = object
        .iter()
        .filter(|(name, _)| *name != "signatures" && *name != "unsigned")
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    canonical_json(&Value::Object(covered))
}

/// Signs `value` as `entity` with `key`, adding the signature to
/// `signatures[entity][key id]` and keeping every signature already there and `unsigned`.
///
/// # Errors
/// [`SigningError`]; `value` is left unchanged.
pub fn sign_json(value: &mut Value, entity: &str, key: &SigningKey) -> Result<(), SigningError> {
    let object = value.as_object_mut().ok_or(SigningError::NotAnObject)?;
    let malformed = match object.get("signatures") {
        None => false,
        Some(Value::Object(entities)) => entities.get(entity).is_some_and(|e| !e.is_object()),
        Some(_) => true,
    };
    if malformed {
        return Err(SigningError::MalformedSignatures);
    }
    let signature = key.sign(signed_bytes(object)?.as_bytes());
    let entities = object
        .entry("signatures")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(entities) = entities
        && let Value::Object(keys) = entities
            .entry(entity)
            .or_insert_with(|| Value::Object(Map::new()))
    {
        keys.insert(key.id().as_str().to_owned(), Value::String(signature));
    }
    Ok(())
}

/// Checks that `value` carries a valid signature by `entity` with the key `key_id`, whose public
/// half is `public_key`.
///
/// # Errors
/// [`VerificationError`] unless the signature is present and valid.
pub fn verify_json(
    value: &Value,
    entity: &str,
    key_id: &KeyId,
    public_key: &PublicKey,
) -> Result<(), VerificationError> {
    let object = value.as_object().ok_or(VerificationError::NotAnObject)?;
    let signature = object
        .get("signatures")
        .and_then(|s| s.get(entity))
        .and_then(|e| e.get(key_id.as_str()))
        .and_then(Value::as_str)
        .ok_or_else(|| VerificationError::Missing {
            entity: entity.to_owned(),
            key_id: key_id.as_str().to_owned(),
        })?;
    let bytes = signed_bytes(object)?;
    if public_key.verifies(bytes.as_bytes(), signature) {
        Ok(())
    } else {
        Err(VerificationError::Mismatch)
    }
}

#[cfg(test)]
#[path = "signing_tests.rs"]
mod tests;
