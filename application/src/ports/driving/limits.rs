use verity_domain::{LimitedRequest, Requester, RetryAfter, UserId};

/// Who sent a request, as the HTTP adapter knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// A v2 request: the owner of its access token.
    Account(UserId),
    /// A v1 or unauthenticated request: its connection and `X-Forwarded-For` headers, judged by
    /// the operator's trusted proxies.
    Client(Requester),
}

/// A request refused by an abuse limit: nothing was done; the same request passes after the
/// wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many requests: retry in {} ms", .0.as_millis())]
pub struct LimitExceeded(pub RetryAfter);

/// The abuse limits (issue 13): called by the HTTP adapter before the use case, so a refused
/// request creates, sends and stores nothing.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait Limits: Send + Sync {
    /// Counts `request` from `caller` against every limit it falls under, in the domain's order
    /// ([`LimitedRequest::checks`]); stops at the first refusal.
    ///
    /// # Errors
    /// [`LimitExceeded`] with the wait of the refusing limit.
    fn admit(&self, caller: &Caller, request: &LimitedRequest) -> Result<(), LimitExceeded>;
}
