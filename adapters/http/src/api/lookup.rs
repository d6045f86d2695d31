//! Looking up the Matrix user behind 3PIDs (Identity Service API, "Association lookup"): the v2
//! hashed lookup, and the deprecated v1 single and bulk lookups.
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use poem::Request;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::registry::{MetaSchema, MetaSchemaRef, Registry};
use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult, ToJSON, Type};
use poem_openapi::{Object, OpenApi};
use verity_application::ports::driving::{Accounts, Lookup, LookupRequest};
use verity_domain::{LimitedRequest, Medium, ThreePid, UserId};

use super::ApiTags;
use super::auth::IdentityAuth;
use super::documented::AlgorithmText;
use super::limits::{Gate, requester};
use super::lookup_addresses::AddressList;
use super::signed_body::SignedBody;
use super::typed_json::TypedJson;
use crate::errors_api::ApiError;

/// What a lookup of `count` addresses costs against `ratelimit.lookup`.
fn lookup_of(count: usize) -> LimitedRequest {
    LimitedRequest::Lookup(u32::try_from(count).unwrap_or(u32::MAX))
}

/// `GET /hash_details`.
#[derive(Debug, Object)]
pub struct HashDetailsBody {
    /// The pepper every lookup must carry (`""` when the operator turned hashing off).
    pub lookup_pepper: String,
    /// The algorithms `/lookup` accepts: `none` and `sha256` by default.
    pub algorithms: Vec<String>,
}

// Read by serde in one pass (`TypedJson`); the `Object` derive only describes it.
/// `POST /lookup`.
#[derive(Debug, Object, serde::Deserialize)]
pub struct LookupBody {
    /// `sha256` or `none`.
    pub algorithm: AlgorithmText,
    /// The pepper from `/hash_details`.
    pub pepper: String,
    /// `sha256`: unpadded URL-safe base64 of SHA-256 over `"<address> <medium> <pepper>"`;
    /// `none`: `"<address> <medium>"`.
    pub addresses: AddressList,
}

// Written by serde in one pass (`TypedJson`); the `Object` derive only describes it.
/// The addresses that are bound.
#[derive(Debug, Object, serde::Serialize)]
pub struct LookupMappings {
    /// Each bound address, exactly as sent, with its Matrix user ID; unbound ones are absent.
    pub mappings: BTreeMap<String, String>,
}

// Describes the answer only: it is sent as the signed text (`SignedBody`), byte for byte.
/// The v1 single lookup's answer: a signed association, or `{}`. Sent exactly as signed (an
/// association imported from another server keeps every field its signatures cover).
#[derive(Debug, Object)]
pub struct V1LookupAnswer {
    /// The 3PID address.
    #[oai(skip_serializing_if_is_none)]
    pub address: Option<String>,
    /// The 3PID medium.
    #[oai(skip_serializing_if_is_none)]
    pub medium: Option<String>,
    /// The Matrix user.
    #[oai(skip_serializing_if_is_none)]
    pub mxid: Option<String>,
    /// Start of validity (ms).
    #[oai(skip_serializing_if_is_none)]
    pub not_before: Option<u64>,
    /// End of validity (ms).
    #[oai(skip_serializing_if_is_none)]
    pub not_after: Option<u64>,
    /// When the server vouched for it (ms).
    #[oai(skip_serializing_if_is_none)]
    pub ts: Option<u64>,
    /// The server's signatures.
    #[oai(skip_serializing_if_is_none)]
    pub signatures: Option<BTreeMap<String, BTreeMap<String, String>>>,
    /// Only in an association imported from Sydent that carries it: the invites Sydent listed
    /// in the associations it signed after a bind delivered invites. Its signatures cover this
    /// field, so it is handed out as stored.
    #[oai(skip_serializing_if_is_none)]
    pub invites: Option<Vec<serde_json::Value>>,
}

/// `POST /bulk_lookup` request.
#[derive(Debug, Object)]
pub struct BulkLookupRequest {
    /// `[medium, address]` pairs; pairs whose medium or address is invalid are never found.
    pub threepids: Vec<ThreePidPair>,
}

/// `POST /bulk_lookup` answer.
#[derive(Debug, Object)]
pub struct BulkLookupBody {
    /// `[medium, address, mxid]` for the bound 3PIDs.
    pub threepids: Vec<Vec<String>>,
}

/// A `[medium, address]` pair. Any other length is refused (`M_INVALID_PARAM`) by the handler,
/// not by parsing, so the document states the length and the handler keeps its own error.
#[derive(Debug)]
pub struct ThreePidPair(pub Vec<String>);

impl Type for ThreePidPair {
    const IS_REQUIRED: bool = true;
    type RawValueType = Vec<String>;
    type RawElementValueType = String;

    fn name() -> Cow<'static, str> {
        "ThreePidPair".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Reference(Self::name().into_owned())
    }

    fn register(registry: &mut Registry) {
        registry.create_schema::<Self, _>(Self::name().into_owned(), |registry| {
            String::register(registry);
            let mut schema = MetaSchema::new("array");
            schema.description = Some("`[medium, address]`.");
            schema.items = Some(Box::new(String::schema_ref()));
            schema.min_items = Some(2);
            schema.max_items = Some(2);
            schema
        });
    }

    fn as_raw_value(&self) -> Option<&Vec<String>> {
        Some(&self.0)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a String> + 'a> {
        Box::new(self.0.iter())
    }
}

impl ParseFromJSON for ThreePidPair {
    /// Strings only: a number or a boolean is not turned into one (see `Documented`).
    fn parse_from_json(value: Option<serde_json::Value>) -> ParseResult<Self> {
        match value {
            Some(serde_json::Value::Array(items)) => items
                .into_iter()
                .map(|item| match item {
                    serde_json::Value::String(item) => Ok(item),
                    other => Err(ParseError::expected_type(other)),
                })
                .collect::<Result<_, _>>()
                .map(Self),
            Some(other) => Err(ParseError::expected_type(other)),
            None => Err(ParseError::expected_input()),
        }
    }
}

impl ToJSON for ThreePidPair {
    fn to_json(&self) -> Option<serde_json::Value> {
        self.0.to_json()
    }
}

/// The v2 lookup endpoints.
pub struct LookupApi {
    lookup: Arc<dyn Lookup>,
    accounts: Arc<dyn Accounts>,
    gate: Gate,
}

impl LookupApi {
    pub(crate) fn new(lookup: Arc<dyn Lookup>, accounts: Arc<dyn Accounts>, gate: Gate) -> Self {
        Self {
            lookup,
            accounts,
            gate,
        }
    }

    async fn authorise(&self, auth: IdentityAuth) -> Result<UserId, ApiError> {
        Ok(self.accounts.authenticate(auth.token(), true).await?)
    }
}

#[OpenApi(prefix_path = "/_matrix/identity/v2", tag = "ApiTags::Lookup")]
impl LookupApi {
    /// Get the pepper and the algorithms of hashed lookups.
    ///
    /// The pepper changes only as the operator's `hashing.rotationPolicy` says (by default never
    /// on its own); a lookup with another one answers 400 `M_INVALID_PEPPER` with the current one.
    #[oai(
        path = "/hash_details",
        method = "get",
        operation_id = "getHashDetails",
        external_docs = "https://spec.matrix.org/v1.19/identity-service-api/#get_matrixidentityv2hash_details"
    )]
    async fn hash_details(&self, auth: IdentityAuth) -> Result<Json<HashDetailsBody>, ApiError> {
        self.authorise(auth).await?;
        let details = self.lookup.hash_details().await;
        Ok(Json(HashDetailsBody {
            lookup_pepper: details.lookup_pepper,
            algorithms: details
                .algorithms
                .iter()
                .map(|a| a.as_str().to_owned())
                .collect(),
        }))
    }

    /// Look up Matrix user IDs for a set of 3PIDs.
    ///
    /// `sha256` lookups are answered from a precomputed table; `none` lookups from the identity
    /// backends in priority order. Only addresses that were sent, and are bound, are in
    /// `mappings`. Too many addresses (10000 by default) answer 400 `M_TOO_LARGE`.
    #[oai(
        path = "/lookup",
        method = "post",
        operation_id = "lookupUsers",
        external_docs = "https://spec.matrix.org/v1.19/identity-service-api/#post_matrixidentityv2lookup"
    )]
    async fn lookup(
        &self,
        auth: IdentityAuth,
        request: &Request,
        body: TypedJson<LookupBody>,
    ) -> Result<TypedJson<LookupMappings>, ApiError> {
        let user = self.authorise(auth).await?;
        let LookupBody {
            algorithm,
            pepper,
            addresses,
        } = body.0;
        self.gate.account(&user, lookup_of(addresses.0.len()))?;
        let found = self
            .lookup
            .lookup(
                LookupRequest {
                    algorithm: algorithm.into_inner(),
                    pepper,
                    addresses: addresses.0,
                },
                &requester(request),
            )
            .await?;
        Ok(TypedJson(LookupMappings {
            mappings: found
                .into_iter()
                .map(|(address, user)| (address, user.as_str().to_owned()))
                .collect(),
        }))
    }
}

/// The deprecated v1 lookup endpoints (no authentication, as v1 had none).
pub struct LookupV1Api {
    lookup: Arc<dyn Lookup>,
    gate: Gate,
}

impl LookupV1Api {
    pub(crate) fn new(lookup: Arc<dyn Lookup>, gate: Gate) -> Self {
        Self { lookup, gate }
    }
}

/// A (medium, address) pair as a 3PID; `None` when it cannot be one (then it is bound to no one).
fn parse_threepid(medium: &str, address: &str) -> Option<ThreePid> {
    ThreePid::parse(Medium::parse(medium).ok()?, address).ok()
}

#[OpenApi(prefix_path = "/_matrix/identity/api/v1", tag = "ApiTags::LookupV1")]
impl LookupV1Api {
    /// Look up the Matrix user ID of one 3PID (deprecated v1).
    ///
    /// Answers the signed association, or `{}` when the 3PID is not bound.
    #[oai(
        path = "/lookup",
        method = "get",
        operation_id = "lookupV1",
        deprecated,
        external_docs = "https://spec.matrix.org/legacy/identity_service/r0.3.0.html#get-matrix-identity-api-v1-lookup"
    )]
    async fn lookup_v1(
        &self,
        request: &Request,
        /// `email` or `msisdn`.
        medium: Query<String>,
        /// The address, in canonical form.
        address: Query<String>,
    ) -> Result<SignedBody<V1LookupAnswer>, ApiError> {
        self.gate.client(request, lookup_of(1))?;
        let Some(threepid) = parse_threepid(&medium.0, &address.0) else {
            return Ok(SignedBody::new("{}"));
        };
        let signed = self
            .lookup
            .lookup_signed(&threepid, &requester(request))
            .await?;
        Ok(SignedBody::new(
            signed.as_ref().map_or("{}", |signed| signed.as_str()),
        ))
    }

    /// Look up the Matrix user IDs of several 3PIDs (deprecated v1).
    ///
    /// Answers `[medium, address, mxid]` for each bound 3PID, in the order asked, unsigned.
    #[oai(
        path = "/bulk_lookup",
        method = "post",
        operation_id = "bulkLookupV1",
        deprecated,
        external_docs = "https://spec.matrix.org/legacy/identity_service/r0.3.0.html#post-matrix-identity-api-v1-bulk-lookup"
    )]
    async fn bulk_lookup_v1(
        &self,
        request: &Request,
        body: Json<BulkLookupRequest>,
    ) -> Result<Json<BulkLookupBody>, ApiError> {
        self.gate
            .client(request, lookup_of(body.0.threepids.len()))?;
        let mut threepids = Vec::with_capacity(body.0.threepids.len());
        for pair in &body.0.threepids {
            let [medium, address] = pair.0.as_slice() else {
                return Err(ApiError::invalid_param(
                    "each entry of threepids must be [medium, address]",
                ));
            };
            if let Some(threepid) = parse_threepid(medium, address) {
                threepids.push(threepid);
            }
        }
        let found = self
            .lookup
            .lookup_bulk(&threepids, &requester(request))
            .await?;
        Ok(Json(BulkLookupBody {
            threepids: found
                .into_iter()
                .map(|binding| {
                    vec![
                        binding.threepid.medium().as_str().to_owned(),
                        binding.threepid.address().to_owned(),
                        binding.user_id.as_str().to_owned(),
                    ]
                })
                .collect(),
        }))
    }
}
