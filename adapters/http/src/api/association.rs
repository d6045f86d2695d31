//! Binding and unbinding 3PIDs (Identity Service API, "Establishing associations"), on v2 and on
//! the deprecated v1.
use std::collections::BTreeMap;
use std::sync::Arc;

use poem::Request;
use poem::http::header;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use verity_application::ports::driving::{
    Accounts, Association, Bind, Caller, SignedRequest, Unbind, UnbindProof,
};
use verity_domain::{
    ClientSecret, JsonObject, LimitedRequest, Medium, SessionId, ThreePid, UserId, XMatrixAuth,
};

use super::ApiTags;
use super::auth::IdentityAuth;
use super::discovery::Empty;
use super::documented::{ClientSecretText, MediumText, SidText, UserIdText};
use super::limits::{Gate, requester};
use super::signed_body::SignedBody;
use crate::errors_api::ApiError;
use crate::middleware::RawJsonBody;

/// `POST /3pid/bind`.
#[derive(Debug, Object)]
pub struct BindRequest {
    /// The session that validated the 3PID.
    pub sid: SidText,
    /// The client secret given to requestToken.
    pub client_secret: ClientSecretText,
    /// The Matrix user to bind the 3PID to; on v2, the owner of the access token.
    pub mxid: UserIdText,
}

// Describes the answer only: it is sent as the signed text (`SignedBody`), byte for byte.
/// An association the server vouches for, signed with its key. Sent exactly as signed: an
/// association another identity server made (a bind forwarded to it) is sent exactly as that
/// server answered, and may carry further fields its signatures cover.
#[derive(Debug, Object)]
pub struct SignedAssociation {
    /// The canonical 3PID address.
    pub address: String,
    /// `email` or `msisdn`.
    pub medium: String,
    /// The Matrix user.
    pub mxid: String,
    /// Start of validity, in milliseconds since the Unix epoch.
    pub not_before: u64,
    /// End of validity, in milliseconds since the Unix epoch (100 years later, as sydent).
    pub not_after: u64,
    /// When the server vouched for it, in milliseconds since the Unix epoch.
    pub ts: u64,
    /// The pending 3PID room invites of this address, signed for `mxid` (as sydent); absent
    /// when there are none. The same invites are delivered to the user's homeserver
    /// (`3pid/onbind`).
    #[oai(skip_serializing_if_is_none)]
    pub invites: Option<Vec<BoundInvite>>,
    /// `{server name: {"ed25519:<id>": signature}}`, over the canonical JSON of the other fields.
    pub signatures: BTreeMap<String, BTreeMap<String, String>>,
}

/// A pending invite of a bound address, as the bind and `3pid/onbind` carry it.
#[derive(Debug, Object)]
pub struct BoundInvite {
    /// `email`.
    pub medium: String,
    /// The invited address.
    pub address: String,
    /// The user the address was bound to.
    pub mxid: String,
    /// The room.
    pub room_id: String,
    /// The inviting user.
    pub sender: String,
    /// `{mxid, token}` signed by this server.
    pub signed: SignedInviteToken,
}

/// `{mxid, token}` signed by this server's long-term key.
#[derive(Debug, Object)]
pub struct SignedInviteToken {
    /// The user the address was bound to.
    pub mxid: String,
    /// The invite's token.
    pub token: String,
    /// `{server name: {"ed25519:<id>": signature}}`.
    pub signatures: BTreeMap<String, BTreeMap<String, String>>,
}

/// A 3PID.
#[derive(Debug, Object)]
pub struct ThreePidBody {
    /// `email` or `msisdn`.
    pub medium: MediumText,
    /// The address, in canonical form, by `medium`: an email address (as `EmailAddress`; it is
    /// compared in lower case) for `email`, the number's E.164 digits without `+` (1 to 15
    /// digits) for `msisdn`. An address that breaks its medium's rule is refused with 400
    /// `M_INVALID_PARAM`.
    pub address: String,
}

/// `POST /3pid/unbind` (MSC1915).
#[derive(Debug, Object)]
pub struct UnbindRequest {
    /// The Matrix user the 3PID is bound to.
    pub mxid: UserIdText,
    /// The 3PID to unbind.
    pub threepid: ThreePidBody,
    /// The session that validated the 3PID (with `client_secret`).
    pub sid: Option<SidText>,
    /// The session's client secret (with `sid`).
    pub client_secret: Option<ClientSecretText>,
}

fn user_id(raw: &str) -> Result<UserId, ApiError> {
    UserId::parse(raw).map_err(|_| ApiError::invalid_param("mxid is not a valid Matrix user ID"))
}

fn threepid(body: &ThreePidBody) -> Result<ThreePid, ApiError> {
    let medium = Medium::parse(&body.medium)
        .map_err(|_| ApiError::invalid_param("threepid.medium is not a valid medium"))?;
    ThreePid::parse(medium, &body.address)
        .map_err(|e| ApiError::invalid_param(format!("threepid.address is invalid: {e}")))
}

/// The homeserver-signed request, when the request carries `Authorization: X-Matrix ...`: the
/// header, and the method, URI and body exactly as received (the body as the text the body
/// guard kept, so fields this API does not declare still count for the signature).
fn signed_by_homeserver(request: &Request) -> Result<Option<SignedRequest>, ApiError> {
    let Some(header) = request
        .headers()
        .get_all(header::AUTHORIZATION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| {
            value
                .trim_start()
                .get(..8)
                .is_some_and(|scheme| scheme.eq_ignore_ascii_case("x-matrix"))
        })
    else {
        return Ok(None);
    };
    let auth =
        XMatrixAuth::parse(header).map_err(|error| ApiError::forbidden_with(error.to_string()))?;
    let content = request
        .extensions()
        .get::<RawJsonBody>()
        .and_then(RawJsonBody::text)
        .and_then(|text| JsonObject::parse(text).ok())
        .unwrap_or_else(JsonObject::empty);
    let uri = request.uri().path_and_query().map_or_else(
        || request.uri().path().to_owned(),
        |pq| pq.as_str().to_owned(),
    );
    Ok(Some(SignedRequest {
        auth,
        method: request.method().to_string(),
        uri,
        content,
    }))
}

/// The shared behaviour of both API versions.
struct Associations {
    association: Arc<dyn Association>,
    gate: Gate,
}

impl Associations {
    async fn bind(
        &self,
        body: BindRequest,
        caller: Caller,
        requester: Option<UserId>,
    ) -> Result<SignedBody<SignedAssociation>, ApiError> {
        self.gate
            .admit(&caller, &LimitedRequest::Bind)
            .map_err(ApiError::from)?;
        let request = Bind {
            sid: SessionId::parse(&body.sid)?,
            client_secret: ClientSecret::parse(&body.client_secret)?,
            user_id: user_id(&body.mxid)?,
            requester,
        };
        let signed = self.association.bind(request).await?;
        Ok(SignedBody::new(signed.as_str()))
    }

    async fn unbind(
        &self,
        request: &Request,
        body: UnbindRequest,
    ) -> Result<Json<Empty>, ApiError> {
        let proof = match (body.sid.as_deref(), body.client_secret.as_deref()) {
            (Some(sid), Some(client_secret)) => UnbindProof::Session {
                sid: SessionId::parse(sid)?,
                client_secret: ClientSecret::parse(client_secret)?,
            },
            (None, None) => match signed_by_homeserver(request)? {
                Some(signed) => UnbindProof::HomeserverSignature(signed),
                None => UnbindProof::None,
            },
            _ => {
                return Err(ApiError::invalid_param(
                    "sid and client_secret must be given together",
                ));
            }
        };
        self.association
            .unbind(Unbind {
                user_id: user_id(&body.mxid)?,
                threepid: threepid(&body.threepid)?,
                proof,
            })
            .await?;
        Ok(Json(Empty {}))
    }
}

/// The v2 association endpoints.
pub struct AssociationApi {
    inner: Associations,
    accounts: Arc<dyn Accounts>,
}

impl AssociationApi {
    pub(crate) fn new(
        association: Arc<dyn Association>,
        accounts: Arc<dyn Accounts>,
        gate: Gate,
    ) -> Self {
        Self {
            inner: Associations { association, gate },
            accounts,
        }
    }
}

#[OpenApi(prefix_path = "/_matrix/identity/v2", tag = "ApiTags::Association")]
impl AssociationApi {
    /// Publish an association between a session and a Matrix user ID.
    ///
    /// The session must be validated and not expired, and `mxid` must be the owner of the access
    /// token (403 `M_UNAUTHORIZED` otherwise, as sydent). Binding an address that is already
    /// bound replaces its Matrix ID. A 3PID the policy sends to a remote identity server is not
    /// bound here (403 `M_FORBIDDEN`).
    ///
    /// The session decides, not the request's form: no session matching `sid` and
    /// `client_secret` answers 404 `M_NO_VALID_SESSION`, a session whose 3PID is not validated
    /// yet 400 `M_SESSION_NOT_VALIDATED`, an expired one 400 `M_SESSION_EXPIRED`.
    #[oai(
        path = "/3pid/bind",
        method = "post",
        operation_id = "bindV2",
        external_docs = "https://spec.matrix.org/v1.19/identity-service-api/#post_matrixidentityv23pidbind"
    )]
    async fn bind(
        &self,
        auth: IdentityAuth,
        body: Json<BindRequest>,
    ) -> Result<SignedBody<SignedAssociation>, ApiError> {
        let requester = self.accounts.authenticate(auth.token(), true).await?;
        let caller = Caller::Account(requester.clone());
        self.inner.bind(body.0, caller, Some(requester)).await
    }

    /// Remove an association between a session and a Matrix user ID.
    ///
    /// Authorised by the `sid` and `client_secret` of a session that validated the 3PID; no access
    /// token is needed (homeservers call this). A request signed by the user's homeserver
    /// (`Authorization: X-Matrix`) without a session is not supported yet and answers 403
    /// `M_FORBIDDEN`. Unbinding what is not bound succeeds.
    ///
    /// `threepid.address` must follow its medium's rule (an email address for `email`, E.164
    /// digits for `msisdn`; 400 `M_INVALID_PARAM` otherwise). With `sid` and `client_secret`,
    /// the session decides: 404 `M_NO_VALID_SESSION` when none matches, 400
    /// `M_SESSION_NOT_VALIDATED` when its 3PID is not validated, 403 `M_FORBIDDEN` when it
    /// validated another 3PID.
    #[oai(
        path = "/3pid/unbind",
        method = "post",
        operation_id = "unbindV2",
        external_docs = "https://spec.matrix.org/v1.19/identity-service-api/#post_matrixidentityv23pidunbind"
    )]
    async fn unbind(
        &self,
        request: &Request,
        body: Json<UnbindRequest>,
    ) -> Result<Json<Empty>, ApiError> {
        self.inner.unbind(request, body.0).await
    }
}

/// The deprecated v1 association endpoints (no authentication, as v1 had none).
pub struct AssociationV1Api {
    inner: Associations,
}

impl AssociationV1Api {
    pub(crate) fn new(association: Arc<dyn Association>, gate: Gate) -> Self {
        Self {
            inner: Associations { association, gate },
        }
    }
}

#[OpenApi(
    prefix_path = "/_matrix/identity/api/v1",
    tag = "ApiTags::AssociationV1"
)]
impl AssociationV1Api {
    /// Publish an association between a session and a Matrix user ID (deprecated v1).
    ///
    /// v1 has no access token, so any Matrix ID may be bound to the validated 3PID. The session
    /// decides as on v2: 404 `M_NO_VALID_SESSION`, 400 `M_SESSION_NOT_VALIDATED` or 400
    /// `M_SESSION_EXPIRED`.
    #[oai(
        path = "/3pid/bind",
        method = "post",
        operation_id = "bindV1",
        deprecated,
        external_docs = "https://spec.matrix.org/legacy/identity_service/r0.3.0.html#post-matrix-identity-api-v1-3pid-bind"
    )]
    async fn bind_v1(
        &self,
        http: &Request,
        body: Json<BindRequest>,
    ) -> Result<SignedBody<SignedAssociation>, ApiError> {
        let caller = Caller::Client(requester(http));
        self.inner.bind(body.0, caller, None).await
    }

    /// Remove an association between a session and a Matrix user ID (deprecated v1).
    #[oai(
        path = "/3pid/unbind",
        method = "post",
        operation_id = "unbindV1",
        deprecated,
        external_docs = "https://spec.matrix.org/v1.19/identity-service-api/#post_matrixidentityv23pidunbind"
    )]
    async fn unbind_v1(
        &self,
        request: &Request,
        body: Json<UnbindRequest>,
    ) -> Result<Json<Empty>, ApiError> {
        self.inner.unbind(request, body.0).await
    }
}
