//! `GET /validate/{medium}/submitToken`: the link in the validation email. It works without an
//! access token (a browser has none), on v2 and v1 alike.
use std::sync::Arc;

use poem_openapi::ApiResponse;
use poem_openapi::payload::Html;
use verity_application::ports::driving::{Caller, SubmitToken, Validation, ValidationError};
use verity_domain::{ClientSecret, LimitedRequest, SessionId, SessionMode, ValidationToken};

use super::limits::Gate;

use crate::errors_api::ApiError;
use crate::pages::{RemoteLinks, SharedViews, Views, redirect_allowed};

/// A page, or the redirect to an allowed `next_link`.
#[derive(ApiResponse)]
pub enum PageResponse {
    /// The 3PID is validated.
    #[oai(status = 200)]
    Validated(Html<String>),
    /// The 3PID is validated; continue at the client's `next_link`, or at the remote step
    /// (`/_matrix/identity/remote/api/v1/validate/requestToken`) when the policy publishes the
    /// 3PID on another identity server instead of here.
    #[oai(status = 302)]
    Redirect(#[oai(header = "Location")] String),
    /// The link is malformed, expired or wrong.
    #[oai(status = 400)]
    Invalid(Html<String>),
    /// The server's policy forbids validating this 3PID.
    #[oai(status = 403)]
    Forbidden(Html<String>),
    /// No session matches the link.
    #[oai(status = 404)]
    Unknown(Html<String>),
    /// An abuse limit refused the request (`ratelimit.submitToken`): wait `Retry-After` seconds.
    #[oai(status = 429)]
    TooMany(Html<String>, #[oai(header = "Retry-After")] u64),
    /// Something failed on the server.
    #[oai(status = 500)]
    Failed(Html<String>),
}

/// What the GET submitToken handlers of both API versions share.
pub(crate) struct LinkPages {
    validation: Arc<dyn Validation>,
    next_link_allowed: Arc<[String]>,
    /// Whether the remote step's pages are served (a remote identity server client is wired).
    remote_step: bool,
    /// The operator's pages (`view.*`), where configured.
    views: Arc<SharedViews>,
    /// `server.publicUrl`: the remote step's links and redirects start with it.
    public_url: Arc<str>,
    gate: Gate,
}

impl LinkPages {
    pub(crate) fn new(
        validation: Arc<dyn Validation>,
        next_link_allowed: Arc<[String]>,
        remote_step: bool,
        views: Arc<SharedViews>,
        public_url: Arc<str>,
        gate: Gate,
    ) -> Self {
        Self {
            validation,
            next_link_allowed,
            remote_step,
            views,
            public_url,
            gate,
        }
    }

    pub(crate) async fn validate(
        &self,
        caller: Caller,
        sid: Option<String>,
        client_secret: Option<String>,
        token: Option<String>,
    ) -> PageResponse {
        let parsed = (|| {
            Ok::<_, ApiError>(SubmitToken {
                sid: SessionId::parse(sid.as_deref().unwrap_or_default())?,
                client_secret: ClientSecret::parse(client_secret.as_deref().unwrap_or_default())?,
                token: ValidationToken::parse(token.as_deref().unwrap_or_default())?,
            })
        })();
        // The pages in place when the request came in, whatever a reload does meanwhile.
        let views = self.views.current();
        let Ok(submission) = parsed else {
            return PageResponse::Invalid(Html(views.link_failure(
                "This link is incomplete or damaged.",
                "Open the link from the message again, exactly as it was sent.",
            )));
        };
        if let Err(exceeded) = self.gate.admit(&caller, &LimitedRequest::SubmitToken) {
            return PageResponse::TooMany(
                Html(views.link_failure(
                    "Too many attempts from your network.",
                    "Wait a few minutes, then open the link from the message again.",
                )),
                exceeded.0.as_secs_ceil(),
            );
        }
        let links = self.remote_step.then(|| {
            RemoteLinks::new(&self.public_url, &submission.sid, &submission.client_secret)
        });
        match self.validation.submit_token(submission).await {
            Ok(accepted) => {
                // Remote forced: the link leads straight into the remote step (mxisd's forced
                // next URL), before any next_link: nothing is usable until it is done.
                if let (SessionMode::RemotePending(_), Some(links)) = (&accepted.mode, &links) {
                    return PageResponse::Redirect(links.request_token());
                }
                match accepted.next_link {
                    Some(link) if redirect_allowed(&link, &self.next_link_allowed) => {
                        PageResponse::Redirect(link)
                    }
                    _ => PageResponse::Validated(Html(views.link_success(
                        &accepted.threepid,
                        &accepted.mode,
                        links.as_ref(),
                    ))),
                }
            }
            Err(error) => failure(error, &views),
        }
    }
}

fn failure(error: ValidationError, views: &Views) -> PageResponse {
    let again = "Request a new verification message from your Matrix client.";
    let failure_page = |reason: &str, advice: &str| views.link_failure(reason, advice);
    match error {
        ValidationError::NoValidSession => PageResponse::Unknown(Html(failure_page(
            "This link does not match any verification request.",
            again,
        ))),
        ValidationError::SessionExpired => {
            PageResponse::Invalid(Html(failure_page("This link has expired.", again)))
        }
        ValidationError::TokenIncorrect => {
            PageResponse::Invalid(Html(failure_page("This link is not valid.", again)))
        }
        ValidationError::TooManyAttempts => PageResponse::Invalid(Html(failure_page(
            "Too many attempts were made with this verification request.",
            again,
        ))),
        ValidationError::Refused(reason) => PageResponse::Forbidden(Html(failure_page(
            &format!("This server does not allow it: {reason}."),
            "Contact the administrator of your Matrix server.",
        ))),
        other => {
            tracing::error!(error = %other, source = ?std::error::Error::source(&other), "validation by link failed");
            PageResponse::Failed(Html(failure_page(
                "Something went wrong on the server.",
                "Try the link again in a few minutes.",
            )))
        }
    }
}
