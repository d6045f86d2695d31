//! `server.internal.*` (Verity only): the internal listener, where the homeserver's password
//! provider calls `check_credentials` (and, later, what else only the operator's own servers
//! may call: Sydent's internal bind API, when `bindApi` turns it on). Loopback by default, never
//! the public listener. See docs/authentication.md and docs/admin.md.
use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use verity_domain::MatrixDomain;

use super::error::ConfigError;
use super::lenient::{Flag, Int, Text, text};
use crate::settings::{InternalSettings, REDACTED, Secret};

/// The default address: the loopback, so that only this host reaches it.
pub const DEFAULT_INTERNAL_HOSTNAME: &str = "127.0.0.1";
/// The default port: the one after the public listener's default 8090.
pub const DEFAULT_INTERNAL_PORT: u16 = 8091;

/// `server.internal`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawInternal {
    pub enabled: Option<Flag>,
    pub hostname: Option<Text>,
    pub port: Option<Int<u16>>,
    pub secret: Option<Text>,
    /// Sydent's internal bind API (`internalapi.http.port` in sydent.conf turned it on there).
    pub bind_api: Option<Flag>,
}

/// Resolves the section.
pub fn resolve(raw: Option<RawInternal>) -> Result<InternalSettings, ConfigError> {
    let raw = raw.unwrap_or_default();
    let hostname = text(raw.hostname).unwrap_or_else(|| DEFAULT_INTERNAL_HOSTNAME.to_owned());
    let bare = hostname.trim_start_matches('[').trim_end_matches(']');
    if bare.parse::<IpAddr>().is_err() && MatrixDomain::parse(bare).is_err() {
        return Err(ConfigError::invalid(
            "server.internal.hostname",
            format!("{hostname:?} is neither an IP address nor a host name"),
        ));
    }
    // Trimmed: an HTTP header value cannot carry spaces at its ends (the parser drops them), so
    // a secret written with them (or with a block scalar's trailing newline) could never be
    // presented. A blank one is no secret.
    let secret = raw
        .secret
        .map(|Text(secret)| secret.trim().to_owned())
        .filter(|secret| !secret.is_empty())
        .map(Secret::new);
    Ok(InternalSettings {
        enabled: raw.enabled.map(|Flag(on)| on),
        hostname,
        port: raw.port.map_or(DEFAULT_INTERNAL_PORT, |Int(port)| port),
        secret,
        bind_api: raw.bind_api.is_some_and(|Flag(on)| on),
    })
}

/// `server.internal` for `--dump-config`.
#[derive(Serialize)]
pub struct InternalDump {
    #[serde(skip_serializing_if = "Option::is_none")]
    enabled: Option<bool>,
    hostname: String,
    port: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<&'static str>,
    #[serde(rename = "bindApi")]
    bind_api: bool,
}

pub fn dump(settings: &InternalSettings) -> InternalDump {
    InternalDump {
        enabled: settings.enabled,
        hostname: settings.hostname.clone(),
        port: settings.port,
        secret: settings.secret.as_ref().map(|_| REDACTED),
        bind_api: settings.bind_api,
    }
}
