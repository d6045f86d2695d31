//! Requests the abuse limits refused, per limit.
use std::sync::Arc;

use verity_application::ports::driven::RateLimiter;
use verity_domain::{LimitClass, LimitKey, Medium, RetryAfter};

use crate::{LimitLabels, Metrics};

/// The limit a key counts against, named as in `docs/limits.md` (`ratelimit.*`): never the
/// key's address, user or requester.
pub fn limit_name(key: &LimitKey) -> &'static str {
    match key {
        LimitKey::Requester(class, _) => match class {
            LimitClass::EmailToken => "email_requester",
            LimitClass::MsisdnToken => "msisdn_requester",
            LimitClass::Invite => "invite",
            LimitClass::Register => "register",
            LimitClass::SubmitToken => "submit_token",
            LimitClass::Bind => "bind",
            LimitClass::Lookup => "lookup",
            LimitClass::FailedLogin => "login_source",
            LimitClass::DirectorySearch => "directory",
        },
        LimitKey::Destination(threepid) if threepid.medium() == Medium::Msisdn => {
            "msisdn_destination"
        }
        LimitKey::Destination(_) => "email_destination",
        LimitKey::Country(_) => "msisdn_country",
        LimitKey::SmsBudget => "sms_budget",
        LimitKey::FailedLoginOf(_) => "login_user",
    }
}

/// A [`RateLimiter`] whose refusals are counted as `verity_limits_hit{limit}`.
pub struct MeteredLimiter {
    inner: Arc<dyn RateLimiter>,
    metrics: Arc<Metrics>,
}

impl MeteredLimiter {
    /// `inner`, its refusals counted.
    pub fn new(inner: Arc<dyn RateLimiter>, metrics: Arc<Metrics>) -> Self {
        Self { inner, metrics }
    }

    fn counted(&self, key: &LimitKey, result: Result<(), RetryAfter>) -> Result<(), RetryAfter> {
        if result.is_err() {
            self.metrics
                .limits_hit
                .get_or_create(&LimitLabels {
                    limit: limit_name(key),
                })
                .inc();
        }
        result
    }
}

impl RateLimiter for MeteredLimiter {
    fn check(&self, key: &LimitKey, cost: u32) -> Result<(), RetryAfter> {
        self.counted(key, self.inner.check(key, cost))
    }

    fn refund(&self, key: &LimitKey, cost: u32) {
        self.inner.refund(key, cost);
    }
}
