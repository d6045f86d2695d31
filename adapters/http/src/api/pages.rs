//! `GET /validate/{medium}/submitToken`: the link in the validation email. It works without an
//! access token (a browser has none), on v2 and v1 alike.
use std::sync::Arc;

use poem_openapi::param::Query;
use poem_openapi::payload::Html;
use poem_openapi::{ApiResponse, OpenApi};
use verity_application::ports::driving::{SubmitToken, Validation, ValidationError};
use verity_domain::{ClientSecret, SessionId, ValidationToken};

use super::ApiTags;
use crate::errors_api::ApiError;
use crate::pages::{failure_page, redirect_allowed, success_page};

/// A page, or the redirect to an allowed `next_link`.
#[derive(ApiResponse)]
pub enum PageResponse {
    /// The 3PID is validated.
    #[oai(status = 200)]
    Validated(Html<String>),
    /// The 3PID is validated; continue at the client's `next_link`.
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
    /// Something failed on the server.
    #[oai(status = 500)]
    Failed(Html<String>),
}

/// The link endpoints.
pub struct PagesApi {
    validation: Arc<dyn Validation>,
    next_link_allowed: Arc<[String]>,
}

impl PagesApi {
    pub(crate) fn new(validation: Arc<dyn Validation>, next_link_allowed: Arc<[String]>) -> Self {
        Self {
            validation,
            next_link_allowed,
        }
    }

    async fn validate(
        &self,
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
        let Ok(submission) = parsed else {
            return PageResponse::Invalid(Html(failure_page(
                "This link is incomplete or damaged.",
                "Open the link from the message again, exactly as it was sent.",
            )));
        };
        match self.validation.submit_token(submission).await {
            Ok(accepted) => match accepted.next_link {
                Some(link) if redirect_allowed(&link, &self.next_link_allowed) => {
                    PageResponse::Redirect(link)
                }
                _ => {
                    PageResponse::Validated(Html(success_page(&accepted.threepid, &accepted.mode)))
                }
            },
            Err(error) => failure(error),
        }
    }
}

fn failure(error: ValidationError) -> PageResponse {
    let again = "Request a new verification message from your Matrix client.";
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

#[OpenApi(tag = "ApiTags::Pages")]
impl PagesApi {
    /// Validate ownership of an email address from the emailed link (HTML page or redirect).
    ///
    /// No access token is needed: a browser has none (unlike ma1sd, which made the v2 link
    /// unusable). Redirects to `next_link` only when it is under one of the operator's allowed
    /// prefixes (`session.nextLink.allowed`); otherwise the success page is shown.
    #[oai(
        path = "/_matrix/identity/v2/validate/email/submitToken",
        method = "get",
        operation_id = "emailSubmitTokenGetV2",
        external_docs = "https://spec.matrix.org/v1.19/identity-service-api/#get_matrixidentityv2validateemailsubmittoken"
    )]
    async fn validate_email_by_link(
        &self,
        sid: Query<Option<String>>,
        client_secret: Query<Option<String>>,
        token: Query<Option<String>>,
    ) -> PageResponse {
        self.validate(sid.0, client_secret.0, token.0).await
    }

    /// Validate ownership of a phone number from a link (HTML page or redirect).
    #[oai(
        path = "/_matrix/identity/v2/validate/msisdn/submitToken",
        method = "get",
        operation_id = "msisdnSubmitTokenGetV2",
        external_docs = "https://spec.matrix.org/v1.19/identity-service-api/#get_matrixidentityv2validatemsisdnsubmittoken"
    )]
    async fn validate_msisdn_by_link(
        &self,
        sid: Query<Option<String>>,
        client_secret: Query<Option<String>>,
        token: Query<Option<String>>,
    ) -> PageResponse {
        self.validate(sid.0, client_secret.0, token.0).await
    }

    /// Validate ownership of an email address from the emailed link (deprecated v1 path, which
    /// mxisd and sydent put in their emails).
    #[oai(
        path = "/_matrix/identity/api/v1/validate/email/submitToken",
        method = "get",
        operation_id = "emailSubmitTokenGetV1",
        deprecated,
        external_docs = "https://spec.matrix.org/legacy/identity_service/r0.3.0.html#get-matrix-identity-api-v1-validate-email-submittoken"
    )]
    async fn validate_email_by_link_v1(
        &self,
        sid: Query<Option<String>>,
        client_secret: Query<Option<String>>,
        token: Query<Option<String>>,
    ) -> PageResponse {
        self.validate(sid.0, client_secret.0, token.0).await
    }

    /// Validate ownership of a phone number from a link (deprecated v1 path).
    #[oai(
        path = "/_matrix/identity/api/v1/validate/msisdn/submitToken",
        method = "get",
        operation_id = "msisdnSubmitTokenGetV1",
        deprecated,
        external_docs = "https://spec.matrix.org/legacy/identity_service/r0.3.0.html#get-matrix-identity-api-v1-validate-msisdn-submittoken"
    )]
    async fn validate_msisdn_by_link_v1(
        &self,
        sid: Query<Option<String>>,
        client_secret: Query<Option<String>>,
        token: Query<Option<String>>,
    ) -> PageResponse {
        self.validate(sid.0, client_secret.0, token.0).await
    }
}
