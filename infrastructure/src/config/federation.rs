//! `dns.overwrite.homeserver.federation` (mxisd) and `federation.*` (Verity only) ->
//! [`FederationConfig`]: how Verity reaches homeservers (see docs/federation.md).
use std::net::IpAddr;

use ipnet::IpNet;
use url::Url;
use verity_adapter_matrix::FederationConfig;
use verity_domain::ServerName;

use super::error::ConfigError;
use super::lenient::{Flag, Int, Text, text};
use super::raw::{RawDns, RawFederation, RawOverride};

const OVERRIDES: &str = "dns.overwrite.homeserver.federation";

pub fn resolve(dns: RawDns, raw: RawFederation) -> Result<FederationConfig, ConfigError> {
    let defaults = FederationConfig::default();
    let max_response_bytes = raw
        .max_response_bytes
        .map_or(defaults.max_response_bytes, |Int(n)| n);
    if max_response_bytes == 0 {
        return Err(ConfigError::invalid(
            "federation.maxResponseBytes",
            "must be a number of bytes greater than zero",
        ));
    }
    let max_concurrent_requests = at_least_one(
        "federation.maxConcurrentRequests",
        raw.max_concurrent_requests,
        defaults.max_concurrent_requests,
    )?;
    let max_concurrent_requests_per_server = at_least_one(
        "federation.maxConcurrentRequestsPerServer",
        raw.max_concurrent_requests_per_server,
        defaults.max_concurrent_requests_per_server,
    )?;
    Ok(FederationConfig {
        overrides: overrides(
            OVERRIDES,
            dns.overwrite.homeserver.federation.unwrap_or_default(),
        )?,
        allowed_networks: allowed_networks(raw.allowed_networks.unwrap_or_default())?,
        verify_tls: raw.verify_tls.map_or(defaults.verify_tls, |Flag(b)| b),
        // `Lifetime` is never zero.
        timeout: raw.timeout.map_or(defaults.timeout, |t| t.0),
        max_response_bytes,
        max_concurrent_requests,
        max_concurrent_requests_per_server,
    })
}

/// A count that must be at least 1 (a cap of 0 would refuse every call).
fn at_least_one(key: &str, raw: Option<Int<usize>>, default: usize) -> Result<usize, ConfigError> {
    match raw {
        None => Ok(default),
        Some(Int(0)) => Err(ConfigError::invalid(
            key,
            "must be a number greater than zero",
        )),
        Some(Int(n)) => Ok(n),
    }
}

/// mxisd's `[{name, value}]` at `list` (`dns.overwrite.homeserver.federation` or `.client`): a
/// server name (host[:port]) and the base URL it is reached at. Both are checked here (the client
/// checks them again) so that `--check-config` names the entry at fault.
pub(super) fn overrides(
    list: &str,
    raw: Vec<RawOverride>,
) -> Result<Vec<(String, String)>, ConfigError> {
    let mut seen: Vec<(ServerName, usize)> = Vec::new();
    let mut overrides = Vec::new();
    for (index, entry) in raw.into_iter().enumerate() {
        let key = format!("{list}[{index}]");
        let name = text(entry.name).ok_or_else(|| {
            ConfigError::missing(
                format!("{key}.name"),
                "set the server name clients use, e.g. `name: 'example.org'`",
            )
        })?;
        let server = ServerName::parse(&name).map_err(|_| {
            ConfigError::invalid(
                format!("{key}.name"),
                format!("{name:?} is not a server name (host[:port], without a scheme or path)"),
            )
        })?;
        if let Some((_, first)) = seen.iter().find(|(known, _)| *known == server) {
            return Err(ConfigError::invalid(
                format!("{key}.name"),
                format!("{name:?} is already overridden by {list}[{first}]"),
            ));
        }
        seen.push((server, index));
        let value = text(entry.value).ok_or_else(|| {
            ConfigError::missing(
                format!("{key}.value"),
                "set the base URL of the homeserver, e.g. `value: 'http://127.0.0.1:8008'`",
            )
        })?;
        base_url(&value).map_err(|why| ConfigError::invalid(format!("{key}.value"), why))?;
        overrides.push((name, value));
    }
    Ok(overrides)
}

/// An absolute `http://` or `https://` URL with a host and no query or fragment.
fn base_url(value: &str) -> Result<(), String> {
    let url = Url::parse(value).map_err(|e| format!("{value:?} is not an absolute URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!(
            "{value:?} must be an http:// or https:// URL with a host"
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "{value:?} must not have a query (?) or a fragment (#)"
        ));
    }
    Ok(())
}

/// CIDR networks; a bare address is that address alone (/32 or /128). Host bits are cleared
/// (`10.1.2.3/8` is `10.0.0.0/8`), as the network is what is meant.
fn allowed_networks(raw: Vec<Text>) -> Result<Vec<IpNet>, ConfigError> {
    raw.into_iter()
        .enumerate()
        .map(|(index, entry)| {
            let key = format!("federation.allowedNetworks[{index}]");
            let entry =
                text(Some(entry)).ok_or_else(|| ConfigError::invalid(&key, "must not be blank"))?;
            entry
                .parse::<IpNet>()
                .map(|net| net.trunc())
                .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    ConfigError::invalid(
                        &key,
                        format!(
                            "{entry:?} is not a network in CIDR notation (`10.0.0.0/8`, \
                             `fd00::/8`) or an IP address"
                        ),
                    )
                })
        })
        .collect()
}
