//! Group commit of token submissions on SQLite.
//!
//! SQLite has one writer at a time, and with `synchronous=FULL` every commit waits for an fsync of
//! the WAL (0.4 ms on the benchmark machine's disk when it is quiet, several ms while it is busy).
//! One submission per commit caps an instance at 1 / fsync, and concurrent writers on separate
//! connections do worse: the one that finds the lock taken sleeps in SQLite's busy handler (1, 2,
//! 5, 10 ms ...) long after the lock is free. So the submissions go to one task, which runs all
//! that are waiting as one transaction: each is still its own conditional statement, run in
//! order, and each answer is sent only after the COMMIT, so what was answered survives a power
//! cut as before. PostgreSQL flushes concurrent commits together by itself and does not use this.
use std::sync::{Arc, OnceLock};

use sea_orm::{DatabaseConnection, DbErr, TransactionTrait, UpdateMany};
use tokio::sync::{mpsc, oneshot};
use verity_application::ports::driven::StoreError;

use super::entity::{Entity, Model};
use crate::errors::from_db;

/// At most this many statements share a commit (the queue is rarely longer than the number of
/// requests in flight).
const MAX_BATCH: usize = 64;
/// Submissions waiting for the writer; more wait for room (backpressure), none is dropped.
const QUEUE: usize = 1024;

type Rows = Result<Vec<Model>, StoreError>;

struct Job {
    update: UpdateMany<Entity>,
    reply: oneshot::Sender<Rows>,
}

/// Why a statement of a batch got no answer of its own.
#[derive(Debug, thiserror::Error)]
enum GroupError {
    #[error("the commit of a batch of session changes failed: {0}")]
    Commit(String),
    #[error("the session writer is gone (the runtime is shutting down)")]
    WriterGone,
}

fn unavailable(error: GroupError) -> StoreError {
    StoreError::Unavailable(Box::new(error))
}

/// The queue of one store's writer task, started on first use (inside the runtime that serves
/// the requests). Cloning shares the task.
#[derive(Clone)]
pub(super) struct GroupCommit {
    db: DatabaseConnection,
    jobs: Arc<OnceLock<mpsc::Sender<Job>>>,
}

impl GroupCommit {
    pub(super) fn new(db: DatabaseConnection) -> Self {
        Self {
            db,
            jobs: Arc::new(OnceLock::new()),
        }
    }

    /// Runs `update` (an `UPDATE … RETURNING`) in the next batch; its rows once committed.
    pub(super) async fn run(&self, update: UpdateMany<Entity>) -> Rows {
        let jobs = self.jobs.get_or_init(|| {
            let (sender, receiver) = mpsc::channel(QUEUE);
            tokio::spawn(write(self.db.clone(), receiver));
            sender
        });
        let (reply, answer) = oneshot::channel();
        jobs.send(Job { update, reply })
            .await
            .map_err(|_| unavailable(GroupError::WriterGone))?;
        answer
            .await
            .map_err(|_| unavailable(GroupError::WriterGone))?
    }
}

/// The writer: everything queued, one transaction at a time.
async fn write(db: DatabaseConnection, mut jobs: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while jobs.recv_many(&mut batch, MAX_BATCH).await > 0 {
        commit(&db, std::mem::take(&mut batch)).await;
    }
}

async fn alone(db: &DatabaseConnection, job: Job) {
    let rows = job.update.exec_with_returning(db).await.map_err(from_db);
    // A caller that went away (its request was cancelled) needs no answer.
    let _ = job.reply.send(rows);
}

async fn commit(db: &DatabaseConnection, mut batch: Vec<Job>) {
    if batch.len() == 1 {
        if let Some(job) = batch.pop() {
            alone(db, job).await;
        }
        return;
    }
    let txn = match db.begin().await {
        Ok(txn) => txn,
        Err(error) => return fail(batch, &error),
    };
    let mut done: Vec<(Job, Vec<Model>)> = Vec::with_capacity(batch.len());
    let mut jobs = batch.into_iter();
    while let Some(job) = jobs.next() {
        match job.update.clone().exec_with_returning(&txn).await {
            Ok(rows) => done.push((job, rows)),
            Err(error) => {
                // Whatever the failure did to the transaction, roll it back and run the others
                // alone, each in its own commit: nothing of the batch was committed.
                let _ = txn.rollback().await;
                let _ = job.reply.send(Err(from_db(error)));
                for job in done.into_iter().map(|(job, _)| job).chain(jobs) {
                    alone(db, job).await;
                }
                return;
            }
        }
    }
    match txn.commit().await {
        Ok(()) => {
            for (job, rows) in done {
                let _ = job.reply.send(Ok(rows));
            }
        }
        Err(error) => fail(done.into_iter().map(|(job, _)| job).collect(), &error),
    }
}

/// Nothing of `batch` was committed: each caller gets the error (and may retry).
fn fail(batch: Vec<Job>, error: &DbErr) {
    tracing::warn!(error = %error, statements = batch.len(), "a batch of session changes was not committed");
    for job in batch {
        let _ = job
            .reply
            .send(Err(unavailable(GroupError::Commit(error.to_string()))));
    }
}
