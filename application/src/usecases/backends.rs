//! The identity backends in priority order, asked as mxisd asked its identity stores: the first
//! backend that knows a 3PID answers; a bulk lookup passes only the still unresolved 3PIDs on.
use std::collections::BTreeSet;
use std::sync::Arc;

use verity_domain::{ThreePid, UserId};

use crate::ports::driven::{BackendError, Binding, IdentityBackend, Published};

/// What one backend's answer to a single lookup is (the futures `async_trait` methods return).
type Asked<'a, T> =
    std::pin::Pin<Box<dyn Future<Output = Result<Option<T>, BackendError>> + Send + 'a>>;

/// How a lookup treats a backend that fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnFailure {
    /// Log it and ask the next backend: an answer from the others beats no answer (lookups).
    Skip,
    /// Stop with the error: a wrong answer would be remembered (the hash table).
    Fail,
}

/// Every enabled backend, highest priority first.
#[derive(Clone, Default)]
pub struct Backends(Vec<Arc<dyn IdentityBackend>>);

impl Backends {
    /// The backends, highest priority first.
    pub fn new(backends: Vec<Arc<dyn IdentityBackend>>) -> Self {
        Self(backends)
    }

    /// The backends, highest priority first.
    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = &Arc<dyn IdentityBackend>> {
        self.0.iter()
    }

    /// The backends' names, highest priority first (for logs).
    pub fn names(&self) -> Vec<&'static str> {
        self.0.iter().map(|backend| backend.name()).collect()
    }

    /// The user the first backend that knows `threepid` names. With [`OnFailure::Skip`], a
    /// failing backend is passed over unless every backend fails.
    pub(crate) async fn lookup(
        &self,
        threepid: &ThreePid,
        on_failure: OnFailure,
    ) -> Result<Option<UserId>, BackendError> {
        self.first(on_failure, |backend| backend.lookup(threepid))
            .await
    }

    /// As [`lookup`](Self::lookup), with the time the association was made where the backend
    /// that answers keeps it.
    pub(crate) async fn lookup_published(
        &self,
        threepid: &ThreePid,
        on_failure: OnFailure,
    ) -> Result<Option<Published>, BackendError> {
        self.first(on_failure, |backend| backend.lookup_published(threepid))
            .await
    }

    /// The first answer of `ask` that is `Some`, in priority order.
    async fn first<'a, T>(
        &'a self,
        on_failure: OnFailure,
        ask: impl Fn(&'a Arc<dyn IdentityBackend>) -> Asked<'a, T>,
    ) -> Result<Option<T>, BackendError> {
        let mut failures = 0;
        let mut last_error = None;
        for backend in &self.0 {
            match ask(backend).await {
                Ok(Some(found)) => return Ok(Some(found)),
                Ok(None) => {}
                Err(error) => {
                    failed(backend.name(), &error);
                    if on_failure == OnFailure::Fail {
                        return Err(error);
                    }
                    failures += 1;
                    last_error = Some(error);
                }
            }
        }
        match last_error {
            Some(error) if failures == self.0.len() => Err(error),
            _ => Ok(None),
        }
    }

    /// The bindings of `threepids`: each backend is asked, in priority order, for the 3PIDs no
    /// earlier backend knew. A failing backend is passed over unless every backend fails.
    pub(crate) async fn lookup_many(
        &self,
        threepids: &[ThreePid],
    ) -> Result<Vec<Binding>, BackendError> {
        let mut unresolved: Vec<ThreePid> = threepids
            .iter()
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut found = Vec::new();
        let mut failures = 0;
        let mut last_error = None;
        for backend in &self.0 {
            if unresolved.is_empty() {
                break;
            }
            match backend.lookup_many(&unresolved).await {
                Ok(bindings) => {
                    // A backend must not answer what it was not asked; keep only the asked 3PIDs,
                    // each once.
                    let asked: BTreeSet<&ThreePid> = unresolved.iter().collect();
                    let mut answered = BTreeSet::new();
                    for binding in bindings {
                        if asked.contains(&binding.threepid)
                            && answered.insert(binding.threepid.clone())
                        {
                            found.push(binding);
                        }
                    }
                    unresolved.retain(|threepid| !answered.contains(threepid));
                }
                Err(error) => {
                    failed(backend.name(), &error);
                    failures += 1;
                    last_error = Some(error);
                }
            }
        }
        match last_error {
            Some(error) if failures == self.0.len() => Err(error),
            _ => Ok(found),
        }
    }
}

fn failed(name: &str, error: &BackendError) {
    tracing::warn!(backend = name, error = %error, source = ?std::error::Error::source(error), "identity backend failed");
}
