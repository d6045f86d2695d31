//! The server's ed25519 keys: choosing (or, on first start, making) the key that signs, answering
//! the `/pubkey` endpoints, and signing JSON as this server (the driven `Signer` port).
use std::sync::Arc;

use verity_domain::{JsonObject, KeyId, KeyKind, PublicKey, SignedJson, SigningError, SigningKey};

use crate::ports::driven::{Clock, KeyStore, SecretGenerator, Signer, StoreError, StoredKey};
use crate::ports::driving::Keys;

/// How many fresh seeds a first start tries before giving up on identifiers that are taken (one
/// clash is already a near impossibility).
const GENERATION_ATTEMPTS: usize = 5;

/// Why the keys could not be loaded at start.
#[derive(Debug, thiserror::Error)]
pub enum KeyStartError {
    /// The key store failed.
    #[error("the key store failed: {0}")]
    Store(#[from] StoreError),
    /// The store names a current key it does not hold.
    #[error("the current signing key {0} is not among the stored regular keys")]
    MissingCurrent(KeyId),
    /// Every generated identifier was already taken.
    #[error("could not find a free identifier for a new key")]
    NoFreeIdentifier,
}

/// A long-term key as the service answers for it.
#[derive(Debug, Clone)]
struct PublishedKey {
    id: KeyId,
    public_key: PublicKey,
    valid: bool,
}

/// The keys use case.
///
/// The store is read once, by [`KeyService::start`]: Verity owns its key store while it runs (as
/// mxisd did), so requests never touch the disk. Keys added later (ephemeral keys of 3PID invites)
/// must go through this service so that its answers stay current.
#[derive(Debug)]
pub struct KeyService {
    server_name: String,
    signing: SigningKey,
    regular: Vec<PublishedKey>,
    ephemeral: Vec<PublicKey>,
}

impl KeyService {
    /// Loads the keys and settles which one signs, as mxisd did: the key the store names as
    /// current; else the first valid regular key (then recorded as current); else a new key made
    /// from a fresh seed, stored, recorded as current and logged with its identifier.
    ///
    /// `server_name` is the entity signatures are made as (`server.name`).
    ///
    /// # Errors
    /// [`KeyStartError`]: never guess when the store is broken, since signing with the wrong key
    /// would break every association already published.
    pub async fn start(
        store: Arc<dyn KeyStore>,
        secrets: &dyn SecretGenerator,
        clock: &dyn Clock,
        server_name: String,
    ) -> Result<Self, KeyStartError> {
        let mut regular = store.keys(KeyKind::Regular).await?;
        let signing = match store.current().await? {
            Some(id) => regular
                .iter()
                .find(|stored| stored.key.id() == &id)
                .map(|stored| stored.key.clone())
                .ok_or(KeyStartError::MissingCurrent(id))?,
            None => {
                let signing = match regular.iter().find(|stored| stored.valid) {
                    Some(stored) => {
                        tracing::info!(key_id = %stored.key.id(), "signing with the first valid stored key");
                        stored.key.clone()
                    }
                    None => {
                        let stored = generate(store.as_ref(), secrets, clock).await?;
                        let key = stored.key.clone();
                        regular.push(stored);
                        key
                    }
                };
                store.set_current(signing.id()).await?;
                signing
            }
        };
        let signing_is_valid = regular
            .iter()
            .any(|stored| stored.valid && stored.key.id() == signing.id());
        if !signing_is_valid {
            tracing::warn!(
                key_id = %signing.id(),
                "the current signing key is marked invalid: its signatures will not be trusted"
            );
        }
        let ephemeral = store
            .keys(KeyKind::Ephemeral)
            .await?
            .into_iter()
            .filter(|stored| stored.valid)
            .map(|stored| stored.key.public_key())
            .collect();
        tracing::info!(key_id = %signing.id(), public_key = %signing.public_key().to_base64(), "signing key loaded");
        Ok(Self {
            server_name,
            regular: regular
                .into_iter()
                .map(|stored| PublishedKey {
                    id: stored.key.id().clone(),
                    public_key: stored.key.public_key(),
                    valid: stored.valid,
                })
                .collect(),
            signing,
            ephemeral,
        })
    }

    /// The identifier of the key that signs.
    pub fn signing_key_id(&self) -> &KeyId {
        self.signing.id()
    }
}

/// Makes, stores and logs a new valid regular key.
pub(super) async fn generate(
    store: &dyn KeyStore,
    secrets: &dyn SecretGenerator,
    clock: &dyn Clock,
) -> Result<StoredKey, KeyStartError> {
    for _ in 0..GENERATION_ATTEMPTS {
        let stored = StoredKey {
            key: SigningKey::generate(&secrets.key_seed(), clock.now()),
            valid: true,
        };
        match store.add(KeyKind::Regular, &stored).await {
            Ok(()) => {
                tracing::info!(
                    key_id = %stored.key.id(),
                    public_key = %stored.key.public_key().to_base64(),
                    "generated a new signing key (back up the key store)"
                );
                return Ok(stored);
            }
            Err(StoreError::Conflict) => continue,
            Err(error) => return Err(error.into()),
        }
    }
    Err(KeyStartError::NoFreeIdentifier)
}

impl Keys for KeyService {
    fn public_key(&self, id: &KeyId) -> Option<PublicKey> {
        self.regular
            .iter()
            .find(|key| &key.id == id)
            .map(|key| key.public_key)
    }

    fn is_valid(&self, public_key: &str) -> bool {
        self.regular
            .iter()
            .any(|key| key.valid && key.public_key.is_encoded_as(public_key))
    }

    fn is_valid_ephemeral(&self, public_key: &str) -> bool {
        self.ephemeral
            .iter()
            .any(|key| key.is_encoded_as(public_key))
    }
}

impl Signer for KeyService {
    fn sign(&self, object: &JsonObject) -> Result<SignedJson, SigningError> {
        SignedJson::sign(object, &self.server_name, &self.signing)
    }
}

#[cfg(test)]
#[path = "keys_tests.rs"]
mod tests;
