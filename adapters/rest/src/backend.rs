//! [`RestBackend`]: the [`IdentityBackend`] of the operator's HTTP service.
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::{Map, Value, json};
use verity_application::ports::driven::{BackendError, Binding, IdentityBackend};
use verity_domain::{ThreePid, UserId};

use crate::answer::{self, bulk_request, single_request};
use crate::client::{Http, RestError, malformed};
use crate::config::{BackendUrl, RestConfig};

/// The keys of the endpoints this backend calls, as errors name them.
pub(crate) const SINGLE_KEY: &str = "rest.endpoints.identity.single";
pub(crate) const BULK_KEY: &str = "rest.endpoints.identity.bulk";
pub(crate) const ALL_KEY: &str = "rest.endpoints.identity.all";

/// How long a read made by [`IdentityBackend::feed_len`] serves the feed that follows.
const FRESH: Duration = Duration::from_secs(60);

/// The 3PIDs of the operator's REST service, in ma1sd's contract: a single lookup `POST`s one
/// 3PID to `identity.single`, a bulk lookup all of them to `identity.bulk` in one request, and
/// the hashed-lookup table's feed (Verity's `identity.all`, off unless set) reads every binding
/// in one request, sorted here and paged from memory.
///
/// Nothing is requested before the first lookup: a backend that is down makes requests fail
/// ([`BackendError::Unavailable`], naming the key to check), not Verity's start.
pub struct RestBackend {
    config: Arc<RestConfig>,
    http: Http,
    /// The bindings of the last whole read, which a feed that resumes pages through.
    snapshot: Mutex<Option<Snapshot>>,
}

struct Snapshot {
    bindings: Arc<Vec<Binding>>,
    read_at: Instant,
    /// Made by `feed_len`, not yet used by a feed from its start.
    unused: bool,
}

/// A failure as the port's error; logged by whoever receives it (at debug here, so a backend
/// that is down does not log once a request).
pub(crate) fn backend_error(error: RestError) -> BackendError {
    tracing::debug!(%error, "the REST backend failed");
    match error {
        RestError::Malformed { .. } => BackendError::Corrupt(error.to_string()),
        other => BackendError::Unavailable(Box::new(other)),
    }
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

impl RestBackend {
    /// The backend of `config`; asks nothing until the first lookup.
    ///
    /// # Errors
    /// [`RestError::Setup`] when the HTTP client cannot be built.
    pub fn new(config: RestConfig) -> Result<Self, RestError> {
        let http = Http::new(&config)?;
        Ok(Self {
            config: Arc::new(config),
            http,
            snapshot: Mutex::new(None),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &RestConfig {
        &self.config
    }

    /// The HTTP client.
    pub(crate) fn http(&self) -> &Http {
        &self.http
    }

    /// Whether the backend answers, for `/status`: a single lookup (or, with that endpoint off,
    /// a bulk one) of `health-check@verity.invalid`, a name that cannot exist (RFC 2606), which
    /// must be answered with a JSON object or 404. With no lookup endpoint at all, `identity.all`
    /// is read instead; with none of them, there is nothing to check.
    ///
    /// # Errors
    /// [`BackendError::Unavailable`] (or `Corrupt`), naming the key to check.
    pub async fn health(&self) -> Result<(), BackendError> {
        let probe = ThreePid::parse(verity_domain::Medium::Email, "health-check@verity.invalid")
            .map_err(|error| BackendError::Corrupt(error.to_string()))?;
        let endpoints = &self.config.endpoints;
        let asked = if let Some(url) = &endpoints.identity_single {
            self.http
                .post(SINGLE_KEY, url, &single_request(&probe), true)
                .await
        } else if let Some(url) = &endpoints.identity_bulk {
            self.http
                .post(BULK_KEY, url, &bulk_request(&[&probe]), true)
                .await
        } else if let Some(url) = &endpoints.identity_all {
            self.http.post(ALL_KEY, url, &json!({}), false).await
        } else {
            return Ok(());
        };
        asked.map(|_| ()).map_err(backend_error)
    }

    /// The bindings of a bulk or `all` answer: each entry's 3PID in canonical form and its user,
    /// kept when `keep` says so; the first entry of a 3PID wins. An entry that is no binding is
    /// left out with a warning (once an answer, with the count).
    fn bindings_of(
        &self,
        key: &'static str,
        answer: &Map<String, Value>,
        keep: impl Fn(&ThreePid) -> bool,
    ) -> Result<BTreeMap<(String, String), Binding>, RestError> {
        let list = answer::bulk_lookup(answer).map_err(|why| malformed(key, why))?;
        let mut found = BTreeMap::new();
        let mut invalid: usize = 0;
        let mut first_invalid: Option<String> = None;
        for entry in list {
            let binding = match entry {
                Value::Object(entry) => answer::threepid_of(entry).and_then(|threepid| {
                    answer::user_of(entry, &self.config.matrix_domain)
                        .map(|user_id| Binding { threepid, user_id })
                }),
                _ => Err("an entry is not a JSON object".to_owned()),
            };
            match binding {
                Ok(binding) if keep(&binding.threepid) => {
                    let (medium, address) = key_of(&binding.threepid);
                    found.entry((medium, address)).or_insert(binding);
                }
                Ok(_) => {}
                Err(why) => {
                    invalid += 1;
                    first_invalid.get_or_insert(why);
                }
            }
        }
        if let Some(first) = first_invalid {
            tracing::warn!(key, invalid, first = %first, "entries of the REST backend's answer are not bindings; left out");
        }
        Ok(found)
    }

    /// Every binding of `identity.all`, sorted by (medium, address).
    async fn read_all(&self, url: &BackendUrl) -> Result<Arc<Vec<Binding>>, BackendError> {
        let began = Instant::now();
        let answer = self
            .http
            .post(ALL_KEY, url, &json!({}), false)
            .await
            .and_then(|answer| answer.ok_or_else(|| malformed(ALL_KEY, "no answer")))
            .map_err(backend_error)?;
        let bindings = self
            .bindings_of(ALL_KEY, &answer, |_| true)
            .map_err(backend_error)?;
        tracing::debug!(bindings = bindings.len(), elapsed = ?began.elapsed(), "read the REST backend's bindings");
        Ok(Arc::new(bindings.into_values().collect()))
    }

    /// The snapshot a feed page is cut from: a new read from the start (unless `feed_len` just
    /// made one), else the last read.
    async fn snapshot(
        &self,
        url: &BackendUrl,
        from_start: bool,
    ) -> Result<Arc<Vec<Binding>>, BackendError> {
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
        self.read_into_snapshot(url, false).await
    }

    async fn read_into_snapshot(
        &self,
        url: &BackendUrl,
        unused: bool,
    ) -> Result<Arc<Vec<Binding>>, BackendError> {
        let bindings = self.read_all(url).await?;
        *self.snapshot.lock().unwrap_or_else(PoisonError::into_inner) = Some(Snapshot {
            bindings: Arc::clone(&bindings),
            read_at: Instant::now(),
            unused,
        });
        Ok(bindings)
    }
}

fn key_of(threepid: &ThreePid) -> (String, String) {
    let (medium, address) = key(threepid);
    (medium.to_owned(), address.to_owned())
}

#[async_trait]
impl IdentityBackend for RestBackend {
    fn name(&self) -> &'static str {
        "rest"
    }

    async fn lookup(&self, threepid: &ThreePid) -> Result<Option<UserId>, BackendError> {
        let Some(url) = &self.config.endpoints.identity_single else {
            return Ok(None);
        };
        // ma1sd read any non-2xx as "not found"; a 404 still is, other statuses are failures
        // (logged, and answered by the other backends).
        let Some(answer) = self
            .http
            .post(SINGLE_KEY, url, &single_request(threepid), true)
            .await
            .map_err(backend_error)?
        else {
            return Ok(None);
        };
        let lookup = answer::single_lookup(&answer)
            .map_err(|why| backend_error(malformed(SINGLE_KEY, why)))?;
        lookup
            .map(|lookup| answer::user_of(lookup, &self.config.matrix_domain))
            .transpose()
            .map_err(|why| backend_error(malformed(SINGLE_KEY, why)))
    }

    async fn lookup_many(&self, threepids: &[ThreePid]) -> Result<Vec<Binding>, BackendError> {
        let Some(url) = &self.config.endpoints.identity_bulk else {
            return Ok(Vec::new());
        };
        let asked: BTreeSet<&ThreePid> = threepids.iter().collect();
        if asked.is_empty() {
            return Ok(Vec::new());
        }
        let list: Vec<&ThreePid> = asked.iter().copied().collect();
        let Some(answer) = self
            .http
            .post(BULK_KEY, url, &bulk_request(&list), true)
            .await
            .map_err(backend_error)?
        else {
            return Ok(Vec::new());
        };
        // Only what was asked: a backend answering more is not believed for the rest.
        let found = self
            .bindings_of(BULK_KEY, &answer, |threepid| asked.contains(threepid))
            .map_err(backend_error)?;
        Ok(found.into_values().collect())
    }

    async fn feed(
        &self,
        after: Option<ThreePid>,
        limit: u32,
    ) -> Result<Vec<Binding>, BackendError> {
        let Some(url) = &self.config.endpoints.identity_all else {
            return Ok(Vec::new());
        };
        if limit == 0 {
            return Ok(Vec::new());
        }
        let bindings = self.snapshot(url, after.is_none()).await?;
        let start = match &after {
            None => 0,
            Some(after) => bindings.partition_point(|binding| key(&binding.threepid) <= key(after)),
        };
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        Ok(bindings.iter().skip(start).take(limit).cloned().collect())
    }

    async fn feed_len(&self) -> Result<Option<u64>, BackendError> {
        let Some(url) = &self.config.endpoints.identity_all else {
            return Ok(Some(0));
        };
        let bindings = self.read_into_snapshot(url, true).await?;
        Ok(u64::try_from(bindings.len()).ok())
    }
}
