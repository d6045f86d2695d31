use std::error::Error as StdError;

use async_trait::async_trait;
use verity_domain::{
    ClientSecret, RemoteSession, SendAttempt, SessionId, ThreePid, Timestamp, UserId,
    ValidationSession, ValidationToken,
};

/// What a store can fail with. Library errors are translated by the adapter; none crosses this
/// port.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A record with the same key already exists.
    #[error("a record with this key already exists")]
    Conflict,
    /// The record to update does not exist.
    #[error("no such record")]
    NotFound,
    /// A stored row cannot be turned back into a domain value (edited by hand, or written by an
    /// incompatible version).
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    /// The store cannot be reached or failed.
    #[error("the store is unavailable")]
    Unavailable(#[source] Box<dyn StdError + Send + Sync>),
}

/// Whether a conditional change of a session was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Change {
    /// The session was in the state the change was computed from, and now holds the change.
    Applied,
    /// Nothing was written: no session has the sid, or a concurrent request changed the state
    /// the change was computed from. The caller re-reads the session to answer.
    Stale,
}

/// What one counted submission of a token did to a pending session
/// ([`SessionStore::count_and_validate`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Counted {
    /// Counted as submission number `attempt`, and the token was the session's within the cap:
    /// the session is validated now, by this submission.
    Validated {
        /// This submission's number.
        attempt: u32,
    },
    /// Counted as submission number `attempt`; not validated (another token, or `attempt` past
    /// the cap).
    Refused {
        /// This submission's number.
        attempt: u32,
    },
    /// Nothing written: no session has the sid, or it is validated already (a concurrent
    /// submission won). The caller re-reads the session to answer.
    Stale,
}

/// Verity's validation sessions, which must survive restarts.
///
/// Implementations MUST store and return every field of [`verity_domain::SessionParts`] unchanged
/// (a round trip is the identity), and MUST be safe to call concurrently.
///
/// Concurrent requests on one session (a resend racing wrong codes, two clicks of one link) must
/// not undo each other: after [`insert`](Self::insert), every change is ONE conditional
/// statement that writes only the fields it names, and only when the session is still in the
/// state its condition describes. No method writes a whole session back (a read-modify-write
/// would reset a counter or a validation a concurrent request made in between).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Stores a new session.
    ///
    /// # Errors
    /// MUST return [`StoreError::Conflict`] when a session with the same sid exists (and change
    /// nothing).
    async fn insert(&self, session: &ValidationSession) -> Result<(), StoreError>;

    /// The session with this sid, if any.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] when the stored row is not a valid session.
    async fn find(&self, id: &SessionId) -> Result<Option<ValidationSession>, StoreError>;

    /// The most recently created session for this 3PID and client secret, if any: what a repeated
    /// `requestToken` resumes.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] when the stored row is not a valid session.
    async fn find_latest(
        &self,
        threepid: &ThreePid,
        client_secret: &ClientSecret,
    ) -> Result<Option<ValidationSession>, StoreError>;

    /// Atomically counts one more token submission for the session and returns the new count, or
    /// `None` when no session has that sid. Concurrent calls MUST each see a distinct count (the
    /// cap on guesses depends on it), and no other method may lower the count.
    async fn count_token_attempt(&self, id: &SessionId) -> Result<Option<u32>, StoreError>;

    /// A token submission to a pending session, counted and, when it is the right one, recorded
    /// in ONE conditional change (one commit): only if the session is not validated, counts one
    /// more submission, and if `token` is the session's token and this submission's number is at
    /// most `cap`, also sets `validated_at` (and the last-modified time) to `at`.
    ///
    /// Concurrent calls MUST each see a distinct number, as for
    /// [`count_token_attempt`](Self::count_token_attempt), and at most one of them validates.
    /// [`Counted::Stale`] when no session has the sid or it is validated already (nothing is
    /// counted then). Sessions that open a remote session as their code is accepted use
    /// [`count_token_attempt`](Self::count_token_attempt) and
    /// [`mark_validated`](Self::mark_validated) instead, with the remote call in between.
    async fn count_and_validate(
        &self,
        id: &SessionId,
        token: &ValidationToken,
        cap: u32,
        at: Timestamp,
    ) -> Result<Counted, StoreError>;

    /// Records a resend: sets `send_attempt` to `attempt` only if the stored one is lower. The
    /// token and the submissions counted are left alone (a resend grants no new guess).
    ///
    /// [`Change::Stale`] when no session has the sid or its `send_attempt` is already `attempt`
    /// or higher (a concurrent resend won); `send_attempt` never decreases.
    async fn record_resend(
        &self,
        id: &SessionId,
        attempt: SendAttempt,
    ) -> Result<Change, StoreError>;

    /// Records the local validation: sets `validated_at` (and the last-modified time) to `at`,
    /// and the remote part to `remote` when it is `Some` (a forced-remote SMS session opens its
    /// remote session as its first code is accepted), only if the session is not validated and
    /// its token is still `token`. The submissions counted are left alone.
    ///
    /// [`Change::Stale`] when no session has the sid, it is validated already (a concurrent
    /// submission won: the first validation time stays), or its token is another.
    async fn mark_validated<'a>(
        &self,
        id: &SessionId,
        token: &ValidationToken,
        at: Timestamp,
        remote: Option<&'a RemoteSession>,
    ) -> Result<Change, StoreError>;

    /// Records the remote session Verity opened (or asked again) on the remote server: its
    /// server, base URL, sid, secret and `send_attempt`, only if the stored remote
    /// `send_attempt` is still `previous` (`None`: no remote session yet). A remote validation
    /// already recorded is left alone.
    ///
    /// [`Change::Stale`] when no session has the sid or a concurrent request recorded another
    /// remote start first.
    async fn record_remote_start(
        &self,
        id: &SessionId,
        previous: Option<SendAttempt>,
        remote: &RemoteSession,
    ) -> Result<Change, StoreError>;

    /// Records that the remote server validated the remote session `remote_sid`, at `at`, only
    /// if that is still the session's remote session and no remote validation is recorded.
    ///
    /// [`Change::Stale`] when no session has the sid, its remote session is another (or none),
    /// or the remote validation is recorded already (the first time stays).
    async fn mark_remote_validated(
        &self,
        id: &SessionId,
        remote_sid: &SessionId,
        at: Timestamp,
    ) -> Result<Change, StoreError>;

    /// Records that the session was bound here to `user` (the latest bind wins, as in the
    /// bindings). [`Change::Stale`] only when no session has the sid.
    async fn record_local_bind(&self, id: &SessionId, user: &UserId) -> Result<Change, StoreError>;

    /// Forgets the bind here to `user`, only if the session is still recorded as bound to
    /// `user` (a concurrent bind to someone else is kept).
    ///
    /// [`Change::Stale`] when no session has the sid or it is not bound to `user`.
    async fn forget_local_bind(&self, id: &SessionId, user: &UserId) -> Result<Change, StoreError>;

    /// Deletes every session last modified (validated, else created) strictly before `cutoff`, and
    /// returns how many were deleted.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the store fails.
    async fn purge_modified_before(&self, cutoff: Timestamp) -> Result<u64, StoreError>;
}
