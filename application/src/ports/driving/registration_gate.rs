use async_trait::async_trait;
use verity_domain::{Medium, ThreePid};

use crate::ports::driven::{
    HomeserverAsUserError, HomeserverRoute, RelayedAnswer, RelayedRequest, StoreError,
};

/// Why a registration request was not passed on.
#[derive(Debug, thiserror::Error)]
pub enum RegistrationGateError {
    /// `register.policy` does not let this 3PID register (ma1sd: 403 `M_FORBIDDEN`, "Your
    /// <medium> address cannot be used for registration").
    #[error("Your {0} address cannot be used for registration")]
    Refused(Medium),
    /// The pending invites could not be read, so the policy could not be applied.
    #[error("the pending invites could not be read")]
    Store(#[from] StoreError),
    /// The homeserver could not be asked.
    #[error("the homeserver could not be asked")]
    Homeserver(#[from] HomeserverAsUserError),
}

/// Registration control: the homeserver's 3PID registration requests, let through or refused by
/// `register.policy` before they reach the homeserver.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait RegistrationGate: Send + Sync {
    /// Applies the policy to `threepid` (read from the request's body) and, when it may
    /// register, passes `request` on to the homeserver `route` names and returns its answer.
    async fn request_token(
        &self,
        route: &HomeserverRoute,
        threepid: &ThreePid,
        request: &RelayedRequest,
    ) -> Result<RelayedAnswer, RegistrationGateError>;
}
