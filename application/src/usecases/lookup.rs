//! Finding the Matrix user behind 3PIDs: v2 hashed lookups from the precomputed table, v2 `none`
//! and the v1 lookups through the backends in priority order, then, for allowed requesters, the
//! configured remote identity servers (recursive lookups, `forward.servers`).
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use async_trait::async_trait;
use verity_domain::{
    Addresses, Association, IpNetwork, LookupAlgorithm, PlainEntry, Requester, ServerLabel,
    SignedAssociation, ThreePid, UserId, in_networks,
};

use super::backends::{Backends, OnFailure};
use crate::ports::driven::{
    Binding, Clock, HashLookups, Published, RemoteIdentityServers, Signer, Unanswered,
};
use crate::ports::driving::{HashDetails, Lookup, LookupError, LookupRequest};

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

/// Recursive lookups: which remote servers are asked, and for whom (`forward.servers`,
/// `lookup.recursive.allowedCidr`, `lookup.recursive.trustedProxies`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecursionSettings {
    /// The labels of `matrix.identity.servers` asked, in order.
    pub servers: Vec<ServerLabel>,
    /// Requesters inside these networks may have their lookups forwarded.
    pub allowed: Vec<IpNetwork>,
    /// Reverse proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpNetwork>,
}

/// The lookup use case.
pub struct LookupService {
    /// The table `sha256` lookups are answered from.
    index: Arc<dyn HashLookups>,
    backends: Backends,
    signer: Arc<dyn Signer>,
    clock: Arc<dyn Clock>,
    settings: LookupSettings,
    recursion: Option<(Arc<dyn RemoteIdentityServers>, RecursionSettings)>,
}

impl LookupService {
    /// Wires the use case.
    pub fn new(
        index: Arc<dyn HashLookups>,
        backends: Backends,
        signer: Arc<dyn Signer>,
        clock: Arc<dyn Clock>,
        settings: LookupSettings,
    ) -> Self {
        Self {
            index,
            backends,
            signer,
            clock,
            settings,
            recursion: None,
        }
    }

    /// Forwards what the backends do not know to `remote`'s servers, for allowed requesters.
    #[must_use]
    pub fn with_recursion(
        mut self,
        remote: Arc<dyn RemoteIdentityServers>,
        settings: RecursionSettings,
    ) -> Self {
        self.recursion = (!settings.servers.is_empty()).then_some((remote, settings));
        self
    }

    /// Whether `requester`'s lookups may be forwarded: recursion is on, and the client address
    /// (behind trusted proxies) is inside the allowed networks.
    fn may_recurse(&self, requester: &Requester) -> bool {
        self.recursion.as_ref().is_some_and(|(_, settings)| {
            requester
                .client_ip(&settings.trusted_proxies)
                .is_some_and(|ip| in_networks(&settings.allowed, ip))
        })
    }

    /// What the remote servers know of `missing`, asked in label order, each only for what the
    /// earlier ones did not answer. A failing server is skipped with a warning: the local answer
    /// never fails because of a remote.
    async fn forward(&self, missing: Vec<ThreePid>) -> BTreeMap<ThreePid, UserId> {
        let mut found = BTreeMap::new();
        let Some((remote, settings)) = &self.recursion else {
            return found;
        };
        let mut missing: Vec<ThreePid> = missing
            .into_iter()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        for label in &settings.servers {
            if missing.is_empty() {
                break;
            }
            let answer = match remote.resolve(label).await {
                Ok(server) => remote.lookup(&server, &missing).await,
                Err(error) => Err(error),
            };
            match answer {
                Ok(rows) => {
                    tracing::debug!(
                        label = label.as_str(),
                        asked = missing.len(),
                        found = rows.len(),
                        "forwarded lookup"
                    );
                    for (threepid, user_id) in rows {
                        found.entry(threepid).or_insert(user_id);
                    }
                    missing.retain(|threepid| !found.contains_key(threepid));
                }
                Err(error) => tracing::warn!(
                    label = label.as_str(),
                    %error,
                    "a forwarded lookup failed; answering without this server"
                ),
            }
        }
        found
    }

    /// The backends' answer for `threepids`, completed by the remote servers when `requester`
    /// may have lookups forwarded.
    async fn find(
        &self,
        threepids: &[ThreePid],
        requester: &Requester,
    ) -> Result<BTreeMap<ThreePid, UserId>, LookupError> {
        let mut found: BTreeMap<ThreePid, UserId> = self
            .backends
            .lookup_many(threepids)
            .await?
            .into_iter()
            .map(|binding| (binding.threepid, binding.user_id))
            .collect();
        if self.may_recurse(requester) {
            let missing: Vec<ThreePid> = threepids
                .iter()
                .filter(|threepid| !found.contains_key(*threepid))
                .cloned()
                .collect();
            if !missing.is_empty() {
                found.extend(self.forward(missing).await);
            }
        }
        Ok(found)
    }

    /// A stored signed association as sydent's `/lookup` hands it out: verbatim when this
    /// server is among its signers, else with this server's signature added beside the stored
    /// ones. Signing adds an entry under this server's name, so the signers' names change exactly
    /// when this server was not among them.
    fn countersigned(&self, signed: &SignedAssociation) -> Result<SignedAssociation, LookupError> {
        let resigned = self.signer.sign(&signed.signed().to_object())?;
        Ok(if resigned.signers() == signed.signed().signers() {
            signed.clone()
        } else {
            SignedAssociation::signed_by(signed.association(), resigned)?
        })
    }

    /// `association` signed by this server.
    fn sign(&self, association: &Association) -> Result<SignedAssociation, LookupError> {
        let signed = self.signer.sign(&association.to_object())?;
        Ok(SignedAssociation::signed_by(association, signed)?)
    }

    /// The published pepper, `""` when hashing is off (as ma1sd).
    fn lookup_pepper(&self) -> String {
        self.index
            .pepper()
            .map(|pepper| pepper.as_str().to_owned())
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

    /// The asked hashes that are bound, from the index's table in memory.
    fn hashed(
        &self,
        pepper: &str,
        addresses: &Addresses,
    ) -> Result<BTreeMap<String, UserId>, LookupError> {
        if self.index.pepper().is_none() {
            return Ok(BTreeMap::new());
        }
        // Only hashes the client sent, each as sent: Element throws on any other key.
        match self.index.find(pepper, addresses) {
            Ok(found) => Ok(found
                .into_iter()
                .filter_map(|(position, user_id)| {
                    Some((addresses.get(position)?.to_owned(), user_id))
                })
                .collect()),
            Err(Unanswered::NotReady) => Err(LookupError::NotReady),
            // The pepper rotated since it was checked: the client asks again with the new one.
            Err(Unanswered::OtherPepper(lookup_pepper)) => Err(LookupError::InvalidPepper {
                algorithm: LookupAlgorithm::Sha256,
                lookup_pepper,
            }),
        }
    }

    async fn plain(
        &self,
        addresses: &Addresses,
        requester: &Requester,
    ) -> Result<BTreeMap<String, UserId>, LookupError> {
        let mut entries = Vec::with_capacity(addresses.len());
        for address in addresses.iter() {
            if let PlainEntry::ThreePid(threepid) = PlainEntry::parse(address)? {
                entries.push((address, threepid));
            }
        }
        let threepids: Vec<ThreePid> = entries.iter().map(|(_, t)| t.clone()).collect();
        let found = self.find(&threepids, requester).await?;
        // The keys are the strings the client sent, whatever their spelling.
        Ok(entries
            .into_iter()
            .filter_map(|(address, threepid)| {
                found
                    .get(&threepid)
                    .map(|u| (address.to_owned(), u.clone()))
            })
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
        requester: &Requester,
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
            LookupAlgorithm::Sha256 => self.hashed(&request.pepper, &request.addresses),
            LookupAlgorithm::None => self.plain(&request.addresses, requester).await,
        }
    }

    async fn lookup_signed(
        &self,
        threepid: &ThreePid,
        requester: &Requester,
    ) -> Result<Option<SignedAssociation>, LookupError> {
        let mut published = self
            .backends
            .lookup_published(threepid, OnFailure::Skip)
            .await?;
        if published.is_none() && self.may_recurse(requester) {
            published = self
                .forward(vec![threepid.clone()])
                .await
                .remove(threepid)
                .map(|user_id| Published::new(user_id, None));
        }
        let Some(published) = published else {
            return Ok(None);
        };
        if let Some(signed) = stored_for(&published, threepid) {
            let extra = signed.extra_fields();
            if extra.is_empty() {
                return Ok(Some(self.countersigned(signed)?));
            }
            // sydent 2.6.1 signed a stale `invites` list (other users' invite tokens, senders
            // and rooms) into later associations, and its lookup handed it to anyone who asked.
            // The association alone, with its own times, is signed again instead: with the
            // imported key under the same name, it verifies exactly as sydent's did.
            tracing::debug!(
                ?extra,
                "a stored association's extra fields are not handed out"
            );
            return Ok(Some(self.sign(signed.association())?));
        }
        // The association made at bind time, as sydent hands it out: same `ts`, `not_before`
        // and `not_after` (and so the same signature) as the bind's answer. A backend that keeps
        // no such time (a Synapse database), and a remote's answer, are vouched for now, as
        // mxisd did (it kept the remote's signatures beside its own; this port carries none).
        let since = published.since.unwrap_or_else(|| self.clock.now());
        let mut association = Association::vouched_at(threepid.clone(), published.user_id, since);
        if let Some((not_before, not_after)) = published.window {
            association.not_before = not_before;
            association.not_after = not_after;
        }
        Ok(Some(self.sign(&association)?))
    }

    async fn lookup_bulk(
        &self,
        threepids: &[ThreePid],
        requester: &Requester,
    ) -> Result<Vec<Binding>, LookupError> {
        self.check_size(threepids.len())?;
        let found = self.find(threepids, requester).await?;
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

/// The stored signed association of `published`, when it vouches for exactly this 3PID and user
/// (a row rebound here since would carry none, but a stale one is never handed out).
fn stored_for<'a>(published: &'a Published, threepid: &ThreePid) -> Option<&'a SignedAssociation> {
    published.signed.as_ref().filter(|signed| {
        let association = signed.association();
        association.threepid == *threepid && association.user_id == published.user_id
    })
}

#[cfg(test)]
#[path = "lookup_tests.rs"]
mod tests;
