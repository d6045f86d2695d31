//! What an import did: the tables it reads and, per table, the rows read, added, unchanged, in
//! conflict and rejected.
use std::fmt;

use crate::ports::driven::PageOutcome;

/// One of the tables an import reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ImportTable {
    /// Published bindings.
    Bindings,
    /// Accounts (access tokens).
    Accounts,
    /// Accepted terms.
    AcceptedTerms,
    /// Pending invites.
    Invites,
    /// Ephemeral public keys not linked to an invite.
    EphemeralKeys,
}

impl ImportTable {
    /// Its name in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bindings => "bindings",
            Self::Accounts => "accounts",
            Self::AcceptedTerms => "accepted terms",
            Self::Invites => "invites",
            Self::EphemeralKeys => "ephemeral keys",
        }
    }
}

impl fmt::Display for ImportTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The counts of one table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TableReport {
    /// Rows read from the source.
    pub read: u64,
    /// Records written (or that a dry run would write).
    pub added: u64,
    /// Records already there exactly as imported.
    pub unchanged: u64,
    /// Records refused because Verity holds something else for the same key.
    pub conflicts: u64,
    /// Rows that could not be turned into records.
    pub rejected: u64,
}

impl TableReport {
    pub(super) fn count(&mut self, outcome: &PageOutcome) {
        self.added += outcome.added;
        self.unchanged += outcome.unchanged;
        self.conflicts += outcome.conflicts.len() as u64;
    }
}

/// A row that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowIssue {
    /// Its table.
    pub table: ImportTable,
    /// Its position in the source table.
    pub position: i64,
    /// The source's description of the row (never a secret).
    pub label: String,
    /// Why.
    pub reason: String,
}

/// What happened to the other server's signing key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyOutcome {
    /// None was given.
    NotImported,
    /// It was added and made the key that signs (a dry run: would be).
    Added,
    /// It was there already, identical; it was made the key that signs (a dry run: would be).
    MadeCurrent,
    /// It was there already, identical, and signs: nothing changed.
    Unchanged,
}

/// What an import did (or, in a dry run, would do).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    /// The source's name (`sydent`).
    pub source: &'static str,
    /// Whether nothing was written.
    pub dry_run: bool,
    /// The signing key.
    pub key: KeyOutcome,
    /// Bindings.
    pub bindings: TableReport,
    /// Accounts.
    pub accounts: TableReport,
    /// Accepted terms.
    pub accepted_terms: TableReport,
    /// Pending invites.
    pub invites: TableReport,
    /// Ephemeral public keys not linked to an invite.
    pub ephemeral_keys: TableReport,
    /// Rows that could not be read as records.
    pub rejected: Vec<RowIssue>,
    /// Records Verity already holds differently (kept as they are).
    pub conflicts: Vec<RowIssue>,
}

impl ImportReport {
    /// Whether a run changed (or a dry run would change) anything.
    pub fn changes_anything(&self) -> bool {
        matches!(self.key, KeyOutcome::Added | KeyOutcome::MadeCurrent)
            || self.bindings.added
                + self.accounts.added
                + self.accepted_terms.added
                + self.invites.added
                + self.ephemeral_keys.added
                > 0
    }

    /// The counts of `table`.
    pub fn table(&self, table: ImportTable) -> &TableReport {
        match table {
            ImportTable::Bindings => &self.bindings,
            ImportTable::Accounts => &self.accounts,
            ImportTable::AcceptedTerms => &self.accepted_terms,
            ImportTable::Invites => &self.invites,
            ImportTable::EphemeralKeys => &self.ephemeral_keys,
        }
    }

    pub(super) fn table_mut(&mut self, table: ImportTable) -> &mut TableReport {
        match table {
            ImportTable::Bindings => &mut self.bindings,
            ImportTable::Accounts => &mut self.accounts,
            ImportTable::AcceptedTerms => &mut self.accepted_terms,
            ImportTable::Invites => &mut self.invites,
            ImportTable::EphemeralKeys => &mut self.ephemeral_keys,
        }
    }
}
