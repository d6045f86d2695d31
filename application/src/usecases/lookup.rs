//! Finding the Matrix user behind 3PIDs: v2 hashed lookups from the precomputed table, v2 `none`
//! and the v1 lookups through the backends in priority order.
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;
use verity_domain::{Association, LookupAlgorithm, LookupHash, PlainEntry, ThreePid, UserId};

use super::backends::{Backends, OnFailure};
use super::hash_index::HashIndex;
use crate::ports::driven::{Binding, Clock, HashStore};
use crate::ports::driving::{HashDetails, Keys, Lookup, LookupError, LookupRequest};

/// sydent's cap on the addresses of one request.
pub const DEFAULT_MAX_ADDRESSES: usize = 10_000;

/// What the lookup use case needs from configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupSettings {
    /// The most addresses one request may carry (`lookup.maxAddresses`).
    pub max_addresses: usize,
    /// The algorithms `/lookup` accepts (`hashing.algorithms`; `sha256` only while hashing is
    /// on).
    pub algorithms: Vec<LookupAlgorithm>,
}

/// The lookup use case.
pub struct LookupService {
    index: Arc<HashIndex>,
    hashes: Arc<dyn HashStore>,
    backends: Backends,
    keys: Arc<dyn Keys>,
    clock: Arc<dyn Clock>,
    settings: LookupSettings,
}

impl LookupService {
    /// Wires the use case.
    pub fn new(
        index: Arc<HashIndex>,
        hashes: Arc<dyn HashStore>,
        backends: Backends,
        keys: Arc<dyn Keys>,
        clock: Arc<dyn Clock>,
        settings: LookupSettings,
    ) -> Self {
        Self {
            index,
            hashes,
            backends,
            keys,
            clock,
            settings,
        }
    }

    /// The published pepper, `""` when hashing is off (as ma1sd).
    fn lookup_pepper(&self) -> String {
        self.index
            .published()
            .map(|table| table.pepper.as_str().to_owned())
            .unwrap_or_default()
    }

    fn check_size(&self, count: usize) -> Result<(), LookupError> {
        if count > self.settings.max_addresses {
            return Err(LookupError::TooLarge {
                max: self.settings.max_addresses,
            });
        }
        Ok(())
    }

    async fn hashed(
        &self,
        addresses: Vec<String>,
    ) -> Result<BTreeMap<String, UserId>, LookupError> {
        let Some(table) = self.index.published() else {
            return Ok(BTreeMap::new());
        };
        let asked: BTreeSet<LookupHash> =
            addresses.into_iter().map(LookupHash::from_client).collect();
        let asked: Vec<LookupHash> = asked.into_iter().collect();
        let entries = self.hashes.find(&table.pepper, &asked).await?;
        // Only hashes the client sent: Element throws on any other.
        Ok(entries
            .into_iter()
            .filter(|entry| asked.binary_search(&entry.hash).is_ok())
            .map(|entry| (entry.hash.as_str().to_owned(), entry.binding.user_id))
            .collect())
    }

    async fn plain(&self, addresses: Vec<String>) -> Result<BTreeMap<String, UserId>, LookupError> {
        let mut entries = Vec::with_capacity(addresses.len());
        for address in addresses {
            if let PlainEntry::ThreePid(threepid) = PlainEntry::parse(&address)? {
                entries.push((address, threepid));
            }
        }
        let threepids: Vec<ThreePid> = entries.iter().map(|(_, t)| t.clone()).collect();
        let found: BTreeMap<ThreePid, UserId> = self
            .backends
            .lookup_many(&threepids)
            .await?
            .into_iter()
            .map(|binding| (binding.threepid, binding.user_id))
            .collect();
        // The keys are the strings the client sent, whatever their spelling.
        Ok(entries
            .into_iter()
            .filter_map(|(address, threepid)| found.get(&threepid).map(|u| (address, u.clone())))
            .collect())
    }
}

#[async_trait]
impl Lookup for LookupService {
    async fn hash_details(&self) -> HashDetails {
        HashDetails {
            lookup_pepper: self.lookup_pepper(),
            algorithms: self.settings.algorithms.clone(),
        }
    }

    async fn lookup(
        &self,
        request: LookupRequest,
    ) -> Result<BTreeMap<String, UserId>, LookupError> {
        self.check_size(request.addresses.len())?;
        let algorithm = LookupAlgorithm::parse(&request.algorithm)
            .filter(|algorithm| self.settings.algorithms.contains(algorithm))
            .ok_or_else(|| LookupError::UnsupportedAlgorithm(request.algorithm.clone()))?;
        let lookup_pepper = self.lookup_pepper();
        if request.pepper != lookup_pepper {
            return Err(LookupError::InvalidPepper {
                algorithm,
                lookup_pepper,
            });
        }
        self.index.count_lookup();
        match algorithm {
            LookupAlgorithm::Sha256 => self.hashed(request.addresses).await,
            LookupAlgorithm::None => self.plain(request.addresses).await,
        }
    }

    async fn lookup_signed(&self, threepid: &ThreePid) -> Result<Option<Value>, LookupError> {
        let Some(user_id) = self.backends.lookup(threepid, OnFailure::Skip).await? else {
            return Ok(None);
        };
        let association = Association::vouched_at(threepid.clone(), user_id, self.clock.now());
        Ok(Some(self.keys.sign(association.to_json())?))
    }

    async fn lookup_bulk(&self, threepids: &[ThreePid]) -> Result<Vec<Binding>, LookupError> {
        self.check_size(threepids.len())?;
        let found: BTreeMap<ThreePid, UserId> = self
            .backends
            .lookup_many(threepids)
            .await?
            .into_iter()
            .map(|binding| (binding.threepid, binding.user_id))
            .collect();
        // In the order asked, each 3PID once.
        let mut seen = BTreeSet::new();
        Ok(threepids
            .iter()
            .filter(|threepid| seen.insert(*threepid))
            .filter_map(|threepid| {
                found.get(threepid).map(|user_id| Binding {
                    threepid: threepid.clone(),
                    user_id: user_id.clone(),
                })
            })
            .collect())
    }
}

#[cfg(test)]
#[path = "lookup_tests.rs"]
mod tests;
