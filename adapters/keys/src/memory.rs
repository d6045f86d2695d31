//! `key.path: ":memory:"`: keys kept in memory only, as mxisd allowed (for tests and trials: a
//! restart makes a new key, and every signature made before can no longer be checked).
use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;
use verity_application::ports::driven::{KeyStore, StoreError, StoredKey};
use verity_domain::{KeyId, KeyKind};

/// A key store that forgets everything when the process ends.
#[derive(Debug, Default)]
pub struct MemoryKeyStore {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    current: Option<KeyId>,
    keys: BTreeMap<(KeyKind, KeyId), StoredKey>,
}

impl MemoryKeyStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl KeyStore for MemoryKeyStore {
    async fn current(&self) -> Result<Option<KeyId>, StoreError> {
        Ok(self.state().current.clone())
    }

    async fn keys(&self, kind: KeyKind) -> Result<Vec<StoredKey>, StoreError> {
        Ok(self
            .state()
            .keys
            .iter()
            .filter(|((k, _), _)| *k == kind)
            .map(|(_, stored)| stored.clone())
            .collect())
    }

    async fn add(&self, kind: KeyKind, key: &StoredKey) -> Result<(), StoreError> {
        let mut state = self.state();
        let slot = (kind, key.key.id().clone());
        if state.keys.contains_key(&slot) {
            return Err(StoreError::Conflict);
        }
        state.keys.insert(slot, key.clone());
        Ok(())
    }

    async fn set_current(&self, id: &KeyId) -> Result<(), StoreError> {
        let mut state = self.state();
        if !state.keys.contains_key(&(KeyKind::Regular, id.clone())) {
            return Err(StoreError::NotFound);
        }
        state.current = Some(id.clone());
        Ok(())
    }
}
