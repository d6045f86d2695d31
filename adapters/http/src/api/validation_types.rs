//! Request and response bodies of the validation endpoints, and their parsing into domain types.
use std::borrow::Cow;

use poem_openapi::Object;
use poem_openapi::registry::{MetaSchema, MetaSchemaRef, Registry};
use poem_openapi::types::{ParseFromJSON, ParseResult, ToJSON, Type};
use verity_application::ports::driving::{RequestToken, SubmitToken};
use verity_domain::{
    ClientSecret, EmailAddress, Msisdn, SendAttempt, SessionId, ThreePid, ValidationToken,
};

use super::documented::{ClientSecretText, Documented, EmailText, Rules, SidText, TokenText};
use crate::errors_api::ApiError;

/// Longest `next_link` kept (a URL; browsers handle far less in practice).
const MAX_NEXT_LINK: usize = 2048;
/// The largest `send_attempt` sent as a JSON number: the largest integer the Matrix
/// specification allows in JSON (2^53 - 1, which every JSON reader holds exactly).
const MAX_SEND_ATTEMPT_NUMBER: u64 = 9_007_199_254_740_991;
/// The most digits of a `send_attempt` sent as a string (any 19 digits fit the 64-bit counter).
const MAX_SEND_ATTEMPT_DIGITS: usize = 19;

/// `POST /validate/email/requestToken`.
#[derive(Debug, Object)]
pub struct EmailTokenRequest {
    /// A secret the client generated: `[0-9a-zA-Z.=_-]{1,255}`.
    pub client_secret: ClientSecretText,
    /// The email address to validate.
    pub email: EmailText,
    /// The client's attempt counter: an integer, or a string of digits as Element sends it.
    pub send_attempt: SendAttemptValue,
    /// Where to send the user after they validate through the emailed link (http or https).
    pub next_link: Option<NextLinkText>,
}

/// `POST /validate/msisdn/requestToken`.
#[derive(Debug, Object)]
pub struct MsisdnTokenRequest {
    /// A secret the client generated: `[0-9a-zA-Z.=_-]{1,255}`.
    pub client_secret: ClientSecretText,
    /// ISO 3166-1 alpha-2 country code the number is written for.
    pub country: String,
    /// The phone number as dialled in that country.
    pub phone_number: String,
    /// The client's attempt counter: an integer, or a string of digits.
    pub send_attempt: SendAttemptValue,
    /// Where to send the user after validation (http or https).
    pub next_link: Option<NextLinkText>,
}

/// The session created or resumed.
#[derive(Debug, Object)]
pub struct SessionCreated {
    /// The session ID.
    pub sid: String,
}

/// The session created or resumed for a phone number.
#[derive(Debug, Object)]
pub struct MsisdnSessionCreated {
    /// The session ID.
    pub sid: String,
    /// The number in E.164 form without `+`.
    pub msisdn: String,
    /// The number formatted for people.
    pub intl_fmt: String,
}

/// `POST /validate/{medium}/submitToken`.
#[derive(Debug, Object)]
pub struct TokenSubmission {
    /// The session ID.
    pub sid: SidText,
    /// The client secret given to requestToken.
    pub client_secret: ClientSecretText,
    /// The token the user received.
    pub token: TokenText,
}

/// The outcome of a submission.
#[derive(Debug, Object)]
pub struct SubmissionResult {
    /// Whether the 3PID is validated (errors are answered as Matrix errors instead). `false`
    /// only for a phone number published on a remote identity server after its first code: the
    /// remote server texts a NEW code, to be submitted next to the same session.
    pub success: bool,
    /// With `success: false`: `M_MESSAGE_FOR_CLIENT` (mxisd's code).
    #[oai(skip_serializing_if_is_none)]
    pub errcode: Option<String>,
    /// With `success: false`: the message to show the user.
    #[oai(skip_serializing_if_is_none)]
    pub error: Option<String>,
}

/// A validated 3PID.
#[derive(Debug, Object)]
pub struct ValidatedThreePidBody {
    /// `email` or `msisdn`.
    pub medium: String,
    /// The canonical address.
    pub address: String,
    /// When it was validated, in milliseconds since the Unix epoch.
    pub validated_at: u64,
}

fn next_link(raw: Option<String>) -> Result<Option<String>, ApiError> {
    let Some(raw) = raw.filter(|link| !link.trim().is_empty()) else {
        return Ok(None);
    };
    let parsed = url::Url::parse(raw.trim())
        .map_err(|_| ApiError::invalid_param("next_link must be an absolute http(s) URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") || raw.len() > MAX_NEXT_LINK {
        return Err(ApiError::invalid_param(
            "next_link must be an absolute http(s) URL",
        ));
    }
    Ok(Some(parsed.to_string()))
}

impl EmailTokenRequest {
    pub(crate) fn into_domain(self) -> Result<RequestToken, ApiError> {
        Ok(RequestToken {
            client_secret: ClientSecret::parse(&self.client_secret)?,
            threepid: ThreePid::Email(EmailAddress::parse(&self.email)?),
            send_attempt: self.send_attempt.parse()?,
            next_link: next_link(self.next_link.map(Documented::into_inner))?,
        })
    }
}

impl MsisdnTokenRequest {
    pub(crate) fn into_domain(self) -> Result<RequestToken, ApiError> {
        Ok(RequestToken {
            client_secret: ClientSecret::parse(&self.client_secret)?,
            threepid: ThreePid::Msisdn(Msisdn::from_parts(&self.phone_number, &self.country)?),
            send_attempt: self.send_attempt.parse()?,
            next_link: next_link(self.next_link.map(Documented::into_inner))?,
        })
    }
}

impl TokenSubmission {
    pub(crate) fn into_domain(self) -> Result<SubmitToken, ApiError> {
        Ok(SubmitToken {
            sid: SessionId::parse(&self.sid)?,
            client_secret: ClientSecret::parse(&self.client_secret)?,
            token: ValidationToken::parse(&self.token)?,
        })
    }
}

/// The client's attempt counter: a non-negative integer of at most 2^53 - 1, or a string of 1 to
/// 19 digits as Element sends it (what the document states). Parsing keeps any value as text (a
/// number becomes its digits) and remembers whether it was a number; the handler checks it, so
/// any other value is refused with `M_INVALID_PARAM`.
#[derive(Debug)]
pub struct SendAttemptValue {
    text: String,
    number: bool,
}

impl SendAttemptValue {
    /// The counter, if the value follows the document's rules.
    fn parse(&self) -> Result<SendAttempt, ApiError> {
        let follows = if self.number {
            self.text
                .parse::<u64>()
                .is_ok_and(|value| value <= MAX_SEND_ATTEMPT_NUMBER)
        } else {
            !self.text.is_empty()
                && self.text.len() <= MAX_SEND_ATTEMPT_DIGITS
                && self.text.bytes().all(|b| b.is_ascii_digit())
        };
        if !follows {
            return Err(ApiError::invalid_param(
                "send_attempt must be an integer from 0 to 2^53 - 1, or a string of 1 to 19 digits",
            ));
        }
        Ok(SendAttempt::parse(&self.text)?)
    }
}

impl Type for SendAttemptValue {
    const IS_REQUIRED: bool = true;
    type RawValueType = String;
    type RawElementValueType = String;

    fn name() -> Cow<'static, str> {
        "SendAttempt".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Reference(Self::name().into_owned())
    }

    fn register(registry: &mut Registry) {
        registry.create_schema::<Self, _>(Self::name().into_owned(), |_| {
            let mut number = MetaSchema::new("integer");
            number.minimum = Some(0.0);
            // The largest integer every JSON reader holds exactly.
            #[expect(clippy::cast_precision_loss, reason = "2^53 - 1 is exact in an f64")]
            let maximum = MAX_SEND_ATTEMPT_NUMBER as f64;
            number.maximum = Some(maximum);
            let mut digits = MetaSchema::new("string");
            // Any 19 digits fit the server's 64-bit counter.
            digits.pattern = Some(format!("^[0-9]{{1,{MAX_SEND_ATTEMPT_DIGITS}}}$"));
            MetaSchema {
                description: Some("A non-negative integer, or a string of its digits."),
                one_of: vec![
                    MetaSchemaRef::Inline(Box::new(number)),
                    MetaSchemaRef::Inline(Box::new(digits)),
                ],
                ..MetaSchema::ANY
            }
        });
    }

    fn as_raw_value(&self) -> Option<&String> {
        Some(&self.text)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a String> + 'a> {
        Box::new(std::iter::once(&self.text))
    }
}

impl ParseFromJSON for SendAttemptValue {
    fn parse_from_json(value: Option<serde_json::Value>) -> ParseResult<Self> {
        let number = matches!(value, Some(serde_json::Value::Number(_)));
        String::parse_from_json(value)
            .map(|text| Self { text, number })
            .map_err(|err| err.propagate())
    }
}

impl ToJSON for SendAttemptValue {
    fn to_json(&self) -> Option<serde_json::Value> {
        Some(serde_json::Value::String(self.text.clone()))
    }
}

/// `next_link`: absent, `null` or empty (none), or an absolute http(s) URL of at most 2048 bytes.
/// The pattern is a common form (a host name whose labels start with a letter, a port, a path);
/// the server takes any URL its parser reads with those schemes. `null` is documented
/// (`nullable`): clients that serialise an unset field as `null` are served as if it were absent.
pub struct NextLinkRules;

impl Rules for NextLinkRules {
    const NAME: &'static str = "NextLink";

    fn describe(schema: &mut MetaSchema) {
        schema.description = Some("An absolute http(s) URL, or empty or null for none.");
        schema.nullable = true;
        schema.pattern = Some(
            "^(https?://[a-zA-Z][a-zA-Z0-9-]{0,30}(\\.[a-zA-Z][a-zA-Z0-9-]{0,30}){0,3}(:[1-9][0-9]{0,3})?(/[A-Za-z0-9._~!$&'()*+,;=:@/-]{0,200})?)?$"
                .to_owned(),
        );
        schema.max_length = Some(MAX_NEXT_LINK);
    }
}

/// A `next_link`.
pub type NextLinkText = Documented<NextLinkRules>;

#[cfg(test)]
#[path = "validation_types_tests.rs"]
mod tests;
