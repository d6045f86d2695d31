use std::error::Error as StdError;

use async_trait::async_trait;
use verity_domain::{ClientSecret, SessionId, ThreePid, Timestamp, ValidationSession};

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

/// Verity's validation sessions, which must survive restarts.
///
/// Implementations MUST store and return every field of [`verity_domain::SessionParts`] unchanged
/// (a round trip is the identity), and MUST be safe to call concurrently.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Stores a new session.
    ///
    /// # Errors
    /// MUST return [`StoreError::Conflict`] when a session with the same sid exists (and change
    /// nothing).
    async fn insert(&self, session: &ValidationSession) -> Result<(), StoreError>;

    /// Replaces the stored state of an existing session.
    ///
    /// # Errors
    /// MUST return [`StoreError::NotFound`] when no session has that sid.
    async fn update(&self, session: &ValidationSession) -> Result<(), StoreError>;

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
    /// cap on guesses depends on it).
    async fn count_token_attempt(&self, id: &SessionId) -> Result<Option<u32>, StoreError>;

    /// Deletes every session last modified (validated, else created) strictly before `cutoff`, and
    /// returns how many were deleted.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the store fails.
    async fn purge_modified_before(&self, cutoff: Timestamp) -> Result<u64, StoreError>;
}
