//! Recursive lookups: `lookup.recursive.{enabled, allowedCidr}` and `forward.servers` (mxisd),
//! `lookup.recursive.trustedProxies` (Verity only) -> [`RecursiveSettings`], and their rendering
//! for `--dump-config`. See docs/lookups.md.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use verity_domain::{DEFAULT_RECURSION_NETWORKS, IpNetwork, ServerLabel};

use super::error::{ConfigError, ConfigWarning};
use super::lenient::{Flag, Text, text};
use verity_application::usecases::RecursionSettings;

use crate::settings::RecursiveSettings;

/// `lookup.recursive` (mxisd; `trustedProxies` is Verity's).
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawRecursive {
    pub enabled: Option<Flag>,
    pub allowed_cidr: Option<Vec<Text>>,
    /// Verity only.
    pub trusted_proxies: Option<Vec<Text>>,
}

/// `forward` (mxisd).
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawForward {
    pub servers: Option<Vec<Text>>,
}

/// Resolves the section. Every `forward.servers` label must be one of
/// `matrix.identity.servers`.
pub fn resolve(
    raw: &RawRecursive,
    forward: &RawForward,
    identity_servers: &BTreeMap<ServerLabel, Vec<String>>,
) -> Result<RecursiveSettings, ConfigError> {
    let allowed = match &raw.allowed_cidr {
        Some(list) => networks("lookup.recursive.allowedCidr", list)?,
        None => DEFAULT_RECURSION_NETWORKS
            .iter()
            .filter_map(|net| IpNetwork::parse(net).ok())
            .collect(),
    };
    let trusted_proxies = networks(
        "lookup.recursive.trustedProxies",
        raw.trusted_proxies.as_deref().unwrap_or_default(),
    )?;
    let mut servers = Vec::new();
    for (index, entry) in forward.servers.iter().flatten().enumerate() {
        let key = format!("forward.servers[{index}]");
        let name = text(Some(entry.clone()))
            .ok_or_else(|| ConfigError::invalid(&key, "must not be blank"))?;
        let label =
            ServerLabel::parse(&name).map_err(|e| ConfigError::invalid(&key, e.to_string()))?;
        if !identity_servers.contains_key(&label) {
            return Err(ConfigError::invalid(
                &key,
                format!(
                    "`{name}` is not a label of matrix.identity.servers (known: {})",
                    identity_servers
                        .keys()
                        .map(ServerLabel::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        if !servers.contains(&label) {
            servers.push(label);
        }
    }
    Ok(RecursiveSettings {
        enabled: raw.enabled.is_none_or(|Flag(on)| on),
        forwarding: RecursionSettings {
            servers,
            allowed,
            trusted_proxies,
        },
    })
}

pub(super) fn networks(key: &str, raw: &[Text]) -> Result<Vec<IpNetwork>, ConfigError> {
    raw.iter()
        .enumerate()
        .map(|(index, entry)| {
            let key = format!("{key}[{index}]");
            let entry = text(Some(entry.clone()))
                .ok_or_else(|| ConfigError::invalid(&key, "must not be blank"))?;
            IpNetwork::parse(&entry).map_err(|e| ConfigError::invalid(&key, e.to_string()))
        })
        .collect()
}

/// Keys that do nothing in this combination.
pub fn warnings(recursive: Option<&RawRecursive>, forward: &RawForward) -> Vec<ConfigWarning> {
    let mut warnings = Vec::new();
    let disabled = recursive
        .and_then(|recursive| recursive.enabled)
        .is_some_and(|Flag(on)| !on);
    if disabled && forward.servers.as_ref().is_some_and(|s| !s.is_empty()) {
        warnings.push(ConfigWarning::Unused {
            path: "forward.servers".into(),
            reason: "lookup.recursive.enabled is false: no lookup is forwarded".into(),
        });
    }
    warnings
}

/// `lookup.recursive` and `forward` for `--dump-config`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecursiveDump {
    enabled: bool,
    allowed_cidr: Vec<String>,
    trusted_proxies: Vec<String>,
}

/// `forward` for `--dump-config`.
#[derive(Serialize)]
pub struct ForwardDump {
    servers: Vec<String>,
}

/// Both sections, as resolved.
pub fn dump(settings: &RecursiveSettings) -> (RecursiveDump, ForwardDump) {
    (
        RecursiveDump {
            enabled: settings.enabled,
            allowed_cidr: settings
                .forwarding
                .allowed
                .iter()
                .map(ToString::to_string)
                .collect(),
            trusted_proxies: settings
                .forwarding
                .trusted_proxies
                .iter()
                .map(ToString::to_string)
                .collect(),
        },
        ForwardDump {
            servers: settings
                .forwarding
                .servers
                .iter()
                .map(|label| label.as_str().to_owned())
                .collect(),
        },
    )
}

#[cfg(test)]
#[path = "tests_recursive.rs"]
mod tests;
