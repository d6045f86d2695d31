use verity_domain::{LimitKey, RetryAfter};

/// Counts requests against the operator's limits.
///
/// Implementations MUST: count `cost` against `key` and answer `Ok` when the key's allowance
/// covers it, or leave the count unchanged and answer the wait after which the same request
/// would pass, as one atomic step (two concurrent checks never both take the last of an
/// allowance); treat a cost larger than a key's whole allowance as that allowance (the request
/// empties it rather than never passing); keep bounded memory whatever keys arrive; give back
/// on [`refund`](Self::refund) what a check counted, never more than the key's whole
/// allowance. Synchronous: a check is an in-memory operation on the request path.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait RateLimiter: Send + Sync {
    /// Counts `cost` against `key`.
    ///
    /// # Errors
    /// The wait when the key's allowance is spent.
    fn check(&self, key: &LimitKey, cost: u32) -> Result<(), RetryAfter>;

    /// Gives back `cost` that a [`check`](Self::check) of `key` counted: for limits that count
    /// failures only (a login is counted before the stores are asked, so that concurrent
    /// attempts cannot all pass a nearly spent allowance, and given back once it succeeded).
    /// A key that holds nothing (never counted, or forgotten since) is left alone.
    fn refund(&self, key: &LimitKey, cost: u32);
}
