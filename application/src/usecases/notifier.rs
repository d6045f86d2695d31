use std::collections::BTreeMap;
use std::sync::Arc;

use verity_domain::Medium;

use crate::ports::driven::{NotificationConnector, NotificationGenerator};

/// The generator and connector configured for one medium (`threepid.medium.<medium>`).
#[derive(Clone)]
pub struct MediumHandler {
    /// Renders the messages.
    pub generator: Arc<dyn NotificationGenerator>,
    /// Sends them.
    pub connector: Arc<dyn NotificationConnector>,
}

/// Every medium Verity can send to. A medium without a handler cannot be validated.
#[derive(Clone, Default)]
pub struct Notifier {
    handlers: BTreeMap<Medium, MediumHandler>,
}

impl Notifier {
    /// No media yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the handler of `medium`.
    #[must_use]
    pub fn with(mut self, medium: Medium, handler: MediumHandler) -> Self {
        self.handlers.insert(medium, handler);
        self
    }

    /// The handler of `medium`, if configured.
    pub fn handler(&self, medium: &Medium) -> Option<&MediumHandler> {
        self.handlers.get(medium)
    }
}
