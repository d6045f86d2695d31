use async_trait::async_trait;
use verity_domain::{Password, Profile, Requester, UserId};

use crate::ports::driven::BackendError;
use crate::ports::driving::LimitExceeded;

/// The answer to a password check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Login {
    /// A store accepted the password; what the stores say of the user, for the homeserver to
    /// fill the account's profile (display name, 3PIDs).
    Accepted(Profile),
    /// No store accepted it (wrong password, unknown user, or a user of another domain).
    Refused,
}

/// Why a password check or a profile read gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Too many failed attempts for this user or from this source: no store was asked.
    #[error(transparent)]
    Limited(#[from] LimitExceeded),
    /// No store accepted the password and at least one could not be asked: the answer would
    /// not be true either way. Counted as a failed attempt, so that an outage of one store
    /// does not open unlimited guessing against the others.
    #[error("an identity store could not be asked")]
    Unavailable(#[source] BackendError),
}

/// Logins for the homeserver (mxisd/ma1sd's `AuthManager`) and the profiles of the identity
/// stores: what the internal listener serves to the homeserver's password provider.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Authentication: Send + Sync {
    /// Whether `password` is `user`'s, as the stores that can check passwords say (in ma1sd's
    /// order; the first that accepts wins), asked by `source` (the homeserver). Failed attempts
    /// (refused, or undecided as a store was down) are limited per user, whatever its case,
    /// and per source; the count and the decision are one step, so concurrent attempts
    /// cannot pass a spent allowance together.
    ///
    /// # Errors
    /// [`LoginError`].
    async fn check_credentials(
        &self,
        source: &Requester,
        user: &UserId,
        password: &Password,
    ) -> Result<Login, LoginError>;

    /// What the profile stores say of `user` (an empty profile when none knows them).
    ///
    /// # Errors
    /// [`LoginError::Unavailable`] when a store could not be asked.
    async fn profile(&self, user: &UserId) -> Result<Profile, LoginError>;
}
