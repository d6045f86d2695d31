//! The deprecated v1 validation endpoints: requestToken, POST submitToken, the emailed link and
//! getValidated3pid, unauthenticated as v1 was (Synapse still delegates SMS validation here).
use std::sync::Arc;

use poem::Request;
use poem_openapi::OpenApi;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use verity_application::ports::driving::{Caller, Validation};

use super::ApiTags;
use super::documented::{ClientSecretText, LinkParam, SidText, TokenText};
use super::limits::{Gate, requester};
use super::pages::{LinkPages, PageResponse};
use super::validation::Sessions;
use super::validation_types::{
    EmailTokenRequest, MsisdnSessionCreated, MsisdnTokenRequest, SessionCreated, SubmissionResult,
    TokenSubmission, ValidatedThreePidBody,
};
use crate::errors_api::ApiError;
use crate::pages::SharedViews;

/// The deprecated v1 validation endpoints (no authentication, as v1 had none).
pub struct ValidationV1Api {
    sessions: Sessions,
    pages: LinkPages,
}

impl ValidationV1Api {
    pub(crate) fn new(
        validation: Arc<dyn Validation>,
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
            pages,
        }
    }
}

#[OpenApi(
    prefix_path = "/_matrix/identity/api/v1",
    tag = "ApiTags::ValidationV1"
)]
impl ValidationV1Api {
    /// Request a token for validating an email address (deprecated v1).
    #[oai(
        path = "/validate/email/requestToken",
        method = "post",
        operation_id = "emailRequestTokenV1",
        deprecated,
        external_docs = "https://spec.matrix.org/legacy/identity_service/r0.3.0.html#post-matrix-identity-api-v1-validate-email-requesttoken"
    )]
    async fn create_email_validation_session_v1(
        &self,
        http: &Request,
        body: Json<EmailTokenRequest>,
    ) -> Result<Json<SessionCreated>, ApiError> {
        self.sessions.request_email(client(http), body.0).await
    }

    /// Request a token for validating a phone number (deprecated v1; Synapse's SMS delegation).
    #[oai(
        path = "/validate/msisdn/requestToken",
        method = "post",
        operation_id = "msisdnRequestTokenV1",
        deprecated,
        external_docs = "https://spec.matrix.org/legacy/identity_service/r0.3.0.html#post-matrix-identity-api-v1-validate-msisdn-requesttoken"
    )]
    async fn create_msisdn_validation_session_v1(
        &self,
        http: &Request,
        body: Json<MsisdnTokenRequest>,
    ) -> Result<Json<MsisdnSessionCreated>, ApiError> {
        self.sessions.request_msisdn(client(http), body.0).await
    }

    /// Validate ownership of an email address (deprecated v1).
    ///
    /// A wrong token, an expired or locked session and no matching session answer 200 with
    /// `success: false` and the errcode v2 would send (`M_TOKEN_INCORRECT`,
    /// `M_SESSION_EXPIRED`, `M_NO_VALID_SESSION`), as sydent's v1 does.
    #[oai(
        path = "/validate/email/submitToken",
        method = "post",
        operation_id = "emailSubmitTokenPostV1",
        deprecated,
        external_docs = "https://spec.matrix.org/legacy/identity_service/r0.3.0.html#post-matrix-identity-api-v1-validate-email-submittoken"
    )]
    async fn validate_email_v1(
        &self,
        http: &Request,
        body: Json<TokenSubmission>,
    ) -> Result<Json<SubmissionResult>, ApiError> {
        self.sessions.submit_v1(client(http), body).await
    }

    /// Validate ownership of a phone number (deprecated v1).
    ///
    /// Failures answer 200 with `success: false`, as the email operation.
    #[oai(
        path = "/validate/msisdn/submitToken",
        method = "post",
        operation_id = "msisdnSubmitTokenPostV1",
        deprecated,
        external_docs = "https://spec.matrix.org/legacy/identity_service/r0.3.0.html#post-matrix-identity-api-v1-validate-msisdn-submittoken"
    )]
    async fn validate_msisdn_v1(
        &self,
        http: &Request,
        body: Json<TokenSubmission>,
    ) -> Result<Json<SubmissionResult>, ApiError> {
        self.sessions.submit_v1(client(http), body).await
    }

    /// Validate ownership of an email address from the emailed link (deprecated v1 path, which
    /// mxisd and sydent put in their emails; HTML page or redirect). Failures as on v2: the
    /// failure page with 400 (wrong token, expired or locked session) or 404 (no session).
    #[oai(
        path = "/validate/email/submitToken",
        method = "get",
        operation_id = "emailSubmitTokenGetV1",
        deprecated,
        external_docs = "https://spec.matrix.org/legacy/identity_service/r0.3.0.html#get-matrix-identity-api-v1-validate-email-submittoken"
    )]
    async fn validate_email_by_link_v1(
        &self,
        http: &Request,
        sid: Query<LinkParam<SidText>>,
        client_secret: Query<LinkParam<ClientSecretText>>,
        token: Query<LinkParam<TokenText>>,
    ) -> PageResponse {
        self.pages
            .validate(
                client(http),
                sid.0.into_inner(),
                client_secret.0.into_inner(),
                token.0.into_inner(),
            )
            .await
    }

    /// Validate ownership of a phone number from a link (deprecated v1 path). Failures as on
    /// v2: the failure page with 400 or 404.
    #[oai(
        path = "/validate/msisdn/submitToken",
        method = "get",
        operation_id = "msisdnSubmitTokenGetV1",
        deprecated,
        external_docs = "https://spec.matrix.org/legacy/identity_service/r0.3.0.html#get-matrix-identity-api-v1-validate-msisdn-submittoken"
    )]
    async fn validate_msisdn_by_link_v1(
        &self,
        http: &Request,
        sid: Query<LinkParam<SidText>>,
        client_secret: Query<LinkParam<ClientSecretText>>,
        token: Query<LinkParam<TokenText>>,
    ) -> PageResponse {
        self.pages
            .validate(
                client(http),
                sid.0.into_inner(),
                client_secret.0.into_inner(),
                token.0.into_inner(),
            )
            .await
    }

    /// Determine if a given 3PID has been validated by a user (deprecated v1).
    ///
    /// As on v2: 404 `M_NO_VALID_SESSION`, 400 `M_SESSION_NOT_VALIDATED` or 400
    /// `M_SESSION_EXPIRED`.
    #[oai(
        path = "/3pid/getValidated3pid",
        method = "get",
        operation_id = "getValidated3pidV1",
        deprecated,
        external_docs = "https://spec.matrix.org/legacy/identity_service/r0.3.0.html#get-matrix-identity-api-v1-3pid-getvalidated3pid"
    )]
    async fn get_validated_3pid_v1(
        &self,
        sid: Query<SidText>,
        client_secret: Query<ClientSecretText>,
    ) -> Result<Json<ValidatedThreePidBody>, ApiError> {
        self.sessions
            .validated(sid.0.into_inner(), client_secret.0.into_inner())
            .await
    }
}

/// A v1 request is counted by its client address.
fn client(http: &Request) -> Caller {
    Caller::Client(requester(http))
}
