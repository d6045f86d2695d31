//! The remote step's pages, at mxisd's paths: a browser follows them after the validation link,
//! so they need no access token (the sid and client secret are the proof, as in the link).
use std::sync::Arc;

use poem::Request;
use poem_openapi::param::Query;
use poem_openapi::payload::Html;
use poem_openapi::{ApiResponse, OpenApi};
use verity_application::ports::driving::{
    Caller, RemoteFailure, RemoteOverview, RemoteSessionError, RemoteSessions,
};
use verity_domain::{ClientSecret, LimitedRequest, SessionId};

use super::ApiTags;
use super::documented::{ClientSecretText, LinkParam, SidText};
use super::limits::{Gate, requester};
use crate::pages::{RemoteLinks, SharedViews, explain_page};

/// Renders a failure page from its reason and advice: the operator's page for that step
/// (`view.session.remote.*.failure`), or the built-in one.
type FailurePage<'a> = &'a dyn Fn(&str, &str) -> String;

/// A page of the remote step.
#[derive(ApiResponse)]
pub enum RemotePage {
    /// The page (explanation, started, confirmed or not yet).
    #[oai(status = 200)]
    Shown(Html<String>),
    /// The link is malformed, expired, or the session is not validated here yet.
    #[oai(status = 400)]
    Invalid(Html<String>),
    /// The policy keeps this 3PID on this server.
    #[oai(status = 403)]
    Forbidden(Html<String>),
    /// No session matches the link.
    #[oai(status = 404)]
    Unknown(Html<String>),
    /// Something failed on this server.
    #[oai(status = 500)]
    Failed(Html<String>),
    /// The remote identity server refused or answered nonsense; the session is unchanged.
    #[oai(status = 502)]
    RemoteRefused(Html<String>),
    /// The remote identity server cannot be reached; the session is unchanged.
    #[oai(status = 503)]
    RemoteUnavailable(Html<String>),
    /// An abuse limit refused the request (`ratelimit.submitToken`): wait `Retry-After` seconds.
    #[oai(status = 429)]
    TooMany(Html<String>, #[oai(header = "Retry-After")] u64),
}

/// mxisd's remote-session pages.
pub struct RemoteSessionsApi {
    /// `None` when no remote identity server client is wired: every page says so.
    remote: Option<Arc<dyn RemoteSessions>>,
    /// `server.publicUrl`: the pages' links and forms start with it.
    public_url: Arc<str>,
    /// The operator's pages (`view.session.remote.*`), where configured.
    views: Arc<SharedViews>,
    gate: Gate,
}

impl RemoteSessionsApi {
    pub(crate) fn new(
        remote: Option<Arc<dyn RemoteSessions>>,
        public_url: Arc<str>,
        views: Arc<SharedViews>,
        gate: Gate,
    ) -> Self {
        Self {
            remote,
            public_url,
            views,
            gate,
        }
    }

    /// Starting and checking make Verity call the remote identity server (which may send a
    /// message): counted as submissions of the client's address.
    fn admit(&self, http: &Request, page: FailurePage<'_>) -> Result<(), RemotePage> {
        let caller = Caller::Client(requester(http));
        self.gate
            .admit(&caller, &LimitedRequest::SubmitToken)
            .map_err(|exceeded| {
                RemotePage::TooMany(
                    Html(page(
                        "Too many attempts from your network.",
                        "Wait a few minutes, then try again.",
                    )),
                    exceeded.0.as_secs_ceil(),
                )
            })
    }

    fn remote(&self, page: FailurePage<'_>) -> Result<&dyn RemoteSessions, RemotePage> {
        self.remote
            .as_deref()
            .ok_or_else(|| failure(RemoteSessionError::NotOffered, page))
    }

    /// The use case and the parsed link of a request, or the page that answers it: no remote
    /// client wired first, then a malformed link.
    fn step(
        &self,
        sid: Query<LinkParam<SidText>>,
        client_secret: Query<LinkParam<ClientSecretText>>,
        page: FailurePage<'_>,
    ) -> Result<(&dyn RemoteSessions, Step), RemotePage> {
        let remote = self.remote(page)?;
        Ok((
            remote,
            parse(
                &self.public_url,
                sid.0.into_inner(),
                client_secret.0.into_inner(),
                page,
            )?,
        ))
    }
}

type Step = (SessionId, ClientSecret, RemoteLinks);

fn parse(
    public_url: &Arc<str>,
    sid: Option<String>,
    client_secret: Option<String>,
    page: FailurePage<'_>,
) -> Result<Step, RemotePage> {
    let sid = SessionId::parse(sid.as_deref().unwrap_or_default());
    let secret = ClientSecret::parse(client_secret.as_deref().unwrap_or_default());
    match (sid, secret) {
        (Ok(sid), Ok(secret)) => {
            let links = RemoteLinks::new(public_url, &sid, &secret);
            Ok((sid, secret, links))
        }
        _ => Err(RemotePage::Invalid(Html(page(
            "This link is incomplete or damaged.",
            "Open the link from the message again, exactly as it was sent.",
        )))),
    }
}

fn show(
    outcome: Result<RemoteOverview, RemoteSessionError>,
    render: impl FnOnce(&RemoteOverview) -> String,
    page: FailurePage<'_>,
) -> RemotePage {
    match outcome {
        Ok(overview) => RemotePage::Shown(Html(render(&overview))),
        Err(error) => failure(error, page),
    }
}

fn failure(error: RemoteSessionError, failure_page: FailurePage<'_>) -> RemotePage {
    let again = "Request a new verification message from your Matrix client.";
    let page = |reason: &str, advice: &str| Html(failure_page(reason, advice));
    match error {
        RemoteSessionError::NoValidSession => RemotePage::Unknown(page(
            "This link does not match any verification request.",
            again,
        )),
        RemoteSessionError::SessionExpired => {
            RemotePage::Invalid(page("This verification request has expired.", again))
        }
        RemoteSessionError::NotValidated => RemotePage::Invalid(page(
            "Your address is not verified on this server yet.",
            "Follow the link in the verification message first.",
        )),
        RemoteSessionError::NotStarted => RemotePage::Invalid(page(
            "Publishing on the other identity server has not been started.",
            "Go back to the previous page and press the publish button.",
        )),
        RemoteSessionError::NotOffered => RemotePage::Forbidden(page(
            "This server does not publish this address on another identity server.",
            "Nothing more to do: return to your Matrix client.",
        )),
        RemoteSessionError::Remote(failure) => {
            let reason = crate::errors_api::remote_failure_reason(&failure);
            let advice = "Nothing was changed. Try again in a few minutes; if it keeps failing, \
                          contact the administrator of your Matrix server.";
            match failure {
                RemoteFailure::Unavailable(_) => {
                    RemotePage::RemoteUnavailable(page(&reason, advice))
                }
                RemoteFailure::Refused { .. } | RemoteFailure::Invalid(_) => {
                    RemotePage::RemoteRefused(page(&reason, advice))
                }
            }
        }
        RemoteSessionError::Internal(error) => {
            tracing::error!(error = %error, source = ?std::error::Error::source(&error), "remote step failed");
            RemotePage::Failed(page(
                "Something went wrong on the server.",
                "Try again in a few minutes.",
            ))
        }
    }
}

#[OpenApi(
    prefix_path = "/_matrix/identity/remote/api/v1",
    tag = "ApiTags::RemoteSessions"
)]
impl RemoteSessionsApi {
    /// Explain publishing a validated 3PID on another identity server (HTML).
    ///
    /// Changes nothing (mail scanners prefetch links): the page's button POSTs to the same URL.
    #[oai(
        path = "/validate/requestToken",
        method = "get",
        operation_id = "remoteRequestTokenExplain",
        external_docs = "https://spec.matrix.org/v1.19/identity-service-api/#establishing-associations"
    )]
    async fn explain(
        &self,
        sid: Query<LinkParam<SidText>>,
        client_secret: Query<LinkParam<ClientSecretText>>,
    ) -> RemotePage {
        // mxisd had no such page: its failures are always the built-in ones.
        let views = self.views.current();
        let fail = |reason: &str, advice: &str| views.failure(None, reason, advice);
        let (remote, (sid, secret, links)) = match self.step(sid, client_secret, &fail) {
            Ok(step) => step,
            Err(page) => return page,
        };
        show(
            remote.explain(&sid, &secret).await,
            |o| explain_page(o, &links),
            &fail,
        )
    }

    /// Start the validation session on the other identity server (HTML).
    ///
    /// Verity requests a token there with its own client secret; the remote server sends the
    /// user its own message. Pressing again asks it to send the message again.
    #[oai(
        path = "/validate/requestToken",
        method = "post",
        operation_id = "remoteRequestTokenStart",
        external_docs = "https://spec.matrix.org/v1.19/identity-service-api/#establishing-associations"
    )]
    async fn start(
        &self,
        http: &Request,
        sid: Query<LinkParam<SidText>>,
        client_secret: Query<LinkParam<ClientSecretText>>,
    ) -> RemotePage {
        let views = &self.views.current();
        let fail = |reason: &str, advice: &str| {
            views.failure(views.request_failure.as_ref(), reason, advice)
        };
        if let Err(page) = self.admit(http, &fail) {
            return page;
        }
        let (remote, (sid, secret, links)) = match self.step(sid, client_secret, &fail) {
            Ok(step) => step,
            Err(page) => return page,
        };
        show(
            remote.start(&sid, &secret).await,
            |o| views.started(o, &links),
            &fail,
        )
    }

    /// Check whether the user completed the validation on the other identity server (HTML).
    ///
    /// Asks the remote `getValidated3pid`. The homeserver's later bind is then forwarded there;
    /// a session the homeserver already bound here is bound there to the same Matrix ID before
    /// the validation is recorded.
    #[oai(
        path = "/validate/check",
        method = "get",
        operation_id = "remoteCheck",
        external_docs = "https://spec.matrix.org/v1.19/identity-service-api/#establishing-associations"
    )]
    async fn check(
        &self,
        http: &Request,
        sid: Query<LinkParam<SidText>>,
        client_secret: Query<LinkParam<ClientSecretText>>,
    ) -> RemotePage {
        let views = &self.views.current();
        let fail = |reason: &str, advice: &str| {
            views.failure(views.check_failure.as_ref(), reason, advice)
        };
        if let Err(page) = self.admit(http, &fail) {
            return page;
        }
        let (remote, (sid, secret, links)) = match self.step(sid, client_secret, &fail) {
            Ok(step) => step,
            Err(page) => return page,
        };
        show(
            remote.check(&sid, &secret).await,
            |o| views.checked(o, &links),
            &fail,
        )
    }
}
