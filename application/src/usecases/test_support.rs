//! In-memory doubles for the use-case tests that need state rather than expectations: a hash
//! store and an identity backend.
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use verity_domain::{LookupHash, Medium, Pepper, ThreePid, Timestamp, UserId};

use crate::ports::driven::{
    BackendError, Binding, Clock, HashEntry, HashStore, HashTable, IdentityBackend, Published,
    SavedTable, SecretGenerator, StoreError,
};

pub(crate) fn email(address: &str) -> ThreePid {
    ThreePid::parse(Medium::Email, address).unwrap()
}

pub(crate) fn user(raw: &str) -> UserId {
    UserId::parse(raw).unwrap()
}

pub(crate) fn binding(address: &str, mxid: &str) -> Binding {
    Binding {
        threepid: email(address),
        user_id: user(mxid),
    }
}

pub(crate) fn pepper(raw: &str) -> Pepper {
    Pepper::parse(raw).unwrap()
}

/// A hash store in memory: `(pepper, hash) -> (binding, generation)`.
#[derive(Default)]
pub(crate) struct FakeHashStore {
    pub(crate) published: Mutex<Option<HashTable>>,
    pub(crate) rows: Mutex<BTreeMap<(String, String), (Binding, u64)>>,
    pub(crate) saved: Mutex<Option<SavedTable>>,
}

#[async_trait]
impl HashStore for FakeHashStore {
    async fn published(&self) -> Result<Option<HashTable>, StoreError> {
        Ok(self.published.lock().unwrap().clone())
    }

    async fn put(&self, table: &HashTable, entries: &[HashEntry]) -> Result<(), StoreError> {
        let mut rows = self.rows.lock().unwrap();
        for entry in entries {
            assert_eq!(
                entry.hash,
                LookupHash::of(&entry.binding.threepid, &table.pepper)
            );
            rows.insert(
                (table.pepper.as_str().into(), entry.hash.as_str().into()),
                (entry.binding.clone(), table.generation),
            );
        }
        Ok(())
    }

    async fn remove(&self, pepper: &Pepper, hash: &LookupHash) -> Result<(), StoreError> {
        self.rows
            .lock()
            .unwrap()
            .remove(&(pepper.as_str().into(), hash.as_str().into()));
        Ok(())
    }

    async fn find(
        &self,
        pepper: &Pepper,
        hashes: &[LookupHash],
    ) -> Result<Vec<HashEntry>, StoreError> {
        let rows = self.rows.lock().unwrap();
        Ok(hashes
            .iter()
            .filter_map(|hash| {
                rows.get(&(pepper.as_str().into(), hash.as_str().into()))
                    .map(|(binding, _)| HashEntry {
                        hash: hash.clone(),
                        binding: binding.clone(),
                    })
            })
            .collect())
    }

    async fn publish(&self, table: &HashTable) -> Result<(), StoreError> {
        self.rows
            .lock()
            .unwrap()
            .retain(|(pepper, _), (_, generation)| {
                pepper != table.pepper.as_str() || *generation >= table.generation
            });
        *self.published.lock().unwrap() = Some(table.clone());
        Ok(())
    }

    async fn publish_first(&self, table: &HashTable) -> Result<HashTable, StoreError> {
        let mut published = self.published.lock().unwrap();
        Ok(published.get_or_insert_with(|| table.clone()).clone())
    }

    async fn prune_other_peppers(&self, keep: &Pepper) -> Result<u64, StoreError> {
        let mut rows = self.rows.lock().unwrap();
        let before = rows.len();
        rows.retain(|(pepper, _), _| pepper == keep.as_str());
        Ok((before - rows.len()) as u64)
    }

    async fn save_table(&self, table: SavedTable) -> Result<(), StoreError> {
        *self.saved.lock().unwrap() = Some(table);
        Ok(())
    }

    async fn saved_table(&self, pepper: &Pepper) -> Result<Option<SavedTable>, StoreError> {
        Ok(self
            .saved
            .lock()
            .unwrap()
            .clone()
            .filter(|saved| saved.pepper == *pepper))
    }
}

/// An identity backend over a map that tests change while it is used.
pub(crate) struct FakeBackend {
    pub(crate) name: &'static str,
    pub(crate) bindings: Mutex<BTreeMap<ThreePid, UserId>>,
    pub(crate) failing: Mutex<bool>,
    /// When every binding was made, for a backend that keeps it (the binding store).
    pub(crate) since: Mutex<Option<Timestamp>>,
}

impl FakeBackend {
    pub(crate) fn new(name: &'static str, bindings: &[Binding]) -> Arc<Self> {
        Arc::new(Self {
            name,
            bindings: Mutex::new(
                bindings
                    .iter()
                    .map(|b| (b.threepid.clone(), b.user_id.clone()))
                    .collect(),
            ),
            failing: Mutex::new(false),
            since: Mutex::new(None),
        })
    }

    /// Makes the backend say every binding was made at `at`, as the binding store does.
    pub(crate) fn bound_at(&self, at: Timestamp) {
        *self.since.lock().unwrap() = Some(at);
    }

    pub(crate) fn set(&self, binding: &Binding) {
        self.bindings
            .lock()
            .unwrap()
            .insert(binding.threepid.clone(), binding.user_id.clone());
    }

    pub(crate) fn unset(&self, threepid: &ThreePid) {
        self.bindings.lock().unwrap().remove(threepid);
    }

    pub(crate) fn fail(&self) {
        *self.failing.lock().unwrap() = true;
    }

    fn check(&self) -> Result<(), BackendError> {
        if *self.failing.lock().unwrap() {
            return Err(BackendError::Corrupt("down".into()));
        }
        Ok(())
    }
}

#[async_trait]
impl IdentityBackend for FakeBackend {
    fn name(&self) -> &'static str {
        self.name
    }

    /// As Verity's own store, whose changes are recorded, when named after it.
    fn records_changes(&self) -> bool {
        self.name == "bindings"
    }

    async fn lookup(&self, threepid: &ThreePid) -> Result<Option<UserId>, BackendError> {
        self.check()?;
        Ok(self.bindings.lock().unwrap().get(threepid).cloned())
    }

    async fn lookup_published(
        &self,
        threepid: &ThreePid,
    ) -> Result<Option<Published>, BackendError> {
        let since = *self.since.lock().unwrap();
        Ok(self
            .lookup(threepid)
            .await?
            .map(|user_id| Published::new(user_id, since)))
    }

    async fn lookup_many(&self, threepids: &[ThreePid]) -> Result<Vec<Binding>, BackendError> {
        self.check()?;
        let bindings = self.bindings.lock().unwrap();
        Ok(threepids
            .iter()
            .filter_map(|threepid| {
                bindings.get(threepid).map(|user_id| Binding {
                    threepid: threepid.clone(),
                    user_id: user_id.clone(),
                })
            })
            .collect())
    }

    async fn feed(
        &self,
        after: Option<ThreePid>,
        limit: u32,
    ) -> Result<Vec<Binding>, BackendError> {
        self.check()?;
        let bindings = self.bindings.lock().unwrap();
        Ok(bindings
            .iter()
            .filter(|(threepid, _)| after.as_ref().is_none_or(|after| *threepid > after))
            .take(limit as usize)
            .map(|(threepid, user_id)| Binding {
                threepid: threepid.clone(),
                user_id: user_id.clone(),
            })
            .collect())
    }
}

/// A clock tests move.
pub(crate) struct FakeClock(pub(crate) Mutex<u64>);

impl FakeClock {
    pub(crate) fn at(millis: u64) -> Arc<Self> {
        Arc::new(Self(Mutex::new(millis)))
    }

    pub(crate) fn advance(&self, millis: u64) {
        *self.0.lock().unwrap() += millis;
    }
}

impl Clock for FakeClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(*self.0.lock().unwrap())
    }
}

/// Peppers `pepper1`, `pepper2`, ... in turn; nothing else.
#[derive(Default)]
pub(crate) struct CountingPeppers(pub(crate) Mutex<u32>);

impl SecretGenerator for CountingPeppers {
    fn session_id(&self) -> verity_domain::SessionId {
        unreachable!()
    }

    fn validation_token(&self, _: verity_domain::TokenKind) -> verity_domain::ValidationToken {
        unreachable!()
    }

    fn access_token(&self) -> verity_domain::AccessToken {
        unreachable!()
    }

    fn key_seed(&self) -> [u8; 32] {
        unreachable!()
    }

    fn invite_token(&self) -> verity_domain::InviteToken {
        unreachable!()
    }

    fn pepper(&self, length: usize) -> Pepper {
        let mut next = self.0.lock().unwrap();
        *next += 1;
        let raw = format!("pepper{next}");
        assert!(length >= 1);
        Pepper::parse(&raw).unwrap()
    }
}
