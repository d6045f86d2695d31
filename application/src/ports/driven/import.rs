//! Another identity server's deployment (Sydent, ma1sd) as Verity imports it: a source that reads
//! its records page by page, already parsed into domain types, and a sink that writes one page
//! into Verity's own store in one transaction.
use async_trait::async_trait;
use verity_domain::{Account, Association, SignedAssociation, UserId};

use super::StoreError;

/// A binding as the other server kept it: the association it made at bind time (its `ts`,
/// `not_before`, `not_after`) and, where it kept one, the signed JSON it handed out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedBinding {
    /// The association (3PID, Matrix ID and times).
    pub association: Association,
    /// What the other server signed at bind time (sydent's `sgAssoc`), served verbatim by the v1
    /// lookup.
    pub signed: Option<SignedAssociation>,
}

/// A document URL a user accepted on the other server.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct AcceptedTerms {
    /// The user.
    pub user_id: UserId,
    /// The accepted document's URL.
    pub url: String,
}

/// One source row: its position (the cursor of the next page) and what it became, or why it
/// cannot be imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRow<T> {
    /// The row's key in its table (sydent's `id`, a rowid): pages start strictly after it.
    pub position: i64,
    /// A short description of the row for reports, with no secret in it (`email
    /// a***@example.org`, `token of @alice:example.org`).
    pub label: String,
    /// The record, or why the row cannot be imported.
    pub record: Result<T, String>,
}

/// How many rows each table of the source holds (for progress and the final report).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SourceCounts {
    /// Bindings: the rows [`ImportSource::bindings`] pages through (removed bindings excluded,
    /// rows it will report as errors included).
    pub bindings: u64,
    /// Rows the other server keeps for removed bindings (sydent's NULL `mxid`): skipped.
    pub removed_bindings: u64,
    /// Associations the other server holds but did not make (sydent's global rows replicated
    /// from its peers): not imported, they belong to the server that made them.
    pub replicated_bindings: u64,
    /// Access tokens of accounts.
    pub accounts: u64,
    /// Accepted terms rows.
    pub accepted_terms: u64,
}

/// Why the source cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The database cannot be opened or read.
    #[error("the source database cannot be read: {0}")]
    Unavailable(String),
    /// It is not what it claims to be (a table or column is missing).
    #[error("the source is not a {expected} database: {why}")]
    NotThatServer {
        /// `sydent`, `ma1sd`.
        expected: &'static str,
        /// What is missing.
        why: String,
    },
}

/// The deployment being imported, read page by page in a stable order.
///
/// Implementations MUST only read (never change the source), MUST return rows ordered by
/// `position`, strictly after `after`, at most `limit` of them (an empty page is the end), and
/// MUST report a row they cannot turn into a record as `Err(reason)` instead of failing the page.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ImportSource: Send + Sync {
    /// `sydent`, `ma1sd`: for reports.
    fn name(&self) -> &'static str;

    /// How many rows each table holds.
    async fn counts(&self) -> Result<SourceCounts, SourceError>;

    /// Published bindings. Rows the other server keeps for removed bindings (sydent's NULL
    /// `mxid`) are not bindings: they are skipped, not returned.
    async fn bindings(
        &self,
        after: i64,
        limit: u32,
    ) -> Result<Vec<SourceRow<ImportedBinding>>, SourceError>;

    /// Accounts: one per access token (sydent stores the token in plain text; the record carries
    /// only its fingerprint).
    async fn accounts(
        &self,
        after: i64,
        limit: u32,
    ) -> Result<Vec<SourceRow<Account>>, SourceError>;

    /// Accepted terms.
    async fn accepted_terms(
        &self,
        after: i64,
        limit: u32,
    ) -> Result<Vec<SourceRow<AcceptedTerms>>, SourceError>;
}

/// What writing one page did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageOutcome {
    /// Records that were not there and were written.
    pub added: u64,
    /// Records already there exactly as imported (a second import): nothing changed.
    pub unchanged: u64,
    /// Records refused because Verity holds something else for the same key (a 3PID bound here
    /// to another user since): `(index in the page, reason)`. Verity's own data always wins.
    pub conflicts: Vec<(usize, String)>,
}

/// Verity's store as the import writes it.
///
/// Implementations MUST write each page in one transaction (all of it or none of it), MUST
/// leave a record that is already stored identically unchanged (counted as `unchanged`) and
/// MUST NOT overwrite a different record with the same key (reported in `conflicts`). With
/// `dry_run` they MUST compute the same outcome and roll back.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ImportSink: Send + Sync {
    /// Writes bindings (with their times and signed association).
    async fn bindings(
        &self,
        page: &[ImportedBinding],
        dry_run: bool,
    ) -> Result<PageOutcome, StoreError>;

    /// Writes accounts (keyed by token fingerprint).
    async fn accounts(&self, page: &[Account], dry_run: bool) -> Result<PageOutcome, StoreError>;

    /// Writes accepted terms (accepting again is `unchanged`, never a conflict).
    async fn accepted_terms(
        &self,
        page: &[AcceptedTerms],
        dry_run: bool,
    ) -> Result<PageOutcome, StoreError>;
}
