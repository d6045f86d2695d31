//! The unbind notification (ma1sd's `session.policy.unbind.notifications`): after every accepted
//! unbind, the owner of the 3PID is told, through the medium's generator
//! (`session.unbind.notification` template) and connector. A failure to send never fails the
//! unbind, which already happened: it is logged at WARN.
use verity_domain::ThreePid;

use super::AssociationService;
use crate::usecases::Notifier;

impl AssociationService {
    /// Tells the owner of each unbound 3PID, through `notifier`'s handler of its medium (a medium
    /// without one is not told).
    #[must_use]
    pub fn with_unbind_notifications(mut self, notifier: Notifier) -> Self {
        self.unbind_notifier = Some(notifier);
        self
    }

    /// Sends the unbind notification to `threepid`, if notifications are on; logs a failure.
    pub(super) async fn notify_unbound(&self, threepid: &ThreePid) {
        let Some(notifier) = &self.unbind_notifier else {
            return;
        };
        let medium = threepid.medium();
        let Some(handler) = notifier.handler(&medium) else {
            tracing::debug!(%medium, "no notification handler for this medium: the unbind is not notified");
            return;
        };
        let sent = match handler.generator.unbind(threepid) {
            Ok(notification) => handler.connector.send(&notification).await,
            Err(error) => Err(error),
        };
        match sent {
            Ok(()) => tracing::info!(%medium, "unbind notification sent"),
            Err(error) => {
                let source = std::error::Error::source(&error).map(ToString::to_string);
                tracing::warn!(%medium, %error, ?source, "the unbind notification could not be sent; the unbind stands");
            }
        }
    }
}
