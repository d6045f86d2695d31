//! [`LdapBackend`]: the [`IdentityBackend`] of a directory.
use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use verity_application::ports::driven::{BackendError, Binding, IdentityBackend};
use verity_domain::{Medium, ThreePid, UserId};

use crate::config::LdapConfig;
use crate::directory::{Directory, Entry, LdapError};
use crate::filter::{and_filter, any_of, equals, phone_candidates, present, substitute};
use crate::values;

/// How many 3PIDs of a bulk lookup go into one search (an OR of their matches).
const BATCH: usize = 50;

/// How long a directory read made by [`IdentityBackend::feed_len`] serves the feed that follows.
const FRESH: Duration = Duration::from_secs(60);

/// The 3PIDs of an LDAP directory, or Active Directory: single and bulk lookups search the
/// directory each time; the feed of the hashed-lookup table (with `ldap.identity.lookup`) reads
/// every entry with a 3PID attribute, page by page, and hands the bindings over sorted.
///
/// Nothing connects until the first request: a directory that is down makes requests fail
/// ([`BackendError::Unavailable`], with the keys to check), not Verity's start.
pub struct LdapBackend {
    /// The configuration section it was read from (`ldap`, or `netiq` for the same tree), its
    /// name in `/status` and in the logs.
    section: &'static str,
    config: Arc<LdapConfig>,
    directory: Directory,
    /// The media and their attributes, medium names parsed once.
    media: Vec<(Medium, Vec<String>)>,
    /// The bindings of the last whole read, which a feed that resumes pages through.
    snapshot: Mutex<Option<Snapshot>>,
    /// (entry DN, attribute) pairs whose invalid values were already logged.
    warned: Mutex<HashSet<(String, String)>>,
}

struct Snapshot {
    bindings: Arc<Vec<Binding>>,
    read_at: Instant,
    /// Made by `feed_len`, not yet used by a feed from its start.
    unused: bool,
}

/// A directory failure as the port's error, its message naming the keys to fix (logged by
/// whoever receives it; here only at debug level, so a directory that is down does not log
/// once a request).
fn unavailable(error: LdapError) -> BackendError {
    tracing::debug!(%error, "the LDAP directory failed");
    BackendError::Unavailable(Box::new(error))
}

/// The feed's key of a 3PID: medium, then address, as strings.
fn key(threepid: &ThreePid) -> (&str, &str) {
    let medium = match threepid {
        ThreePid::Email(_) => "email",
        ThreePid::Msisdn(_) => "msisdn",
        ThreePid::Other { medium, .. } => medium.as_str(),
    };
    (medium, threepid.address())
}

impl LdapBackend {
    /// The backend of `config`; connects on first use. Media whose names are not valid medium
    /// names are left out with a warning.
    pub fn new(config: LdapConfig) -> Self {
        let media = config
            .threepid_attributes
            .iter()
            .filter_map(|(name, attributes)| match Medium::parse(name) {
                Ok(medium) => Some((medium, attributes.clone())),
                Err(_) => {
                    tracing::warn!(medium = %name, "ldap.attribute.threepid: not a medium name; left out");
                    None
                }
            })
            .collect();
        let config = Arc::new(config);
        Self {
            section: "ldap",
            directory: Directory::new(Arc::clone(&config)),
            config,
            media,
            snapshot: Mutex::new(None),
            warned: Mutex::new(HashSet::new()),
        }
    }

    /// The section it was read from (`ldap`, `netiq`).
    pub fn section(&self) -> &'static str {
        self.section
    }

    /// The same backend named after the section it was read from (`netiq` for NetIQ
    /// eDirectory's copy of the `ldap` tree).
    #[must_use]
    pub fn named(mut self, section: &'static str) -> Self {
        self.section = section;
        self
    }

    /// The configuration.
    pub fn config(&self) -> &LdapConfig {
        &self.config
    }

    /// The connection to the directory.
    pub(crate) fn directory(&self) -> &Directory {
        &self.directory
    }

    /// The media and their attributes.
    pub(crate) fn media(&self) -> &[(Medium, Vec<String>)] {
        &self.media
    }

    /// Whether the directory answers (connection, bind, a read of the first base DN), for
    /// `/status`.
    ///
    /// # Errors
    /// [`BackendError::Unavailable`], its message naming the keys to check.
    pub async fn health(&self) -> Result<(), BackendError> {
        self.directory.check().await.map_err(unavailable)
    }

    fn attributes_of(&self, medium: &Medium) -> &[String] {
        self.media
            .iter()
            .find(|(known, _)| known == medium)
            .map_or(&[], |(_, attributes)| attributes.as_slice())
    }

    /// What a search reads: the uid and every 3PID attribute.
    fn wanted(&self) -> Vec<String> {
        let mut wanted = vec![self.config.uid_attribute.clone()];
        for (_, attributes) in &self.media {
            wanted.extend(attributes.iter().cloned());
        }
        wanted
    }

    /// The user of `entry`, or `None` (logged) when it has no usable uid.
    fn user_of(&self, entry: &Entry) -> Option<UserId> {
        let uid = entry.values(&self.config.uid_attribute).first();
        let user = uid.and_then(|uid| values::user_id(&self.config, uid));
        if user.is_none() {
            self.warn_once(
                entry,
                &self.config.uid_attribute,
                "no usable uid (ldap.attribute.uid)",
            );
        }
        user
    }

    /// The 3PIDs of `medium` `entry` holds, in canonical form; invalid values logged once.
    fn threepids_of(&self, entry: &Entry, medium: &Medium, attributes: &[String]) -> Vec<ThreePid> {
        let mut found = Vec::new();
        for attribute in attributes {
            if entry.binary.contains(&attribute.to_ascii_lowercase()) {
                self.warn_once(entry, attribute, "a value that is not UTF-8");
            }
            for value in entry.values(attribute) {
                match values::threepid(medium, value) {
                    Some(threepid) => found.push(threepid),
                    None => self.warn_once(entry, attribute, "a value that is not a valid address"),
                }
            }
        }
        found
    }

    fn warn_once(&self, entry: &Entry, attribute: &str, what: &str) {
        let first = self
            .warned
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert((entry.dn.clone(), attribute.to_ascii_lowercase()));
        if first {
            tracing::warn!(dn = %entry.dn, attribute, "LDAP entry left out of lookups: {what}");
        }
    }

    /// The filter finding the candidates for `threepid`: the operator's
    /// `identity.medium.<medium>` query, or an OR of matches on the medium's attributes; `None`
    /// for a medium the directory does not hold.
    fn query_of(&self, threepid: &ThreePid) -> Option<String> {
        let medium = threepid.medium();
        if let Some(template) = self.config.identity_queries.get(medium.as_str()) {
            return Some(substitute(
                template,
                &self.config.identity_token,
                threepid.address(),
            ));
        }
        let attributes = self.attributes_of(&medium);
        if attributes.is_empty() {
            return None;
        }
        let terms: Vec<String> = attributes
            .iter()
            .map(|attribute| match medium {
                Medium::Msisdn => phone_candidates(attribute, threepid.address()),
                Medium::Email | Medium::Other(_) => equals(attribute, threepid.address()),
            })
            .collect();
        Some(any_of(&terms))
    }

    /// The bindings of `asked` (all of one medium) the directory holds: one search for all,
    /// the candidates' values put in canonical form and compared exactly. With a custom query
    /// and no attribute for the medium, the query alone decides (as in ma1sd), so one 3PID a
    /// search.
    async fn find(
        &self,
        medium: &Medium,
        asked: &[&ThreePid],
    ) -> Result<Vec<Binding>, BackendError> {
        let queries: Vec<String> = asked
            .iter()
            .filter_map(|threepid| self.query_of(threepid))
            .collect();
        if queries.is_empty() {
            return Ok(Vec::new());
        }
        let filter = and_filter(self.config.effective_identity_filter(), &any_of(&queries));
        let entries = self
            .directory
            .search(&filter, &self.wanted())
            .await
            .map_err(unavailable)?;
        let attributes = self.attributes_of(medium);
        let mut found = Vec::new();
        for entry in &entries {
            let Some(user_id) = self.user_of(entry) else {
                continue;
            };
            if attributes.is_empty() {
                // A custom query over attributes Verity was not told about: trust it.
                if let [threepid] = asked {
                    found.push(Binding {
                        threepid: (*threepid).clone(),
                        user_id,
                    });
                    break;
                }
                continue;
            }
            let held = self.threepids_of(entry, medium, attributes);
            for threepid in asked {
                if held.contains(threepid)
                    && !found.iter().any(|b: &Binding| &b.threepid == *threepid)
                {
                    found.push(Binding {
                        threepid: (*threepid).clone(),
                        user_id: user_id.clone(),
                    });
                }
            }
        }
        Ok(found)
    }

    /// Every binding of the directory, sorted by (medium, address), each 3PID once (the first
    /// entry holding it, in the directory's order, wins; a 3PID held by two users is logged).
    async fn read_all(&self) -> Result<Arc<Vec<Binding>>, BackendError> {
        let terms: Vec<String> = self
            .media
            .iter()
            .flat_map(|(_, attributes)| attributes.iter().map(|attribute| present(attribute)))
            .collect();
        if terms.is_empty() {
            return Ok(Arc::new(Vec::new()));
        }
        let filter = and_filter(self.config.effective_identity_filter(), &any_of(&terms));
        let began = Instant::now();
        let entries = self
            .directory
            .search(&filter, &self.wanted())
            .await
            .map_err(unavailable)?;
        let mut bindings: BTreeMap<(String, String), Binding> = BTreeMap::new();
        // 3PIDs held by two users: counted and named once a read, not a line each (a directory
        // where a shared mailbox sits on every entry would write one per entry per refresh).
        let mut shared: usize = 0;
        let mut first_shared: Option<&str> = None;
        for entry in &entries {
            let Some(user_id) = self.user_of(entry) else {
                continue;
            };
            for (medium, attributes) in &self.media {
                for threepid in self.threepids_of(entry, medium, attributes) {
                    let (medium, address) = key(&threepid);
                    let slot = (medium.to_owned(), address.to_owned());
                    match bindings.get(&slot) {
                        Some(held) if held.user_id != user_id => {
                            shared += 1;
                            first_shared.get_or_insert(&entry.dn);
                        }
                        Some(_) => {}
                        None => {
                            bindings.insert(
                                slot,
                                Binding {
                                    threepid,
                                    user_id: user_id.clone(),
                                },
                            );
                        }
                    }
                }
            }
        }
        if let Some(dn) = first_shared {
            tracing::warn!(
                shared,
                first = %dn,
                "3PIDs of LDAP entries are also other users'; the first entry holding each keeps it"
            );
        }
        tracing::debug!(entries = entries.len(), bindings = bindings.len(), elapsed = ?began.elapsed(), "read the LDAP directory's 3PIDs");
        Ok(Arc::new(bindings.into_values().collect()))
    }

    /// The snapshot a feed page is cut from: a new read from the start (unless `feed_len` just
    /// made one), else the last read.
    async fn snapshot(&self, from_start: bool) -> Result<Arc<Vec<Binding>>, BackendError> {
        {
            let mut held = self.snapshot.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(snapshot) = held.as_mut() {
                let fresh = snapshot.unused && snapshot.read_at.elapsed() < FRESH;
                if !from_start || fresh {
                    snapshot.unused = false;
                    return Ok(Arc::clone(&snapshot.bindings));
                }
            }
        }
        self.read_into_snapshot(false).await
    }

    async fn read_into_snapshot(&self, unused: bool) -> Result<Arc<Vec<Binding>>, BackendError> {
        let bindings = self.read_all().await?;
        *self.snapshot.lock().unwrap_or_else(PoisonError::into_inner) = Some(Snapshot {
            bindings: Arc::clone(&bindings),
            read_at: Instant::now(),
            unused,
        });
        Ok(bindings)
    }
}

#[async_trait]
impl IdentityBackend for LdapBackend {
    fn name(&self) -> &'static str {
        self.section
    }

    async fn lookup(&self, threepid: &ThreePid) -> Result<Option<UserId>, BackendError> {
        let found = self.find(&threepid.medium(), &[threepid]).await?;
        Ok(found.into_iter().next().map(|binding| binding.user_id))
    }

    async fn lookup_many(&self, threepids: &[ThreePid]) -> Result<Vec<Binding>, BackendError> {
        let mut by_medium: BTreeMap<Medium, Vec<&ThreePid>> = BTreeMap::new();
        for threepid in threepids {
            let asked = by_medium.entry(threepid.medium()).or_default();
            if !asked.contains(&threepid) {
                asked.push(threepid);
            }
        }
        let mut found = Vec::new();
        for (medium, asked) in by_medium {
            let custom = self.config.identity_queries.contains_key(medium.as_str())
                && self.attributes_of(&medium).is_empty();
            let size = if custom { 1 } else { BATCH };
            for chunk in asked.chunks(size) {
                found.extend(self.find(&medium, chunk).await?);
            }
        }
        Ok(found)
    }

    async fn feed(
        &self,
        after: Option<ThreePid>,
        limit: u32,
    ) -> Result<Vec<Binding>, BackendError> {
        if !self.config.hash_lookup || limit == 0 {
            return Ok(Vec::new());
        }
        let bindings = self.snapshot(after.is_none()).await?;
        let start = match &after {
            None => 0,
            Some(after) => bindings.partition_point(|binding| key(&binding.threepid) <= key(after)),
        };
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        Ok(bindings.iter().skip(start).take(limit).cloned().collect())
    }

    async fn feed_len(&self) -> Result<Option<u64>, BackendError> {
        if !self.config.hash_lookup {
            return Ok(Some(0));
        }
        let bindings = self.read_into_snapshot(true).await?;
        Ok(u64::try_from(bindings.len()).ok())
    }
}
