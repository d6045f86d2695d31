//! The server's public keys (Identity Service API, "Key management"), on v2 and on the deprecated
//! v1. No authentication: homeservers check invite signatures against these.
use std::sync::Arc;

use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use verity_application::ports::driving::{Invites, Keys};
use verity_domain::KeyId;

use super::ApiTags;
use crate::error::MatrixError;
use crate::errors_api::ApiError;

/// A public key.
#[derive(Debug, Object)]
pub struct PublicKeyBody {
    /// The key, unpadded standard base64.
    pub public_key: String,
}

/// Whether a public key is valid.
#[derive(Debug, Object)]
pub struct KeyValidity {
    /// `true` when the key is one this server issued and still honours.
    pub valid: bool,
}

/// The answer of `pubkey/isvalid`.
#[derive(Debug, ApiResponse)]
pub enum KeyValidityAnswer {
    /// Whether the key is valid.
    #[oai(status = 200)]
    Ok(Json<KeyValidity>),
    /// No `public_key` parameter (`M_MISSING_PARAMS`).
    #[oai(status = 400)]
    BadRequest(Json<MatrixError>),
}

/// The shared behaviour of both API versions.
struct PublicKeys {
    keys: Arc<dyn Keys>,
    /// The ephemeral keys of pending 3PID invites.
    invites: Arc<dyn Invites>,
}

impl PublicKeys {
    fn public_key(&self, key_id: &str) -> Result<Json<PublicKeyBody>, ApiError> {
        KeyId::parse(key_id)
            .ok()
            .and_then(|id| self.keys.public_key(&id))
            .map(|key| {
                Json(PublicKeyBody {
                    public_key: key.to_base64(),
                })
            })
            .ok_or_else(|| ApiError::not_found("No public key has this identifier"))
    }

    fn is_valid(&self, public_key: &str) -> KeyValidityAnswer {
        KeyValidityAnswer::Ok(Json(KeyValidity {
            valid: self.keys.is_valid(&restore_plus(public_key)),
        }))
    }

    /// Valid: a key of the key store's ephemeral directory (mxisd's), or the ephemeral key of an
    /// invite that has not expired.
    async fn is_valid_ephemeral(&self, public_key: &str) -> Result<Json<KeyValidity>, ApiError> {
        let public_key = restore_plus(public_key);
        let valid = self.keys.is_valid_ephemeral(&public_key)
            || self.invites.is_valid_ephemeral(&public_key).await?;
        Ok(Json(KeyValidity { valid }))
    }
}

/// A standard-base64 key sent unencoded in a query string has its `+` decoded as a space: put it
/// back, as ma1sd does. A space is never part of a key, so nothing valid is changed.
fn restore_plus(public_key: &str) -> String {
    public_key.replace(' ', "+")
}

/// The v2 key endpoints.
pub struct KeysApi {
    inner: PublicKeys,
}

impl KeysApi {
    pub(crate) fn new(keys: Arc<dyn Keys>, invites: Arc<dyn Invites>) -> Self {
        Self {
            inner: PublicKeys { keys, invites },
        }
    }
}

#[OpenApi(prefix_path = "/_matrix/identity/v2", tag = "ApiTags::Keys")]
impl KeysApi {
    /// Get the public key for the passed key ID.
    ///
    /// Answers for every long-term key the server holds, including one no longer valid
    /// (`/pubkey/isvalid` tells); 404 `M_NOT_FOUND` for an unknown identifier.
    #[oai(
        path = "/pubkey/:keyId",
        method = "get",
        operation_id = "getPubKeyV2",
        external_docs = "https://spec.matrix.org/v1.19/identity-service-api/#get_matrixidentityv2pubkeykeyid"
    )]
    async fn get_public_key(
        &self,
        /// The ID of the key, such as `ed25519:0`.
        #[oai(name = "keyId")]
        key_id: Path<String>,
    ) -> Result<Json<PublicKeyBody>, ApiError> {
        self.inner.public_key(&key_id.0)
    }

    /// Check whether a long-term public key is valid.
    ///
    /// The key must be exactly the string the server published, in the standard or the URL-safe
    /// base64 alphabet (spec v1.15).
    #[oai(
        path = "/pubkey/isvalid",
        method = "get",
        operation_id = "pubKeyIsValidV2",
        external_docs = "https://spec.matrix.org/v1.19/identity-service-api/#get_matrixidentityv2pubkeyisvalid"
    )]
    async fn is_public_key_valid(
        &self,
        /// The unpadded base64-encoded public key to check.
        public_key: Query<String>,
    ) -> KeyValidityAnswer {
        self.inner.is_valid(&public_key.0)
    }

    /// Check whether a short-term public key is valid.
    ///
    /// Ephemeral keys are made for 3PID invites and stay valid until the invite expires; the key
    /// must be exactly the string the server returned, in either base64 alphabet.
    #[oai(
        path = "/pubkey/ephemeral/isvalid",
        method = "get",
        operation_id = "ephemeralPubKeyIsValidV2",
        external_docs = "https://spec.matrix.org/v1.19/identity-service-api/#get_matrixidentityv2pubkeyephemeralisvalid"
    )]
    async fn is_ephemeral_public_key_valid(
        &self,
        /// The unpadded base64-encoded public key to check.
        public_key: Query<String>,
    ) -> Result<Json<KeyValidity>, ApiError> {
        self.inner.is_valid_ephemeral(&public_key.0).await
    }
}

/// The deprecated v1 key endpoints (served while `matrix.v1` is on; the `key_validity_url`s of
/// invites made by mxisd and sydent point here).
pub struct KeysV1Api {
    inner: PublicKeys,
}

impl KeysV1Api {
    pub(crate) fn new(keys: Arc<dyn Keys>, invites: Arc<dyn Invites>) -> Self {
        Self {
            inner: PublicKeys { keys, invites },
        }
    }
}

#[OpenApi(prefix_path = "/_matrix/identity/api/v1", tag = "ApiTags::KeysV1")]
impl KeysV1Api {
    /// Get the public key for the passed key ID (deprecated v1).
    #[oai(
        path = "/pubkey/:keyId",
        method = "get",
        operation_id = "getPubKeyV1",
        deprecated,
        external_docs = "https://spec.matrix.org/legacy/identity_service/r0.3.0.html#get-matrix-identity-api-v1-pubkey-keyid"
    )]
    async fn get_public_key_v1(
        &self,
        /// The ID of the key, such as `ed25519:0`.
        #[oai(name = "keyId")]
        key_id: Path<String>,
    ) -> Result<Json<PublicKeyBody>, ApiError> {
        self.inner.public_key(&key_id.0)
    }

    /// Check whether a long-term public key is valid (deprecated v1).
    #[oai(
        path = "/pubkey/isvalid",
        method = "get",
        operation_id = "pubKeyIsValidV1",
        deprecated,
        external_docs = "https://spec.matrix.org/legacy/identity_service/r0.3.0.html#get-matrix-identity-api-v1-pubkey-isvalid"
    )]
    async fn is_public_key_valid_v1(
        &self,
        /// The unpadded base64-encoded public key to check.
        public_key: Query<String>,
    ) -> KeyValidityAnswer {
        self.inner.is_valid(&public_key.0)
    }

    /// Check whether a short-term public key is valid (deprecated v1).
    #[oai(
        path = "/pubkey/ephemeral/isvalid",
        method = "get",
        operation_id = "ephemeralPubKeyIsValidV1",
        deprecated,
        external_docs = "https://spec.matrix.org/legacy/identity_service/r0.3.0.html#get-matrix-identity-api-v1-pubkey-ephemeral-isvalid"
    )]
    async fn is_ephemeral_public_key_valid_v1(
        &self,
        /// The unpadded base64-encoded public key to check.
        public_key: Query<String>,
    ) -> Result<Json<KeyValidity>, ApiError> {
        self.inner.is_valid_ephemeral(&public_key.0).await
    }
}
