//! Which page each outcome gets: the operator's own (`view.*`) when one is configured for it,
//! otherwise the built-in one. Statuses do not depend on the choice.
use verity_application::ports::driving::RemoteOverview;
use verity_domain::{SessionMode, ThreePid};

use super::remote::{RemoteLinks, not_yet_page, remote_success_page, started_page};
use super::validation::{failure_page, success_page};
use super::views::{CustomPage, PageValues};
use super::wording::{message_kind, what};

/// The operator's pages, by outcome; `None` keeps the built-in page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Views {
    /// `matrix.domain`, for `%DOMAIN%` and `%DOMAIN_PRETTY%`.
    pub domain: String,
    /// `view.session.onTokenSubmit.success`: the validation link worked.
    pub token_success: Option<CustomPage>,
    /// `view.session.onTokenSubmit.failure`: the validation link did not work.
    pub token_failure: Option<CustomPage>,
    /// `view.session.localRemote.onTokenSubmit.success` (mxisd 1.2): the link worked and the
    /// remote step is offered. Unset: `token_success`.
    pub offer_success: Option<CustomPage>,
    /// `view.session.remote.onRequest.success` (mxisd 1.2): the remote session was started.
    pub request_success: Option<CustomPage>,
    /// `view.session.remote.onRequest.failure` (mxisd 1.2): starting it failed.
    pub request_failure: Option<CustomPage>,
    /// `view.session.remote.onCheck.success` (mxisd 1.2): the other server confirmed the 3PID.
    pub check_success: Option<CustomPage>,
    /// `view.session.remote.onCheck.failure` (mxisd 1.2): it has not yet, or the check failed.
    pub check_failure: Option<CustomPage>,
}

impl Views {
    /// Whether any page is the operator's: their pages need a looser Content-Security-Policy
    /// (inline styles, images from elsewhere) than the built-in ones.
    pub(crate) fn has_operator_pages(&self) -> bool {
        [
            &self.token_success,
            &self.token_failure,
            &self.offer_success,
            &self.request_success,
            &self.request_failure,
            &self.check_success,
            &self.check_failure,
        ]
        .iter()
        .any(|page| page.is_some())
    }

    fn values(&self, message: String) -> PageValues<'_> {
        PageValues {
            domain: &self.domain,
            message,
            ..PageValues::default()
        }
    }

    /// The validation link worked. `remote` links the remote step when this server can take it.
    pub(crate) fn link_success(
        &self,
        threepid: &ThreePid,
        mode: &SessionMode,
        remote: Option<&RemoteLinks>,
    ) -> String {
        let offer = match (mode, remote) {
            (SessionMode::LocalOfferRemote(_), Some(links)) => Some(links),
            _ => None,
        };
        let page = match mode {
            // The remote step is required but not available: only the built-in page says so.
            SessionMode::RemotePending(_) => None,
            _ if offer.is_some() => self.offer_success.as_ref().or(self.token_success.as_ref()),
            _ => self.token_success.as_ref(),
        };
        let Some(page) = page else {
            return success_page(threepid, mode, remote);
        };
        let medium = threepid.medium();
        let mut values = self.values(format!(
            "Your {} {} is verified. Return to your Matrix client to finish.",
            what(threepid),
            threepid.address()
        ));
        values.threepid = Some((medium.as_str(), threepid.address()));
        values.remote_session_link =
            Some(offer.map(RemoteLinks::request_token).unwrap_or_default());
        page.render(&values)
    }

    /// The validation link did not work.
    pub(crate) fn link_failure(&self, reason: &str, advice: &str) -> String {
        self.failure(self.token_failure.as_ref(), reason, advice)
    }

    /// A failure, on `page` when the operator configured one.
    pub(crate) fn failure(&self, page: Option<&CustomPage>, reason: &str, advice: &str) -> String {
        match page {
            Some(page) => page.render(&self.values(format!("{reason} {advice}"))),
            None => failure_page(reason, advice),
        }
    }

    /// The remote session was started.
    pub(crate) fn started(&self, overview: &RemoteOverview, links: &RemoteLinks) -> String {
        let Some(page) = &self.request_success else {
            return started_page(overview, links);
        };
        let message = format!(
            "Check your inbox for {} from {} to {}. Follow it, then come back here and check.",
            message_kind(&overview.threepid.medium()),
            overview.host,
            overview.threepid.address()
        );
        self.remote(page, overview, links, message)
    }

    /// The remote server was asked whether it confirmed the 3PID.
    pub(crate) fn checked(&self, overview: &RemoteOverview, links: &RemoteLinks) -> String {
        let (server, address) = (&overview.host, overview.threepid.address());
        if overview.validated {
            let Some(page) = &self.check_success else {
                return remote_success_page(overview);
            };
            let then = if overview.published {
                format!("It is now published on {server}, for the same Matrix account as here.")
            } else {
                "Return to your Matrix client to finish.".to_owned()
            };
            let kind = what(&overview.threepid);
            let message = format!("{server} confirmed your {kind} {address}. {then}");
            self.remote(page, overview, links, message)
        } else {
            let Some(page) = &self.check_failure else {
                return not_yet_page(overview, links);
            };
            let message = format!(
                "{server} has not confirmed {address} yet. Follow the link in {} it sent you, \
                 then check again.",
                message_kind(&overview.threepid.medium())
            );
            self.remote(page, overview, links, message)
        }
    }

    fn remote(
        &self,
        page: &CustomPage,
        overview: &RemoteOverview,
        links: &RemoteLinks,
        message: String,
    ) -> String {
        let medium = overview.threepid.medium();
        let mut values = self.values(message);
        values.threepid = Some((medium.as_str(), overview.threepid.address()));
        values.remote_server = Some(&overview.host);
        values.remote_session_link = Some(links.request_token());
        values.check_link = Some(links.check());
        page.render(&values)
    }
}
