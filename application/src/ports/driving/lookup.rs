use std::collections::BTreeMap;

use async_trait::async_trait;
use verity_domain::{Addresses, LookupAlgorithm, Requester, SignedAssociation, ThreePid, UserId};

use crate::ports::driven::{BackendError, Binding, StoreError};

/// `GET /hash_details`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashDetails {
    /// The pepper lookups must carry: the published pepper, or `""` when hashing is off.
    pub lookup_pepper: String,
    /// The algorithms `/lookup` accepts.
    pub algorithms: Vec<LookupAlgorithm>,
}

/// `POST /lookup`, as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupRequest {
    /// The algorithm's name (`sha256`, `none`, or anything a client sends).
    pub algorithm: String,
    /// The pepper the client used.
    pub pepper: String,
    /// Hashes (`sha256`) or `"<address> <medium>"` entries (`none`).
    pub addresses: Addresses,
}

/// Why a lookup failed. The HTTP adapter maps each to the spec's errcode.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    /// More addresses than the server answers at once.
    #[error("at most {max} addresses may be looked up at once")]
    TooLarge {
        /// The limit.
        max: usize,
    },
    /// An algorithm this server does not offer.
    #[error("unsupported algorithm `{0}`: see GET /hash_details")]
    UnsupportedAlgorithm(String),
    /// The pepper is not the published one; the answer carries the right one.
    #[error("the pepper is not the current one: fetch GET /hash_details again")]
    InvalidPepper {
        /// The algorithm the client asked for.
        algorithm: LookupAlgorithm,
        /// The current pepper.
        lookup_pepper: String,
    },
    /// A `none` entry is not `"<address> <medium>"`.
    #[error(transparent)]
    MalformedEntry(#[from] verity_domain::MalformedPlainEntry),
    /// The association could not be signed.
    #[error("the association could not be signed")]
    Signing(#[from] verity_domain::SigningError),
    /// A store failed.
    #[error("internal error")]
    Internal(#[from] StoreError),
    /// Every identity backend failed.
    #[error("the identity backends failed")]
    Backend(#[from] BackendError),
    /// The table of hashes is still being built (after a start): a hashed lookup cannot be
    /// answered right yet, and is to be retried shortly.
    #[error("the lookup table is being built: retry in a moment")]
    NotReady,
}

/// Finding the Matrix user behind 3PIDs (Identity Service API, "Association lookup"; the v1
/// lookups while `matrix.v1` is on).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Lookup: Send + Sync {
    /// The published pepper and the algorithms.
    async fn hash_details(&self) -> HashDetails;

    /// The v2 lookup: the asked addresses that are bound, each to its user; the keys are exactly
    /// the strings the client sent. `none` lookups may be forwarded to remote identity servers
    /// for an allowed `requester` (hashes cannot be: a v1 server takes plain 3PIDs).
    async fn lookup(
        &self,
        request: LookupRequest,
        requester: &Requester,
    ) -> Result<BTreeMap<String, UserId>, LookupError>;

    /// The v1 single lookup: the signed association of `threepid`, if it is bound here or, for an
    /// allowed `requester`, on a remote identity server.
    async fn lookup_signed(
        &self,
        threepid: &ThreePid,
        requester: &Requester,
    ) -> Result<Option<SignedAssociation>, LookupError>;

    /// The v1 bulk lookup: the bound 3PIDs among `threepids`, each with its user (completed by
    /// the remote identity servers for an allowed `requester`).
    async fn lookup_bulk(
        &self,
        threepids: &[ThreePid],
        requester: &Requester,
    ) -> Result<Vec<Binding>, LookupError>;
}
