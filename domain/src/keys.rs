//! The identity server's ed25519 keys: their identifiers, the private seed and the public key
//! (Identity Service API, "Key management"; mxisd/ma1sd's key store).
//!
//! Keys are generated from seed bytes the caller draws from a CSPRNG: nothing here is random.
use std::fmt;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, general_purpose};

use crate::Timestamp;

/// The only signing algorithm the Matrix specification defines.
pub const ED25519: &str = "ed25519";

/// Why a key, key identifier or encoded key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidKey {
    /// Not `ed25519:<identifier>` with 1 to 255 characters of `[a-zA-Z0-9_-]`.
    #[error("{0:?} is not a key identifier (ed25519: then letters, digits, '_' or '-')")]
    Id(String),
    /// Not the base64 encoding of 32 bytes.
    #[error("the key is not the base64 encoding of 32 bytes")]
    Encoding,
}

/// Decodes standard or URL-safe base64, padded or not, ignoring non-zero trailing bits: what the
/// specification asks decoders to accept ("with or without padding"), and what mxisd's decoder
/// (commons-codec) accepted. The specification's own test seed has non-zero trailing bits.
pub(crate) fn decode_base64(encoded: &str) -> Option<Vec<u8>> {
    const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true);
    const STANDARD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT);
    const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT);
    let encoded = encoded.trim();
    STANDARD
        .decode(encoded)
        .or_else(|_| URL_SAFE.decode(encoded))
        .ok()
}

/// Unpadded standard base64, the encoding of every key and signature Verity writes.
pub(crate) fn encode_base64(bytes: &[u8]) -> String {
    general_purpose::STANDARD_NO_PAD.encode(bytes)
}

fn decode_32(encoded: &str) -> Result<[u8; 32], InvalidKey> {
    decode_base64(encoded)
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .ok_or(InvalidKey::Encoding)
}

/// Whether a key is the server's own long-term key or a short-lived one made for a 3PID invite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeyKind {
    /// A long-term key: signs associations; `/pubkey/isvalid` answers for it.
    Regular,
    /// A key made for one 3PID invite; `/pubkey/ephemeral/isvalid` answers for it.
    Ephemeral,
}

/// A signing key's identifier, `ed25519:<identifier>` (such as `ed25519:0`).
///
/// The specification's identifier grammar is `[a-zA-Z0-9_]`. `-` is accepted as well because
/// mxisd/ma1sd named keys with unpadded URL-safe base64, which may contain it, and an existing
/// installation must keep its key identifiers; identifiers Verity makes never contain it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId(String);

impl KeyId {
    /// Parses `ed25519:<identifier>`.
    ///
    /// # Errors
    /// [`InvalidKey::Id`] for another algorithm or an identifier outside `[a-zA-Z0-9_-]{1,255}`.
    pub fn parse(raw: &str) -> Result<Self, InvalidKey> {
        raw.strip_prefix("ed25519:")
            .and_then(|identifier| Self::from_identifier(identifier).ok())
            .ok_or_else(|| InvalidKey::Id(raw.to_owned()))
    }

    /// The ed25519 key with this identifier (mxisd's "serial", the file name in its key store).
    ///
    /// # Errors
    /// [`InvalidKey::Id`] for an identifier outside `[a-zA-Z0-9_-]{1,255}`.
    pub fn from_identifier(identifier: &str) -> Result<Self, InvalidKey> {
        let valid = (1..=255).contains(&identifier.len())
            && identifier
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if valid {
            Ok(Self(format!("{ED25519}:{identifier}")))
        } else {
            Err(InvalidKey::Id(format!("{ED25519}:{identifier}")))
        }
    }

    /// A new identifier in mxisd/ma1sd's format: the milliseconds since mxisd's epoch as 8
    /// big-endian bytes in unpadded URL-safe base64, then one alphanumeric character, so that
    /// identifiers sort roughly by age and stay short. Two deviations keep it within the
    /// specification's `[a-zA-Z0-9_]` grammar and free of randomness: `-` is written `_`, and the
    /// last character comes from the key's (random, public) first byte instead of a generator.
    pub fn generate(now: Timestamp, public_key: &PublicKey) -> Self {
        /// mxisd's epoch: 2018-12-31T23:00:00Z (meant as 2019-01-01 in Central European Time).
        const MXISD_EPOCH_MILLIS: u64 = 1_546_297_200_000;
        const ALPHANUMERIC: &[u8; 62] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let since = now.as_millis().saturating_sub(MXISD_EPOCH_MILLIS);
        let mut identifier = general_purpose::URL_SAFE_NO_PAD
            .encode(since.to_be_bytes())
            .replace('-', "_");
        let index = usize::from(public_key.0[0]) % ALPHANUMERIC.len();
        identifier.push(char::from(ALPHANUMERIC[index]));
        Self(format!("{ED25519}:{identifier}"))
    }

    /// `ed25519:0`: the identifier an invite's ephemeral key signs under (as sydent).
    pub fn ephemeral() -> Self {
        Self(format!("{ED25519}:0"))
    }

    /// The part after `ed25519:`.
    pub fn identifier(&self) -> &str {
        self.0.get(ED25519.len() + 1..).unwrap_or_default()
    }

    /// `ed25519:<identifier>`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An ed25519 public key.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey([u8; 32]);

impl PublicKey {
    /// Parses base64 (standard or URL-safe, padded or not) of 32 bytes.
    ///
    /// # Errors
    /// [`InvalidKey::Encoding`].
    pub fn parse(encoded: &str) -> Result<Self, InvalidKey> {
        decode_32(encoded).map(Self)
    }

    /// The raw 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Unpadded standard base64, as `/pubkey/{keyId}` answers it and mxisd/sydent write it.
    pub fn to_base64(&self) -> String {
        encode_base64(&self.0)
    }

    /// Unpadded URL-safe base64, the other encoding spec v1.15 allows (sydent encodes ephemeral
    /// keys so).
    pub fn to_base64_url(&self) -> String {
        general_purpose::URL_SAFE_NO_PAD.encode(self.0)
    }

    /// Whether `presented` is exactly this key's unpadded standard or URL-safe encoding. The
    /// specification asks for the exact string; nothing is decoded, so no other spelling passes.
    pub fn is_encoded_as(&self, presented: &str) -> bool {
        presented == self.to_base64() || presented == self.to_base64_url()
    }

    /// Whether `signature` (base64) is this key's ed25519 signature of `message`. Uses strict
    /// verification: small-order keys and non-canonical signatures fail, as in libsodium.
    pub fn verifies(&self, message: &[u8], signature: &str) -> bool {
        let Some(signature) = decode_base64(signature)
            .and_then(|bytes| <[u8; 64]>::try_from(bytes).ok())
            .map(|bytes| ed25519_dalek::Signature::from_bytes(&bytes))
        else {
            return false;
        };
        ed25519_dalek::VerifyingKey::from_bytes(&self.0)
            .is_ok_and(|key| key.verify_strict(message, &signature).is_ok())
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.to_base64())
    }
}

/// A named ed25519 signing key: its identifier and its private 32-byte seed.
///
/// The seed never shows in `Debug`, and is wiped from memory when the key is dropped.
#[derive(Clone)]
pub struct SigningKey {
    id: KeyId,
    key: ed25519_dalek::SigningKey,
}

impl SigningKey {
    /// The key with this seed (32 bytes from a CSPRNG, or read from a key store).
    pub fn from_seed(id: KeyId, seed: &[u8; 32]) -> Self {
        Self {
            id,
            key: ed25519_dalek::SigningKey::from_bytes(seed),
        }
    }

    /// A new key from a fresh seed (32 bytes from a CSPRNG), named by [`KeyId::generate`] at
    /// `now`.
    pub fn generate(seed: &[u8; 32], now: Timestamp) -> Self {
        let key = ed25519_dalek::SigningKey::from_bytes(seed);
        let public_key = PublicKey(key.verifying_key().to_bytes());
        Self {
            id: KeyId::generate(now, &public_key),
            key,
        }
    }

    /// The key whose seed is this base64 text (standard or URL-safe, padded or not), as mxisd's
    /// key files and sydent's configuration hold it.
    ///
    /// # Errors
    /// [`InvalidKey::Encoding`] unless it decodes to exactly 32 bytes.
    pub fn from_base64_seed(id: KeyId, encoded: &str) -> Result<Self, InvalidKey> {
        decode_32(encoded).map(|seed| Self::from_seed(id, &seed))
    }

    /// The key's identifier.
    pub fn id(&self) -> &KeyId {
        &self.id
    }

    /// The seed as unpadded standard base64, for a key store (mxisd's `key` field).
    pub fn seed_base64(&self) -> String {
        encode_base64(self.key.as_bytes())
    }

    /// The public half.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.key.verifying_key().to_bytes())
    }

    /// The ed25519 signature of `message`, as unpadded standard base64.
    pub fn sign(&self, message: &[u8]) -> String {
        use ed25519_dalek::Signer as _;
        encode_base64(&self.key.sign(message).to_bytes())
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("id", &self.id)
            .field("seed", &"<redacted>")
            .field("public_key", &self.public_key())
            .finish()
    }
}

#[cfg(test)]
#[path = "keys_tests.rs"]
mod tests;
