//! Strings whose schema in the OpenAPI document states the rules the server checks (pattern,
//! length, allowed values), so generated clients and API testers know them. Parsing accepts any
//! string and the handlers check it as before: a value breaking the rules still gets the same
//! Matrix error (`M_INVALID_PARAM` with its message), not poem-openapi's generic `M_BAD_JSON`.
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;

use poem_openapi::registry::{MetaSchema, MetaSchemaRef, Registry};
use poem_openapi::types::{
    ParseError, ParseFromJSON, ParseFromParameter, ParseResult, ToJSON, Type,
};
use serde_json::Value;

/// The rules one kind of string follows, as the document states them.
pub trait Rules: Send + Sync + 'static {
    /// The name of its schema in the document's `components` (one schema per kind, which a
    /// generated client can map to a plain string).
    const NAME: &'static str;
    /// Adds the rules to the string schema.
    fn describe(schema: &mut MetaSchema);
}

/// A string documented with the rules `R`; it derefs to the string as received.
pub struct Documented<R>(pub String, PhantomData<fn() -> R>);

impl<R> Documented<R> {
    /// The string as received.
    pub fn into_inner(self) -> String {
        self.0
    }
}

impl<R> Deref for Documented<R> {
    type Target = String;

    fn deref(&self) -> &String {
        &self.0
    }
}

impl<R> fmt::Debug for Documented<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<R> PartialEq for Documented<R> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl<R> From<String> for Documented<R> {
    fn from(value: String) -> Self {
        Self(value, PhantomData)
    }
}

impl<R: Rules> Type for Documented<R> {
    const IS_REQUIRED: bool = true;
    type RawValueType = String;
    type RawElementValueType = String;

    fn name() -> Cow<'static, str> {
        R::NAME.into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Reference(R::NAME.to_owned())
    }

    fn register(registry: &mut Registry) {
        registry.create_schema::<Self, _>(R::NAME.to_owned(), |_| {
            let mut schema = MetaSchema::new("string");
            R::describe(&mut schema);
            schema
        });
    }

    fn as_raw_value(&self) -> Option<&String> {
        Some(&self.0)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a String> + 'a> {
        Box::new(std::iter::once(&self.0))
    }
}

impl<R: Rules> ParseFromJSON for Documented<R> {
    /// Only a JSON string: unlike poem-openapi's `String`, a number or a boolean is not turned
    /// into one (the document says string, and no client sends anything else).
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value {
            Some(Value::String(value)) => Ok(Self::from(value)),
            Some(value) => Err(ParseError::expected_type(value)),
            None => Err(ParseError::expected_input()),
        }
    }
}

// For the bodies read by serde (`TypedJson`): a string, as for `ParseFromJSON`.
impl<'de, R> serde::Deserialize<'de> for Documented<R> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::from)
    }
}

impl<R: Rules> ParseFromParameter for Documented<R> {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        Ok(Self::from(value.to_owned()))
    }
}

impl<R: Rules> ToJSON for Documented<R> {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.0.clone()))
    }
}

/// `sid` and `client_secret`: the Matrix specification's `[0-9a-zA-Z.=_-]{1,255}`.
pub struct OpaqueIdRules;

impl Rules for OpaqueIdRules {
    const NAME: &'static str = "OpaqueId";

    fn describe(schema: &mut MetaSchema) {
        schema.description =
            Some("A session ID or client secret: 1 to 255 characters of `[0-9a-zA-Z.=_-]`.");
        schema.pattern = Some("^[0-9a-zA-Z.=_-]+$".to_owned());
        schema.min_length = Some(1);
        schema.max_length = Some(255);
    }
}

/// A session ID (`sid`).
pub type SidText = Documented<OpaqueIdRules>;
/// A client secret.
pub type ClientSecretText = Documented<OpaqueIdRules>;
/// A 3PID invite's token.
pub type InviteTokenText = Documented<OpaqueIdRules>;

/// A Matrix user ID. The server accepts any `@localpart:server` of at most 255 bytes whose
/// localpart is printable ASCII without `:` and whose server is `host[:port]`; the pattern is the
/// common form (a DNS host name whose labels start with a letter), which every client sends.
pub struct UserIdRules;

impl Rules for UserIdRules {
    const NAME: &'static str = "UserId";

    fn describe(schema: &mut MetaSchema) {
        schema.description = Some("A Matrix user ID, `@localpart:server`.");
        schema.pattern = Some(
            "^@[!-9;-~]+:[a-zA-Z]([a-zA-Z0-9-]{0,30}[a-zA-Z0-9])?(\\.[a-zA-Z]([a-zA-Z0-9-]{0,30}[a-zA-Z0-9])?)*$"
                .to_owned(),
        );
        schema.max_length = Some(255);
    }
}

/// A Matrix user ID (`mxid`, `sender`).
pub type UserIdText = Documented<UserIdRules>;

/// A 3PID medium: `email` or `msisdn`.
pub struct MediumRules;

impl Rules for MediumRules {
    const NAME: &'static str = "Medium";

    fn describe(schema: &mut MetaSchema) {
        schema.description = Some("A 3PID medium.");
        schema.enum_items = vec![Value::from("email"), Value::from("msisdn")];
    }
}

/// A 3PID medium.
pub type MediumText = Documented<MediumRules>;

/// The medium of a 3PID room invite: only `email` (the specification's only one).
pub struct InviteMediumRules;

impl Rules for InviteMediumRules {
    const NAME: &'static str = "InviteMedium";

    fn describe(schema: &mut MetaSchema) {
        schema.description = Some("The medium of a 3PID room invite (only email).");
        schema.enum_items = vec![Value::from("email")];
    }
}

/// The medium of a 3PID room invite.
pub type InviteMediumText = Documented<InviteMediumRules>;

/// A validation token: 1 to 255 printable ASCII characters.
pub struct TokenRules;

impl Rules for TokenRules {
    const NAME: &'static str = "ValidationToken";

    fn describe(schema: &mut MetaSchema) {
        schema.description = Some("A validation token: 1 to 255 printable ASCII characters.");
        schema.pattern = Some("^[!-~]+$".to_owned());
        schema.min_length = Some(1);
        schema.max_length = Some(255);
    }
}

/// A validation token.
pub type TokenText = Documented<TokenRules>;

/// A query parameter of a link's page: required by the document (the link always has it), but
/// its absence reaches the handler, which shows its own "damaged link" page rather than a JSON
/// error.
pub struct LinkParam<T>(pub Option<T>);

impl<R> LinkParam<Documented<R>> {
    /// The string as received, if any.
    pub fn into_inner(self) -> Option<String> {
        self.0.map(Documented::into_inner)
    }
}

impl<T: Type> Type for LinkParam<T> {
    const IS_REQUIRED: bool = true;
    type RawValueType = T::RawValueType;
    type RawElementValueType = T::RawElementValueType;

    fn name() -> Cow<'static, str> {
        T::name()
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        self.0.as_ref().and_then(Type::as_raw_value)
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        match &self.0 {
            Some(value) => value.raw_element_iter(),
            None => Box::new(std::iter::empty()),
        }
    }
}

impl<T: ParseFromParameter> ParseFromParameter for LinkParam<T> {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        T::parse_from_parameter(value)
            .map(|value| Self(Some(value)))
            .map_err(|err| err.propagate())
    }

    fn parse_from_parameters<I: IntoIterator<Item = A>, A: AsRef<str>>(
        iter: I,
    ) -> ParseResult<Self> {
        match iter.into_iter().next() {
            Some(value) => Self::parse_from_parameter(value.as_ref()),
            None => Ok(Self(None)),
        }
    }
}

/// A hashed lookup's algorithm: what `/hash_details` lists by default (an operator may turn
/// `none` off; `/hash_details` says what this server takes).
pub struct AlgorithmRules;

impl Rules for AlgorithmRules {
    const NAME: &'static str = "LookupAlgorithm";

    fn describe(schema: &mut MetaSchema) {
        schema.description = Some("A lookup hashing algorithm.");
        schema.enum_items = vec![Value::from("sha256"), Value::from("none")];
    }
}

/// A hashed lookup's algorithm.
pub type AlgorithmText = Documented<AlgorithmRules>;

/// The type of an OpenID token: always `Bearer`.
pub struct TokenTypeRules;

impl Rules for TokenTypeRules {
    const NAME: &'static str = "TokenType";

    fn describe(schema: &mut MetaSchema) {
        schema.description = Some("The type of an OpenID token.");
        schema.enum_items = vec![Value::from("Bearer")];
    }
}

/// The type of an OpenID token.
pub type TokenTypeText = Documented<TokenTypeRules>;

/// A Matrix server name, `host[:port]`. The server accepts any DNS name, IPv4 address or
/// bracketed IPv6 address, with a port of 1 to 65535; the pattern is the common form (a DNS
/// name whose labels start with a letter, an optional port).
pub struct ServerNameRules;

impl Rules for ServerNameRules {
    const NAME: &'static str = "ServerName";

    fn describe(schema: &mut MetaSchema) {
        schema.description = Some("A Matrix server name, `host[:port]`.");
        schema.pattern = Some(
            "^[a-zA-Z]([a-zA-Z0-9-]{0,30}[a-zA-Z0-9])?(\\.[a-zA-Z]([a-zA-Z0-9-]{0,30}[a-zA-Z0-9])?)*(:[1-9][0-9]{0,3})?$"
                .to_owned(),
        );
        schema.max_length = Some(255);
    }
}

/// A Matrix server name.
pub type ServerNameText = Documented<ServerNameRules>;

/// An email address. The server takes any dot-atom local part and domain of letters, digits and
/// inner hyphens (Unicode letters too), at most 254 bytes; the pattern is the ASCII form.
pub struct EmailRules;

impl Rules for EmailRules {
    const NAME: &'static str = "EmailAddress";

    fn describe(schema: &mut MetaSchema) {
        const ATEXT: &str = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,20}";
        const LABEL: &str = "[A-Za-z0-9]([A-Za-z0-9-]{0,30}[A-Za-z0-9])?";
        schema.description = Some("An email address.");
        schema.pattern = Some(format!(
            "^{ATEXT}(\\.{ATEXT}){{0,2}}@{LABEL}(\\.{LABEL}){{0,4}}$"
        ));
    }
}

/// An email address.
pub type EmailText = Documented<EmailRules>;

/// A room ID as an invite names it: printable ASCII, 1 to 255 bytes (its sigil is not checked).
pub struct RoomIdRules;

impl Rules for RoomIdRules {
    const NAME: &'static str = "RoomId";

    fn describe(schema: &mut MetaSchema) {
        schema.description = Some("A room ID.");
        schema.pattern = Some("^[!-~]+$".to_owned());
        schema.min_length = Some(1);
        schema.max_length = Some(255);
    }
}

/// A room ID.
pub type RoomIdText = Documented<RoomIdRules>;

/// The URL of a policy document a user accepts (any string; unknown URLs are ignored).
pub struct PolicyUrlRules;

impl Rules for PolicyUrlRules {
    const NAME: &'static str = "PolicyUrl";

    fn describe(schema: &mut MetaSchema) {
        schema.description = Some("The URL of a policy document.");
    }
}

/// The URL of a policy document.
pub type PolicyUrlText = Documented<PolicyUrlRules>;

/// An invite's ephemeral private key: the unpadded standard base64 of its 32-byte ed25519 seed.
pub struct PrivateKeyRules;

impl Rules for PrivateKeyRules {
    const NAME: &'static str = "Ed25519Seed";

    fn describe(schema: &mut MetaSchema) {
        schema.description = Some("An ed25519 seed (32 bytes), unpadded standard base64.");
        // 43 characters; the last carries two bits of the seed and four zero bits.
        schema.pattern = Some("^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]$".to_owned());
    }
}

/// An invite's ephemeral private key.
pub type PrivateKeyText = Documented<PrivateKeyRules>;
