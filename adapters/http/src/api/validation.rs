//! Validation sessions: requestToken, POST submitToken and getValidated3pid, on v2 (authenticated,
//! terms gated) and on the deprecated v1 (unauthenticated; Synapse still delegates SMS there).
use std::sync::Arc;

use poem::Request;
use poem_openapi::OpenApi;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use verity_application::ports::driving::{Accounts, Caller, TokenAccepted, Validation};
use verity_domain::{ClientSecret, LimitedRequest, SessionId, ThreePid, UserId};

use super::ApiTags;
use super::auth::IdentityAuth;
use super::documented::{ClientSecretText, LinkParam, SidText, TokenText};
use super::limits::{Gate, requester};
use super::pages::{LinkPages, PageResponse};
use super::validation_types::{
    EmailTokenRequest, MsisdnSessionCreated, MsisdnTokenRequest, SessionCreated, SubmissionResult,
    TokenSubmission, ValidatedThreePidBody,
};
use crate::errors_api::ApiError;
use crate::pages::SharedViews;

/// The shared behaviour of both API versions.
pub(crate) struct Sessions {
    pub(super) validation: Arc<dyn Validation>,
    pub(super) gate: Gate,
}

impl Sessions {
    pub(super) async fn request_email(
        &self,
        caller: Caller,
        body: EmailTokenRequest,
    ) -> Result<Json<SessionCreated>, ApiError> {
        let request = body.into_domain()?;
        self.admit(
            &caller,
            LimitedRequest::RequestToken(request.threepid.clone()),
        )?;
        let answer = self.validation.request_token(request).await?;
        Ok(Json(SessionCreated {
            sid: answer.sid.as_str().to_owned(),
        }))
    }

    pub(super) async fn request_msisdn(
        &self,
        caller: Caller,
        body: MsisdnTokenRequest,
    ) -> Result<Json<MsisdnSessionCreated>, ApiError> {
        let request = body.into_domain()?;
        self.admit(
            &caller,
            LimitedRequest::RequestToken(request.threepid.clone()),
        )?;
        let answer = self.validation.request_token(request).await?;
        let (msisdn, intl_fmt) = match &answer.threepid {
            ThreePid::Msisdn(number) => (number.as_str().to_owned(), number.international_format()),
            other => (other.address().to_owned(), other.address().to_owned()),
        };
        Ok(Json(MsisdnSessionCreated {
            sid: answer.sid.as_str().to_owned(),
            msisdn,
            intl_fmt,
        }))
    }

    fn admit(&self, caller: &Caller, request: LimitedRequest) -> Result<(), ApiError> {
        self.gate.admit(caller, &request).map_err(ApiError::from)
    }

    pub(super) async fn submit(
        &self,
        caller: Caller,
        body: Json<TokenSubmission>,
    ) -> Result<Json<SubmissionResult>, ApiError> {
        self.admit(&caller, LimitedRequest::SubmitToken)?;
        let accepted = self.validation.submit_token(body.0.into_domain()?).await?;
        Ok(Json(Self::submission_result(accepted)))
    }

    /// v1: a failed submission is `200 {"success": false, ...}`, as sydent (see
    /// [`crate::errors_api::v1_submission_failure`]).
    pub(super) async fn submit_v1(
        &self,
        caller: Caller,
        body: Json<TokenSubmission>,
    ) -> Result<Json<SubmissionResult>, ApiError> {
        // A refusal is a 429 like everywhere else, not v1's 200 {"success": false}: clients
        // must see that retrying now is pointless.
        self.admit(&caller, LimitedRequest::SubmitToken)?;
        match self.validation.submit_token(body.0.into_domain()?).await {
            Ok(accepted) => Ok(Json(Self::submission_result(accepted))),
            Err(error) => {
                let failure = crate::errors_api::v1_submission_failure(error)?;
                Ok(Json(SubmissionResult {
                    success: false,
                    errcode: Some(failure.errcode),
                    error: Some(failure.error),
                }))
            }
        }
    }

    fn submission_result(accepted: TokenAccepted) -> SubmissionResult {
        match accepted.remote_code_from {
            Some(server) => {
                let message = crate::errors_api::new_code_coming(&server);
                SubmissionResult {
                    success: false,
                    errcode: Some(message.errcode),
                    error: Some(message.error),
                }
            }
            None => SubmissionResult {
                success: true,
                errcode: None,
                error: None,
            },
        }
    }

    pub(super) async fn validated(
        &self,
        sid: String,
        client_secret: String,
    ) -> Result<Json<ValidatedThreePidBody>, ApiError> {
        let sid = SessionId::parse(&sid)?;
        let secret = ClientSecret::parse(&client_secret)?;
        let validated = self.validation.validated_3pid(&sid, &secret).await?;
        Ok(Json(ValidatedThreePidBody {
            medium: validated.threepid.medium().as_str().to_owned(),
            address: validated.threepid.address().to_owned(),
            validated_at: validated.validated_at.as_millis(),
        }))
    }
}

/// The v2 validation endpoints.
pub struct ValidationApi {
    sessions: Sessions,
    accounts: Arc<dyn Accounts>,
    pages: LinkPages,
}

impl ValidationApi {
    pub(crate) fn new(
        validation: Arc<dyn Validation>,
        accounts: Arc<dyn Accounts>,
        next_link_allowed: Arc<[String]>,
        remote_step: bool,
        views: Arc<SharedViews>,
        public_url: Arc<str>,
        gate: Gate,
    ) -> Self {
        let pages = LinkPages::new(
            validation.clone(),
            next_link_allowed,
            remote_step,
            views,
            public_url,
            gate.clone(),
        );
        Self {
            sessions: Sessions { validation, gate },
            accounts,
            pages,
        }
    }

    async fn authorise(&self, auth: IdentityAuth) -> Result<UserId, ApiError> {
        Ok(self.accounts.authenticate(auth.token(), true).await?)
    }

    /// The account of an authenticated request, as the limits count it.
    async fn caller(&self, auth: IdentityAuth) -> Result<Caller, ApiError> {
        Ok(Caller::Account(self.authorise(auth).await?))
    }
}

#[OpenApi(prefix_path = "/_matrix/identity/v2", tag = "ApiTags::Validation")]
impl ValidationApi {
    /// Request a token for validating an email address.
    ///
    /// A repeated request with the same email and client_secret answers the same sid, and sends
    /// the email again only when `send_attempt` grew. The scope policy may refuse (403
    /// `M_FORBIDDEN`) or mark the session for validation on a remote identity server.
    #[oai(
        path = "/validate/email/requestToken",
        method = "post",
        operation_id = "emailRequestTokenV2",
        external_docs = "https://spec.matrix.org/v1.19/identity-service-api/#post_matrixidentityv2validateemailrequesttoken"
    )]
    async fn create_email_validation_session(
        &self,
        auth: IdentityAuth,
        body: Json<EmailTokenRequest>,
    ) -> Result<Json<SessionCreated>, ApiError> {
        let caller = self.caller(auth).await?;
        self.sessions.request_email(caller, body.0).await
    }

    /// Request a token for validating a phone number.
    #[oai(
        path = "/validate/msisdn/requestToken",
        method = "post",
        operation_id = "msisdnRequestTokenV2",
        external_docs = "https://spec.matrix.org/v1.19/identity-service-api/#post_matrixidentityv2validatemsisdnrequesttoken"
    )]
    async fn create_msisdn_validation_session(
        &self,
        auth: IdentityAuth,
        body: Json<MsisdnTokenRequest>,
    ) -> Result<Json<MsisdnSessionCreated>, ApiError> {
        let caller = self.caller(auth).await?;
        self.sessions.request_msisdn(caller, body.0).await
    }

    /// Validate ownership of an email address.
    ///
    /// Wrong tokens answer 400 `M_TOKEN_INCORRECT` (spec v1.18); after the configured number of
    /// submissions the session locks and a new token must be requested. No session matching
    /// `sid` and `client_secret` answers 404 `M_NO_VALID_SESSION`, an expired one 400
    /// `M_SESSION_EXPIRED`.
    #[oai(
        path = "/validate/email/submitToken",
        method = "post",
        operation_id = "emailSubmitTokenPostV2",
        external_docs = "https://spec.matrix.org/v1.19/identity-service-api/#post_matrixidentityv2validateemailsubmittoken"
    )]
    async fn validate_email(
        &self,
        auth: IdentityAuth,
        body: Json<TokenSubmission>,
    ) -> Result<Json<SubmissionResult>, ApiError> {
        let caller = self.caller(auth).await?;
        self.sessions.submit(caller, body).await
    }

    /// Validate ownership of a phone number.
    ///
    /// Answers as the email operation: 400 `M_TOKEN_INCORRECT` for a wrong token, 404
    /// `M_NO_VALID_SESSION` when no session matches, 400 `M_SESSION_EXPIRED`.
    #[oai(
        path = "/validate/msisdn/submitToken",
        method = "post",
        operation_id = "msisdnSubmitTokenPostV2",
        external_docs = "https://spec.matrix.org/v1.19/identity-service-api/#post_matrixidentityv2validatemsisdnsubmittoken"
    )]
    async fn validate_msisdn(
        &self,
        auth: IdentityAuth,
        body: Json<TokenSubmission>,
    ) -> Result<Json<SubmissionResult>, ApiError> {
        let caller = self.caller(auth).await?;
        self.sessions.submit(caller, body).await
    }

    /// Validate ownership of an email address from the emailed link (HTML page or redirect).
    ///
    /// No access token is needed: a browser has none (unlike ma1sd, which made the v2 link
    /// unusable). Redirects to `next_link` only when it is under one of the operator's allowed
    /// prefixes (`session.nextLink.allowed`); otherwise the success page is shown. A wrong
    /// token, an expired session or a locked one shows the failure page with 400; no session
    /// matching `sid` and `client_secret`, with 404.
    #[oai(
        path = "/validate/email/submitToken",
        method = "get",
        operation_id = "emailSubmitTokenGetV2",
        external_docs = "https://spec.matrix.org/v1.19/identity-service-api/#get_matrixidentityv2validateemailsubmittoken"
    )]
    async fn validate_email_by_link(
        &self,
        http: &Request,
        sid: Query<LinkParam<SidText>>,
        client_secret: Query<LinkParam<ClientSecretText>>,
        token: Query<LinkParam<TokenText>>,
    ) -> PageResponse {
        let caller = Caller::Client(requester(http));
        self.pages
            .validate(
                caller,
                sid.0.into_inner(),
                client_secret.0.into_inner(),
                token.0.into_inner(),
            )
            .await
    }

    /// Validate ownership of a phone number from a link (HTML page or redirect).
    ///
    /// Answers as the email link: the failure page with 400 for a wrong token or an expired or
    /// locked session, with 404 when no session matches.
    #[oai(
        path = "/validate/msisdn/submitToken",
        method = "get",
        operation_id = "msisdnSubmitTokenGetV2",
        external_docs = "https://spec.matrix.org/v1.19/identity-service-api/#get_matrixidentityv2validatemsisdnsubmittoken"
    )]
    async fn validate_msisdn_by_link(
        &self,
        http: &Request,
        sid: Query<LinkParam<SidText>>,
        client_secret: Query<LinkParam<ClientSecretText>>,
        token: Query<LinkParam<TokenText>>,
    ) -> PageResponse {
        let caller = Caller::Client(requester(http));
        self.pages
            .validate(
                caller,
                sid.0.into_inner(),
                client_secret.0.into_inner(),
                token.0.into_inner(),
            )
            .await
    }

    /// Determine if a given 3PID has been validated by a user.
    ///
    /// No session matching `sid` and `client_secret` answers 404 `M_NO_VALID_SESSION`, a
    /// session whose 3PID is not validated yet 400 `M_SESSION_NOT_VALIDATED`, an expired one 400
    /// `M_SESSION_EXPIRED`.
    #[oai(
        path = "/3pid/getValidated3pid",
        method = "get",
        operation_id = "getValidated3pidV2",
        external_docs = "https://spec.matrix.org/v1.19/identity-service-api/#get_matrixidentityv23pidgetvalidated3pid"
    )]
    async fn get_validated_3pid(
        &self,
        auth: IdentityAuth,
        sid: Query<SidText>,
        client_secret: Query<ClientSecretText>,
    ) -> Result<Json<ValidatedThreePidBody>, ApiError> {
        self.authorise(auth).await?;
        self.sessions
            .validated(sid.0.into_inner(), client_secret.0.into_inner())
            .await
    }
}
