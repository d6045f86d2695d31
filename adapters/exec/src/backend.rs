//! [`ExecBackend`]: the [`IdentityBackend`] of the operator's programs.
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use verity_application::ports::driven::{BackendError, Binding, IdentityBackend};
use verity_domain::{ThreePid, UserId};

use crate::config::{ExecIdentityConfig, Format, Io, Process};
use crate::formats::{self, MediumStr as _};
use crate::run::{Call, ExecError, Outcome, Runner};

/// The keys of the three processes, named in errors and logs.
pub(crate) const SINGLE: &str = "exec.identity.lookup.single";
pub(crate) const BULK: &str = "exec.identity.lookup.bulk";
pub(crate) const ALL: &str = "exec.identity.lookup.all";

/// How long a read of every 3PID made by [`IdentityBackend::feed_len`] serves the feed that
/// follows it.
const FRESH: Duration = Duration::from_secs(60);

/// The 3PIDs the operator's programs know: `lookup.single` for a v1 lookup, `lookup.bulk` for a
/// bulk lookup (or `single` for each 3PID, at most `exec.concurrency` at once, when it has no
/// command), and, with `hashLookup`, `lookup.all` (or `bulk` with an empty request) for the
/// hash table's feed, read whole and handed over page by page, sorted.
///
/// Nothing runs until the first request: a program that is missing or failing makes requests
/// fail ([`BackendError`], naming the key and the command), not Verity's start.
#[derive(Clone)]
pub struct ExecBackend {
    inner: Arc<Inner>,
}

struct Inner {
    config: ExecIdentityConfig,
    runner: Runner,
    /// The bindings of the last whole read, which a feed that resumes pages through.
    snapshot: Mutex<Option<Snapshot>>,
    /// The last run's error, until a run succeeds (for `/status`).
    last_error: Mutex<Option<String>>,
}

struct Snapshot {
    bindings: Arc<Vec<Binding>>,
    read_at: Instant,
    /// Made by `feed_len`, not yet used by a feed from its start.
    unused: bool,
}

/// The feed's key of a 3PID: medium, then address.
fn key(threepid: &ThreePid) -> (&str, &str) {
    (threepid.medium_str(), threepid.address())
}

/// A program's error as the port's: unparseable answers are corrupt data, the rest means the
/// backend is unavailable.
fn backend_error(error: ExecError) -> BackendError {
    match error {
        ExecError::Output { .. } => BackendError::Corrupt(error.to_string()),
        other => BackendError::Unavailable(Box::new(other)),
    }
}

/// What the feed writes on stdin: nothing unless `input.type` is set; then the template, or an
/// empty request (`{"lookup":[]}`, or no line) meaning "everything".
fn everything_request(input: &Io, format: Option<Format>) -> Option<String> {
    let format = format?;
    if let Some(template) = &input.template {
        return Some(template.clone());
    }
    Some(match format {
        Format::Json => r#"{"lookup":[]}"#.to_owned(),
        Format::Plain => String::new(),
    })
}

impl ExecBackend {
    /// The backend of `config`; runs nothing yet.
    pub fn new(config: ExecIdentityConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                runner: Runner::new(config.concurrency),
                config,
                snapshot: Mutex::new(None),
                last_error: Mutex::new(None),
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ExecIdentityConfig {
        &self.inner.config
    }

    /// The last run's error, until a run succeeds.
    pub(crate) fn last_error(&self) -> Option<String> {
        self.inner
            .last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Runs `process` and notes its success or failure for [`health`](Self::health).
    async fn run(
        &self,
        key: &str,
        process: &Process,
        values: &[(&str, &str)],
        stdin: Option<String>,
    ) -> Result<Outcome, ExecError> {
        let call = Call {
            key,
            process,
            values,
            stdin,
            secrets: &[],
        };
        let outcome = self.inner.runner.run(call).await;
        self.note(outcome.as_ref().err());
        outcome
    }

    fn note(&self, error: Option<&ExecError>) {
        *self
            .inner
            .last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = error.map(ToString::to_string);
    }

    /// An answer that is not one, as an error naming the process (and noted for `/status`).
    fn unreadable(
        &self,
        key: &str,
        process: &Process,
        expected: &str,
        message: String,
    ) -> ExecError {
        let error = ExecError::Output {
            key: key.to_owned(),
            command: process.command.clone().unwrap_or_default(),
            expected: expected.to_owned(),
            message,
        };
        // The command and what is wrong, never what the program was given on stdin.
        tracing::warn!(key, error = %error, "an exec program's answer is unreadable");
        self.note(Some(&error));
        error
    }

    /// A single lookup.
    async fn single(&self, threepid: &ThreePid) -> Result<Option<UserId>, ExecError> {
        let process = &self.inner.config.single;
        if process.command.is_none() && self.inner.config.bulk.command.is_some() {
            // Only a bulk program: asked with a list of one.
            let found = self.bulk(&[threepid]).await?;
            return Ok(found.into_iter().next().map(|binding| binding.user_id));
        }
        let values = formats::single_tokens(&process.token, threepid);
        let stdin = formats::single_input(&process.input, &process.token, threepid);
        match self.run(SINGLE, process, &values, stdin).await? {
            Outcome::Failure => Ok(None),
            Outcome::Success(out) => {
                let domain = &self.inner.config.matrix_domain;
                formats::single_output(process.output.format, &out, domain).map_err(|message| {
                    let format = process.output.format.unwrap_or(Format::Json).as_str();
                    self.unreadable(
                        SINGLE,
                        process,
                        &format!("the {format} output of a single lookup"),
                        message,
                    )
                })
            }
        }
    }

    /// A bulk lookup by the bulk program: the answers about `asked` only.
    async fn bulk(&self, asked: &[&ThreePid]) -> Result<Vec<Binding>, ExecError> {
        let process = &self.inner.config.bulk;
        let stdin = formats::bulk_input(&process.input, asked);
        let answered = match self.run(BULK, process, &[], Some(stdin)).await? {
            Outcome::Failure => return Ok(Vec::new()),
            Outcome::Success(out) => self.bindings(BULK, process, &out)?,
        };
        let asked: BTreeSet<(&str, &str)> = asked.iter().map(|t| key(t)).collect();
        Ok(answered
            .into_iter()
            .filter(|binding| asked.contains(&key(&binding.threepid)))
            .collect())
    }

    /// A bulk lookup by the single program, once a 3PID, as many at once as the runner allows.
    async fn one_by_one(&self, asked: Vec<ThreePid>) -> Result<Vec<Binding>, ExecError> {
        let mut tasks = tokio::task::JoinSet::new();
        for threepid in asked {
            let backend = self.clone();
            tasks.spawn(async move {
                let user = backend.single(&threepid).await?;
                Ok::<_, ExecError>(user.map(|user_id| Binding { threepid, user_id }))
            });
        }
        let mut found = Vec::new();
        while let Some(done) = tasks.join_next().await {
            let done = done.map_err(|e| ExecError::Io {
                key: SINGLE.to_owned(),
                command: self.inner.config.single.command.clone().unwrap_or_default(),
                source: std::io::Error::other(e.to_string()),
            })?;
            found.extend(done?);
        }
        found.sort();
        Ok(found)
    }

    /// The bindings of a bulk answer, each 3PID once (the first answer wins), sorted; items that
    /// are not a valid 3PID and user are left out with one warning.
    fn bindings(
        &self,
        key_name: &str,
        process: &Process,
        out: &str,
    ) -> Result<Vec<Binding>, ExecError> {
        let (found, invalid) = formats::bulk_output(out, &self.inner.config.matrix_domain)
            .map_err(|message| {
                self.unreadable(
                    key_name,
                    process,
                    "the json output of a bulk lookup",
                    message,
                )
            })?;
        if invalid > 0 {
            tracing::warn!(
                key = key_name,
                invalid,
                "items of an exec program's answer are not a valid 3PID and user; left out"
            );
        }
        let mut bindings: BTreeMap<(String, String), Binding> = BTreeMap::new();
        let mut shared = 0usize;
        for (threepid, user_id) in found {
            let (medium, address) = key(&threepid);
            let slot = (medium.to_owned(), address.to_owned());
            match bindings.get(&slot) {
                Some(held) if held.user_id != user_id => shared += 1,
                Some(_) => {}
                None => {
                    bindings.insert(slot, Binding { threepid, user_id });
                }
            }
        }
        if shared > 0 {
            tracing::warn!(
                key = key_name,
                shared,
                "an exec program answered 3PIDs for two users; the first answer keeps each"
            );
        }
        Ok(bindings.into_values().collect())
    }

    /// Every binding, by `lookup.all`, or by `lookup.bulk` with an empty request.
    async fn read_all(&self) -> Result<Arc<Vec<Binding>>, ExecError> {
        let config = &self.inner.config;
        let (name, process, stdin) = if config.all.command.is_some() {
            (
                ALL,
                &config.all,
                everything_request(&config.all.input, config.all.input.format),
            )
        } else {
            let format = Some(config.bulk.input.format.unwrap_or(Format::Json));
            (
                BULK,
                &config.bulk,
                everything_request(&config.bulk.input, format),
            )
        };
        let began = Instant::now();
        let bindings = match self.run(name, process, &[], stdin).await? {
            Outcome::Failure => Vec::new(),
            Outcome::Success(out) => self.bindings(name, process, &out)?,
        };
        tracing::debug!(key = name, bindings = bindings.len(), elapsed = ?began.elapsed(), "read every 3PID from an exec program");
        Ok(Arc::new(bindings))
    }

    /// The snapshot a feed page is cut from: a new read from the start (unless `feed_len` just
    /// made one), else the last read.
    async fn snapshot(&self, from_start: bool) -> Result<Arc<Vec<Binding>>, ExecError> {
        {
            let mut held = self
                .inner
                .snapshot
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
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

    async fn read_into_snapshot(&self, unused: bool) -> Result<Arc<Vec<Binding>>, ExecError> {
        let bindings = self.read_all().await?;
        *self
            .inner
            .snapshot
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Snapshot {
            bindings: Arc::clone(&bindings),
            read_at: Instant::now(),
            unused,
        });
        Ok(bindings)
    }
}

#[async_trait]
impl IdentityBackend for ExecBackend {
    fn name(&self) -> &'static str {
        "exec"
    }

    async fn lookup(&self, threepid: &ThreePid) -> Result<Option<UserId>, BackendError> {
        self.single(threepid).await.map_err(backend_error)
    }

    async fn lookup_many(&self, threepids: &[ThreePid]) -> Result<Vec<Binding>, BackendError> {
        let mut asked: Vec<&ThreePid> = Vec::with_capacity(threepids.len());
        let mut seen = BTreeSet::new();
        for threepid in threepids {
            if seen.insert(key(threepid)) {
                asked.push(threepid);
            }
        }
        if asked.is_empty() {
            return Ok(Vec::new());
        }
        let found = if self.inner.config.bulk.command.is_some() {
            self.bulk(&asked).await
        } else {
            self.one_by_one(asked.into_iter().cloned().collect()).await
        };
        found.map_err(backend_error)
    }

    async fn feed(
        &self,
        after: Option<ThreePid>,
        limit: u32,
    ) -> Result<Vec<Binding>, BackendError> {
        if !self.inner.config.hash_lookup || limit == 0 {
            return Ok(Vec::new());
        }
        let bindings = self
            .snapshot(after.is_none())
            .await
            .map_err(backend_error)?;
        let start = match &after {
            None => 0,
            Some(after) => bindings.partition_point(|binding| key(&binding.threepid) <= key(after)),
        };
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        Ok(bindings.iter().skip(start).take(limit).cloned().collect())
    }

    async fn feed_len(&self) -> Result<Option<u64>, BackendError> {
        if !self.inner.config.hash_lookup {
            return Ok(Some(0));
        }
        let bindings = self.read_into_snapshot(true).await.map_err(backend_error)?;
        Ok(u64::try_from(bindings.len()).ok())
    }
}
