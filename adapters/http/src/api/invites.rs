//! 3PID room invites (Identity Service API, "Invitation storage" and "Ephemeral invitation
//! signing"), on v2 and on the deprecated v1.
use std::collections::BTreeMap;
use std::sync::Arc;

use poem::Request;
use poem_openapi::payload::Json;
use poem_openapi::registry::MetaSchema;
use poem_openapi::{Object, OpenApi};
use verity_application::ports::driving::{
    Accounts, Caller, InviteDetails, InviteError, InviteStored, Invites, SignEd25519, StoreInvite,
};
use verity_domain::{
    EmailAddress, InviteToken, LimitedRequest, Medium, ThreePid, UserId, forbidden_invite_char,
};

use super::ApiTags;
use super::auth::IdentityAuth;
use super::documented::{
    Documented, EmailText, InviteMediumText, InviteTokenText, PrivateKeyText, RoomIdText, Rules,
    UserIdText,
};
use super::limits::{Gate, requester};
use super::signed_body::SignedBody;
use crate::errors_api::ApiError;

/// Longest optional display value accepted (`room_name`, `sender_avatar_url`, ...), in bytes.
const MAX_DETAIL_BYTES: usize = 2048;
/// Longest `room_id` accepted, in bytes (the spec's limit on room IDs).
const MAX_ROOM_ID_BYTES: usize = 255;

/// `POST /store-invite`. Other fields are accepted and ignored.
#[derive(Debug, Object)]
pub struct StoreInviteRequest {
    /// The medium of the invited address: only `email` is supported.
    pub medium: InviteMediumText,
    /// The invited address.
    pub address: EmailText,
    /// The room the address is invited to (its sigil is not checked).
    pub room_id: RoomIdText,
    /// The inviting user; on v2, the owner of the access token.
    pub sender: UserIdText,
    /// The room's canonical alias.
    pub room_alias: Option<InviteText>,
    /// The room's avatar (an `mxc://` URI).
    pub room_avatar_url: Option<InviteText>,
    /// The room's join rule.
    pub room_join_rules: Option<InviteText>,
    /// The room's name (longer than 30 characters: cut, as sydent).
    pub room_name: Option<InviteText>,
    /// The room's type, such as `m.space`.
    pub room_type: Option<InviteText>,
    /// The sender's display name (longer than 20 characters: cut, as sydent).
    pub sender_display_name: Option<InviteText>,
    /// The sender's avatar (an `mxc://` URI).
    pub sender_avatar_url: Option<InviteText>,
    /// A guest account made for the invitee by older homeservers (for the invite template).
    pub guest_user_id: Option<InviteText>,
    /// That guest account's access token (for the invite template, as sydent; never logged).
    pub guest_access_token: Option<InviteText>,
    /// The web client the invite email should link to (Synapse's `invite_client_location`).
    #[oai(rename = "org.matrix.web_client_location")]
    pub web_client_location: Option<InviteText>,
}

/// A public key that signs for an invite, and where its validity is checked.
#[derive(Debug, Object)]
pub struct InvitePublicKey {
    /// The key, unpadded standard base64.
    pub public_key: String,
    /// `/pubkey/isvalid` for the server's key, `/pubkey/ephemeral/isvalid` for the invite's.
    pub key_validity_url: String,
}

/// What the homeserver puts in the room's `m.room.third_party_invite` event.
#[derive(Debug, Object)]
pub struct StoreInviteResponse {
    /// The invite's token (the event's `state_key`).
    pub token: String,
    /// The server's long-term key, then the invite's ephemeral key.
    pub public_keys: Vec<InvitePublicKey>,
    /// The server's long-term key again, for homeservers older than `public_keys` (as sydent).
    pub public_key: String,
    /// The address, redacted (`gin...@exa...`) unless `invite.fullDisplayName` is on.
    pub display_name: String,
}

/// `POST /sign-ed25519`.
#[derive(Debug, Object)]
pub struct SignEd25519Request {
    /// The Matrix user ID of the invitee.
    pub mxid: UserIdText,
    /// The invite's token.
    pub token: InviteTokenText,
    /// The invite's ephemeral private key, unpadded base64 (from the invite email).
    pub private_key: PrivateKeyText,
}

// Describes the answer only: it is sent as the signed text (`SignedBody`), byte for byte.
/// `{mxid, sender, token}` signed with the invite's ephemeral key under this server's name.
#[derive(Debug, Object)]
pub struct SignedEd25519 {
    /// The invitee.
    pub mxid: String,
    /// The inviting user.
    pub sender: String,
    /// The invite's token.
    pub token: InviteTokenText,
    /// `{server name: {"ed25519:0": signature}}`.
    pub signatures: BTreeMap<String, BTreeMap<String, String>>,
}

fn detail(value: Option<InviteText>, name: &str) -> Result<Option<String>, ApiError> {
    match value.map(Documented::into_inner) {
        Some(value) if value.len() > MAX_DETAIL_BYTES => Err(ApiError::invalid_param(format!(
            "{name} is longer than {MAX_DETAIL_BYTES} bytes"
        ))),
        Some(value) => {
            clean_text(&value, name)?;
            Ok(Some(value))
        }
        None => Ok(None),
    }
}

/// Control characters and bidirectional overrides reach the message's text part as they are
/// (terminal escapes, fake lines, reordered words): the invite is refused rather than silently
/// changed, so the homeserver learns that its text was not sent as it was written.
fn clean_text(value: &str, name: &str) -> Result<(), ApiError> {
    match forbidden_invite_char(value) {
        Some(c) => Err(ApiError::invalid_param(format!(
            "{name} contains the control or direction-override character U+{:04X}",
            u32::from(c)
        ))),
        None => Ok(()),
    }
}

/// The request as the use case takes it: the medium first (only email: `M_UNRECOGNIZED`), then
/// the address, the sender and the room.
fn parse_store(
    body: StoreInviteRequest,
    requester: Option<UserId>,
) -> Result<StoreInvite, ApiError> {
    let medium = Medium::parse(&body.medium)
        .map_err(|_| ApiError::invalid_param("medium is not a valid medium"))?;
    if medium != Medium::Email {
        return Err(InviteError::UnsupportedMedium(medium).into());
    }
    let threepid = ThreePid::Email(EmailAddress::parse(&body.address)?);
    let sender = UserId::parse(&body.sender)
        .map_err(|_| ApiError::invalid_param("sender is not a valid Matrix user ID"))?;
    let room_id = body.room_id.trim();
    if room_id.is_empty()
        || room_id.len() > MAX_ROOM_ID_BYTES
        || forbidden_invite_char(room_id).is_some()
    {
        return Err(ApiError::invalid_param(
            "room_id must be 1 to 255 bytes without control or direction-override characters",
        ));
    }
    Ok(StoreInvite {
        threepid,
        room_id: room_id.to_owned(),
        sender,
        requester,
        details: InviteDetails {
            room_alias: detail(body.room_alias, "room_alias")?,
            room_avatar_url: detail(body.room_avatar_url, "room_avatar_url")?,
            room_join_rules: detail(body.room_join_rules, "room_join_rules")?,
            room_name: detail(body.room_name, "room_name")?,
            room_type: detail(body.room_type, "room_type")?,
            sender_display_name: detail(body.sender_display_name, "sender_display_name")?,
            sender_avatar_url: detail(body.sender_avatar_url, "sender_avatar_url")?,
            guest_user_id: detail(body.guest_user_id, "guest_user_id")?,
            guest_access_token: detail(body.guest_access_token, "guest_access_token")?,
            web_client_location: detail(
                body.web_client_location,
                "org.matrix.web_client_location",
            )?,
        },
    })
}

fn stored_response(stored: InviteStored) -> StoreInviteResponse {
    let server_key = stored.server_key.to_base64();
    StoreInviteResponse {
        token: stored.token.as_str().to_owned(),
        public_keys: vec![
            InvitePublicKey {
                public_key: server_key.clone(),
                key_validity_url: stored.server_key_validity_url,
            },
            InvitePublicKey {
                public_key: stored.ephemeral_key.to_base64(),
                key_validity_url: stored.ephemeral_key_validity_url,
            },
        ],
        public_key: server_key,
        display_name: stored.display_name,
    }
}

/// The shared behaviour of both API versions.
struct InviteOps {
    invites: Arc<dyn Invites>,
    gate: Gate,
}

impl InviteOps {
    async fn store(
        &self,
        body: StoreInviteRequest,
        caller: Caller,
        requester: Option<UserId>,
    ) -> Result<Json<StoreInviteResponse>, ApiError> {
        let request = parse_store(body, requester)?;
        // A v2 token inviting as someone else is refused by the use case (sent nothing): it
        // must not spend that someone's allowance either.
        let as_itself = request
            .requester
            .as_ref()
            .is_none_or(|requester| requester == &request.sender);
        if as_itself {
            let limited = LimitedRequest::StoreInvite {
                sender: request.sender.clone(),
                threepid: request.threepid.clone(),
            };
            self.gate.admit(&caller, &limited).map_err(ApiError::from)?;
        }
        let stored = self.invites.store_invite(request).await?;
        Ok(Json(stored_response(stored)))
    }

    async fn sign(&self, body: SignEd25519Request) -> Result<SignedBody<SignedEd25519>, ApiError> {
        let request = SignEd25519 {
            mxid: UserId::parse(&body.mxid)
                .map_err(|_| ApiError::invalid_param("mxid is not a valid Matrix user ID"))?,
            token: InviteToken::parse(&body.token)
                .map_err(|error| ApiError::invalid_param(error.to_string()))?,
            private_key: body.private_key.into_inner(),
        };
        let signed = self.invites.sign_ed25519(request).await?;
        Ok(SignedBody::new(signed.signed().as_str()))
    }
}

/// The v2 invite endpoints.
pub struct InvitesApi {
    inner: InviteOps,
    accounts: Arc<dyn Accounts>,
}

impl InvitesApi {
    pub(crate) fn new(invites: Arc<dyn Invites>, accounts: Arc<dyn Accounts>, gate: Gate) -> Self {
        Self {
            inner: InviteOps { invites, gate },
            accounts,
        }
    }
}

#[OpenApi(prefix_path = "/_matrix/identity/v2", tag = "ApiTags::Invites")]
impl InvitesApi {
    /// Store pending invitations to a user's 3PID.
    ///
    /// Emails the address and answers the token and keys for the room's
    /// `m.room.third_party_invite` event. `sender` must be the owner of the access token (403
    /// `M_UNAUTHORIZED` otherwise, as sydent); a bound address answers 400 `M_THREEPID_IN_USE`
    /// with its `mxid`; another medium than `email` answers 400 `M_UNRECOGNIZED`.
    #[oai(
        path = "/store-invite",
        method = "post",
        operation_id = "storeInviteV2",
        external_docs = "https://spec.matrix.org/v1.19/identity-service-api/#post_matrixidentityv2store-invite"
    )]
    async fn store_invite(
        &self,
        auth: IdentityAuth,
        body: Json<StoreInviteRequest>,
    ) -> Result<Json<StoreInviteResponse>, ApiError> {
        let requester = self.accounts.authenticate(auth.token(), true).await?;
        let caller = Caller::Account(requester.clone());
        self.inner.store(body.0, caller, Some(requester)).await
    }

    /// Sign invitation details with the invite's ephemeral key.
    ///
    /// For clients that cannot sign: `private_key` must be the invite's own ephemeral key (from
    /// the invite email). 404 `M_UNRECOGNIZED` for an unknown or expired token, 400
    /// `M_INVALID_PARAM` for a key that is not base64 of 32 bytes, 403 `M_FORBIDDEN` for another
    /// key.
    #[oai(
        path = "/sign-ed25519",
        method = "post",
        operation_id = "signEd25519V2",
        external_docs = "https://spec.matrix.org/v1.19/identity-service-api/#post_matrixidentityv2sign-ed25519"
    )]
    async fn sign_ed25519(
        &self,
        auth: IdentityAuth,
        body: Json<SignEd25519Request>,
    ) -> Result<SignedBody<SignedEd25519>, ApiError> {
        self.accounts.authenticate(auth.token(), true).await?;
        self.inner.sign(body.0).await
    }
}

/// The deprecated v1 invite endpoints (no authentication, as v1 had none).
pub struct InvitesV1Api {
    inner: InviteOps,
}

impl InvitesV1Api {
    pub(crate) fn new(invites: Arc<dyn Invites>, gate: Gate) -> Self {
        Self {
            inner: InviteOps { invites, gate },
        }
    }
}

#[OpenApi(prefix_path = "/_matrix/identity/api/v1", tag = "ApiTags::InvitesV1")]
impl InvitesV1Api {
    /// Store pending invitations to a user's 3PID (deprecated v1).
    ///
    /// v1 has no access token, so `sender` is not checked against one.
    #[oai(
        path = "/store-invite",
        method = "post",
        operation_id = "storeInviteV1",
        deprecated,
        external_docs = "https://spec.matrix.org/legacy/identity_service/r0.3.0.html#post-matrix-identity-api-v1-store-invite"
    )]
    async fn store_invite_v1(
        &self,
        http: &Request,
        body: Json<StoreInviteRequest>,
    ) -> Result<Json<StoreInviteResponse>, ApiError> {
        let caller = Caller::Client(requester(http));
        self.inner.store(body.0, caller, None).await
    }

    /// Sign invitation details with the invite's ephemeral key (deprecated v1).
    ///
    /// The link in the invite email points here.
    #[oai(
        path = "/sign-ed25519",
        method = "post",
        operation_id = "signEd25519V1",
        deprecated,
        external_docs = "https://spec.matrix.org/legacy/identity_service/r0.3.0.html#post-matrix-identity-api-v1-sign-ed25519"
    )]
    async fn sign_ed25519_v1(
        &self,
        body: Json<SignEd25519Request>,
    ) -> Result<SignedBody<SignedEd25519>, ApiError> {
        self.inner.sign(body.0).await
    }
}

/// A display field of an invite (room name, sender name, ...): at most 2048 bytes, without
/// control or bidirectional-override characters (`is_forbidden_in_invite_text`). `maxLength`
/// counts characters, so it is the byte limit (exact for ASCII text). Every such field is
/// optional, and `null` is taken as absent (documented as `nullable`).
pub struct InviteTextRules;

impl Rules for InviteTextRules {
    const NAME: &'static str = "InviteText";

    fn describe(schema: &mut MetaSchema) {
        schema.description = Some(
            "Text without control or direction-override characters, at most 2048 bytes; null for none.",
        );
        schema.nullable = true;
        schema.pattern =
            Some("^[^\\u0000-\\u001F\\u007F-\\u009F\\u202A-\\u202E\\u2066-\\u2069]*$".to_owned());
        schema.max_length = Some(MAX_DETAIL_BYTES);
    }
}

/// A display field of an invite.
pub type InviteText = Documented<InviteTextRules>;
