//! The `twilio` connector: sends SMS through Twilio's Messages API with reqwest.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use verity_application::ports::driven::{Notification, NotificationConnector, NotifyError};

use crate::error::{DeliveryFailure, chain};
use crate::{ConfigError, redact};

/// Twilio's production API.
pub const DEFAULT_API_URL: &str = "https://api.twilio.com";
/// Longest a whole request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest response body read; Twilio's answers are a few kilobytes.
const MAX_RESPONSE_BYTES: usize = 64 * 1024;
/// Twilio error codes that mean "this recipient cannot get an SMS": invalid number (21211),
/// unreachable (21214, 21612), not a mobile number (21614), number opted out with STOP (21610),
/// not a valid phone number (21217), and region not enabled for this account (21408).
const REJECTED_CODES: &[u32] = &[21211, 21214, 21217, 21408, 21610, 21612, 21614];

/// `threepid.medium.msisdn.connectors.twilio`: mxisd's snake_case keys, plus `api_url`.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct TwilioConfig {
    /// `account_sid`. Required; default `''`.
    pub account_sid: String,
    /// `auth_token`. Required; default `''`. Never logged; `Debug` shows `<redacted>`.
    pub auth_token: String,
    /// `number`: the sender, E.164 with `+` (or a messaging service SID). Required; default `''`.
    pub number: String,
    /// `api_url` (Verity only): the API's base URL. Default `https://api.twilio.com`; tests point
    /// it at a fake.
    pub api_url: String,
}

impl Default for TwilioConfig {
    fn default() -> Self {
        Self {
            account_sid: String::new(),
            auth_token: String::new(),
            number: String::new(),
            api_url: DEFAULT_API_URL.to_owned(),
        }
    }
}

impl TwilioConfig {
    /// True when none of `account_sid`, `auth_token` and `number` is set: the connector is simply
    /// not configured (mxisd then answered 501 to SMS validations), which is different from a
    /// half-filled block, an error naming the missing key.
    pub fn is_unset(&self) -> bool {
        [&self.account_sid, &self.auth_token, &self.number]
            .iter()
            .all(|v| v.trim().is_empty())
    }
}

impl fmt::Debug for TwilioConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TwilioConfig")
            .field("account_sid", &self.account_sid)
            .field("auth_token", &"<redacted>")
            .field("number", &self.number)
            .field("api_url", &self.api_url)
            .finish()
    }
}

/// Sends SMS with Twilio's `POST /2010-04-01/Accounts/{sid}/Messages.json`.
///
/// The recipient is sent as `+` and the stored E.164 digits, which never carry their own `+`, so
/// the number can never be `++33…` (mxisd#86). Requests time out after 30 s, redirects are not
/// followed, and at most 64 KiB of the answer is read.
///
/// Errors: a 4xx whose Twilio code says the number is invalid, unreachable, not mobile or opted
/// out is [`NotifyError::Rejected`]; anything else (bad credentials, Twilio down, timeouts) is
/// [`NotifyError::Unavailable`]. Twilio's message text is not kept: it quotes the number.
pub struct TwilioConnector {
    client: reqwest::Client,
    endpoint: url::Url,
    account_sid: String,
    auth_token: String,
    number: String,
}

impl fmt::Debug for TwilioConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TwilioConnector")
            .field("endpoint", &self.endpoint.as_str())
            .field("number", &self.number)
            .finish_non_exhaustive()
    }
}

impl TwilioConnector {
    /// Builds the connector.
    ///
    /// # Errors
    /// [`ConfigError::Missing`] naming `account_sid`, `auth_token` or `number` when one is empty
    /// (see [`TwilioConfig::is_unset`] to tell "not configured" apart); [`ConfigError::Invalid`]
    /// for an `api_url` that is not an http(s) URL or when the HTTP client cannot be built.
    pub fn new(config: &TwilioConfig) -> Result<Self, ConfigError> {
        let required = |value: &str, key: &'static str| {
            let value = value.trim();
            if value.is_empty() {
                Err(ConfigError::Missing { key })
            } else {
                Ok(value.to_owned())
            }
        };
        let account_sid = required(
            &config.account_sid,
            "threepid.medium.msisdn.connectors.twilio.account_sid",
        )?;
        let auth_token = required(
            &config.auth_token,
            "threepid.medium.msisdn.connectors.twilio.auth_token",
        )?;
        let number = required(
            &config.number,
            "threepid.medium.msisdn.connectors.twilio.number",
        )?;
        let invalid_url = |reason: String| ConfigError::Invalid {
            key: "threepid.medium.msisdn.connectors.twilio.api_url",
            reason,
        };
        let mut endpoint = url::Url::parse(config.api_url.trim())
            .map_err(|error| invalid_url(format!("{:?}: {error}", config.api_url)))?;
        if !matches!(endpoint.scheme(), "http" | "https") || endpoint.cannot_be_a_base() {
            return Err(invalid_url(format!(
                "{:?} is not an http(s) URL",
                config.api_url
            )));
        }
        endpoint
            .path_segments_mut()
            .map_err(|()| invalid_url("not a base URL".into()))?
            .pop_if_empty()
            .extend(["2010-04-01", "Accounts", &account_sid, "Messages.json"]);
        // reqwest is built without a default crypto provider (it would be aws-lc-rs); the process
        // installs ring at start-up, and this makes sure a client is never built without it.
        if rustls::crypto::CryptoProvider::get_default().is_none() {
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Verity/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| ConfigError::Invalid {
                key: "threepid.medium.msisdn.connectors.twilio",
                reason: format!("cannot build the HTTP client: {}", chain(&error)),
            })?;
        Ok(Self {
            client,
            endpoint,
            account_sid,
            auth_token,
            number,
        })
    }

    async fn post(&self, to: &str, body: &str) -> Result<(), NotifyError> {
        let form: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("To", &format!("+{to}"))
            .append_pair("From", &self.number)
            .append_pair("Body", body)
            .finish();
        let mut response = self
            .client
            .post(self.endpoint.clone())
            .basic_auth(&self.account_sid, Some(&self.auth_token))
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(form)
            .send()
            .await
            .map_err(|error| request_failed(&error))?;
        let status = response.status();
        let mut answer = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|error| request_failed(&error))?
        {
            answer.extend_from_slice(&chunk);
            if answer.len() > MAX_RESPONSE_BYTES {
                break;
            }
        }
        if status.is_success() {
            return Ok(());
        }
        let code = serde_json::from_slice::<TwilioError>(&answer)
            .ok()
            .and_then(|e| e.code);
        match code {
            Some(code) if status.is_client_error() && REJECTED_CODES.contains(&code) => Err(
                NotifyError::Rejected(format!("Twilio refused the number (error {code})")),
            ),
            Some(code) => Err(DeliveryFailure::unavailable(format!(
                "Twilio answered {status} with error {code}"
            ))),
            None => Err(DeliveryFailure::unavailable(format!(
                "Twilio answered {status}"
            ))),
        }
    }
}

/// Twilio's error body: `{"code": 21211, "message": "...", "more_info": "...", "status": 400}`.
#[derive(Deserialize)]
struct TwilioError {
    code: Option<u32>,
}

fn request_failed(error: &reqwest::Error) -> NotifyError {
    let what = if error.is_timeout() {
        "Twilio did not answer in time"
    } else if error.is_connect() {
        "Twilio could not be reached"
    } else {
        "the request to Twilio failed"
    };
    // reqwest's messages include the URL, which holds only the account SID: no secret there.
    DeliveryFailure::unavailable(format!("{what}: {}", chain(error)))
}

#[async_trait]
impl NotificationConnector for TwilioConnector {
    async fn send(&self, notification: &Notification) -> Result<(), NotifyError> {
        let Notification::Sms(sms) = notification else {
            return Err(NotifyError::Unsupported);
        };
        let recipient = redact::recipient(notification);
        let result = self.post(sms.to.as_str(), &sms.text).await;
        match &result {
            Ok(()) => tracing::info!(%recipient, "SMS sent"),
            Err(error) => tracing::warn!(%recipient, error = %chain(error), "SMS not sent"),
        }
        result
    }
}
