use std::collections::BTreeSet;

use async_trait::async_trait;
use verity_domain::{Account, Timestamp, TokenFingerprint, UserId};

use super::StoreError;

/// Identity-server accounts, keyed by the fingerprint of their access token.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait AccountStore: Send + Sync {
    /// Stores a new account.
    ///
    /// # Errors
    /// MUST return [`StoreError::Conflict`] when an account with the same token fingerprint exists.
    async fn insert(&self, account: &Account) -> Result<(), StoreError>;

    /// The account whose token has this fingerprint, expired or not (the caller decides).
    async fn find(&self, token: &TokenFingerprint) -> Result<Option<Account>, StoreError>;

    /// Deletes the account with this token; `false` when there was none.
    async fn delete(&self, token: &TokenFingerprint) -> Result<bool, StoreError>;

    /// Deletes every account whose expiry is at or before `now`; returns how many.
    async fn purge_expired(&self, now: Timestamp) -> Result<u64, StoreError>;
}

/// Which terms-of-service documents each user accepted.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait TermsStore: Send + Sync {
    /// Every document URL `user` accepted, in any version.
    async fn accepted(&self, user: &UserId) -> Result<BTreeSet<String>, StoreError>;

    /// Records that `user` accepted `urls` at `at`. Accepting a URL again changes nothing (it is
    /// not an error).
    async fn accept(&self, user: &UserId, urls: &[String], at: Timestamp)
    -> Result<(), StoreError>;
}
