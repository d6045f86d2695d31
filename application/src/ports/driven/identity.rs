use std::error::Error as StdError;

use async_trait::async_trait;
use verity_domain::{Medium, SignedAssociation, ThreePid, Timestamp, UserId};

/// A 3PID published for a Matrix user: what lookups answer.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Binding {
    /// The canonical 3PID.
    pub threepid: ThreePid,
    /// The Matrix user it leads to.
    pub user_id: UserId,
}

/// A published 3PID's user and, where the backend recorded it, when the association was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// The Matrix user the 3PID leads to.
    pub user_id: UserId,
    /// When the association was made (the signed association's `ts` and `not_before`), for a
    /// backend that keeps it (Verity's own binding store); `None` for one that does not.
    pub since: Option<Timestamp>,
    /// The association's validity window (`not_before`, `not_after`) where the backend stored
    /// one with the binding (an import from sydent keeps its `notBefore`/`notAfter`); `None`:
    /// the window starts at `since` and lasts [`verity_domain::ASSOCIATION_LIFETIME`].
    pub window: Option<(Timestamp, Timestamp)>,
    /// What the server that made the binding signed at bind time (an imported sydent
    /// `sgAssoc`), handed out verbatim by the v1 lookup; `None` for bindings made here.
    pub signed: Option<SignedAssociation>,
}

impl Published {
    /// A published 3PID with no stored window nor signed association.
    pub fn new(user_id: UserId, since: Option<Timestamp>) -> Self {
        Self {
            user_id,
            since,
            window: None,
            signed: None,
        }
    }
}

/// A page of a backend's feed as the backend stores it, for the hashed-lookup table, which checks
/// every row itself: each row's medium, address and user ID in one buffer for the whole page,
/// rather than a [`ThreePid`] and a [`UserId`] (four allocations and a Unicode case fold) a row.
/// The table reuses the buffer from page to page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedRows {
    text: String,
    /// Where each field ends in `text`: three a row.
    ends: Vec<usize>,
    /// Where the backend resumes after this page, when not after its last row's key.
    position: Option<i64>,
}

/// Where a page of [`IdentityBackend::feed_rows`] starts, as the previous page left it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedCursor {
    /// After the row of this medium and address, as stored (the order of [`IdentityBackend::feed`]).
    Key {
        /// The medium of the last row read.
        medium: String,
        /// Its address.
        address: String,
    },
    /// After this position in the backend's own order ([`FeedRows::set_position`]).
    Position(i64),
}

/// One row of [`FeedRows`], as stored (not checked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedRow<'a> {
    /// The medium.
    pub medium: &'a str,
    /// The address.
    pub address: &'a str,
    /// The Matrix user ID.
    pub user_id: &'a str,
}

impl FeedRows {
    /// Empties the page, keeping its memory.
    pub fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
        self.position = None;
    }

    /// Says that the next page starts after `position` in the backend's own order (a backend
    /// that reads its rows in storage order, which is cheaper than in key order, and needs no
    /// order for the table).
    pub fn set_position(&mut self, position: i64) {
        self.position = Some(position);
    }

    /// Adds a row.
    pub fn push(&mut self, medium: &str, address: &str, user_id: &str) {
        for field in [medium, address, user_id] {
            self.text.push_str(field);
            self.ends.push(self.text.len());
        }
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.ends.len() / 3
    }

    /// Whether there is no row (the end of the feed).
    pub fn is_empty(&self) -> bool {
        self.ends.len() < 3
    }

    /// The `index`th row.
    pub fn row(&self, index: usize) -> Option<FeedRow<'_>> {
        let field = |n: usize| {
            let start = match n.checked_sub(1) {
                Some(before) => *self.ends.get(before)?,
                None => 0,
            };
            self.text.get(start..*self.ends.get(n)?)
        };
        let first = index.checked_mul(3)?;
        Some(FeedRow {
            medium: field(first)?,
            address: field(first + 1)?,
            user_id: field(first + 2)?,
        })
    }

    /// The rows in order.
    pub fn iter(&self) -> impl Iterator<Item = FeedRow<'_>> {
        (0..self.len()).filter_map(|index| self.row(index))
    }

    /// Where the next page starts: the position the backend set, or after the last row; `None`
    /// for an empty page (the end).
    pub fn cursor(&self) -> Option<FeedCursor> {
        let last = self.row(self.len().checked_sub(1)?)?;
        Some(match self.position {
            Some(position) => FeedCursor::Position(position),
            None => FeedCursor::Key {
                medium: last.medium.to_owned(),
                address: last.address.to_owned(),
            },
        })
    }
}

/// What an identity backend can fail with.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// The backend (a database, a directory) cannot be reached or failed.
    #[error("the identity backend is unavailable")]
    Unavailable(#[source] Box<dyn StdError + Send + Sync>),
    /// The backend answered something that is not a binding (e.g. an invalid user ID in a row).
    #[error("the identity backend returned invalid data: {0}")]
    Corrupt(String),
}

/// A source of published 3PIDs (mxisd's "identity stores"): Verity's own binding store, a Synapse
/// database, LDAP, a static list... Backends are queried in priority order; the first that knows a
/// 3PID answers.
///
/// Implementations MUST compare addresses in their canonical form (emails case-folded, msisdns as
/// E.164 digits), MUST NOT return a binding for a 3PID they were not asked about, and SHOULD
/// answer `lookup_many` in one round trip where the technology allows. A 3PID of a medium the
/// backend does not hold is simply not found (not an error). The contract suite
/// `contract::identity` of this crate (feature `contract`), which every backend's tests run,
/// checks what each implementation must answer.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait IdentityBackend: Send + Sync {
    /// A short name for logs and errors (`bindings`, `synapseSql`, `memory`).
    fn name(&self) -> &'static str;

    /// Whether every change of what this backend publishes is recorded as a binding change
    /// (`BindingStore::changes`): true of Verity's own binding store only. A saved lookup table
    /// is loaded at start-up only when every backend is such a one; any other may have changed
    /// while Verity was down, and its whole feed is read again.
    fn records_changes(&self) -> bool {
        false
    }

    /// The Matrix user `threepid` is published for, if this backend knows one.
    async fn lookup(&self, threepid: &ThreePid) -> Result<Option<UserId>, BackendError>;

    /// As [`lookup`](Self::lookup), with the time the association was made when this backend
    /// keeps it, so that the v1 lookup hands out the association made at bind time (as sydent
    /// does) rather than one stamped anew. Backends that keep no such time need not override it.
    async fn lookup_published(
        &self,
        threepid: &ThreePid,
    ) -> Result<Option<Published>, BackendError> {
        Ok(self
            .lookup(threepid)
            .await?
            .map(|user_id| Published::new(user_id, None)))
    }

    /// The bindings among `threepids` this backend knows (the others are simply absent).
    async fn lookup_many(&self, threepids: &[ThreePid]) -> Result<Vec<Binding>, BackendError>;

    /// One page of every binding this backend publishes, ordered by (medium, address), starting
    /// strictly after `after` (from the beginning when `None`), at most `limit` long: the feed the
    /// hashed-lookup table is built from. An empty page means the end.
    async fn feed(&self, after: Option<ThreePid>, limit: u32)
    -> Result<Vec<Binding>, BackendError>;

    /// About how many bindings [`feed`](Self::feed) returns in all, when the backend can count
    /// them in one cheap query, so that the table is sized once (growing a map of a million
    /// entries holds its old and new arrays at once); `None` when it cannot. Need not be exact.
    async fn feed_len(&self) -> Result<Option<u64>, BackendError> {
        Ok(None)
    }

    /// The bindings of [`feed`](Self::feed), a page into `rows` (emptied first), as stored:
    /// starting strictly after `after`, the [`FeedRows::cursor`] of the previous page. The order
    /// may be the backend's own (every binding once, whatever the order). The hashed-lookup table reads it without building a [`Binding`] a row, checks each
    /// row itself (the address is put in canonical form) and leaves out, with a warning, a row that
    /// is not a valid binding. The default goes through `feed`; a backend overrides it where its
    /// rows can be handed over as stored and ordered by the stored (medium, address).
    async fn feed_rows(
        &self,
        after: Option<FeedCursor>,
        limit: u32,
        rows: &mut FeedRows,
    ) -> Result<(), BackendError> {
        // `after` is the last row of a page this default made, from a valid binding.
        let after = match after {
            None => None,
            Some(FeedCursor::Key { medium, address }) => Some(
                Medium::parse(&medium)
                    .ok()
                    .and_then(|medium| ThreePid::parse(medium, &address).ok())
                    .ok_or_else(|| {
                        BackendError::Corrupt(format!(
                            "the feed cannot resume after {medium}:{address}"
                        ))
                    })?,
            ),
            Some(FeedCursor::Position(_)) => {
                return Err(BackendError::Corrupt(
                    "the feed was given a position it never returned".into(),
                ));
            }
        };
        let page = self.feed(after, limit).await?;
        rows.clear();
        for binding in &page {
            rows.push(
                binding.threepid.medium().as_str(),
                binding.threepid.address(),
                binding.user_id.as_str(),
            );
        }
        Ok(())
    }
}
