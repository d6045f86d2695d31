//! The abuse limits: the in-memory limiter (or none, when the operator turned them off) behind
//! the limits use case, and its housekeeping.
use std::sync::{Arc, Weak};
use std::time::Duration;

use verity_adapter_limits::{GovernorLimiter, NoLimits};
use verity_application::ports::driven::RateLimiter;
use verity_application::ports::driving::Limits;
use verity_application::usecases::LimitService;

use crate::reload::swap::SwapLimiter;
use crate::settings::RateLimitSettings;

/// How often entries that are as good as fresh are dropped: often enough that the key cap is
/// rarely reached by legitimate traffic, rarely enough to cost nothing.
const HOUSEKEEPING_PERIOD: Duration = Duration::from_secs(60);

/// The in-memory limiter over `settings` (one for the whole server: the requests' limits and the
/// unbind notifications count in it together), or none when the operator turned the limits
/// off. Must be called inside the runtime: the housekeeping task is spawned here, and ends on
/// its own once the limiter is dropped.
pub fn rate_limiter(settings: &RateLimitSettings) -> Arc<dyn RateLimiter> {
    if !settings.enabled {
        tracing::warn!(
            "ratelimit.enabled is false: no abuse limit applies (anyone can make this server \
             send mail and SMS without bound)"
        );
        return Arc::new(NoLimits);
    }
    let limiter = Arc::new(GovernorLimiter::new(&settings.limits));
    tokio::spawn(housekeeping(Arc::downgrade(&limiter)));
    limiter
}

/// [`rate_limiter`] behind the swap point a configuration reload replaces it through: the
/// limiter every use case gets, and the swap point itself.
pub fn swappable_rate_limiter(
    settings: &RateLimitSettings,
) -> (Arc<dyn RateLimiter>, Arc<SwapLimiter>) {
    let swap = Arc::new(SwapLimiter::new(rate_limiter(settings)));
    (swap.clone(), swap)
}

/// The limits use case: requests counted in `limiter`, client addresses resolved through the
/// trusted proxies of `settings`.
pub fn limits(settings: &RateLimitSettings, limiter: Arc<dyn RateLimiter>) -> Arc<dyn Limits> {
    let trusted: Arc<[_]> = Arc::from(settings.trusted_proxies.clone());
    Arc::new(LimitService::new(limiter, trusted))
}

async fn housekeeping(limiter: Weak<GovernorLimiter>) {
    let mut ticks = tokio::time::interval(HOUSEKEEPING_PERIOD);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        let Some(limiter) = limiter.upgrade() else {
            return;
        };
        limiter.housekeep();
        tracing::debug!(
            keys = limiter.keys(),
            "rate limit entries after housekeeping"
        );
    }
}
