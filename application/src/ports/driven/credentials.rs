use async_trait::async_trait;
use verity_domain::{Password, Profile, UserId};

use crate::ports::driven::BackendError;

/// The account a store accepted a password for, as the store names it (ma1sd's `UserID` of
/// type `localpart` or `mxid`); the use case makes it a user ID of `matrix.domain`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountName {
    /// A localpart of `matrix.domain` (ma1sd's `localpart`).
    Localpart(String),
    /// A whole Matrix user ID (ma1sd's `mxid`).
    UserId(UserId),
}

/// A store's answer to "is this the password of this user?".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordVerdict {
    /// The store does not know the user: nothing was checked, another store may know them.
    UnknownUser,
    /// The store knows the user (or cannot tell, as a REST service or a program answering only
    /// `success: false`) and refused the password.
    Refused,
    /// The password is the user's: the account the store names, and what it says of them (for
    /// the homeserver to fill the account's profile).
    Accepted {
        /// The account, as the store names it.
        account: AccountName,
        /// What the store says of the user; empty when it says nothing.
        profile: Profile,
    },
}

/// An identity store that can check a user's password (mxisd/ma1sd's `AuthenticatorProvider`):
/// an LDAP directory (a bind as the user), the operator's REST service or program, the
/// configuration's `memory` list.
///
/// Implementations MUST: answer [`PasswordVerdict::Accepted`] only when the store itself
/// accepted this password for this user (an LDAP bind with it succeeded, the service said
/// `success: true`); never send an empty password anywhere (the [`Password`] type cannot be
/// empty, and an implementation that builds its own credentials must keep it so); never log
/// the password, nor put it in an error; answer [`PasswordVerdict::UnknownUser`] when the store
/// does not hold the user at all, where it can tell; and return an error (not `Refused`) when
/// the store could not be asked, so that an outage is not counted as a wrong password.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PasswordVerifier: Send + Sync {
    /// A short name for logs (`ldap`, `memory`, `rest`, `exec`).
    fn name(&self) -> &'static str;

    /// Whether `password` is `user`'s.
    ///
    /// # Errors
    /// [`BackendError`] when the store could not be asked or answered nonsense.
    async fn verify_password(
        &self,
        user: &UserId,
        password: &Password,
    ) -> Result<PasswordVerdict, BackendError>;
}

/// An identity store that knows users' profiles (mxisd/ma1sd's `ProfileProvider`): display
/// names, the 3PIDs of their accounts, their roles.
///
/// Implementations MUST answer `None` for a user they do not know (not an error), and a profile
/// with only what they hold otherwise (no role: an empty list).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ProfileSource: Send + Sync {
    /// A short name for logs (`ldap`, `memory`, `rest`).
    fn name(&self) -> &'static str;

    /// What this store says of `user`, `None` when it does not know them.
    ///
    /// # Errors
    /// [`BackendError`] when the store could not be asked or answered nonsense.
    async fn profile(&self, user: &UserId) -> Result<Option<Profile>, BackendError>;
}
