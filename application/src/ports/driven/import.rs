//! Another identity server's deployment (Sydent, ma1sd) as Verity imports it: a source that reads
//! its records page by page, already parsed into domain types, and a sink that writes one page
//! into Verity's own store in one transaction.
use async_trait::async_trait;
use verity_domain::{
    Account, Association, InviteToken, PublicKey, SignedAssociation, ThreePid, Timestamp, UserId,
};

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

/// A pending 3PID invite as the other server kept it: stored for an address that was not bound
/// yet and not delivered to a homeserver. Imported, it is delivered (`3pid/onbind`, signed by
/// the imported key) once the address is bound on Verity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedInvite {
    /// The invite's token (the room's `m.room.third_party_invite` state key).
    pub token: InviteToken,
    /// The invited address (canonical).
    pub threepid: ThreePid,
    /// The room.
    pub room_id: String,
    /// The inviting user.
    pub sender: UserId,
    /// When the other server received it.
    pub created_at: Timestamp,
    /// The invite's ephemeral public key when the source links it to the invite (ma1sd, in the
    /// invite's properties `e_key_public`); `None` when it does not (Sydent keeps its ephemeral
    /// keys in a table of their own, see [`ImportSource::ephemeral_keys`]).
    pub ephemeral_key: Option<PublicKey>,
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
    /// Pending invites: the rows [`ImportSource::invites`] pages through.
    pub invites: u64,
    /// Invites already delivered to a homeserver (sydent's non-NULL `sent_ts`): skipped.
    pub delivered_invites: u64,
    /// Ephemeral public keys not linked to an invite (sydent's `ephemeral_public_keys`).
    pub ephemeral_keys: u64,
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

    /// Pending invites (neither delivered nor, where the source knows it, expired); delivered
    /// ones are skipped, not returned.
    async fn invites(
        &self,
        after: i64,
        limit: u32,
    ) -> Result<Vec<SourceRow<ImportedInvite>>, SourceError>;

    /// Ephemeral public keys the source keeps apart from its invites (sydent), which its
    /// `/pubkey/ephemeral/isvalid` answers `valid: true` for. A source that links each key to
    /// its invite ([`ImportedInvite::ephemeral_key`]) returns none.
    async fn ephemeral_keys(
        &self,
        after: i64,
        limit: u32,
    ) -> Result<Vec<SourceRow<PublicKey>>, SourceError>;
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

    /// Writes pending invites, keyed by token: an invite stored with the same token, address,
    /// room, sender, time and key is `unchanged`, anything else under that token a conflict.
    /// An imported invite expires as Verity's own (`invite.expiration`), counted from its
    /// `created_at`.
    async fn invites(
        &self,
        page: &[ImportedInvite],
        dry_run: bool,
    ) -> Result<PageOutcome, StoreError>;

    /// Writes ephemeral public keys not linked to an invite, keyed by value (a key already
    /// there is `unchanged`, never a conflict).
    async fn ephemeral_keys(
        &self,
        page: &[PublicKey],
        dry_run: bool,
    ) -> Result<PageOutcome, StoreError>;
}
