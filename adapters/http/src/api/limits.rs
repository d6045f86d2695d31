//! The abuse limits at the edge: every limited operation asks the limits use case before its own
//! use case runs, so a refused request creates, sends and stores nothing.
use std::sync::Arc;

use poem::Request;
use verity_application::ports::driving::{Caller, LimitExceeded, Limits};
use verity_domain::{LimitedRequest, Requester, UserId};

use crate::errors_api::ApiError;

/// Who asked, as this connection shows it: the peer and the `X-Forwarded-For` headers, unjudged
/// (the use cases decide which proxies to believe, from `server.trustedProxies`).
pub(crate) fn requester(request: &Request) -> Requester {
    let peer = request.remote_addr().as_socket_addr().map(|addr| addr.ip());
    let forwarded = request
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok());
    Requester::new(peer, forwarded)
}

/// The limits, as the API structs hold them.
#[derive(Clone)]
pub(crate) struct Gate(Arc<dyn Limits>);

impl Gate {
    pub(crate) fn new(limits: Arc<dyn Limits>) -> Self {
        Self(limits)
    }

    /// A v2 request by `user` (after authentication).
    pub(crate) fn account(&self, user: &UserId, request: LimitedRequest) -> Result<(), ApiError> {
        self.admit(&Caller::Account(user.clone()), &request)
            .map_err(ApiError::from)
    }

    /// A v1 or unauthenticated request, counted by client address.
    pub(crate) fn client(&self, http: &Request, request: LimitedRequest) -> Result<(), ApiError> {
        self.admit(&Caller::Client(requester(http)), &request)
            .map_err(ApiError::from)
    }

    /// The same, for the pages (which answer HTML).
    pub(crate) fn admit(
        &self,
        caller: &Caller,
        request: &LimitedRequest,
    ) -> Result<(), LimitExceeded> {
        self.0.admit(caller, request)
    }
}
