//! The unbind notification (ma1sd's `session.policy.unbind.notifications`): after every accepted
//! unbind, the owner of the 3PID is told, through the medium's generator
//! (`session.unbind.notification` template) and connector. A failure to send never fails the
//! unbind, which already happened: it is logged at WARN.
//!
//! Any homeserver can sign an unbind for its own users naming any address, and it is accepted
//! (and notified, as ma1sd does) even when nothing was bound: so each notification is counted
//! against its destination's allowance (the same count as `requestToken` and `store-invite`;
//! for SMS also the country and the SMS budget). Past it, the unbind still succeeds and the
//! notification is left out, logged at WARN.
use std::sync::Arc;

use verity_domain::{LimitedRequest, RequesterKey, ThreePid};

use super::AssociationService;
use crate::ports::driven::RateLimiter;
use crate::usecases::Notifier;

impl AssociationService {
    /// Tells the owner of each unbound 3PID, through `notifier`'s handler of its medium (a medium
    /// without one is not told).
    #[must_use]
    pub fn with_unbind_notifications(mut self, notifier: Notifier) -> Self {
        self.unbind_notifier = Some(notifier);
        self
    }

    /// Counts each unbind notification against `limiter` (the abuse limits) before sending it.
    #[must_use]
    pub fn with_notification_limits(mut self, limiter: Arc<dyn RateLimiter>) -> Self {
        self.notification_limiter = Some(limiter);
        self
    }

    /// Sends the unbind notification to `threepid`, if notifications are on and the
    /// destination's allowance covers it; logs a failure.
    pub(super) async fn notify_unbound(&self, threepid: &ThreePid) {
        let Some(notifier) = &self.unbind_notifier else {
            return;
        };
        if let Some(limiter) = &self.notification_limiter {
            // No requester: the destination pays, whoever caused the message.
            let request = LimitedRequest::Notification(threepid.clone());
            for check in request.checks(&RequesterKey::Unknown) {
                if let Err(wait) = limiter.check(&check.key, check.cost) {
                    tracing::warn!(
                        medium = %threepid.medium(),
                        retry_after_ms = wait.as_millis(),
                        "the unbind notification was not sent: the address's allowance is spent (ratelimit); the unbind stands"
                    );
                    return;
                }
            }
        }
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
