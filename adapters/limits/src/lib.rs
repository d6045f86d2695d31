//! The abuse limits in memory: one keyed GCRA rate limiter ([`governor`]) per kind of limit.
//!
//! Keys are stored as 64-bit hashes under a per-process random key, so an entry costs the same
//! whatever address or account it counts, and nobody outside can choose colliding keys. Memory
//! stays bounded: [`GovernorLimiter::housekeep`] drops entries that are indistinguishable from
//! fresh ones (a GCRA entry whose theoretical arrival time is past), and each kind holds at most
//! `maxKeys` entries; beyond that, keys not yet known share one overflow entry, so an attacker
//! rotating through millions of addresses is refused as one (it fails safe: legitimate new
//! requesters are refused too until housekeeping frees room).
mod settings;
mod store;

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock, Reference};
use governor::middleware::NoOpMiddleware;
use verity_application::ports::driven::RateLimiter;
use verity_domain::{LimitClass, LimitKey, Medium, RetryAfter};

pub use settings::{Limit, LimitSettings};
use store::CappedStore;

/// The SMS budget's refusal is logged at most once per this period: an operator sees it, the
/// log is not flooded.
const BUDGET_LOG_PERIOD: Duration = Duration::from_secs(3600);

/// The kinds of limit, each with its own quota and keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    EmailRequester,
    EmailDestination,
    MsisdnRequester,
    MsisdnDestination,
    Country,
    SmsBudget,
    Invite,
    Register,
    SubmitToken,
    Bind,
    Lookup,
    LoginSource,
    LoginUser,
}

const KINDS: usize = 13;

impl Kind {
    fn of(key: &LimitKey) -> Self {
        match key {
            LimitKey::Requester(class, _) => match class {
                LimitClass::EmailToken => Self::EmailRequester,
                LimitClass::MsisdnToken => Self::MsisdnRequester,
                LimitClass::Invite => Self::Invite,
                LimitClass::Register => Self::Register,
                LimitClass::SubmitToken => Self::SubmitToken,
                LimitClass::Bind => Self::Bind,
                LimitClass::Lookup => Self::Lookup,
                LimitClass::FailedLogin => Self::LoginSource,
            },
            LimitKey::FailedLoginOf(_) => Self::LoginUser,
            LimitKey::Destination(threepid) if threepid.medium() == Medium::Msisdn => {
                Self::MsisdnDestination
            }
            LimitKey::Destination(_) => Self::EmailDestination,
            LimitKey::Country(_) => Self::Country,
            LimitKey::SmsBudget => Self::SmsBudget,
        }
    }

    fn limit(self, settings: &LimitSettings) -> Limit {
        match self {
            Self::EmailRequester => settings.email_requester,
            Self::EmailDestination => settings.email_destination,
            Self::MsisdnRequester => settings.msisdn_requester,
            Self::MsisdnDestination => settings.msisdn_destination,
            Self::Country => settings.msisdn_country,
            Self::SmsBudget => Limit::hourly(settings.sms_hourly_budget),
            Self::Invite => settings.invite,
            Self::Register => settings.register,
            Self::SubmitToken => settings.submit_token,
            Self::Bind => settings.bind,
            Self::Lookup => settings.lookup,
            Self::LoginSource => settings.login_source,
            Self::LoginUser => settings.login_user,
        }
    }
}

type Keyed<C> = governor::RateLimiter<u64, CappedStore, C, NoOpMiddleware<<C as Clock>::Instant>>;

struct Bucket<C: Clock> {
    limiter: Keyed<C>,
    burst: NonZeroU32,
}

/// The in-memory limits of one Verity instance.
pub struct GovernorLimiter<C: Clock = DefaultClock> {
    buckets: Vec<Bucket<C>>,
    hasher: RandomState,
    clock: C,
    budget_logged: Mutex<Option<C::Instant>>,
}

impl GovernorLimiter<DefaultClock> {
    /// The limits of `settings`, on the monotonic clock.
    pub fn new(settings: &LimitSettings) -> Self {
        Self::with_clock(settings, DefaultClock::default())
    }
}

impl<C: Clock + Clone> GovernorLimiter<C> {
    /// The limits of `settings` on `clock` (a fake one in tests).
    pub fn with_clock(settings: &LimitSettings, clock: C) -> Self {
        let kinds = [
            Kind::EmailRequester,
            Kind::EmailDestination,
            Kind::MsisdnRequester,
            Kind::MsisdnDestination,
            Kind::Country,
            Kind::SmsBudget,
            Kind::Invite,
            Kind::Register,
            Kind::SubmitToken,
            Kind::Bind,
            Kind::Lookup,
            Kind::LoginSource,
            Kind::LoginUser,
        ];
        let buckets = kinds
            .iter()
            .map(|kind| {
                let limit = kind.limit(settings);
                Bucket {
                    limiter: governor::RateLimiter::new(
                        limit.quota(),
                        CappedStore::new(settings.max_keys),
                        clock.clone(),
                    ),
                    burst: limit.burst,
                }
            })
            .collect();
        Self {
            buckets,
            hasher: RandomState::new(),
            clock,
            budget_logged: Mutex::new(None),
        }
    }

    /// Drops every entry that is indistinguishable from a fresh one (dropping it changes no
    /// answer) and gives the memory back. Run periodically.
    pub fn housekeep(&self) {
        for bucket in &self.buckets {
            bucket.limiter.retain_recent();
            bucket.limiter.shrink_to_fit();
        }
    }

    /// How many keys are held, over every kind.
    pub fn keys(&self) -> usize {
        self.buckets.iter().map(|bucket| bucket.limiter.len()).sum()
    }

    fn bucket(&self, kind: Kind) -> Option<&Bucket<C>> {
        let index = kind as usize;
        debug_assert!(index < KINDS);
        self.buckets.get(index)
    }

    fn budget_spent(&self) {
        let now = self.clock.now();
        let Ok(mut logged) = self.budget_logged.lock() else {
            return;
        };
        let due =
            logged.is_none_or(|at| Duration::from(now.duration_since(at)) >= BUDGET_LOG_PERIOD);
        if due {
            *logged = Some(now);
            tracing::error!(
                "the SMS budget (ratelimit.msisdn.hourlyBudget) is spent: new SMS sessions are \
                 refused until it refills; raise it if this traffic is legitimate, else look for \
                 toll fraud (logged at most once an hour)"
            );
        }
    }
}

impl<C: Clock + Clone + Send + Sync> GovernorLimiter<C> {
    /// Counts `cost` against `key` (`count`), or only looks whether it would pass.
    fn decide(&self, key: &LimitKey, cost: u32, count: bool) -> Result<(), RetryAfter> {
        let kind = Kind::of(key);
        let Some(bucket) = self.bucket(kind) else {
            return Ok(());
        };
        let hashed = store::key_hash(self.hasher.hash_one(key));
        // A cost over the burst could never pass: it empties the allowance instead.
        let cost = NonZeroU32::new(cost)
            .unwrap_or(NonZeroU32::MIN)
            .min(bucket.burst);
        let check = || bucket.limiter.check_key_n(&hashed, cost);
        let outcome = if count {
            check()
        } else {
            store::dry_run(check)
        };
        let outcome = match outcome {
            Ok(outcome) => outcome,
            // Cannot happen (the cost is capped at the burst); refused, never let through.
            Err(_) => return Err(RetryAfter::new(Duration::from_secs(1))),
        };
        outcome.map_err(|not_until| {
            if kind == Kind::SmsBudget && count {
                self.budget_spent();
            }
            RetryAfter::new(not_until.wait_time_from(self.clock.now()))
        })
    }
}

impl<C: Clock + Clone + Send + Sync> RateLimiter for GovernorLimiter<C> {
    fn check(&self, key: &LimitKey, cost: u32) -> Result<(), RetryAfter> {
        self.decide(key, cost, true)
    }

    fn peek(&self, key: &LimitKey, cost: u32) -> Result<(), RetryAfter> {
        self.decide(key, cost, false)
    }
}

/// No limits: `ratelimit.enabled: false`, the operator's explicit choice.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoLimits;

impl RateLimiter for NoLimits {
    fn check(&self, _key: &LimitKey, _cost: u32) -> Result<(), RetryAfter> {
        Ok(())
    }

    fn peek(&self, _key: &LimitKey, _cost: u32) -> Result<(), RetryAfter> {
        Ok(())
    }
}

#[cfg(test)]
mod tests;
