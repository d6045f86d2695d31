//! Importing another identity server's deployment (Sydent, ma1sd): its signing key with its key
//! id, then its bindings, accounts, accepted terms, ephemeral keys and pending invites page by page, each page written in one
//! transaction. Idempotent (what is already there is `unchanged`), Verity's own data always wins
//! (a different record for the same key is a conflict, never overwritten), and a dry run writes
//! nothing.
use std::sync::Arc;

use verity_domain::{KeyKind, SigningKey};

use crate::ports::driven::{
    ImportSink, ImportSource, KeyStore, PageOutcome, SourceError, SourceRow, StoreError, StoredKey,
};

/// The page size used unless told otherwise.
pub const DEFAULT_PAGE_SIZE: u32 = 500;

#[path = "import_report.rs"]
mod report;
pub use report::{ImportReport, ImportTable, KeyOutcome, RowIssue, TableReport};

/// Where an import is: after each page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// The table being read.
    pub table: ImportTable,
    /// Rows read so far in this table.
    pub done: u64,
    /// Rows the source said the table holds (skipped rows included, so `done` may stay below).
    pub total: u64,
}

/// Called after each page.
pub type ProgressFn = Box<dyn Fn(Progress) + Send + Sync>;

/// What to import and how.
pub struct ImportOptions {
    /// Compute and report, write nothing.
    pub dry_run: bool,
    /// Rows per page (and per transaction).
    pub page_size: u32,
    /// The other server's signing key, with its key id (sydent's `ed25519:0`).
    pub signing_key: Option<SigningKey>,
    /// Told after each page.
    pub progress: Option<ProgressFn>,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            dry_run: false,
            page_size: DEFAULT_PAGE_SIZE,
            signing_key: None,
            progress: None,
        }
    }
}

/// Why an import stopped.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The source cannot be read.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// Verity's store cannot be read or written (the page being written was rolled back).
    #[error("Verity's store failed: {0}")]
    Store(#[from] StoreError),
    /// Verity already holds a different key under the imported key's id: nothing was imported.
    #[error(
        "Verity's key store already holds a different key with the id {0}: nothing was imported \
         (move that key away, or import without the signing key)"
    )]
    KeyMismatch(String),
    /// The page size is zero.
    #[error("the page size must be at least 1")]
    PageSize,
}

/// Reads one table page by page with `source.$method` and writes each page with `sink.$method`.
macro_rules! copy_table {
    ($pager:ident, $source:ident, $sink:ident, $options:ident, $table:expr, $total:expr, $method:ident) => {{
        let (table, total) = ($table, $total);
        let mut after = i64::MIN;
        loop {
            let rows = $source.$method(after, $options.page_size).await?;
            let Some((last, records)) = $pager.take(table, rows) else {
                break;
            };
            let outcome = if records.values.is_empty() {
                PageOutcome::default()
            } else {
                $sink.$method(&records.values, $options.dry_run).await?
            };
            $pager.written(table, total, &records, &outcome);
            after = last;
        }
    }};
}

/// The import use case.
pub struct ImportService {
    source: Arc<dyn ImportSource>,
    sink: Arc<dyn ImportSink>,
    keys: Arc<dyn KeyStore>,
}

impl ImportService {
    /// Wires the use case.
    pub fn new(
        source: Arc<dyn ImportSource>,
        sink: Arc<dyn ImportSink>,
        keys: Arc<dyn KeyStore>,
    ) -> Self {
        Self { source, sink, keys }
    }

    /// Imports everything the source holds.
    ///
    /// # Errors
    /// [`ImportError`]: a key mismatch before anything is written; a source or store failure
    /// stops at the page it happened in (pages before it are written; running again resumes,
    /// as what is there is `unchanged`).
    pub async fn run(&self, options: ImportOptions) -> Result<ImportReport, ImportError> {
        if options.page_size == 0 {
            return Err(ImportError::PageSize);
        }
        let key = match &options.signing_key {
            Some(key) => self.import_key(key, options.dry_run).await?,
            None => KeyOutcome::NotImported,
        };
        let counts = self.source.counts().await?;
        let mut report = ImportReport {
            source: self.source.name(),
            dry_run: options.dry_run,
            key,
            bindings: TableReport::default(),
            accounts: TableReport::default(),
            accepted_terms: TableReport::default(),
            invites: TableReport::default(),
            ephemeral_keys: TableReport::default(),
            rejected: Vec::new(),
            conflicts: Vec::new(),
        };
        let mut pager = Pager {
            report: &mut report,
            options: &options,
        };
        let (source, sink) = (&self.source, &self.sink);

        copy_table!(
            pager,
            source,
            sink,
            options,
            ImportTable::Bindings,
            counts.bindings,
            bindings
        );
        copy_table!(
            pager,
            source,
            sink,
            options,
            ImportTable::Accounts,
            counts.accounts,
            accounts
        );
        copy_table!(
            pager,
            source,
            sink,
            options,
            ImportTable::AcceptedTerms,
            counts.accepted_terms,
            accepted_terms
        );
        // The keys before the invites: an imported invite is never stored while the key that
        // signs for it is not.
        copy_table!(
            pager,
            source,
            sink,
            options,
            ImportTable::EphemeralKeys,
            counts.ephemeral_keys,
            ephemeral_keys
        );
        copy_table!(
            pager,
            source,
            sink,
            options,
            ImportTable::Invites,
            counts.invites,
            invites
        );
        Ok(report)
    }

    /// Adds `key` as the key that signs unless the store holds it already; refuses a different
    /// key under the same id.
    async fn import_key(&self, key: &SigningKey, dry_run: bool) -> Result<KeyOutcome, ImportError> {
        let existing = self
            .keys
            .keys(KeyKind::Regular)
            .await?
            .into_iter()
            .find(|stored| stored.key.id() == key.id());
        let current = self.keys.current().await?;
        let outcome = match existing {
            Some(stored) if stored.key.seed_base64() != key.seed_base64() => {
                return Err(ImportError::KeyMismatch(key.id().to_string()));
            }
            Some(_) if current.as_ref() == Some(key.id()) => KeyOutcome::Unchanged,
            Some(_) => KeyOutcome::MadeCurrent,
            None => KeyOutcome::Added,
        };
        if !dry_run {
            if outcome == KeyOutcome::Added {
                let stored = StoredKey {
                    key: key.clone(),
                    valid: true,
                };
                self.keys.add(KeyKind::Regular, &stored).await?;
            }
            if outcome != KeyOutcome::Unchanged {
                self.keys.set_current(key.id()).await?;
            }
        }
        Ok(outcome)
    }
}

/// The records of one page and, for each, its source row's position and label.
struct Records<T> {
    values: Vec<T>,
    rows: Vec<(i64, String)>,
    read: u64,
}

/// Counts pages into the report and tells progress.
struct Pager<'a> {
    report: &'a mut ImportReport,
    options: &'a ImportOptions,
}

impl Pager<'_> {
    /// Splits a page into records and rejected rows; `None` at the end of the table.
    fn take<T>(
        &mut self,
        table: ImportTable,
        rows: Vec<SourceRow<T>>,
    ) -> Option<(i64, Records<T>)> {
        let last = rows.iter().map(|row| row.position).max()?;
        let mut records = Records {
            values: Vec::with_capacity(rows.len()),
            rows: Vec::with_capacity(rows.len()),
            read: rows.len() as u64,
        };
        for row in rows {
            match row.record {
                Ok(value) => {
                    records.values.push(value);
                    records.rows.push((row.position, row.label));
                }
                Err(reason) => {
                    self.report.table_mut(table).rejected += 1;
                    self.report.rejected.push(RowIssue {
                        table,
                        position: row.position,
                        label: row.label,
                        reason,
                    });
                }
            }
        }
        Some((last, records))
    }

    fn written<T>(
        &mut self,
        table: ImportTable,
        total: u64,
        records: &Records<T>,
        outcome: &PageOutcome,
    ) {
        let counts = self.report.table_mut(table);
        counts.read += records.read;
        counts.count(outcome);
        let done = counts.read;
        for (index, reason) in &outcome.conflicts {
            let (position, label) = records
                .rows
                .get(*index)
                .cloned()
                .unwrap_or((0, format!("record {index} of a page")));
            self.report.conflicts.push(RowIssue {
                table,
                position,
                label,
                reason: reason.clone(),
            });
        }
        if let Some(progress) = &self.options.progress {
            progress(Progress { table, done, total });
        }
    }
}

#[cfg(test)]
#[path = "import_tests.rs"]
mod tests;
