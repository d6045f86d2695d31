use async_trait::async_trait;
use verity_domain::{DirectoryResults, HomeserverAccessToken, SearchLimit, SearchTerm, UserId};

use crate::ports::driven::HomeserverRoute;
use crate::ports::driving::LimitExceeded;

/// A user the homeserver vouched for, with what is needed to ask the homeserver's own directory
/// on their behalf. Holds their access token: `Debug` shows only the user.
#[derive(Clone, PartialEq, Eq)]
pub struct DirectoryCaller {
    /// The user the token belongs to.
    pub user_id: UserId,
    /// Their token, forwarded to their homeserver's directory.
    pub token: HomeserverAccessToken,
    /// Their homeserver.
    pub route: HomeserverRoute,
}

impl std::fmt::Debug for DirectoryCaller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirectoryCaller")
            .field("user_id", &self.user_id)
            .field("route", &self.route)
            .finish_non_exhaustive()
    }
}

/// Why a directory search was refused. The HTTP adapter maps each to the client-server API's
/// errcode.
#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    /// The request carries no access token.
    #[error("Missing access token")]
    MissingToken,
    /// The homeserver does not know the token (or it cannot be one).
    #[error("Unrecognised access token")]
    UnknownToken,
    /// The token is a guest's: guests may not search the directory (as on Synapse).
    #[error("Guest access is not allowed to the user directory")]
    GuestAccessForbidden,
    /// The homeserver could not say whose the token is: the search is refused, never run for an
    /// unchecked token.
    #[error("The homeserver could not check the access token; try again later")]
    HomeserverUnavailable,
    /// Every source of the directory (the homeserver's and the stores') failed.
    #[error("The user directory cannot be searched right now; try again later")]
    Unavailable,
    /// The user searched too often (`ratelimit.directory`): nothing was searched.
    #[error(transparent)]
    Limited(#[from] LimitExceeded),
}

/// The user directory search the homeserver's `POST /_matrix/client/{r0,v3}/user_directory/search`
/// is routed to (mxisd's directory feature).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait UserDirectory: Send + Sync {
    /// Who `token` belongs to, as the homeserver of `route` says (answers are cached briefly).
    async fn authenticate(
        &self,
        token: HomeserverAccessToken,
        route: HomeserverRoute,
    ) -> Result<DirectoryCaller, DirectoryError>;

    /// The people matching `term`: the homeserver's own directory (unless the operator excluded
    /// it) and every store's, by name and by 3PID (unless excluded), merged, at most `limit`.
    async fn search(
        &self,
        caller: &DirectoryCaller,
        term: &SearchTerm,
        limit: SearchLimit,
    ) -> Result<DirectoryResults, DirectoryError>;
}
