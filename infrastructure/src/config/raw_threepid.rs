//! `threepid` and `notification` as written: how codes are sent, per medium.
use serde::Deserialize;
use verity_adapter_notify::{FileConfig, SenderIdentity, TemplateConfig, TwilioConfig};

use super::nullable;
use crate::config::lenient::{Flag, Int, Text};

/// `threepid`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawThreepid {
    #[serde(deserialize_with = "nullable")]
    pub medium: RawMedia,
}

/// `threepid.medium`: other media are reported by `read` (Verity sends email and SMS only).
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawMedia {
    #[serde(deserialize_with = "nullable")]
    pub email: RawEmail,
    #[serde(deserialize_with = "nullable")]
    pub msisdn: RawMsisdn,
}

/// `threepid.medium.email`. The blocks under `connectors` and `generators` are mxisd's
/// snake_case JSON objects, read straight into the adapters' own configuration types.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawEmail {
    pub identity: Option<SenderIdentity>,
    pub connector: Option<Text>,
    pub generator: Option<Text>,
    #[serde(deserialize_with = "nullable")]
    pub connectors: RawEmailConnectors,
    #[serde(deserialize_with = "nullable")]
    pub generators: RawGenerators,
}

/// `threepid.medium.msisdn` (mxisd had no `identity` for SMS).
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawMsisdn {
    pub connector: Option<Text>,
    pub generator: Option<Text>,
    #[serde(deserialize_with = "nullable")]
    pub connectors: RawMsisdnConnectors,
    #[serde(deserialize_with = "nullable")]
    pub generators: RawGenerators,
}

/// `threepid.medium.email.connectors`
#[derive(Debug, Default, Deserialize)]
#[serde(default, expecting = "a mapping")]
pub struct RawEmailConnectors {
    pub smtp: Option<RawSmtp>,
    /// Verity only.
    pub file: Option<FileConfig>,
}

/// `threepid.medium.msisdn.connectors`
#[derive(Debug, Default, Deserialize)]
#[serde(default, expecting = "a mapping")]
pub struct RawMsisdnConnectors {
    pub twilio: Option<RawTwilio>,
    /// Verity only.
    pub file: Option<FileConfig>,
}

/// `threepid.medium.msisdn.connectors.twilio`, in every spelling mxisd and ma1sd accepted:
/// mxisd 1.0-1.2 (Spring Boot's relaxed binding) took `accountSid`, `account_sid` and
/// `account-sid`; mxisd 1.3+ and ma1sd (Gson, lower case with underscores) read only
/// `account_sid`, while their docs showed `accountSid` until mxisd 1.4. `threepid` builds the
/// adapter's `TwilioConfig` from it. Writing two spellings of one key is an error (serde's
/// "duplicate field"), naming the block.
#[derive(Debug, Default, Deserialize)]
#[serde(default, expecting = "a mapping")]
pub struct RawTwilio {
    #[serde(alias = "accountSid", alias = "account-sid")]
    pub account_sid: Option<Text>,
    #[serde(alias = "authToken", alias = "auth-token")]
    pub auth_token: Option<Text>,
    pub number: Option<Text>,
    /// Verity only.
    #[serde(alias = "apiUrl")]
    pub api_url: Option<Text>,
}

/// `threepid.medium.<medium>.generators`
#[derive(Debug, Default, Deserialize)]
#[serde(default, expecting = "a mapping")]
pub struct RawGenerators {
    pub template: Option<TemplateConfig>,
}

impl From<RawTwilio> for TwilioConfig {
    /// Blank or absent values stay blank: `threepid` tells an unset block from a half-filled one.
    fn from(raw: RawTwilio) -> Self {
        let value = |text: Option<Text>| text.map(|Text(s)| s).unwrap_or_default();
        Self {
            account_sid: value(raw.account_sid),
            auth_token: value(raw.auth_token),
            number: value(raw.number),
            api_url: value(raw.api_url),
        }
    }
}

/// `threepid.medium.email.connectors.smtp`: the keys of `SmtpConfig`, read here rather than into
/// it so that numbers and booleans are as lenient as everywhere else (`port: '587'`, as mxisd's
/// Gson accepted); `threepid` builds the adapter's struct, naming every field.
#[derive(Debug, Default, Deserialize)]
#[serde(default, expecting = "a mapping")]
pub struct RawSmtp {
    pub host: Option<Text>,
    pub port: Option<Int<u16>>,
    pub tls: Option<Int<u8>>,
    pub login: Option<Text>,
    pub password: Option<Text>,
    /// Verity only.
    pub insecure_skip_tls_verify: Option<Flag>,
    /// Verity only.
    pub tls_ca_file: Option<Text>,
}

/// `notification` (mxisd): only `handler.<medium>` is read, because `raw` (the default) is what
/// Verity does; `handlers.*` (SendGrid) is reported as not used yet.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawNotification {
    #[serde(deserialize_with = "nullable")]
    pub handler: RawHandlers,
}

/// `notification.handler`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawHandlers {
    pub email: Option<Text>,
    pub msisdn: Option<Text>,
}
