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
use governor::nanos::Nanos;
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
    Directory,
}

const KINDS: usize = 14;

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
                LimitClass::DirectorySearch => Self::Directory,
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
            Self::Directory => settings.directory,
        }
    }
}

type Keyed<C> = governor::RateLimiter<u64, CappedStore, C, NoOpMiddleware<<C as Clock>::Instant>>;

struct Bucket<C: Clock> {
    limiter: Keyed<C>,
    /// The limiter's entries, for refunds.
    store: CappedStore,
    burst: NonZeroU32,
    period: Duration,
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
            Kind::Directory,
        ];
        let buckets = kinds
            .iter()
            .map(|kind| {
                let limit = kind.limit(settings);
                let store = CappedStore::new(settings.max_keys);
                Bucket {
                    limiter: governor::RateLimiter::new(
                        limit.quota(),
                        store.clone(),
                        clock.clone(),
                    ),
                    store,
                    burst: limit.burst,
                    period: limit.period,
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
    /// The bucket of `key`, its hashed key and `cost` capped at the bucket's burst (a cost
    /// over the burst could never pass: it empties the allowance instead).
    fn locate(&self, key: &LimitKey, cost: u32) -> Option<(Kind, &Bucket<C>, u64, NonZeroU32)> {
        let kind = Kind::of(key);
        let bucket = self.bucket(kind)?;
        let hashed = store::key_hash(self.hasher.hash_one(key));
        let cost = NonZeroU32::new(cost)
            .unwrap_or(NonZeroU32::MIN)
            .min(bucket.burst);
        Some((kind, bucket, hashed, cost))
    }
}

impl<C: Clock + Clone + Send + Sync> RateLimiter for GovernorLimiter<C> {
    fn check(&self, key: &LimitKey, cost: u32) -> Result<(), RetryAfter> {
        let Some((kind, bucket, hashed, cost)) = self.locate(key, cost) else {
            return Ok(());
        };
        let outcome = match bucket.limiter.check_key_n(&hashed, cost) {
            Ok(outcome) => outcome,
            // Cannot happen (the cost is capped at the burst); refused, never let through.
            Err(_) => return Err(RetryAfter::new(Duration::from_secs(1))),
        };
        outcome.map_err(|not_until| {
            if kind == Kind::SmsBudget {
                self.budget_spent();
            }
            RetryAfter::new(not_until.wait_time_from(self.clock.now()))
        })
    }

    fn refund(&self, key: &LimitKey, cost: u32) {
        let Some((_, bucket, hashed, cost)) = self.locate(key, cost) else {
            return;
        };
        // A check of weight n moved the key's theoretical arrival time by n periods.
        let weight = bucket.period.saturating_mul(cost.get());
        bucket.store.refund(&hashed, Nanos::from(weight));
    }
}

/// No limits: `ratelimit.enabled: false`, the operator's explicit choice.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoLimits;

impl RateLimiter for NoLimits {
    fn check(&self, _key: &LimitKey, _cost: u32) -> Result<(), RetryAfter> {
        Ok(())
    }

    fn refund(&self, _key: &LimitKey, _cost: u32) {}
}

#[cfg(test)]
mod tests;
