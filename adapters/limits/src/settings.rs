//! The limits' quotas, as the configuration gives them.
use std::num::NonZeroU32;
use std::time::Duration;

use governor::Quota;

/// A limit: `burst` requests at once, then one more every `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// How many requests may come at once.
    pub burst: NonZeroU32,
    /// How often one more is allowed (never zero).
    pub period: Duration,
}

impl Limit {
    /// `burst` at once, then one every `period` (a zero period is taken as one nanosecond).
    pub fn new(burst: NonZeroU32, period: Duration) -> Self {
        Self {
            burst,
            period: period.max(Duration::from_nanos(1)),
        }
    }

    /// A budget of `per_hour`, spent at will and refilled evenly over the hour.
    pub fn hourly(per_hour: NonZeroU32) -> Self {
        Self::new(per_hour, Duration::from_secs(3600) / per_hour.get())
    }

    pub(crate) fn quota(self) -> Quota {
        Quota::with_period(self.period)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MAX))
            .allow_burst(self.burst)
    }
}

/// Every limit of one instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitSettings {
    /// Email requestToken per requester.
    pub email_requester: Limit,
    /// Messages to one email address (requestToken and store-invite).
    pub email_destination: Limit,
    /// SMS requestToken per requester.
    pub msisdn_requester: Limit,
    /// SMS to one phone number.
    pub msisdn_destination: Limit,
    /// SMS to one country calling code.
    pub msisdn_country: Limit,
    /// SMS sessions per hour, the whole instance.
    pub sms_hourly_budget: NonZeroU32,
    /// store-invite per requester and per sender.
    pub invite: Limit,
    /// account/register per client address.
    pub register: Limit,
    /// submitToken per requester.
    pub submit_token: Limit,
    /// 3pid/bind per requester.
    pub bind: Limit,
    /// Looked-up addresses per requester.
    pub lookup: Limit,
    /// Failed password checks per source (the homeserver asking `check_credentials`): a
    /// ceiling over every user.
    pub login_source: Limit,
    /// Failed password checks per user.
    pub login_user: Limit,
    /// User-directory searches per user.
    pub directory: Limit,
    /// Keys held per kind of limit.
    pub max_keys: usize,
}
