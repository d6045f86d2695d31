//! Accounts and terms (Identity Service API, "Authentication" and "Terms of service").
use std::sync::Arc;

use poem::Request;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use std::collections::BTreeMap;

use serde_json::{Map, Value};
use verity_application::ports::driven::OpenIdToken;
use verity_application::ports::driving::{Accounts, Registration};
use verity_domain::LimitedRequest;

use super::ApiTags;
use super::auth::IdentityAuth;
use super::discovery::Empty;
use super::documented::{Documented, PolicyUrlText, ServerNameText, TokenTypeText};
use super::limits::Gate;
use crate::errors_api::ApiError;

/// The OpenID token a homeserver issued (`POST /_matrix/client/v3/user/{userId}/openid/request_token`).
#[derive(Debug, Object)]
pub struct OpenIdCredentials {
    /// The OpenID access token.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: Option<TokenTypeText>,
    /// The homeserver that issued the token.
    pub matrix_server_name: ServerNameText,
    /// Seconds until the OpenID token expires.
    pub expires_in: Option<i64>,
}

/// The issued access token.
#[derive(Debug, Object)]
pub struct RegisterResponse {
    /// The access token for this identity server.
    pub token: String,
    /// The same token, for clients that read `access_token` (sydent sends both).
    pub access_token: String,
}

/// The user an access token belongs to.
#[derive(Debug, Object)]
pub struct AccountInfo {
    /// The Matrix user ID.
    pub user_id: String,
}

/// The configured policies.
#[derive(Debug, Object)]
pub struct TermsResponse {
    /// Policy name -> `{"version": ..., "<language>": {"name", "url"}, ...}`.
    pub policies: BTreeMap<String, Value>,
}

/// The documents a user accepts.
#[derive(Debug, Object)]
pub struct AcceptTerms {
    /// URLs of the accepted documents.
    pub user_accepts: Vec<PolicyUrlText>,
}

/// Account endpoints.
pub struct AccountsApi {
    accounts: Arc<dyn Accounts>,
    gate: Gate,
}

impl AccountsApi {
    pub(crate) fn new(accounts: Arc<dyn Accounts>, gate: Gate) -> Self {
        Self { accounts, gate }
    }
}

#[OpenApi(prefix_path = "/_matrix/identity/v2", tag = "ApiTags::Accounts")]
impl AccountsApi {
    /// Exchanges an OpenID token from the homeserver for an access token to the identity server.
    ///
    /// Verity asks the homeserver named by `matrix_server_name` (federation discovery, private
    /// addresses refused) who the token belongs to, and refuses users of another server than the
    /// one that vouched for them. Returns the token as both `token` and `access_token`.
    #[oai(
        path = "/account/register",
        method = "post",
        operation_id = "registerAccount",
        external_docs = "https://spec.matrix.org/v1.19/identity-service-api/#post_matrixidentityv2accountregister"
    )]
    async fn register(
        &self,
        http: &Request,
        body: Json<OpenIdCredentials>,
    ) -> Result<Json<RegisterResponse>, ApiError> {
        // Before the homeserver is asked: each registration makes an outbound call.
        self.gate.client(http, LimitedRequest::Register)?;
        let body = body.0;
        if body
            .token_type
            .as_deref()
            .is_some_and(|t| !t.eq_ignore_ascii_case("bearer"))
        {
            return Err(ApiError::invalid_param("token_type must be Bearer"));
        }
        let token = self
            .accounts
            .register(Registration {
                access_token: OpenIdToken::new(body.access_token),
                matrix_server_name: body.matrix_server_name.into_inner(),
            })
            .await?;
        let token = token.expose().to_owned();
        Ok(Json(RegisterResponse {
            token: token.clone(),
            access_token: token,
        }))
    }

    /// Gets information about what user owns the access token used in the request.
    #[oai(
        path = "/account",
        method = "get",
        operation_id = "getAccount",
        external_docs = "https://spec.matrix.org/v1.19/identity-service-api/#get_matrixidentityv2account"
    )]
    async fn get_account(&self, auth: IdentityAuth) -> Result<Json<AccountInfo>, ApiError> {
        // Terms gated, as sydent does: this is how a client learns that terms must be accepted.
        let user = self.accounts.authenticate(auth.token(), true).await?;
        Ok(Json(AccountInfo {
            user_id: user.as_str().to_owned(),
        }))
    }

    /// Logs out the access token, preventing it from being used to authenticate future requests.
    #[oai(
        path = "/account/logout",
        method = "post",
        operation_id = "logout",
        external_docs = "https://spec.matrix.org/v1.19/identity-service-api/#post_matrixidentityv2accountlogout"
    )]
    async fn logout(&self, auth: IdentityAuth) -> Result<Json<Empty>, ApiError> {
        match self.accounts.logout(auth.token()).await {
            Ok(()) => Ok(Json(Empty {})),
            Err(error) => Err(crate::errors_api::logout_error(error)),
        }
    }

    /// Fetches all the terms of service offered by the server.
    #[oai(
        path = "/terms",
        method = "get",
        operation_id = "getTerms",
        external_docs = "https://spec.matrix.org/v1.19/identity-service-api/#get_matrixidentityv2terms"
    )]
    async fn get_terms(&self) -> Json<TermsResponse> {
        let mut policies = BTreeMap::new();
        for policy in self.accounts.terms() {
            let mut entry = Map::new();
            entry.insert("version".into(), Value::String(policy.version));
            for (language, doc) in policy.translations {
                entry.insert(
                    language,
                    serde_json::json!({ "name": doc.name, "url": doc.url }),
                );
            }
            policies.insert(policy.name, Value::Object(entry));
        }
        Json(TermsResponse { policies })
    }

    /// Called by a client to indicate that the user has accepted/agreed to the included set of URLs.
    ///
    /// URLs of no configured policy are ignored.
    #[oai(
        path = "/terms",
        method = "post",
        operation_id = "agreeToTerms",
        external_docs = "https://spec.matrix.org/v1.19/identity-service-api/#post_matrixidentityv2terms"
    )]
    async fn agree_to_terms(
        &self,
        auth: IdentityAuth,
        body: Json<AcceptTerms>,
    ) -> Result<Json<Empty>, ApiError> {
        let user = self.accounts.authenticate(auth.token(), false).await?;
        self.accounts
            .accept_terms(
                &user,
                body.0
                    .user_accepts
                    .into_iter()
                    .map(Documented::into_inner)
                    .collect(),
            )
            .await?;
        Ok(Json(Empty {}))
    }
}
