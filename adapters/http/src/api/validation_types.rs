//! Request and response bodies of the validation endpoints, and their parsing into domain types.
use poem_openapi::Object;
use verity_application::ports::driving::{RequestToken, SubmitToken};
use verity_domain::{
    ClientSecret, EmailAddress, Msisdn, SendAttempt, SessionId, ThreePid, ValidationToken,
};

use super::documented::{ClientSecretText, EmailText, SidText, TokenText};
use crate::errors_api::ApiError;

/// Longest `next_link` kept (a URL; browsers handle far less in practice).
const MAX_NEXT_LINK: usize = 2048;

/// `POST /validate/email/requestToken`.
#[derive(Debug, Object)]
pub struct EmailTokenRequest {
    /// A secret the client generated: `[0-9a-zA-Z.=_-]{1,255}`.
    pub client_secret: ClientSecretText,
    /// The email address to validate.
    pub email: EmailText,
    /// The client's attempt counter: an integer, or a string of digits as Element sends it.
    pub send_attempt: String,
    /// Where to send the user after they validate through the emailed link (http or https).
    pub next_link: Option<String>,
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
    pub send_attempt: String,
    /// Where to send the user after validation (http or https).
    pub next_link: Option<String>,
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
            send_attempt: SendAttempt::parse(&self.send_attempt)?,
            next_link: next_link(self.next_link)?,
        })
    }
}

impl MsisdnTokenRequest {
    pub(crate) fn into_domain(self) -> Result<RequestToken, ApiError> {
        Ok(RequestToken {
            client_secret: ClientSecret::parse(&self.client_secret)?,
            threepid: ThreePid::Msisdn(Msisdn::from_parts(&self.phone_number, &self.country)?),
            send_attempt: SendAttempt::parse(&self.send_attempt)?,
            next_link: next_link(self.next_link)?,
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
