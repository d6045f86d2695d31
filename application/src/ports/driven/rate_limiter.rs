use verity_domain::{LimitKey, RetryAfter};

/// Counts requests against the operator's limits.
///
/// Implementations MUST: count `cost` against `key` and answer `Ok` when the key's allowance
/// covers it, or leave the count unchanged and answer the wait after which the same request
/// would pass; treat a cost larger than a key's whole allowance as that allowance (the request
/// empties it rather than never passing); keep bounded memory whatever keys arrive; answer
/// [`peek`](Self::peek) as `check` would, without counting. Synchronous: a check is an
/// in-memory operation on the request path.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait RateLimiter: Send + Sync {
    /// Counts `cost` against `key`.
    ///
    /// # Errors
    /// The wait when the key's allowance is spent.
    fn check(&self, key: &LimitKey, cost: u32) -> Result<(), RetryAfter>;

    /// Whether `cost` against `key` would pass now, counting nothing: for limits that count
    /// failures only (a login is looked at before the stores are asked, and counted only once
    /// it failed).
    ///
    /// # Errors
    /// The wait when the key's allowance is spent.
    fn peek(&self, key: &LimitKey, cost: u32) -> Result<(), RetryAfter>;
}
