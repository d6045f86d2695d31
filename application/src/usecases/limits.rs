//! The abuse limits: resolves who is asking (the account, or the client address behind the
//! operator's trusted proxies) and counts the request against each of its limits.
use std::sync::Arc;

use verity_domain::{IpNetwork, LimitedRequest, RequesterKey};

use crate::ports::driven::RateLimiter;
use crate::ports::driving::{Caller, LimitExceeded, Limits};

/// The limits service.
pub struct LimitService {
    limiter: Arc<dyn RateLimiter>,
    /// Whose `X-Forwarded-For` is believed (`server.trustedProxies`).
    trusted_proxies: Arc<[IpNetwork]>,
}

impl LimitService {
    /// Counts through `limiter`; client addresses are resolved through `trusted_proxies`.
    pub fn new(limiter: Arc<dyn RateLimiter>, trusted_proxies: Arc<[IpNetwork]>) -> Self {
        Self {
            limiter,
            trusted_proxies,
        }
    }

    fn requester(&self, caller: &Caller) -> RequesterKey {
        match caller {
            Caller::Account(user) => RequesterKey::Account(user.clone()),
            Caller::Client(requester) => {
                RequesterKey::of(requester.client_ip(&self.trusted_proxies))
            }
        }
    }
}

impl Limits for LimitService {
    fn admit(&self, caller: &Caller, request: &LimitedRequest) -> Result<(), LimitExceeded> {
        let requester = self.requester(caller);
        for check in request.checks(&requester) {
            self.limiter
                .check(&check.key, check.cost)
                .map_err(LimitExceeded)?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "limits_tests.rs"]
mod tests;
