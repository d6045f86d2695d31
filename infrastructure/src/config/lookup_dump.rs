//! `bindings`, `hashing`, `memory` and `lookup` rendered for `--dump-config`.
use std::collections::BTreeMap;

use serde::Serialize;
use verity_application::usecases::RotationPolicy;

use super::{PER_REQUESTS, PER_SECONDS};
use crate::config::lenient::format_duration;
use crate::config::recursive::{self, RecursiveDump};
use crate::settings::{LookupsSettings, REDACTED};

/// `bindings`, `hashing`, `memory` and `lookup` as `--dump-config` shows them.
#[derive(Serialize)]
pub struct LookupsDump {
    bindings: BindingsDump,
    hashing: HashingDump,
    memory: MemoryDump,
    lookup: LookupDump,
}

#[derive(Serialize)]
struct BindingsDump {
    enabled: bool,
    priority: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct HashingDump {
    enabled: bool,
    pepper_length: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    rotation_policy: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    requests: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    delay: Option<String>,
    algorithms: Vec<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MemoryDump {
    enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    hash_enabled: Option<bool>,
    priority: u32,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    identities: Vec<MemoryIdentityDump>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MemoryIdentityDump {
    username: String,
    /// Masked.
    #[serde(skip_serializing_if = "Option::is_none")]
    password: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    display_name: Option<String>,
    threepids: Vec<BTreeMap<&'static str, String>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    roles: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LookupDump {
    max_addresses: usize,
    recursive: RecursiveDump,
}

/// The sections of this module, for `--dump-config` (`session.policy.unbind.enabled` is dumped
/// with `session`).
pub fn dump(settings: &LookupsSettings) -> LookupsDump {
    let hashing = &settings.hashing;
    let (rotation_policy, requests, delay) = match hashing.rotation {
        RotationPolicy::Never => (None, None, None),
        RotationPolicy::PerRequests(n) => (Some(PER_REQUESTS), Some(n), None),
        RotationPolicy::Every(d) => (Some(PER_SECONDS), None, Some(format_duration(d))),
    };
    let memory = match &settings.memory {
        None => MemoryDump {
            enabled: false,
            hash_enabled: None,
            priority: settings.priorities.memory,
            identities: Vec::new(),
        },
        Some(memory) => MemoryDump {
            enabled: true,
            hash_enabled: Some(memory.hash_enabled),
            priority: settings.priorities.memory,
            identities: memory
                .identities
                .iter()
                .map(|identity| MemoryIdentityDump {
                    username: identity.user_id.as_str().to_owned(),
                    password: identity.password.as_ref().map(|_| REDACTED),
                    display_name: identity.display_name.clone(),
                    roles: identity.roles.clone(),
                    threepids: identity
                        .threepids
                        .iter()
                        .map(|t| {
                            BTreeMap::from([
                                ("medium", t.medium().as_str().to_owned()),
                                ("address", t.address().to_owned()),
                            ])
                        })
                        .collect(),
                })
                .collect(),
        },
    };
    LookupsDump {
        bindings: BindingsDump {
            enabled: settings.bindings,
            priority: settings.priorities.bindings,
        },
        hashing: HashingDump {
            enabled: hashing.enabled,
            pepper_length: hashing.pepper_length,
            rotation_policy,
            requests,
            delay,
            algorithms: settings
                .lookup
                .algorithms
                .iter()
                .map(|a| a.as_str())
                .collect(),
        },
        memory,
        lookup: LookupDump {
            max_addresses: settings.lookup.max_addresses,
            recursive: recursive::dump(&settings.recursive).0,
        },
    }
}
