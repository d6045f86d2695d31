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
    pub twilio: Option<TwilioConfig>,
    /// Verity only.
    pub file: Option<FileConfig>,
}

/// `threepid.medium.<medium>.generators`
#[derive(Debug, Default, Deserialize)]
#[serde(default, expecting = "a mapping")]
pub struct RawGenerators {
    pub template: Option<TemplateConfig>,
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
