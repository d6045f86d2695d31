//! `rest.*` (mxisd/ma1sd's REST identity store) -> the REST adapter's own [`RestConfig`], with
//! ma1sd's keys and defaults, and its rendering for `--dump-config`. See docs/backends.md.
//!
//! As ma1sd: every endpoint defaults to its `/_ma1sd/backend/api/v1/...` path, a value starting
//! with `/` is appended to `rest.host`, anything else is a full URL, and an empty string switches
//! that feature off. Changed: endpoints are checked at start-up (an http(s) URL with a host, or
//! `rest.host` when one is a path), whether or not the feature is used yet, and a trailing `/` of
//! `rest.host` is not doubled. Verity only: `timeout`, `maxResponseBytes`,
//! `endpoints.identity.all` (the hashed lookups' feed, off by default), `identity.priority` and
//! `identity.refresh`.
use serde::{Deserialize, Serialize};
use verity_adapter_rest::config::{
    DEFAULT_AUTH, DEFAULT_DIRECTORY, DEFAULT_IDENTITY_BULK, DEFAULT_IDENTITY_SINGLE,
    DEFAULT_PROFILE_DISPLAY_NAME, DEFAULT_PROFILE_ROLES, DEFAULT_PROFILE_THREEPIDS,
};
use verity_adapter_rest::{BackendUrl, RestConfig, endpoint, parse_host};
use verity_domain::MatrixDomain;

use super::error::ConfigError;
use super::lenient::{DurationOrZero, Flag, Int, Lifetime, Text, format_duration, text};
use crate::settings::{DEFAULT_DIRECTORY_REFRESH, RestSettings};

/// `rest`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawRest {
    pub enabled: Option<Flag>,
    pub host: Option<Text>,
    pub endpoints: Option<RawEndpoints>,
    /// Verity only.
    pub timeout: Option<Lifetime>,
    /// Verity only.
    pub max_response_bytes: Option<Int<usize>>,
    /// Verity only.
    pub identity: Option<RawRestIdentity>,
}

/// `rest.endpoints`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawEndpoints {
    pub auth: Option<Text>,
    pub directory: Option<Text>,
    pub identity: Option<RawIdentityEndpoints>,
    pub profile: Option<RawProfileEndpoints>,
}

/// `rest.endpoints.identity`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawIdentityEndpoints {
    pub single: Option<Text>,
    pub bulk: Option<Text>,
    /// Verity only.
    pub all: Option<Text>,
}

/// `rest.endpoints.profile`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawProfileEndpoints {
    pub display_name: Option<Text>,
    pub threepids: Option<Text>,
    pub roles: Option<Text>,
}

/// `rest.identity` (Verity only)
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawRestIdentity {
    pub priority: Option<Int<i32>>,
    pub refresh: Option<DurationOrZero>,
}

/// `None` unless `rest.enabled`; the other keys are checked only then, as ma1sd read them only
/// then.
pub fn resolve(raw: RawRest, domain: &MatrixDomain) -> Result<Option<RestSettings>, ConfigError> {
    if !raw.enabled.is_some_and(|Flag(on)| on) {
        return Ok(None);
    }
    let mut config = RestConfig::new(domain.as_str());
    config.host = text(raw.host)
        .map(|host| {
            parse_host(&host).map_err(|error| ConfigError::invalid("rest.host", error.to_string()))
        })
        .transpose()?;
    let host = config.host.clone();
    let resolve = |key: &str, written: Option<Text>, default: &str| {
        resolve_endpoint(host.as_ref(), key, written, default)
    };
    let endpoints = raw.endpoints.unwrap_or_default();
    let identity = endpoints.identity.unwrap_or_default();
    let profile = endpoints.profile.unwrap_or_default();
    let e = &mut config.endpoints;
    e.auth = resolve("rest.endpoints.auth", endpoints.auth, DEFAULT_AUTH)?;
    e.directory = resolve(
        "rest.endpoints.directory",
        endpoints.directory,
        DEFAULT_DIRECTORY,
    )?;
    e.identity_single = resolve(
        "rest.endpoints.identity.single",
        identity.single,
        DEFAULT_IDENTITY_SINGLE,
    )?;
    e.identity_bulk = resolve(
        "rest.endpoints.identity.bulk",
        identity.bulk,
        DEFAULT_IDENTITY_BULK,
    )?;
    e.identity_all = resolve("rest.endpoints.identity.all", identity.all, "")?;
    e.profile_display_name = resolve(
        "rest.endpoints.profile.displayName",
        profile.display_name,
        DEFAULT_PROFILE_DISPLAY_NAME,
    )?;
    e.profile_threepids = resolve(
        "rest.endpoints.profile.threepids",
        profile.threepids,
        DEFAULT_PROFILE_THREEPIDS,
    )?;
    e.profile_roles = resolve(
        "rest.endpoints.profile.roles",
        profile.roles,
        DEFAULT_PROFILE_ROLES,
    )?;
    if let Some(Lifetime(timeout)) = raw.timeout {
        config.timeout = timeout;
    }
    match raw.max_response_bytes {
        Some(Int(0)) => {
            return Err(ConfigError::invalid(
                "rest.maxResponseBytes",
                "must be at least 1 (the default is 33554432, 32 MiB)",
            ));
        }
        Some(Int(limit)) => config.max_response_bytes = limit,
        None => {}
    }
    let identity = raw.identity.unwrap_or_default();
    if let Some(Int(priority)) = identity.priority {
        config.priority = priority;
    }
    let refresh = identity.refresh.map_or(DEFAULT_DIRECTORY_REFRESH, |d| d.0);
    Ok(Some(RestSettings { config, refresh }))
}

/// One endpoint: `default` when absent, off when blank, else appended to `host` or a full URL.
fn resolve_endpoint(
    host: Option<&BackendUrl>,
    key: &str,
    written: Option<Text>,
    default: &str,
) -> Result<Option<BackendUrl>, ConfigError> {
    let written = written.map_or_else(|| default.to_owned(), |Text(value)| value);
    endpoint(host, &written).map_err(|error| match error {
        verity_adapter_rest::EndpointError::NeedsHost(_) => ConfigError::missing(
            "rest.host",
            format!(
                "{key} is a path ({written:?}), which is appended to rest.host: set rest.host to \
                 the backend's base URL (e.g. https://backend.example.org), write {key} as a full \
                 URL, or set it to '' to switch it off"
            ),
        ),
        other => ConfigError::invalid(key, other.to_string()),
    })
}

/// `rest` in `--dump-config`: `enabled: false` alone when it is off; the endpoints as full URLs
/// (`''` when off), a password or query in a URL masked.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RestDump {
    enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none", flatten)]
    on: Option<Enabled>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Enabled {
    #[serde(skip_serializing_if = "Option::is_none")]
    host: Option<String>,
    endpoints: EndpointsDump,
    timeout: String,
    max_response_bytes: usize,
    identity: IdentityDump,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EndpointsDump {
    auth: String,
    directory: String,
    identity: IdentityEndpointsDump,
    profile: ProfileEndpointsDump,
}

#[derive(Serialize)]
struct IdentityEndpointsDump {
    single: String,
    bulk: String,
    all: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ProfileEndpointsDump {
    display_name: String,
    threepids: String,
    roles: String,
}

#[derive(Serialize)]
struct IdentityDump {
    priority: i32,
    refresh: String,
}

fn shown(url: Option<&BackendUrl>) -> String {
    url.map(BackendUrl::redacted).unwrap_or_default()
}

pub fn dump(settings: Option<&RestSettings>) -> RestDump {
    let Some(RestSettings { config, refresh }) = settings else {
        return RestDump {
            enabled: false,
            on: None,
        };
    };
    let e = &config.endpoints;
    RestDump {
        enabled: true,
        on: Some(Enabled {
            host: config.host.as_ref().map(BackendUrl::redacted),
            endpoints: EndpointsDump {
                auth: shown(e.auth.as_ref()),
                directory: shown(e.directory.as_ref()),
                identity: IdentityEndpointsDump {
                    single: shown(e.identity_single.as_ref()),
                    bulk: shown(e.identity_bulk.as_ref()),
                    all: shown(e.identity_all.as_ref()),
                },
                profile: ProfileEndpointsDump {
                    display_name: shown(e.profile_display_name.as_ref()),
                    threepids: shown(e.profile_threepids.as_ref()),
                    roles: shown(e.profile_roles.as_ref()),
                },
            },
            timeout: format_duration(config.timeout),
            max_response_bytes: config.max_response_bytes,
            identity: IdentityDump {
                priority: config.priority,
                refresh: format_duration(*refresh),
            },
        }),
    }
}
