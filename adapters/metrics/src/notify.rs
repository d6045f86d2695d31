//! Emails and SMS sent and failed, per connector.
use std::sync::Arc;

use async_trait::async_trait;
use verity_application::ports::driven::{Notification, NotificationConnector, NotifyError};

use crate::{ConnectorLabels, Metrics};

/// A [`NotificationConnector`] whose sends are counted as `verity_notifications_sent` or
/// `verity_notifications_failed`.
pub struct MeteredConnector {
    inner: Arc<dyn NotificationConnector>,
    metrics: Arc<Metrics>,
    connector: &'static str,
}

impl MeteredConnector {
    /// `inner`, counted under the connector's name (`smtp`, `twilio`, `file`, `none`).
    pub fn new(
        inner: Arc<dyn NotificationConnector>,
        metrics: Arc<Metrics>,
        connector: &'static str,
    ) -> Self {
        Self {
            inner,
            metrics,
            connector,
        }
    }
}

#[async_trait]
impl NotificationConnector for MeteredConnector {
    async fn send(&self, notification: &Notification) -> Result<(), NotifyError> {
        let medium = match notification {
            Notification::Email(_) => "email",
            Notification::Sms(_) => "msisdn",
        };
        let result = self.inner.send(notification).await;
        let labels = ConnectorLabels {
            medium,
            connector: self.connector,
        };
        match &result {
            Ok(()) => self.metrics.sent.get_or_create(&labels).inc(),
            Err(_) => self.metrics.failed.get_or_create(&labels).inc(),
        };
        result
    }
}
