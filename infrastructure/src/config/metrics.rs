//! `server.metrics.*` (Verity only): the Prometheus metrics listener, apart from the public one
//! and loopback by default. See docs/operations.md.
use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use verity_domain::MatrixDomain;

use super::error::ConfigError;
use super::lenient::{Flag, Int, Text, text};
use crate::settings::MetricsSettings;

/// The default address: the loopback, so that only this host (or a scraper on it) reaches it.
pub const DEFAULT_METRICS_ADDRESS: &str = "127.0.0.1";
/// The default port.
pub const DEFAULT_METRICS_PORT: u16 = 8099;

/// `server.metrics`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawMetrics {
    pub enabled: Option<Flag>,
    pub address: Option<Text>,
    pub port: Option<Int<u16>>,
}

/// Resolves the section.
pub fn resolve(raw: Option<RawMetrics>) -> Result<MetricsSettings, ConfigError> {
    let raw = raw.unwrap_or_default();
    let address = text(raw.address).unwrap_or_else(|| DEFAULT_METRICS_ADDRESS.to_owned());
    let bare = address.trim_start_matches('[').trim_end_matches(']');
    if bare.parse::<IpAddr>().is_err() && MatrixDomain::parse(bare).is_err() {
        return Err(ConfigError::invalid(
            "server.metrics.address",
            format!("{address:?} is neither an IP address nor a host name"),
        ));
    }
    Ok(MetricsSettings {
        enabled: raw.enabled.is_none_or(|Flag(on)| on),
        address,
        port: raw.port.map_or(DEFAULT_METRICS_PORT, |Int(port)| port),
    })
}

/// `server.metrics` for `--dump-config`.
#[derive(Serialize)]
pub struct MetricsDump {
    enabled: bool,
    address: String,
    port: u16,
}

pub fn dump(settings: &MetricsSettings) -> MetricsDump {
    MetricsDump {
        enabled: settings.enabled,
        address: settings.address.clone(),
        port: settings.port,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_metrics_listener_is_on_and_on_the_loopback_by_default() {
        let settings = resolve(None).unwrap();
        assert!(settings.enabled);
        assert_eq!(settings.address, "127.0.0.1");
        assert_eq!(settings.port, 8099);
    }

    #[test]
    fn an_address_that_is_no_host_names_its_key() {
        let raw = RawMetrics {
            address: Some(Text("not a host!".into())),
            ..RawMetrics::default()
        };
        let error = resolve(Some(raw)).unwrap_err().to_string();
        assert!(error.contains("server.metrics.address"), "{error}");
    }
}
