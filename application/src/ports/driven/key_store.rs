use async_trait::async_trait;
use verity_domain::{KeyId, KeyKind, SigningKey};

use super::StoreError;

/// A key as a key store holds it: the key (identifier and seed) and whether it is still valid.
///
/// An invalid key is kept, not deleted: `/pubkey/{keyId}` still answers its public half, and
/// `/pubkey/isvalid` answers `false` for it (mxisd's `isValid: false`).
#[derive(Debug, Clone)]
pub struct StoredKey {
    /// The key.
    pub key: SigningKey,
    /// Whether it is still honoured.
    pub valid: bool,
}

/// The identity server's ed25519 keys: long-term (regular) keys, one of which signs, and the
/// ephemeral keys of 3PID invites.
///
/// Keys are what makes every signature this server ever issued checkable: implementations MUST
/// keep every key they were given, with its seed and validity unchanged, across restarts (a round
/// trip is the identity), and MUST NOT lose a key that `add` accepted, even on a crash right
/// after.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait KeyStore: Send + Sync {
    /// The regular key that signs (mxisd's `current`), or `None` before one was chosen.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] when the record is unreadable; [`StoreError::Unavailable`] when the
    /// store cannot be read.
    async fn current(&self) -> Result<Option<KeyId>, StoreError>;

    /// Every key of `kind`, valid or not, in identifier order.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] naming the key when a stored key is unreadable (never skip it
    /// silently: it may be the one that signs); [`StoreError::Unavailable`] when the store cannot
    /// be read.
    async fn keys(&self, kind: KeyKind) -> Result<Vec<StoredKey>, StoreError>;

    /// Stores a new key of `kind`.
    ///
    /// # Errors
    /// MUST return [`StoreError::Conflict`] when a key of this kind with this identifier exists,
    /// and change nothing; [`StoreError::Unavailable`] when it cannot be written.
    async fn add(&self, kind: KeyKind, key: &StoredKey) -> Result<(), StoreError>;

    /// Makes the regular key `id` the one that signs.
    ///
    /// # Errors
    /// MUST return [`StoreError::NotFound`] when no regular key has this identifier (and change
    /// nothing); [`StoreError::Unavailable`] when it cannot be written.
    async fn set_current(&self, id: &KeyId) -> Result<(), StoreError>;
}
