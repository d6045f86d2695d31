use std::error::Error as StdError;

use async_trait::async_trait;
use verity_domain::{SignedAssociation, ThreePid, Timestamp, UserId};

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
/// answer `lookup_many` in one round trip where the technology allows.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait IdentityBackend: Send + Sync {
    /// A short name for logs and errors (`bindings`, `synapseSql`, `memory`).
    fn name(&self) -> &'static str;

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
}
