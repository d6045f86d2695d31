//! The swap points of a reload: the driven ports whose implementation a reload replaces, each a
//! thin delegate over an [`ArcSwap`] so that a request reads the current one without a lock and
//! the use cases, which hold the delegate, never learn that anything was replaced.
use std::sync::Arc;

use arc_swap::ArcSwap;
use verity_adapter_notify::TemplateGenerator;
use verity_application::ports::driven::{
    InviteNotice, Notification, NotificationGenerator, NotifyError, RateLimiter, ValidationNotice,
};
use verity_domain::{LimitKey, RetryAfter, ThreePid};

/// The abuse limits (`ratelimit.*`): every check goes to the limiter in place now.
pub struct SwapLimiter(ArcSwap<Arc<dyn RateLimiter>>);

impl SwapLimiter {
    /// Starts with `limiter`.
    pub fn new(limiter: Arc<dyn RateLimiter>) -> Self {
        Self(ArcSwap::from_pointee(limiter))
    }

    /// Counts in `limiter` from now on (its counts start afresh).
    pub fn replace(&self, limiter: Arc<dyn RateLimiter>) {
        self.0.store(Arc::new(limiter));
    }
}

impl RateLimiter for SwapLimiter {
    fn check(&self, key: &LimitKey, cost: u32) -> Result<(), RetryAfter> {
        self.0.load().check(key, cost)
    }

    fn refund(&self, key: &LimitKey, cost: u32) {
        // After a reload the new limiter may not hold the count: it then holds nothing to give
        // back, and is left alone.
        self.0.load().refund(key, cost);
    }
}

/// The templates of one medium (`threepid.medium.<medium>.generators.template.*`): every
/// message is rendered by the templates in place when it is made.
pub struct SwapGenerator(ArcSwap<TemplateGenerator>);

impl SwapGenerator {
    /// Starts with `generator`.
    pub fn new(generator: TemplateGenerator) -> Self {
        Self(ArcSwap::from_pointee(generator))
    }

    /// The templates in place now.
    pub fn current(&self) -> Arc<TemplateGenerator> {
        self.0.load_full()
    }

    /// Renders with `generator` from now on.
    pub fn replace(&self, generator: TemplateGenerator) {
        self.0.store(Arc::new(generator));
    }
}

impl NotificationGenerator for SwapGenerator {
    fn validation(&self, notice: &ValidationNotice) -> Result<Notification, NotifyError> {
        self.0.load().validation(notice)
    }

    fn invite(&self, notice: &InviteNotice) -> Result<Notification, NotifyError> {
        self.0.load().invite(notice)
    }

    fn unbind(&self, threepid: &ThreePid) -> Result<Notification, NotifyError> {
        self.0.load().unbind(threepid)
    }
}
