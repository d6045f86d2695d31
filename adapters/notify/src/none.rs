use async_trait::async_trait;
use verity_application::ports::driven::{Notification, NotificationConnector, NotifyError};

use crate::redact;

/// The `none` connector (mxisd's blackhole): every message is dropped and reported as sent.
///
/// It exists so that a medium can be "working" without any delivery, for example when the 3PIDs
/// of that medium are validated some other way. A debug log line records each dropped message,
/// with the medium and a hidden recipient but never the token.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoneConnector;

impl NoneConnector {
    /// The connector; it has no settings.
    pub fn new() -> Self {
        Self
    }
}

#[async_trait]
impl NotificationConnector for NoneConnector {
    async fn send(&self, notification: &Notification) -> Result<(), NotifyError> {
        tracing::debug!(
            medium = redact::medium(notification),
            recipient = %redact::recipient(notification),
            "message dropped: the connector is `none`"
        );
        Ok(())
    }
}
