use async_trait::async_trait;
use verity_domain::{Medium, Requester};

use super::{HomeserverAsUserError, HomeserverRoute};

/// The homeserver's answer to a request Verity passed on, to be given back to the client as it
/// came: its status and its body (a client-server API JSON object, success or Matrix error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayedAnswer {
    /// The HTTP status the homeserver answered with.
    pub status: u16,
    /// The body it answered, at most the adapter's response size limit.
    pub body: Vec<u8>,
}

/// The client's request, passed on to the homeserver unchanged once Verity has let it through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayedRequest {
    /// The body as the client sent it (a JSON object, already checked to be one).
    pub body: Vec<u8>,
    /// Who sent it, as Verity saw them: passed on in `X-Forwarded-For`
    /// ([`Requester::forwarded_chain`]) so that the homeserver's own per-address limits keep
    /// working behind Verity.
    pub requester: Requester,
}

/// The homeserver's registration endpoints that Verity stands in front of (mxisd's registration
/// control): `POST /_matrix/client/v3/register/{medium}/requestToken` on the homeserver's
/// client-server API.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait RegistrationRelay: Send + Sync {
    /// Passes the request on to the `register/{medium}/requestToken` of the homeserver `route`
    /// names (found as [`HomeserverAsUser`](super::HomeserverAsUser) finds it) and returns its
    /// answer, whatever its status.
    ///
    /// Implementations MUST send the body unchanged, bound the answer's size, and return a 4xx
    /// or 5xx answer of the homeserver as a [`RelayedAnswer`], not as an error: only a
    /// homeserver that cannot be asked (or answers something that is not JSON) is an error.
    async fn request_token(
        &self,
        route: &HomeserverRoute,
        medium: &Medium,
        request: &RelayedRequest,
    ) -> Result<RelayedAnswer, HomeserverAsUserError>;
}
