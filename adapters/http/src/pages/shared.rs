//! The operator's pages as the handlers read them: swapped whole when the configuration is
//! reloaded (SIGHUP), read without a lock by every request that shows a page.
use std::sync::Arc;

use arc_swap::ArcSwap;

use super::outcomes::Views;

/// The current [`Views`]; [`SharedViews::replace`] puts new ones in place for the requests that
/// come after it (a request already rendering keeps the pages it started with).
#[derive(Debug, Default)]
pub struct SharedViews(ArcSwap<Views>);

impl SharedViews {
    /// Starts with `views`.
    pub fn new(views: Views) -> Self {
        Self(ArcSwap::from_pointee(views))
    }

    /// The pages in place now.
    pub fn current(&self) -> Arc<Views> {
        self.0.load_full()
    }

    /// Serves `views` from now on.
    pub fn replace(&self, views: Views) {
        self.0.store(Arc::new(views));
    }
}

impl From<Views> for SharedViews {
    fn from(views: Views) -> Self {
        Self::new(views)
    }
}
