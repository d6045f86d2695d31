//! Filling a new table on a thread of its own while the backends' feeds are read, so that the
//! work spreads over the cores: the store reads (the SQLite worker, or PostgreSQL), the reader's
//! task turns each page's JSON into rows, and the thread checks and hashes the rows, takes them
//! into the table and sorts it at the end. Pages travel as [`Page`] buffers that go back and
//! forth: the reader waits for an empty one, fills it from a backend and hands it over; the thread
//! takes its rows and gives it back. Two buffers: one being read while the other is hashed.
//!
//! No async runtime is used here (the use cases do not depend on one): the thread blocks on a
//! standard channel, and the reader's futures are woken by the thread.
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

use verity_domain::{Medium, Pepper, ThreePid, UserId};

use super::hash_table::{Digest, Table, TableFull, digest};
use crate::ports::driven::{FeedRow, FeedRows};

/// Pages in flight: one read while the other is hashed.
const BUFFERS: usize = 2;

/// Why a table could not be filled.
#[derive(Debug, thiserror::Error)]
pub enum FillError {
    /// The user IDs passed what a table can hold.
    #[error(transparent)]
    Full(#[from] TableFull),
    /// The thread could not be started.
    #[error("the thread that hashes the lookup table could not be started")]
    Thread(#[source] std::io::Error),
    /// The thread ended without its table (it panicked).
    #[error("the thread that hashes the lookup table ended without it")]
    Lost,
}

/// A filled table, and how many rows of each backend were skipped as invalid.
pub(super) struct Filled {
    pub(super) table: Table,
    pub(super) skipped: BTreeMap<&'static str, u64>,
}

/// A page in flight: the rows as read, and the backend they come from.
#[derive(Default)]
pub(super) struct Page {
    pub(super) rows: FeedRows,
    backend: &'static str,
}

/// What the thread and the reader share.
#[derive(Default)]
struct Shared {
    empty: Vec<Page>,
    done: Option<Result<Filled, FillError>>,
    /// The reader's task, waiting for an empty buffer or the end.
    waiter: Option<Waker>,
}

type SharedRef = Arc<Mutex<Shared>>;

fn lock(shared: &SharedRef) -> std::sync::MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The reader's end of a fill.
pub(super) struct Filler {
    shared: SharedRef,
    full: Sender<Page>,
}

impl Filler {
    /// Starts the thread on an empty table of `capacity` entries, hashing under `pepper`.
    pub(super) fn start(pepper: Pepper, capacity: usize) -> Result<Self, FillError> {
        let shared = SharedRef::default();
        lock(&shared).empty = (0..BUFFERS).map(|_| Page::default()).collect();
        let (full, pages) = channel();
        let thread_shared = shared.clone();
        std::thread::Builder::new()
            .name("lookup-table".into())
            .spawn(move || {
                let ended = Ended(thread_shared.clone());
                let filled = fill(&pepper, capacity, &pages, &thread_shared);
                ended.finish(filled);
            })
            .map_err(FillError::Thread)?;
        Ok(Self { shared, full })
    }

    /// An empty buffer for the next page, once the thread has given one back.
    ///
    /// # Errors
    /// [`FillError`] when the thread ended early.
    pub(super) async fn empty(&self) -> Result<Page, FillError> {
        Wait {
            shared: &self.shared,
            take: |shared: &mut Shared| {
                if let Some(page) = shared.empty.pop() {
                    return Some(Ok(page));
                }
                // The thread ended while pages were still coming: it failed.
                match shared.done.take()? {
                    Ok(_) => Some(Err(FillError::Lost)),
                    Err(error) => Some(Err(error)),
                }
            },
        }
        .await
    }

    /// Hands `page`, read from `backend`, over to be checked, hashed and taken into the table
    /// (later pages overwrite earlier ones' entries).
    pub(super) fn hash(&self, mut page: Page, backend: &'static str) {
        page.backend = backend;
        // The thread only hangs up when it ended; `empty` or `finish` then says why.
        let _ = self.full.send(page);
    }

    /// The table, once every page handed over is hashed.
    ///
    /// # Errors
    /// [`FillError`] when the thread failed.
    pub(super) async fn finish(self) -> Result<Filled, FillError> {
        let Self { shared, full } = self;
        drop(full);
        Wait {
            shared: &shared,
            take: |shared: &mut Shared| shared.done.take(),
        }
        .await
    }
}

/// Waits until `take` finds something in the shared state.
struct Wait<'a, F> {
    shared: &'a SharedRef,
    take: F,
}

impl<T, F: FnMut(&mut Shared) -> Option<T> + Unpin> Future for Wait<'_, F> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let this = self.get_mut();
        let mut shared = lock(this.shared);
        match (this.take)(&mut shared) {
            Some(found) => Poll::Ready(found),
            None => {
                shared.waiter = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// Reports the thread's end, with [`FillError::Lost`] if it unwound before [`Ended::finish`].
struct Ended(SharedRef);

impl Ended {
    fn finish(self, filled: Result<Filled, FillError>) {
        lock(&self.0).done = Some(filled);
        // `drop` wakes the reader.
    }
}

impl Drop for Ended {
    fn drop(&mut self) {
        let mut shared = lock(&self.0);
        if shared.done.is_none() {
            shared.done = Some(Err(FillError::Lost));
        }
        if let Some(waiter) = shared.waiter.take() {
            waiter.wake();
        }
    }
}

/// The thread: every page's rows checked, hashed and into one table, until the reader hangs up;
/// then the table sorted. A row that is not a valid binding is left out and counted; the first
/// of each backend is logged.
fn fill(
    pepper: &Pepper,
    capacity: usize,
    pages: &Receiver<Page>,
    shared: &SharedRef,
) -> Result<Filled, FillError> {
    let mut filled = Filled {
        table: Table::with_capacity(capacity),
        skipped: BTreeMap::new(),
    };
    while let Ok(page) = pages.recv() {
        for row in page.rows.iter() {
            match entry(row, pepper) {
                Ok(digest) => filled.table.push(digest, row.user_id)?,
                Err(skip) => {
                    let count = filled.skipped.entry(page.backend).or_default();
                    if *count == 0 {
                        tracing::warn!(
                            backend = page.backend,
                            medium = row.medium,
                            address = row.address,
                            reason = skip.reason(),
                            "a binding the backend published is invalid and left out of the lookup \
                             table (the count of such rows follows when the table is complete)"
                        );
                    }
                    // A lower backend's answer for the 3PID stays, as a `none` or v1 lookup
                    // passes over the failing backend to it.
                    *count += 1;
                }
            }
        }
        let mut shared = lock(shared);
        shared.empty.push(page);
        if let Some(waiter) = shared.waiter.take() {
            waiter.wake();
        }
    }
    filled.table.seal()?;
    Ok(filled)
}

/// Why a row is left out.
enum Skip {
    Medium,
    Address,
    User,
}

impl Skip {
    fn reason(&self) -> &'static str {
        match self {
            Self::Medium => "the medium is invalid",
            Self::Address => "the address is invalid",
            Self::User => "the Matrix ID is invalid",
        }
    }
}

/// The digest and user of a row, checked as [`ThreePid::parse`] and [`UserId::parse`] check them
/// (the digest is of the canonical address).
fn entry(row: FeedRow<'_>, pepper: &Pepper) -> Result<Digest, Skip> {
    let medium = Medium::parse(row.medium).map_err(|_| Skip::Medium)?;
    UserId::parse(row.user_id).map_err(|_| Skip::User)?;
    let threepid = ThreePid::parse(medium, row.address).map_err(|_| Skip::Address)?;
    let digest = digest(
        threepid.address(),
        threepid.medium().as_str(),
        pepper.as_str(),
    );
    Ok(digest)
}
